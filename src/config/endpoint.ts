// Value parsers with the C library's exact leniency, for text that must be read the way ipvsadm
// reads it: strtol-based numbers (ipvsadm.c: string_to_number, parse_fwmark), inet_aton addresses
// (which accept "10.1", "0x0a.0.0.1", octal parts and trailing blanks), inet_pton, ipvsadm.c's
// parse_service ("host[:port]", "[v6]:port", a bare v6 address without port), and /etc/services
// (getservbyname / getservbyport). Pure: names are resolved through functions the caller passes.
import { parseAddr } from '../core/addr.ts';

/** IANA protocol numbers, as ipvsadm keeps them in svc.protocol. */
export const IPPROTO = { IP: 0, TCP: 6, UDP: 17, SCTP: 132 } as const;

const C_SPACE = new Set([' ', '\t', '\n', '\v', '\f', '\r']);

export function isCSpace(c: string | undefined): boolean {
  return c !== undefined && C_SPACE.has(c);
}

/** C isdigit on one character. */
function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

/**
 * strtol(s, &end, 10) on a 64-bit long: leading blanks, an optional sign, decimal digits.
 * `end` is the index where parsing stopped (0 when no digits); `erange` when it overflowed.
 */
export function cStrtol(s: string): { value: bigint; end: number; erange: boolean } {
  let i = 0;
  while (isCSpace(s[i])) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') { neg = s[i] === '-'; i++; }
  const start = i;
  let v = 0n;
  while (isDigit(s[i])) { v = v * 10n + BigInt(s.charCodeAt(i) - 48); i++; }
  if (i === start) return { value: 0n, end: 0, erange: false };
  if (neg) v = -v;
  if (v > LONG_MAX) return { value: LONG_MAX, end: i, erange: true };
  if (v < LONG_MIN) return { value: LONG_MIN, end: i, erange: true };
  return { value: v, end: i, erange: false };
}

/** ipvsadm.c: string_to_number — the whole string must be a number in [min, max]; else -1. */
export function stringToNumber(s: string, min: number, max: number): number {
  const r = cStrtol(s);
  if (r.end === s.length && r.end !== 0 && !r.erange && r.value >= BigInt(min) && r.value <= BigInt(max)) {
    return Number(r.value);
  }
  return -1;
}

/**
 * ipvsadm.c: parse_fwmark — strtol into an unsigned long, then "l <= 0 || l > UINT_MAX" rejects
 * zero, and negative numbers too (they wrap to huge unsigned values). null when invalid.
 */
export function parseFwmarkText(s: string): number | null {
  const r = cStrtol(s);
  if (r.end !== s.length || r.end === 0 || r.erange) return null;
  if (r.value <= 0n || r.value > 0xffffffffn) return null;
  return Number(r.value);
}

/** C atoi (as strtol, but no error reporting; out-of-range values are not a concern here). */
export function cAtoi(s: string): number {
  const r = cStrtol(s);
  return r.end === 0 ? 0 : Number(BigInt.asIntN(32, r.value));
}

/** ipvsadm.c: str_is_digit — true for "" as well (its loop never finds a non-digit). */
export function isAllDigits(s: string): boolean {
  for (const c of s) if (!isDigit(c)) return false;
  return true;
}

/**
 * glibc inet_aton: 1 to 4 parts separated by dots, each decimal, octal (leading 0) or hex (0x);
 * the last part fills the remaining bytes ("10.1" is 10.0.0.1); the text may end with a blank
 * followed by anything. Returns network-order bytes or null.
 */
export function inetAton(s: string): Uint8Array | null {
  const parts: number[] = [];
  let i = 0;
  for (;;) {
    if (!isDigit(s[i])) return null;
    let base = 10;
    if (s[i] === '0') {
      if (s[i + 1] === 'x' || s[i + 1] === 'X') { base = 16; i += 2; } else { base = 8; i++; }
    }
    let v = 0;
    let digits = base === 8 ? 1 : 0;
    for (;;) {
      const c = s[i];
      if (c === undefined) break;
      const d = base === 16 ? parseInt(c, 16) : c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : NaN;
      if (Number.isNaN(d) || (base === 8 && d > 7)) break;
      v = v * base + d;
      if (v > 0xffffffff) return null;
      digits++;
      i++;
    }
    // glibc refuses "0x" without hex digits.
    if (digits === 0) return null;
    parts.push(v);
    if (s[i] === '.') {
      if (parts.length === 4) return null;
      i++;
      continue;
    }
    break;
  }
  if (i < s.length && !isCSpace(s[i])) return null;
  const limits = [0xffffffff, 0xffffff, 0xffff, 0xff];
  const last = parts[parts.length - 1];
  if (last > limits[parts.length - 1]) return null;
  for (let k = 0; k < parts.length - 1; k++) if (parts[k] > 0xff) return null;
  let v = last;
  for (let k = 0; k < parts.length - 1; k++) v += parts[k] * 2 ** (8 * (3 - k));
  return new Uint8Array([(v / 2 ** 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
}

/** glibc inet_pton(AF_INET): exactly four decimal parts 0..255, no leading zeros. */
export function inetPton4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let k = 0; k < 4; k++) {
    const p = parts[k];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return null;
    out[k] = Number(p);
  }
  return out;
}

/** inet_pton(AF_INET6). */
export function inetPton6(s: string): Uint8Array | null {
  if (!s.includes(':')) return null;
  const r = parseAddr(s);
  return r.ok && r.value.family === 6 ? r.value.bytes : null;
}

/**
 * glibc inet_ntop: dotted quad, or IPv6 with the first longest run (two or more) of zero groups
 * compressed, and an embedded dotted quad for ::a.b.c.d and ::ffff:a.b.c.d (inet_ntop6).
 */
export function addrText(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const w: number[] = [];
  for (let k = 0; k < 16; k += 2) w.push((bytes[k] << 8) | bytes[k + 1]);
  let bestBase = -1;
  let bestLen = 0;
  for (let k = 0; k < 8; ) {
    if (w[k] !== 0) { k++; continue; }
    let j = k;
    while (j < 8 && w[j] === 0) j++;
    if (j - k > bestLen) { bestBase = k; bestLen = j - k; }
    k = j;
  }
  if (bestLen < 2) { bestBase = -1; bestLen = 0; }
  let out = '';
  for (let k = 0; k < 8; k++) {
    if (bestBase >= 0 && k >= bestBase && k < bestBase + bestLen) {
      if (k === bestBase) out += ':';
      continue;
    }
    if (k !== 0) out += ':';
    if (k === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
      break;
    }
    out += w[k].toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** Any numeric address text to network-order bytes (v4 dotted quad or v6), or null. */
export function addrBytes(text: string): Uint8Array | null {
  return inetPton4(text) ?? inetPton6(text);
}

export type HostLookup = (name: string) => Uint8Array | null;
export type ServiceLookup = (name: string, protocol: number) => number | null;

/** ipvsadm.c: SERVICE_ADDR / SERVICE_PORT bits of parse_service's result. */
export const SERVICE_ADDR = 1;
export const SERVICE_PORT = 2;

export interface ParsedServiceAddress {
  /** SERVICE_ADDR | SERVICE_PORT bits; 0 when the text is refused. */
  readonly result: number;
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  /** The port when SERVICE_PORT is set. */
  readonly port: number | null;
}

const NONE: ParsedServiceAddress = { result: 0, family: 4, bytes: new Uint8Array(4), port: null };

/**
 * ipvsadm.c: parse_service, quirks included:
 *  - an all-digit text (and "") is refused;
 *  - "[v6]:port" needs the port: "[v6]" alone is refused;
 *  - inside brackets a text that is not IPv6 is looked at again for a last ':' — there is none
 *    left, so "[10.0.0.1]:80" is the IPv4 address without a port;
 *  - a bare IPv6 text has no port;
 *  - otherwise the text after the last ':' is the port, the rest an inet_aton address or a host
 *    name (first IPv4 address, gethostbyname);
 *  - the port is a number 0..65535 (strtol rules) or a service name for the protocol.
 */
export function parseServiceAddress(buf: string, protocol: number, host: HostLookup, service: ServiceLookup): ParsedServiceAddress {
  if (isAllDigits(buf)) return NONE;
  let text = buf;
  let portText: string | null = null;
  if (text.startsWith('[')) {
    text = text.slice(1);
    const close = text.indexOf(']');
    if (close < 0) return NONE;
    const after = text.slice(close + 1);
    text = text.slice(0, close);
    if (!after.startsWith(':')) return NONE;
    portText = after.slice(1);
  }
  let family: 4 | 6;
  let bytes: Uint8Array;
  const v6 = inetPton6(text);
  if (v6) {
    family = 6;
    bytes = v6;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0) {
      portText = text.slice(colon + 1);
      text = text.slice(0, colon);
    } else {
      portText = null;
    }
    const v4 = inetAton(text) ?? host(text);
    if (!v4) return NONE;
    family = 4;
    bytes = v4;
  }
  if (portText === null) return { result: SERVICE_ADDR, family, bytes, port: null };
  let port = stringToNumber(portText, 0, 65535);
  if (port === -1) port = service(portText, protocol) ?? -1;
  if (port === -1) return NONE;
  return { result: SERVICE_ADDR | SERVICE_PORT, family, bytes, port };
}

/** One /etc/services entry. */
interface ServiceEntry {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly port: number;
  readonly proto: string;
}

/** getservbyname / getservbyport over the text of /etc/services (the NSS "files" source). */
export class ServicesDb {
  private readonly entries: readonly ServiceEntry[];

  constructor(text: string) {
    const entries: ServiceEntry[] = [];
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (line === '') continue;
      const f = line.split(/\s+/);
      const m = /^(\d+)\/(\w+)$/.exec(f[1] ?? '');
      if (!m) continue;
      const port = Number(m[1]);
      if (port > 65535) continue;
      entries.push({ name: f[0], aliases: f.slice(2), port, proto: m[2].toLowerCase() });
    }
    this.entries = entries;
  }

  /** The port of a service name (or alias) for a protocol name ("tcp", "udp", "sctp"). */
  portOf(name: string, proto: string): number | null {
    const e = this.entries.find((x) => x.proto === proto && (x.name === name || x.aliases.includes(name)));
    return e ? e.port : null;
  }

  /** The official name of the first entry with that port and protocol. */
  nameOf(port: number, proto: string): string | null {
    const e = this.entries.find((x) => x.proto === proto && x.port === port);
    return e ? e.name : null;
  }
}

/** ipvsadm.c: service_to_port / port_to_service consult only tcp, udp and sctp. */
export function protocolName(protocol: number): string | null {
  return protocol === IPPROTO.TCP ? 'tcp' : protocol === IPPROTO.UDP ? 'udp' : protocol === IPPROTO.SCTP ? 'sctp' : null;
}
