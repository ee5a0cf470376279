// The VRRP advertisement on the wire: VRRPv2 (RFC 3768 §5) and VRRPv3 (RFC 5798 §5), over IPv4 and IPv6,
// laid out exactly as keepalived builds and reads it (keepalived/include/vrrp.h vrrphdr_t; vrrp.c
// vrrp_build_ip4, vrrp_build_vrrp_v2/_v3, vrrp_get_header, expected_vrrp_pkt_len). Pure: bytes in, bytes out.
//
//   0                   1                   2                   3
//   | ver | type  |     VRID      |   Priority    | Count IPvX    |
//   v2: | Auth Type     | Adver Int (s) |          Checksum              |
//   v3: |rsvd | Max Adver Int (cs, 12 bits)   |          Checksum              |
//   IPvX address(es), then (v2 over IPv4 only) 8 bytes of authentication data.
import { addrFromBytes, type Addr, type Family } from '../core/addr.ts';
import { inetChecksum, ipv4PseudoSum, ipv6PseudoSum, onesSum } from './checksum.ts';

export const IPPROTO_VRRP = 112;
/** IPsec AH (RFC 2402), used by VRRPv2 `auth_type AH`. */
export const IPPROTO_AH = 51;
/** RFC 3768 §5.2.2 / RFC 5798 §5.1.1.2. */
export const VRRP_MCAST4 = '224.0.0.18';
/** RFC 5798 §5.1.2.2. */
export const VRRP_MCAST6 = 'ff02::12';
/** RFC 3768 §5.2.3: sent with TTL / hop limit 255; receivers discard anything else. */
export const VRRP_TTL = 255;
/** IPTOS_PREC_INTERNETCONTROL, keepalived's IP TOS / IPv6 traffic class (vrrp_if.c if_setsockopt_priority). */
export const VRRP_TOS = 0xc0;
export const VRRP_TYPE_ADVERT = 1;
export const VRRP_HEADER_LEN = 8;
/** RFC 3768 §5.3.10: VRRPv2 carries 8 bytes of authentication data after the addresses (IPv4). */
export const VRRP_AUTH_LEN = 8;
export const IPV4_HEADER_LEN = 20;
/** RFC 2402 §2 with a 96-bit ICV: next header, payload length, reserved, SPI, sequence number, ICV. */
export const AH_HEADER_LEN = 24;
/** Priority 0: the master is resigning (RFC 3768 §5.3.4). */
export const PRIO_STOP = 0;
/** Priority 255: the address owner. */
export const PRIO_OWNER = 255;

/** RFC 3768 §5.3.6 authentication types. */
export const AUTH_TYPE = { none: 0, pass: 1, ah: 2 } as const;
export type AuthTypeName = keyof typeof AUTH_TYPE;

export type VrrpVersion = 2 | 3;

/** The 8-byte fixed header as received; fields are raw wire values. */
export interface VrrpHeader {
  readonly version: number;
  readonly type: number;
  readonly vrid: number;
  readonly priority: number;
  /** "Count IPvX Addr". */
  readonly naddr: number;
  /** v2 only (0 in v3). */
  readonly authType: number;
  /** v2: seconds (8 bits). v3: centiseconds (12 bits). */
  readonly adverInt: number;
  /** v3: the 4 reserved bits (0 when sent by keepalived). */
  readonly reserved: number;
  readonly checksum: number;
}

export interface Ipv4Header {
  readonly ihl: number;
  readonly tos: number;
  readonly totalLength: number;
  readonly id: number;
  readonly fragment: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly headerChecksum: number;
  readonly src: Addr;
  readonly dst: Addr;
}

export interface AhHeader {
  readonly nextHeader: number;
  readonly payloadLen: number;
  readonly spi: number;
  readonly seq: number;
  readonly icv: Uint8Array;
}

/** What to build: an advertisement from one virtual router. */
export interface AdvertSpec {
  readonly version: VrrpVersion;
  readonly family: Family;
  readonly vrid: number;
  readonly priority: number;
  /** v2: seconds; v3: centiseconds. */
  readonly adverInt: number;
  readonly addrs: readonly Addr[];
  /** v2 only; default none. */
  readonly authType?: number;
  /** v2/IPv4 only: the 8 authentication bytes (PASS: the password NUL-padded; otherwise zeros). */
  readonly authData?: Uint8Array;
}

/** VRRP message length for a header (keepalived expected_vrrp_pkt_len). */
export function vrrpMessageLength(version: number, family: Family, naddr: number): number {
  if (family === 4) return VRRP_HEADER_LEN + (version === 2 ? VRRP_AUTH_LEN : 0) + naddr * 4;
  return VRRP_HEADER_LEN + naddr * 16;
}

export function parseVrrpHeader(buf: Uint8Array, offset = 0): VrrpHeader {
  const b = buf;
  const o = offset;
  const version = b[o] >> 4;
  const v3 = version === 3;
  const word = (b[o + 4] << 8) | b[o + 5];
  return {
    version,
    type: b[o] & 0x0f,
    vrid: b[o + 1],
    priority: b[o + 2],
    naddr: b[o + 3],
    authType: v3 ? 0 : b[o + 4],
    adverInt: v3 ? word & 0x0fff : b[o + 5],
    reserved: v3 ? word >> 12 : 0,
    checksum: (b[o + 6] << 8) | b[o + 7],
  };
}

export function parseIpv4Header(buf: Uint8Array): Ipv4Header | null {
  if (buf.length < IPV4_HEADER_LEN || buf[0] >> 4 !== 4) return null;
  const ihl = (buf[0] & 0x0f) * 4;
  if (ihl < IPV4_HEADER_LEN || buf.length < ihl) return null;
  return {
    ihl,
    tos: buf[1],
    totalLength: (buf[2] << 8) | buf[3],
    id: (buf[4] << 8) | buf[5],
    fragment: (buf[6] << 8) | buf[7],
    ttl: buf[8],
    protocol: buf[9],
    headerChecksum: (buf[10] << 8) | buf[11],
    src: addrFromBytes(buf.subarray(12, 16)),
    dst: addrFromBytes(buf.subarray(16, 20)),
  };
}

export function parseAhHeader(buf: Uint8Array, offset: number): AhHeader {
  const u32 = (o: number) => ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
  return {
    nextHeader: buf[offset],
    payloadLen: buf[offset + 1],
    spi: u32(offset + 4),
    seq: u32(offset + 8),
    icv: buf.slice(offset + 12, offset + 24),
  };
}

/** The addresses carried after the header (callers check the length first). */
export function readAddrs(family: Family, buf: Uint8Array, offset: number, n: number): Addr[] {
  const size = family === 4 ? 4 : 16;
  const out: Addr[] = [];
  for (let i = 0; i < n; i++) out.push(addrFromBytes(buf.subarray(offset + i * size, offset + (i + 1) * size)));
  return out;
}

/**
 * Where the VRRP header sits in a received buffer (keepalived vrrp_get_header): IPv4 raw sockets deliver
 * the IP header (and an AH header when the IP protocol is 51); IPv6 raw sockets deliver the payload only.
 * Null when the buffer cannot even hold the headers ("packet too short").
 */
export function locateVrrp(family: Family, buf: Uint8Array): { ip: Ipv4Header | null; ahOffset: number; vrrpOffset: number } | null {
  if (family === 6) return buf.length >= VRRP_HEADER_LEN ? { ip: null, ahOffset: -1, vrrpOffset: 0 } : null;
  const ip = parseIpv4Header(buf);
  if (!ip || buf.length < ip.ihl + VRRP_HEADER_LEN) return null;
  if (ip.protocol === IPPROTO_AH) {
    if (buf.length < ip.ihl + AH_HEADER_LEN + VRRP_HEADER_LEN) return null;
    return { ip, ahOffset: ip.ihl, vrrpOffset: ip.ihl + AH_HEADER_LEN };
  }
  return { ip, ahOffset: -1, vrrpOffset: ip.ihl };
}

/** Pseudo-header source/destination for a checksum (RFC 5798 §5.2.8). */
export interface ChecksumAddrs {
  readonly src: Addr;
  readonly dst: Addr;
}

/**
 * The checksum a VRRP message must carry. v2 over IPv4 covers the message only (so unicast and multicast
 * adverts carry the same value, see samples vrrpv2-advert-ucast.txt). v3 over IPv4 adds the IPv4
 * pseudo-header, so the destination matters. Over IPv6 (v2 or v3) the kernel computes it with the IPv6
 * pseudo-header (IPV6_CHECKSUM offset 6); the codec computes the same value for tests and fakes.
 * `msg` must have its checksum field zeroed, or the result is the verification sum (0 when valid).
 */
export function vrrpChecksum(version: number, family: Family, msg: Uint8Array, addrs: ChecksumAddrs | null): number {
  if (family === 4) {
    if (version === 2) return inetChecksum(msg);
    if (!addrs) throw new Error('a VRRPv3 IPv4 checksum needs the source and destination addresses');
    return inetChecksum(msg, ipv4PseudoSum(addrs.src.bytes, addrs.dst.bytes, IPPROTO_VRRP, msg.length));
  }
  if (!addrs) throw new Error('an IPv6 VRRP checksum needs the source and destination addresses');
  return inetChecksum(msg, ipv6PseudoSum(addrs.src.bytes, addrs.dst.bytes, IPPROTO_VRRP, msg.length));
}

/** True when `msg` (checksum field included) sums to zero under the given pseudo-header. */
export function vrrpChecksumValid(version: number, family: Family, msg: Uint8Array, addrs: ChecksumAddrs | null): boolean {
  if (family === 4 && version === 2) return onesSum(msg) === 0xffff;
  return vrrpChecksum(version, family, msg, addrs) === 0;
}

/**
 * Build the VRRP message (no IP header). The checksum is filled in when it can be computed here: v2/IPv4
 * always, v3/IPv4 and IPv6 when `addrs` (the pseudo-header addresses) is given; otherwise left 0 for the
 * kernel (IPv6) or the caller.
 */
export function encodeVrrp(spec: AdvertSpec, addrs: ChecksumAddrs | null = null): Uint8Array {
  const { version, family } = spec;
  if (spec.addrs.length > 255) throw new Error('at most 255 addresses fit in an advertisement');
  for (const a of spec.addrs) if (a.family !== family) throw new Error(`address ${a.text} is not IPv${family}`);
  const len = vrrpMessageLength(version, family, spec.addrs.length);
  const b = new Uint8Array(len);
  b[0] = (version << 4) | VRRP_TYPE_ADVERT;
  b[1] = spec.vrid;
  b[2] = spec.priority;
  b[3] = spec.addrs.length;
  if (version === 2) {
    b[4] = spec.authType ?? AUTH_TYPE.none;
    b[5] = spec.adverInt & 0xff;
  } else {
    // RFC 5798 §5.2.7: 4 reserved bits (zero) then 12 bits of centiseconds.
    const cs = spec.adverInt & 0x0fff;
    b[4] = cs >> 8;
    b[5] = cs & 0xff;
  }
  let o = VRRP_HEADER_LEN;
  for (const a of spec.addrs) {
    b.set(a.bytes, o);
    o += a.bytes.length;
  }
  if (version === 2 && family === 4 && spec.authData) b.set(spec.authData.subarray(0, VRRP_AUTH_LEN), o);
  if (family === 4 && version === 2) writeChecksum(b, vrrpChecksum(2, 4, b, null));
  else if (addrs) writeChecksum(b, vrrpChecksum(version, family, b, addrs));
  return b;
}

function writeChecksum(msg: Uint8Array, sum: number): void {
  msg[6] = sum >> 8;
  msg[7] = sum & 0xff;
}

export interface Ipv4Spec {
  readonly tos: number;
  readonly id: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly src: Addr;
  readonly dst: Addr;
}

/**
 * An IPv4 header + payload, as keepalived hands it to a IP_HDRINCL socket (vrrp_build_ip4: no options,
 * DF clear, TOS 0xc0). The header checksum is computed here; the kernel would fill it in anyway.
 */
export function encodeIpv4(spec: Ipv4Spec, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(IPV4_HEADER_LEN + payload.length);
  b[0] = 0x45;
  b[1] = spec.tos;
  b[2] = b.length >> 8;
  b[3] = b.length & 0xff;
  b[4] = (spec.id >> 8) & 0xff;
  b[5] = spec.id & 0xff;
  b[8] = spec.ttl;
  b[9] = spec.protocol;
  b.set(spec.src.bytes, 12);
  b.set(spec.dst.bytes, 16);
  const sum = inetChecksum(b.subarray(0, IPV4_HEADER_LEN));
  b[10] = sum >> 8;
  b[11] = sum & 0xff;
  b.set(payload, IPV4_HEADER_LEN);
  return b;
}

/** Password bytes for `auth_pass`: keepalived keeps the first 8 characters, NUL-padded (vrrp_parser.c). */
export function passwordAuthData(password: string): Uint8Array {
  const out = new Uint8Array(VRRP_AUTH_LEN);
  out.set(new TextEncoder().encode(password).subarray(0, VRRP_AUTH_LEN));
  return out;
}

/** Advertisement interval in microseconds from the wire field. */
export function adverIntMicros(version: number, field: number): number {
  return version === 3 ? field * 10_000 : field * 1_000_000;
}
