// Shared pieces of the proxy-plane integration tests: real sockets on 127.0.0.1 only, every socket,
// server and plane tracked so close() tears all of it down even when a test fails, and every wait
// bounded in time.
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { Director } from '../../src/core/director.ts';
import { addr } from '../../src/core/addr.ts';
import type { Dest } from '../../src/core/dest.ts';
import type { ServiceKey, ServiceOptions } from '../../src/core/service.ts';
import type { SchedulerName } from '../../src/core/sched/scheduler.ts';
import { ProxyPlane, type ProxyPlaneOptions, type TcpEngineName } from '../../src/dataplane/proxy/plane.ts';

export const LOOPBACK = addr('127.0.0.1');

/** Reject if `p` has not settled within `ms` (every wait in these tests is bounded). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Poll `cond` every 5 ms, at most `ms` (for state that settles on the next loop turns). */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function serviceOptions(scheduler: SchedulerName, over: Partial<ServiceOptions> = {}): ServiceOptions {
  return { scheduler, flags: 0, timeout: 360, netmask: 0xffffffff, pe: null, ...over };
}

export interface Backend {
  readonly id: string;
  readonly port: number;
  /** Connections the backend has accepted and not yet seen close. */
  readonly open: Set<net.Socket>;
  accepted: number;
}

/** What a TCP backend does with a connection. */
export type BackendBehaviour = (socket: net.Socket, id: string) => void;

/** Greets with "<id>\n", then echoes every chunk; ends when the client ends. */
export const greetAndEcho: BackendBehaviour = (s, id) => {
  s.write(`${id}\n`);
  s.on('data', (d) => s.write(d));
  s.on('end', () => s.end());
};

export class Harness {
  readonly #servers: net.Server[] = [];
  readonly #udp: dgram.Socket[] = [];
  readonly #clients = new Set<net.Socket>();
  readonly #backendSockets = new Set<net.Socket>();
  readonly #planes: ProxyPlane[] = [];
  /** The fake clock every plane and director call in a test uses. */
  now = 1_000_000;
  readonly tcpEngine: TcpEngineName;

  constructor(tcpEngine: TcpEngineName = 'handles') {
    this.tcpEngine = tcpEngine;
  }

  director(seed = 1): Director {
    return new Director({ seed });
  }

  plane(opts: ProxyPlaneOptions = {}): ProxyPlane {
    // The sweep timer is pushed out of the way: tests drive time with plane.sweep().
    const p = new ProxyPlane({ clock: () => this.now, sweepIntervalMs: 3_600_000, tcpEngine: this.tcpEngine, ...opts });
    this.#planes.push(p);
    return p;
  }

  async freePort(): Promise<number> {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }

  async backend(id: string, behaviour: BackendBehaviour = greetAndEcho, opts: { allowHalfOpen?: boolean } = {}): Promise<Backend> {
    const open = new Set<net.Socket>();
    const b: { id: string; port: number; open: Set<net.Socket>; accepted: number } = { id, port: 0, open, accepted: 0 };
    const server = net.createServer({ allowHalfOpen: opts.allowHalfOpen ?? false }, (s) => {
      b.accepted++;
      open.add(s);
      this.#backendSockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => { open.delete(s); this.#backendSockets.delete(s); });
      behaviour(s, id);
    });
    this.#servers.push(server);
    await within(new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r())), 2000, 'backend listen');
    b.port = (server.address() as net.AddressInfo).port;
    return b;
  }

  async udpBackend(id: string): Promise<{ port: number; seen: { from: string; data: string }[] }> {
    const sock = dgram.createSocket('udp4');
    const seen: { from: string; data: string }[] = [];
    sock.on('message', (m, r) => {
      seen.push({ from: `${r.address}:${r.port}`, data: m.toString('latin1') });
      sock.send(Buffer.concat([Buffer.from(`${id}:`), m]), r.port, r.address);
    });
    this.#udp.push(sock);
    await within(new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r())), 2000, 'udp backend bind');
    return { port: sock.address().port, seen };
  }

  async udpClient(): Promise<dgram.Socket> {
    const sock = dgram.createSocket('udp4');
    this.#udp.push(sock);
    await within(new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r())), 2000, 'udp client bind');
    return sock;
  }

  /** Send one datagram and wait for one reply. */
  async udpAsk(sock: dgram.Socket, port: number, data: string): Promise<{ data: string; from: string }> {
    return within(new Promise((resolve) => {
      sock.once('message', (m, r) => resolve({ data: m.toString('latin1'), from: `${r.address}:${r.port}` }));
      sock.send(data, port, '127.0.0.1');
    }), 3000, `udp reply to ${data}`);
  }

  /** A client socket through the plane (tracked for teardown); resolves once connected. */
  async connect(port: number, localAddress?: string, opts: { allowHalfOpen?: boolean } = {}): Promise<net.Socket> {
    const s = this.rawConnect(port, localAddress, opts);
    await within(new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('error', reject);
    }), 3000, `connect to ${port}`);
    return s;
  }

  /** A tracked client socket, not yet connected (for clients that may be reset during connect). */
  rawConnect(port: number, localAddress?: string, opts: { allowHalfOpen?: boolean } = {}): net.Socket {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: opts.allowHalfOpen ?? false, ...(localAddress ? { localAddress } : {}) });
    this.#clients.add(s);
    s.on('close', () => this.#clients.delete(s));
    return s;
  }

  /** Connect and read the backend's greeting line (its id); the socket stays open. */
  async greet(port: number, localAddress?: string): Promise<{ id: string; socket: net.Socket }> {
    const s = await this.connect(port, localAddress);
    const id = await within(readLine(s), 3000, 'greeting');
    return { id, socket: s };
  }

  /** Connect, read the greeting, close cleanly and wait for the close. */
  async greetOnce(port: number, localAddress?: string): Promise<string> {
    const { id, socket } = await this.greet(port, localAddress);
    await closeClient(socket);
    return id;
  }

  async close(): Promise<void> {
    for (const s of this.#clients) s.destroy();
    for (const s of this.#backendSockets) s.destroy();
    await Promise.all(this.#planes.map((p) => within(p.stop(0), 3000, 'plane stop').catch(() => undefined)));
    await Promise.all(this.#servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (const u of this.#udp) {
      try { u.close(); } catch { /* already closed */ }
    }
  }
}

/** The first line the socket receives (without the newline); the rest stays unread. */
export function readLine(s: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      const i = buf.indexOf('\n');
      if (i >= 0) {
        s.off('data', onData);
        s.pause();
        // Anything after the line is put back for later readers.
        if (i + 1 < buf.length) s.unshift(Buffer.from(buf.slice(i + 1), 'latin1'));
        resolve(buf.slice(0, i));
      }
    };
    s.on('data', onData);
    s.once('error', reject);
    s.once('end', () => reject(new Error(`ended before a line (got ${JSON.stringify(buf)})`)));
  });
}

/** Everything until the peer ends. */
export function readAll(s: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    s.on('data', (d: Buffer) => { buf += d.toString('latin1'); });
    s.once('end', () => resolve(buf));
    s.once('error', reject);
    s.resume();
  });
}

/** end() and wait until the socket has fully closed (the proxy echoes the FIN back). */
export async function closeClient(s: net.Socket): Promise<void> {
  if (s.destroyed) return;
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  s.resume();
  s.end();
  await within(closed, 3000, 'client close');
}

/** How a client socket ended: 'reset' (ECONNRESET), 'end' (clean FIN) or another error code. */
export function outcome(s: net.Socket): Promise<string> {
  return within(new Promise((resolve) => {
    let result = 'end';
    s.on('error', (e: NodeJS.ErrnoException) => { result = e.code === 'ECONNRESET' ? 'reset' : (e.code ?? 'error'); });
    s.on('close', () => resolve(result));
    s.resume();
  }), 3000, 'client outcome');
}

export function tcpKey(port: number): ServiceKey {
  return { kind: 'addr', protocol: 'tcp', vip: LOOPBACK, port };
}

export function udpKey(port: number): ServiceKey {
  return { kind: 'addr', protocol: 'udp', vip: LOOPBACK, port };
}

/** Add a NAT dest on 127.0.0.1:port; throws on a refusal. */
export function addBackendDest(d: Director, key: ServiceKey, port: number, weight = 1, over: { uThreshold?: number; lThreshold?: number } = {}): Dest {
  const r = d.addDest(key, { addr: LOOPBACK, port, fwd: 'masq', weight, uThreshold: over.uThreshold ?? 0, lThreshold: over.lThreshold ?? 0 });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/**
 * The TCP engines to run a test on: all three where io_uring runs, else without 'uring' (the reason
 * printed once, as a skip).
 */
export async function tcpEngines(): Promise<TcpEngineName[]> {
  const probe = new ProxyPlane({ tcpEngine: 'uring' });
  const why = probe.engineFallback;
  await probe.stop(0);
  if (why === null) return ['uring', 'handles', 'sockets'];
  process.stdout.write(`# skipped: the uring engine's runs (${why})\n`);
  return ['handles', 'sockets'];
}
