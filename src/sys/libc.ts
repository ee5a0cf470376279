// The libc socket calls keepvs makes through koffi, declared once and loaded on first use (so a
// machine without koffi's prebuilt binary only fails where a socket option Node lacks is asked for).
// Node's net/dgram cannot set SO_MARK, SO_BINDTODEVICE, IP_TTL on raw sockets, bind netlink sockets
// or connect(AF_UNSPEC); these calls are the edge that can.
import koffi from 'koffi';
import { constants as osConstants } from 'node:os';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_LINGER = 13;
export const SO_BINDTODEVICE = 25;
export const SO_MARK = 36;
export const EAGAIN = 11;

type Ssize = number | bigint;

export interface Libc {
  socket: (domain: number, type: number, protocol: number) => number;
  bind: (fd: number, sa: Uint8Array, len: number) => number;
  connect: (fd: number, sa: Uint8Array, len: number) => number;
  setsockopt: (fd: number, level: number, name: number, val: Uint8Array, len: number) => number;
  send: (fd: number, buf: Uint8Array, len: number, flags: number) => Ssize;
  recv: (fd: number, buf: Uint8Array, len: number, flags: number) => Ssize;
  sendto: (fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, alen: number) => Ssize;
  /** Also callable on koffi's worker pool (`.async`), so a blocking receive never holds the event loop. */
  recvfrom: ((fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, alen: Uint32Array) => Ssize)
    & { async: (...args: unknown[]) => void };
  close: (fd: number) => number;
  listen: (fd: number, backlog: number) => number;
  /** struct rlimit is two 64-bit words: soft, hard. */
  getrlimit: (resource: number, out: BigUint64Array) => number;
  epoll_create1: (flags: number) => number;
  epoll_ctl: (ep: number, op: number, fd: number, ev: Uint8Array) => number;
  epoll_wait: (ep: number, evs: Uint8Array, max: number, timeout: number) => number;
}

let loaded: Libc | null = null;

export function libc(): Libc {
  if (loaded) return loaded;
  const l = koffi.load('libc.so.6');
  loaded = {
    socket: l.func('int socket(int, int, int)'),
    bind: l.func('int bind(int, const uint8_t *sa, uint32_t len)'),
    connect: l.func('int connect(int, const uint8_t *sa, uint32_t len)'),
    setsockopt: l.func('int setsockopt(int, int, int, const uint8_t *val, uint32_t len)'),
    send: l.func('long send(int, const uint8_t *buf, size_t len, int flags)'),
    recv: l.func('long recv(int, _Out_ uint8_t *buf, size_t len, int flags)'),
    sendto: l.func('long sendto(int, const uint8_t *buf, size_t len, int flags, const uint8_t *addr, uint32_t alen)'),
    recvfrom: l.func('long recvfrom(int, _Out_ uint8_t *buf, size_t len, int flags, _Out_ uint8_t *addr, _Inout_ uint32_t *alen)'),
    close: l.func('int close(int)'),
    listen: l.func('int listen(int, int)'),
    getrlimit: l.func('int getrlimit(int, _Out_ uint64_t *rl)'),
    epoll_create1: l.func('int epoll_create1(int)'),
    epoll_ctl: l.func('int epoll_ctl(int, int, int, const uint8_t *ev)'),
    epoll_wait: l.func('int epoll_wait(int, _Out_ uint8_t *evs, int max, int timeout)'),
  } as Libc;
  return loaded;
}

/** errno of the last failed call on this thread. */
export function lastErrno(): number {
  return koffi.errno();
}

// Every errno this platform names (os.constants.errno), looked up by number; where two names share
// a number (EAGAIN/EWOULDBLOCK, ENOTSUP/EOPNOTSUPP) the first, libc's strerror name, is kept.
const ERRNO = new Map<number, string>();
for (const [name, v] of Object.entries(osConstants.errno)) if (!ERRNO.has(v)) ERRNO.set(v, name);

export function errnoName(e: number): string {
  return ERRNO.get(e) ?? `errno ${e}`;
}
