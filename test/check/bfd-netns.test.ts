// keepvs's BFD against keepalived 2.2.7's BFD process, on the real kernel: two network namespaces
// joined by a veth pair (198.18.0.0/15 addresses), keepalived with just a bfd_instance in one, keepvs
// in the other. Proves the session comes Up (three-way handshake, poll/final to 100 ms), that each
// received packet carried TTL 255 through IP_RECVTTL, that it goes Down within the detection time when
// the peer's link goes down or keepalived stops, and that a real server with BFD_CHECK leaves and
// rejoins the director as `keepvsadm -L -n` shows. Needs root, iproute2 and keepalived; every wait is
// bounded; namespaces and processes are removed even on failure.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');

function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return 'needs iproute2 with network namespaces';
  if (spawnSync('keepalived', ['--version']).error) return 'needs keepalived 2.2.7 (apt-get install -y keepalived)';
  return null;
}

const sh = (...args: string[]) => execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let labs = 0;

/** Two namespaces, a veth between them: A = 198.18.N.1 (keepvs), B = 198.18.N.2 (keepalived). */
class Lab {
  readonly a: string;
  readonly b: string;
  readonly ifA: string;
  readonly ifB: string;
  readonly net: string;
  readonly dir: string;
  readonly procs = new Set<ChildProcess>();

  constructor() {
    const id = `${process.pid % 10000}${labs++}`;
    this.a = `kpf${id}a`;
    this.b = `kpf${id}b`;
    this.ifA = `kpf${id}a0`;
    this.ifB = `kpf${id}b0`;
    this.net = `198.18.${40 + ((process.pid + labs) % 50)}`;
    this.dir = mkdtempSync(join(tmpdir(), 'kpf-bfd-'));
    chmodSync(this.dir, 0o755);
    try {
      sh('ip', 'netns', 'add', this.a);
      sh('ip', 'netns', 'add', this.b);
      sh('ip', 'link', 'add', this.ifA, 'netns', this.a, 'type', 'veth', 'peer', 'name', this.ifB, 'netns', this.b);
      sh('ip', '-n', this.a, 'addr', 'add', `${this.net}.1/24`, 'dev', this.ifA);
      sh('ip', '-n', this.b, 'addr', 'add', `${this.net}.2/24`, 'dev', this.ifB);
      for (const [ns, dev] of [[this.a, this.ifA], [this.b, this.ifB]]) {
        sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
        sh('ip', '-n', ns, 'link', 'set', dev, 'up');
      }
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  peerLink(up: boolean): void {
    sh('ip', '-n', this.b, 'link', 'set', this.ifB, up ? 'up' : 'down');
  }

  spawn(ns: string, argv: string[], env: NodeJS.ProcessEnv = {}): { proc: ChildProcess; out: () => string; exited: Promise<void> } {
    const proc = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.procs.add(proc);
    let text = '';
    proc.stdout!.on('data', (d) => { text += d; });
    proc.stderr!.on('data', (d) => { text += d; });
    const exited = new Promise<void>((r) => proc.once('exit', () => { this.procs.delete(proc); r(); }));
    return { proc, out: () => text, exited };
  }

  /** keepalived with only a bfd_instance towards A; its own pid files. */
  keepalived(): { proc: ChildProcess; out: () => string; exited: Promise<void> } {
    const conf = join(this.dir, 'keepalived.conf');
    writeFileSync(conf, [
      'global_defs {', '  router_id kpf_peer', '}',
      'bfd_instance to_keepvs {', `  neighbor_ip ${this.net}.1`, `  source_ip ${this.net}.2`,
      '  min_rx 100', '  min_tx 100', '  idle_tx 1000', '  multiplier 3', '}', '',
    ].join('\n'));
    const pid = (n: string) => join(this.dir, `${n}.pid`);
    return this.spawn(this.b, ['keepalived', '-n', '-l', '-D', '-f', conf, '-p', pid('ka'), '-r', pid('ka-vrrp'), '-c', pid('ka-check'), '-b', pid('ka-bfd')]);
  }

  async stop(p: { proc: ChildProcess; exited: Promise<void> }, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill(signal);
    const done = await Promise.race([p.exited.then(() => true), sleep(5000).then(() => false)]);
    if (!done) {
      p.proc.kill('SIGKILL');
      await Promise.race([p.exited, sleep(2000)]);
    }
  }

  destroy(): void {
    for (const p of this.procs) p.kill('SIGKILL');
    // keepalived's children (checker/BFD) live in the namespace: kill what is left there.
    for (const ns of [this.a, this.b]) {
      const pids = spawnSync('ip', ['netns', 'pids', ns]).stdout?.toString().split(/\s+/).filter(Boolean) ?? [];
      for (const pid of pids) try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      spawnSync('ip', ['netns', 'del', ns]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000 && Date.now() < end; i++) {
    if (cond()) return true;
    await sleep(20);
  }
  return cond();
}

interface RunnerLine { event?: string; up?: boolean; wall?: number; final?: boolean; stats?: { received: number; noTtl: number; dropped: Record<string, number>; sendErrors: number }; snapshot?: Array<{ state: string; detectionTimeMs: number; txIntervalMs: number; localPort: number }> }
const lines = (out: string): RunnerLine[] => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as RunnerLine);

function lab(t: TestContext): Lab | null {
  const why = unavailable();
  if (why) {
    t.skip(why);
    return null;
  }
  const l = new Lab();
  t.after(() => l.destroy());
  return l;
}

test('BFD against keepalived 2.2.7: Up, TTL 255 checked, Down within the detection time (link down, keepalived stops)', async (t) => {
  const l = lab(t);
  if (!l) return;
  const ka = l.keepalived();
  const settings = { neighbor_ip: [`${l.net}.2`], source_ip: [`${l.net}.1`], min_rx: ['100'], min_tx: ['100'], multiplier: ['3'] };
  const kv = l.spawn(l.a, [NODE, join(ROOT, 'test', 'check', 'bfd-netns-runner.ts'), JSON.stringify([{ name: 'to_keepalived', settings }]), '60000']);
  const events = () => lines(kv.out()).filter((x) => x.event);
  try {
    assert.ok(await waitFor(() => events().some((e) => e.up), 10_000), `session Up\n${kv.out()}\n${ka.out()}`);
    assert.ok(await waitFor(() => /to_keepvs\) Entering Up state/.test(ka.out()), 5000), `keepalived sees Up too\n${ka.out()}`);
    const up = events().find((e) => e.up)!;
    assert.ok(up.snapshot![0].localPort >= 49152, 'RFC 5881 §4 source port');
    await sleep(1000); // the poll sequence to 100 ms has run

    // The peer's link goes down: expiry after the detection time (300 ms).
    const cut = Date.now();
    l.peerLink(false);
    assert.ok(await waitFor(() => events().filter((e) => e.up === false).length >= 1, 5000), `Down after link down\n${kv.out()}`);
    const down1 = events().find((e) => e.up === false)!;
    const linkDownMs = down1.wall! - cut;
    t.diagnostic(`link down → BFD Down in ${linkDownMs} ms (detection time ${down1.snapshot![0].detectionTimeMs} ms)`);
    // Bounded well below the idle detection time (3 s): the 100 ms rate was agreed and used. The
    // figure itself is measured, not asserted tightly (a loaded 2-core machine delays timers).
    assert.ok(linkDownMs < 1000, `detected in ${linkDownMs} ms, detection time 300 ms`);

    l.peerLink(true);
    assert.ok(await waitFor(() => events().filter((e) => e.up).length >= 2, 15_000), `Up again after link up\n${kv.out()}`);
    await sleep(1000);

    // keepalived stops (it sends no AdminDown): expiry again.
    const stopAt = Date.now();
    await l.stop(ka);
    assert.ok(await waitFor(() => events().filter((e) => e.up === false).length >= 2, 5000), `Down after keepalived stops\n${kv.out()}`);
    const down2 = events().filter((e) => e.up === false)[1];
    t.diagnostic(`keepalived stopped → BFD Down ${down2.wall! - stopAt} ms after SIGTERM was sent`);

    await l.stop(kv);
    const fin = lines(kv.out()).find((x) => x.final);
    assert.ok(fin?.stats, kv.out());
    t.diagnostic(`keepvs BFD counters: ${JSON.stringify(fin.stats)}`);
    assert.ok(fin.stats.received > 5, "packets were received through the koffi socket");
    assert.equal(fin.stats.noTtl, 0, 'every datagram came with its TTL (IP_RECVTTL)');
    assert.equal(fin.stats.dropped.ttl, 0, 'keepalived sends with TTL 255');
    assert.equal(fin.stats.sendErrors, 0);
  } finally {
    await l.stop(kv);
    await l.stop(ka);
  }
});

test('BFD_CHECK against keepalived 2.2.7: the real server leaves and rejoins the director (keepvsadm -L -n)', async (t) => {
  const l = lab(t);
  if (!l) return;
  const ka = l.keepalived();
  const conf = join(l.dir, 'keepvs.conf');
  writeFileSync(conf, [
    'bfd_instance to_peer {', `  neighbor_ip ${l.net}.2`, '  min_rx 100', '  min_tx 100', '  multiplier 3', '}',
    `virtual_server ${l.net}.1 47080 {`, '  lb_algo rr', '  lb_kind NAT', '  protocol TCP',
    `  real_server ${l.net}.2 47081 {`, '    BFD_CHECK {', '      name to_peer', '    }', '  }',
    `  real_server ${l.net}.2 47082 {`, '    weight 1', '  }',
    '}', '',
  ].join('\n'));
  const sock = join(l.dir, 'keepvs.sock');
  const kv = l.spawn(l.a, [NODE, join(ROOT, 'src', 'daemon', 'main.ts'), '-f', conf, '-n', '-l', '-C', `--control=${sock}`, '-p', join(l.dir, 'keepvs.pid')]);
  const list = (): string => {
    const r = spawnSync('ip', ['netns', 'exec', l.a, NODE, join(ROOT, 'src', 'cli', 'keepvsadm', 'main.ts'), '-L', '-n'], { env: { ...process.env, KEEPVS_SOCKET: sock }, timeout: 10_000 });
    return String(r.stdout);
  };
  const has = () => list().includes(`${l.net}.2:47081`);
  try {
    assert.ok(await waitFor(() => list().includes(`${l.net}.2:47082`), 30_000), `daemon serving\n${kv.out()}`);
    assert.ok(await waitFor(has, 15_000), `real server joins once BFD is Up\n${list()}\n${kv.out()}`);
    t.diagnostic(list());
    const cut = Date.now();
    l.peerLink(false);
    assert.ok(await waitFor(() => !has(), 10_000), `real server leaves when the peer's link goes down\n${kv.out()}`);
    t.diagnostic(`link down → real server out of keepvsadm -L -n after ${Date.now() - cut} ms (includes keepvsadm polling)`);
    assert.ok(list().includes(`${l.net}.2:47082`), 'the other real server stays');
    l.peerLink(true);
    assert.ok(await waitFor(has, 15_000), `real server rejoins\n${kv.out()}`);
    await l.stop(ka);
    assert.ok(await waitFor(() => !has(), 10_000), `real server leaves when keepalived stops\n${kv.out()}`);
    assert.match(kv.out(), /\(to_peer\) Entering Down state \(Local diagnostic - Control Detection Time Expired/);
  } finally {
    await l.stop(kv);
    await l.stop(ka);
  }
});
