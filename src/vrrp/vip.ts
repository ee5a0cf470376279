// A virtual address as written in virtual_ipaddress / virtual_ipaddress_excluded, parsed like keepalived's
// alloc_ipaddress (vrrp_ipaddress.c), and the `ip` arguments that add and remove it with the attributes
// keepalived's netlink_ipaddress sets (IPv6: nodad unless -nodad, preferred_lft 0 on /128 so the VIP is
// never chosen as a source address). Routes and rules are kept as `ip route` / `ip rule` arguments.
import { parseAddr, type Addr } from '../core/addr.ts';

export interface Vip {
  readonly addr: Addr;
  readonly prefix: number;
  readonly dev: string | null;
  /** IPv4 broadcast, already resolved for '+' and '-'. */
  readonly brd: string | null;
  readonly scope: string | null;
  readonly label: string | null;
  readonly peer: string | null;
  /** Extra `ip addr` flags: home, mngtmpaddr, noprefixroute, autojoin. */
  readonly flags: readonly string[];
  /** -nodad given: keep DAD on (IPv6). */
  readonly dad: boolean;
  readonly preferredLft: string | null;
  readonly noTrack: boolean;
  /** The text as configured, for logs. */
  readonly text: string;
}

const SCOPES = new Set(['global', 'site', 'link', 'host', 'nowhere']);
const FLAG_WORDS = new Set(['home', 'mngtmpaddr', 'noprefixroute', 'autojoin']);

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Split a configuration line into words, honouring "double" and 'single' quotes. */
export function splitWords(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let has = false;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
    }
  }
  if (has || cur) out.push(cur);
  return out;
}

export function parseVip(text: string): Parsed<Vip> {
  const w = splitWords(text);
  if (w.length === 0) return { ok: false, error: 'empty address' };
  const [addrText, prefixText] = w[0].split('/', 2);
  const a = parseAddr(addrText);
  if (!a.ok) return { ok: false, error: `invalid IP ${addrText}` };
  const max = a.value.family === 4 ? 32 : 128;
  let prefix = max;
  if (prefixText !== undefined) {
    if (!/^\d+$/.test(prefixText) || Number(prefixText) > max) return { ok: false, error: `invalid address prefix len ${prefixText}` };
    prefix = Number(prefixText);
  }
  let dev: string | null = null;
  let brdWord: string | null = null;
  let scope: string | null = null;
  let label: string | null = null;
  let peer: string | null = null;
  let dad = false;
  let noTrack = false;
  let preferredLft: string | null = null;
  const flags: string[] = [];
  for (let i = 1; i < w.length; i++) {
    const word = w[i];
    const param = (): string | null => (i + 1 < w.length ? w[++i] : null);
    if (word === 'dev') {
      if (dev !== null) return { ok: false, error: 'dev given twice' };
      dev = param();
      if (dev === null) return { ok: false, error: 'No dev parameter specified' };
    } else if (word === 'scope') {
      const s = param();
      if (s === null || !SCOPES.has(s)) return { ok: false, error: `invalid scope '${s ?? ''}'` };
      scope = s;
    } else if (word === 'brd' || word === 'broadcast') {
      if (a.value.family === 6) return { ok: false, error: 'a broadcast address on an IPv6 address' };
      brdWord = param();
      if (brdWord === null) return { ok: false, error: 'No brd parameter specified' };
      if (brdWord !== '+' && brdWord !== '-' && !(parseAddr(brdWord).ok)) return { ok: false, error: `invalid broadcast ${brdWord}` };
    } else if (word === 'label') {
      label = param();
      if (label === null) return { ok: false, error: 'No label parameter specified' };
      if (label.length >= 16) return { ok: false, error: `address label ${label} is longer than 15 characters` };
    } else if (word === 'peer') {
      peer = param();
      if (peer === null || !parseAddr(peer.split('/')[0]).ok) return { ok: false, error: `invalid peer address ${peer ?? ''}` };
    } else if (FLAG_WORDS.has(word)) {
      flags.push(word);
    } else if (word === '-nodad') {
      dad = true;
    } else if (word === 'no_track') {
      noTrack = true;
    } else if (word === 'preferred_lft') {
      preferredLft = param();
      if (preferredLft === null || !(preferredLft === 'forever' || /^\d+$/.test(preferredLft))) return { ok: false, error: `preferred_lft ${preferredLft ?? ''} is invalid` };
    } else if (word === 'use_vmac') {
      return { ok: false, error: 'use_vmac on an address is not supported yet' };
    } else {
      return { ok: false, error: `unknown keyword '${word}'` };
    }
  }
  let brd: string | null = null;
  if (brdWord === '+' || brdWord === '-') {
    // keepalived: '+' sets the host bits, '-' clears them; only for prefixes up to /30.
    if (prefix <= 30) {
      const b = a.value.bytes;
      const v = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
      const hostMask = prefix === 0 ? 0xffffffff : (0xffffffff >>> prefix) >>> 0;
      const r = brdWord === '+' ? (v | hostMask) >>> 0 : (v & ~hostMask) >>> 0;
      brd = `${r >>> 24}.${(r >>> 16) & 255}.${(r >>> 8) & 255}.${r & 255}`;
    }
  } else if (brdWord) {
    brd = brdWord;
  }
  if (a.value.family === 6) {
    scope = null;
    label = null;
  }
  return { ok: true, value: { addr: a.value, prefix, dev, brd, scope, label, peer, flags, dad, preferredLft, noTrack, text } };
}

/** Device a VIP goes on: its own `dev`, or the instance interface. */
export function vipDev(v: Vip, instanceInterface: string | null): string | null {
  return v.dev ?? instanceInterface;
}

/** `ip` arguments to add the address. */
export function vipAddArgs(v: Vip, dev: string): string[] {
  const args = ['addr', 'add', `${v.addr.text}/${v.prefix}`];
  if (v.peer) args.push('peer', v.peer);
  args.push('dev', dev);
  if (v.brd) args.push('brd', v.brd);
  if (v.scope) args.push('scope', v.scope);
  if (v.label) args.push('label', v.label);
  args.push(...v.flags);
  if (v.addr.family === 6) {
    if (!v.dad) args.push('nodad');
    const lft = v.preferredLft ?? (v.prefix === 128 ? '0' : null);
    if (lft !== null) args.push('preferred_lft', lft, 'valid_lft', 'forever');
  }
  return ['-' + v.addr.family, ...args];
}

/** `ip` arguments to remove it. */
export function vipDelArgs(v: Vip, dev: string): string[] {
  return ['-' + v.addr.family, 'addr', 'del', `${v.addr.text}/${v.prefix}`, 'dev', dev];
}

/**
 * A virtual_routes / virtual_rules line as `ip` arguments. keepalived-only words are dropped:
 * `no_track` (we do not watch for external deletion yet). `or` (multipath alternatives) is refused.
 */
export function parseRouteOrRule(text: string): Parsed<string[]> {
  const w = splitWords(text).filter((x) => x !== 'no_track');
  if (w.length === 0) return { ok: false, error: 'empty' };
  if (w.includes('or')) return { ok: false, error: "'or' alternatives are not supported" };
  // keepalived accepts "gw" for "via".
  return { ok: true, value: w.map((x) => (x === 'gw' ? 'via' : x)) };
}
