// A listening TCP socket made with libc rather than node:net, for the io_uring engine: its accepts
// are queued on the ring, so libuv must not watch the socket (a net.Server would accept first).
import { AF_INET, AF_INET6, SOCK_CLOEXEC, SOCK_STREAM, SOL_SOCKET, errnoName, lastErrno, libc } from './libc.ts';
import { sockaddr } from './tcp-connect.ts';

const SO_REUSEADDR = 2;
const SO_REUSEPORT = 15;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;

export interface ListenSocketOptions {
  readonly backlog: number;
  readonly reusePort: boolean;
}

/** A listening socket's descriptor, or the failing step's errno name (EADDRINUSE, …). */
export function listenSocket(family: 4 | 6, address: string, port: number, o: ListenSocketOptions): number | { code: string; step: string } {
  const c = libc();
  const sa = sockaddr(family, address, port);
  if (sa === null) return { code: 'EINVAL', step: 'address' };
  // Blocking on purpose: io_uring waits for a connection itself, and a non-blocking listener
  // would only add a failed attempt before it does.
  const fd = c.socket(family === 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return { code: errnoName(lastErrno()), step: 'socket' };
  const one = new Uint8Array(new Int32Array([1]).buffer);
  const fail = (step: string) => {
    const code = errnoName(lastErrno());
    c.close(fd);
    return { code, step };
  };
  if (c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4) < 0) return fail('SO_REUSEADDR');
  if (o.reusePort && c.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, one, 4) < 0) return fail('SO_REUSEPORT');
  if (family === 6 && c.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, one, 4) < 0) return fail('IPV6_V6ONLY');
  // Linux copies the listener's TCP_NODELAY into every socket it accepts.
  if (c.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4) < 0) return fail('TCP_NODELAY');
  if (c.bind(fd, sa, sa.length) < 0) return fail('bind');
  if (c.listen(fd, o.backlog) < 0) return fail('listen');
  return fd;
}

/** RLIMIT_NOFILE's soft limit (or `fallback` when it cannot be read). */
export function openFileLimit(fallback: number): number {
  const rl = new BigUint64Array(2);
  if (libc().getrlimit(7, rl) !== 0) return fallback;
  return rl[0] > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(rl[0]);
}

export function closeFd(fd: number): void {
  libc().close(fd);
}
