// The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): the header the proxy plane
// writes first on a real-server connection (and, for v2 over UDP, in front of every datagram) so
// the real server learns the client's address, which a full proxy otherwise hides.
// The decoder exists for tests and for anyone who wants to check what a real server will parse.
import type { Addr } from '../../core/addr.ts';
import type { ProxyProtocolVersion } from '../../core/proxy-protocol.ts';

export type { ProxyProtocolVersion };

/** proxy-protocol.txt §2.2: the 12-byte v2 signature. */
export const PP2_SIGNATURE: Readonly<Uint8Array> = Uint8Array.of(
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
);
/** Version 2 in the high nibble; command PROXY (1) or LOCAL (0) in the low one. */
const PP2_VER_CMD_PROXY = 0x21;
const PP2_VER_CMD_LOCAL = 0x20;
/** Address family (high nibble: 1 = INET, 2 = INET6) and transport (low nibble: 1 = STREAM, 2 = DGRAM). */
const PP2_FAM = { tcp4: 0x11, udp4: 0x12, tcp6: 0x21, udp6: 0x22 } as const;
/** §2.1: a v1 line is at most 107 bytes including CRLF. */
const PP1_MAX = 107;

export interface ProxyEndpoints {
  readonly transport: 'tcp' | 'udp';
  /** The client (source of the original connection). */
  readonly src: Addr;
  readonly sport: number;
  /** The address the client connected to (the VIP). */
  readonly dst: Addr;
  readonly dport: number;
}

/**
 * The header to send. v1 is text and has no UDP form (§2.1 names only TCP4/TCP6), so a UDP v1
 * request is a caller error. Mixed families cannot happen here: the client reached the VIP over
 * one family.
 */
export function encodeProxyHeader(version: ProxyProtocolVersion, e: ProxyEndpoints): Buffer {
  if (e.src.family !== e.dst.family) throw new Error('PROXY header: source and destination families differ');
  if (version === 'v1') {
    if (e.transport !== 'tcp') throw new Error('PROXY protocol v1 carries TCP only; use v2 for UDP');
    const fam = e.src.family === 4 ? 'TCP4' : 'TCP6';
    return Buffer.from(`PROXY ${fam} ${e.src.text} ${e.dst.text} ${e.sport} ${e.dport}\r\n`, 'latin1');
  }
  const v6 = e.src.family === 6;
  const addrLen = v6 ? 36 : 12;
  const b = Buffer.allocUnsafe(16 + addrLen);
  b.set(PP2_SIGNATURE, 0);
  b[12] = PP2_VER_CMD_PROXY;
  b[13] = e.transport === 'tcp' ? (v6 ? PP2_FAM.tcp6 : PP2_FAM.tcp4) : (v6 ? PP2_FAM.udp6 : PP2_FAM.udp4);
  b.writeUInt16BE(addrLen, 14);
  const alen = v6 ? 16 : 4;
  b.set(e.src.bytes, 16);
  b.set(e.dst.bytes, 16 + alen);
  b.writeUInt16BE(e.sport, 16 + 2 * alen);
  b.writeUInt16BE(e.dport, 18 + 2 * alen);
  return b;
}

export interface DecodedProxyHeader {
  readonly version: 1 | 2;
  /** v2 LOCAL (health checks) and v1 UNKNOWN carry no addresses. */
  readonly command: 'proxy' | 'local';
  readonly transport: 'tcp' | 'udp' | 'unknown';
  readonly family: 4 | 6 | 0;
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport: number;
  /** Bytes the header took; the payload starts there. */
  readonly length: number;
}

export type DecodeResult =
  | { readonly ok: true; readonly header: DecodedProxyHeader }
  | { readonly ok: false; readonly reason: 'incomplete' | 'not-proxy' | 'malformed' };

/** Parse a PROXY header at the start of `buf` (either version), as a real server would. */
export function decodeProxyHeader(buf: Uint8Array): DecodeResult {
  if (buf.length === 0) return { ok: false, reason: 'incomplete' };
  if (buf[0] === 0x0d) return decodeV2(buf);
  if (buf[0] === 0x50) return decodeV1(buf);
  return { ok: false, reason: 'not-proxy' };
}

function decodeV1(buf: Uint8Array): DecodeResult {
  const prefix = 'PROXY ';
  for (let i = 0; i < Math.min(prefix.length, buf.length); i++) {
    if (buf[i] !== prefix.charCodeAt(i)) return { ok: false, reason: 'not-proxy' };
  }
  let end = -1;
  for (let i = 0; i < Math.min(buf.length - 1, PP1_MAX - 1); i++) {
    if (buf[i] === 0x0d && buf[i + 1] === 0x0a) { end = i; break; }
  }
  if (end < 0) return { ok: false, reason: buf.length >= PP1_MAX ? 'malformed' : 'incomplete' };
  const line = Buffer.from(buf.buffer, buf.byteOffset, end).toString('latin1');
  const f = line.split(' ');
  if (f[1] === 'UNKNOWN') {
    return { ok: true, header: { version: 1, command: 'local', transport: 'unknown', family: 0, src: '', dst: '', sport: 0, dport: 0, length: end + 2 } };
  }
  if (f.length !== 6 || (f[1] !== 'TCP4' && f[1] !== 'TCP6')) return { ok: false, reason: 'malformed' };
  const sport = portOf(f[4]);
  const dport = portOf(f[5]);
  if (sport < 0 || dport < 0) return { ok: false, reason: 'malformed' };
  return {
    ok: true,
    header: { version: 1, command: 'proxy', transport: 'tcp', family: f[1] === 'TCP4' ? 4 : 6, src: f[2], dst: f[3], sport, dport, length: end + 2 },
  };
}

function portOf(s: string): number {
  if (!/^(0|[1-9]\d{0,4})$/.test(s)) return -1;
  const n = Number(s);
  return n <= 65535 ? n : -1;
}

function decodeV2(buf: Uint8Array): DecodeResult {
  const n = Math.min(buf.length, PP2_SIGNATURE.length);
  for (let i = 0; i < n; i++) if (buf[i] !== PP2_SIGNATURE[i]) return { ok: false, reason: 'not-proxy' };
  if (buf.length < 16) return { ok: false, reason: 'incomplete' };
  const verCmd = buf[12];
  const fam = buf[13];
  const len = (buf[14] << 8) | buf[15];
  if (buf.length < 16 + len) return { ok: false, reason: 'incomplete' };
  if ((verCmd & 0xf0) !== 0x20) return { ok: false, reason: 'malformed' };
  const length = 16 + len;
  if (verCmd === PP2_VER_CMD_LOCAL) {
    return { ok: true, header: { version: 2, command: 'local', transport: 'unknown', family: 0, src: '', dst: '', sport: 0, dport: 0, length } };
  }
  if (verCmd !== PP2_VER_CMD_PROXY) return { ok: false, reason: 'malformed' };
  const af = fam >> 4;
  const tp = fam & 0x0f;
  const transport = tp === 1 ? 'tcp' : tp === 2 ? 'udp' : 'unknown';
  if (af !== 1 && af !== 2) {
    // AF_UNSPEC / AF_UNIX: the receiver must ignore the address block (§2.2).
    return { ok: true, header: { version: 2, command: 'proxy', transport, family: 0, src: '', dst: '', sport: 0, dport: 0, length } };
  }
  const alen = af === 1 ? 4 : 16;
  if (len < 2 * alen + 4) return { ok: false, reason: 'malformed' };
  const at = (o: number) => buf.subarray(16 + o, 16 + o + alen);
  const text = af === 1 ? v4 : v6;
  return {
    ok: true,
    header: {
      version: 2, command: 'proxy', transport, family: af === 1 ? 4 : 6,
      src: text(at(0)), dst: text(at(alen)),
      sport: (buf[16 + 2 * alen] << 8) | buf[17 + 2 * alen],
      dport: (buf[18 + 2 * alen] << 8) | buf[19 + 2 * alen],
      length,
    },
  };
}

function v4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** Uncompressed but valid IPv6 text; tests compare through the core's address parser. */
function v6(b: Uint8Array): string {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i] << 8) | b[i + 1]).toString(16));
  return g.join(':');
}
