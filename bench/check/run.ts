// bench/check: CPU of the health checker for 1 000, 5 000 and 10 000 real servers with TCP_CHECK
// and with HTTP_GET at delay_loop 1 s, against local backends, side by side with keepalived's
// checker process (`keepalived -C -n -l -f conf`) on the same pool. Results go to
// bench/results/check.md.
//
//   node bench/check/run.ts [--sizes 1000,5000,10000] [--kinds tcp,http] [--window 15] [--reps 1]
//                           [--no-keepalived] [--no-floor] [--no-graceful]
//
// --reps runs every row that many times (interleaved: keepvs, keepalived, keepvs, ...) and reports
// the median with the min–max spread. Besides keepvs (default: probes end with an RST on reused
// sockets) and keepalived, the largest size also runs keepvs with `probeClose: 'graceful'`
// (keepalived's FIN) and bench/check/floor.c, a bare C loop making the same checks with no checker
// logic at all: the floor of what any checker process can spend per check on this machine.
//
// Backends: one nginx (worker_processes 1, `return 200`) listening on a few ports on every address,
// so 127.10.x.y:port reaches it for any x.y; its stub_status "accepts" counter gives the checks per
// second each side really made. Without nginx a Node backend in a child process stands in.
// CPU is utime+stime of the checker process over the window (from /proc/PID/stat), as a percentage
// of one core. keepalived 2.2 refuses to run its checker without IPVS in the kernel; when gcc is
// present the run builds bench/check/ipvs-shim.c (LD_PRELOAD: IPVS socket options answer "ok",
// nothing else changes) so keepalived's checkers run for real. Every loop here is bounded in time.
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { keepalivedConf, type BenchKind, type Plan } from './plan.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const NODE = process.execPath;
const HZ = 100;
const PORTS = [20101, 20102, 20103, 20104];
const STATUS_PORT = 20199;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const sizes = arg('sizes', '1000,5000,10000').split(',').map(Number);
const kinds = arg('kinds', 'tcp,http').split(',') as BenchKind[];
const windowS = Number(arg('window', '15'));
const reps = Math.max(1, Number(arg('reps', '1')));
const withKeepalived = !process.argv.includes('--no-keepalived');
const withFloor = !process.argv.includes('--no-floor');
const withGraceful = !process.argv.includes('--no-graceful');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function which(cmd: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** First line a tool prints for its version (nginx and keepalived print it on stderr). */
function versionOf(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0].trim() || cmd;
}

function cpuTicks(pid: number): { user: number; sys: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]), sys: Number(f[12]) };
  } catch {
    return null;
  }
}

const work = mkdtempSync(join(tmpdir(), 'keepvs-bench-check-'));
const children: ChildProcess[] = [];

async function accepts(): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${STATUS_PORT}/status`).then((x) => x.text()).catch(() => '');
  const m = /\n\s*(\d+)\s+(\d+)\s+(\d+)/.exec(r);
  return m ? Number(m[1]) : NaN;
}

async function startBackend(): Promise<string> {
  const nginx = which('nginx');
  if (nginx) {
    mkdirSync(join(work, 'nginx'), { recursive: true });
    const conf = join(work, 'nginx', 'nginx.conf');
    writeFileSync(conf, `worker_processes 1; daemon off; pid ${work}/nginx/nginx.pid; error_log ${work}/nginx/error.log;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http { access_log off; keepalive_timeout 0;
  server { listen 127.0.0.1:${STATUS_PORT}; location = /status { stub_status; } }
  server { ${PORTS.map((p) => `listen ${p} backlog=8192;`).join(' ')} location / { return 200 "ok\\n"; } } }
`);
    const p = spawn(nginx, ['-c', conf, '-p', join(work, 'nginx')], { stdio: 'ignore' });
    children.push(p);
    for (let i = 0; i < 50 && Number.isNaN(await accepts()); i++) await sleep(100);
    if (Number.isNaN(await accepts())) throw new Error('nginx did not start');
    backendPid = findBackendWorker(p.pid!);
    return versionOf(nginx, ['-v']);
  }
  // Fallback: a Node backend counting accepts, with the same status format.
  const code = `
    const net = require('node:net'); const http = require('node:http'); let n = 0;
    for (const p of ${JSON.stringify(PORTS)}) net.createServer({ pauseOnConnect: false }, (s) => { n++; s.on('error', () => {}); s.once('data', () => s.end('HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n')); s.on('end', () => s.destroy()); }).listen({ port: p, backlog: 8192 });
    http.createServer((q, r) => r.end('Active connections: 0\\nserver accepts handled requests\\n ' + n + ' ' + n + ' ' + n + '\\n')).listen(${STATUS_PORT}, '127.0.0.1');`;
  const p = spawn(NODE, ['-e', code], { stdio: 'ignore' });
  children.push(p);
  for (let i = 0; i < 50 && Number.isNaN(await accepts()); i++) await sleep(100);
  backendPid = p.pid!;
  return 'node fallback backend (nginx not installed)';
}

interface Row {
  impl: string;
  kind: BenchKind;
  n: number;
  checksPerS: number;
  cpu: number;
  user: number;
  sys: number;
  /** The backend's (nginx worker's) CPU over the same window, % of one core. */
  backend: number;
  note: string;
}

let backendPid = 0;

/** nginx's worker: the one child of the master (worker_processes 1). */
function findBackendWorker(master: number): number {
  try {
    const kids = readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).map(Number).filter(Boolean);
    return kids[0] ?? master;
  } catch {
    return master;
  }
}

/** Wait until the backend sees at least 90 % of the expected check rate (both sides start slowly at 10 000). */
async function settle(n: number, maxMs: number): Promise<number> {
  const t0 = performance.now();
  let last = await accepts();
  for (;;) {
    await sleep(2000);
    const now = await accepts();
    const rate = (now - last) / 2;
    last = now;
    if (rate >= 0.9 * n || performance.now() - t0 > maxMs) return (performance.now() - t0) / 1000;
  }
}

async function measure(pid: number, n: number, maxWarmMs: number): Promise<{ cpu: number; user: number; sys: number; backend: number; rate: number; warm: number }> {
  const warm = await settle(n, maxWarmMs);
  const a = cpuTicks(pid);
  const ba = cpuTicks(backendPid);
  const acc0 = await accepts();
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const b = cpuTicks(pid);
  const bb = cpuTicks(backendPid);
  const acc1 = await accepts();
  const secs = (performance.now() - t0) / 1000;
  if (!a || !b) throw new Error(`process ${pid} vanished during the measurement`);
  const user = (b.user - a.user) / HZ / secs * 100;
  const sys = (b.sys - a.sys) / HZ / secs * 100;
  const backend = ba && bb ? (bb.user + bb.sys - ba.user - ba.sys) / HZ / secs * 100 : NaN;
  return { cpu: user + sys, user, sys, backend, rate: (acc1 - acc0) / secs, warm };
}

async function runKeepvs(plan: Plan): Promise<Row> {
  const child = spawn(NODE, [join(ROOT, 'bench/check/child.ts'), JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  for (let i = 0; i < 100 && !out.includes('ready'); i++) await sleep(100);
  const m = await measure(child.pid!, plan.n, 60_000);
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await Promise.race([done, sleep(10_000)]);
  const stats = JSON.parse(out.split('\n').find((l) => l.startsWith('{')) ?? '{}') as { checks?: number; alive?: number; byCode?: Record<string, number> };
  const failed = Object.entries(stats.byCode ?? {}).filter(([k]) => k !== 'L4OK' && k !== 'L7OK').map(([k, v]) => `${k} ${v}`).join(', ');
  const impl = plan.close === 'graceful' ? 'keepvs, probeClose graceful' : 'keepvs';
  return { impl, kind: plan.kind, n: plan.n, checksPerS: m.rate, cpu: m.cpu, user: m.user, sys: m.sys, backend: m.backend, note: `${stats.alive ?? '?'}/${plan.n} alive${failed ? `; failures: ${failed}` : ''}; settled after ${m.warm.toFixed(0)} s` };
}

function buildShim(): string | null {
  if (!which('gcc')) return null;
  const so = join(work, 'ipvs-shim.so');
  try {
    execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', so, join(ROOT, 'bench/check/ipvs-shim.c'), '-ldl'], { stdio: 'ignore' });
    return so;
  } catch {
    return null;
  }
}

async function keepalivedRefusal(conf: string): Promise<string> {
  // What keepalived does on this kernel without help: start, fail to initialise IPVS, exit.
  const p = spawn('keepalived', ['-C', '-n', '-l', '-f', conf, '-p', join(work, 'ka0.pid'), '-c', join(work, 'ka0c.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(p);
  let log = '';
  p.stdout!.on('data', (d) => { log += d; });
  p.stderr!.on('data', (d) => { log += d; });
  const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  const code = await Promise.race([exited, sleep(20_000).then(() => 'running' as const)]);
  if (code === 'running') p.kill('SIGKILL');
  const lines = log.split('\n').filter((l) => /ipvs|IPVS|exited|Terminating/.test(l)).map((l) => l.replace(/^.*?: /, '')).slice(0, 4);
  return `exit ${code}: ${lines.join(' / ')}`;
}

async function runKeepalived(plan: Plan, shim: string): Promise<Row> {
  const conf = join(work, `keepalived-${plan.kind}-${plan.n}.conf`);
  writeFileSync(conf, keepalivedConf(plan));
  const pid = join(work, 'ka.pid');
  const cpid = join(work, 'kac.pid');
  rmSync(cpid, { force: true });
  const p = spawn('keepalived', ['-C', '-n', '-l', '-f', conf, '-p', pid, '-c', cpid], { stdio: 'ignore', env: { ...process.env, LD_PRELOAD: shim } });
  children.push(p);
  for (let i = 0; i < 100 && !existsSync(cpid); i++) await sleep(100);
  const checker = Number(readFileSync(cpid, 'utf8').trim());
  // keepalived parses and sets up 10 000 servers slowly; let its timers settle first.
  const m = await measure(checker, plan.n, 60_000);
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  if (await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]) === false) {
    p.kill('SIGKILL');
    try { process.kill(checker, 'SIGKILL'); } catch { /* gone */ }
  }
  return { impl: KEEPALIVED, kind: plan.kind, n: plan.n, checksPerS: m.rate, cpu: m.cpu, user: m.user, sys: m.sys, backend: m.backend, note: `settled after ${m.warm.toFixed(0)} s` };
}

const KEEPALIVED = 'keepalived 2.2 (IPVS shim)';

function buildFloor(): string | null {
  if (!which('gcc')) return null;
  const bin = join(work, 'floor');
  try {
    execFileSync('gcc', ['-O2', '-o', bin, join(ROOT, 'bench/check/floor.c')], { stdio: 'ignore' });
    return bin;
  } catch {
    return null;
  }
}

/** bench/check/floor.c against the same backend: CPU per check of a bare C loop. */
async function runFloor(bin: string, kind: BenchKind, n: number, close: 'reset' | 'graceful'): Promise<Row> {
  const ba = cpuTicks(backendPid);
  const acc0 = await accepts();
  const t0 = performance.now();
  const out = await new Promise<string>((res) => {
    const p = spawn(bin, [kind, close, String(n), String(windowS), String(PORTS[0])], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(p);
    let o = '';
    p.stdout!.on('data', (d) => { o += d; });
    p.once('exit', () => res(o));
  });
  const bb = cpuTicks(backendPid);
  const acc1 = await accepts();
  const wall = (performance.now() - t0) / 1000;
  const r = JSON.parse(out.trim() || '{}') as { checks?: number; ok?: number; userUs?: number; sysUs?: number; secs?: number };
  const secs = r.secs ?? windowS;
  const rate = (r.checks ?? 0) / secs;
  const user = (r.userUs ?? 0) / 1e6 / secs * 100;
  const sys = (r.sysUs ?? 0) / 1e6 / secs * 100;
  // The backend's ticks cover the floor's 2 s warm-up too: scale by its accepts over the same span.
  const backend = ba && bb ? (bb.user + bb.sys - ba.user - ba.sys) / HZ / wall * 100 * (rate * wall) / Math.max(1, acc1 - acc0) : NaN;
  const impl = close === 'reset' ? 'C floor: reused socket, RST' : 'C floor: fresh socket, FIN';
  return { impl, kind, n, checksPerS: rate, cpu: user + sys, user, sys, backend, note: `bare C loop, ${r.ok ?? 0} answers` };
}

const perCheck = (r: Row) => r.cpu / 100 * 1e6 / Math.max(1, r.checksPerS);
const median = (xs: number[]) => { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2; };
const spread = (xs: number[], digits = 1) => xs.length > 1 ? ` (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})` : '';
const kindName = (k: BenchKind) => (k === 'tcp' ? 'TCP_CHECK' : 'HTTP_GET');

/** One line per (checker, check, size): medians over the repetitions, with min–max. */
function table(rows: Row[]): string {
  const head = '| checker | check | real servers | checks/s seen | CPU % of one core | user µs/check | sys µs/check | **CPU µs per check** | % of a core at N checks/s | backend µs/check | × keepalived | note |\n'
    + '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|';
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const k = `${r.impl}|${r.kind}|${r.n}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const kaPer = (kind: BenchKind, n: number) => {
    const g = groups.get(`${KEEPALIVED}|${kind}|${n}`);
    return g ? median(g.map(perCheck)) : NaN;
  };
  const lines = [...groups.values()].map((g) => {
    const r = g[0];
    const per = g.map(perCheck);
    const userPer = g.map((x) => x.user / 100 * 1e6 / Math.max(1, x.checksPerS));
    const sysPer = g.map((x) => x.sys / 100 * 1e6 / Math.max(1, x.checksPerS));
    const full = per.map((x) => x * r.n / 1e4);
    const back = g.map((x) => x.backend / 100 * 1e6 / Math.max(1, x.checksPerS)).filter((x) => !Number.isNaN(x));
    const ka = kaPer(r.kind, r.n);
    const ratio = r.impl === KEEPALIVED || Number.isNaN(ka) ? '' : `${(median(per) / ka).toFixed(2)}`;
    return `| ${r.impl} | ${kindName(r.kind)} | ${r.n} | ${median(g.map((x) => x.checksPerS)).toFixed(0)} | ${median(g.map((x) => x.cpu)).toFixed(1)} | `
      + `${median(userPer).toFixed(1)} | ${median(sysPer).toFixed(1)} | **${median(per).toFixed(1)}**${spread(per)} | ${median(full).toFixed(1)}${spread(full)} | `
      + `${back.length ? median(back).toFixed(1) : '?'} | ${ratio} | ${g.length} run(s); ${g[g.length - 1].note} |`;
  });
  return [head, ...lines].join('\n');
}

function rowLine(r: Row): string {
  return `${r.impl} ${kindName(r.kind)} ${r.n}: ${r.checksPerS.toFixed(0)} checks/s, ${r.cpu.toFixed(1)} % CPU (user ${r.user.toFixed(1)}, sys ${r.sys.toFixed(1)}), `
    + `${perCheck(r).toFixed(1)} µs per check, backend ${(r.backend / 100 * 1e6 / Math.max(1, r.checksPerS)).toFixed(1)} µs per check; ${r.note}`;
}

async function main(): Promise<void> {
  const backend = await startBackend();
  const keepalived = withKeepalived ? which('keepalived') : null;
  let kaVersion = '';
  let refusal = '';
  let shim: string | null = null;
  if (keepalived) {
    kaVersion = versionOf('keepalived', ['--version']);
    const conf0 = join(work, 'probe.conf');
    writeFileSync(conf0, keepalivedConf({ n: 10, kind: 'tcp', ports: PORTS }));
    refusal = await keepalivedRefusal(conf0);
    shim = buildShim();
  }
  const floor = withFloor ? buildFloor() : null;
  const rows: Row[] = [];
  const push = (r: Row) => { rows.push(r); console.log(rowLine(r)); };
  const loadBefore = loadavg()[0];
  const biggest = Math.max(...sizes);
  for (const kind of kinds) {
    for (const n of sizes) {
      for (let rep = 0; rep < reps; rep++) {
        push(await runKeepvs({ n, kind, ports: PORTS }));
        if (keepalived && shim) push(await runKeepalived({ n, kind, ports: PORTS }, shim));
        if (n === biggest && withGraceful) push(await runKeepvs({ n, kind, ports: PORTS, close: 'graceful' }));
        if (n === biggest && floor) {
          push(await runFloor(floor, kind, n, 'reset'));
          push(await runFloor(floor, kind, n, 'graceful'));
        }
      }
    }
  }
  const loadAfter = loadavg()[0];
  const summary = kinds.map((kind) => {
    const n = biggest;
    const of = (impl: string) => rows.filter((r) => r.impl === impl && r.kind === kind && r.n === n);
    const ours = of('keepvs');
    if (ours.length === 0) return '';
    const per = median(ours.map(perCheck));
    const theirs = of(KEEPALIVED);
    const kaPer = theirs.length ? median(theirs.map(perCheck)) : NaN;
    const floorRst = of('C floor: reused socket, RST');
    const floorFin = of('C floor: fresh socket, FIN');
    const pct = (x: number) => (x * n / 1e4).toFixed(0);
    return `- ${kindName(kind)}, ${n} real servers at delay_loop 1 s: keepvs ${per.toFixed(1)} µs per check${spread(ours.map(perCheck))}, `
      + `so ${pct(per)} % of a core at the full ${n} checks/s`
      + (theirs.length ? `; keepalived ${kaPer.toFixed(1)} µs${spread(theirs.map(perCheck))} (${pct(kaPer)} %): keepvs costs ${(per / kaPer).toFixed(2)}× keepalived` : '')
      + (floorRst.length ? `; a bare C loop needs ${median(floorRst.map(perCheck)).toFixed(1)} µs with keepvs's reused sockets and RST, ${median(floorFin.map(perCheck)).toFixed(1)} µs with keepalived's fresh socket and FIN` : '')
      + `. Goal "under 25 % of one core": ${per * n / 1e4 < 25 ? 'met' : 'not met'}.`;
  }).filter(Boolean).join('\n');
  const md = `# bench/check — health checker CPU

Run: \`npm run bench:check -- --reps ${reps}\` (\`node bench/check/run.ts\`), ${new Date().toISOString().slice(0, 16)}Z, ${process.version}, ${which('nproc') ? execFileSync('nproc', { encoding: 'utf8' }).trim() : '?'} cores.
Backend: ${backend}, ports ${PORTS.join(', ')} on every 127.x address, the same for every checker; real servers on 127.10.x.y
(one address each), 1 000 per virtual server, \`delay_loop 1\`, \`connect_timeout 5\`, default warmup (= delay_loop).
Measurement window ${windowS} s after a warm-up; CPU = utime+stime of the checker process alone from /proc/PID/stat;
"checks/s seen" is the backend's accepted-connection rate in the window (what each checker really did). Figures are
medians over ${reps} run(s), (min–max) when there are several. "% of a core at N checks/s" = µs per check × N: what the
checker needs at the full rate of N real servers at delay_loop 1 s even when this shared VM let it run fewer.
"backend µs/check" is the nginx worker's CPU per check over the same window: how much each way of closing costs
the real server.

${table(rows)}

${summary}

Machine load average (1 min) ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after the run: other work shared the 2 vCPUs.

keepalived: ${keepalived ? kaVersion : 'not installed (apt-get install keepalived)'}.
${keepalived ? `Without help it does not check at all on this kernel (no IPVS): ${refusal}.` : ''}
${keepalived && shim ? 'Its rows were measured with bench/check/ipvs-shim.c preloaded: the IPVS socket options it sends succeed and do nothing; its checker threads, sockets and timers are untouched.' : keepalived ? 'gcc was not available to build the IPVS shim, so keepalived could not be measured.' : ''}
`;
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/check.md'), md);
  console.log(`\nwrote bench/results/check.md`);
}

async function cleanup(): Promise<void> {
  // SIGTERM first (nginx's master then stops its workers; SIGKILL would orphan them), SIGKILL after 3 s.
  const live = children.filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of live) c.kill('SIGTERM');
  await Promise.race([Promise.all(live.map((c) => new Promise((r) => c.once('exit', r)))), sleep(3000)]);
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}

process.once('SIGINT', () => { void cleanup().then(() => process.exit(130)); });
try {
  await main();
} finally {
  await cleanup();
}
