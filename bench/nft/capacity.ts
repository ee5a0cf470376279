// New connections per second through the nft plane (in-kernel rr: NAT, FULLNAT, DR) next to plain routed
// forwarding and HAProxy (mode tcp, one thread), in the namespace lab (src/sys/netns.ts), with the
// cheapest generator and servers this machine has: wrk (C, epoll) with `Connection: close` and nginx.
//
// Why next to bench/nft/run.ts (whose generator is Node): to see whether a C generator lifts the
// ceiling. On 2 vCPUs it does not by much: generator, servers and director share the cores, so the
// machine's busy CPU per connection is reported too, and HAProxy's own process CPU per connection,
// which is what bounds HAProxy on a director of its own. Run it alone: the busy figure counts everything.
// Writes bench/results/nft-capacity.md. Needs root, wrk, nginx, haproxy, nft, iptables-nft, conntrack.
//   node bench/nft/capacity.ts [--quick]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LAB, inNs, labUnavailable, labUp, type Lab } from '../../src/sys/netns.ts';
import { NODE, startNftDaemon } from '../../test/dataplane/nft-harness.ts';
import { startNginx, wrkClose } from './wrk-lab.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const QUICK = process.argv.includes('--quick');
const SECONDS = QUICK ? 3 : 6;
const REPS = QUICK ? 1 : 3;
const CONNS = 64;
const RS_PORT = 8080;
const VS_PORT = 8080;
const HAPROXY_PORT = 8081;
const VIP = LAB.vip;

interface Sample { readonly connPerSec: number; readonly busyUsPerConn: number; readonly procUsPerConn: number | null; readonly errors: number }
interface CaseResult { readonly name: string; readonly samples: Sample[] }

function busyJiffies(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return f.reduce((a, b) => a + b, 0) - f[3] - f[4];
}

function procJiffies(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const p = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(p[11]) + Number(p[12]);
}

/** wrk's "Requests/sec" and its socket error counts; one request per connection with Connection: close. */

async function sample(lab: Lab, url: string, pid: number | null): Promise<Sample> {
  await inNs(lab.ns.director, ['conntrack', '-F']);
  const hz = 100;
  const b0 = busyJiffies();
  const p0 = pid ? procJiffies(pid) : 0;
  const w = await wrkClose(lab, url, CONNS, SECONDS);
  const b1 = busyJiffies();
  const p1 = pid ? procJiffies(pid) : 0;
  const us = (j: number) => (j / hz) * 1e6 / w.requests;
  return { connPerSec: w.rps, busyUsPerConn: us(b1 - b0), procUsPerConn: pid ? us(p1 - p0) : null, errors: w.errors };
}

async function runCase(lab: Lab, name: string, url: string, pid: number | null, out: CaseResult[]): Promise<void> {
  const samples: Sample[] = [];
  for (let i = 0; i < REPS; i++) {
    samples.push(await sample(lab, url, pid));
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stderr.write(`${name}: ${JSON.stringify(samples)}\n`);
  out.push({ name, samples });
}

function haproxyConf(): string {
  return [
    'global', '  nbthread 1', '  maxconn 9000',
    'defaults', '  mode tcp', '  maxconn 9000', '  timeout connect 5s', '  timeout client 30s', '  timeout server 30s',
    'listen conns', `  bind ${VIP}:${HAPROXY_PORT}`, '  balance roundrobin',
    `  server rs1 ${LAB.rs[0]}:${RS_PORT}`, `  server rs2 ${LAB.rs[1]}:${RS_PORT}`, '',
  ].join('\n');
}

async function main(): Promise<void> {
  const why = await labUnavailable(['ip', 'nft', 'iptables-nft', 'conntrack', 'wrk', 'nginx', 'haproxy']);
  if (why) {
    process.stderr.write(`bench/nft/capacity: skipped: ${why}\n`);
    process.exit(0);
  }
  const dir = mkdtempSync(join(tmpdir(), 'keepvs-capacity-'));
  const lab = await labUp({ prefix: `kvc${process.pid % 10000}`, rsCount: 2, node: NODE });
  const children: ChildProcess[] = [];
  const results: CaseResult[] = [];
  const load0 = loadavg()[0];
  try {
    await inNs(lab.ns.director, ['sysctl', '-qw', 'net.netfilter.nf_conntrack_max=1048576']);
    children.push(...await startNginx(lab, dir, RS_PORT));

    await runCase(lab, 'routed (no balancer, RS1 direct)', `http://${LAB.rs[0]}:${RS_PORT}/`, null, results);

    for (const [mode, fwd, gw] of [['NAT', '-m', 'dip'], ['FULLNAT', '--fullnat', 'router'], ['DR', '-g', 'router']] as const) {
      await lab.rsGateway(gw);
      if (mode === 'DR') await lab.drVip(true);
      const k = await startNftDaemon(lab);
      try {
        await k.adm('-A', '-t', `${VIP}:${VS_PORT}`, '-s', 'rr');
        for (const rip of LAB.rs.slice(0, 2)) await k.adm('-a', '-t', `${VIP}:${VS_PORT}`, '-r', `${rip}:${RS_PORT}`, fwd);
        await runCase(lab, `nft ${mode}, rr in the kernel`, `http://${VIP}:${VS_PORT}/`, null, results);
      } finally {
        await k.stop();
        if (mode === 'DR') await lab.drVip(false);
        await lab.rsGateway('dip');
      }
    }

    // HAProxy last: its connections leave TIME_WAIT sockets from DIP:port on the real servers for 60 s,
    // and a FULLNAT SYN that keeps a client port equal to one of those is dropped there (PAWS) and
    // retried a second later — measured right after HAProxy, FULLNAT fell to ~1 100 conn/s.
    const hapCfg = join(dir, 'haproxy.cfg');
    writeFileSync(hapCfg, haproxyConf());
    const hap = spawn('ip', ['netns', 'exec', lab.ns.director, 'haproxy', '-f', hapCfg, '-db'], { stdio: 'ignore' });
    children.push(hap);
    await new Promise((r) => setTimeout(r, 800));
    const hapPid = (await inNs(lab.ns.director, ['pidof', 'haproxy'])).stdout.trim().split(/\s+/).map(Number).find((n) => n > 0) ?? null;
    await runCase(lab, 'HAProxy 1 thread', `http://${VIP}:${HAPROXY_PORT}/`, hapPid, results);
    hap.kill('SIGTERM');
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await lab.down();
    rmSync(dir, { recursive: true, force: true });
  }
  writeReport(results, load0, loadavg()[0]);
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function writeReport(results: readonly CaseResult[], load0: number, load1: number): void {
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const spread = (xs: readonly number[], d = 0) => `${f(Math.min(...xs), d)}–${f(Math.max(...xs), d)}`;
  const rateOf = (r: CaseResult | undefined) => (r ? median(r.samples.map((s) => s.connPerSec)) : NaN);
  const routed = rateOf(results.find((r) => r.name.startsWith('routed')));
  const hap = results.find((r) => r.name.startsWith('HAProxy'));
  const hapRate = rateOf(hap);
  const hapUs = hap ? median(hap.samples.map((s) => s.procUsPerConn ?? NaN)) : NaN;
  const lines = [
    '# New connections with a C load generator (bench/nft/capacity.ts)',
    '',
    `Run ${new Date().toISOString()} on ${cpus().length} vCPU (${cpus()[0]?.model ?? '?'}), kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}, load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after.`,
    `wrk -t1 -c${CONNS} -d${SECONDS}s -H 'Connection: close' from the client namespace (one connection per request), nginx on each`,
    `real server, ${REPS} runs per case: median (min–max). "machine CPU/conn" = busy time of every core (/proc/stat) per`,
    'connection: when it is ~2e6 / rate the two vCPUs were saturated, i.e. generator + servers + director together set the rate.',
    '',
    '| case | conn/s | x routed | x HAProxy | machine CPU/conn µs | balancer process CPU/conn µs | socket errors |',
    '|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const rate = rateOf(r);
      const proc = r.samples.map((s) => s.procUsPerConn).filter((x): x is number => x !== null);
      return `| ${r.name} | ${f(rate)} (${spread(r.samples.map((s) => s.connPerSec))}) | ${f(rate / routed, 2)} | ${f(rate / hapRate, 2)} | ${f(median(r.samples.map((s) => s.busyUsPerConn)), 1)} | ${proc.length ? f(median(proc), 1) : r.name.startsWith('nft') ? '0 (in the kernel)' : '-'} | ${r.samples.reduce((a, s) => a + s.errors, 0)} |`;
    }),
    '',
    `HAProxy's own process needs ${f(hapUs, 1)} µs of CPU per connection, so one HAProxy thread tops out near ${f(1e6 / hapUs)} new connections/s`,
    'per core before the kernel work of its two sockets is counted; the nft plane adds no process to the path at all.',
    '',
  ];
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'nft-capacity.md'), `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
