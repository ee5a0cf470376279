// The fast TCP engine: libuv TCP handles driven directly, without net.Socket and streams.
//
// Why: with connection churn a node:net proxy spends about as much CPU in JavaScript (Socket and
// Duplex construction, Writable end/final/destroy bookkeeping, event emission, nextTicks) as the
// kernel spends on the connection itself; measured on loopback with Connection: close, ~140 µs of
// CPU per proxied connection against ~95 µs with handles driven directly (HAProxy: ~78 µs).
// What it uses: the `tcp_wrap` and `stream_wrap` bindings through process.binding() (documented as
// deprecated, DEP0111, but kept for compatibility and unchanged for years): TCP (accept, connect,
// readStart/readStop, a user read buffer, writeBuffer, shutdown, close, reset), TCPConnectWrap,
// WriteWrap, ShutdownWrap and streamBaseState (bytes read, whether a write went asynchronous).
// If any of it is missing, tcpHandlesAvailable() says so and the plane uses tcp.ts instead.
//
// Per connection: two handles, two read buffers from the pool (libuv reads straight into them), no
// closures. Each side starts on a small buffer and moves to a full one the first time a read fills
// it (the read callback returns the new buffer, which is how node's user-buffer reads take the next
// one); the small one stays with the session until it ends, since a queued write may point into it.
// A read is written to the other side at once from the same buffer: if the kernel takes
// it whole (the usual case) nothing is retained; if not, libuv keeps the rest queued, reading from
// that side stops until the write completes (so the buffer is not overwritten), and the one shared
// WriteWrap stays with libuv (a new one takes its place: a request object cannot be reused once
// libuv holds it). An EOF from one side becomes shutdown(SHUT_WR) on the other once its queued
// writes are out; a side is closed once its FIN has been read and ours has gone to it (when it had
// already ended and nothing is queued for it, close() alone sends our FIN). Handles are closed
// without a close callback: libuv closes the descriptor inside uv_close() itself (the callback only
// frees the handle later), and after close no read or write touches a buffer any more, so a session
// returns its buffers as soon as both of its handles are closed — two JavaScript calls fewer per
// connection.
import { constants as osConstants } from 'node:os';
import type { Addr } from '../../core/addr.ts';
import type { Flow } from '../../core/director.ts';
import type { PlaneContext } from './plane-context.ts';
import { type Admission, TcpSession, acceptedFlow, admitTcp } from './tcp-session.ts';
import type { RawTcpHandle } from './tcp.ts';
import { ACCEPTED_INHERIT_NODELAY } from './listener.ts';

const kSession: unique symbol = Symbol('keepvs.tcpSession');

interface TcpHandle {
  readStart(): number;
  readStop(): number;
  useUserBuffer(b: Uint8Array): void;
  writeBuffer(req: WriteReq, b: Uint8Array): number;
  shutdown(req: ShutdownReq): number;
  close(): void;
  reset(): number;
  setNoDelay(on: boolean): number;
  getpeername(out: { address?: string; port?: number; family?: string }): number;
  connect(req: ConnectReq, ip: string, port: number): number;
  connect6(req: ConnectReq, ip: string, port: number): number;
  /** Returning a Buffer makes it the buffer of the next reads (node's CustomBufferJSListener). */
  onread: ((this: TcpHandle) => Buffer | undefined) | undefined;
  [kSession]?: HandleSession;
}

interface WriteReq {
  oncomplete: (this: WriteReq, status: number) => void;
  session?: HandleSession;
  /** Which handle the write went to. */
  toServer?: boolean;
  /** Keeps the written bytes reachable while libuv holds them. */
  buffer?: Uint8Array;
}

interface ShutdownReq {
  oncomplete: (this: ShutdownReq, status: number) => void;
  session?: HandleSession;
  toServer?: boolean;
}

interface ConnectReq {
  oncomplete: (this: ConnectReq, status: number) => void;
  session?: HandleSession;
}

interface Bindings {
  readonly TCP: new (type: number) => TcpHandle;
  readonly TCPConnectWrap: new () => ConnectReq;
  readonly WriteWrap: new () => WriteReq;
  readonly ShutdownWrap: new () => ShutdownReq;
  readonly SOCKET: number;
  readonly state: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kLastWriteWasAsync: number;
}

function loadBindings(): Bindings | null {
  try {
    const binding = (process as unknown as { binding?: (name: string) => Record<string, unknown> }).binding;
    if (typeof binding !== 'function') return null;
    const tcp = binding.call(process, 'tcp_wrap');
    const sw = binding.call(process, 'stream_wrap');
    const consts = tcp.constants as Record<string, number> | undefined;
    const state = sw.streamBaseState;
    if (typeof tcp.TCP !== 'function' || typeof tcp.TCPConnectWrap !== 'function' || typeof sw.WriteWrap !== 'function'
      || typeof sw.ShutdownWrap !== 'function' || !(state instanceof Int32Array) || typeof consts?.SOCKET !== 'number'
      || typeof sw.kReadBytesOrError !== 'number' || typeof sw.kLastWriteWasAsync !== 'number') return null;
    const TCP = tcp.TCP as Bindings['TCP'];
    const proto = TCP.prototype as unknown as Record<string, unknown>;
    for (const m of ['readStart', 'readStop', 'useUserBuffer', 'writeBuffer', 'shutdown', 'close', 'reset', 'setNoDelay', 'getpeername', 'connect', 'connect6']) {
      if (typeof proto[m] !== 'function') return null;
    }
    return {
      TCP, TCPConnectWrap: tcp.TCPConnectWrap as Bindings['TCPConnectWrap'],
      WriteWrap: sw.WriteWrap as Bindings['WriteWrap'], ShutdownWrap: sw.ShutdownWrap as Bindings['ShutdownWrap'],
      SOCKET: consts.SOCKET, state, kReadBytesOrError: sw.kReadBytesOrError as number,
      kLastWriteWasAsync: sw.kLastWriteWasAsync as number,
    };
  } catch {
    return null;
  }
}

const B = loadBindings();

/** Whether this Node exposes what the fast engine needs. */
export function tcpHandlesAvailable(): boolean {
  return B !== null;
}

/** libuv reports errors as negative errno values; UV_EOF is its own. */
const UV_EOF = -4095;
const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, v]) => [-v, name]));

function errName(status: number): string | undefined {
  return ERRNO_NAMES.get(status);
}

/** The WriteWrap used for the next write; replaced whenever libuv keeps one (asynchronous write). */
let spareWrite: WriteReq | null = null;

function writeReq(): WriteReq {
  if (spareWrite === null) {
    spareWrite = new B!.WriteWrap();
    spareWrite.oncomplete = onWriteDone;
  }
  return spareWrite;
}

const OPEN = 0;
const CLOSED = 2;

class HandleSession extends TcpSession {
  readonly c: TcpHandle;
  readonly s: TcpHandle;
  /** The buffer each side is read into now. */
  cbuf: Buffer;
  sbuf: Buffer;
  /** The small buffer a side started on, kept after it moved to a full one (returned at the end). */
  cSmall: Buffer | null = null;
  sSmall: Buffer | null = null;
  cState = OPEN;
  sState = OPEN;
  /** Our FIN toward that side: 0 not asked, 1 pending (uv_shutdown), 2 sent, 3 deferred (finTo). */
  cShut = 0;
  sShut = 0;
  /** Reading from that side is stopped until its last read has been written out. */
  cStalled = false;
  sStalled = false;
  /** Writes libuv still holds for that side. */
  toClientPending = 0;
  toServerPending = 0;
  /** The connection to the real server was made (its handle has a connected socket). */
  serverUp = false;

  constructor(ctx: PlaneContext, c: TcpHandle, flow: Flow, a: Admission, now: number) {
    super(ctx, flow, a, now);
    this.c = c;
    this.s = new B!.TCP(B!.SOCKET);
    this.cbuf = ctx.buffers.takeSmall();
    this.sbuf = ctx.buffers.takeSmall();
    c[kSession] = this;
    this.s[kSession] = this;
  }

  get finished(): boolean {
    return this.cState === CLOSED && this.sState === CLOSED;
  }

  start(): void {
    const c = this.c;
    const s = this.s;
    if (!ACCEPTED_INHERIT_NODELAY) c.setNoDelay(true);
    c.onread = onClientRead;
    c.useUserBuffer(this.cbuf);
    s.setNoDelay(true);
    s.onread = onServerRead;
    s.useUserBuffer(this.sbuf);
    const req = new B!.TCPConnectWrap();
    req.oncomplete = onConnect;
    req.session = this;
    const ip = this.conn.daddr.text;
    const port = this.conn.dport;
    const err = this.conn.daddr.family === 6 ? s.connect6(req, ip, port) : s.connect(req, ip, port);
    if (err !== 0) this.connectFailed(errName(err));
  }

  /** Write n bytes of `buf` (read from the other side) to `to`; stop reading the source if it queues. */
  forward(to: TcpHandle, toServer: boolean, buf: Buffer, n: number): void {
    const req = writeReq();
    const view = n === buf.length ? buf : buf.subarray(0, n);
    const err = to.writeBuffer(req, view);
    if (err !== 0) {
      this.sideFailed(toServer, err);
      return;
    }
    if (B!.state[B!.kLastWriteWasAsync] !== 0) {
      spareWrite = null;
      req.session = this;
      req.toServer = toServer;
      req.buffer = view;
      if (toServer) {
        this.toServerPending++;
        this.cStalled = true;
        this.c.readStop();
      } else {
        this.toClientPending++;
        this.sStalled = true;
        this.s.readStop();
      }
    }
  }

  /**
   * One side sent its FIN: the other side is owed ours. If that side has ended too and nothing is
   * queued for it, close() sends the FIN and saves a shutdown(2); otherwise shutdown(SHUT_WR) once
   * its queued writes are out, and close it when both FINs have passed (settle()).
   *
   * With nothing queued, the decision waits for the end of this event-loop turn (deferFin): the
   * other side's FIN often arrives in the same batch of events (an HTTP client closing as soon as
   * the answer is complete, a server closing after it), and then one close() replaces
   * shutdown(2), the ShutdownWrap, an extra epoll round for POLLOUT and its callback. What the
   * peer receives is the same: all data, then our FIN.
   */
  finTo(toServer: boolean): void {
    const ended = toServer ? this.serverFin : this.clientFin;
    const pending = toServer ? this.toServerPending : this.toClientPending;
    if (ended && pending === 0) {
      if (toServer) this.sShut = 2;
      else this.cShut = 2;
      closeHandle(toServer ? this.s : this.c, this, toServer, false);
    } else if (pending === 0) {
      if (toServer) this.sShut = 3;
      else this.cShut = 3;
      deferFin(this);
    } else {
      this.shutdown(toServer);
    }
  }

  /** At the end of the loop turn: the deferred FINs (finTo) go out by close() or shutdown(). */
  flushFins(): void {
    if (this.cShut === 3) {
      this.cShut = 0;
      if (this.cState === OPEN && !this.aborted) {
        if (this.clientFin && this.toClientPending === 0) {
          this.cShut = 2;
          closeHandle(this.c, this, false, false);
        } else {
          this.shutdown(false);
        }
      }
    }
    if (this.sShut === 3) {
      this.sShut = 0;
      if (this.sState === OPEN && !this.aborted) {
        if (this.serverFin && this.toServerPending === 0) {
          this.sShut = 2;
          closeHandle(this.s, this, true, false);
        } else {
          this.shutdown(true);
        }
      }
    }
  }

  /** Our FIN toward one side, once what is queued for it is out (uv_shutdown waits for writes). */
  shutdown(toServer: boolean): void {
    const h = toServer ? this.s : this.c;
    if ((toServer ? this.sState : this.cState) !== OPEN) return;
    const req = new B!.ShutdownWrap();
    req.oncomplete = onShutdownDone;
    req.session = this;
    req.toServer = toServer;
    if (toServer) this.sShut = 1;
    else this.cShut = 1;
    const err = h.shutdown(req);
    if (err !== 0) this.sideFailed(toServer, err);
  }

  /** A side failed (read, write or shutdown error): count it, reset both. */
  sideFailed(server: boolean, status: number): void {
    this.sideError(server, errName(status));
  }

  /** A side whose FIN we have read and which has ours is done: close it normally. */
  settle(): void {
    if (this.clientFin && this.cShut === 2) closeHandle(this.c, this, false, false);
    if (this.serverFin && this.sShut === 2) closeHandle(this.s, this, true, false);
  }

  protected resetBoth(): void {
    closeHandle(this.c, this, false, true);
    closeHandle(this.s, this, true, true);
  }

  /**
   * A read filled a side's small buffer: later reads of that side go to a full one (returned to
   * libuv by the read callback). Reads that fill a full buffer need nothing.
   */
  grow(server: boolean): Buffer | undefined {
    const pool = this.ctx.buffers;
    if (server) {
      if (this.sSmall !== null || this.sbuf.length >= pool.size) return undefined;
      this.sSmall = this.sbuf;
      this.sbuf = pool.take();
      return this.sbuf;
    }
    if (this.cSmall !== null || this.cbuf.length >= pool.size) return undefined;
    this.cSmall = this.cbuf;
    this.cbuf = pool.take();
    return this.cbuf;
  }

  /** Both handles are closed: nothing refers to the buffers any more. */
  release(): void {
    const pool = this.ctx.buffers;
    this.ctx.tcpSessions.delete(this);
    pool.give(this.cbuf);
    pool.give(this.sbuf);
    if (this.cSmall !== null) pool.give(this.cSmall);
    if (this.sSmall !== null) pool.give(this.sSmall);
  }
}

/** Sessions with a deferred FIN, flushed once per event-loop turn (setImmediate runs after the poll phase). */
const finQueue: HandleSession[] = [];
let finFlushScheduled = false;

function deferFin(s: HandleSession): void {
  finQueue.push(s);
  if (!finFlushScheduled) {
    finFlushScheduled = true;
    setImmediate(flushFinQueue);
  }
}

function flushFinQueue(): void {
  finFlushScheduled = false;
  // Index loop: a session deferred while flushing (none today) is flushed in this pass too.
  for (let i = 0; i < finQueue.length; i++) finQueue[i].flushFins();
  finQueue.length = 0;
}

/** Accept a connection on the fast engine (the handle comes from the listener's accept hook). */
export function acceptTcpHandleFast(ctx: PlaneContext, vaddr: Addr, vport: number, handle: RawTcpHandle): void {
  const h = handle as unknown as TcpHandle;
  const flow = acceptedFlow(ctx, vaddr, vport, h);
  if (flow === null) return;
  const now = ctx.clock();
  const a = admitTcp(ctx, flow, now);
  if (typeof a === 'string') {
    ctx.drop(a);
    // A reset, the user-space stand-in for the kernel's ICMP port unreachable.
    h.reset();
    return;
  }
  new HandleSession(ctx, h, flow, a, now).start();
}

function closeHandle(h: TcpHandle, s: HandleSession, server: boolean, reset: boolean): void {
  if ((server ? s.sState : s.cState) !== OPEN) return;
  if (server) s.sState = CLOSED;
  else s.cState = CLOSED;
  // uv_tcp_close_reset refuses while our FIN is pending (EINVAL) or without a socket, and node's
  // TCPWrap::Reset marks the handle closing even then, so a close() after a failed reset would do
  // nothing and leak the socket: reset only when it cannot fail, close normally otherwise.
  const canReset = reset && (server ? s.serverUp && s.sShut !== 1 : s.cShut !== 1);
  if (canReset) h.reset();
  else h.close();
  if (s.cState === CLOSED && s.sState === CLOSED) s.release();
}

// ---------------------------------------------------------------- libuv callbacks (this = handle or request)

function onConnect(this: ConnectReq, status: number): void {
  const s = this.session!;
  if (s.aborted) return;
  if (status < 0) {
    s.connectFailed(errName(status));
    return;
  }
  s.serverUp = true;
  s.connected();
  if (s.header !== null) {
    const req = writeReq();
    const err = s.s.writeBuffer(req, s.header);
    if (err !== 0) {
      s.sideFailed(true, err);
      return;
    }
    if (B!.state[B!.kLastWriteWasAsync] !== 0) {
      spareWrite = null;
      req.session = s;
      req.toServer = true;
      req.buffer = s.header;
      s.toServerPending++;
    }
  }
  // The client is read only now, so the PROXY header is the first thing the real server gets.
  s.c.readStart();
  s.s.readStart();
}

function onClientRead(this: TcpHandle): Buffer | undefined {
  const s = this[kSession]!;
  const n = B!.state[B!.kReadBytesOrError];
  if (n > 0) {
    const buf = s.cbuf;
    s.forward(s.s, true, buf, n);
    s.data('input', n);
    if (n === buf.length && s.cState === OPEN) return s.grow(false);
  } else if (n === UV_EOF) {
    s.clientEnded();
    s.finTo(true);
    s.settle();
  } else if (n < 0) {
    s.sideFailed(false, n);
  }
  return undefined;
}

function onServerRead(this: TcpHandle): Buffer | undefined {
  const s = this[kSession]!;
  const n = B!.state[B!.kReadBytesOrError];
  if (n > 0) {
    const buf = s.sbuf;
    s.forward(s.c, false, buf, n);
    s.data('output', n);
    if (n === buf.length && s.sState === OPEN) return s.grow(true);
  } else if (n === UV_EOF) {
    s.serverEnded();
    s.finTo(false);
    s.settle();
  } else if (n < 0) {
    s.sideFailed(true, n);
  }
  return undefined;
}

function onWriteDone(this: WriteReq, status: number): void {
  const s = this.session;
  if (s === undefined || s.aborted) return;
  const toServer = this.toServer === true;
  if (toServer) s.toServerPending--;
  else s.toClientPending--;
  if (status < 0) {
    s.sideFailed(toServer, status);
    return;
  }
  // The source's buffer is free again: read from that side once more.
  if (toServer) {
    if (s.cStalled) {
      s.cStalled = false;
      if (s.cState === OPEN && !s.clientFin) s.c.readStart();
    }
  } else if (s.sStalled) {
    s.sStalled = false;
    if (s.sState === OPEN && !s.serverFin) s.s.readStart();
  }
}

function onShutdownDone(this: ShutdownReq, status: number): void {
  const s = this.session!;
  if (s.aborted) return;
  const toServer = this.toServer === true;
  if (status < 0) {
    s.sideFailed(toServer, status);
    return;
  }
  if (toServer) s.sShut = 2;
  else s.cShut = 2;
  s.settle();
}

