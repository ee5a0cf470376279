// A two-router lab in network namespaces for VRRP integration tests (reference/vrrp-lab.md, built the
// same way as shared/lab/vrrp-lab.sh but with names and a subnet of its own so runs never collide):
//   <p>sw: bridge, ports to <p>a and <p>b;  <p>a eth0 198.18.N.1/24;  <p>b eth0 198.18.N.2/24;  VIP 198.18.N.100
// Routers are keepvs (src/vrrp/cli-runner.ts) or keepalived 2.2.7 (-P, per-lab pid files). Everything is
// torn down by destroy(), also after failures; every wait is bounded.
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { VrrpConfig } from '../../src/vrrp/config.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const RUNNER = join(ROOT, 'src', 'vrrp', 'cli-runner.ts');

/** Why this machine cannot run the lab, or null. */
export function labUnavailable(needKeepalived = false): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, raw sockets)';
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return 'needs iproute2 with network namespace support';
  if (needKeepalived && spawnSync('keepalived', ['--version']).error) return 'needs keepalived (apt-get install -y keepalived)';
  return null;
}

function sh(args: string[]): void {
  execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
}

export type Side = 'a' | 'b';

export interface Router {
  readonly side: Side;
  readonly kind: 'keepvs' | 'keepalived';
  readonly proc: ChildProcess;
  readonly logFile: string;
  log(): string;
  /** TERM: graceful (priority 0). KILL: crash (keepalived: the VRRP child first). Resolves once gone. */
  stop(signal: 'TERM' | 'KILL'): Promise<void>;
}

let counter = 0;

export class VrrpLab {
  readonly prefix: string;
  readonly subnet: string;
  readonly dir: string;
  readonly vip: string;
  private readonly routers = new Set<Router>();

  private constructor(prefix: string, subnet: string) {
    this.prefix = prefix;
    this.subnet = subnet;
    this.vip = `${subnet}.100`;
    this.dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    chmodSync(this.dir, 0o755);
  }

  ns(side: Side | 'sw'): string {
    return `${this.prefix}${side}`;
  }

  addr(side: Side): string {
    return `${this.subnet}.${side === 'a' ? 1 : 2}`;
  }

  /** prefix: the first letters of every namespace name (default kvr), so concurrent suites never collide. */
  static create(prefix = 'kvr'): VrrpLab {
    const id = (process.pid % 200) + (counter++) * 7;
    const lab = new VrrpLab(`${prefix}${process.pid % 10000}x${counter}`, `198.18.${50 + (id % 200)}`);
    try {
      lab.build();
    } catch (e) {
      lab.destroy();
      throw e;
    }
    return lab;
  }

  private build(): void {
    const sw = this.ns('sw');
    for (const n of [sw, this.ns('a'), this.ns('b')]) sh(['ip', 'netns', 'add', n]);
    sh(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0']);
    sh(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
    for (const side of ['a', 'b'] as const) {
      const ns = this.ns(side);
      sh(['ip', 'link', 'add', `p${side}`, 'netns', sw, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      sh(['ip', '-n', sw, 'link', 'set', `p${side}`, 'master', 'br0', 'up']);
      sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'address', `02:00:c6:12:0a:0${side === 'a' ? 1 : 2}`]);
      sh(['ip', '-n', ns, 'addr', 'add', `${this.addr(side)}/24`, 'dev', 'eth0']);
      // No duplicate address detection: link-local addresses are usable at once (VRRPv3 over IPv6).
      sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.eth0.accept_dad=0']);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    }
  }

  /** Which sides hold the VIP right now. */
  holders(vip = this.vip): Side[] {
    const out: Side[] = [];
    for (const side of ['a', 'b'] as const) {
      const r = spawnSync('ip', ['-n', this.ns(side), '-o', 'addr', 'show', 'dev', 'eth0']);
      if (String(r.stdout).includes(` ${vip}/`)) out.push(side);
    }
    return out;
  }

  /** Poll `cond` every 50 ms until true or `timeoutMs`; returns whether it became true. */
  async waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    for (let i = 0; i < 10_000 && Date.now() < end; i++) {
      if (cond()) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return cond();
  }

  /** Wait until exactly `side` holds the VIP (and keeps it for `stableMs`). */
  async waitHolder(side: Side | 'none', timeoutMs: number, stableMs = 0, vip = this.vip): Promise<boolean> {
    const want = side === 'none' ? '' : side;
    const ok = await this.waitFor(() => this.holders(vip).join('') === want, timeoutMs);
    if (!ok || stableMs === 0) return ok;
    await new Promise((r) => setTimeout(r, stableMs));
    return this.holders(vip).join('') === want;
  }

  startKeepvs(side: Side, cfg: VrrpConfig): Router {
    const file = join(this.dir, `${side}.json`);
    writeFileSync(file, JSON.stringify(cfg));
    const logFile = join(this.dir, `${side}-keepvs.log`);
    writeFileSync(logFile, '');
    const proc = spawn('ip', ['netns', 'exec', this.ns(side), NODE, RUNNER, file, '--name', side], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    proc.stdout!.on('data', (d) => { text += d; writeFileSync(logFile, text); });
    proc.stderr!.on('data', (d) => { text += d; writeFileSync(logFile, text); });
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const router: Router = {
      side, kind: 'keepvs', proc, logFile, log: () => text,
      stop: async (signal) => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal === 'TERM' ? 'SIGTERM' : 'SIGKILL');
        await this.reap(proc, exited);
        this.routers.delete(router);
      },
    };
    this.routers.add(router);
    return router;
  }

  /** keepalived.conf text for one side; every pid file lives in the lab directory. */
  keepalivedConf(o: { side: Side; state: 'MASTER' | 'BACKUP'; priority: number; version: 2 | 3; advertInt: number; nopreempt?: boolean; unicast?: boolean; vips?: string[] }): string {
    const other: Side = o.side === 'a' ? 'b' : 'a';
    return [
      'global_defs {', `    router_id ${this.ns(o.side)}`, `    vrrp_version ${o.version}`, '}',
      'vrrp_instance VI_1 {', `    state ${o.state}`, '    interface eth0', '    virtual_router_id 51',
      `    priority ${o.priority}`, `    advert_int ${o.advertInt}`,
      ...(o.nopreempt ? ['    nopreempt'] : []),
      ...(o.version === 2 ? ['    authentication {', '        auth_type PASS', '        auth_pass s3cret', '    }'] : []),
      ...(o.unicast ? [`    unicast_src_ip ${this.addr(o.side)}`, '    unicast_peer {', `        ${this.addr(other)}`, '    }'] : []),
      '    virtual_ipaddress {', ...(o.vips ?? [`${this.vip}/24 dev eth0`]).map((v) => `        ${v}`), '    }', '}', '',
    ].join('\n');
  }

  startKeepalived(side: Side, conf: string): Router {
    const f = (n: string) => join(this.dir, `${side}-${n}`);
    writeFileSync(f('keepalived.conf'), conf);
    // A killed keepalived leaves its pid files; the next start would report "daemon is already running".
    for (const p of ['ka.pid', 'vrrp.pid', 'chk.pid', 'bfd.pid']) rmSync(f(p), { force: true });
    const logFile = f('keepalived.log');
    writeFileSync(logFile, '');
    const proc = spawn('ip', ['netns', 'exec', this.ns(side), 'keepalived', '-n', '-l', '-D', '-G', '-P', '-f', f('keepalived.conf'),
      '-p', f('ka.pid'), '-r', f('vrrp.pid'), '-c', f('chk.pid'), '-b', f('bfd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    proc.stdout!.on('data', (d) => { text += d; });
    proc.stderr!.on('data', (d) => { text += d; });
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const router: Router = {
      side, kind: 'keepalived', proc, logFile, log: () => text,
      stop: async (signal) => {
        if (proc.exitCode === null && proc.signalCode === null) {
          if (signal === 'KILL') {
            // The VRRP child has PDEATHSIG=SIGTERM: kill it first, or it still sends priority 0.
            const child = existsSync(f('vrrp.pid')) ? Number(readFileSync(f('vrrp.pid'), 'utf8')) : 0;
            try {
              if (child > 0) process.kill(child, 'SIGKILL');
            } catch { /* gone */ }
            proc.kill('SIGKILL');
          } else {
            proc.kill('SIGTERM');
          }
        }
        await this.reap(proc, exited);
        writeFileSync(logFile, text);
        this.routers.delete(router);
      },
    };
    this.routers.add(router);
    return router;
  }

  /** Wait up to 5 s for an exit, then SIGKILL and wait again (bounded). */
  private async reap(proc: ChildProcess, exited: Promise<void>): Promise<void> {
    const timeout = (ms: number) => new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
    if (await Promise.race([exited.then(() => 'exited' as const), timeout(5000)]) === 'timeout') {
      proc.kill('SIGKILL');
      await Promise.race([exited, timeout(2000)]);
    }
  }

  /** Remove a VIP left behind by a crash (SIGKILL leaves it, as keepalived does). */
  clearVip(side: Side, vip = this.vip): void {
    spawnSync('ip', ['-n', this.ns(side), 'addr', 'del', `${vip}/24`, 'dev', 'eth0']);
  }

  async destroy(): Promise<void> {
    for (const r of [...this.routers]) await r.stop('KILL');
    for (const side of ['a', 'b', 'sw'] as const) spawnSync('ip', ['netns', 'del', this.ns(side)]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A keepvs VrrpConfig for one side. */
export function keepvsConf(lab: VrrpLab, o: { side: Side; state: 'MASTER' | 'BACKUP'; priority: number; version: 2 | 3; advertInt: number; nopreempt?: boolean; unicast?: boolean; vips?: string[] }): VrrpConfig {
  const other: Side = o.side === 'a' ? 'b' : 'a';
  return {
    global_defs: { router_id: lab.ns(o.side), vrrp_version: o.version },
    vrrp_instance: [{
      name: 'VI_1', state: o.state, interface: 'eth0', virtual_router_id: 51, priority: o.priority, advert_int: o.advertInt,
      nopreempt: o.nopreempt, authentication: o.version === 2 ? { auth_type: 'PASS', auth_pass: 's3cret' } : undefined,
      unicast_src_ip: o.unicast ? lab.addr(o.side) : undefined, unicast_peer: o.unicast ? [lab.addr(other)] : undefined,
      virtual_ipaddress: o.vips ?? [`${lab.vip}/24 dev eth0`],
    }],
  };
}
