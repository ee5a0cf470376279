// Checker, real server and virtual server specs with keepalived's keyword names, and the resolved
// form the runtime uses. The keepalived.conf model (src/config/keepalived/) maps onto these types;
// nothing here parses text. Times in a spec are seconds, as keepalived.conf writes them (fractions
// allowed, keepalived keeps microseconds); resolved values are milliseconds.
//
// Defaults and inheritance follow keepalived 2.2 (keepalived/check/check_api.c: queue_checker,
// check_data.c: alloc_vs/alloc_rs and the end of validate_check_config, check_http.c, check_dns.c,
// check_misc.c, check_smtp.c, check_udp.c):
//   virtual_server → real_server → checker for connect_timeout, retry, delay_before_retry, warmup,
//   delay_loop and alpha (and virtualhost for HTTP_GET/SSL_GET).

import type { ProbeClose } from '../sys/tcp-connect.ts';

/** keepalived's values, as constants: one place to read every default from. */
export const KEEPALIVED_DEFAULTS = {
  /** KEEPALIVED_DEFAULT_DELAY (check_data.c: alloc_vs). */
  delay_loop: 60,
  /** alloc_vs: connection_to = 5 * TIMER_HZ. */
  connect_timeout: 5,
  /** queue_checker: default_retry = 1. */
  retry: 1,
  /** queue_checker: default_delay_before_retry = 1 s. */
  delay_before_retry: 1,
  /** HTTP_GET / SSL_GET: default_delay_before_retry = 3 s (check_http.c: http_get_handler). */
  http_delay_before_retry: 3,
  /** DNS_CHECK: DNS_DEFAULT_RETRY (check_dns.h); delay_before_retry defaults to delay_loop. */
  dns_retry: 3,
  /** MISC_CHECK: default_retry = 0 (check_misc.c: misc_check_handler). */
  misc_retry: 0,
  /** Real server weight (check_parser.c: rs weight defaults to 1; 0 is allowed). */
  weight: 1,
  /** virtual_server quorum (check_data.c: alloc_vs). */
  quorum: 1,
  hysteresis: 0,
  /** A checker's first run waits this long plus a random part of warmup (lib/scheduler.h: BOOTSTRAP_DELAY = TIMER_HZ). */
  bootstrap_delay: 1,
  /** HTTP status codes accepted when a url block names none (check_http.h: HTTP_DEFAULT_STATUS_CODE_MIN/MAX). */
  status_code: [[200, 299]] as ReadonlyArray<readonly [number, number]>,
  /** DNS_DEFAULT_TYPE / DNS_DEFAULT_NAME (check_dns.h): the root zone's SOA. */
  dns_type: 'SOA',
  dns_name: '',
  /** SMTP_DEFAULT_HELO (check_smtp.h). */
  helo_name: 'smtpchecker.keepalived.org',
  /** UDP_CHECK reply length bounds (check_udp.c: udp_check_handler): 0 .. UINT8_MAX. */
  min_reply_length: 0,
  max_reply_length: 255,
  /** track_file weight (track_file.c: track_file_handler sets 1). */
  track_file_weight: 1,
  /** keepvs extension: consecutive successes to come up / failed checks to go down. 1 = keepalived. */
  rise: 1,
  fall: 1,
} as const;

/** HTTP status codes a status_code range may name (check_http.h: HTTP_STATUS_CODE_MIN/MAX). */
export const HTTP_STATUS_CODE_MIN = 100;
export const HTTP_STATUS_CODE_MAX = 599;

/** DNS_CHECK `type` names and their RR type numbers (check_dns.c: DNS_TYPE). */
export const DNS_TYPES = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, RRSIG: 46, DNSKEY: 48,
} as const;
export type DnsTypeName = keyof typeof DNS_TYPES;

/** PCRE2 option names `regex_options` takes (check_http.c: regex_options) that have a JavaScript equivalent. */
export const REGEX_OPTIONS = {
  caseless: 'i', multiline: 'm', dotall: 's', utf: 'u', ucp: 'u',
} as const;
export type RegexOption = keyof typeof REGEX_OPTIONS;

export type CheckerType =
  | 'TCP_CHECK' | 'HTTP_GET' | 'SSL_GET' | 'MISC_CHECK' | 'DNS_CHECK' | 'SMTP_CHECK'
  | 'UDP_CHECK' | 'PING_CHECK' | 'FILE_CHECK' | 'BFD_CHECK';

export const CHECKER_TYPES: readonly CheckerType[] = [
  'TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'MISC_CHECK', 'DNS_CHECK', 'SMTP_CHECK', 'UDP_CHECK', 'PING_CHECK', 'FILE_CHECK', 'BFD_CHECK',
];

/** Timing keys every scheduled checker takes (check_api.c: install_checker_common_keywords). */
export interface TimingKeys {
  retry?: number;
  delay_before_retry?: number;
  warmup?: number;
  delay_loop?: number;
  alpha?: boolean;
  log_all_failures?: boolean;
  /** keepvs extension (docs/checkers.md): successes in a row needed to come back up. Default 1. */
  rise?: number;
  /** keepvs extension: failed checks (each after its retries) in a row needed to go down. Default 1. */
  fall?: number;
}

/** Connection keys (check_api.c: co_*_handler). Unset means "the real server's address and port". */
export interface ConnectionKeys {
  connect_ip?: string;
  connect_port?: number;
  bindto?: string;
  bind_port?: number;
  bind_if?: string;
  fwmark?: number;
  connect_timeout?: number;
}

/**
 * keepvs extension `probe_close` (TCP_CHECK and plain HTTP_GET): how the probe's connection ends,
 * 'reset' (an RST) or 'graceful' (keepalived's FIN); unset: the health checker's probeClose
 * (global_defs checker_probe_close). See src/sys/tcp-connect.ts.
 */
export interface ProbeCloseKey {
  probe_close?: ProbeClose;
}

export interface TcpCheckSpec extends TimingKeys, ConnectionKeys, ProbeCloseKey {
  readonly type: 'TCP_CHECK';
}

export interface UrlSpec {
  path: string;
  /** MD5 of the body, 32 hex digits (check_http.c: digest_handler). */
  digest?: string;
  /** Inclusive ranges; empty or absent means 200-299. */
  status_code?: ReadonlyArray<readonly [number, number]>;
  virtualhost?: string;
  regex?: string;
  regex_no_match?: boolean;
  regex_options?: readonly RegexOption[];
  regex_min_offset?: number;
  regex_max_offset?: number;
  tls_compliant?: boolean;
}

export interface HttpGetSpec extends TimingKeys, ConnectionKeys, ProbeCloseKey {
  readonly type: 'HTTP_GET' | 'SSL_GET';
  url: readonly UrlSpec[];
  virtualhost?: string;
  /** '1.0' (default), '1.0C' (adds Connection: close) or '1.1' (adds Connection: close). */
  http_protocol?: '1.0' | '1.0C' | '1.1';
  enable_sni?: boolean;
  sni_name?: string;
  fast_recovery?: boolean;
  tls_compliant?: boolean;
}

export interface ScriptUser {
  user: string;
  group?: string;
}

export interface MiscCheckSpec extends TimingKeys {
  readonly type: 'MISC_CHECK';
  /** argv: the script and its arguments, already split as keepalived splits a quoted misc_path. */
  misc_path: readonly string[];
  /** Seconds (whole, as keepalived reads it); unset or 0 means the virtual server's delay_loop. */
  misc_timeout?: number;
  misc_dynamic?: boolean;
  user?: ScriptUser;
}

export interface DnsCheckSpec extends TimingKeys, ConnectionKeys {
  readonly type: 'DNS_CHECK';
  dns_type?: DnsTypeName;
  name?: string;
}

export interface SmtpCheckSpec extends TimingKeys, ConnectionKeys {
  readonly type: 'SMTP_CHECK';
  helo_name?: string;
  /** Deprecated host{} blocks: each becomes one more SMTP checker with these connection keys. */
  host?: readonly ConnectionKeys[];
}

export interface UdpCheckSpec extends TimingKeys, ConnectionKeys {
  readonly type: 'UDP_CHECK';
  /** Hex string (read_hex_str); absent: 32 bytes of filler. */
  payload?: string;
  /** Present (even empty) means a reply is required; hex, `X` nibbles match anything. */
  require_reply?: string;
  min_reply_length?: number;
  max_reply_length?: number;
}

export interface PingCheckSpec extends TimingKeys, ConnectionKeys {
  readonly type: 'PING_CHECK';
}

export interface TrackFileSpec {
  name: string;
  file: string;
  weight?: number;
  reverse?: boolean;
}

export interface FileCheckSpec {
  readonly type: 'FILE_CHECK';
  track_file: TrackFileSpec;
  /** Overrides the track_file's weight (FILE_CHECK weight W [reverse]). */
  weight?: number;
  reverse?: boolean;
}

/** BFD_CHECK (check_bfd.c): follows a bfd_instance's session (src/check/bfd/); never scheduled, no weight. */
export interface BfdCheckSpec {
  readonly type: 'BFD_CHECK';
  /** The bfd_instance's name. */
  name: string;
  alpha?: boolean;
}

export type CheckerSpec =
  | TcpCheckSpec | HttpGetSpec | MiscCheckSpec | DnsCheckSpec | SmtpCheckSpec | UdpCheckSpec
  | PingCheckSpec | FileCheckSpec | BfdCheckSpec;

/** A notify script as configured: argv plus an optional `user [group]` (keepalived: notify_script_init). */
export interface NotifyScriptSpec {
  argv: readonly string[];
  user?: ScriptUser;
}

export interface RealServerSpec extends Omit<TimingKeys, 'log_all_failures' | 'rise' | 'fall'> {
  address: string;
  port: number;
  weight?: number;
  inhibit_on_failure?: boolean;
  notify_up?: NotifyScriptSpec;
  notify_down?: NotifyScriptSpec;
  connect_timeout?: number;
  virtualhost?: string;
  checkers: readonly CheckerSpec[];
}

export interface SorryServerSpec {
  address: string;
  port: number;
}

export type VsIdentity =
  | { readonly kind: 'addr'; readonly address: string; readonly port: number; readonly protocol: 'tcp' | 'udp' | 'sctp' }
  | { readonly kind: 'fwmark'; readonly fwmark: number; readonly protocol: 'tcp' | 'udp' | 'sctp' }
  | { readonly kind: 'group'; readonly group: string; readonly port: number; readonly protocol: 'tcp' | 'udp' | 'sctp' };

export interface VirtualServerSpec extends Omit<TimingKeys, 'log_all_failures' | 'rise' | 'fall'> {
  id: VsIdentity;
  omega?: boolean;
  /** Checkers run only while the virtual address is on this host (keepalived's ha_suspend). */
  ha_suspend?: boolean;
  /**
   * ha_suspend on a `virtual_server group`: the group's addresses (each single address and every
   * address of each range); the checkers run while any of them is on this host.
   */
  ha_suspend_addresses?: readonly string[];
  quorum?: number;
  hysteresis?: number;
  quorum_up?: NotifyScriptSpec;
  quorum_down?: NotifyScriptSpec;
  sorry_server?: SorryServerSpec;
  sorry_server_inhibit?: boolean;
  inhibit_on_failure?: boolean;
  connect_timeout?: number;
  virtualhost?: string;
  real_server: readonly RealServerSpec[];
}

// ---- resolved form ------------------------------------------------------------------------

/** Per-checker timing after inheritance, in milliseconds. */
export interface CheckerTiming {
  readonly delayLoopMs: number;
  readonly delayBeforeRetryMs: number;
  readonly retry: number;
  readonly warmupMs: number;
  readonly alpha: boolean;
  readonly rise: number;
  readonly fall: number;
  readonly logAllFailures: boolean;
}

/** Where a checker connects: keepalived's conn_opts_t. */
export interface CheckTarget {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
  readonly bindto?: string;
  readonly bindPort?: number;
  readonly bindIf?: string;
  readonly fwmark?: number;
  readonly connectTimeoutMs: number;
}

export interface ResolvedChecker {
  /** Stable name inside its real server, e.g. "TCP_CHECK#0". */
  readonly name: string;
  readonly spec: CheckerSpec;
  readonly timing: CheckerTiming;
  /** Absent for MISC_CHECK and FILE_CHECK, which open no connection. */
  readonly target?: CheckTarget;
  /** Host header fallbacks for HTTP_GET/SSL_GET: the real server's, then the virtual server's. */
  readonly rsVirtualhost?: string;
  readonly vsVirtualhost?: string;
  /** MISC_CHECK: misc_timeout or, when unset/0, the virtual server's delay_loop (check_misc.c). */
  readonly miscTimeoutMs?: number;
}

export interface ResolvedRealServer {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  readonly weight: number;
  readonly inhibit: boolean;
  readonly alpha: boolean;
  readonly notifyUp?: NotifyScriptSpec;
  readonly notifyDown?: NotifyScriptSpec;
  readonly checkers: readonly ResolvedChecker[];
}

export interface ResolvedVirtualServer {
  readonly id: VsIdentity;
  readonly omega: boolean;
  readonly haSuspend: boolean;
  /** The addresses ha_suspend watches: an address service's own, a group's members, none for fwmark. */
  readonly haSuspendAddresses: readonly string[];
  readonly quorum: number;
  readonly hysteresis: number;
  readonly quorumUp?: NotifyScriptSpec;
  readonly quorumDown?: NotifyScriptSpec;
  readonly sorry?: { readonly address: string; readonly port: number; readonly inhibit: boolean };
  readonly realServers: readonly ResolvedRealServer[];
}

export interface SpecProblem {
  readonly code: CheckSpecErrorCode;
  readonly message: string;
  readonly where: string;
}

export const CHECK_SPEC_ERRORS = {
  CHECK_NO_URL: 'HTTP_GET/SSL_GET has no url block with a path; keepalived ignores the checker',
  CHECK_NO_MISC_PATH: 'MISC_CHECK has no misc_path; keepalived ignores the checker',
  CHECK_FAMILY_MISMATCH: 'connect_ip and bindto are of different address families',
  CHECK_LINK_LOCAL_NEEDS_BIND_IF: 'a link-local IPv6 connect_ip needs bind_if',
  CHECK_BAD_VALUE: 'a checker value is out of range',
  CHECK_BAD_DIGEST: 'digest must be 32 hex digits (an MD5)',
  CHECK_BAD_STATUS_CODE: 'status_code must be within 100-599 with min <= max',
  CHECK_BAD_REGEX: 'regex does not compile',
  CHECK_BAD_HEX: 'payload/require_reply must be hex digits (X allowed in require_reply)',
} as const;
export type CheckSpecErrorCode = keyof typeof CHECK_SPEC_ERRORS;

function familyOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

function ms(seconds: number): number {
  // keepalived keeps timers in microseconds; round to the microsecond, then express in ms.
  return Math.round(seconds * 1e6) / 1e3;
}

function checkerDefaults(spec: CheckerSpec): { retry: number; delayBeforeRetry: number | null } {
  switch (spec.type) {
    case 'HTTP_GET':
    case 'SSL_GET':
      return { retry: KEEPALIVED_DEFAULTS.retry, delayBeforeRetry: KEEPALIVED_DEFAULTS.http_delay_before_retry };
    case 'DNS_CHECK':
      // default_delay_before_retry = 0 means "use delay_loop" (check_data.c).
      return { retry: KEEPALIVED_DEFAULTS.dns_retry, delayBeforeRetry: null };
    case 'MISC_CHECK':
      return { retry: KEEPALIVED_DEFAULTS.misc_retry, delayBeforeRetry: KEEPALIVED_DEFAULTS.delay_before_retry };
    default:
      return { retry: KEEPALIVED_DEFAULTS.retry, delayBeforeRetry: KEEPALIVED_DEFAULTS.delay_before_retry };
  }
}

function posInt(v: number | undefined, min: number): boolean {
  return v === undefined || (Number.isInteger(v) && v >= min);
}

/** Parse keepalived's hex strings (lib/utils.c: read_hex_str): pairs of hex digits, blanks ignored, X = wildcard nibble. */
export function parseHex(text: string, allowWildcard: boolean): { data: Uint8Array; mask: Uint8Array | null } | null {
  const s = text.replace(/\s+/g, '');
  if (s.length === 0 || s.length % 2 !== 0) return null;
  const data = new Uint8Array(s.length / 2);
  const mask = new Uint8Array(s.length / 2);
  let wild = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    let nibble: number;
    let m = 0;
    if (c === 'x' || c === 'X') {
      if (!allowWildcard) return null;
      nibble = 0;
      m = 0xf;
      wild = true;
    } else {
      nibble = parseInt(c, 16);
      if (Number.isNaN(nibble)) return null;
    }
    const byte = i >> 1;
    const shift = i % 2 === 0 ? 4 : 0;
    data[byte] |= nibble << shift;
    mask[byte] |= m << shift;
  }
  return { data, mask: wild ? mask : null };
}

function validateChecker(spec: CheckerSpec, where: string, problems: SpecProblem[]): boolean {
  const bad = (code: CheckSpecErrorCode, detail?: string) =>
    problems.push({ code, message: detail ? `${CHECK_SPEC_ERRORS[code]}: ${detail}` : CHECK_SPEC_ERRORS[code], where });
  if (spec.type === 'FILE_CHECK' || spec.type === 'BFD_CHECK') return true;
  if (!posInt(spec.retry, 0)) { bad('CHECK_BAD_VALUE', `retry ${spec.retry}`); return false; }
  if (!posInt(spec.rise, 1)) { bad('CHECK_BAD_VALUE', `rise ${spec.rise}`); return false; }
  if (!posInt(spec.fall, 1)) { bad('CHECK_BAD_VALUE', `fall ${spec.fall}`); return false; }
  if (spec.delay_loop !== undefined && !(spec.delay_loop > 0)) { bad('CHECK_BAD_VALUE', `delay_loop ${spec.delay_loop}`); return false; }
  if (spec.type === 'MISC_CHECK') {
    if (spec.misc_path.length === 0 || spec.misc_path[0] === '') { bad('CHECK_NO_MISC_PATH'); return false; }
    return true;
  }
  if (spec.connect_ip && spec.bindto && familyOf(spec.connect_ip) !== familyOf(spec.bindto)) {
    bad('CHECK_FAMILY_MISMATCH', `${spec.connect_ip} / ${spec.bindto}`);
    return false;
  }
  if (spec.connect_ip && /^fe[89ab]/i.test(spec.connect_ip) && !spec.bind_if) {
    bad('CHECK_LINK_LOCAL_NEEDS_BIND_IF', spec.connect_ip);
    return false;
  }
  if (spec.type === 'HTTP_GET' || spec.type === 'SSL_GET') {
    const urls = spec.url.filter((u) => u.path);
    if (urls.length === 0) { bad('CHECK_NO_URL'); return false; }
    for (const u of urls) {
      if (u.digest !== undefined && !/^[0-9a-fA-F]{32}$/.test(u.digest)) { bad('CHECK_BAD_DIGEST', u.digest); return false; }
      for (const [lo, hi] of u.status_code ?? []) {
        if (!(lo >= HTTP_STATUS_CODE_MIN && hi <= HTTP_STATUS_CODE_MAX && lo <= hi)) {
          bad('CHECK_BAD_STATUS_CODE', `${lo}-${hi}`);
          return false;
        }
      }
      if (u.regex !== undefined) {
        try { new RegExp(u.regex, regexFlags(u.regex_options)); } catch (e) {
          bad('CHECK_BAD_REGEX', `${u.regex}: ${(e as Error).message}`);
          return false;
        }
      }
    }
  }
  if (spec.type === 'UDP_CHECK') {
    if (spec.payload !== undefined && !parseHex(spec.payload, false)) { bad('CHECK_BAD_HEX', `payload ${spec.payload}`); return false; }
    if (spec.require_reply && !parseHex(spec.require_reply, true)) { bad('CHECK_BAD_HEX', `require_reply ${spec.require_reply}`); return false; }
  }
  return true;
}

export function regexFlags(options: readonly RegexOption[] | undefined): string {
  const flags = new Set<string>();
  for (const o of options ?? []) flags.add(REGEX_OPTIONS[o]);
  return [...flags].join('');
}

export function formatVsIdentity(id: VsIdentity): string {
  // check_data.c: format_vs — "[group]:port", "FWM n", or "[addr]:proto:port".
  if (id.kind === 'group') return `[${id.group}]:${id.port}`;
  if (id.kind === 'fwmark') return `FWM ${id.fwmark}`;
  return `[${id.address}]:${id.protocol}:${id.port}`;
}

/**
 * Resolve inheritance and defaults, keepalived style. Checkers keepalived would drop (and log) are
 * dropped and reported as problems; the rest of the virtual server still runs.
 */
export function resolveVirtualServer(vs: VirtualServerSpec): { vs: ResolvedVirtualServer; problems: SpecProblem[] } {
  const problems: SpecProblem[] = [];
  const vsName = formatVsIdentity(vs.id);
  const vsDelayLoop = vs.delay_loop ?? KEEPALIVED_DEFAULTS.delay_loop;
  const vsConnectTimeout = vs.connect_timeout ?? KEEPALIVED_DEFAULTS.connect_timeout;
  const realServers: ResolvedRealServer[] = [];
  for (const rs of vs.real_server) {
    const rsAlpha = rs.alpha ?? vs.alpha ?? false;
    const rsRetry = rs.retry ?? vs.retry;
    const rsConnectTimeout = rs.connect_timeout ?? vsConnectTimeout;
    const rsDelayLoop = rs.delay_loop ?? vsDelayLoop;
    const rsWarmup = rs.warmup ?? vs.warmup;
    const rsDelayBeforeRetry = rs.delay_before_retry ?? vs.delay_before_retry;
    const rsName = `[${rs.address}]:${rs.port}`;
    const checkers: ResolvedChecker[] = [];
    const expanded: CheckerSpec[] = [];
    for (const c of rs.checkers) {
      if (c.type === 'SMTP_CHECK' && c.host && c.host.length > 0) {
        // check_smtp.c: smtp_check_end_handler — each host{} block becomes its own checker; the
        // checker's own connection keys (or, with none set, the first host's) make the first one.
        // A host{} starts from the real server's address with no timeout of its own, so an unset
        // connect_timeout there falls back to the real server's, not the SMTP_CHECK's.
        const { host, connect_ip, connect_port, bindto, bind_port, bind_if, fwmark, connect_timeout, ...timingAndHelo } = c;
        const own: ConnectionKeys = { connect_ip, connect_port, bindto, bind_port, bind_if, fwmark, connect_timeout };
        const ownKeys = Object.values(own).some((v) => v !== undefined);
        const hosts = ownKeys ? host : host.slice(1);
        expanded.push({ ...timingAndHelo, ...(ownKeys ? own : host[0]) });
        for (const h of hosts) expanded.push({ ...timingAndHelo, ...h });
      } else {
        expanded.push(c);
      }
    }
    expanded.forEach((c, index) => {
      const where = `${vsName} ${rsName} ${c.type}#${index}`;
      if (!validateChecker(c, where, problems)) return;
      const name = `${c.type}#${index}`;
      if (c.type === 'FILE_CHECK') {
        // FILE_CHECK is never scheduled; alpha is cleared because the state is known at once (check_file.c).
        checkers.push({
          name, spec: c,
          timing: { delayLoopMs: 0, delayBeforeRetryMs: 0, retry: 0, warmupMs: 0, alpha: false, rise: 1, fall: 1, logAllFailures: false },
        });
        return;
      }
      if (c.type === 'BFD_CHECK') {
        // BFD_CHECK is never scheduled either; it starts up (or down with alpha) until the BFD
        // process's first event (check_bfd.c, check_api.c: queue_checker).
        checkers.push({
          name, spec: c,
          timing: { delayLoopMs: 0, delayBeforeRetryMs: 0, retry: 0, warmupMs: 0, alpha: c.alpha ?? rsAlpha, rise: 1, fall: 1, logAllFailures: false },
        });
        return;
      }
      const def = checkerDefaults(c);
      const delayLoop = c.delay_loop ?? rsDelayLoop;
      const timing: CheckerTiming = {
        delayLoopMs: ms(delayLoop),
        retry: c.retry ?? rsRetry ?? def.retry,
        warmupMs: ms(c.warmup ?? rsWarmup ?? delayLoop),
        delayBeforeRetryMs: ms(c.delay_before_retry ?? rsDelayBeforeRetry ?? def.delayBeforeRetry ?? delayLoop),
        alpha: c.alpha ?? rsAlpha,
        rise: c.rise ?? KEEPALIVED_DEFAULTS.rise,
        fall: c.fall ?? KEEPALIVED_DEFAULTS.fall,
        logAllFailures: c.log_all_failures ?? false,
      };
      if (c.type === 'MISC_CHECK') {
        checkers.push({
          name, spec: c, timing,
          miscTimeoutMs: c.misc_timeout ? c.misc_timeout * 1000 : ms(vsDelayLoop),
        });
        return;
      }
      const address = c.connect_ip ?? rs.address;
      const target: CheckTarget = {
        family: familyOf(address),
        address,
        port: c.connect_port ?? rs.port,
        bindto: c.bindto,
        bindPort: c.bind_port,
        bindIf: c.bind_if,
        fwmark: c.fwmark,
        connectTimeoutMs: ms(c.connect_timeout ?? rsConnectTimeout),
      };
      checkers.push({ name, spec: c, timing, target, rsVirtualhost: rs.virtualhost, vsVirtualhost: vs.virtualhost });
    });
    realServers.push({
      address: rs.address,
      port: rs.port,
      family: familyOf(rs.address),
      weight: rs.weight ?? KEEPALIVED_DEFAULTS.weight,
      inhibit: rs.inhibit_on_failure ?? vs.inhibit_on_failure ?? false,
      alpha: rsAlpha,
      notifyUp: rs.notify_up,
      notifyDown: rs.notify_down,
      checkers,
    });
  }
  return {
    vs: {
      id: vs.id,
      omega: vs.omega ?? false,
      haSuspend: vs.ha_suspend ?? false,
      haSuspendAddresses: vs.id.kind === 'addr' ? [vs.id.address] : vs.id.kind === 'group' ? vs.ha_suspend_addresses ?? [] : [],
      quorum: vs.quorum ?? KEEPALIVED_DEFAULTS.quorum,
      hysteresis: vs.hysteresis ?? KEEPALIVED_DEFAULTS.hysteresis,
      quorumUp: vs.quorum_up,
      quorumDown: vs.quorum_down,
      sorry: vs.sorry_server
        ? { address: vs.sorry_server.address, port: vs.sorry_server.port, inhibit: vs.sorry_server_inhibit ?? false }
        : undefined,
      realServers,
    },
    problems,
  };
}
