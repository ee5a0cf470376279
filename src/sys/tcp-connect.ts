// Bare TCP connects (TCP_CHECK) and request/response exchanges (HTTP_GET) at scale, through koffi:
// socket(), connect(), readiness from one epoll set, send()/recv(), close(). No net.Socket object,
// no libuv handle per check: at 10 000 checks a second the JavaScript side of Node's net module
// costs more CPU than the kernel's handshake. A bare connect closes with SO_LINGER 0 (an RST, no
// TIME_WAIT); an exchange reads until the server closes, as keepalived's HTTP_GET does. Also sets
// what Node's net cannot: SO_BINDTODEVICE (keepalived's bind_if) and SO_MARK (fwmark), like
// keepalived's lib/layer4.c.
//
// Readiness is polled, not waited for on a thread: right after a batch of connects (loopback and
// LAN handshakes usually finish inside connect()), then on a timer that backs off from 1 ms to
// 16 ms while connects are still pending. epoll_wait with timeout 0 never blocks the event loop.
import koffi from 'koffi';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_ERROR = 4;
const SO_LINGER = 13;
const SO_BINDTODEVICE = 25;
const SO_MARK = 36;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_MOD = 3;
const EPOLLIN = 0x001;
const EPOLLOUT = 0x004;
const EAGAIN = 11;
const MSG_NOSIGNAL = 0x4000;
const EPOLLERR = 0x008;
const EPOLLHUP = 0x010;
const EINPROGRESS = 115;
const MAX_EVENTS = 1024;
// struct epoll_event is packed on x86-64 (12 bytes, data at 4), naturally aligned elsewhere (16, data at 8).
const EV_SIZE = process.arch === 'x64' ? 12 : 16;
const EV_DATA = process.arch === 'x64' ? 4 : 8;

export type ConnectVerdict = 'connected' | 'refused' | 'timeout' | 'setup' | 'aborted';

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

export interface ConnectOptions {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
  readonly timeoutMs: number;
  readonly bindto?: string;
  readonly bindPort?: number;
  readonly bindIf?: string;
  readonly fwmark?: number;
}

export interface ConnectSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', fn: () => void, opts?: { once?: boolean }): void;
  removeEventListener(type: 'abort', fn: () => void): void;
}

export interface TcpConnector {
  connect(opts: ConnectOptions, signal?: ConnectSignal): Promise<ConnectAnswer>;
  /** Connect, send `request`, read until EOF (at most `maxBytes`); each wait bounded by timeoutMs. */
  exchange(opts: ConnectOptions & { readonly request: Uint8Array; readonly maxBytes: number }, signal?: ConnectSignal): Promise<ExchangeAnswer>;
  close(): void;
}

interface Libc {
  socket: (d: number, t: number, p: number) => number;
  connect: (fd: number, sa: Uint8Array, len: number) => number;
  bind: (fd: number, sa: Uint8Array, len: number) => number;
  setsockopt: (fd: number, level: number, name: number, val: Uint8Array, len: number) => number;
  getsockopt: (fd: number, level: number, name: number, val: Uint8Array, len: number[]) => number;
  close: (fd: number) => number;
  send: (fd: number, buf: Uint8Array, len: number, flags: number) => number | bigint;
  recv: (fd: number, buf: Uint8Array, len: number, flags: number) => number | bigint;
  epoll_create1: (flags: number) => number;
  epoll_ctl: (ep: number, op: number, fd: number, ev: Uint8Array) => number;
  epoll_wait: (ep: number, evs: Uint8Array, max: number, timeout: number) => number;
  poll: (fds: Uint8Array, n: number, timeout: number) => number;
}

let libc: Libc | null = null;
function lib(): Libc {
  if (libc) return libc;
  const l = koffi.load('libc.so.6');
  libc = {
    socket: l.func('int socket(int, int, int)'),
    connect: l.func('int connect(int, const uint8_t *sa, uint32_t len)'),
    bind: l.func('int bind(int, const uint8_t *sa, uint32_t len)'),
    setsockopt: l.func('int setsockopt(int, int, int, const uint8_t *val, uint32_t len)'),
    getsockopt: l.func('int getsockopt(int, int, int, _Out_ uint8_t *val, _Inout_ uint32_t *len)'),
    close: l.func('int close(int)'),
    send: l.func('long send(int, const uint8_t *buf, size_t len, int flags)'),
    recv: l.func('long recv(int, _Out_ uint8_t *buf, size_t len, int flags)'),
    epoll_create1: l.func('int epoll_create1(int)'),
    epoll_ctl: l.func('int epoll_ctl(int, int, int, const uint8_t *ev)'),
    epoll_wait: l.func('int epoll_wait(int, _Out_ uint8_t *evs, int max, int timeout)'),
    poll: l.func('int poll(_Inout_ uint8_t *fds, unsigned long n, int timeout)'),
  } as Libc;
  return libc;
}

const ERRNO: Record<number, string> = {
  1: 'EPERM', 13: 'EACCES', 19: 'ENODEV', 22: 'EINVAL', 24: 'EMFILE', 97: 'EAFNOSUPPORT', 98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL',
  101: 'ENETUNREACH', 104: 'ECONNRESET', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED', 113: 'EHOSTUNREACH',
};
const SETUP = new Set([1, 13, 19, 22, 24, 97, 98, 99]);
const errnoName = (e: number) => ERRNO[e] ?? `errno ${e}`;

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

interface Exchange {
  readonly request: Uint8Array;
  sent: number;
  readonly maxBytes: number;
  readonly chunks: Uint8Array[];
  received: number;
  phase: 'connect' | 'response';
  readonly resolve: (a: ExchangeAnswer) => void;
}

interface Pending {
  readonly fd: number;
  deadline: number;
  readonly timeoutMs: number;
  readonly resolve: (a: ConnectAnswer) => void;
  readonly signal?: ConnectSignal;
  readonly onAbort: () => void;
  readonly ex?: Exchange;
}

const LINGER_RST = (() => { const b = new Uint8Array(8); b[0] = 1; return b; })();
const int32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n >>> 0, true); return b; };

class EpollConnector implements TcpConnector {
  readonly #c: Libc;
  readonly #ep: number;
  readonly #pending = new Map<number, Pending>();
  readonly #events = new Uint8Array(EV_SIZE * MAX_EVENTS);
  readonly #ev = new Uint8Array(EV_SIZE);
  readonly #errBuf = new Uint8Array(4);
  readonly #errLen = [4];
  readonly #rbuf = new Uint8Array(65536);
  #timer: ReturnType<typeof setTimeout> | null = null;
  #immediate = false;
  #backoff = 1;
  #closed = false;

  constructor(c: Libc, ep: number) {
    this.#c = c;
    this.#ep = ep;
  }

  /** socket + options + bind + connect: an fd whose connect is in progress, or an immediate answer. */
  #open(o: ConnectOptions, rst: boolean): { fd: number; done: boolean } | ConnectAnswer {
    const c = this.#c;
    const sa = sockaddr(o.family, o.address, o.port);
    if (!sa) return { verdict: 'setup', detail: `bad address ${o.address}` };
    const fd = c.socket(o.family === 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return { verdict: 'setup', detail: `socket: ${errnoName(koffi.errno())}` };
    const fail = (verdict: ConnectVerdict, what: string): ConnectAnswer => {
      const e = koffi.errno();
      c.close(fd);
      return { verdict, detail: `${what}: ${errnoName(e)}` };
    };
    if (rst) c.setsockopt(fd, SOL_SOCKET, SO_LINGER, LINGER_RST, 8);
    if (o.fwmark && c.setsockopt(fd, SOL_SOCKET, SO_MARK, int32(o.fwmark), 4) < 0) return fail('setup', 'SO_MARK');
    if (o.bindIf) {
      const name = new TextEncoder().encode(o.bindIf + '\0');
      if (c.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length) < 0) return fail('setup', 'SO_BINDTODEVICE');
    }
    if (o.bindto !== undefined || o.bindPort !== undefined) {
      const local = sockaddr(o.family, o.bindto ?? (o.family === 4 ? '0.0.0.0' : '::'), o.bindPort ?? 0);
      if (!local || c.bind(fd, local, local.length) < 0) return fail('setup', 'bind');
    }
    if (c.connect(fd, sa, sa.length) === 0) return { fd, done: true };
    const e = koffi.errno();
    if (e === EINPROGRESS) return { fd, done: false };
    c.close(fd);
    return { verdict: SETUP.has(e) ? 'setup' : 'refused', detail: `connect: ${errnoName(e)}` };
  }

  readonly #pollfd = new Uint8Array(8);

  /** poll(fd, POLLOUT, 0): the connect's verdict if it is already known, else null. */
  #quick(fd: number): ConnectAnswer | null {
    const pf = new DataView(this.#pollfd.buffer);
    pf.setInt32(0, fd, true);
    pf.setInt16(4, EPOLLOUT, true);
    pf.setInt16(6, 0, true);
    if (this.#c.poll(this.#pollfd, 1, 0) <= 0) return null;
    const revents = pf.getInt16(6, true);
    this.#errLen[0] = 4;
    this.#c.getsockopt(fd, SOL_SOCKET, SO_ERROR, this.#errBuf, this.#errLen);
    const err = new DataView(this.#errBuf.buffer).getInt32(0, true);
    if (err === 0 && !(revents & (EPOLLERR | EPOLLHUP))) return { verdict: 'connected', detail: 'connected' };
    return { verdict: SETUP.has(err) ? 'setup' : 'refused', detail: `connect: ${errnoName(err || 104)}` };
  }

  #watch(fd: number, events: number, op: number): boolean {
    const v = new DataView(this.#ev.buffer);
    v.setUint32(0, events, true);
    v.setInt32(EV_DATA, fd, true);
    return this.#c.epoll_ctl(this.#ep, op, fd, this.#ev) >= 0;
  }

  #track(p: Pending): void {
    this.#pending.set(p.fd, p);
    p.signal?.addEventListener('abort', p.onAbort, { once: true });
    // Poll once this turn is over: the connects issued in this batch share one epoll_wait.
    if (!this.#immediate) {
      this.#immediate = true;
      this.#backoff = 1;
      queueMicrotask(() => { this.#immediate = false; this.#pump(); });
    }
  }

  connect(o: ConnectOptions, signal?: ConnectSignal): Promise<ConnectAnswer> {
    if (this.#closed || signal?.aborted) return Promise.resolve({ verdict: 'aborted', detail: 'closed' });
    const opened = this.#open(o, true);
    if ('verdict' in opened) return Promise.resolve(opened);
    if (opened.done) {
      this.#c.close(opened.fd);
      return Promise.resolve({ verdict: 'connected', detail: 'connected' });
    }
    const fd = opened.fd;
    // On loopback and fast LANs the handshake has usually finished inside connect(): one poll()
    // answers it without joining the epoll set.
    const quick = this.#quick(fd);
    if (quick) {
      this.#c.close(fd);
      return Promise.resolve(quick);
    }
    if (!this.#watch(fd, EPOLLOUT, EPOLL_CTL_ADD)) {
      this.#c.close(fd);
      return Promise.resolve({ verdict: 'setup', detail: 'epoll_ctl' });
    }
    return new Promise((resolve) => {
      this.#track({ fd, deadline: performance.now() + o.timeoutMs, timeoutMs: o.timeoutMs, resolve, signal, onAbort: () => this.#finish(fd, { verdict: 'aborted', detail: 'aborted' }) });
    });
  }

  exchange(o: ConnectOptions & { readonly request: Uint8Array; readonly maxBytes: number }, signal?: ConnectSignal): Promise<ExchangeAnswer> {
    const none: readonly Uint8Array[] = [];
    if (this.#closed || signal?.aborted) return Promise.resolve({ verdict: 'aborted', phase: 'connect', chunks: none, detail: 'closed' });
    const opened = this.#open(o, false);
    if ('verdict' in opened) {
      return Promise.resolve({ verdict: opened.verdict === 'connected' ? 'done' : opened.verdict, phase: 'connect', chunks: none, detail: opened.detail } as ExchangeAnswer);
    }
    const fd = opened.fd;
    // Connected already (usual on loopback)? Then send now and wait only for the answer: one
    // epoll_ctl per exchange instead of two.
    let sent = 0;
    const quick = this.#quick(fd);
    if (quick && quick.verdict !== 'connected') {
      this.#c.close(fd);
      return Promise.resolve({ verdict: quick.verdict === 'setup' ? 'setup' : 'refused', phase: 'connect', chunks: none, detail: quick.detail });
    }
    if (quick) {
      const n = Number(this.#c.send(fd, o.request, o.request.length, MSG_NOSIGNAL));
      if (n < 0 && koffi.errno() !== EAGAIN) {
        const e = koffi.errno();
        this.#c.close(fd);
        return Promise.resolve({ verdict: 'io-error', phase: 'response', chunks: none, detail: `send: ${errnoName(e)}` });
      }
      sent = Math.max(0, n);
    }
    const allSent = sent === o.request.length;
    if (!this.#watch(fd, allSent ? EPOLLIN : EPOLLOUT, EPOLL_CTL_ADD)) {
      this.#c.close(fd);
      return Promise.resolve({ verdict: 'setup', phase: 'connect', chunks: none, detail: 'epoll_ctl' });
    }
    return new Promise((resolve) => {
      const ex: Exchange = { request: o.request, sent, maxBytes: o.maxBytes, chunks: [], received: 0, phase: quick ? 'response' : 'connect', resolve };
      this.#track({
        fd, deadline: performance.now() + o.timeoutMs, timeoutMs: o.timeoutMs, resolve: () => {}, signal, ex,
        onAbort: () => this.#end(fd, 'aborted', 'aborted'),
      });
    });
  }

  #finish(fd: number, a: ConnectAnswer): void {
    const p = this.#pending.get(fd);
    if (!p) return;
    if (p.ex) {
      this.#end(fd, a.verdict === 'connected' ? 'done' : a.verdict, a.detail);
      return;
    }
    this.#pending.delete(fd);
    p.signal?.removeEventListener('abort', p.onAbort);
    // close() also drops the fd from the epoll set.
    this.#c.close(fd);
    p.resolve(a);
  }

  #end(fd: number, verdict: ExchangeAnswer['verdict'], detail: string): void {
    const p = this.#pending.get(fd);
    if (!p || !p.ex) return;
    this.#pending.delete(fd);
    p.signal?.removeEventListener('abort', p.onAbort);
    this.#c.close(fd);
    p.ex.resolve({ verdict, phase: p.ex.phase, chunks: p.ex.chunks, detail });
  }

  /** Progress an exchange on readiness: send the request, then read until EOF. */
  #progress(p: Pending, mask: number): void {
    const c = this.#c;
    const ex = p.ex!;
    if (ex.phase === 'connect') {
      this.#errLen[0] = 4;
      c.getsockopt(p.fd, SOL_SOCKET, SO_ERROR, this.#errBuf, this.#errLen);
      const err = new DataView(this.#errBuf.buffer).getInt32(0, true);
      if (err !== 0 || (mask & (EPOLLERR | EPOLLHUP) && !(mask & EPOLLIN))) {
        this.#end(p.fd, SETUP.has(err) ? 'setup' : 'refused', `connect: ${errnoName(err || 104)}`);
        return;
      }
      ex.phase = 'response';
    }
    if (ex.sent < ex.request.length) {
      const n = Number(c.send(p.fd, ex.request.subarray(ex.sent), ex.request.length - ex.sent, MSG_NOSIGNAL));
      if (n < 0) {
        const e = koffi.errno();
        if (e !== EAGAIN) { this.#end(p.fd, 'io-error', `send: ${errnoName(e)}`); return; }
      } else {
        ex.sent += n;
      }
      if (ex.sent < ex.request.length) return;
      this.#watch(p.fd, EPOLLIN, EPOLL_CTL_MOD);
      p.deadline = performance.now() + p.timeoutMs;
      if (!(mask & EPOLLIN)) return;
    }
    for (;;) {
      const n = Number(c.recv(p.fd, this.#rbuf, this.#rbuf.length, 0));
      if (n > 0) {
        ex.chunks.push(this.#rbuf.slice(0, n));
        ex.received += n;
        p.deadline = performance.now() + p.timeoutMs;
        if (ex.received >= ex.maxBytes) { this.#end(p.fd, 'done', 'byte limit'); return; }
        continue;
      }
      if (n === 0) { this.#end(p.fd, 'done', 'closed by server'); return; }
      const e = koffi.errno();
      if (e !== EAGAIN) this.#end(p.fd, 'io-error', `recv: ${errnoName(e)}`);
      return;
    }
  }

  #pump(): void {
    if (this.#closed) return;
    const c = this.#c;
    const view = new DataView(this.#events.buffer);
    for (;;) {
      const n = c.epoll_wait(this.#ep, this.#events, MAX_EVENTS, 0);
      if (n <= 0) break;
      for (let i = 0; i < n; i++) {
        const mask = view.getUint32(EV_SIZE * i, true);
        const fd = view.getInt32(EV_SIZE * i + EV_DATA, true);
        const p = this.#pending.get(fd);
        if (!p) continue;
        if (p.ex) { this.#progress(p, mask); continue; }
        this.#errLen[0] = 4;
        c.getsockopt(fd, SOL_SOCKET, SO_ERROR, this.#errBuf, this.#errLen);
        const err = new DataView(this.#errBuf.buffer).getInt32(0, true);
        if (err === 0 && !(mask & (EPOLLERR | EPOLLHUP))) this.#finish(fd, { verdict: 'connected', detail: 'connected' });
        else this.#finish(fd, { verdict: SETUP.has(err) ? 'setup' : 'refused', detail: `connect: ${errnoName(err || 104)}` });
      }
      this.#backoff = 1;
      if (n < MAX_EVENTS) break;
    }
    if (this.#pending.size === 0) return;
    const now = performance.now();
    for (const p of [...this.#pending.values()]) {
      if (p.deadline > now) continue;
      if (p.ex) this.#end(p.fd, 'timeout', p.ex.phase === 'connect' ? 'connect timeout' : 'read timeout');
      else this.#finish(p.fd, { verdict: 'timeout', detail: 'connect timeout' });
    }
    if (this.#pending.size === 0 || this.#timer) return;
    this.#timer = setTimeout(() => { this.#timer = null; this.#pump(); }, this.#backoff);
    this.#backoff = Math.min(16, this.#backoff * 2);
  }

  close(): void {
    if (this.#closed) return;
    for (const [fd, p] of [...this.#pending]) {
      if (p.ex) this.#end(fd, 'aborted', 'closed');
      else this.#finish(fd, { verdict: 'aborted', detail: 'closed' });
    }
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#c.close(this.#ep);
  }
}

/** A connector on libc through koffi, or null where that is not possible (no koffi, no epoll). */
export function createTcpConnector(): TcpConnector | null {
  try {
    const c = lib();
    const ep = c.epoll_create1(SOCK_CLOEXEC);
    if (ep < 0) return null;
    return new EpollConnector(c, ep);
  } catch {
    return null;
  }
}
