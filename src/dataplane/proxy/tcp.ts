// The TCP engine on public node:net Sockets: the portable one, used when the libuv handles the fast
// engine needs (tcp-handles.ts) are not reachable, or when asked for (tcpEngine: 'sockets').
// Reads use `onread` with a buffer per socket where Node allows it, so nothing is allocated per
// chunk; backpressure stops reading a side until the other side has flushed; half-close is passed
// through (allowHalfOpen, end() on the other side at EOF).
import * as net from 'node:net';
import type { Addr } from '../../core/addr.ts';
import type { Flow } from '../../core/director.ts';
import type { PlaneContext } from './plane-context.ts';
import { type Admission, TcpSession, acceptedFlow, admitTcp } from './tcp-session.ts';

const kSession: unique symbol = Symbol('keepvs.tcpSession');
type SessionSocket = net.Socket & { [kSession]?: SocketSession };

/** The libuv TCP handle net.Server hands to its accept callback (node:net internals, see listener.ts). */
export interface RawTcpHandle {
  getpeername(out: { address?: string; port?: number; family?: string }): number;
  reset?(cb: () => void): number;
  close(cb?: () => void): void;
}

/** Accept a raw handle into a Socket with an `onread` buffer (the handle hook without the fast engine). */
export function acceptTcpHandleAsSocket(ctx: PlaneContext, vaddr: Addr, vport: number, handle: RawTcpHandle): void {
  const flow = acceptedFlow(ctx, vaddr, vport, handle);
  if (flow === null) return;
  const now = ctx.clock();
  const a = admitTcp(ctx, flow, now);
  if (typeof a === 'string') {
    ctx.drop(a);
    // A reset, the user-space stand-in for the kernel's ICMP port unreachable.
    if (handle.reset) handle.reset(noop);
    else handle.close();
    return;
  }
  const cbuf = ctx.buffers.take();
  const client = new net.Socket({
    handle, allowHalfOpen: true, pauseOnCreate: true, readable: true, writable: true,
    onread: { buffer: cbuf, callback: onClientRead },
  } as unknown as net.SocketConstructorOpts) as SessionSocket;
  start(new SocketSession(ctx, client, cbuf, flow, a, now));
}

/** Accept path through net.Server's 'connection' event (used when the handle hook is unavailable). */
export function acceptTcpSocket(ctx: PlaneContext, vaddr: Addr, vport: number, socket: net.Socket): void {
  const client = socket as SessionSocket;
  const caddr = client.remoteAddress !== undefined ? ctx.addrOf(client.remoteAddress) : null;
  if (caddr === null || client.remotePort === undefined) {
    ctx.drop('client-gone');
    client.destroy();
    return;
  }
  const flow: Flow = { protocol: 'tcp', caddr, cport: client.remotePort, vaddr, vport };
  const now = ctx.clock();
  const a = admitTcp(ctx, flow, now);
  if (typeof a === 'string') {
    ctx.drop(a);
    client.on('error', noop);
    client.resetAndDestroy();
    return;
  }
  client.on('data', onClientData);
  start(new SocketSession(ctx, client, null, flow, a, now));
}

function start(s: SocketSession): void {
  const client = s.client;
  client[kSession] = s;
  client.setNoDelay(true);
  client.on('error', onClientError);
  client.on('end', onClientEnd);
  client.on('close', onClientClose);
  let server: SessionSocket;
  try {
    server = net.connect({
      host: s.conn.daddr.text, port: s.conn.dport, allowHalfOpen: true, noDelay: true,
      onread: { buffer: s.sbuf, callback: onServerRead },
    }) as SessionSocket;
  } catch {
    s.serverClosed = true;
    s.abort('rs-error', 'rst', 'output');
    return;
  }
  server[kSession] = s;
  s.server = server;
  server.on('connect', onServerConnect);
  server.on('error', onServerError);
  server.on('end', onServerEnd);
  server.on('close', onServerClose);
}

class SocketSession extends TcpSession {
  readonly client: SessionSocket;
  server: SessionSocket | undefined;
  readonly cbuf: Buffer | null;
  readonly sbuf: Buffer;
  clientClosed = false;
  serverClosed = false;
  /** Reading from that side is stopped until the other side has flushed what it got. */
  clientStalled = false;
  serverStalled = false;
  readonly afterServerWrite: () => void;
  readonly afterClientWrite: () => void;

  constructor(ctx: PlaneContext, client: SessionSocket, cbuf: Buffer | null, flow: Flow, a: Admission, now: number) {
    super(ctx, flow, a, now);
    this.client = client;
    this.cbuf = cbuf;
    this.sbuf = ctx.buffers.take();
    // Two closures per connection (not per chunk): write callbacks that restart a stalled reader.
    this.afterServerWrite = () => {
      if (this.clientStalled && this.server !== undefined && this.server.writableLength === 0) {
        this.clientStalled = false;
        if (!this.client.destroyed) this.client.resume();
      }
    };
    this.afterClientWrite = () => {
      if (this.serverStalled && this.client.writableLength === 0) {
        this.serverStalled = false;
        if (this.server !== undefined && !this.server.destroyed) this.server.resume();
      }
    };
  }

  get finished(): boolean {
    return this.clientClosed && this.serverClosed;
  }

  protected resetBoth(): void {
    resetSocket(this.client);
    resetSocket(this.server);
  }

  finish(): void {
    this.ctx.tcpSessions.delete(this);
    if (this.cbuf !== null) this.ctx.buffers.give(this.cbuf);
    this.ctx.buffers.give(this.sbuf);
  }
}

function resetSocket(s: net.Socket | undefined): void {
  if (s === undefined || s.destroyed) return;
  // resetAndDestroy waits for 'connect' on a connecting socket; a plain destroy aborts the SYN.
  // While our FIN is still being sent (end() called, shutdown not yet done) libuv refuses to reset
  // (uv_tcp_close_reset: EINVAL with a pending shutdown) and node:net then drops the handle without
  // closing it, leaking the socket: close that one normally instead.
  if (s.connecting || (s.writableEnded && !s.writableFinished)) s.destroy();
  else s.resetAndDestroy();
}

function noop(): void {}

// ---------------------------------------------------------------- data, both ways

function onClientRead(this: SessionSocket, n: number, buf: Buffer): boolean {
  const s = this[kSession]!;
  const server = s.server!;
  server.write(n === buf.length ? buf : buf.subarray(0, n), s.afterServerWrite);
  s.data('input', n);
  // A write the kernel did not take whole still points into buf: stop reading into it until it is flushed.
  if (server.writableLength !== 0) {
    s.clientStalled = true;
    return false;
  }
  return true;
}

function onServerRead(this: SessionSocket, n: number, buf: Buffer): boolean {
  const s = this[kSession]!;
  const client = s.client;
  client.write(n === buf.length ? buf : buf.subarray(0, n), s.afterClientWrite);
  s.data('output', n);
  if (client.writableLength !== 0) {
    s.serverStalled = true;
    return false;
  }
  return true;
}

/** The 'data' path, for client sockets accepted without the handle hook. */
function onClientData(this: SessionSocket, chunk: Buffer): void {
  const s = this[kSession]!;
  const server = s.server!;
  server.write(chunk, s.afterServerWrite);
  s.data('input', chunk.length);
  if (server.writableLength !== 0) {
    s.clientStalled = true;
    this.pause();
  }
}

// ---------------------------------------------------------------- real server side

function onServerConnect(this: SessionSocket): void {
  const s = this[kSession]!;
  s.connected();
  if (s.header !== null) this.write(s.header);
  // The client is read only now, so the PROXY header is the first thing the real server gets.
  if (!s.client.destroyed) s.client.resume();
}

function onServerError(this: SessionSocket, err: NodeJS.ErrnoException): void {
  this[kSession]!.sideError(true, err.code);
}

function onServerEnd(this: SessionSocket): void {
  const s = this[kSession]!;
  s.serverEnded();
  if (!s.client.destroyed) s.client.end();
}

function onServerClose(this: SessionSocket): void {
  const s = this[kSession]!;
  s.serverClosed = true;
  if (!s.clientClosed) {
    // The server side is gone without a FIN or an error path: the client cannot be served any more.
    if (!s.serverFin && !s.client.destroyed) s.abort('rs-error', 'rst', 'output');
    return;
  }
  s.finish();
}

// ---------------------------------------------------------------- client side

function onClientError(this: SessionSocket, err: NodeJS.ErrnoException): void {
  this[kSession]!.sideError(false, err.code);
}

function onClientEnd(this: SessionSocket): void {
  const s = this[kSession]!;
  s.clientEnded();
  if (s.server !== undefined && !s.server.destroyed) s.server.end();
}

function onClientClose(this: SessionSocket): void {
  const s = this[kSession]!;
  s.clientClosed = true;
  if (!s.serverClosed) {
    if (!s.clientFin && s.server !== undefined && !s.server.destroyed) s.abort('client-error', 'rst', 'input');
    return;
  }
  s.finish();
}
