// bench/check: CPU of the health checker for 1 000, 5 000 and 10 000 real servers with TCP_CHECK
// and with HTTP_GET at delay_loop 1 s, against local backends, side by side with keepalived's
// checker process (`keepalived -C -n -l -f conf`) on the same pool. Results go to
// bench/results/check.md.
//
//   node bench/check/run.ts [--sizes 1000,5000,10000] [--kinds tcp,http] [--window 15] [--no-keepalived]
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
const withKeepalived = !process.argv.includes('--no-keepalived');

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
  note: string;
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

async function measure(pid: number, n: number, maxWarmMs: number): Promise<{ cpu: number; user: number; sys: number; rate: number; warm: number }> {
  const warm = await settle(n, maxWarmMs);
  const a = cpuTicks(pid);
  const acc0 = await accepts();
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const b = cpuTicks(pid);
  const acc1 = await accepts();
  const secs = (performance.now() - t0) / 1000;
  if (!a || !b) throw new Error(`process ${pid} vanished during the measurement`);
  const user = (b.user - a.user) / HZ / secs * 100;
  const sys = (b.sys - a.sys) / HZ / secs * 100;
  return { cpu: user + sys, user, sys, rate: (acc1 - acc0) / secs, warm };
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
  return { impl: 'keepvs', kind: plan.kind, n: plan.n, checksPerS: m.rate, cpu: m.cpu, user: m.user, sys: m.sys, note: `${stats.alive ?? '?'}/${plan.n} alive${failed ? `; failures: ${failed}` : ''}; settled after ${m.warm.toFixed(0)} s` };
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
  const m = await measure(checker, plan.n, 120_000);
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  if (await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]) === false) {
    p.kill('SIGKILL');
    try { process.kill(checker, 'SIGKILL'); } catch { /* gone */ }
  }
  return { impl: 'keepalived 2.2 (IPVS shim)', kind: plan.kind, n: plan.n, checksPerS: m.rate, cpu: m.cpu, user: m.user, sys: m.sys, note: `settled after ${m.warm.toFixed(0)} s` };
}

function table(rows: Row[]): string {
  const head = '| checker | check | real servers | checks/s seen by the backend | CPU % of one core | user % | sys % | CPU µs per check | note |\n|---|---|---:|---:|---:|---:|---:|---:|---|';
  const body = rows.map((r) => `| ${r.impl} | ${r.kind === 'tcp' ? 'TCP_CHECK' : 'HTTP_GET'} | ${r.n} | ${r.checksPerS.toFixed(0)} | ${r.cpu.toFixed(1)} | ${r.user.toFixed(1)} | ${r.sys.toFixed(1)} | ${(r.cpu / 100 * 1e6 / Math.max(1, r.checksPerS)).toFixed(1)} | ${r.note} |`);
  return [head, ...body].join('\n');
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
  const rows: Row[] = [];
  const loadBefore = loadavg()[0];
  for (const kind of kinds) {
    for (const n of sizes) {
      const plan: Plan = { n, kind, ports: PORTS };
      const ours = await runKeepvs(plan);
      rows.push(ours);
      console.log(table([ours]).split('\n')[2]);
      if (keepalived && shim) {
        const theirs = await runKeepalived(plan, shim);
        rows.push(theirs);
        console.log(table([theirs]).split('\n')[2]);
      }
    }
  }
  const loadAfter = loadavg()[0];
  const summary = kinds.map((kind) => {
    const n = Math.max(...sizes);
    const ours = rows.find((r) => r.impl === 'keepvs' && r.kind === kind && r.n === n);
    const theirs = rows.find((r) => r.impl !== 'keepvs' && r.kind === kind && r.n === n);
    if (!ours) return '';
    const per = (r: Row) => r.cpu / 100 * 1e6 / Math.max(1, r.checksPerS);
    const scaled = per(ours) * n / 1e6 * 100;
    return `- ${kind === 'tcp' ? 'TCP_CHECK' : 'HTTP_GET'}, ${n} real servers: keepvs ${ours.cpu.toFixed(1)} % of a core at ${ours.checksPerS.toFixed(0)} checks/s`
      + ` (${per(ours).toFixed(1)} µs per check, so ${scaled.toFixed(0)} % at the full ${n}/s)`
      + (theirs ? `; keepalived ${theirs.cpu.toFixed(1)} % at ${theirs.checksPerS.toFixed(0)} checks/s (${per(theirs).toFixed(1)} µs per check): keepvs costs ${(per(ours) / per(theirs)).toFixed(2)}× keepalived per check.` : '.')
      + ` Goal "under 25 % of one core": ${scaled < 25 ? 'met' : 'not met'}.`;
  }).filter(Boolean).join('\n');
  const md = `# bench/check — health checker CPU

Run: \`npm run bench:check\` (\`node bench/check/run.ts\`), ${new Date().toISOString().slice(0, 10)}, ${process.version}, ${which('nproc') ? execFileSync('nproc', { encoding: 'utf8' }).trim() : '?'} cores.
Backend: ${backend}, ports ${PORTS.join(', ')} on every 127.x address; real servers on 127.10.x.y (one address each),
1 000 per virtual server, \`delay_loop 1\`, \`connect_timeout 5\`, default warmup (= delay_loop). Measurement window ${windowS} s
after a warm-up; CPU = utime+stime of the checker process alone (the backend's CPU is not counted), in % of one core.
"checks/s" is the backend's accepted-connection rate during the window: what each checker really did.

${table(rows)}

${summary}

Machine load average (1 min) ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after the run: other work shared the 2 vCPUs,
which is why some rows fall short of N checks per second (each checker waits delay_loop after a check completes, so a
starved process checks less often). CPU µs per check is the figure to compare.

keepalived: ${keepalived ? kaVersion : 'not installed (apt-get install keepalived)'}.
${keepalived ? `Without help it does not check at all on this kernel (no IPVS): ${refusal}.` : ''}
${keepalived && shim ? 'Its rows were measured with bench/check/ipvs-shim.c preloaded: the IPVS socket options it sends succeed and do nothing; its checker threads, sockets and timers are untouched.' : keepalived ? 'gcc was not available to build the IPVS shim, so keepalived could not be measured.' : ''}

Reading the numbers: on loopback most of a check's cost is the kernel's TCP handshake and teardown for both sides, charged to
the connecting process (sys %). keepvs closes TCP_CHECK connections with an RST (no FIN exchange, no TIME_WAIT on the director);
keepalived closes normally. Spread between runs on this 2-vCPU VM is large (see shared/reference/perf-anchors.md).
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
