// BFD's UDP sockets (RFC 5881), as keepalived 2.2.7 opens them (keepalived/bfd/bfd_scheduler.c:
// bfd_open_fd_in, bfd_open_fd_out, read_local_port_range):
// - one receive socket per address family on port 3784, asking the kernel for each datagram's TTL /
//   hop limit (IP_RECVTTL, IPV6_RECVHOPLIMIT) and destination (IP_PKTINFO, IPV6_RECVPKTINFO). Node's
//   dgram cannot return ancillary data, so this one is a koffi socket read by the shared reader thread
//   of raw-socket.ts (recvmsg, no blocking on the event loop). keepalived uses one dual-stack IPv6
//   socket; we open an IPv6-only one next to the IPv4 one, so addresses never arrive v4-mapped.
// - one send socket per session: Node's dgram, bound to source_ip (or the wildcard) and a source port
//   in 49152-65535 (RFC 5881 §4) — keepalived picks a random port in ip_local_port_range ∩ that range
//   and walks up on EADDRINUSE; without source_ip it leaves the port to the kernel, we bind anyway so
//   the RFC's range always holds — with TTL / hop limit 255 (RFC 5881 §5; dgram's setTTL sets IP_TTL
//   or IPV6_UNICAST_HOPS).
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { AF_INET, AF_INET6, SysError, addrBytes, errno, libc, readDatagrams, setsockoptInt } from './raw-socket.ts';

const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_IP = 0;
const IPPROTO_IPV6 = 41;
const IP_PKTINFO = 8;
const IP_RECVTTL = 12;
const IPV6_V6ONLY = 26;
const IPV6_RECVPKTINFO = 49;
const IPV6_RECVHOPLIMIT = 51;

/** RFC 5881 §4: the source port range of a control packet. */
export const BFD_MIN_PORT = 49152;
export const BFD_MAX_PORT = 65535;

export interface BfdDatagram {
  readonly data: Uint8Array;
  /** Source address, canonical text. */
  readonly src: string;
  /** Destination address when the kernel said (pktinfo). */
  readonly dst: string | null;
  /** Received TTL / hop limit; null when the kernel gave none. */
  readonly ttl: number | null;
  readonly truncated: boolean;
}

export interface BfdReceiver {
  close(): Promise<void>;
}

export interface BfdSender {
  readonly localPort: number;
  /** Resolves false (with the error counted by the caller) when the kernel refused the datagram. */
  send(data: Uint8Array): Promise<boolean>;
  close(): void;
}

export interface BfdSenderOptions {
  readonly family: 4 | 6;
  readonly neighbor: string;
  readonly port: number;
  readonly source: string | null;
  readonly ttl: number;
  readonly random?: () => number;
}

/** The sockets a BFD process needs; tests give a fake. */
export interface BfdNet {
  openReceiver(family: 4 | 6, port: number, onDatagram: (d: BfdDatagram) => void): BfdReceiver;
  openSender(o: BfdSenderOptions): Promise<BfdSender>;
}

function addrText(b: Uint8Array): string {
  if (b.length === 4) return b.join('.');
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i] << 8) | b[i + 1]).toString(16));
  // RFC 5952: compress the longest run of zero groups.
  let best = -1;
  let len = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > len && j - i > 1) { best = i; len = j - i; }
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + len).join(':')}`;
}

function sockaddrWithPort(family: 4 | 6, address: string | null, port: number): Buffer {
  if (family === 4) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    if (address) b.set(addrBytes(address), 4);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  if (address) b.set(addrBytes(address), 8);
  return b;
}

/** The receive socket for one family: wildcard address, `port` (3784), TTL and destination reported. */
export function openBfdReceiver(family: 4 | 6, port: number, onDatagram: (d: BfdDatagram) => void): BfdReceiver {
  const L = libc();
  const fd = Number(L.socket(family === 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd < 0) throw new SysError('socket(SOCK_DGRAM)', errno());
  try {
    if (family === 4) {
      setsockoptInt(fd, IPPROTO_IP, IP_RECVTTL, 1, 'IP_RECVTTL');
      setsockoptInt(fd, IPPROTO_IP, IP_PKTINFO, 1, 'IP_PKTINFO');
    } else {
      setsockoptInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, 'IPV6_V6ONLY');
      setsockoptInt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, 'IPV6_RECVHOPLIMIT');
      setsockoptInt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, 'IPV6_RECVPKTINFO');
    }
    const sa = sockaddrWithPort(family, null, port);
    if (Number(L.bind(fd, sa, sa.length)) < 0) throw new SysError('bind', errno(), `${family === 4 ? '0.0.0.0' : '[::]'}:${port}`);
  } catch (e) {
    L.close(fd);
    throw e;
  }
  const stop = readDatagrams(fd, family === 4 ? 'inet4' : 'inet6', (d) => {
    if (!d.src) return;
    onDatagram({ data: d.data, src: addrText(d.src), dst: d.dst ? addrText(d.dst) : null, ttl: d.hopLimit, truncated: d.truncated });
  });
  let closed = false;
  return {
    close: async () => {
      if (closed) return;
      closed = true;
      await stop();
      L.close(fd);
    },
  };
}

/** ip_local_port_range ∩ [49152, 65535], at least 1024 ports wide, else the whole BFD range. */
export function sourcePortRange(procText: string | null): readonly [number, number] {
  let lo = BFD_MIN_PORT;
  let hi = BFD_MAX_PORT;
  const m = procText ? /^\s*(\d+)\s+(\d+)\s*$/.exec(procText) : null;
  if (m) {
    lo = Math.max(Number(m[1]), BFD_MIN_PORT);
    hi = Math.min(Number(m[2]), BFD_MAX_PORT);
    if (lo + 1023 > hi) {
      lo = BFD_MIN_PORT;
      hi = BFD_MAX_PORT;
    }
  }
  return [lo, hi];
}

function bindDgram(sock: Socket, address: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const onError = (e: Error) => resolve(e as NodeJS.ErrnoException);
    sock.once('error', onError);
    sock.bind({ address, port, exclusive: true }, () => {
      sock.off('error', onError);
      resolve(null);
    });
  });
}

/** A session's send socket; walks the port range from a random start on EADDRINUSE. */
export async function openBfdSender(o: BfdSenderOptions): Promise<BfdSender> {
  let proc: string | null = null;
  try {
    proc = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'latin1');
  } catch {
    proc = null;
  }
  const [lo, hi] = sourcePortRange(proc);
  const span = hi - lo + 1;
  const start = lo + Math.floor((o.random ?? Math.random)() * span);
  const address = o.source ?? (o.family === 4 ? '0.0.0.0' : '::');
  // Bounded: a handful of tries is enough unless the range is exhausted, which we then report.
  for (let i = 0; i < Math.min(span, 256); i++) {
    const port = lo + ((start - lo + i) % span);
    const sock = createSocket({ type: o.family === 4 ? 'udp4' : 'udp6' });
    const e = await bindDgram(sock, address, port);
    if (e) {
      sock.close();
      if (e.code === 'EADDRINUSE') continue;
      throw new SysError('bind', -(e.errno ?? 0), `${address}:${port}: ${e.code ?? e.message}`);
    }
    sock.setTTL(o.ttl);
    sock.on('error', () => {});
    sock.unref();
    let closed = false;
    return {
      localPort: port,
      send: (data) => new Promise((resolve) => {
        if (closed) return resolve(false);
        sock.send(data, o.port, o.neighbor, (err) => resolve(!err));
      }),
      close: () => {
        if (closed) return;
        closed = true;
        sock.close();
      },
    };
  }
  throw new SysError('bind', 98, `no free source port in ${lo}-${hi} on ${address}`);
}

export const systemBfdNet: BfdNet = { openReceiver: openBfdReceiver, openSender: openBfdSender };
