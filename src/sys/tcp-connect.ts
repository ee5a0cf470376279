// Bare TCP connects (TCP_CHECK) and request/response exchanges (HTTP_GET) at scale, through koffi:
// socket(), connect(), readiness from one epoll set, send()/recv(). No net.Socket object, no libuv
// handle per check: at 10 000 checks a second the JavaScript side of Node's net module costs more
// CPU than the kernel's handshake. Also sets what Node's net cannot: SO_BINDTODEVICE (keepalived's
// bind_if) and SO_MARK (fwmark), like keepalived's lib/layer4.c.
//
// How a probe ends (`close`):
// - 'reset' (default): the connection is dropped with an RST, as HAProxy's checks do. Sockets without
//   bind options are kept and reused: connect(AF_UNSPEC) disconnects a TCP socket (the kernel's
//   tcp_disconnect sends the RST and unbinds the port) and the same fd connects again next time. That
//   spares socket() and close() (file, inode, dentry, sock allocation: a fifth of the kernel's cost
//   of a loopback check) and one epoll_ctl pair per check, and leaves no TIME_WAIT on either side.
//   A real server's application sees a reset instead of a FIN when a TCP_CHECK connection ends;
//   after an HTTP_GET the server has already closed its side, so only its kernel notices.
// - 'graceful': keepalived's close(): a fresh socket per check, a FIN, TIME_WAIT on the director.
//
// The verdict of a non-blocking connect is read with a second connect() on the same socket (0 or
// EISCONN: connected; EALREADY: still in progress; any other errno: the failure, which the kernel
// also clears) — one syscall instead of poll() plus getsockopt(SO_ERROR). On loopback and fast LANs
// the handshake has finished by then, so a TCP_CHECK costs three syscalls and no epoll at all.
//
// Readiness of the rest is polled, not waited for on a thread: once the turn that started a batch
// is over, then on a timer that backs off from 1 ms to 16 ms while checks are still pending;
// epoll_wait with timeout 0 never blocks the event loop. Kept sockets stay in the epoll set,
// edge-triggered, for their whole life (one epoll_ctl when created): an edge from an earlier use is
// harmless because every event is re-checked with the syscall that would make progress. Timeouts
// sit in FIFO queues per timeout value (deadlines there only grow), so expiring them costs nothing
// per pending check.
import { type Libc, libc as lib, lastErrno, AF_INET, AF_INET6, SOCK_STREAM, SOCK_NONBLOCK, SOCK_CLOEXEC, SOL_SOCKET, SO_LINGER, SO_BINDTODEVICE, SO_MARK, EAGAIN, errnoName } from './libc.ts';

const EPOLL_CTL_ADD = 1;
const EPOLLIN = 0x001;
const EPOLLOUT = 0x004;
const EPOLLRDHUP = 0x2000;
const EPOLLET = 0x80000000;
const EINPROGRESS = 115;
const EALREADY = 114;
const EISCONN = 106;
const MSG_NOSIGNAL = 0x4000;
const MAX_EVENTS = 1024;
/** Idle kept sockets per family beyond this are closed (a burst of slow servers grows the pool). */
const MAX_IDLE = 4096;
// struct epoll_event is packed on x86-64 (12 bytes, data at 4), naturally aligned elsewhere (16, data at 8).
const EV_SIZE = process.arch === 'x64' ? 12 : 16;
const EV_DATA = process.arch === 'x64' ? 4 : 8;

export type ConnectVerdict = 'connected' | 'refused' | 'timeout' | 'setup' | 'aborted';

/** How a finished probe's connection ends; see the header. */
export type ProbeClose = 'reset' | 'graceful';

export interface ExchangeAnswer {
  /** 'done': the server closed after answering (or the byte limit was reached). */
  readonly verdict: 'done' | 'refused' | 'timeout' | 'setup' | 'aborted' | 'io-error';
  /** Where it stopped: still connecting, or waiting for/reading the answer. */
  readonly phase: 'connect' | 'response';
  readonly chunks: readonly Uint8Array[];
  readonly detail: string;
}

export interface ConnectAnswer {
  readonly verdict: ConnectVerdict;
  /** errno name or number for refused/setup. */
  readonly detail: string;
}

/** A probe's endpoint; the health checker's CheckTarget has this shape. */
export interface ConnectOptions {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
  /** Bounds the connect, and in an exchange each wait for the answer. */
  readonly connectTimeoutMs: number;
  readonly bindto?: string;
  readonly bindPort?: number;
  readonly bindIf?: string;
  readonly fwmark?: number;
}

export interface ExchangeRequest {
  readonly request: Uint8Array;
  readonly maxBytes: number;
}

export interface ConnectSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', fn: () => void, opts?: { once?: boolean }): void;
  removeEventListener(type: 'abort', fn: () => void): void;
}

/**
 * Callers that probe the same endpoint again and again should pass the same options object each
 * time: the connector keeps its socket address per options object (a WeakMap).
 */
export interface TcpConnector {
  connect(opts: ConnectOptions, signal?: ConnectSignal): Promise<ConnectAnswer>;
  /** Connect, send `request`, read until EOF (at most `maxBytes`); each wait bounded by timeoutMs. */
  exchange(opts: ConnectOptions, req: ExchangeRequest, signal?: ConnectSignal): Promise<ExchangeAnswer>;
  close(): void;
}

const SETUP = new Set([1, 13, 19, 22, 24, 97, 98, 99]);

/** struct sockaddr_in / sockaddr_in6 for an address literal, or null. */
export function sockaddr(family: 4 | 6, address: string, port: number): Uint8Array | null {
  if (family === 4) {
    const p = address.split('.').map(Number);
    if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) return null;
    const sa = new Uint8Array(16);
    sa[0] = AF_INET;
    sa[2] = port >> 8;
    sa[3] = port & 0xff;
    sa.set(p, 4);
    return sa;
  }
  const g = v6Groups(address);
  if (!g) return null;
  const sa = new Uint8Array(28);
  sa[0] = AF_INET6;
  sa[2] = port >> 8;
  sa[3] = port & 0xff;
  g.forEach((x, i) => { sa[8 + 2 * i] = x >> 8; sa[9 + 2 * i] = x & 0xff; });
  return sa;
}

function v6Groups(address: string): number[] | null {
  let a = address;
  const tail: number[] = [];
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4) {
    const p = v4.slice(1).map(Number);
    tail.push((p[0] << 8) | p[1], (p[2] << 8) | p[3]);
    a = a.slice(0, -v4[0].length) + '0:0';
  }
  const parts = a.split('::');
  if (parts.length > 2) return null;
  const hex = (s: string) => (s ? s.split(':').map((x) => parseInt(x, 16)) : []);
  const head = hex(parts[0]);
  const rest = parts.length === 2 ? hex(parts[1]) : [];
  const groups = parts.length === 2 ? [...head, ...new Array(Math.max(0, 8 - head.length - rest.length)).fill(0), ...rest] : head;
  if (groups.length !== 8 || groups.some((x) => !(x >= 0 && x <= 0xffff))) return null;
  if (tail.length) { groups[6] = tail[0]; groups[7] = tail[1]; }
  return groups;
}

interface Pending {
  readonly fd: number;
  /** A kept socket (reset mode, no bind options): disconnected and reused when done. */
  readonly kept: boolean;
  readonly family: 4 | 6;
  /** The peer's sockaddr: a repeated connect() to it reads the verdict. */
  readonly sa: Uint8Array;
  readonly timeoutMs: number;
  deadline: number;
  /** Which deadline-queue entry is current (an exchange re-arms its deadline on progress). */
  seq: number;
  done: boolean;
  readonly signal: ConnectSignal | undefined;
  onAbort: (() => void) | null;
  /** A bare connect's answer. */
  readonly resolve: ((a: ConnectAnswer) => void) | null;
  /** An exchange's state. */
  readonly ex: Exchange | null;
}

interface Exchange {
  readonly request: Uint8Array;
  sent: number;
  readonly maxBytes: number;
  readonly chunks: Uint8Array[];
  received: number;
  phase: 'connect' | 'response';
  readonly resolve: (a: ExchangeAnswer) => void;
}

interface Deadline {
  readonly at: number;
  readonly seq: number;
  readonly p: Pending;
}

/** Deadlines with one timeout value, in the order they were set (so also in time order). */
interface DeadlineQueue {
  readonly items: Deadline[];
  head: number;
}

const LINGER_RST = (() => { const b = new Uint8Array(8); b[0] = 1; return b; })();
/** sa_family AF_UNSPEC: connect() with it disconnects a TCP socket (RST if established). */
const UNSPEC = new Uint8Array(16);
const int32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n >>> 0, true); return b; };

const CONNECTED: ConnectAnswer = Object.freeze({ verdict: 'connected', detail: 'connected' });
const NONE: readonly Uint8Array[] = Object.freeze([]);

/** Answers for a failed connect, one object per errno. */
const failures = new Map<number, ConnectAnswer>();
function failure(e: number): ConnectAnswer {
  let a = failures.get(e);
  if (!a) {
    a = Object.freeze({ verdict: SETUP.has(e) ? 'setup' : 'refused', detail: `connect: ${errnoName(e)}` });
    failures.set(e, a);
  }
  return a;
}

/** 'connected', 'pending' or the failure, from the return of a (repeated) connect(). */
function connectState(rc: number): ConnectAnswer | 'pending' {
  if (rc === 0) return CONNECTED;
  const e = lastErrno();
  if (e === EISCONN) return CONNECTED;
  if (e === EALREADY || e === EINPROGRESS) return 'pending';
  return failure(e);
}

class EpollConnector implements TcpConnector {
  readonly #c: Libc;
  readonly #ep: number;
  readonly #mode: ProbeClose;
  /** Pending checks by fd. */
  readonly #byFd: Array<Pending | undefined> = [];
  #pending = 0;
  /** Idle kept sockets, IPv4 and IPv6. */
  readonly #idle: [number[], number[]] = [[], []];
  readonly #addr = new WeakMap<ConnectOptions, Uint8Array | null>();
  readonly #queues = new Map<number, DeadlineQueue>();
  #seq = 0;
  readonly #events = new Uint8Array(EV_SIZE * MAX_EVENTS);
  readonly #eventView = new DataView(this.#events.buffer);
  readonly #ev = new Uint8Array(EV_SIZE);
  readonly #rbuf = new Uint8Array(65536);
  #timer: ReturnType<typeof setTimeout> | null = null;
  #soon = false;
  #backoff = 1;
  #closed = false;

  constructor(c: Libc, ep: number, mode: ProbeClose) {
    this.#c = c;
    this.#ep = ep;
    this.#mode = mode;
    const v = new DataView(this.#ev.buffer);
    v.setUint32(0, (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0, true);
  }

  #sockaddr(o: ConnectOptions): Uint8Array | null {
    let sa = this.#addr.get(o);
    if (sa === undefined) {
      sa = sockaddr(o.family, o.address, o.port);
      this.#addr.set(o, sa);
    }
    return sa;
  }

  /** Register fd in the epoll set, edge-triggered, for every event a probe waits for. */
  #watch(fd: number): boolean {
    new DataView(this.#ev.buffer).setInt32(EV_DATA, fd, true);
    return this.#c.epoll_ctl(this.#ep, EPOLL_CTL_ADD, fd, this.#ev) >= 0;
  }

  /**
   * A socket with its connect issued: { fd, state } where state is CONNECTED, 'pending' or a
   * failure (the fd then still needs #release), or a setup answer with no fd.
   */
  #open(o: ConnectOptions): { fd: number; kept: boolean; sa: Uint8Array; state: ConnectAnswer | 'pending' } | ConnectAnswer {
    const c = this.#c;
    const sa = this.#sockaddr(o);
    if (!sa) return { verdict: 'setup', detail: `bad address ${o.address}` };
    const kept = this.#mode === 'reset' && o.bindto === undefined && o.bindPort === undefined && !o.bindIf && !o.fwmark;
    let fd: number;
    if (kept && this.#idle[o.family === 4 ? 0 : 1].length > 0) {
      fd = this.#idle[o.family === 4 ? 0 : 1].pop()!;
    } else {
      fd = c.socket(o.family === 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) return { verdict: 'setup', detail: `socket: ${errnoName(lastErrno())}` };
      const fail = (what: string): ConnectAnswer => {
        const e = lastErrno();
        c.close(fd);
        return { verdict: 'setup', detail: `${what}: ${errnoName(e)}` };
      };
      if (kept) {
        if (!this.#watch(fd)) return fail('epoll_ctl');
      } else {
        if (this.#mode === 'reset') c.setsockopt(fd, SOL_SOCKET, SO_LINGER, LINGER_RST, 8);
        if (o.fwmark && c.setsockopt(fd, SOL_SOCKET, SO_MARK, int32(o.fwmark), 4) < 0) return fail('SO_MARK');
        if (o.bindIf) {
          const name = new TextEncoder().encode(o.bindIf + '\0');
          if (c.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length) < 0) return fail('SO_BINDTODEVICE');
        }
        if (o.bindto !== undefined || o.bindPort !== undefined) {
          const local = sockaddr(o.family, o.bindto ?? (o.family === 4 ? '0.0.0.0' : '::'), o.bindPort ?? 0);
          if (!local || c.bind(fd, local, local.length) < 0) return fail('bind');
        }
      }
    }
    let state = connectState(c.connect(fd, sa, sa.length));
    // In progress: usually done by now on loopback and LANs; ask once more before waiting.
    if (state === 'pending') state = connectState(c.connect(fd, sa, sa.length));
    return { fd, kept, sa, state };
  }

  /** The socket is done with: a kept one is disconnected (RST) and kept, any other closed. */
  #release(fd: number, kept: boolean, family: 4 | 6): void {
    if (kept && !this.#closed) {
      const idle = this.#idle[family === 4 ? 0 : 1];
      if (idle.length < MAX_IDLE && this.#c.connect(fd, UNSPEC, UNSPEC.length) === 0) {
        idle.push(fd);
        return;
      }
    }
    // close() also drops the fd from the epoll set.
    this.#c.close(fd);
  }

  /** A slow socket: wait for readiness (a fresh socket joins the epoll set now). */
  #wait(fd: number, kept: boolean, sa: Uint8Array, o: ConnectOptions, signal: ConnectSignal | undefined,
    resolve: ((a: ConnectAnswer) => void) | null, ex: Exchange | null): boolean {
    if (!kept && !this.#watch(fd)) return false;
    const p: Pending = {
      fd, kept, family: o.family, sa, timeoutMs: o.connectTimeoutMs, deadline: 0, seq: 0, done: false, signal, onAbort: null, resolve, ex,
    };
    if (signal) {
      p.onAbort = () => this.#abortOne(p);
      signal.addEventListener('abort', p.onAbort, { once: true });
    }
    this.#byFd[fd] = p;
    this.#pending++;
    this.#arm(p);
    // Poll once this turn is over: the probes started in this batch share one epoll_wait.
    if (!this.#soon) {
      this.#soon = true;
      this.#backoff = 1;
      queueMicrotask(() => { this.#soon = false; this.#pump(); });
    }
    return true;
  }

  /** (Re)start p's timeout: timeoutMs from now. */
  #arm(p: Pending): void {
    p.deadline = performance.now() + p.timeoutMs;
    p.seq = ++this.#seq;
    let q = this.#queues.get(p.timeoutMs);
    if (!q) {
      q = { items: [], head: 0 };
      this.#queues.set(p.timeoutMs, q);
    }
    q.items.push({ at: p.deadline, seq: p.seq, p });
  }

  connect(o: ConnectOptions, signal?: ConnectSignal): Promise<ConnectAnswer> {
    if (this.#closed || signal?.aborted) return Promise.resolve({ verdict: 'aborted', detail: 'closed' });
    const opened = this.#open(o);
    if ('verdict' in opened) return Promise.resolve(opened);
    const { fd, kept, sa, state } = opened;
    if (state !== 'pending') {
      this.#release(fd, kept, o.family);
      return Promise.resolve(state);
    }
    return new Promise((resolve) => {
      if (!this.#wait(fd, kept, sa, o, signal, resolve, null)) {
        this.#c.close(fd);
        resolve({ verdict: 'setup', detail: 'epoll_ctl' });
      }
    });
  }

  exchange(o: ConnectOptions, req: ExchangeRequest, signal?: ConnectSignal): Promise<ExchangeAnswer> {
    if (this.#closed || signal?.aborted) return Promise.resolve({ verdict: 'aborted', phase: 'connect', chunks: NONE, detail: 'closed' });
    const opened = this.#open(o);
    if ('verdict' in opened) return Promise.resolve({ verdict: opened.verdict === 'connected' ? 'done' : opened.verdict, phase: 'connect', chunks: NONE, detail: opened.detail } as ExchangeAnswer);
    const { fd, kept, sa, state } = opened;
    if (state !== 'pending' && state.verdict !== 'connected') {
      this.#release(fd, kept, o.family);
      return Promise.resolve({ verdict: state.verdict === 'setup' ? 'setup' : 'refused', phase: 'connect', chunks: NONE, detail: state.detail });
    }
    return new Promise((resolve) => {
      const ex: Exchange = { request: req.request, sent: 0, maxBytes: req.maxBytes, chunks: [], received: 0, phase: state === 'pending' ? 'connect' : 'response', resolve };
      // Connected already (usual on loopback): send now, then wait only for the answer.
      if (ex.phase === 'response' && !this.#send(fd, ex)) {
        this.#release(fd, kept, o.family);
        resolve({ verdict: 'io-error', phase: 'response', chunks: NONE, detail: `send: ${errnoName(lastErrno())}` });
        return;
      }
      if (!this.#wait(fd, kept, sa, o, signal, null, ex)) {
        this.#c.close(fd);
        resolve({ verdict: 'setup', phase: 'connect', chunks: NONE, detail: 'epoll_ctl' });
      }
    });
  }

  /** Send what is left of the request; false on a send error (errno set). */
  #send(fd: number, ex: Exchange): boolean {
    while (ex.sent < ex.request.length) {
      const rest = ex.sent === 0 ? ex.request : ex.request.subarray(ex.sent);
      const n = Number(this.#c.send(fd, rest, rest.length, MSG_NOSIGNAL));
      if (n < 0) return lastErrno() === EAGAIN;
      ex.sent += n;
    }
    return true;
  }

  #abortOne(p: Pending): void {
    p.onAbort = null;
    if (p.ex) this.#endExchange(p, 'aborted', 'aborted');
    else this.#endConnect(p, { verdict: 'aborted', detail: 'aborted' });
  }

  #settle(p: Pending): void {
    p.done = true;
    this.#byFd[p.fd] = undefined;
    this.#pending--;
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    this.#release(p.fd, p.kept, p.family);
  }

  #endConnect(p: Pending, a: ConnectAnswer): void {
    if (p.done) return;
    this.#settle(p);
    p.resolve!(a);
  }

  #endExchange(p: Pending, verdict: ExchangeAnswer['verdict'], detail: string): void {
    if (p.done) return;
    this.#settle(p);
    const ex = p.ex!;
    ex.resolve({ verdict, phase: ex.phase, chunks: ex.chunks, detail });
  }

  /** An event on p's socket (possibly stale): make whatever progress the socket allows now. */
  #progress(p: Pending): void {
    const c = this.#c;
    const ex = p.ex;
    if (!ex || ex.phase === 'connect') {
      const state = connectState(c.connect(p.fd, p.sa, p.sa.length));
      if (state === 'pending') return;
      if (!ex) { this.#endConnect(p, state); return; }
      if (state.verdict !== 'connected') { this.#endExchange(p, state.verdict === 'setup' ? 'setup' : 'refused', state.detail); return; }
      ex.phase = 'response';
      this.#arm(p);
    }
    if (ex.sent < ex.request.length) {
      if (!this.#send(p.fd, ex)) { this.#endExchange(p, 'io-error', `send: ${errnoName(lastErrno())}`); return; }
      if (ex.sent < ex.request.length) return;
      this.#arm(p);
    }
    for (;;) {
      const n = Number(c.recv(p.fd, this.#rbuf, this.#rbuf.length, 0));
      if (n > 0) {
        ex.chunks.push(this.#rbuf.slice(0, n));
        ex.received += n;
        this.#arm(p);
        if (ex.received >= ex.maxBytes) { this.#endExchange(p, 'done', 'byte limit'); return; }
        continue;
      }
      if (n === 0) { this.#endExchange(p, 'done', 'closed by server'); return; }
      const e = lastErrno();
      if (e !== EAGAIN) this.#endExchange(p, 'io-error', `recv: ${errnoName(e)}`);
      return;
    }
  }

  #pump(): void {
    if (this.#closed) return;
    const c = this.#c;
    const view = this.#eventView;
    for (;;) {
      const n = c.epoll_wait(this.#ep, this.#events, MAX_EVENTS, 0);
      if (n <= 0) break;
      for (let i = 0; i < n; i++) {
        const p = this.#byFd[view.getInt32(EV_SIZE * i + EV_DATA, true)];
        if (p && !p.done) this.#progress(p);
      }
      this.#backoff = 1;
      if (n < MAX_EVENTS) break;
    }
    if (this.#pending > 0) this.#expire(performance.now());
    if (this.#pending === 0 || this.#timer) return;
    this.#timer = setTimeout(() => { this.#timer = null; this.#pump(); }, this.#backoff);
    this.#backoff = Math.min(16, this.#backoff * 2);
  }

  #expire(now: number): void {
    for (const q of this.#queues.values()) {
      const items = q.items;
      while (q.head < items.length && items[q.head].at <= now) {
        const d = items[q.head++];
        if (d.p.done || d.p.seq !== d.seq) continue;
        const ex = d.p.ex;
        if (ex) this.#endExchange(d.p, 'timeout', ex.phase === 'connect' ? 'connect timeout' : 'read timeout');
        else this.#endConnect(d.p, { verdict: 'timeout', detail: 'connect timeout' });
      }
      if (q.head > 1024 && q.head * 2 > items.length) {
        items.splice(0, q.head);
        q.head = 0;
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    for (const p of this.#byFd) {
      if (!p || p.done) continue;
      if (p.ex) this.#endExchange(p, 'aborted', 'closed');
      else this.#endConnect(p, { verdict: 'aborted', detail: 'closed' });
    }
    this.#closed = true;
    for (const idle of this.#idle) for (const fd of idle.splice(0)) this.#c.close(fd);
    if (this.#timer) clearTimeout(this.#timer);
    this.#c.close(this.#ep);
  }
}

/** A connector on libc through koffi, or null where that is not possible (no koffi, no epoll). */
export function createTcpConnector(opts: { readonly close?: ProbeClose } = {}): TcpConnector | null {
  try {
    const c = lib();
    const ep = c.epoll_create1(SOCK_CLOEXEC);
    if (ep < 0) return null;
    return new EpollConnector(c, ep, opts.close ?? 'reset');
  } catch {
    return null;
  }
}
