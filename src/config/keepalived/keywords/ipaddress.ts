// Address, route and rule lines of virtual_ipaddress / virtual_ipaddress_excluded /
// static_ipaddress, virtual_routes / static_routes and virtual_rules / static_rules
// (keepalived/vrrp/vrrp_ipaddress.c: alloc_ipaddress, vrrp_iproute.c: alloc_route,
// vrrp_iprule.c: alloc_rule). Addresses are checked completely; routes and rules keepvs does not
// program yet are checked for the mistakes keepalived reports most (bad addresses, missing
// interfaces, deprecated words, untrackable routes, rules without a preference) and kept as written.
import type { Family } from '../../../core/addr.ts';
import type { Token } from '../lexer.ts';
import type { IpAddress, IpRoute, IpRule } from '../model.ts';
import type { ParseCtx } from './context.ts';
import { pton } from './context.ts';
import { readUnsigned } from '../numbers.ts';

const SCOPES = ['global', 'universe', 'site', 'link', 'host', 'nowhere'];

function scopeOk(s: string): boolean {
  return SCOPES.includes(s) || (/^\d+$/.test(s) && Number(s) <= 255);
}

/** vrrp_ipaddress.c: parse_ipaddress — ADDR[/PREFIX]; null (reported) when the address is bad. */
export function parseIpPrefix(c: ParseCtx, tok: Token, allowMask: boolean): { addr: NonNullable<ReturnType<typeof pton>>; prefixLen: number } | null {
  const text = tok.text;
  const fam: Family = text.includes(':') ? 6 : 4;
  let prefixLen = fam === 6 ? 128 : 32;
  let addrText = text;
  const slash = allowMask ? text.indexOf('/') : -1;
  if (slash >= 0) {
    const v = readUnsigned(text.slice(slash + 1), 0, prefixLen, c.numberAt(tok, 'address'));
    if (v === null) c.report(tok, `Invalid address prefix len ${text.slice(slash + 1)} for address ${text} - using ${prefixLen}`, { code: 'INVALID_ADDRESS', keyword: 'address' });
    else prefixLen = v;
    addrText = text.slice(0, slash);
  }
  const a = pton(addrText, fam);
  if (!a) {
    c.report(tok, `VRRP parsed invalid IP ${text}. skipping IP...`, { code: 'INVALID_ADDRESS', keyword: 'address', expected: 'ADDRESS[/PREFIX]' });
    return null;
  }
  return { addr: a, prefixLen };
}

/** vrrp_ipaddress.c: alloc_ipaddress. */
export function parseIpAddress(c: ParseCtx, words: readonly Token[], isStatic: boolean): IpAddress | null {
  const first = words[0];
  const p = parseIpPrefix(c, first, true);
  if (!p) return null;
  let { prefixLen } = p;
  let dev: string | null = null;
  let scope: string | null = null;
  let label: string | null = null;
  let peer: IpAddress['peer'] = null;
  let broadcast: string | null = null;
  let noTrack = false;
  let useVmac = false;
  let preferredLft: IpAddress['preferredLft'] = null;
  let trackGroup: string | null = null;
  const flags: string[] = [];
  let i = 1;
  let missing: Token | null = null;
  while (i < words.length) {
    const w = words[i];
    const val = words[i + 1];
    const needsVal = ['dev', 'scope', 'broadcast', 'brd', 'label', 'peer', 'preferred_lft'].includes(w.text) || (isStatic && w.text === 'track_group');
    if (needsVal && !val) { missing = w; break; }
    if (w.text === 'dev') {
      if (dev !== null) { c.report(val, `Cannot specify ipaddress device more than once for ${first.text}`, { code: 'DUPLICATE', keyword: 'dev' }); return null; }
      if (!c.interfaceExists(val.text)) {
        c.report(val, `WARNING - interface ${val.text} for ip address ${first.text} doesn't exist`, { code: 'NO_SUCH_INTERFACE', keyword: 'dev' });
        return null;
      }
      dev = val.text;
      i++;
    } else if (w.text === 'scope') {
      if (!scopeOk(val.text)) c.report(val, `Invalid scope '${val.text}' specified for ${first.text} - ignoring`, { keyword: 'scope', expected: SCOPES.join(', ') });
      else scope = val.text;
      i++;
    } else if (w.text === 'broadcast' || w.text === 'brd') {
      if (p.addr.family === 6) { c.report(val, `VRRP is trying to assign a broadcast ${w.text} to the IPv6 address ${first.text} !!?? WTF... skipping VIP...`, { code: 'CONFLICT', keyword: w.text }); return null; }
      if (val.text !== '-' && val.text !== '+' && !pton(val.text, 4)) { c.report(val, `VRRP is trying to assign invalid broadcast ${val.text}. skipping VIP...`, { code: 'INVALID_ADDRESS', keyword: w.text }); return null; }
      broadcast = val.text;
      i++;
    } else if (w.text === 'label') {
      if (val.text.length >= 16) { c.report(val, `Address label ${val.text} is longer than maximum length 15 - removing address`, { keyword: 'label' }); return null; }
      label = val.text;
      i++;
    } else if (w.text === 'peer') {
      i++;
      if (peer) { c.report(val, `Peer ${val.text} - another peer has already been specified`, { code: 'DUPLICATE', keyword: 'peer' }); }
      else {
        const pa = pton(val.text);
        if (!pa) c.report(val, `Invalid peer address ${val.text}`, { code: 'INVALID_ADDRESS', keyword: 'peer' });
        else if (pa.family !== p.addr.family) c.report(val, `Peer address ${val.text} does not match address family`, { code: 'CONFLICT', keyword: 'peer' });
        else {
          if (prefixLen !== (p.addr.family === 6 ? 128 : 32)) c.report(val, 'Cannot specify address prefix when specifying peer address - ignoring', { code: 'CONFLICT', keyword: 'peer' });
          prefixLen = p.addr.family === 6 ? 128 : 32;
          peer = pa;
        }
      }
    } else if (['home', '-nodad', 'mngtmpaddr', 'noprefixroute', 'autojoin'].includes(w.text)) {
      flags.push(w.text);
    } else if (w.text === 'no_track') {
      noTrack = true;
    } else if (w.text === 'preferred_lft') {
      i++;
      if (val.text === 'forever') preferredLft = 'forever';
      else {
        const v = readUnsigned(val.text, 0, 0xffffffff, c.numberAt(val, 'preferred_lft'));
        if (v === null) c.report(val, `preferred_lft ${val.text} is invalid`, { keyword: 'preferred_lft' });
        else preferredLft = v;
      }
    } else if (isStatic && w.text === 'track_group') {
      i++;
      if (trackGroup !== null) { c.report(val, `track_group ${val.text} is a duplicate`, { code: 'DUPLICATE', keyword: 'track_group' }); break; }
      if (!c.trackGroups.some((g) => g.name === val.text)) c.report(val, `track_group ${val.text} not found`, { code: 'NOT_FOUND', keyword: 'track_group' });
      else trackGroup = val.text;
    } else if (!isStatic && w.text === 'use_vmac') {
      useVmac = true;
    } else {
      c.report(w, `Unknown configuration entry '${w.text}' for ip address - ignoring`, { keyword: 'address', expected: 'dev, scope, brd, label, peer, home, -nodad, mngtmpaddr, noprefixroute, autojoin, no_track, preferred_lft' + (isStatic ? ', track_group' : ', use_vmac') });
    }
    i++;
  }
  if (missing) {
    c.report(missing, `No ${missing.text} parameter specified for ${first.text}`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: missing.text });
    return null;
  }
  if (broadcast !== null && peer) {
    c.report(first, 'Cannot specify broadcast and peer addresses - ignoring broadcast address', { code: 'CONFLICT', keyword: 'broadcast' });
    broadcast = null;
  } else if ((broadcast === '+' || broadcast === '-') && prefixLen > 30) {
    c.report(first, `Address prefix length ${prefixLen} too long for broadcast`, { code: 'CONFLICT', keyword: 'broadcast' });
  }
  if (isStatic && dev === null) {
    const def = c.global.defaultInterface ?? 'eth0';
    if (c.host.interfaces !== null && !c.host.interfaces.has(def)) {
      c.report(first, `Static address ${first.text} requires either an interface or default interface must exist`, { code: 'NO_SUCH_INTERFACE', klass: 'FATAL', keyword: 'static_ipaddress', expected: 'dev IFNAME' });
      return null;
    }
    dev = def;
  }
  if (p.addr.family === 6) {
    if (scope) { c.report(first, `Cannot specify scope for IPv6 addresses (${first.text}) - ignoring scope`, { code: 'CONFLICT', keyword: 'scope' }); scope = null; }
    if (label) { c.report(first, `Cannot specify label for IPv6 addresses (${first.text}) - ignoring label`, { code: 'CONFLICT', keyword: 'label' }); label = null; }
  }
  if (trackGroup && !dev) {
    c.report(first, 'Static route cannot have track_group if interface not specified', { code: 'CONFLICT', keyword: 'track_group' });
    trackGroup = null;
  }
  return { addr: p.addr, prefixLen, dev, broadcast, scope, label, peer, noTrack, useVmac, flags, preferredLft, trackGroup, at: first.at };
}

/** Route keywords that take a value, and those that stand alone (vrrp_iproute.c: alloc_route). */
const ROUTE_VALUED = ['src', 'via', 'gw', 'from', 'tos', 'dsfield', 'table', 'protocol', 'proto', 'scope', 'metric', 'preference', 'priority', 'dev', 'oif', 'realms', 'mtu', 'advmss', 'rtt', 'rttvar', 'reordering', 'window', 'cwnd', 'ssthresh', 'realm', 'rto_min', 'initcwnd', 'initrwnd', 'features', 'congctl', 'pref', 'ttl-propagate', 'expires', 'hoplimit', 'quickack', 'fastopen_no_cookie', 'encap', 'track_group', 'vrf', 'as', 'or'];
const ROUTE_FLAGS = ['onlink', 'no_track', 'nexthop'];
const ROUTE_TYPES = ['unicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'local', 'broadcast', 'anycast', 'multicast', 'nat'];

/** vrrp_iproute.c: alloc_route (the checks keepalived reports). */
export function parseIpRoute(c: ParseCtx, words: readonly Token[], isStatic: boolean): IpRoute | null {
  let dst: string | null = null;
  let family: Family | null = null;
  let src: IpRoute['src'] = null;
  let via: IpRoute['via'] = null;
  let dev: string | null = null;
  let blackhole = false;
  let noTrack = false;
  const options = new Map<string, string>();
  const setFamily = (f: Family, tok: Token, kind: string): boolean => {
    if (family !== null && family !== f) {
      c.report(tok, `Cannot mix IPv4 and IPv6 addresses for route${kind}`, { code: 'CONFLICT', keyword: 'route' });
      return false;
    }
    family = f;
    return true;
  };
  let i = 0;
  if (words[0] && (words[0].text === 'inet' || words[0].text === 'inet6')) {
    family = words[0].text === 'inet' ? 4 : 6;
    i++;
  }
  for (; i < words.length; i++) {
    const w = words[i];
    const val = words[i + 1];
    if (ROUTE_TYPES.includes(w.text)) {
      if (w.text !== 'unicast') blackhole = true;
      options.set('type', w.text);
      continue;
    }
    if (ROUTE_FLAGS.includes(w.text)) {
      if (w.text === 'no_track') noTrack = true;
      else options.set(w.text, '');
      continue;
    }
    if (ROUTE_VALUED.includes(w.text)) {
      if (!val) {
        c.report(w, `No ${w.text} parameter specified for route`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: w.text });
        return null;
      }
      i++;
      if (w.text === 'src') {
        const a = pton(val.text);
        if (!a) { c.report(val, `invalid route src address ${val.text}`, { code: 'INVALID_ADDRESS', keyword: 'src' }); return null; }
        if (!setFamily(a.family, val, '')) return null;
        src = a;
      } else if (w.text === 'via' || w.text === 'gw') {
        if (w.text === 'gw') c.report(w, '"gw" for routes is deprecated. Please use "via"', { code: 'DEPRECATED', keyword: 'gw' });
        const a = pton(val.text);
        if (!a) { c.report(val, `invalid route via address ${val.text}`, { code: 'INVALID_ADDRESS', keyword: w.text }); return null; }
        if (!setFamily(a.family, val, '')) return null;
        via = a;
      } else if (w.text === 'or') {
        c.report(w, '"or" for routes is deprecated. Please use "nexthop"', { code: 'DEPRECATED', keyword: 'or' });
        const a = pton(val.text);
        if (!a) { c.report(val, `Invalid "or" address ${val.text}`, { code: 'INVALID_ADDRESS', keyword: 'or' }); return null; }
        options.set('or', val.text);
      } else if (w.text === 'dev' || w.text === 'oif') {
        if (!c.interfaceExists(val.text)) {
          c.report(val, `WARNING - interface ${val.text} for VROUTE nexthop doesn't exist`, { code: 'NO_SUCH_INTERFACE', keyword: w.text });
          return null;
        }
        dev = val.text;
      } else if (w.text === 'scope') {
        if (!scopeOk(val.text)) { c.report(val, `Scope ${val.text} not found or invalid for route`, { keyword: 'scope' }); return null; }
        options.set('scope', val.text);
      } else if (w.text === 'track_group') {
        if (!c.trackGroups.some((g) => g.name === val.text)) c.report(val, `track_group ${val.text} not found`, { code: 'NOT_FOUND', keyword: 'track_group' });
        else options.set('track_group', val.text);
      } else {
        options.set(w.text, val.text);
      }
      continue;
    }
    if (w.text === 'to') continue;
    if (dst !== null) {
      c.report(w, `unknown route keyword ${w.text}`, { keyword: 'route', expected: 'src, via, dev, table, scope, metric, ...' });
      return null;
    }
    if (w.text === 'default' || w.text === 'any' || w.text === 'all') {
      dst = w.text;
      continue;
    }
    const p = parseIpPrefix(c, w, true);
    if (!p) return null;
    if (!setFamily(p.addr.family, w, ` (${w.text})`)) return null;
    dst = w.text;
  }
  if (dst === null) {
    c.report(words[0] ?? null, 'Route must have a destination', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'route' });
    return null;
  }
  if (!noTrack && dev === null) {
    c.report(words[0], `Warning - cannot track route ${dst === 'default' || dst === 'any' || dst === 'all' ? (family === 6 ? '::/0' : '0.0.0.0/0') : routeText(dst)} with no interface specified, not tracking`, { code: 'CONFLICT', keyword: 'route', expected: 'dev IFNAME or no_track', severity: 'warning' });
    noTrack = true;
  }
  if (isStatic && options.has('track_group') && dev === null) {
    c.report(words[0], 'Static route cannot have track group if no oif specified', { code: 'CONFLICT', keyword: 'track_group' });
  }
  return { dst, family: family ?? 4, src, via, dev, blackhole, noTrack, options, at: words[0].at };
}

/** How keepalived prints a route destination: ADDR/PREFIX (the prefix added when missing). */
function routeText(dst: string): string {
  if (dst.includes('/')) return dst;
  return `${dst}/${dst.includes(':') ? 128 : 32}`;
}

const RULE_VALUED = ['from', 'to', 'table', 'lookup', 'preference', 'priority', 'pref', 'tos', 'dsfield', 'fwmark', 'realms', 'suppress_prefixlength', 'sup_pl', 'suppress_ifgroup', 'sup_group', 'iif', 'dev', 'oif', 'tunnel-id', 'uidrange', 'protocol', 'ipproto', 'sport', 'dport', 'goto', 'track_group'];
const RULE_ACTIONS = ['nop', 'blackhole', 'prohibit', 'unreachable', 'l3mdev'];

/** vrrp_iprule.c: alloc_rule (the checks keepalived reports). */
export function parseIpRule(c: ParseCtx, words: readonly Token[]): IpRule | null {
  let family: Family | null = null;
  let from: string | null = null;
  let to: string | null = null;
  let tableName: string | null = null;
  let priority: number | null = null;
  let action = false;
  const options = new Map<string, string>();
  let i = 0;
  if (words[0] && (words[0].text === 'inet' || words[0].text === 'inet6')) {
    family = words[0].text === 'inet' ? 4 : 6;
    i++;
  }
  for (; i < words.length; i++) {
    const w = words[i];
    const val = words[i + 1];
    if (w.text === 'not' || w.text === 'no_track') { options.set(w.text, ''); continue; }
    if (RULE_ACTIONS.includes(w.text)) {
      if (action) { c.report(w, 'Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule', { code: 'CONFLICT', keyword: 'rule' }); return null; }
      action = true;
      options.set('action', w.text);
      continue;
    }
    if (!RULE_VALUED.includes(w.text)) {
      c.report(w, `Unknown rule option ${w.text}`, { keyword: 'rule', expected: 'from, to, table, preference, fwmark, iif, oif, ...' });
      return null;
    }
    if (!val) {
      c.report(w, `No ${w.text} parameter specified for rule`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: w.text });
      return null;
    }
    i++;
    if (w.text === 'from' || w.text === 'to') {
      if (val.text !== 'all') {
        const slash = val.text.indexOf('/');
        const a = pton(slash >= 0 ? val.text.slice(0, slash) : val.text);
        const plen = slash >= 0 ? Number(val.text.slice(slash + 1)) : null;
        if (!a || (plen !== null && !(Number.isInteger(plen) && plen >= 0 && plen <= (a.family === 4 ? 32 : 128)))) {
          c.report(val, `VRRP parsed invalid IP ${val.text}. skipping IP...`, { code: 'INVALID_ADDRESS', keyword: w.text });
          c.report(val, `Invalid rule ${w.text} address ${val.text}`, { code: 'INVALID_ADDRESS', keyword: w.text, expected: 'ADDRESS[/PREFIX] or all' });
          return null;
        }
        if (family !== null && family !== a.family) { c.report(val, 'rule specification has mixed IPv4 and IPv6', { code: 'CONFLICT', keyword: w.text }); return null; }
        family = a.family;
      }
      if (w.text === 'from') from = val.text;
      else to = val.text;
    } else if (w.text === 'table' || w.text === 'lookup' || w.text === 'goto') {
      if (action) { c.report(w, 'Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable for rule', { code: 'CONFLICT', keyword: 'rule' }); return null; }
      if (w.text !== 'goto' && val.text === '0') { c.report(val, 'Table 0 is not valid', { keyword: 'table' }); return null; }
      action = true;
      if (w.text === 'goto') options.set('goto', val.text);
      else tableName = val.text;
    } else if (w.text === 'preference' || w.text === 'priority' || w.text === 'pref') {
      const v = readUnsigned(val.text, 0, 0xffffffff, c.numberAt(val, w.text));
      if (v === null) { c.report(val, `Invalid rule preference ${val.text} specified`, { keyword: w.text }); return null; }
      priority = v;
    } else if (w.text === 'iif' || w.text === 'dev' || w.text === 'oif') {
      if (!c.interfaceExists(val.text)) {
        c.report(val, `WARNING - interface ${val.text} for rule doesn't exist`, { code: 'NO_SUCH_INTERFACE', keyword: w.text });
        return null;
      }
      options.set(w.text, val.text);
    } else {
      options.set(w.text, val.text);
    }
  }
  if (!action) {
    c.report(words[0] ?? null, 'No action specified for rule - ignoring', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'rule', expected: 'table N, goto N, blackhole, prohibit, unreachable or nop' });
    return null;
  }
  const fam: Family = family ?? 4;
  if (priority === null) {
    priority = c.nextRulePriority[fam]--;
    c.report(words[0], `Rule has no preference specified - setting to ${priority}. This is probably not what you want.`, { code: 'DEFAULT_APPLIED', keyword: 'rule', expected: 'preference N' });
  }
  return { family: fam, from, to, table: tableName, priority, options, at: words[0].at };
}
