// Checker sockets with the options Node's net and dgram cannot set: SO_MARK (keepalived's fwmark)
// and SO_BINDTODEVICE (bind_if), then bindto/bind_port, as keepalived's lib/layer4.c
// (tcp_bind_connect, udp_bind_connect) sets them before connecting. The socket is made through
// koffi; a TCP one is handed to Node as a net.Socket (which then connects it, so TLS and the
// stream checkers work on it unchanged), a UDP one is driven here with non-blocking send/recv.
//
// Privileges: SO_MARK needs CAP_NET_ADMIN; SO_BINDTODEVICE needs CAP_NET_RAW on kernels before
// 5.7. Without them setsockopt fails with EPERM and the checker reports SOCKERR (no verdict), as
// keepalived logs "Checker can't bind to device" / "Error setting fwmark" and reschedules.
import net from 'node:net';
import { sockaddr } from './tcp-connect.ts';
import { libc as lib, lastErrno, AF_INET, AF_INET6, SOCK_STREAM, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_CLOEXEC, SOL_SOCKET, SO_BINDTODEVICE, SO_MARK, EAGAIN, errnoName } from './libc.ts';

export interface BindOptions {
  readonly family: 4 | 6;
  readonly bindto?: string;
  readonly bindPort?: number;
  readonly bindIf?: string;
  readonly fwmark?: number;
}

/** An error shaped like Node's (code, syscall), so the checkers classify it as they classify net's. */
function sysError(what: string, e: number): NodeJS.ErrnoException {
  const code = errnoName(e);
  const err = new Error(`${what}: ${code}`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = -e;
  err.syscall = what;
  return err;
}

/** A socket of `type` with the options applied and bound; the fd, or the error (fd closed). */
function openFd(type: number, o: BindOptions): { fd: number } | { error: NodeJS.ErrnoException } {
  const c = lib();
  const fd = c.socket(o.family === 4 ? AF_INET : AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return { error: sysError('socket', lastErrno()) };
  const fail = (what: string) => {
    const e = lastErrno();
    c.close(fd);
    return { error: sysError(what, e) };
  };
  if (o.fwmark) {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, o.fwmark >>> 0, true);
    if (c.setsockopt(fd, SOL_SOCKET, SO_MARK, v, 4) < 0) return fail(`SO_MARK ${o.fwmark}`);
  }
  if (o.bindIf) {
    const name = new TextEncoder().encode(`${o.bindIf}\0`);
    if (c.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length) < 0) return fail(`SO_BINDTODEVICE ${o.bindIf}`);
  }
  if (o.bindto !== undefined || o.bindPort !== undefined) {
    const sa = sockaddr(o.family, o.bindto ?? (o.family === 4 ? '0.0.0.0' : '::'), o.bindPort ?? 0);
    if (!sa) {
      c.close(fd);
      return { error: sysError(`bind ${o.bindto}`, 22) };
    }
    if (c.bind(fd, sa, sa.length) < 0) return fail('bind');
  }
  return { fd };
}

/**
 * net.connect for a checker that sets fwmark or bind_if: a net.Socket that connects to
 * address:port from a socket with the options applied. A setup failure is emitted as the socket's
 * 'error' (code EPERM, ENODEV, EADDRINUSE, ...), as net.connect reports its own.
 */
export function boundTcpConnect(o: BindOptions & { readonly address: string; readonly port: number }): net.Socket {
  const r = openFd(SOCK_STREAM, o);
  if ('error' in r) {
    const s = new net.Socket();
    queueMicrotask(() => s.destroy(r.error));
    return s;
  }
  const s = new net.Socket({ fd: r.fd, readable: true, writable: true });
  s.connect({ host: o.address, port: o.port });
  return s;
}

export type DatagramAnswer =
  | { readonly verdict: 'reply'; readonly data: Uint8Array }
  | { readonly verdict: 'timeout' }
  | { readonly verdict: 'aborted' }
  | { readonly verdict: 'refused' | 'setup'; readonly error: NodeJS.ErrnoException };

export interface DatagramSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', fn: () => void, opts?: { once?: boolean }): void;
  removeEventListener(type: 'abort', fn: () => void): void;
}

/**
 * One UDP exchange from a socket with the options applied (udp_bind_connect): connect to the
 * peer, send `payload`, wait up to `timeoutMs` for a datagram `accept` takes (default: any; DNS
 * skips replies to other queries). A connected UDP socket hears the
 * peer's ICMP port unreachable as ECONNREFUSED ('refused'). The wait polls recv() with a backoff
 * from 1 to 16 ms: these checkers are few (only those with fwmark/bind_if come here).
 */
export function boundUdpExchange(
  o: BindOptions & { readonly address: string; readonly port: number }, payload: Uint8Array, timeoutMs: number, signal?: DatagramSignal,
  accept: (data: Uint8Array) => boolean = () => true,
): Promise<DatagramAnswer> {
  const c = lib();
  const r = openFd(SOCK_DGRAM, o);
  if ('error' in r) return Promise.resolve({ verdict: 'setup', error: r.error });
  const fd = r.fd;
  const peer = sockaddr(o.family, o.address, o.port);
  if (!peer || c.connect(fd, peer, peer.length) < 0) {
    const e = peer ? lastErrno() : 22;
    c.close(fd);
    return Promise.resolve({ verdict: e === 111 ? 'refused' : 'setup', error: sysError('connect', e) });
  }
  if (Number(c.send(fd, payload, payload.length, 0)) < 0) {
    const e = lastErrno();
    c.close(fd);
    return Promise.resolve({ verdict: e === 111 ? 'refused' : 'setup', error: sysError('send', e) });
  }
  const deadline = performance.now() + timeoutMs;
  const buf = new Uint8Array(65536);
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let delay = 1;
    const finish = (a: DatagramAnswer): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      c.close(fd);
      resolve(a);
    };
    const onAbort = (): void => finish({ verdict: 'aborted' });
    const poll = (): void => {
      timer = null;
      for (;;) {
        const n = Number(c.recv(fd, buf, buf.length, 0));
        if (n < 0) break;
        const data = buf.slice(0, n);
        if (accept(data)) return finish({ verdict: 'reply', data });
      }
      const e = lastErrno();
      if (e !== EAGAIN) return finish({ verdict: e === 111 ? 'refused' : 'setup', error: sysError('recv', e) });
      const left = deadline - performance.now();
      if (left <= 0) return finish({ verdict: 'timeout' });
      timer = setTimeout(poll, Math.min(delay, left));
      delay = Math.min(delay * 2, 16);
    };
    if (signal?.aborted) return finish({ verdict: 'aborted' });
    signal?.addEventListener('abort', onAbort, { once: true });
    poll();
  });
}
