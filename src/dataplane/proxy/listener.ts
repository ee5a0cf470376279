// Opening the sockets a virtual service listens on: a TCP listener or a UDP socket on VIP:port.
//
// TCP accept path. net.Server cannot give accepted sockets an `onread` buffer (only net.connect
// takes one), and without it every read allocates a fresh buffer and goes through the Readable
// machinery. So once the server listens, its libuv handle's accept callback (the `onconnection`
// property node:net sets in setupListenHandle) is replaced by one that receives the raw client
// handle: the plane schedules from getpeername() before any Socket exists, and builds the Socket
// itself with a pooled `onread` buffer. If a future Node lays this out differently the hook is
// skipped and the public 'connection' event is used instead (same behaviour, the slower read path).
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import type { Addr } from '../../core/addr.ts';
import { endpointText } from '../../core/addr.ts';
import type { DataPlaneError } from '../dataplane.ts';
import type { RawTcpHandle } from './tcp.ts';

/** A listener or bind that failed; `error` is the DataPlaneError the daemon reports. */
export class ListenError extends Error {
  readonly error: DataPlaneError;

  constructor(error: DataPlaneError) {
    super(error.message);
    this.name = 'ListenError';
    this.error = error;
  }
}

export interface TcpListenOptions {
  readonly backlog: number;
  /** SO_REUSEPORT, for several processes or workers sharing one VIP:port. */
  readonly reusePort: boolean;
}

export interface TcpAccept {
  /** A raw handle from the hooked accept path. */
  handle(h: RawTcpHandle): void;
  /** A Socket from the 'connection' event (fallback). */
  socket(s: net.Socket): void;
  /** accept(2) failed (EMFILE, ENFILE, …): the listener keeps listening. */
  error(errno: number): void;
}

interface HookableHandle {
  onconnection?: (err: number, handle: RawTcpHandle | undefined) => void;
  setNoDelay?: (on: boolean) => number;
}

/**
 * Linux copies the listening socket's TCP_NODELAY into every socket it accepts (the child is a
 * clone of the listener's sock), so setting it once on the listener saves a setsockopt(2) per
 * connection. Elsewhere the fast engine (tcp-handles.ts) sets it on each accepted socket.
 */
export const ACCEPTED_INHERIT_NODELAY = process.platform === 'linux';

/** Listen on vip:port; resolves once listening, rejects with a ListenError naming the address. */
export function listenTcp(vip: Addr, port: number, opts: TcpListenOptions, accept: TcpAccept): Promise<{ server: net.Server; hooked: boolean }> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
    const onError = (e: NodeJS.ErrnoException) => {
      server.close();
      reject(bindError('tcp', vip, port, e));
    };
    server.once('error', onError);
    server.listen({ host: vip.text, port, backlog: opts.backlog, reusePort: opts.reusePort, ipv6Only: vip.family === 6 }, () => {
      server.off('error', onError);
      // A listening socket's later errors are accept errors; they must not crash the daemon.
      server.on('error', () => accept.error(0));
      const h = (server as unknown as { _handle?: HookableHandle | null })._handle;
      let hooked = false;
      if (h && typeof h.onconnection === 'function') {
        if (typeof h.setNoDelay === 'function') h.setNoDelay(true);
        h.onconnection = (err, handle) => {
          if (err !== 0 || handle === undefined) accept.error(err);
          else accept.handle(handle);
        };
        hooked = true;
      } else {
        server.on('connection', (s: net.Socket) => accept.socket(s));
      }
      resolve({ server, hooked });
    });
  });
}

/** Bind a UDP socket on vip:port. */
export function bindUdp(vip: Addr, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket({ type: vip.family === 6 ? 'udp6' : 'udp4', ipv6Only: vip.family === 6 });
    const onError = (e: NodeJS.ErrnoException) => {
      sock.close();
      reject(bindError('udp', vip, port, e));
    };
    sock.once('error', onError);
    sock.bind({ address: vip.text, port, exclusive: true }, () => {
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

/** The error for a listen or bind that failed with errno name `e.code`, naming the address. */
export function bindError(protocol: 'tcp' | 'udp', vip: Addr, port: number, e: { code?: string; message: string }): ListenError {
  const where = `${protocol.toUpperCase()} ${endpointText(vip, port)}`;
  let why: string;
  switch (e.code) {
    case 'EADDRINUSE': why = 'the address is already in use'; break;
    case 'EADDRNOTAVAIL': why = 'the VIP is not an address of this host (add it to an interface first)'; break;
    case 'EACCES': why = 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)'; break;
    default: why = e.message;
  }
  return new ListenError({
    code: 'BIND_FAILED',
    message: `cannot listen on ${where}: ${why}`,
    context: { protocol, vip: vip.text, port, errno: e.code ?? null },
  });
}
