// Addresses as the kernel sees them: raw bytes in network order, plus the folded u32 that
// every IPVS hash uses (include/net/ip_vs.h: an IPv6 address is folded as a[0]^a[1]^a[2]^a[3]
// over its 32-bit words, then ntohl()).
import { type Result, ok, err } from './result.ts';
import { coreError, type CoreError } from './errors.ts';

export type Family = 4 | 6;

export interface Addr {
  readonly family: Family;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
  /** Canonical text: dotted quad, or RFC 5952 compressed IPv6 (no brackets). */
  readonly text: string;
  /** ntohl(addr_fold): the u32 the kernel's sh/dh/mh/lblc hashes start from. */
  readonly fold: number;
}

function fromBytes(family: Family, bytes: Uint8Array): Addr {
  let fold = 0;
  for (let i = 0; i < bytes.length; i += 4) {
    fold ^= ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
  }
  return { family, bytes, text: family === 4 ? v4Text(bytes) : v6Text(bytes), fold: fold >>> 0 };
}

function v4Text(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

// RFC 5952 §4: lower case, longest run (first on ties) of two or more zero groups becomes "::".
function v6Text(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i] << 8) | b[i + 1]);
  // IPv4-mapped and IPv4-compatible forms print the tail as a dotted quad, as inet_ntop does.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && (g[5] === 0xffff)) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (x: number) => x.toString(16);
  if (bestStart < 0) return g.map(hex).join(':');
  const head = g.slice(0, bestStart).map(hex).join(':');
  const tail = g.slice(bestStart + bestLen).map(hex).join(':');
  return `${head}::${tail}`;
}

function parseV4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseV6(s: string): Uint8Array | null {
  if (s.length === 0 || s.length > 45) return null;
  let tail4: Uint8Array | null = null;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > lastColon) {
    tail4 = parseV4(text.slice(lastColon + 1));
    if (!tail4) return null;
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) return null;
  const groups: number[] = [];
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const h of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(h)) return null;
      out.push(parseInt(h, 16));
    }
    return out;
  };
  if (dbl >= 0) {
    const a = parseGroups(text.slice(0, dbl));
    const b = parseGroups(text.slice(dbl + 2));
    if (!a || !b || a.length + b.length > 7) return null;
    groups.push(...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b);
  } else {
    const a = parseGroups(text);
    if (!a || a.length !== 8) return null;
    groups.push(...a);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) { out[2 * i] = groups[i] >> 8; out[2 * i + 1] = groups[i] & 0xff; }
  if (tail4) out.set(tail4, 12);
  return out;
}

/** Parse a numeric IPv4 or IPv6 address (no brackets, no port, no zone). */
export function parseAddr(text: string): Result<Addr, CoreError> {
  const v4 = parseV4(text);
  if (v4) return ok(fromBytes(4, v4));
  const v6 = text.includes(':') ? parseV6(text) : null;
  if (v6) return ok(fromBytes(6, v6));
  return err(coreError('ADDR_INVALID', `invalid address '${text}'`, { value: text }));
}

/** For trusted literals in tests and tables; throws on a bad literal (a programming error). */
export function addr(text: string): Addr {
  const r = parseAddr(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

export function addrFromBytes(bytes: Uint8Array): Addr {
  if (bytes.length !== 4 && bytes.length !== 16) throw new Error('address must be 4 or 16 bytes');
  return fromBytes(bytes.length === 4 ? 4 : 6, Uint8Array.from(bytes));
}

/** An IPv4 address from its host-order u32 (how a fwmark is shown as an address in templates). */
export function addrFromU32(v: number): Addr {
  const b = new Uint8Array([(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
  return fromBytes(4, b);
}

export function addrEqual(a: Addr, b: Addr): boolean {
  return a.family === b.family && a.text === b.text;
}

/** Kernel order of addresses for sorted listings: the first 32-bit word in host order. */
export function addrU32(a: Addr): number {
  const b = a.bytes;
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

/**
 * Client network for persistence: IPv4 ANDed with a dotted netmask (given as u32), IPv6 cut to a
 * prefix length (ip_vs_core.c: ip_vs_sched_persist uses ipv6_addr_prefix for AF_INET6).
 */
export function maskAddr(a: Addr, mask: number): Addr {
  if (a.family === 4) {
    if (mask === 0xffffffff) return a;
    return addrFromU32((addrU32(a) & mask) >>> 0);
  }
  if (mask >= 128) return a;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, mask - i * 8));
    out[i] = a.bytes[i] & ((0xff << (8 - bits)) & 0xff);
  }
  return fromBytes(6, out);
}

/** "a.b.c.d:port" or "[v6]:port", as ipvsadm -n prints an endpoint. */
export function endpointText(a: Addr, port: number): string {
  return a.family === 4 ? `${a.text}:${port}` : `[${a.text}]:${port}`;
}
