// Raw IP sockets (VRRP: IP protocol 112, AH: 51), AF_PACKET and netlink sockets through koffi, with
// receiving done off the event loop: one worker thread (raw-socket-worker.ts) poll()s every registered
// descriptor and a wake pipe, reads with recvmsg() and posts datagrams back; nothing here blocks.
// Socket options follow keepalived (vrrp.c open_vrrp_send_socket / open_vrrp_read_socket, vrrp_if.c
// if_setsockopt_*), verified on this kernel (reference/kernel-dataplane.md §7): the receive socket
// joins the group on the interface (IP_ADD_MEMBERSHIP with ip_mreqn) and sets IP_MULTICAST_ALL=0,
// the IPv4 send socket builds its own header (IP_HDRINCL), the IPv6 sockets let the kernel compute and
// verify the checksum (IPV6_CHECKSUM offset 6). Needs CAP_NET_RAW. x86-64/aarch64 Linux layouts.
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import koffi from 'koffi';
import { isIPv4 } from 'node:net';

// ---------------------------------------------------------------------------------------------- constants
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_PRIORITY = 12;
const SO_BINDTODEVICE = 25;
const SO_ATTACH_FILTER = 26;
const IPPROTO_IP = 0;
const IPPROTO_IPV6 = 41;
const IP_TOS = 1;
const IP_TTL = 2;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IP_MULTICAST_ALL = 49;
const IPV6_CHECKSUM = 7;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_ADD_MEMBERSHIP = 20;
const IPV6_MULTICAST_ALL = 29;
const IPV6_RECVPKTINFO = 49;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_TCLASS = 67;
const MSG_DONTROUTE = 4;
export const EAGAIN = 11;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

/** A failed system call, with errno. */
export class SysError extends Error {
  readonly call: string;
  readonly errno: number;
  constructor(call: string, errno: number, detail = '') {
    super(`${call} failed: errno ${errno}${errnoName(errno) ? ` (${errnoName(errno)})` : ''}${detail ? `: ${detail}` : ''}`);
    this.call = call;
    this.errno = errno;
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 9: 'EBADF', 11: 'EAGAIN', 13: 'EACCES', 19: 'ENODEV', 22: 'EINVAL', 93: 'EPROTONOSUPPORT',
  97: 'EAFNOSUPPORT', 98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL', 100: 'ENETDOWN', 101: 'ENETUNREACH', 105: 'ENOBUFS',
  113: 'EHOSTUNREACH',
};

export function errnoName(errno: number): string | undefined {
  return ERRNO_NAMES[errno];
}

// ---------------------------------------------------------------------------------------------- libc
type Fn = (...args: unknown[]) => unknown;

/** The libc functions this room uses (loaded once, on first use). */
export interface Libc {
  socket: Fn;
  setsockopt: Fn;
  bind: Fn;
  sendto: Fn;
  close: Fn;
  pipe2: Fn;
  write: Fn;
  read: Fn;
  recvmsg: Fn;
  sendmsg: Fn;
  poll: Fn;
  malloc: Fn;
  free: Fn;
  if_nametoindex: Fn;
}

let libcCache: Libc | null = null;

export function libc(): Libc {
  if (libcCache) return libcCache;
  const lib = koffi.load('libc.so.6');
  libcCache = {
    socket: lib.func('int socket(int, int, int)') as Fn,
    setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)') as Fn,
    bind: lib.func('int bind(int, const void *, uint32_t)') as Fn,
    sendto: lib.func('long sendto(int, const void *, size_t, int, const void *, uint32_t)') as Fn,
    close: lib.func('int close(int)') as Fn,
    pipe2: lib.func('int pipe2(_Out_ int *fds, int flags)') as Fn,
    write: lib.func('long write(int, const void *, size_t)') as Fn,
    read: lib.func('long read(int, void *, size_t)') as Fn,
    recvmsg: lib.func('long recvmsg(int, void *, int)') as Fn,
    sendmsg: lib.func('long sendmsg(int, void *, int)') as Fn,
    poll: lib.func('int poll(void *, uint64_t, int)') as Fn,
    malloc: lib.func('void *malloc(size_t)') as Fn,
    free: lib.func('void free(void *)') as Fn,
    if_nametoindex: lib.func('uint32_t if_nametoindex(const char *)') as Fn,
  };
  return libcCache;
}

export function errno(): number {
  return koffi.errno() as number;
}

function check(call: string, r: unknown, detail = ''): number {
  const n = Number(r);
  if (n < 0) throw new SysError(call, errno(), detail);
  return n;
}

function intBuf(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}

export function setsockoptInt(fd: number, level: number, name: number, value: number, what: string): void {
  check(`setsockopt(${what})`, libc().setsockopt(fd, level, name, intBuf(value), 4));
}

function setsockoptBuf(fd: number, level: number, name: number, value: Buffer, what: string): void {
  check(`setsockopt(${what})`, libc().setsockopt(fd, level, name, value, value.length));
}

/** Index of an interface by name (if_nametoindex); 0 when it does not exist. */
export function ifIndex(name: string): number {
  return Number(libc().if_nametoindex(name));
}

export function addrBytes(text: string): Uint8Array {
  if (isIPv4(text)) return new Uint8Array(text.split('.').map(Number));
  return ipv6Bytes(text);
}

function ipv6Bytes(text: string): Uint8Array {
  const [head, tail] = text.split('::');
  const parse = (s: string | undefined) => (s ? s.split(':').filter((x) => x !== '') : []);
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** struct sockaddr_in / sockaddr_in6 for an address (port 0). */
export function sockaddr(text: string, scopeId = 0): Buffer {
  const bytes = addrBytes(text);
  if (bytes.length === 4) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.set(bytes, 4);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.set(bytes, 8);
  b.writeUInt32LE(scopeId, 24);
  return b;
}

function isLinkLocal6(b: Uint8Array): boolean {
  return b.length === 16 && b[0] === 0xfe && (b[1] & 0xc0) === 0x80;
}

function isMulticast(b: Uint8Array): boolean {
  return b.length === 4 ? (b[0] & 0xf0) === 0xe0 : b[0] === 0xff;
}

// ---------------------------------------------------------------------------------------------- reader

/** One received datagram. Addresses are raw bytes (4 or 16); null when the kernel did not say. */
export interface Datagram {
  readonly data: Uint8Array;
  readonly src: Uint8Array | null;
  /** IPv6: from IPV6_PKTINFO; IPv4 UDP: from IP_PKTINFO. (IPv4 raw sockets carry the destination in the IP header.) */
  readonly dst: Uint8Array | null;
  /** IPv6: from IPV6_HOPLIMIT; IPv4 UDP: from IP_TTL (IP_RECVTTL). */
  readonly hopLimit: number | null;
  /** MSG_TRUNC: the datagram was larger than the buffer. */
  readonly truncated: boolean;
}

export type DatagramKind = 'inet4' | 'inet6' | 'netlink' | 'packet';

interface WorkerBatch {
  readonly type: 'batch';
  readonly items: { fd: number; data: ArrayBuffer; src: ArrayBuffer | null; dst: ArrayBuffer | null; hop: number | null; trunc: boolean }[];
}

/** Datagrams a batch may hold before the worker waits for the main thread (back-pressure to the kernel). */
const MAX_PENDING = 4096;

/** The shared reader thread. Created on first use; unref'd so it never keeps the process alive. */
class DatagramReader {
  private worker: Worker | null = null;
  private port: MessagePort | null = null;
  private wakeFd = -1;
  private pending: Int32Array | null = null;
  private readonly handlers = new Map<number, (d: Datagram) => void>();
  private readonly removals = new Map<number, () => void>();
  private readonly wakeByte = Buffer.from([1]);

  private ensure(): void {
    if (this.worker) return;
    const fds = [0, 0];
    check('pipe2', libc().pipe2(fds, O_NONBLOCK | O_CLOEXEC));
    this.wakeFd = fds[1];
    const { port1, port2 } = new MessageChannel();
    const shared = new SharedArrayBuffer(4);
    this.pending = new Int32Array(shared);
    const worker = new Worker(new URL('./raw-socket-worker.ts', import.meta.url), {
      workerData: { port: port2, wakeFd: fds[0], shared, maxPending: MAX_PENDING },
      transferList: [port2],
    });
    this.worker = worker;
    worker.unref();
    worker.on('error', (e) => process.emitWarning(`raw socket reader thread failed: ${(e as Error).message}`));
    // The pipe outlives the thread's last poll(); close both ends once it has gone.
    const port = port1;
    worker.once('exit', () => {
      libc().close(fds[0]);
      libc().close(fds[1]);
      port.close();
    });
    this.port = port;
    port.unref();
    port.on('message', (m: WorkerBatch | { type: 'removed'; fd: number }) => this.onMessage(m));
  }

  private onMessage(m: WorkerBatch | { type: 'removed'; fd: number }): void {
    if (m.type === 'removed') {
      const done = this.removals.get(m.fd);
      this.removals.delete(m.fd);
      done?.();
      this.maybeIdle();
      return;
    }
    for (const it of m.items) {
      const h = this.handlers.get(it.fd);
      if (!h) continue;
      try {
        h({
          data: new Uint8Array(it.data),
          src: it.src ? new Uint8Array(it.src) : null,
          dst: it.dst ? new Uint8Array(it.dst) : null,
          hopLimit: it.hop,
          truncated: it.trunc,
        });
      } catch (e) {
        process.emitWarning(`datagram handler for fd ${it.fd} threw: ${(e as Error).message}`);
      }
    }
    if (this.pending) {
      Atomics.sub(this.pending, 0, m.items.length);
      Atomics.notify(this.pending, 0);
    }
  }

  private wake(): void {
    libc().write(this.wakeFd, this.wakeByte, 1);
  }

  add(fd: number, kind: DatagramKind, handler: (d: Datagram) => void): void {
    this.ensure();
    this.handlers.set(fd, handler);
    this.port!.ref();
    this.port!.postMessage({ type: 'add', fd, kind });
    this.wake();
  }

  /** Stop reading `fd`; resolves once the worker no longer polls it (then it is safe to close). */
  remove(fd: number): Promise<void> {
    if (!this.handlers.has(fd) || !this.port) return Promise.resolve();
    this.handlers.delete(fd);
    return new Promise<void>((resolve) => {
      this.removals.set(fd, resolve);
      this.port!.postMessage({ type: 'remove', fd });
      this.wake();
    });
  }

  /** With nothing left to read, the thread ends (a later add starts a new one), so exit is never held up. */
  private maybeIdle(): void {
    if (this.handlers.size !== 0 || this.removals.size !== 0 || !this.port) return;
    this.port.postMessage({ type: 'stop' });
    this.wake();
    this.port.unref();
    this.port = null;
    this.worker = null;
    this.wakeFd = -1;
  }
}

const reader = new DatagramReader();

/** Register any descriptor with the shared reader (netlink.ts and garp.ts use this too). */
export function readDatagrams(fd: number, kind: DatagramKind, handler: (d: Datagram) => void): () => Promise<void> {
  reader.add(fd, kind, handler);
  return () => reader.remove(fd);
}

// ---------------------------------------------------------------------------------------------- VRRP sockets

export interface RawSocketOptions {
  readonly family: 4 | 6;
  /** 112 (VRRP) or 51 (AH). */
  readonly protocol: number;
  /** SO_BINDTODEVICE; null for unicast without an interface. */
  readonly ifname: string | null;
  /** Receive: join this multicast group on the interface and bind to it (multicast instances). */
  readonly multicastGroup: string | null;
  /** Receive (unicast): bind to unicast_src_ip. Send: the source address (bound, IPv6). */
  readonly localAddress: string | null;
  /** Send: unicast hop limit (IPv6; IPv4 carries the TTL in the header it builds). */
  readonly unicastHops?: number;
}

/** A socket pair as keepalived opens it: one for reading (registered with the reader), one for sending. */
export interface VrrpSocket {
  /**
   * IPv4: `packet` is the whole IP packet (IP_HDRINCL, so it carries its source). IPv6: the VRRP message,
   * sent from `src` on the interface (IPV6_PKTINFO, as keepalived's vrrp_build_ancillary_data), so the
   * kernel never picks a virtual address as the source.
   */
  send(packet: Uint8Array, dst: string, multicast: boolean, src?: string | null): void;
  close(): Promise<void>;
}

function dropAllFilter(fd: number): void {
  // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } = BPF_RET|BPF_K 0: accept nothing.
  const insn = libc().malloc(8) as bigint;
  const v = new DataView(koffi.view(insn, 8));
  v.setUint16(0, 0x06, true);
  v.setUint32(4, 0, true);
  // struct sock_fprog { u16 len; (pad) struct sock_filter *filter; }
  const prog = Buffer.alloc(16);
  prog.writeUInt16LE(1, 0);
  prog.writeBigUInt64LE(insn, 8);
  try {
    setsockoptBuf(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog, 'SO_ATTACH_FILTER');
  } finally {
    libc().free(insn);
  }
}

function bindToDevice(fd: number, ifname: string): void {
  setsockoptBuf(fd, SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(ifname + '\0'), `SO_BINDTODEVICE ${ifname}`);
}

function openSendSocket(o: RawSocketOptions, ifindex: number): number {
  const L = libc();
  const fd = check('socket', L.socket(o.family === 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, o.protocol));
  try {
    setsockoptInt(fd, SOL_SOCKET, SO_RCVBUF, 0, 'SO_RCVBUF');
    if (o.family === 4) {
      setsockoptInt(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, 'IP_MULTICAST_ALL');
      setsockoptInt(fd, IPPROTO_IP, IP_HDRINCL, 1, 'IP_HDRINCL');
    } else {
      setsockoptInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0, 'IPV6_MULTICAST_ALL');
      setsockoptInt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, 6, 'IPV6_CHECKSUM');
      setsockoptInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255, 'IPV6_MULTICAST_HOPS');
      setsockoptInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, o.unicastHops ?? 255, 'IPV6_UNICAST_HOPS');
    }
    if (o.ifname) {
      bindToDevice(fd, o.ifname);
      if (o.family === 4) {
        // struct ip_mreqn { in_addr multiaddr; in_addr address; int ifindex; }
        const m = Buffer.alloc(12);
        m.writeInt32LE(ifindex, 8);
        setsockoptBuf(fd, IPPROTO_IP, IP_MULTICAST_IF, m, 'IP_MULTICAST_IF');
        setsockoptInt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, 'IP_MULTICAST_LOOP');
        setsockoptInt(fd, IPPROTO_IP, IP_MULTICAST_TTL, 255, 'IP_MULTICAST_TTL');
      } else {
        setsockoptInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex, 'IPV6_MULTICAST_IF');
        setsockoptInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, 'IPV6_MULTICAST_LOOP');
      }
    }
    // TOS / traffic class 0xc0 (IPTOS_PREC_INTERNETCONTROL), as keepalived's if_setsockopt_priority.
    if (o.family === 4) {
      setsockoptInt(fd, IPPROTO_IP, IP_TOS, 0xc0, 'IP_TOS');
      setsockoptInt(fd, IPPROTO_IP, IP_TTL, 255, 'IP_TTL');
    } else {
      setsockoptInt(fd, IPPROTO_IPV6, IPV6_TCLASS, 0xc0, 'IPV6_TCLASS');
      if (o.localAddress) {
        const b = addrBytes(o.localAddress);
        check('bind', L.bind(fd, sockaddr(o.localAddress, isLinkLocal6(b) ? ifindex : 0), 28), `source ${o.localAddress}`);
      }
    }
    setsockoptInt(fd, SOL_SOCKET, SO_PRIORITY, 6, 'SO_PRIORITY');
    dropAllFilter(fd);
    return fd;
  } catch (e) {
    L.close(fd);
    throw e;
  }
}

function openReadSocket(o: RawSocketOptions, ifindex: number): number {
  const L = libc();
  const fd = check('socket', L.socket(o.family === 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, o.protocol));
  try {
    if (o.family === 4) setsockoptInt(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, 'IP_MULTICAST_ALL');
    else setsockoptInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0, 'IPV6_MULTICAST_ALL');
    if (o.multicastGroup) {
      const group = addrBytes(o.multicastGroup);
      if (o.family === 4) {
        const m = Buffer.alloc(12);
        m.set(group, 0);
        m.writeInt32LE(ifindex, 8);
        setsockoptBuf(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, m, `IP_ADD_MEMBERSHIP ${o.multicastGroup}`);
        // Bound to the group address, the socket sees only multicast adverts (no unicast ones).
        check('bind', L.bind(fd, sockaddr(o.multicastGroup), 16), o.multicastGroup);
      } else {
        // struct ipv6_mreq { in6_addr; int ifindex; }
        const m = Buffer.alloc(20);
        m.set(group, 0);
        m.writeInt32LE(ifindex, 16);
        setsockoptBuf(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, m, `IPV6_ADD_MEMBERSHIP ${o.multicastGroup}`);
        check('bind', L.bind(fd, sockaddr(o.multicastGroup, ifindex), 28), o.multicastGroup);
      }
    } else if (o.localAddress) {
      const b = addrBytes(o.localAddress);
      check('bind', L.bind(fd, sockaddr(o.localAddress, isLinkLocal6(b) ? ifindex : 0), b.length === 4 ? 16 : 28), `unicast_src ${o.localAddress}`);
    }
    if (o.family === 6) {
      setsockoptInt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, 'IPV6_RECVHOPLIMIT');
      setsockoptInt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, 'IPV6_RECVPKTINFO');
      setsockoptInt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, 6, 'IPV6_CHECKSUM');
    }
    if (o.ifname) bindToDevice(fd, o.ifname);
    return fd;
  } catch (e) {
    L.close(fd);
    throw e;
  }
}

/** Native scratch memory for sendmsg: msghdr | iovec | sockaddr_in6 | cmsg(in6_pktinfo) | data. */
let sendArea: { base: bigint; bytes: Uint8Array; view: DataView } | null = null;
const SEND_DATA = 256;
const SEND_LEN = SEND_DATA + 65536;

function sendWithPktinfo(fd: number, packet: Uint8Array, sa: Buffer, src: Uint8Array, ifindex: number, flags: number): number {
  if (!sendArea) {
    const base = libc().malloc(SEND_LEN) as bigint;
    const ab = koffi.view(base, SEND_LEN) as ArrayBuffer;
    sendArea = { base, bytes: new Uint8Array(ab), view: new DataView(ab) };
  }
  const { base, bytes, view: v } = sendArea;
  const len = Math.min(packet.length, SEND_LEN - SEND_DATA);
  bytes.fill(0, 0, SEND_DATA);
  bytes.set(packet.subarray(0, len), SEND_DATA);
  bytes.set(sa.subarray(0, 28), 80);
  // struct iovec at 64
  v.setBigUint64(64, base + BigInt(SEND_DATA), true);
  v.setBigUint64(72, BigInt(len), true);
  // cmsghdr at 112: len = CMSG_LEN(sizeof in6_pktinfo) = 16 + 20; level IPPROTO_IPV6; type IPV6_PKTINFO (50)
  v.setBigUint64(112, 36n, true);
  v.setInt32(120, IPPROTO_IPV6, true);
  v.setInt32(124, 50, true);
  bytes.set(src, 128);
  v.setInt32(144, ifindex, true);
  // struct msghdr at 0
  v.setBigUint64(0, base + 80n, true);
  v.setUint32(8, 28, true);
  v.setBigUint64(16, base + 64n, true);
  v.setBigUint64(24, 1n, true);
  v.setBigUint64(32, base + 112n, true);
  v.setBigUint64(40, 40n, true); // CMSG_SPACE(20)
  v.setInt32(48, 0, true);
  return Number(libc().sendmsg(fd, base, flags));
}

/**
 * Open a VRRP socket pair. `onDatagram` gets every packet the kernel delivers (IPv4: with the IP
 * header). Throws SysError (EPERM without CAP_NET_RAW, ENODEV for a missing interface, ...).
 */
export function openVrrpSocket(o: RawSocketOptions, onDatagram: (d: Datagram) => void): VrrpSocket {
  const ifindex = o.ifname ? ifIndex(o.ifname) : 0;
  if (o.ifname && ifindex === 0) throw new SysError('if_nametoindex', 19, o.ifname);
  const rfd = openReadSocket(o, ifindex);
  let sfd: number;
  try {
    sfd = openSendSocket(o, ifindex);
  } catch (e) {
    libc().close(rfd);
    throw e;
  }
  const stopReading = readDatagrams(rfd, o.family === 4 ? 'inet4' : 'inet6', onDatagram);
  const L = libc();
  const dests = new Map<string, Buffer>();
  let closed = false;
  return {
    send(packet, dst, multicast, src) {
      if (closed) throw new SysError('sendto', 9, 'socket closed');
      let sa = dests.get(dst);
      if (!sa) {
        const b = addrBytes(dst);
        sa = sockaddr(dst, b.length === 16 && (isLinkLocal6(b) || isMulticast(b)) ? ifindex : 0);
        dests.set(dst, sa);
      }
      const flags = multicast ? MSG_DONTROUTE : 0;
      if (o.family === 6 && src) {
        check('sendmsg', sendWithPktinfo(sfd, packet, sa, addrBytes(src), ifindex, flags), `${src} -> ${dst}`);
        return;
      }
      check('sendto', L.sendto(sfd, packet, packet.length, flags, sa, sa.length), dst);
    },
    async close() {
      if (closed) return;
      closed = true;
      await stopReading();
      L.close(rfd);
      L.close(sfd);
    },
  };
}
