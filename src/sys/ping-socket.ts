// ICMP / ICMPv6 echo for PING_CHECK, through koffi (Node has no ICMP sockets).
//
// Like keepalived (keepalived/check/check_ping.c) we prefer an unprivileged "ping socket"
// (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)): the kernel owns the ICMP id and checksum and hands
// us only replies to our socket. Linux allows it when our gid is inside
// /proc/sys/net/ipv4/ping_group_range (keepalived widens that range itself; we do not touch
// sysctls). Otherwise we fall back to a raw socket (needs CAP_NET_RAW), where we set the id,
// compute the IPv4 checksum, strip the IPv4 header and filter replies ourselves.
//
// One socket per family serves every PING_CHECK: each echo gets its own sequence number, and one
// receive loop (a blocking recvfrom with a 200 ms SO_RCVTIMEO, run on the libuv thread pool by
// koffi's async calls) matches replies by (source address, sequence). The payload is 128 bytes,
// keepalived's ICMP_BUFSIZE.
import { libc as lib, lastErrno, AF_INET, AF_INET6, SOCK_DGRAM, SOCK_CLOEXEC, SOL_SOCKET, SO_BINDTODEVICE, EAGAIN } from './libc.ts';
import { isIPv4, isIPv6 } from 'node:net';

const SOCK_RAW = 3;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
const SO_RCVTIMEO = 20;

const ICMP_ECHO = 8;
const ICMP_ECHOREPLY = 0;
const ICMP_DEST_UNREACH = 3;
const ICMP6_ECHO_REQUEST = 128;
const ICMP6_ECHO_REPLY = 129;
const ICMP6_DST_UNREACH = 1;
export const ICMP_PAYLOAD = 128;

export type PingVerdict = 'reply' | 'timeout' | 'unreachable' | 'error' | 'aborted';

export interface PingAnswer {
  readonly verdict: PingVerdict;
  readonly message: string;
}

/** AbortSignal's shape; the health checker passes a lighter object with the same methods. */
export interface PingSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', fn: () => void, opts?: { once?: boolean }): void;
  removeEventListener(type: 'abort', fn: () => void): void;
}

export interface Pinger {
  /** Which socket kind serves `family` ('dgram' ping socket or 'raw'), or an error text. */
  readonly mode: (family: 4 | 6) => 'dgram' | 'raw' | string;
  /** `bind`: PING_CHECK's bind_if / bindto (check_ping.c), on a socket of their own. */
  ping(address: string, timeoutMs: number, signal?: PingSignal, bind?: PingBind): Promise<PingAnswer>;
  close(): void;
}

/** keepalived's bind_if (SO_BINDTODEVICE) and bindto for PING_CHECK. */
export interface PingBind {
  readonly bindIf?: string;
  readonly bindto?: string;
}

/** RFC 1071 Internet checksum. */
export function inetChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (b.length % 2) sum += b[b.length - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/** An echo request: type, code 0, checksum, id, sequence, 128 payload bytes. */
export function echoRequest(family: 4 | 6, id: number, seq: number, withChecksum: boolean): Uint8Array {
  const m = new Uint8Array(8 + ICMP_PAYLOAD);
  m[0] = family === 4 ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
  m[4] = (id >> 8) & 0xff;
  m[5] = id & 0xff;
  m[6] = (seq >> 8) & 0xff;
  m[7] = seq & 0xff;
  for (let i = 0; i < ICMP_PAYLOAD; i++) m[8 + i] = 0x20 + (i % 0x5f);
  if (withChecksum) {
    const c = inetChecksum(m);
    m[2] = c >> 8;
    m[3] = c & 0xff;
  }
  return m;
}

export interface ParsedIcmp {
  readonly kind: 'reply' | 'unreachable' | 'other';
  readonly id: number;
  readonly seq: number;
}

/**
 * Parse what recvfrom returned. Raw IPv4 sockets include the IPv4 header; an unreachable carries
 * the original datagram, whose echo id/seq tell whose ping it was.
 */
export function parseIcmp(family: 4 | 6, raw: boolean, buf: Uint8Array): ParsedIcmp | null {
  let off = 0;
  if (family === 4 && raw) {
    if (buf.length < 20) return null;
    off = (buf[0] & 0x0f) * 4;
  }
  if (buf.length < off + 8) return null;
  const type = buf[off];
  const reply = family === 4 ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
  const unreach = family === 4 ? ICMP_DEST_UNREACH : ICMP6_DST_UNREACH;
  if (type === reply) return { kind: 'reply', id: (buf[off + 4] << 8) | buf[off + 5], seq: (buf[off + 6] << 8) | buf[off + 7] };
  if (type === unreach) {
    // ICMP header (8), then the offending packet: IPv4 header (IHL) or IPv6 header (40), then our echo.
    let inner = off + 8;
    if (family === 4) {
      if (buf.length < inner + 20) return null;
      inner += (buf[inner] & 0x0f) * 4;
    } else {
      inner += 40;
    }
    if (buf.length < inner + 8) return null;
    return { kind: 'unreachable', id: (buf[inner + 4] << 8) | buf[inner + 5], seq: (buf[inner + 6] << 8) | buf[inner + 7] };
  }
  return { kind: 'other', id: 0, seq: 0 };
}

function sockaddr(family: 4 | 6, address: string): Uint8Array {
  if (family === 4) {
    const sa = new Uint8Array(16);
    new DataView(sa.buffer).setUint16(0, AF_INET, true);
    address.split('.').forEach((p, i) => { sa[4 + i] = Number(p); });
    return sa;
  }
  const sa = new Uint8Array(28);
  new DataView(sa.buffer).setUint16(0, AF_INET6, true);
  sa.set(v6Bytes(address), 8);
  return sa;
}

function v6Bytes(address: string): Uint8Array {
  const out = new Uint8Array(16);
  let a = address;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const p = v4[1].split('.').map(Number);
    tail = [(p[0] << 8) | p[1], (p[2] << 8) | p[3]];
    a = a.slice(0, -v4[1].length) + '0:0';
  }
  const [head, rest] = a.includes('::') ? a.split('::') : [a, null];
  const h = head ? head.split(':').filter((x) => x !== '').map((x) => parseInt(x, 16)) : [];
  const r = rest ? rest.split(':').filter((x) => x !== '').map((x) => parseInt(x, 16)) : [];
  const groups = rest === null ? h : [...h, ...new Array(8 - h.length - r.length).fill(0), ...r];
  if (tail.length) { groups[6] = tail[0]; groups[7] = tail[1]; }
  groups.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff; });
  return out;
}

function addrText(family: 4 | 6, sa: Uint8Array): string {
  if (family === 4) return `${sa[4]}.${sa[5]}.${sa[6]}.${sa[7]}`;
  const g: string[] = [];
  for (let i = 0; i < 8; i++) g.push(((sa[8 + 2 * i] << 8) | sa[9 + 2 * i]).toString(16));
  return g.join(':');
}

function normal(family: 4 | 6, address: string): string {
  return family === 4 ? address : addrText(6, sockaddr(6, address));
}

interface Pending {
  readonly key: string;
  readonly resolve: (a: PingAnswer) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

class FamilySocket {
  readonly family: 4 | 6;
  readonly fd: number;
  readonly raw: boolean;
  readonly #id: number;
  #seq = 0;
  readonly #pending = new Map<string, Pending>();
  #receiving = false;
  #closed = false;
  readonly #buf = new Uint8Array(1500);
  readonly #from = new Uint8Array(28);
  readonly #fromLen = [28];

  constructor(family: 4 | 6, fd: number, raw: boolean) {
    this.family = family;
    this.fd = fd;
    this.raw = raw;
    this.#id = process.pid & 0xffff;
  }

  ping(address: string, timeoutMs: number, signal?: PingSignal): Promise<PingAnswer> {
    const c = lib();
    const seq = this.#seq = (this.#seq + 1) & 0xffff;
    const to = normal(this.family, address);
    const key = `${to}/${seq}`;
    // Ping sockets take the id from the socket; the checksum is the kernel's for them and for ICMPv6.
    const msg = echoRequest(this.family, this.#id, seq, this.raw && this.family === 4);
    const sa = sockaddr(this.family, address);
    return new Promise((resolve) => {
      const finish = (a: PingAnswer) => {
        const p = this.#pending.get(key);
        if (!p) return;
        clearTimeout(p.timer);
        this.#pending.delete(key);
        signal?.removeEventListener('abort', onAbort);
        resolve(a);
      };
      const onAbort = () => finish({ verdict: 'aborted', message: 'aborted' });
      const timer = setTimeout(() => finish({ verdict: 'timeout', message: `no echo reply within ${timeoutMs} ms` }), timeoutMs);
      this.#pending.set(key, { key, resolve: finish, timer });
      signal?.addEventListener('abort', onAbort, { once: true });
      const n = Number(c.sendto(this.fd, msg, msg.length, 0, sa, sa.length));
      if (n < 0) {
        finish({ verdict: 'unreachable', message: `sendto: errno ${lastErrno()}` });
        return;
      }
      this.#receive();
    });
  }

  #receive(): void {
    if (this.#receiving || this.#closed || this.#pending.size === 0) return;
    this.#receiving = true;
    this.#fromLen[0] = this.#from.length;
    lib().recvfrom.async(this.fd, this.#buf, this.#buf.length, 0, this.#from, this.#fromLen, (err: unknown, res: number | bigint) => {
      this.#receiving = false;
      if (this.#closed) {
        // Closed while the call was blocked: only now is the fd free to close (and be reused).
        lib().close(this.fd);
        return;
      }
      const n = Number(res);
      if (!err && n > 0) this.#dispatch(this.#buf.subarray(0, n), addrText(this.family, this.#from));
      else if (n < 0 && lastErrno() !== EAGAIN) {
        // A persistent error: fail everyone waiting rather than spin.
        for (const p of [...this.#pending.values()]) p.resolve({ verdict: 'error', message: `recvfrom: errno ${lastErrno()}` });
      }
      this.#receive();
    });
  }

  #dispatch(buf: Uint8Array, from: string): void {
    const m = parseIcmp(this.family, this.raw, buf);
    if (!m || m.kind === 'other') return;
    // Raw sockets see every echo reply on the host: keep ours (ping sockets rewrite the id).
    if (this.raw && m.id !== this.#id) return;
    if (m.kind === 'reply') this.#pending.get(`${from}/${m.seq}`)?.resolve({ verdict: 'reply', message: `echo reply from ${from}` });
    else {
      for (const p of this.#pending.values()) {
        if (p.key.endsWith(`/${m.seq}`)) p.resolve({ verdict: 'unreachable', message: `destination unreachable (from ${from})` });
      }
    }
  }

  close(): void {
    this.#closed = true;
    for (const p of [...this.#pending.values()]) p.resolve({ verdict: 'aborted', message: 'socket closed' });
    if (!this.#receiving) lib().close(this.fd);
  }
}

function open(family: 4 | 6, rawOnly: boolean, bind?: PingBind): FamilySocket | string {
  const c = lib();
  const domain = family === 4 ? AF_INET : AF_INET6;
  const proto = family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
  let raw = false;
  let fd = rawOnly ? -1 : c.socket(domain, SOCK_DGRAM | SOCK_CLOEXEC, proto);
  const why = rawOnly ? 'ping socket not tried' : fd < 0 ? `ping socket: errno ${lastErrno()}` : '';
  if (fd < 0) {
    fd = c.socket(domain, SOCK_RAW | SOCK_CLOEXEC, proto);
    raw = true;
    if (fd < 0) return `${why}; raw socket: errno ${lastErrno()} (needs CAP_NET_RAW or a gid in net.ipv4.ping_group_range)`;
  }
  // check_ping.c: bind_if, then bindto, before the first echo; a failure is the checker's error.
  if (bind?.bindIf) {
    const name = new TextEncoder().encode(`${bind.bindIf}\0`);
    if (c.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length) < 0) {
      const e = lastErrno();
      c.close(fd);
      return `Checker can't bind to device ${bind.bindIf}: errno ${e}`;
    }
  }
  if (bind?.bindto) {
    const sa = sockaddr(family, bind.bindto);
    if (c.bind(fd, sa, sa.length) < 0) {
      const e = lastErrno();
      c.close(fd);
      return `bind ${bind.bindto} failed: errno ${e}`;
    }
  }
  // struct timeval { 0 s, 200 000 µs }: the blocking receive wakes at least that often.
  const tv = new Uint8Array(16);
  new DataView(tv.buffer).setBigInt64(8, 200_000n, true);
  c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16);
  return new FamilySocket(family, fd, raw);
}

/** Open the shared pinger; sockets are created on first use per family. `rawOnly` skips ping sockets (tests). */
export function createPinger(opts: { rawOnly?: boolean } = {}): Pinger {
  // One socket per family, and one per family and bind options for checkers with bind_if/bindto.
  const sockets = new Map<string, FamilySocket | string>();
  const get = (family: 4 | 6, bind?: PingBind) => {
    const key = bind && (bind.bindIf || bind.bindto) ? `${family}|${bind.bindIf ?? ''}|${bind.bindto ?? ''}` : `${family}`;
    let s = sockets.get(key);
    if (s === undefined) {
      s = open(family, opts.rawOnly ?? false, key === `${family}` ? undefined : bind);
      sockets.set(key, s);
    }
    return s;
  };
  return {
    mode: (family) => {
      const s = get(family);
      return typeof s === 'string' ? s : s.raw ? 'raw' : 'dgram';
    },
    ping(address, timeoutMs, signal, bind) {
      const family: 4 | 6 | null = isIPv4(address) ? 4 : isIPv6(address) ? 6 : null;
      if (family === null) return Promise.resolve({ verdict: 'error', message: `not an IP address: ${address}` });
      const s = get(family, bind);
      if (typeof s === 'string') return Promise.resolve({ verdict: 'error', message: s });
      return s.ping(address, timeoutMs, signal);
    },
    close() {
      for (const s of sockets.values()) if (typeof s !== 'string') s.close();
      sockets.clear();
    },
  };
}
