// The state keyword handlers share while a keepalived.conf is read: the objects being built
// (drafts: a field left undefined is "not configured", so defaults and inheritance can be applied
// afterwards, as keepalived does with its UINT_MAX / -1 sentinels), the diagnostics, the host, and
// small helpers every table uses (numbers, booleans, scripts, interfaces).
import type { Addr, Family } from '../../../core/addr.ts';
import { addrFromBytes } from '../../../core/addr.ts';
import { inetPton4, inetPton6 } from '../../endpoint.ts';
import type { Diagnostics, DiagnosticCode, KeepalivedClass, SourcePos, Severity } from '../diagnostics.ts';
import type { KeepalivedHost } from '../host.ts';
import { splitQuotedEscaped, type Token } from '../lexer.ts';
import type { Statement } from '../tree.ts';
import { checkTrueFalse, readInt, readTimer, readUnsigned, readDecimal, type NumberProblem } from '../numbers.ts';
import type {
  BfdInstance, Checker, CheckerConnection, GarpGroup, GlobalDefs, HttpUrl, IpAddress, IpRoute, IpRule, ProbeCloseMode, ScriptSpec,
  SslContext, TrackFile, TrackProcess, TrackRef, UnicastPeer, VrrpNotify, VrrpScript, VsgFwmark, VsgRange,
} from '../model.ts';
import type { Forwarding, VsTarget } from '../model.ts';
import type { Preprocessor } from '../preprocess.ts';

export type Draft<T> = { -readonly [K in keyof T]?: T[K] };

export interface ConnDraft extends Draft<Omit<CheckerConnection, 'ip' | 'port'>> {
  ip?: Addr;
  port?: number;
  /** connect_ip given with a family different from bindto (keepalived then drops it). */
  at: SourcePos;
}

export interface UrlDraft extends Draft<Omit<HttpUrl, 'statusCodes'>> {
  statusCodes: { min: number; max: number }[];
  at: SourcePos;
}

export interface CheckerDraft {
  type: Checker['type'];
  at: SourcePos;
  retry?: number;
  delayBeforeRetryUs?: number;
  warmupUs?: number;
  delayLoopUs?: number;
  alpha?: boolean;
  logAllFailures?: boolean;
  rise?: number;
  fall?: number;
  probeClose?: ProbeCloseMode;
  conn: ConnDraft | null;
  /** Type-specific fields. */
  urls: UrlDraft[];
  virtualhost: string | null;
  httpProtocol: '1.0' | '1.0C' | '1.1';
  enableSni: boolean;
  fastRecovery: boolean;
  script: ScriptSpec | null;
  miscTimeoutS: number | null;
  miscDynamic: boolean;
  miscUser: { user: string; group: string | null } | null;
  miscRemoved: boolean;
  dnsType: string;
  dnsName: string | null;
  heloName: string | null;
  hosts: ConnDraft[];
  payload: string | null;
  requireReply: boolean;
  replyData: string | null;
  minReplyLength: number;
  maxReplyLength: number;
  trackFile: string | null;
  fileWeight: number | null;
  fileWeightReverse: boolean;
  bfdName: string | null;
  /** The checker was dropped by its close handler. */
  dropped: boolean;
}

export interface RsDraft {
  addr: Addr;
  port: number;
  at: SourcePos;
  weight?: number;
  forwarding?: Forwarding;
  uthreshold?: number;
  lthreshold?: number;
  inhibitOnFailure?: boolean;
  notifyUp?: ScriptSpec | null;
  notifyDown?: ScriptSpec | null;
  alpha?: boolean;
  retry?: number;
  connectTimeoutUs?: number;
  delayLoopUs?: number;
  delayBeforeRetryUs?: number;
  warmupUs?: number;
  smtpAlert?: boolean;
  virtualhost?: string;
  checkers: CheckerDraft[];
}

export interface SorryDraft {
  addr: Addr;
  port: number;
  forwarding?: Forwarding;
  inhibit: boolean;
  at: SourcePos;
}

export interface VsDraft {
  target: VsTarget;
  family: Family | null;
  at: SourcePos;
  protocol?: 'tcp' | 'udp' | 'sctp';
  scheduler?: string;
  flags: number;
  hashed: boolean;
  forwarding?: Forwarding;
  persistenceTimeout: number;
  persistenceGranularity: number | null;
  persistenceEngine: string | null;
  haSuspend: boolean;
  smtpAlert?: boolean;
  virtualhost: string | null;
  alpha: boolean;
  omega: boolean;
  quorum: number;
  hysteresis: number;
  quorumUp: ScriptSpec | null;
  quorumDown: ScriptSpec | null;
  weight: number;
  inhibitOnFailure: boolean;
  sorry: SorryDraft | null;
  delayLoopUs: number;
  connectTimeoutUs: number;
  retry?: number;
  delayBeforeRetryUs?: number;
  warmupUs?: number;
  rs: RsDraft[];
}

export interface VsgDraft {
  name: string;
  ranges: VsgRange[];
  fwmarks: VsgFwmark[];
  at: SourcePos;
}

export interface VrrpDraft {
  name: string;
  at: SourcePos;
  state?: 'MASTER' | 'BACKUP';
  interface: string | null;
  interfaceOk: boolean;
  family: Family | null;
  version?: 2 | 3;
  vrid: number;
  priority: number;
  advertIntUs: number;
  authType: 'PASS' | 'AH' | null;
  authPass: string | null;
  vips: IpAddress[];
  evips: IpAddress[];
  routes: IpRoute[];
  rules: IpRule[];
  unicastSrcIp: Addr | null;
  mcastSrcIp: Addr | null;
  mcastDstIp: Addr | null;
  saddrFromConfig: boolean;
  unicastConfigured: boolean;
  unicastPeers: UnicastPeer[];
  unicastTtl: number | null;
  unicastFaultNoPeer: boolean;
  checkUnicastSrc: boolean;
  useVmac: { name: string | null; mac: string | null } | null;
  vmacXmitBase: boolean;
  useIpvlan: string[] | null;
  nopreempt: boolean;
  preemptDelayUs: number;
  accept?: boolean;
  strictMode?: boolean;
  dontTrackPrimary: boolean;
  skipCheckAdvAddr: boolean;
  trackSrcIp: boolean;
  promoteSecondaries: boolean;
  trackInterfaces: TrackRef[];
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  trackBfds: TrackRef[];
  notify: { -readonly [K in keyof VrrpNotify]: VrrpNotify[K] };
  notifyDeleted: ScriptSpec | 'send-fault' | 'notify-only';
  notifyMasterRxLowerPri: ScriptSpec | null;
  notifyPriorityChanges?: boolean;
  smtpAlert?: boolean;
  garpMasterDelayS?: number;
  garpMasterRepeat?: number;
  garpLowerPrioDelayS?: number;
  garpLowerPrioRepeat?: number;
  garpMasterRefreshS?: number;
  garpMasterRefreshRepeat?: number;
  garpExtraIf: { all: boolean; intervalS: number } | null;
  downTimerAdverts: number;
  lowerPrioNoAdvert?: boolean;
  higherPrioSendAdvert?: boolean;
  kernelRxBufSize: number | null;
  debug: number;
}

export interface SyncGroupDraft {
  name: string;
  members: string[] | null;
  at: SourcePos;
  trackInterfaces: TrackRef[];
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  trackBfds: TrackRef[];
  notify: { -readonly [K in keyof VrrpNotify]: VrrpNotify[K] };
  smtpAlert: boolean | null;
  trackingWeight: boolean;
  notifyPriorityChanges: boolean | null;
}

export interface ScriptDraft extends Draft<Omit<VrrpScript, 'script'>> {
  name: string;
  at: SourcePos;
  script: ScriptSpec | null;
  userSet: boolean;
  remove: boolean;
}

export type GlobalDraft = Draft<GlobalDefs> & { other: Map<string, string[]> };

/** The default that keepalived fills when nothing was configured (check_data.c: alloc_vs). */
export const VS_DEFAULT_DELAY_LOOP_US = 60_000_000;
export const VS_DEFAULT_CONNECT_TIMEOUT_US = 5_000_000;

export class ParseCtx {
  readonly diags: Diagnostics;
  readonly host: KeepalivedHost;
  readonly pre: Preprocessor;
  /** Which pass: 'global' reads global_defs and the parent's top-level keywords, 'sections' the rest. */
  readonly pass: 'global' | 'sections';
  readonly global: GlobalDraft;
  readonly topLevel: Map<string, string[]>;
  readonly vrrpScripts: ScriptDraft[] = [];
  readonly trackFiles: (Draft<TrackFile> & { name: string; at: SourcePos; fileSet: boolean; weightSet: boolean })[] = [];
  readonly trackProcesses: (Draft<TrackProcess> & { name: string; at: SourcePos })[] = [];
  readonly bfdInstances: (Draft<BfdInstance> & { name: string; at: SourcePos; settings: Map<string, string[]> })[] = [];
  readonly syncGroups: SyncGroupDraft[] = [];
  readonly instances: VrrpDraft[] = [];
  readonly garpGroups: (Draft<GarpGroup> & { interfaces: string[]; at: SourcePos; aggregation: number })[] = [];
  readonly staticAddrs: IpAddress[] = [];
  readonly staticRoutes: IpRoute[] = [];
  readonly staticRules: IpRule[] = [];
  readonly trackGroups: { name: string; members: string[] | null; at: SourcePos }[] = [];
  readonly vsgs: VsgDraft[] = [];
  readonly vss: VsDraft[] = [];
  ssl: Draft<SslContext> & { at: SourcePos } | null = null;
  /** vrrp_daemon.c: non_existent_interface_specified. */
  nonExistentInterface = false;
  /** lib/notify.c: the default script user was looked up and failed. */
  defaultUserState: 'unknown' | 'ok' | 'failed' = 'unknown';
  /** vrrp_iprule.c: next_rule_priority_ipv4/6. */
  nextRulePriority = { 4: 16384, 6: 16384 } as Record<Family, number>;
  /** Set by SMTP_CHECK host { } while it is open. */
  smtpHost: ConnDraft | null = null;

  constructor(diags: Diagnostics, host: KeepalivedHost, pre: Preprocessor, pass: 'global' | 'sections', global: GlobalDraft, topLevel: Map<string, string[]>) {
    this.diags = diags;
    this.host = host;
    this.pre = pre;
    this.pass = pass;
    this.global = global;
    this.topLevel = topLevel;
  }

  /** Report at a token or position. */
  report(at: Token | SourcePos | null, message: string, opts: { code?: DiagnosticCode; klass?: KeepalivedClass; keyword?: string; expected?: string; severity?: Severity } = {}): void {
    const pos = at === null ? null : 'text' in at ? at.at : at;
    this.diags.report(pos, opts.code ?? 'INVALID_VALUE', opts.klass ?? 'GENERAL_ERROR', message, { keyword: opts.keyword, expected: opts.expected, severity: opts.severity });
  }

  /** A NumberProblem reporter at a token, for the number readers. */
  numberAt(tok: Token, keyword: string): NumberProblem {
    return (code, klass, message, expected) => this.diags.report(tok.at, code, klass, message, { keyword, expected });
  }

  uint(st: Statement, i: number, min: number, max: number): number | null {
    const tok = st.args[i - 1];
    return readUnsigned(tok.text, min, max, this.numberAt(tok, st.keyword.text));
  }

  int(st: Statement, i: number, min: number, max: number): number | null {
    const tok = st.args[i - 1];
    return readInt(tok.text, min, max, this.numberAt(tok, st.keyword.text));
  }

  /** read_timer: microseconds. */
  timer(st: Statement, i: number, minUs: number, maxUs: number): number | null {
    const tok = st.args[i - 1];
    return readTimer(tok.text, minUs, maxUs, this.numberAt(tok, st.keyword.text));
  }

  decimal(st: Statement, i: number, min: number, max: number, shift: number): number | null {
    const tok = st.args[i - 1];
    return readDecimal(tok.text, min, max, shift, this.numberAt(tok, st.keyword.text));
  }

  /** A keyword with an optional boolean (keyword alone = true); null after reporting a bad value. */
  optBool(st: Statement, invalid: string): boolean | null {
    if (st.args.length === 0) return true;
    const v = checkTrueFalse(st.args[0].text);
    if (v === null) this.report(st.args[0], invalid, { keyword: st.keyword.text, expected: 'on|off|true|false|yes|no' });
    return v;
  }

  /** Does an interface exist? Records keepalived's "non-existent interface" flag unless dynamic_interfaces. */
  interfaceExists(name: string): boolean {
    if (this.host.interfaces === null) return true;
    if (this.host.interfaces.has(name)) return true;
    if (this.global.dynamicInterfaces) return true;
    this.nonExistentInterface = true;
    return false;
  }

  isLoopback(name: string): boolean {
    return this.host.interfaces?.get(name)?.loopback ?? false;
  }

  /** lib/notify.c: get_default_script_user — fails only with enable_script_security and no keepalived_script user. */
  defaultScriptUser(at: SourcePos): boolean {
    if (this.defaultUserState === 'failed') return false;
    if (this.defaultUserState === 'ok') return true;
    if (this.global.scriptUser) {
      this.defaultUserState = 'ok';
      return true;
    }
    if (!this.host.userExists('keepalived_script') && this.global.enableScriptSecurity) {
      this.report(at, 'Unable to set default user keepalived_script for script', { code: 'SCRIPT' });
      this.defaultUserState = 'failed';
      return false;
    }
    this.defaultUserState = 'ok';
    return true;
  }

  /**
   * lib/notify.c: notify_script_init — the line re-split with quotes and escapes; word 1 is the
   * command line (itself split into args), words 2 and 3 an optional user and group.
   */
  notifyScript(st: Statement): ScriptSpec | null {
    const r = splitQuotedEscaped(st.line.text);
    if (!r.ok) {
      if (r.reason === 'unmatched-quote') {
        this.report(st.keyword, `String '${st.line.text}': missing terminating ${r.quote}`, { code: 'UNTERMINATED_QUOTE', klass: 'UNMATCHED_QUOTE', keyword: st.keyword.text });
      }
      return null;
    }
    if (r.words.length < 2) return null;
    const cmd = splitQuotedEscaped(r.words[1]);
    if (!cmd.ok || cmd.words.length === 0) return null;
    const at = st.args[0]?.at ?? st.keyword.at;
    if (r.words.length > 2) {
      const user = r.words[2];
      const group = r.words[3] ?? null;
      // lib/notify.c: set_uid_gid only logs an unknown user/group; the script is then dropped.
      if (!this.host.userExists(user) || (group !== null && !this.host.groupExists(group))) {
        this.report(at, `Invalid user/group for ${st.keyword.text} script ${cmd.words[0]} - ignoring`, { code: 'SCRIPT', klass: 'OK', keyword: st.keyword.text, severity: 'warning' });
        return null;
      }
      return { args: cmd.words, user, group, at };
    }
    if (!this.defaultScriptUser(at)) return null;
    return { args: cmd.words, user: null, group: null, at };
  }

  /** lib/notify.c: set_script_params_array on a re-split line (vrrp_script `script`, MISC_CHECK `misc_path`). */
  commandLine(st: Statement): string[] | null {
    const r = splitQuotedEscaped(st.line.text);
    if (!r.ok) {
      if (r.reason === 'unmatched-quote') {
        this.report(st.keyword, `String '${st.line.text}': missing terminating ${r.quote}`, { code: 'UNTERMINATED_QUOTE', klass: 'UNMATCHED_QUOTE', keyword: st.keyword.text });
      }
      return null;
    }
    if (r.words.length < 2) return null;
    const cmd = splitQuotedEscaped(r.words[1]);
    return cmd.ok && cmd.words.length > 0 ? cmd.words : null;
  }
}

/** lib/utils.c: inet_stosockaddr — an address (range/mask suffix ignored) and an optional port 1..65535. */
export function inetStoSockaddr(ip: string, port: string | null, problem?: NumberProblem): { addr: Addr; port: number } | null {
  const family: Family = ip.includes(':') ? 6 : 4;
  let p = 0;
  if (port !== null) {
    const v = readUnsigned(port, 1, 65535, problem ?? (() => {}));
    if (v === null) return null;
    p = v;
  }
  const cut = ip.search(/[-/]/);
  const text = cut >= 0 ? ip.slice(0, cut) : ip;
  const bytes = family === 4 ? inetPton4(text) : inetPton6(text);
  if (!bytes) return null;
  return { addr: addrFromBytes(bytes), port: p };
}

/** inet_pton for one family or either. */
export function pton(text: string, family?: Family): Addr | null {
  const f = family ?? (text.includes(':') ? 6 : 4);
  const b = f === 4 ? inetPton4(text) : inetPton6(text);
  return b ? addrFromBytes(b) : null;
}

/** "0", "00", ... mean "no port" to alloc_vs/alloc_rs (v2.0.7 legacy: port 0 was not allowed). */
export function portOrNull(text: string | undefined): string | null {
  if (text === undefined) return null;
  return /^0*$/.test(text) ? null : text;
}

export function newNotify(): VrrpDraft['notify'] {
  return { master: null, backup: null, fault: null, stop: null, generic: null };
}

/** The value of `checker_probe_close` / `probe_close` (keepvs extension), or null after reporting it. */
export function probeCloseMode(c: ParseCtx, st: Statement, keyword: string): ProbeCloseMode | null {
  const v = st.args[0].text;
  if (v === 'reset' || v === 'graceful') return v;
  c.report(st.args[0], `Invalid ${keyword} '${v}' - ignoring`, { keyword, expected: 'reset or graceful' });
  return null;
}
