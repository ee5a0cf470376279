// Real processes on loopback for the keepvs -f integration tests: bin/keepvs as a child process,
// bin/keepvsadm against its socket, HTTP real servers whose health answer can be switched (good,
// HTTP 500, a wrong body for the digest, too slow, stopped), TCP echo real servers, and bounded
// waits. Everything started here is registered for teardown.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { httpCall } from '../api/harness.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const KEEPVS = join(ROOT, 'bin', 'keepvs');
export const KEEPVSADM = join(ROOT, 'bin', 'keepvsadm');
/** Upper bound for any wait; a healthy run takes a fraction. Not a timing assertion. */
export const WAIT_MS = 20_000;

const cleanups: (() => void | Promise<void>)[] = [];

export async function teardown(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // Best effort: the rest must still go.
    }
  }
}

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keepvs-from-file-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A TCP port on 127.0.0.1 nobody listens on right now. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = WAIT_MS): Promise<T> {
  const end = Date.now() + ms;
  for (let i = 0; ; i++) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, Math.min(200, 20 * (i + 1))));
  }
}

export interface Keepvs {
  readonly child: ChildProcess;
  readonly socket: string;
  output(): string;
  /** Wait for a log line matching re, appearing after the first `after` characters of output. */
  waitFor(re: RegExp, after?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  /** keepvsadm with these arguments against this daemon: stdout. */
  adm(...args: string[]): Promise<string>;
  /** GET /v1/services: "VIP:port" -> dests "addr:port" -> weight. */
  table(): Promise<Map<string, Map<string, number>>>;
  metrics(): Promise<string>;
}

export function startKeepvs(dir: string, conf: string, extra: string[] = []): Keepvs {
  const socket = join(dir, 'keepvs.sock');
  const env = { ...process.env };
  delete env.NOTIFY_SOCKET;
  const child = spawn(KEEPVS, ['-l', '-D', '-f', conf, '--control', socket, '-p', join(dir, 'keepvs.pid'), '--dump-dir', dir, '--grace', '1', ...extra],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const k: Keepvs = {
    child, socket, exited,
    output: () => out,
    waitFor: (re, after = 0) => until(`${re} in the keepvs log`, async () => {
      if (child.exitCode !== null) throw new Error(`keepvs exited (${child.exitCode}) before ${re}:\n${out}`);
      return re.exec(out.slice(after));
    }).catch((e: Error) => { throw new Error(`${e.message}\n--- keepvs log ---\n${out}`); }),
    adm: (...args) => new Promise((res, rej) => {
      execFile(KEEPVSADM, args, { env: { ...process.env, KEEPVS_SOCKET: socket } }, (err, stdout, stderr) => {
        if (err) rej(new Error(`keepvsadm ${args.join(' ')}: ${err.message}\n${stderr}`));
        else res(stdout);
      });
    }),
    async table() {
      const r = await httpCall({ socketPath: socket }, 'GET', '/v1/services');
      const m = new Map<string, Map<string, number>>();
      for (const s of r.json.services as { vip: string; port: number; dests: { addr: string; port: number; weight: number }[] }[]) {
        m.set(`${s.vip}:${s.port}`, new Map(s.dests.map((d) => [`${d.addr}:${d.port}`, d.weight])));
      }
      return m;
    },
    async metrics() {
      return (await httpCall({ socketPath: socket }, 'GET', '/metrics')).text;
    },
  };
  return k;
}

/** What an HTTP real server answers on /health. */
export type HealthMode = 'good' | 'http-500' | 'wrong-body' | 'slow';
export const HEALTH_BODY = 'healthy\n';

export class HttpRealServer {
  readonly name: string;
  port = 0;
  mode: HealthMode = 'good';
  #server: http.Server | null = null;
  readonly #sockets = new Set<net.Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(name: string) {
    this.name = name;
    cleanups.push(() => this.stop());
  }

  async start(port = 0): Promise<this> {
    const server = http.createServer((req, res) => {
      if (req.url !== '/health') return void res.end(`hello from ${this.name}\n`);
      if (this.mode === 'http-500') {
        res.statusCode = 500;
        return void res.end('broken\n');
      }
      if (this.mode === 'wrong-body') return void res.end('not what the digest says\n');
      if (this.mode === 'slow') {
        const t = setTimeout(() => { this.#timers.delete(t); res.end(HEALTH_BODY); }, 3000);
        this.#timers.add(t);
        return;
      }
      res.end(HEALTH_BODY);
    });
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
    return this;
  }

  /** The process is gone: the listener closes and every connection is reset. */
  async stop(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    this.#server = null;
    for (const t of this.#timers) clearTimeout(t);
    for (const c of this.#sockets) c.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/** A TCP echo real server (for long-lived connections through the proxy). */
export async function echoServer(): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = (): void => {
    for (const s of sockets) s.destroy();
    server.close();
  };
  cleanups.push(close);
  return { port: (server.address() as net.AddressInfo).port, close };
}

/** A client connection kept open; `echo` sends a line and waits for it back. */
export async function longLived(port: number): Promise<{ echo(text: string): Promise<string>; close(): void }> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise<void>((r, j) => { sock.once('connect', r); sock.once('error', j); });
  cleanups.push(() => { sock.destroy(); });
  let buf = '';
  const waiting: (() => void)[] = [];
  sock.on('data', (b: Buffer) => {
    buf += b.toString();
    for (const w of waiting.splice(0)) w();
  });
  return {
    async echo(text: string) {
      buf = '';
      sock.write(`${text}\n`);
      return until(`the echo of ${text}`, async () => {
        if (sock.destroyed) throw new Error(`connection closed before the echo of ${text}`);
        return buf.includes('\n') ? buf.trim() : null;
      }, 5000);
    },
    close: () => sock.destroy(),
  };
}

/** One HTTP GET through the balancer: the body, or the error code. */
export function get(port: number, path = '/'): Promise<string> {
  return new Promise((res) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (r) => {
      let body = '';
      r.on('data', (b: Buffer) => { body += b.toString(); });
      r.on('end', () => res(body));
    });
    req.on('error', (e: NodeJS.ErrnoException) => res(`error ${e.code}`));
    req.setTimeout(5000, () => req.destroy());
  });
}
