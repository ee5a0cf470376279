// The VRRP part of a keepalived configuration as plain typed data, with keepalived's keyword names
// (snake_case, as in keepalived.conf) and defaults, and its resolution into what the protocol code runs
// on: keepalived's vrrp_complete_instance (vrrp.c) rules, each correction reported as a diagnostic.
// The keepalived.conf parser (src/config/keepalived/) fills these types; cli-runner.ts reads them as JSON.
import { parseAddr, type Addr, type Family } from '../core/addr.ts';
import { diagnostic, type VrrpDiagnostic } from './errors.ts';
import { AUTH_TYPE, PRIO_OWNER, VRRP_AUTH_LEN, VRRP_MCAST4, VRRP_MCAST6, passwordAuthData } from './packet.ts';
import type { ChecksumCompat, UnicastPeer } from './receive-check.ts';
import { TIMER_HZ, normaliseAdvertInt } from './timers.ts';
import { parseVip, parseRouteOrRule, type Vip } from './vip.ts';
import type { ResolvedTrackProcess } from './track-process.ts';

// ---------------------------------------------------------------------------------------------- input

/** global_defs keys that concern VRRP (keepalived.conf(5); defaults from global_data.c). */
export interface VrrpGlobalDefs {
  router_id?: string;
  vrrp_version?: 2 | 3;
  vrrp_mcast_group4?: string;
  vrrp_mcast_group6?: string;
  vrrp_garp_master_delay?: number;
  vrrp_garp_master_repeat?: number;
  vrrp_garp_lower_prio_delay?: number;
  vrrp_garp_lower_prio_repeat?: number;
  vrrp_garp_master_refresh?: number;
  vrrp_garp_master_refresh_repeat?: number;
  vrrp_down_timer_adverts?: number;
  vrrp_lower_prio_no_advert?: boolean;
  vrrp_higher_prio_send_advert?: boolean;
  vrrp_check_unicast_src?: boolean;
  vrrp_skip_check_adv_addr?: boolean;
  vrrp_strict?: boolean;
  vrrp_notify_priority_changes?: boolean;
  /** notify_fifo / vrrp_notify_fifo: paths of FIFOs that receive state lines. */
  notify_fifo?: string;
  vrrp_notify_fifo?: string;
  /** The account scripts run as when they name none (keepalived's script_user). */
  script_user?: ScriptUserConfig;
  /** Refuse to run scripts that are not safe to run as root (keepalived's enable_script_security). */
  enable_script_security?: boolean;
  /** Seconds: no BACKUP times out before start + this + its Master_Down_Interval (first start only). */
  vrrp_startup_delay?: number;
  /** Seconds between gratuitous ARPs / unsolicited NAs on one interface (0 = no limit); interfaces outside every garp_group. */
  vrrp_garp_interval?: number;
  vrrp_gna_interval?: number;
}

/** `garp_group { garp_interval S; gna_interval S; interface IF; interfaces { ... } }`: one limit shared by its interfaces. */
export interface GarpGroupConfig {
  garp_interval?: number;
  gna_interval?: number;
  interfaces: string[];
}

/** `track_interface { IF [weight W [reverse]] }` and the same shape for scripts and files. */
export interface TrackRef {
  name: string;
  weight?: number;
  reverse?: boolean;
}

/** `vrrp_script NAME { ... }`. */
export interface VrrpScriptConfig {
  name: string;
  script: string;
  /** Seconds, default 1. */
  interval?: number;
  /** Seconds, default = interval. */
  timeout?: number;
  /** -253..253, default 0 (0 = failure means FAULT). */
  weight?: number;
  reverse?: boolean;
  rise?: number;
  fall?: number;
  init_fail?: boolean;
  /** `user USER [GROUP]`: run as this account (default: global_defs script_user, else keepalived_script, else ourselves). */
  user?: ScriptUserConfig;
}

export interface ScriptUserConfig {
  user: string;
  group?: string;
}

/**
 * A notify command: the line as written, or with the account written after it in keepalived.conf
 * (`notify_master "/x.sh a" USER [GROUP]`), which it then runs as instead of script_user.
 */
export type NotifyScriptConfig = string | { script: string; user?: ScriptUserConfig };

/** `track_file NAME { file PATH; weight W [reverse]; init_file [VALUE] [overwrite] }`. */
export interface TrackFileConfig {
  name: string;
  file: string;
  /** Default 1. */
  weight?: number;
  reverse?: boolean;
  init_file?: { value?: number; overwrite?: boolean };
}

/** `unicast_peer { IP [min_ttl N] [max_ttl N] }`. */
export type UnicastPeerConfig = string | { address: string; min_ttl?: number; max_ttl?: number };

/** What a vrrp_instance and a vrrp_sync_group both take: what they track and the scripts they notify. */
export interface TrackingAndNotify {
  track_interface?: TrackRef[];
  track_script?: TrackRef[];
  track_file?: TrackRef[];
  track_process?: TrackRef[];
  notify_master?: NotifyScriptConfig;
  notify_backup?: NotifyScriptConfig;
  notify_fault?: NotifyScriptConfig;
  notify_stop?: NotifyScriptConfig;
  notify?: NotifyScriptConfig;
}

export interface VrrpInstanceConfig extends TrackingAndNotify {
  /** vrrp_instance NAME. */
  name: string;
  state?: 'MASTER' | 'BACKUP';
  interface?: string;
  dont_track_primary?: boolean;
  virtual_router_id: number;
  /** 1..255; default 255 with state MASTER, else 100. */
  priority?: number;
  /** Seconds, fractions allowed (v3). Default 1. */
  advert_int?: number;
  version?: 2 | 3;
  authentication?: { auth_type: 'PASS' | 'AH'; auth_pass: string };
  /** keepalived's text form: "ADDR[/MASK] [brd ADDR|+|-] [dev IF] [scope S] [label L] [peer ADDR] [no_track] ...". */
  virtual_ipaddress?: string[];
  virtual_ipaddress_excluded?: string[];
  /** `ip route` arguments as keepalived takes them, e.g. "10.0.0.0/8 via 198.18.10.254 dev eth0". */
  virtual_routes?: string[];
  /** `ip rule` arguments, e.g. "from 198.18.10.100 table 100". */
  virtual_rules?: string[];
  mcast_src_ip?: string;
  unicast_src_ip?: string;
  unicast_peer?: UnicastPeerConfig[];
  unicast_ttl?: number;
  unicast_fault_no_peer?: boolean;
  mcast_dst_ip?: string;
  check_unicast_src?: boolean;
  /** true = old checksum; 'never' = never switch to it automatically. */
  old_unicast_checksum?: boolean | 'never';
  nopreempt?: boolean;
  /** Seconds 0..1000. */
  preempt_delay?: number;
  skip_check_adv_addr?: boolean;
  strict_mode?: boolean;
  garp_master_delay?: number;
  garp_master_repeat?: number;
  garp_lower_prio_delay?: number;
  garp_lower_prio_repeat?: number;
  garp_master_refresh?: number;
  garp_master_refresh_repeat?: number;
  down_timer_adverts?: number;
  lower_prio_no_advert?: boolean;
  higher_prio_send_advert?: boolean;
  notify_master_rx_lower_pri?: NotifyScriptConfig;
  /**
   * keepalived 2.2 `notify_deleted [SCRIPT [USER [GROUP]]]`: an instance a reload removes is reported as
   * DELETED (not FAULT) to the generic notify and the FIFOs; SCRIPT, when given, runs as notify_fault would.
   * true = without a script.
   */
  notify_deleted?: boolean | NotifyScriptConfig;
  notify_priority_changes?: boolean;
  accept?: boolean;
  no_accept?: boolean;
  /** `use_vmac [NAME]`: a macvlan (default name vrrp.VRID) with MAC 00:00:5e:00:01:VRID (IPv6: 00:00:5e:00:02:VRID) carries the VIPs and the adverts. */
  use_vmac?: boolean | string;
  /** `vmac_xmit_base`: with use_vmac, adverts leave from (and are read on) the base interface. */
  vmac_xmit_base?: boolean;
  use_ipvlan?: boolean | string;
}

export interface VrrpSyncGroupConfig extends TrackingAndNotify {
  name: string;
  group: string[];
  notify_priority_changes?: boolean;
  sync_group_tracking_weight?: boolean;
}

/** `vrrp_track_process NAME { process NAME [ARGS...]; param_match ...; weight W [reverse]; quorum N; quorum_max M; fork_delay S; terminate_delay S; full_command }`. */
export interface TrackProcessConfig {
  name: string;
  process: string;
  params?: string[];
  param_match?: 'exact' | 'initial' | 'partial';
  weight?: number;
  reverse?: boolean;
  /** Default 1. */
  quorum?: number;
  /** Default: no upper bound; 0 (with quorum 0) = up only while no such process runs. */
  quorum_max?: number;
  /** Seconds. */
  fork_delay?: number;
  terminate_delay?: number;
  full_command?: boolean;
}

/** Everything VRRP reads from a keepalived.conf. */
export interface VrrpConfig {
  global_defs?: VrrpGlobalDefs;
  vrrp_script?: VrrpScriptConfig[];
  track_file?: TrackFileConfig[];
  vrrp_sync_group?: VrrpSyncGroupConfig[];
  vrrp_track_process?: TrackProcessConfig[];
  garp_group?: GarpGroupConfig[];
  vrrp_instance: VrrpInstanceConfig[];
}

// ---------------------------------------------------------------------------------------------- resolved

export type VrrpStateName = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

export interface GarpTiming {
  masterDelayUs: number;
  masterRepeat: number;
  lowerPrioDelayUs: number;
  lowerPrioRepeat: number;
  refreshUs: number;
  refreshRepeat: number;
}

export interface ResolvedTrack {
  readonly name: string;
  readonly weight: number;
  /** keepalived's weight_multiplier: 1, or -1 with `reverse`. */
  readonly multiplier: 1 | -1;
}

export interface NotifyScripts {
  readonly master: string | null;
  readonly backup: string | null;
  readonly fault: string | null;
  readonly stop: string | null;
  readonly generic: string | null;
  readonly masterRxLowerPri: string | null;
  /** notify_deleted's script (instances only). */
  readonly deleted?: string | null;
  /** The account written after a command, by role; absent = script_user / the default. */
  readonly users?: Readonly<Partial<Record<NotifyRole, ScriptUserConfig>>>;
}

export type NotifyRole = 'master' | 'backup' | 'fault' | 'stop' | 'generic' | 'masterRxLowerPri' | 'deleted';

/** use_vmac: the macvlan an instance creates on its interface (keepalived vrrp_vmac.c). */
export interface ResolvedVmac {
  /** vrrp.VRID unless named. */
  readonly name: string;
  /** 00:00:5e:00:01:VRID (IPv6: 00:00:5e:00:02:VRID). */
  readonly mac: string;
  /** vmac_xmit_base: adverts go out (and are read) on the base interface. */
  readonly xmitBase: boolean;
}

export interface ResolvedInstance {
  readonly name: string;
  readonly vrid: number;
  readonly family: Family;
  readonly version: 2 | 3;
  readonly interface: string | null;
  readonly basePriority: number;
  /** Configured initial wish (keepalived wantstate at start). */
  readonly initialState: 'MASTER' | 'BACKUP';
  readonly adverIntUs: number;
  readonly downTimerAdverts: number;
  readonly authType: number;
  readonly authData: Uint8Array;
  readonly vips: readonly Vip[];
  readonly evips: readonly Vip[];
  readonly routes: readonly (readonly string[])[];
  readonly rules: readonly (readonly string[])[];
  readonly unicast: boolean;
  /** unicast_src_ip / mcast_src_ip; null = the interface's primary address. */
  readonly srcAddr: Addr | null;
  readonly peers: readonly UnicastPeer[];
  /** Multicast destination (mcast_dst_ip or the global group); unused with unicast. */
  readonly mcastDst: Addr;
  readonly mcastGroup4: Addr;
  readonly ttl: number;
  readonly unicastFaultNoPeer: boolean;
  readonly checkUnicastSrc: boolean;
  readonly checksumCompat: ChecksumCompat;
  readonly nopreempt: boolean;
  readonly preemptDelayUs: number;
  readonly skipCheckAdvAddr: boolean;
  readonly strict: boolean;
  readonly garp: GarpTiming;
  readonly lowerPrioNoAdvert: boolean;
  readonly higherPrioSendAdvert: boolean;
  readonly dontTrackPrimary: boolean;
  readonly trackInterfaces: readonly ResolvedTrack[];
  readonly trackScripts: readonly ResolvedTrack[];
  readonly trackFiles: readonly ResolvedTrack[];
  readonly trackProcesses: readonly ResolvedTrack[];
  readonly notify: NotifyScripts;
  readonly notifyPriorityChanges: boolean;
  /** notify_deleted: a reload's removal is reported as DELETED (else FAULT). */
  readonly notifyDeleted: boolean;
  /** use_vmac; null = the VIPs and adverts use the interface itself. */
  readonly vmac: ResolvedVmac | null;
  readonly syncGroup: string | null;
}

export interface ResolvedScript {
  readonly name: string;
  readonly script: string;
  readonly intervalUs: number;
  readonly timeoutUs: number;
  readonly weight: number;
  readonly reverse: boolean;
  readonly rise: number;
  readonly fall: number;
  readonly initFail: boolean;
  /** null = the global script_user / default account. */
  readonly user?: ScriptUserConfig | null;
}

export interface ResolvedTrackFile {
  readonly name: string;
  readonly file: string;
  readonly weight: number;
  readonly reverse: boolean;
  readonly initValue: number | null;
  readonly initOverwrite: boolean;
}

export interface ResolvedSyncGroup {
  readonly name: string;
  readonly members: readonly string[];
  readonly trackInterfaces: readonly ResolvedTrack[];
  readonly trackScripts: readonly ResolvedTrack[];
  readonly trackFiles: readonly ResolvedTrack[];
  readonly trackProcesses: readonly ResolvedTrack[];
  readonly notify: NotifyScripts;
}

/** Gratuitous ARP / NA rate limit in µs (0 = none); `interfaces` null = each interface outside every group, on its own. */
export interface GarpLimit {
  readonly garpIntervalUs: number;
  readonly gnaIntervalUs: number;
  readonly interfaces: readonly string[] | null;
}

export interface ResolvedVrrp {
  /** vrrp_startup_delay in µs (0 = none). */
  readonly startupDelayUs: number;
  readonly scriptUser: ScriptUserConfig | null;
  readonly scriptSecurity: boolean;
  /** garp_group blocks, then the global vrrp_garp_interval / vrrp_gna_interval (interfaces null). */
  readonly garpLimits: readonly GarpLimit[];
  readonly instances: readonly ResolvedInstance[];
  readonly scripts: readonly ResolvedScript[];
  readonly trackFiles: readonly ResolvedTrackFile[];
  readonly trackProcesses: readonly ResolvedTrackProcess[];
  readonly syncGroups: readonly ResolvedSyncGroup[];
  readonly notifyFifos: readonly string[];
  readonly routerId: string | null;
}

export interface Resolution {
  /** Null when an error makes the whole configuration unusable. */
  readonly vrrp: ResolvedVrrp;
  readonly diagnostics: readonly VrrpDiagnostic[];
}

// ---------------------------------------------------------------------------------------------- resolution

function num(v: number | undefined, dflt: number): number {
  return v === undefined ? dflt : v;
}

function intIn(v: number, lo: number, hi: number): boolean {
  return Number.isInteger(v) && v >= lo && v <= hi;
}

type NotifyFields = {
  notify_master?: NotifyScriptConfig; notify_backup?: NotifyScriptConfig; notify_fault?: NotifyScriptConfig; notify_stop?: NotifyScriptConfig;
  notify?: NotifyScriptConfig; notify_master_rx_lower_pri?: NotifyScriptConfig; notify_deleted?: boolean | NotifyScriptConfig;
};

function notifyOf(c: NotifyFields): NotifyScripts {
  const users: Partial<Record<NotifyRole, ScriptUserConfig>> = {};
  const take = (role: NotifyRole, v: NotifyScriptConfig | boolean | undefined): string | null => {
    if (v === undefined || typeof v === 'boolean') return null;
    if (typeof v === 'string') return v;
    if (v.user) users[role] = v.user;
    return v.script;
  };
  const scripts = {
    master: take('master', c.notify_master),
    backup: take('backup', c.notify_backup),
    fault: take('fault', c.notify_fault),
    stop: take('stop', c.notify_stop),
    generic: take('generic', c.notify),
    masterRxLowerPri: take('masterRxLowerPri', c.notify_master_rx_lower_pri),
  };
  const deleted = take('deleted', c.notify_deleted);
  return { ...scripts, ...(deleted !== null ? { deleted } : {}), ...(Object.keys(users).length ? { users } : {}) };
}

/** keepalived's VMAC address for a VRID: 00:00:5e:00:01:VRID (IPv4; 00:00:5e:00:02:VRID is IPv6's). */
export function vmacAddress(vrid: number, family: Family): string {
  return `00:00:5e:00:0${family === 6 ? 2 : 1}:${vrid.toString(16).padStart(2, '0')}`;
}

/** track_process refs: the block's weight and reverse unless the reference gives its own (vrrp_track.c). */
function processTracks(list: TrackRef[] | undefined, defs: readonly ResolvedTrackProcess[]): ResolvedTrack[] {
  return (list ?? []).flatMap((t) => {
    const d = defs.find((p) => p.name === t.name);
    if (!d) return [];
    const reverse = t.reverse ?? (t.weight === undefined ? d.reverse : false);
    return [{ name: t.name, weight: t.weight ?? d.weight, multiplier: reverse ? -1 as const : 1 as const }];
  });
}

function tracks(list: TrackRef[] | undefined, dfltWeight: (name: string) => number): ResolvedTrack[] {
  return (list ?? []).map((t) => ({ name: t.name, weight: t.weight ?? dfltWeight(t.name), multiplier: t.reverse ? -1 : 1 }));
}

/**
 * Resolve the whole VRRP configuration. Instances with errors are left out (and reported); the rest run,
 * as keepalived runs the instances it could complete.
 */
export function resolveVrrpConfig(cfg: VrrpConfig): Resolution {
  const diags: VrrpDiagnostic[] = [];
  const us = (sec: number | undefined): number => (sec !== undefined && sec > 0 ? Math.round(sec * TIMER_HZ) : 0);
  const g = cfg.global_defs ?? {};
  const group4 = parseAddr(g.vrrp_mcast_group4 ?? VRRP_MCAST4);
  const group6 = parseAddr(g.vrrp_mcast_group6 ?? VRRP_MCAST6);
  const mcastGroup4 = group4.ok && group4.value.family === 4 ? group4.value : parseAddrOrThrow(VRRP_MCAST4);
  const mcastGroup6 = group6.ok && group6.value.family === 6 ? group6.value : parseAddrOrThrow(VRRP_MCAST6);
  if (!group4.ok || group4.value.family !== 4) diags.push(diagnostic('ADDR_INVALID', 'global_defs: vrrp_mcast_group4', `invalid vrrp_mcast_group4 '${g.vrrp_mcast_group4}'`));
  if (!group6.ok || group6.value.family !== 6) diags.push(diagnostic('ADDR_INVALID', 'global_defs: vrrp_mcast_group6', `invalid vrrp_mcast_group6 '${g.vrrp_mcast_group6}'`));

  const scripts: ResolvedScript[] = [];
  for (const s of cfg.vrrp_script ?? []) {
    const where = `vrrp_script ${s.name}`;
    const interval = num(s.interval, 1);
    const weight = num(s.weight, 0);
    const rise = num(s.rise, 1);
    const fall = num(s.fall, 1);
    if (!(interval > 0) || !intIn(weight, -253, 253) || !intIn(rise, 1, 1_000_000) || !intIn(fall, 1, 1_000_000)) {
      diags.push(diagnostic('VALUE_INVALID', where, `${where}: interval > 0, weight -253..253, rise and fall >= 1 are required`));
      continue;
    }
    const timeout = num(s.timeout, interval);
    scripts.push({
      name: s.name, script: s.script, intervalUs: Math.round(interval * TIMER_HZ), timeoutUs: Math.round(timeout * TIMER_HZ),
      weight, reverse: s.reverse ?? false, rise, fall, initFail: s.init_fail ?? false, user: s.user ?? null,
    });
  }
  const trackFiles: ResolvedTrackFile[] = (cfg.track_file ?? []).map((f) => ({
    name: f.name, file: f.file, weight: num(f.weight, 1), reverse: f.reverse ?? false,
    initValue: f.init_file ? f.init_file.value ?? 0 : null, initOverwrite: f.init_file?.overwrite ?? false,
  }));

  const trackProcesses: ResolvedTrackProcess[] = (cfg.vrrp_track_process ?? []).map((t) => {
    const full = t.full_command ?? false;
    const params = t.params ?? [];
    const paramMatch = t.param_match ?? (params.length > 0 ? 'exact' : null);
    const quorum = t.quorum_max === 0 ? 0 : num(t.quorum, 1);
    return {
      name: t.name, process: t.process, params, paramMatch, weight: num(t.weight, 0), reverse: t.reverse ?? false, quorum,
      quorumMax: t.quorum_max === undefined || (t.quorum_max === 0 && t.quorum !== undefined && t.quorum > 0) ? Infinity : t.quorum_max,
      forkDelayUs: us(t.fork_delay), terminateDelayUs: us(t.terminate_delay),
      // keepalived (vrrp_parser.c): parameters or param_match compare argv[0], not the 15-byte comm.
      fullCommand: full || paramMatch !== null,
    };
  });

  const groupOf = new Map<string, string>();
  const syncGroups: ResolvedSyncGroup[] = [];
  const names = new Set(cfg.vrrp_instance.map((i) => i.name));
  for (const sg of cfg.vrrp_sync_group ?? []) {
    const members: string[] = [];
    for (const m of sg.group) {
      if (!names.has(m)) {
        diags.push(diagnostic('SYNC_GROUP_MEMBER_UNKNOWN', `vrrp_sync_group ${sg.name}: group`, `Virtual router ${m} specified in sync group ${sg.name} doesn't exist - ignoring`));
        continue;
      }
      if (groupOf.has(m)) {
        diags.push(diagnostic('SYNC_GROUP_MEMBER_UNKNOWN', `vrrp_sync_group ${sg.name}: group`, `Virtual router ${m} cannot exist in more than one sync group; ignoring ${sg.name}`));
        continue;
      }
      groupOf.set(m, sg.name);
      members.push(m);
    }
    if (members.length === 0) continue;
    if (members.length === 1) diags.push(diagnostic('SYNC_GROUP_SINGLE', `vrrp_sync_group ${sg.name}`, `Sync group ${sg.name} has only 1 virtual router(s) - this probably isn't what you want`));
    const sw = (n: string) => scripts.find((s) => s.name === n)?.weight ?? 0;
    syncGroups.push({
      name: sg.name, members,
      // Group trackers act on every member; keepalived only honours weight 0 there unless sync_group_tracking_weight.
      trackInterfaces: tracks(sg.track_interface, () => 0).map((t) => (sg.sync_group_tracking_weight ? t : { ...t, weight: 0 })),
      trackScripts: tracks(sg.track_script, sw).map((t) => (sg.sync_group_tracking_weight ? t : { ...t, weight: 0 })),
      trackFiles: tracks(sg.track_file, () => 0).map((t) => (sg.sync_group_tracking_weight ? t : { ...t, weight: 0 })),
      trackProcesses: processTracks(sg.track_process, trackProcesses).map((t) => (sg.sync_group_tracking_weight ? t : { ...t, weight: 0 })),
      notify: notifyOf(sg),
    });
  }

  const instances: ResolvedInstance[] = [];
  const seen = new Set<string>();
  for (const ic of cfg.vrrp_instance) {
    if (seen.has(ic.name)) {
      diags.push(diagnostic('DUPLICATE_INSTANCE', `vrrp_instance ${ic.name}`, `vrrp_instance ${ic.name} is defined twice`));
      continue;
    }
    seen.add(ic.name);
    const sg = groupOf.has(ic.name) ? cfg.vrrp_sync_group?.find((s) => s.name === groupOf.get(ic.name)) : undefined;
    const r = resolveInstance(ic, g, { mcastGroup4, mcastGroup6, scripts, trackFiles, trackProcesses, syncGroup: groupOf.get(ic.name) ?? null, groupTrackingWeight: sg?.sync_group_tracking_weight ?? false }, diags);
    if (r) instances.push(r);
  }
  // Two instances on one interface and family with the same VRID would answer each other's adverts.
  for (let i = 0; i < instances.length; i++) {
    for (let j = i + 1; j < instances.length; j++) {
      const a = instances[i];
      const b = instances[j];
      if (a.vrid === b.vrid && a.family === b.family && a.interface === b.interface && !a.unicast && !b.unicast) {
        diags.push(diagnostic('DUPLICATE_INSTANCE', `vrrp_instance ${b.name}: virtual_router_id`, `VRID ${b.vrid} is used by ${a.name} and ${b.name} on ${a.interface ?? '(no interface)'}`));
      }
    }
  }
  const fifos = [g.notify_fifo, g.vrrp_notify_fifo].filter((f): f is string => typeof f === 'string');
  const garpLimits: GarpLimit[] = (cfg.garp_group ?? []).map((x) => ({ garpIntervalUs: us(x.garp_interval), gnaIntervalUs: us(x.gna_interval), interfaces: [...x.interfaces] }));
  if (us(g.vrrp_garp_interval) > 0 || us(g.vrrp_gna_interval) > 0) {
    garpLimits.push({ garpIntervalUs: us(g.vrrp_garp_interval), gnaIntervalUs: us(g.vrrp_gna_interval), interfaces: null });
  }
  return {
    vrrp: {
      startupDelayUs: us(g.vrrp_startup_delay), garpLimits, trackProcesses,
      scriptUser: g.script_user ?? null, scriptSecurity: g.enable_script_security ?? false,
      instances, scripts, trackFiles, syncGroups, notifyFifos: fifos, routerId: g.router_id ?? null,
    },
    diagnostics: diags,
  };
}

function parseAddrOrThrow(text: string): Addr {
  const r = parseAddr(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

interface Context {
  readonly mcastGroup4: Addr;
  readonly mcastGroup6: Addr;
  readonly scripts: readonly ResolvedScript[];
  readonly trackFiles: readonly ResolvedTrackFile[];
  readonly trackProcesses: readonly ResolvedTrackProcess[];
  readonly syncGroup: string | null;
  readonly groupTrackingWeight: boolean;
}

function resolveInstance(ic: VrrpInstanceConfig, g: VrrpGlobalDefs, ctx: Context, diags: VrrpDiagnostic[]): ResolvedInstance | null {
  const where = (field?: string) => `vrrp_instance ${ic.name}${field ? `: ${field}` : ''}`;
  const errors0 = diags.filter((d) => d.severity === 'error').length;
  const err = (code: Parameters<typeof diagnostic>[0], field: string, message: string) => diags.push(diagnostic(code, where(field), `(${ic.name}) ${message}`));
  const warn = err;

  if (!intIn(ic.virtual_router_id, 1, 255)) err('VRID_INVALID', 'virtual_router_id', `virtual_router_id ${ic.virtual_router_id} not in 1..255`);
  if (ic.priority !== undefined && !intIn(ic.priority, 1, 255)) err('PRIORITY_INVALID', 'priority', `priority ${ic.priority} not in 1..255`);
  if (ic.use_ipvlan !== undefined && ic.use_ipvlan !== false) err('USE_VMAC_UNSUPPORTED', 'use_ipvlan', 'use_ipvlan is not supported yet');
  const strict = ic.strict_mode ?? g.vrrp_strict ?? false;

  // Addresses: the family follows the first VIP (keepalived takes it from the first address parsed).
  const vips: Vip[] = [];
  const evips: Vip[] = [];
  for (const [list, out, field] of [[ic.virtual_ipaddress, vips, 'virtual_ipaddress'], [ic.virtual_ipaddress_excluded, evips, 'virtual_ipaddress_excluded']] as const) {
    for (const text of list ?? []) {
      const v = parseVip(text);
      if (!v.ok) {
        err('ADDR_INVALID', field, `${field} '${text}': ${v.error}`);
        continue;
      }
      out.push(v.value);
    }
  }
  let family: Family = vips[0]?.addr.family ?? 4;
  if (vips.some((v) => v.addr.family !== family)) err('FAMILY_MIXED', 'virtual_ipaddress', 'virtual_ipaddress mixes IPv4 and IPv6 addresses');

  let version: 2 | 3 = ic.version ?? (family === 6 ? 3 : g.vrrp_version ?? 2);
  if (family === 6 && version === 2) {
    if (strict || ic.version === undefined) {
      warn('VERSION_FORCED', 'version', 'cannot use IPv6 with VRRP version 2; setting version 3');
      version = 3;
    }
  }
  if (vips.length === 0) {
    if (version === 3 || strict) err('NO_VIP', 'virtual_ipaddress', 'No VIP specified; at least one is required');
    else warn('NO_VIP_WARNING', 'virtual_ipaddress', 'No VIP specified; at least one is sensible');
  }

  let basePriority = ic.priority ?? (ic.state === 'MASTER' ? PRIO_OWNER : 100);
  let initialState: 'MASTER' | 'BACKUP' = ic.state ?? (basePriority === PRIO_OWNER ? 'MASTER' : 'BACKUP');
  if (strict && ic.state !== undefined && (initialState === 'MASTER') !== (basePriority === PRIO_OWNER)) {
    warn('STATE_CLEARED', 'state', 'State MASTER must match being address owner');
    initialState = basePriority === PRIO_OWNER ? 'MASTER' : 'BACKUP';
  }

  // Authentication (VRRPv2 over IPv4 only).
  let authType: number = AUTH_TYPE.none;
  let authData: Uint8Array = new Uint8Array(VRRP_AUTH_LEN);
  if (ic.authentication) {
    const a = ic.authentication;
    const t = a.auth_type === 'AH' ? AUTH_TYPE.ah : a.auth_type === 'PASS' ? AUTH_TYPE.pass : -1;
    if (t < 0) err('VALUE_INVALID', 'authentication.auth_type', `auth_type '${String(a.auth_type)}' is not PASS or AH`);
    else if (strict) warn('AUTH_IGNORED', 'authentication', 'Strict mode does not support authentication. Ignoring.');
    else if (version === 3) warn('AUTH_IGNORED', 'authentication', 'VRRP version 3 does not support authentication. Ignoring.');
    else if (!a.auth_pass) warn('AUTH_IGNORED', 'authentication.auth_pass', 'Authentication specified but no password given. Ignoring');
    else if (family === 6 && t === AUTH_TYPE.ah) warn('AUTH_IGNORED', 'authentication', 'Cannot use AH authentication with IPv6. ignoring');
    else {
      authType = t;
      if (new TextEncoder().encode(a.auth_pass).length > VRRP_AUTH_LEN) warn('AUTH_PASS_TRUNCATED', 'authentication.auth_pass', `Truncating auth_pass to ${VRRP_AUTH_LEN} characters`);
      authData = passwordAuthData(a.auth_pass);
      if (t === AUTH_TYPE.ah && initialState === 'MASTER' && basePriority !== PRIO_OWNER) {
        warn('STATE_CLEARED', 'state', 'Initial state master is incompatible with AH authentication - clearing');
        initialState = 'BACKUP';
      }
    }
  }

  // Unicast.
  const peers: UnicastPeer[] = [];
  for (const p of ic.unicast_peer ?? []) {
    const text = typeof p === 'string' ? p : p.address;
    const a = parseAddr(text);
    if (!a.ok || a.value.family !== family) {
      err('ADDR_INVALID', 'unicast_peer', `unicast_peer '${text}' is not an IPv${family} address`);
      continue;
    }
    const minTtl = typeof p === 'string' ? 0 : p.min_ttl ?? 0;
    const maxTtl = typeof p === 'string' ? 255 : p.max_ttl ?? 255;
    peers.push({ addr: a.value, minTtl, maxTtl });
  }
  const unicastConfigured = ic.unicast_peer !== undefined || ic.unicast_src_ip !== undefined;
  const unicast = peers.length > 0;
  if (unicastConfigured && !unicast && !ic.unicast_fault_no_peer) {
    warn('UNICAST_WITHOUT_PEERS', 'unicast_peer', 'A unicast keyword has been specified without any unicast peers. Defaulting to multicast.');
  }
  if (strict && unicast) err('UNICAST_IN_STRICT', 'unicast_peer', 'Unicast peers are not supported in strict mode');
  let srcAddr: Addr | null = null;
  const srcText = ic.unicast_src_ip ?? ic.mcast_src_ip;
  if (srcText !== undefined) {
    const a = parseAddr(srcText);
    if (!a.ok || a.value.family !== family) err('ADDR_INVALID', ic.unicast_src_ip !== undefined ? 'unicast_src_ip' : 'mcast_src_ip', `source address '${srcText}' is not an IPv${family} address`);
    else srcAddr = a.value;
  }
  if (!ic.interface && !(srcAddr && unicast)) err('NO_INTERFACE', 'interface', 'Unicast instances must have unicast_src_ip or interface');
  const group = family === 4 ? ctx.mcastGroup4 : ctx.mcastGroup6;
  let mcastDst = group;
  if (ic.mcast_dst_ip !== undefined) {
    const a = parseAddr(ic.mcast_dst_ip);
    if (unicast) warn('MCAST_DST_WITH_UNICAST', 'mcast_dst_ip', 'multicast destination specified with unicast - ignoring');
    else if (!a.ok || a.value.family !== family) err('ADDR_INVALID', 'mcast_dst_ip', `mcast_dst_ip '${ic.mcast_dst_ip}' is not an IPv${family} address`);
    else mcastDst = a.value;
  }
  if (family === 6 && !unicast && vips.length > 0 && !(vips[0].addr.bytes[0] === 0xfe && (vips[0].addr.bytes[1] & 0xc0) === 0x80)) {
    warn('FIRST_IPV6_VIP_NOT_LINK_LOCAL', 'virtual_ipaddress', 'the first IPv6 VIP address should be link local');
  }

  // Addresses beyond what fits are not advertised (keepalived: "excess moved to eVIPs"); 1500-byte MTU.
  const hdr = 14 + (family === 4 ? 20 : 40) + 8 + (family === 4 && version === 2 ? 8 + (authType === AUTH_TYPE.ah ? 24 : 0) : 0);
  const maxAddr = Math.min(255, Math.floor((1500 - hdr) / (family === 4 ? 4 : 16)));
  if (vips.length > maxAddr) {
    warn('VIPS_MOVED_TO_EXCLUDED', 'virtual_ipaddress', `Number of VIPs (${vips.length}) exceeds maximum/space available in packet (max ${maxAddr} addresses) - excess moved to eVIPs`);
    evips.unshift(...vips.splice(maxAddr));
  }

  let nopreempt = ic.nopreempt ?? false;
  if (basePriority === PRIO_OWNER && nopreempt) {
    warn('NOPREEMPT_IGNORED', 'nopreempt', `nopreempt is incompatible with priority ${PRIO_OWNER}. resetting nopreempt`);
    nopreempt = false;
  }
  let preemptDelay = num(ic.preempt_delay, 0);
  if (!(preemptDelay >= 0 && preemptDelay <= 1000)) {
    err('VALUE_INVALID', 'preempt_delay', `preempt_delay ${preemptDelay} not in 0..1000`);
    preemptDelay = 0;
  }
  if (initialState === 'MASTER') {
    if (nopreempt) {
      warn('NOPREEMPT_IGNORED', 'nopreempt', 'Warning - nopreempt will not work with initial state MASTER - clearing');
      nopreempt = false;
    }
    if (preemptDelay) {
      warn('PREEMPT_DELAY_IGNORED', 'preempt_delay', 'Warning - preempt delay will not work with initial state MASTER - clearing');
      preemptDelay = 0;
    }
  }
  if (preemptDelay && strict) {
    warn('PREEMPT_DELAY_IGNORED', 'preempt_delay', 'preempt_delay is incompatible with strict mode - resetting');
    preemptDelay = 0;
  }
  if (preemptDelay && nopreempt) {
    warn('PREEMPT_DELAY_IGNORED', 'preempt_delay', 'preempt_delay is incompatible with nopreempt mode - resetting');
    preemptDelay = 0;
  }
  let downTimerAdverts = num(ic.down_timer_adverts, g.vrrp_down_timer_adverts ?? 3);
  if (!intIn(downTimerAdverts, 1, 100)) {
    err('VALUE_INVALID', 'down_timer_adverts', `down_timer_adverts ${downTimerAdverts} not in 1..100`);
    downTimerAdverts = 3;
  }
  if (strict && downTimerAdverts !== 3) {
    warn('STRICT_RESET', 'down_timer_adverts', 'down_timer_adverts is incompatible with strict mode - resetting');
    downTimerAdverts = 3;
  }
  if (ic.accept !== undefined || ic.no_accept !== undefined) warn('ACCEPT_IGNORED', ic.no_accept !== undefined ? 'no_accept' : 'accept', 'accept mode is not enforced by keepvs yet (no firewall management); addresses always accept traffic');

  // GARP and the lower-priority behaviour (strict forbids repeats and forces lower_prio_no_advert).
  const gMasterDelay = num(g.vrrp_garp_master_delay, 5);
  const gMasterRepeat = num(g.vrrp_garp_master_repeat, 5);
  const garp: GarpTiming = {
    masterDelayUs: Math.round(num(ic.garp_master_delay, gMasterDelay) * TIMER_HZ),
    masterRepeat: num(ic.garp_master_repeat, gMasterRepeat),
    lowerPrioDelayUs: 0,
    lowerPrioRepeat: 0,
    refreshUs: Math.round(num(ic.garp_master_refresh, num(g.vrrp_garp_master_refresh, 0)) * TIMER_HZ),
    refreshRepeat: num(ic.garp_master_refresh_repeat, num(g.vrrp_garp_master_refresh_repeat, 1)),
  };
  let lowerPrioRepeat = ic.garp_lower_prio_repeat;
  if (lowerPrioRepeat === undefined) lowerPrioRepeat = strict ? 0 : num(g.vrrp_garp_lower_prio_repeat, gMasterRepeat);
  else if (strict && lowerPrioRepeat) {
    warn('STRICT_RESET', 'garp_lower_prio_repeat', 'Strict mode requires no repeat garps. resetting');
    lowerPrioRepeat = 0;
  }
  let lowerPrioDelay = ic.garp_lower_prio_delay;
  if (lowerPrioDelay === undefined) lowerPrioDelay = strict ? 0 : num(g.vrrp_garp_lower_prio_delay, gMasterDelay);
  else if (strict && lowerPrioDelay) {
    warn('STRICT_RESET', 'garp_lower_prio_delay', 'Strict mode requires no repeat garp delay. resetting');
    lowerPrioDelay = 0;
  }
  garp.lowerPrioRepeat = lowerPrioRepeat;
  garp.lowerPrioDelayUs = Math.round(lowerPrioDelay * TIMER_HZ);
  let lowerPrioNoAdvert = ic.lower_prio_no_advert;
  if (lowerPrioNoAdvert === undefined) lowerPrioNoAdvert = strict ? true : g.vrrp_lower_prio_no_advert ?? false;
  else if (strict && !lowerPrioNoAdvert) {
    warn('STRICT_RESET', 'lower_prio_no_advert', 'Strict mode requires no lower priority advert. resetting');
    lowerPrioNoAdvert = true;
  }
  let higherPrioSendAdvert = ic.higher_prio_send_advert;
  if (higherPrioSendAdvert === undefined) higherPrioSendAdvert = strict ? false : g.vrrp_higher_prio_send_advert ?? false;
  else if (strict && higherPrioSendAdvert) {
    warn('STRICT_RESET', 'higher_prio_send_advert', 'strict mode requires higher_prio_send_advert to be clear. resetting');
    higherPrioSendAdvert = false;
  }

  const adv = normaliseAdvertInt(version, num(ic.advert_int, 1));
  if (adv.adjusted) warn('ADVERT_INT_ROUNDED', 'advert_int', `VRRPv${version} advertisement interval ${num(ic.advert_int, 1)}s ${version === 2 ? 'must be an integer 1..255' : 'must be in units of 10ms, at most 40.95'} - using ${adv.us / TIMER_HZ}s`);

  // Trackers. Sync group members only honour weight-0 trackers unless the group allows weights.
  const scriptWeight = (n: string) => ctx.scripts.find((s) => s.name === n)?.weight ?? 0;
  const fileWeight = (n: string) => ctx.trackFiles.find((f) => f.name === n)?.weight ?? 1;
  let trackInterfaces = tracks(ic.track_interface, () => 0);
  let trackScripts = tracks(ic.track_script, scriptWeight).map((t) => {
    const s = ctx.scripts.find((x) => x.name === t.name);
    const explicit = ic.track_script?.find((x) => x.name === t.name)?.reverse !== undefined;
    return s && !explicit && s.reverse ? { ...t, multiplier: -1 as const } : t;
  });
  let trackFiles = tracks(ic.track_file, fileWeight).map((t) => {
    const f = ctx.trackFiles.find((x) => x.name === t.name);
    const explicit = ic.track_file?.find((x) => x.name === t.name)?.reverse !== undefined;
    return f && !explicit && f.reverse ? { ...t, multiplier: -1 as const } : t;
  });
  for (const t of trackScripts) if (!ctx.scripts.some((s) => s.name === t.name)) err('SCRIPT_UNKNOWN', 'track_script', `track_script ${t.name} not found`);
  for (const t of trackFiles) if (!ctx.trackFiles.some((f) => f.name === t.name)) err('TRACK_FILE_UNKNOWN', 'track_file', `track_file ${t.name} not found`);
  let trackProcesses = processTracks(ic.track_process, ctx.trackProcesses);
  for (const t of ic.track_process ?? []) if (!ctx.trackProcesses.some((p) => p.name === t.name)) err('TRACK_PROCESS_UNKNOWN', 'track_process', `track_process ${t.name} not found`);
  for (const t of [...trackInterfaces, ...trackScripts, ...trackFiles, ...trackProcesses]) {
    if (!intIn(t.weight, -254, 254)) err('VALUE_INVALID', 'track weight', `weight ${t.weight} of ${t.name} out of range`);
  }
  if (ctx.syncGroup && !ctx.groupTrackingWeight) {
    const weighted = [...trackInterfaces, ...trackScripts, ...trackFiles, ...trackProcesses].filter((t) => t.weight !== 0);
    if (weighted.length) {
      warn('SYNC_GROUP_WEIGHT_IGNORED', 'track_*', `sync group ${ctx.syncGroup} member: weighted trackers ${weighted.map((t) => t.name).join(', ')} set to weight 0`);
      trackInterfaces = trackInterfaces.map((t) => ({ ...t, weight: 0 }));
      trackScripts = trackScripts.map((t) => ({ ...t, weight: 0 }));
      trackFiles = trackFiles.map((t) => ({ ...t, weight: 0 }));
      trackProcesses = trackProcesses.map((t) => ({ ...t, weight: 0 }));
    }
  }

  const routes: string[][] = [];
  for (const r of ic.virtual_routes ?? []) {
    const p = parseRouteOrRule(r);
    if (!p.ok) warn('ROUTE_UNSUPPORTED', 'virtual_routes', `virtual_routes '${r}': ${p.error} - skipping`);
    else routes.push(p.value);
  }
  const rules: string[][] = [];
  for (const r of ic.virtual_rules ?? []) {
    const p = parseRouteOrRule(r);
    if (!p.ok) warn('ROUTE_UNSUPPORTED', 'virtual_rules', `virtual_rules '${r}': ${p.error} - skipping`);
    else rules.push(p.value);
  }

  let checksumCompat: ChecksumCompat = 'auto';
  if (ic.old_unicast_checksum === 'never') checksumCompat = 'never';
  else if (ic.old_unicast_checksum === true) checksumCompat = 'config';
  const ttl = num(ic.unicast_ttl, 255);
  if (!intIn(ttl, 1, 255)) err('VALUE_INVALID', 'unicast_ttl', `unicast_ttl ${ttl} not in 1..255`);
  // use_vmac (vrrp_parser.c / vrrp_vmac.c): a macvlan named vrrp.VRID unless named (either family); with
  // unicast peers keepalived forces vmac_xmit_base (the loader reports that adjustment).
  let vmac: ResolvedVmac | null = null;
  if (ic.use_vmac !== undefined && ic.use_vmac !== false) {
    const name = typeof ic.use_vmac === 'string' ? ic.use_vmac : `vrrp.${ic.virtual_router_id}`;
    if (!ic.interface) err('NO_INTERFACE', 'use_vmac', 'use_vmac needs an interface to put the macvlan on');
    else if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(name)) err('VALUE_INVALID', 'use_vmac', `VMAC interface name '${name}' too long or invalid characters`);
    else vmac = { name, mac: vmacAddress(ic.virtual_router_id, family), xmitBase: (ic.vmac_xmit_base ?? false) || unicast };
  }
  if (priorityErrors(diags, errors0)) return null;
  if (!intIn(basePriority, 1, 255)) basePriority = 100;
  family = family === 6 ? 6 : 4;

  return {
    name: ic.name, vrid: ic.virtual_router_id, family, version, interface: ic.interface ?? null, basePriority, initialState,
    adverIntUs: adv.us, downTimerAdverts, authType, authData, vips, evips, routes, rules, unicast, srcAddr, peers, mcastDst,
    mcastGroup4: ctx.mcastGroup4, ttl: unicast ? ttl : 255, unicastFaultNoPeer: ic.unicast_fault_no_peer ?? false,
    checkUnicastSrc: ic.check_unicast_src ?? g.vrrp_check_unicast_src ?? false, checksumCompat, nopreempt,
    preemptDelayUs: Math.round(preemptDelay * TIMER_HZ), skipCheckAdvAddr: ic.skip_check_adv_addr ?? g.vrrp_skip_check_adv_addr ?? false,
    strict, garp, lowerPrioNoAdvert, higherPrioSendAdvert, dontTrackPrimary: ic.dont_track_primary ?? false,
    trackInterfaces, trackScripts, trackFiles, trackProcesses, notify: notifyOf(ic),
    notifyPriorityChanges: ic.notify_priority_changes ?? g.vrrp_notify_priority_changes ?? false,
    notifyDeleted: ic.notify_deleted !== undefined && ic.notify_deleted !== false,
    vmac, syncGroup: ctx.syncGroup,
  };
}

function priorityErrors(diags: readonly VrrpDiagnostic[], before: number): boolean {
  return diags.filter((d) => d.severity === 'error').length > before;
}
