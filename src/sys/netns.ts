// Network-namespace lab for the nft plane's integration tests and benchmark: the topology of
// shared/lab/netns-lab.sh built from Node, under a name prefix so several labs never collide.
//
//   front LAN 198.18.0.0/24 (bridge in <p>sw)        back LAN 198.18.1.0/24 (bridge in <p>sw)
//   <p>c   client    198.18.0.10 (+ .20-.35 extra source addresses)  route 198.18.1.0/24 via .1
//   <p>d   director  198.18.0.1 + VIP 198.18.0.100/32  |  198.18.1.1 (DIP)
//   <p>g   router    198.18.0.254                      |  198.18.1.254  (RS gateway for DR / FULLNAT)
//   <p>r1  RS1                                             198.18.1.11
//   <p>r2  RS2                                             198.18.1.12
//   (<p>r3 RS3 198.18.1.13 when rsCount is 3)
// Every RS runs a tiny Node server: HTTP on :80 answering "<name> <peer>:<port>\n" (Connection: close),
// a line echo on :9000 answering "<name> <line>\n" on each line (long-lived connections), a UDP
// echo on :53 answering "<name> <peer>\n", and on :7000 a server that closes each connection at once
// (connection-rate benchmark).
// Nothing is created in the root namespace; teardown kills the servers by PID and deletes the
// namespaces. Only addresses from 198.18.0.0/15 are used.
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function exec(bin: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
      const code = e ? (typeof (e as NodeJS.ErrnoException).code === 'number' ? Number((e as NodeJS.ErrnoException).code) : (e as { code?: unknown }).code === 'ENOENT' ? 127 : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Run a command inside a namespace. */
export function inNs(ns: string, cmd: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return exec('ip', ['netns', 'exec', ns, ...cmd], opts);
}

async function must(ns: string | null, cmd: readonly string[]): Promise<string> {
  const r = ns === null ? await exec(cmd[0], cmd.slice(1)) : await inNs(ns, cmd);
  if (r.code !== 0) throw new Error(`${ns ? `[${ns}] ` : ''}${cmd.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

export const LAB = {
  client: '198.18.0.10', dirFront: '198.18.0.1', vip: '198.18.0.100', dip: '198.18.1.1',
  routerFront: '198.18.0.254', routerBack: '198.18.1.254',
  rs: ['198.18.1.11', '198.18.1.12', '198.18.1.13'],
} as const;

const RS_SERVER = `
const name = process.argv[1];
require('http').createServer((q, s) => { s.setHeader('Connection', 'close'); s.end(name + ' ' + q.socket.remoteAddress + ':' + q.socket.remotePort + '\\n'); })
  .listen({ port: 80, host: '0.0.0.0', backlog: 4096 });
require('net').createServer((c) => {
  let buf = '';
  c.setEncoding('utf8');
  c.on('data', (d) => { buf += d; let i; while ((i = buf.indexOf('\\n')) >= 0) { const l = buf.slice(0, i); buf = buf.slice(i + 1); c.write(name + ' ' + l + '\\n'); } });
  c.on('error', () => {});
}).listen({ port: 9000, host: '0.0.0.0', backlog: 4096 });
require('net').createServer((c) => { c.on('error', () => {}); c.end(); }).listen({ port: 7000, host: '0.0.0.0', backlog: 4096 });
require('dgram').createSocket('udp4').on('message', function (m, r) { this.send(name + ' ' + r.address + '\\n', r.port, r.address); }).bind(53);
`;

export interface Lab {
  readonly prefix: string;
  readonly ns: { readonly client: string; readonly director: string; readonly router: string; readonly rs: readonly string[]; readonly sw: string };
  /** RS default gateway: the director's DIP (NAT) or the router (DR, FULLNAT). */
  rsGateway(via: 'dip' | 'router'): Promise<void>;
  /** DR on the real servers: VIP on lo, arp_ignore=1, arp_announce=2, rp_filter=0. */
  drVip(on: boolean): Promise<void>;
  down(): Promise<void>;
}

export interface LabOptions {
  readonly prefix: string;
  readonly rsCount?: 2 | 3;
  /** The Node binary that runs the RS servers. */
  readonly node: string;
}

async function sysctl(ns: string, kv: string): Promise<void> {
  await must(ns, ['sysctl', '-qw', kv]);
}

export async function labUp(o: LabOptions): Promise<Lab> {
  const p = o.prefix;
  const rsCount = o.rsCount ?? 2;
  const ns = {
    client: `${p}c`, director: `${p}d`, router: `${p}g`, sw: `${p}sw`,
    rs: Array.from({ length: rsCount }, (_, i) => `${p}r${i + 1}`),
  };
  const all = [ns.client, ns.director, ns.router, ...ns.rs, ns.sw];
  const servers: ChildProcess[] = [];
  const down = async (): Promise<void> => {
    for (const s of servers) s.kill('SIGKILL');
    for (const n of all) {
      const pids = await exec('ip', ['netns', 'pids', n]);
      for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
      await exec('ip', ['netns', 'del', n]);
    }
  };
  await down();
  try {
    for (const n of all) {
      await must(null, ['ip', 'netns', 'add', n]);
      await must(n, ['ip', 'link', 'set', 'lo', 'up']);
    }
    await must(ns.sw, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await must(ns.sw, ['ip', 'link', 'add', 'br1', 'type', 'bridge']);
    await must(ns.sw, ['ip', 'link', 'set', 'br0', 'up']);
    await must(ns.sw, ['ip', 'link', 'set', 'br1', 'up']);
    let port = 0;
    const plug = async (n: string, ifn: string, br: string): Promise<void> => {
      const sp = `p${port++}`;
      await must(null, ['ip', 'link', 'add', sp, 'netns', ns.sw, 'type', 'veth', 'peer', 'name', ifn, 'netns', n]);
      await must(ns.sw, ['ip', 'link', 'set', sp, 'master', br, 'up']);
      await must(n, ['ip', 'link', 'set', ifn, 'up']);
      // Static FDB entry: with one-way (DR) traffic a MAC that only receives ages out and the
      // bridge floods to every port — the director would see replies (kernel-dataplane.md G6).
      const mac = (await must(n, ['cat', `/sys/class/net/${ifn}/address`])).trim();
      await must(ns.sw, ['bridge', 'fdb', 'replace', mac, 'dev', sp, 'master', 'static']);
    };
    await plug(ns.client, 'eth0', 'br0');
    await plug(ns.director, 'eth0', 'br0');
    await plug(ns.director, 'eth1', 'br1');
    await plug(ns.router, 'eth0', 'br0');
    await plug(ns.router, 'eth1', 'br1');
    for (const r of ns.rs) await plug(r, 'eth0', 'br1');

    await must(ns.client, ['ip', 'addr', 'add', `${LAB.client}/24`, 'dev', 'eth0']);
    for (let i = 20; i < 36; i++) await must(ns.client, ['ip', 'addr', 'add', `198.18.0.${i}/24`, 'dev', 'eth0']);
    await must(ns.client, ['ip', 'route', 'add', '198.18.1.0/24', 'via', LAB.dirFront]);
    await must(ns.director, ['ip', 'addr', 'add', `${LAB.dirFront}/24`, 'dev', 'eth0']);
    await must(ns.director, ['ip', 'addr', 'add', `${LAB.vip}/32`, 'dev', 'eth0']);
    await must(ns.director, ['ip', 'addr', 'add', `${LAB.dip}/24`, 'dev', 'eth1']);
    await must(ns.router, ['ip', 'addr', 'add', `${LAB.routerFront}/24`, 'dev', 'eth0']);
    await must(ns.router, ['ip', 'addr', 'add', `${LAB.routerBack}/24`, 'dev', 'eth1']);
    for (let i = 0; i < ns.rs.length; i++) await must(ns.rs[i], ['ip', 'addr', 'add', `${LAB.rs[i]}/24`, 'dev', 'eth0']);
    for (const n of [ns.director, ns.router]) {
      await sysctl(n, 'net.ipv4.ip_forward=1');
      for (const i of ['all', 'default', 'eth0', 'eth1']) await sysctl(n, `net.ipv4.conf.${i}.rp_filter=0`);
    }
    await sysctl(ns.director, 'net.netfilter.nf_conntrack_acct=1');
    await sysctl(ns.client, 'net.ipv4.ip_local_port_range=10000 65000');
    await sysctl(ns.client, 'net.ipv4.tcp_tw_reuse=1');
    for (const r of ns.rs) {
      await sysctl(r, 'net.core.somaxconn=4096');
      await must(r, ['ip', 'route', 'replace', 'default', 'via', LAB.dip, 'dev', 'eth0']);
      const child = spawn('ip', ['netns', 'exec', r, o.node, '-e', RS_SERVER, r], { stdio: 'ignore', detached: false });
      child.unref();
      servers.push(child);
    }
    for (const r of ns.rs) {
      let up = false;
      for (let i = 0; i < 50 && !up; i++) {
        up = (await inNs(r, ['bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/80 && exec 4<>/dev/tcp/127.0.0.1/9000'])).code === 0;
        if (!up) await new Promise((res) => setTimeout(res, 100));
      }
      if (!up) throw new Error(`RS server in ${r} did not start`);
    }
  } catch (e) {
    await down();
    throw e;
  }
  return {
    prefix: p, ns,
    async rsGateway(via) {
      const gw = via === 'dip' ? LAB.dip : LAB.routerBack;
      for (const r of ns.rs) await must(r, ['ip', 'route', 'replace', 'default', 'via', gw, 'dev', 'eth0']);
    },
    async drVip(on) {
      for (const r of ns.rs) {
        if (on) {
          for (const kv of ['all.arp_ignore=1', 'all.arp_announce=2', 'eth0.arp_ignore=1', 'eth0.arp_announce=2', 'all.rp_filter=0', 'eth0.rp_filter=0', 'lo.rp_filter=0']) {
            await sysctl(r, `net.ipv4.conf.${kv}`);
          }
          await must(r, ['ip', 'addr', 'replace', `${LAB.vip}/32`, 'dev', 'lo']);
        } else {
          await inNs(r, ['ip', 'addr', 'del', `${LAB.vip}/32`, 'dev', 'lo']);
        }
      }
    },
    down,
  };
}

/** Why the lab cannot run here, or null: needs root, ip(8) with netns, nft(8). */
export async function labUnavailable(tools: readonly string[] = ['ip', 'nft', 'iptables-nft', 'conntrack']): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  for (const t of tools) {
    const r = await exec('sh', ['-c', `command -v ${t}`]);
    const pkg: Record<string, string> = { ip: 'iproute2', 'iptables-nft': 'iptables', nft: 'nftables', hping3: 'hping3' };
    if (r.code !== 0) return `needs ${t} (apt-get install ${pkg[t] ?? t})`;
  }
  const probe = `kvprobe${process.pid}`;
  const r = await exec('ip', ['netns', 'add', probe]);
  if (r.code !== 0) return `cannot create network namespaces: ${r.stderr.trim()}`;
  await exec('ip', ['netns', 'del', probe]);
  return null;
}
