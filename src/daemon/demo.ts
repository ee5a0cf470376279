// npm start: a keepvs balancer on 127.0.0.1:8080 over three demo real servers on 8081-8083 that
// this script starts itself. The daemon is the real one (the same argv, wiring and proxy plane as
// bin/keepvs, run in this process with its control socket in a temp dir), and it is configured
// through the control API exactly as keepvsadm would: POST /v1/services, then POST /v1/dests.
// Ctrl-C stops everything it started.
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { parseDaemonArgs } from './options.ts';
import { createLogger } from './log.ts';
import { startDaemon, StartError, type Daemon } from './wiring.ts';
import { createPlane } from './planes.ts';
import { installSignals } from './signals.ts';
import { createSdNotifier } from '../sys/sd-notify.ts';
import { isSchedulerName } from '../core/sched/index.ts';

const HOST = '127.0.0.1';

interface DemoArgs {
  readonly port: number;
  readonly scheduler: string;
  readonly apiPort: number | null;
}

function demoArgs(argv: readonly string[]): DemoArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string', default: '8080' },
      scheduler: { type: 'string', short: 's', default: 'wlc' },
      'api-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write([
      'Usage: npm start -- [--port 8080] [-s wlc|rr|...] [--api-port 8079]',
      '  --port N       the virtual service port; the real servers take N+1..N+3 (default 8080)',
      '  -s NAME        the scheduler (default wlc)',
      '  --api-port N   also serve the control API on TCP 127.0.0.1:N with a generated token',
      '',
    ].join('\n'));
    process.exit(0);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65532) throw new Error(`--port must be 1..65532, not ${values.port}`);
  if (!isSchedulerName(values.scheduler)) throw new Error(`unknown scheduler '${values.scheduler}'`);
  const apiPort = values['api-port'] === undefined ? null : Number(values['api-port']);
  if (apiPort !== null && !(Number.isInteger(apiPort) && apiPort > 0 && apiPort < 65536)) throw new Error('--api-port must be a port number');
  return { port, scheduler: values.scheduler, apiPort };
}

/** One tiny HTTP real server that says who it is. */
function startRealServer(name: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(`hello from ${name}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`real server ${name} on ${HOST}:${port}: ${e.message}`)));
    server.listen(port, HOST, () => resolve(server));
  });
}

/** The control API over the Unix socket, as keepvsadm calls it. */
function api(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath, method, path,
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, json: text });
        }
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function main(): Promise<number> {
  let args: DemoArgs;
  try {
    args = demoArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`keepvs demo: ${(e as Error).message}\n`);
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'keepvs-demo-'));
  const socketPath = join(dir, 'keepvs.sock');
  const token = args.apiPort === null ? null : randomBytes(16).toString('hex');
  const realServers: Server[] = [];
  let daemon: Daemon | null = null;
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    if (daemon) await daemon.stop(1000);
    await Promise.all(realServers.map((s) => new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    })));
    rmSync(dir, { recursive: true, force: true });
  };

  // Ctrl-C at any moment stops what has started so far (handlers go in before anything starts).
  let ready = false;
  let stopAsked = false;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((r) => { finish = r; });
  const uninstall = installSignals({
    stop() {
      stopAsked = true;
      if (ready) void cleanup().then(() => finish(0), () => finish(1));
    },
    reload() {},
    dumpData() {
      if (daemon) process.stdout.write(`data dump: ${daemon.dumpData()}\n`);
    },
    dumpStats() {
      if (daemon) process.stdout.write(`stats dump: ${daemon.dumpStats()}\n`);
    },
  });

  try {
    const names = ['rs1', 'rs2', 'rs3'];
    for (let i = 0; i < names.length; i++) realServers.push(await startRealServer(names[i], args.port + 1 + i));

    // The same command line bin/keepvs would get.
    const argv = ['-l', '--control', socketPath, '--pid', join(dir, 'keepvs.pid'), '--dump-dir', dir, '--grace', '1',
      ...(args.apiPort === null ? [] : ['--api', `${HOST}:${args.apiPort}`])];
    const inv = parseDaemonArgs(argv);
    if (inv.kind !== 'run') throw new Error(`internal: demo argv not accepted: ${JSON.stringify(inv)}`);
    const log = createLogger({ console: true, detail: false });
    daemon = await startDaemon({
      options: inv.options, log, notifier: createSdNotifier(process.env, (m) => log.warn(m)), createPlane, apiToken: token,
    });

    const service = { protocol: 'tcp', vip: HOST, port: args.port };
    const add = await api(socketPath, 'POST', '/v1/services', {
      service, options: { scheduler: args.scheduler, persistent: null, netmask: null, pe: null, ops: false, schedFlags: [] },
    });
    if (add.status !== 201) throw new Error(`adding the virtual service failed: ${add.json?.error?.message ?? JSON.stringify(add.json)}`);
    for (let i = 0; i < names.length; i++) {
      const r = await api(socketPath, 'POST', '/v1/dests', {
        service, dest: { addr: HOST, port: args.port + 1 + i, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: null },
      });
      if (r.status !== 201) throw new Error(`adding ${names[i]} failed: ${r.json?.error?.message ?? JSON.stringify(r.json)}`);
    }
  } catch (e) {
    uninstall();
    process.stderr.write(`keepvs demo: ${e instanceof StartError ? e.message : (e as Error).message}\n`);
    await cleanup();
    return 1;
  }
  if (stopAsked) {
    uninstall();
    await cleanup();
    return 0;
  }

  const bin = relative(process.cwd(), join(import.meta.dirname, '..', '..', 'bin')) || '.';
  const s = (p: number): string => `${HOST}:${p}`;
  process.stdout.write([
    '',
    `keepvs demo: a balancer on ${s(args.port)} (${args.scheduler}) over three real servers`,
    '',
    `  TCP  ${s(args.port)} ${args.scheduler}`,
    `    -> ${s(args.port + 1)}  rs1   Masq  weight 1`,
    `    -> ${s(args.port + 2)}  rs2   Masq  weight 1`,
    `    -> ${s(args.port + 3)}  rs3   Masq  weight 1`,
    '',
    'Try:',
    `  curl http://${s(args.port)}/`,
    `  for i in 1 2 3 4 5 6; do curl -s http://${s(args.port)}/; done`,
    `  KEEPVS_SOCKET=${socketPath} ${bin}/keepvsadm -L -n`,
    `  KEEPVS_SOCKET=${socketPath} ${bin}/keepvsadm -e -t ${s(args.port)} -r ${s(args.port + 2)} -m -w 0   # drain rs2`,
    `  curl --unix-socket ${socketPath} http://keepvs/metrics`,
    `  curl --unix-socket ${socketPath} http://keepvs/v1/services`,
    ...(args.apiPort === null ? [] : [`  curl -H 'Authorization: Bearer ${token}' http://${s(args.apiPort)}/metrics`]),
    `  kill -USR1 ${process.pid}   # data dump to ${join(dir, 'keepvs.data')}`,
    '',
    'Ctrl-C stops the balancer and the real servers.',
    '',
  ].join('\n'));

  ready = true;
  const code = await finished;
  uninstall();
  return code;
}

process.exitCode = await main();
process.exit();
