// Value parsers shared by every text a user writes about services and real servers: the JSON API
// bodies, keepvsadm's arguments, keepalived.conf (DESIGN.md, "config/"). Each parser checks the
// syntax of one value and returns a Result with a core error code; ranges that the kernel checks
// (weight, thresholds, persistence timeout) are left to the director so there is one rule each.
import { type Addr, type Family, parseAddr, addrU32 } from '../core/addr.ts';
import { type Result, ok, err } from '../core/result.ts';
import { type CoreError, coreError } from '../core/errors.ts';
import type { FwdMethod, TunnelOptions, TunnelType, TunnelCsum } from '../core/dest.ts';
import { type Protocol, SVC_F, MAX_TIMEOUT } from '../core/service.ts';
import type { SchedulerName } from '../core/sched/scheduler.ts';
import { isSchedulerName } from '../core/sched/index.ts';

export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];

/** "tcp" | "udp" | "sctp", in any case (keepalived.conf writes TCP/UDP/SCTP). */
export function parseProtocol(text: string): Result<Protocol, CoreError> {
  const p = text.toLowerCase();
  return (PROTOCOLS as readonly string[]).includes(p)
    ? ok(p as Protocol)
    : err(coreError('PROTOCOL_INVALID', `invalid protocol '${text}' (tcp, udp or sctp)`, { value: text }));
}

/** A numeric IPv4 or IPv6 address; an IPv6 address may be written in brackets. */
export function parseAddress(text: string): Result<Addr, CoreError> {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  return parseAddr(bare);
}

/** A port number 0..65535 (a decimal string or a JSON integer). */
export function parsePort(value: string | number): Result<number, CoreError> {
  const n = typeof value === 'number' ? value : /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n >= 0 && n <= 65535
    ? ok(n)
    : err(coreError('PORT_INVALID', `invalid port '${value}'`, { value }));
}

/**
 * Persistence granularity. ipvsadm.c (-M): an IPv4 service takes a dotted netmask (kept as a
 * host-order u32 here), an IPv6 service a prefix length 1..128 ("illegal ipv6 netmask specified").
 * null means the default: all ones / 128.
 */
export function parseNetmask(text: string | null, family: Family): Result<number, CoreError> {
  if (text === null) return ok(family === 4 ? 0xffffffff : 128);
  if (family === 6) {
    const n = /^\/?\d{1,3}$/.test(text) ? Number(text.replace('/', '')) : Number.NaN;
    return n >= 1 && n <= 128 ? ok(n) : err(coreError('NETMASK_INVALID', `illegal ipv6 netmask '${text}' (1..128)`, { value: text }));
  }
  const a = parseAddr(text);
  if (!a.ok || a.value.family !== 4) {
    return err(coreError('NETMASK_INVALID', `illegal virtual server netmask '${text}'`, { value: text }));
  }
  return ok(addrU32(a.value));
}

/** The text a listing shows for a netmask: dotted for IPv4, the prefix length for IPv6. */
export function netmaskText(mask: number, family: Family): string {
  if (family === 6) return String(mask);
  return [24, 16, 8, 0].map((s) => (mask >>> s) & 255).join('.');
}

/**
 * ipvsadm.c: parse_sched_flags. flag-N sets SCHED<N> for any scheduler; sh-* and mh-* are names for
 * SCHED1 (fallback) and SCHED2 (port) that ipvsadm accepts only with that scheduler.
 */
export const SCHED_FLAGS: Readonly<Record<string, { readonly bit: number; readonly scheduler?: SchedulerName }>> = {
  'flag-1': { bit: SVC_F.SCHED1 },
  'flag-2': { bit: SVC_F.SCHED2 },
  'flag-3': { bit: SVC_F.SCHED3 },
  'sh-fallback': { bit: SVC_F.SCHED1, scheduler: 'sh' },
  'sh-port': { bit: SVC_F.SCHED2, scheduler: 'sh' },
  'mh-fallback': { bit: SVC_F.SCHED1, scheduler: 'mh' },
  'mh-port': { bit: SVC_F.SCHED2, scheduler: 'mh' },
};

export function parseSchedFlags(names: readonly string[], scheduler: string): Result<number, CoreError> {
  let bits = 0;
  for (const name of names) {
    const f = SCHED_FLAGS[name];
    if (!f) return err(coreError('INVALID', `invalid scheduler flag '${name}'`, { value: name }));
    if (f.scheduler && f.scheduler !== scheduler) {
      return err(coreError('SCHED_FLAG_INCOMPATIBLE', `incompatible scheduler flag '${name}'`, { value: name, scheduler }));
    }
    bits |= f.bit;
  }
  return ok(bits);
}

/** The names a listing shows for SCHED1..3, in ipvsadm's words for sh and mh (ipvsadm.c: print_sched_flags). */
export function schedFlagNames(flags: number, scheduler: string): string[] {
  const out: string[] = [];
  const prefix = scheduler === 'sh' || scheduler === 'mh' ? scheduler : null;
  if (flags & SVC_F.SCHED1) out.push(prefix ? `${prefix}-fallback` : 'flag-1');
  if (flags & SVC_F.SCHED2) out.push(prefix ? `${prefix}-port` : 'flag-2');
  if (flags & SVC_F.SCHED3) out.push('flag-3');
  return out;
}

export function parseSchedulerName(text: string): Result<SchedulerName, CoreError> {
  return isSchedulerName(text)
    ? ok(text)
    : err(coreError('SCHEDULER_NOT_FOUND', `unknown scheduler '${text}'`, { value: text }));
}

export const FWD_METHODS: readonly FwdMethod[] = ['masq', 'route', 'tunnel', 'fullnat', 'local'];

export function parseFwdMethod(text: string): Result<FwdMethod, CoreError> {
  return (FWD_METHODS as readonly string[]).includes(text)
    ? ok(text as FwdMethod)
    : err(coreError('INVALID', `invalid forwarding method '${text}' (${FWD_METHODS.join(', ')})`, { value: text }));
}

const TUNNEL_TYPES: readonly TunnelType[] = ['ipip', 'gue', 'gre'];
const TUNNEL_CSUMS: readonly TunnelCsum[] = ['nocsum', 'csum', 'remcsum'];

/**
 * ipvsadm.c: --tun-type ipip|gue|gre; gue needs --tun-port; ipip takes no checksum option, gre
 * takes nocsum or csum, gue any of the three.
 */
export function parseTunnel(type: string, port: number, csum: string): Result<TunnelOptions, CoreError> {
  if (!(TUNNEL_TYPES as readonly string[]).includes(type)) return err(coreError('TUNNEL_INVALID', `invalid tunnel type '${type}'`, { value: type }));
  if (!(TUNNEL_CSUMS as readonly string[]).includes(csum)) return err(coreError('TUNNEL_INVALID', `invalid tunnel checksum '${csum}'`, { value: csum }));
  if (!Number.isInteger(port) || port < 0 || port > 65535) return err(coreError('TUNNEL_INVALID', `invalid tunnel port '${port}'`, { value: port }));
  if (type === 'ipip' && csum !== 'nocsum') return err(coreError('TUNNEL_INVALID', 'ipip tunnels take no checksum option'));
  if (type === 'gre' && csum === 'remcsum') return err(coreError('TUNNEL_INVALID', 'gre tunnels take nocsum or csum'));
  if (type === 'gue' && port === 0) return err(coreError('TUNNEL_INVALID', 'tunnel port is zero'));
  return ok({ type: type as TunnelType, port, csum: csum as TunnelCsum });
}

/** ipvsadm --set: one timeout in seconds, 0 = leave unchanged. */
export function parseSetTimeout(value: number): Result<number, CoreError> {
  return Number.isInteger(value) && value >= 0 && value <= MAX_TIMEOUT
    ? ok(value)
    : err(coreError('SET_TIMEOUT_INVALID', undefined, { value }));
}

/** "HOST:PORT" or "[V6]:PORT" (a listen address such as --api's). */
export function parseHostPort(text: string): Result<{ host: string; port: number }, CoreError> {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]*):(\d+)$/.exec(text);
  if (!m) return err(coreError('INVALID', `expected HOST:PORT or [V6]:PORT, got '${text}'`, { value: text }));
  const port = parsePort(m[2]);
  if (!port.ok) return port;
  return ok({ host: m[1] === '' ? '0.0.0.0' : m[1], port: port.value });
}
