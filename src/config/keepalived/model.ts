// The typed result of reading a keepalived.conf: what keepalived 2.2 would run, with its defaults
// filled in and its fix-ups applied (keepalived/check/check_data.c: validate_check_config,
// keepalived/vrrp/vrrp.c: vrrp_complete_instance). Times are integer microseconds (keepalived's
// TIMER_HZ resolution), suffixed Us; plain seconds are suffixed S. Every object keeps where it was
// defined (`at`), so later stages can still name the place.
import type { Addr, Family } from '../../core/addr.ts';
import type { Protocol } from '../../core/service.ts';
import type { SchedulerName } from '../../core/sched/scheduler.ts';
import type { TunnelOptions } from '../../core/dest.ts';
import type { SourcePos } from './diagnostics.ts';

/** A command line for a notify/check script, split the way keepalived splits it (quotes, escapes). */
export interface ScriptSpec {
  readonly args: readonly string[];
  /** `user [group]` given after the command (notify_*) or with `user` (vrrp_script, MISC_CHECK); null = default user. */
  readonly user: string | null;
  readonly group: string | null;
  readonly at: SourcePos;
}

// ------------------------------------------------------------------ global_defs

/** How a TCP_CHECK / plain HTTP_GET probe's connection ends (keepvs extension; docs/checkers.md). */
export type ProbeCloseMode = 'reset' | 'graceful';

export interface LvsSyncDaemon {
  readonly interface: string;
  /** The vrrp_instance it follows (master daemon only while that instance is MASTER); null = always both. */
  readonly instance: string | null;
  readonly syncId: number | null;
  readonly maxlen: number | null;
  readonly port: number | null;
  readonly ttl: number | null;
  readonly group: Addr | null;
  readonly at: SourcePos;
}

export interface GlobalDefs {
  /** Default: the host name. */
  readonly routerId: string;
  readonly notificationEmail: readonly string[];
  /** Default: keepalived@<hostname>. */
  readonly notificationEmailFrom: string;
  readonly smtpServer: { readonly host: string; readonly port: number } | null;
  readonly smtpHeloName: string | null;
  readonly smtpConnectTimeoutS: number;
  /** null = not set (each section's own default applies). */
  readonly smtpAlert: boolean | null;
  readonly smtpAlertVrrp: boolean | null;
  readonly smtpAlertChecker: boolean | null;
  readonly checkerLogAllFailures: boolean;
  /**
   * keepvs extension `checker_probe_close reset|graceful`: how TCP_CHECK and HTTP_GET connections end
   * (src/sys/tcp-connect.ts). Default 'reset'; 'graceful' is keepalived's FIN.
   */
  readonly checkerProbeClose: ProbeCloseMode;
  readonly defaultInterface: string;
  readonly dynamicInterfaces: boolean;
  readonly lvsSyncDaemon: LvsSyncDaemon | null;
  /** lvs_timeouts; 0 = leave the kernel's. */
  readonly lvsTimeouts: { readonly tcp: number; readonly tcpfin: number; readonly udp: number };
  readonly lvsFlush: boolean;
  readonly lvsFlushOnStop: 'no' | 'full' | 'vs';
  readonly vrrpMcastGroup4: Addr;
  readonly vrrpMcastGroup6: Addr;
  readonly vrrpVersion: 2 | 3;
  readonly vrrpStrict: boolean;
  readonly vrrpGarpMasterDelayS: number;
  readonly vrrpGarpMasterRepeat: number;
  readonly vrrpGarpLowerPrioDelayS: number;
  readonly vrrpGarpLowerPrioRepeat: number;
  readonly vrrpGarpMasterRefreshS: number;
  readonly vrrpGarpMasterRefreshRepeat: number;
  readonly vrrpGarpIntervalUs: number;
  readonly vrrpGnaIntervalUs: number;
  readonly vrrpDownTimerAdverts: number;
  readonly vrrpLowerPrioNoAdvert: boolean;
  readonly vrrpHigherPrioSendAdvert: boolean;
  readonly vrrpCheckUnicastSrc: boolean;
  readonly vrrpSkipCheckAdvAddr: boolean;
  readonly vrrpNotifyPriorityChanges: boolean;
  readonly enableScriptSecurity: boolean;
  readonly scriptUser: { readonly user: string; readonly group: string | null } | null;
  readonly notifyFifo: { readonly path: string; readonly script: ScriptSpec | null } | null;
  readonly vrrpNotifyFifo: { readonly path: string; readonly script: ScriptSpec | null } | null;
  readonly lvsNotifyFifo: { readonly path: string; readonly script: ScriptSpec | null } | null;
  readonly startupScript: ScriptSpec | null;
  readonly shutdownScript: ScriptSpec | null;
  /** Every other accepted global keyword, as written (for -d and later use). */
  readonly other: ReadonlyMap<string, readonly string[]>;
}

// ------------------------------------------------------------------ trackers

export interface VrrpScript {
  readonly name: string;
  readonly script: ScriptSpec;
  readonly intervalS: number;
  /** Default: the interval. */
  readonly timeoutS: number;
  readonly weight: number;
  readonly weightReverse: boolean;
  readonly rise: number;
  readonly fall: number;
  readonly initFail: boolean;
  readonly at: SourcePos;
}

export interface TrackFile {
  readonly name: string;
  readonly file: string;
  readonly weight: number;
  readonly weightReverse: boolean;
  /** init_file [VALUE] [overwrite]: create the file with VALUE (default 0) at start. */
  readonly initFile: { readonly value: number; readonly overwrite: boolean } | null;
  readonly at: SourcePos;
}

export interface TrackProcess {
  readonly name: string;
  readonly process: string;
  readonly params: readonly string[];
  readonly paramMatch: 'exact' | 'initial' | 'partial' | null;
  readonly weight: number;
  readonly weightReverse: boolean;
  readonly quorum: number;
  readonly quorumMax: number;
  readonly forkDelayUs: number;
  readonly terminateDelayUs: number;
  readonly fullCommand: boolean;
  readonly at: SourcePos;
}

export interface BfdInstance {
  readonly name: string;
  readonly settings: ReadonlyMap<string, readonly string[]>;
  readonly at: SourcePos;
}

/** A reference from an instance/group/real server to a tracker, with an optional weight override. */
export interface TrackRef {
  readonly name: string;
  /** null = the tracker's own weight. */
  readonly weight: number | null;
  readonly reverse: boolean;
  readonly at: SourcePos;
}

// ------------------------------------------------------------------ addresses, routes, rules

export interface IpAddress {
  readonly addr: Addr;
  readonly prefixLen: number;
  readonly dev: string | null;
  readonly broadcast: string | null;
  readonly scope: string | null;
  readonly label: string | null;
  readonly peer: Addr | null;
  readonly noTrack: boolean;
  readonly useVmac: boolean;
  readonly flags: readonly string[];
  readonly preferredLft: number | 'forever' | null;
  readonly trackGroup: string | null;
  readonly at: SourcePos;
}

export interface IpRoute {
  /** 'default' or an address/prefix as written. */
  readonly dst: string;
  readonly family: Family;
  readonly src: Addr | null;
  readonly via: Addr | null;
  readonly dev: string | null;
  readonly blackhole: boolean;
  readonly noTrack: boolean;
  /** The other options, keyword -> value, as written. */
  readonly options: ReadonlyMap<string, string>;
  readonly at: SourcePos;
}

export interface IpRule {
  readonly family: Family;
  readonly from: string | null;
  readonly to: string | null;
  readonly table: string | null;
  readonly priority: number;
  readonly options: ReadonlyMap<string, string>;
  readonly at: SourcePos;
}

// ------------------------------------------------------------------ VRRP

export interface UnicastPeer {
  readonly addr: Addr;
  readonly minTtl: number | null;
  readonly maxTtl: number | null;
  readonly at: SourcePos;
}

export interface VrrpNotify {
  readonly master: ScriptSpec | null;
  readonly backup: ScriptSpec | null;
  readonly fault: ScriptSpec | null;
  readonly stop: ScriptSpec | null;
  /** Generic notify: gets INSTANCE|GROUP, name, state, priority appended. */
  readonly generic: ScriptSpec | null;
}

export interface VrrpInstance {
  readonly name: string;
  /** MASTER when priority is 255 and no state was given; BACKUP otherwise. */
  readonly state: 'MASTER' | 'BACKUP';
  readonly interface: string | null;
  readonly family: Family;
  readonly version: 2 | 3;
  readonly vrid: number;
  /** Default 100 (255 when state MASTER and no priority given). */
  readonly priority: number;
  readonly advertIntUs: number;
  readonly authType: 'PASS' | 'AH' | null;
  /** At most 8 characters (keepalived truncates). */
  readonly authPass: string | null;
  readonly virtualIpaddress: readonly IpAddress[];
  readonly virtualIpaddressExcluded: readonly IpAddress[];
  readonly virtualRoutes: readonly IpRoute[];
  readonly virtualRules: readonly IpRule[];
  readonly unicastSrcIp: Addr | null;
  readonly mcastSrcIp: Addr | null;
  readonly mcastDstIp: Addr | null;
  readonly unicastPeers: readonly UnicastPeer[];
  readonly unicastTtl: number | null;
  readonly unicastFaultNoPeer: boolean;
  readonly checkUnicastSrc: boolean;
  readonly useVmac: { readonly name: string | null; readonly mac: string | null } | null;
  readonly vmacXmitBase: boolean;
  readonly useIpvlan: readonly string[] | null;
  readonly nopreempt: boolean;
  readonly preemptDelayUs: number;
  readonly accept: boolean;
  readonly strictMode: boolean;
  readonly dontTrackPrimary: boolean;
  readonly skipCheckAdvAddr: boolean;
  readonly trackSrcIp: boolean;
  readonly promoteSecondaries: boolean;
  readonly trackInterfaces: readonly TrackRef[];
  readonly trackScripts: readonly TrackRef[];
  readonly trackFiles: readonly TrackRef[];
  readonly trackProcesses: readonly TrackRef[];
  readonly trackBfds: readonly TrackRef[];
  readonly notify: VrrpNotify;
  readonly notifyDeleted: ScriptSpec | 'send-fault' | 'notify-only';
  readonly notifyMasterRxLowerPri: ScriptSpec | null;
  readonly notifyPriorityChanges: boolean;
  readonly smtpAlert: boolean;
  readonly garpMasterDelayS: number;
  readonly garpMasterRepeat: number;
  readonly garpLowerPrioDelayS: number;
  readonly garpLowerPrioRepeat: number;
  readonly garpMasterRefreshS: number;
  readonly garpMasterRefreshRepeat: number;
  readonly garpExtraIf: { readonly all: boolean; readonly intervalS: number } | null;
  readonly downTimerAdverts: number;
  readonly lowerPrioNoAdvert: boolean;
  readonly higherPrioSendAdvert: boolean;
  readonly kernelRxBufSize: number | null;
  readonly debug: number;
  readonly at: SourcePos;
}

export interface VrrpSyncGroup {
  readonly name: string;
  readonly members: readonly string[];
  readonly trackInterfaces: readonly TrackRef[];
  readonly trackScripts: readonly TrackRef[];
  readonly trackFiles: readonly TrackRef[];
  readonly trackProcesses: readonly TrackRef[];
  readonly trackBfds: readonly TrackRef[];
  readonly notify: VrrpNotify;
  readonly smtpAlert: boolean | null;
  readonly trackingWeight: boolean;
  readonly notifyPriorityChanges: boolean | null;
  readonly at: SourcePos;
}

export interface GarpGroup {
  readonly garpIntervalUs: number | null;
  readonly gnaIntervalUs: number | null;
  readonly interfaces: readonly string[];
  readonly at: SourcePos;
}

// ------------------------------------------------------------------ LVS

/** lvs_method: keepalived's NAT, DR, TUN; FULLNAT is a keepvs extension. */
export type LvsMethod = 'NAT' | 'DR' | 'TUN' | 'FULLNAT';

export interface Forwarding {
  readonly method: LvsMethod;
  /** TUN only: type ipip (default), gue (needs port) or gre, and the checksum option. */
  readonly tunnel: TunnelOptions | null;
}

export interface VsgRange {
  /** First and last address (inclusive); equal for a single address. */
  readonly first: Addr;
  readonly last: Addr;
  /** 0 = no port. */
  readonly port: number;
  readonly text: string;
  readonly at: SourcePos;
}

export interface VsgFwmark {
  readonly fwmark: number;
  /** null = the family is taken from the virtual server. */
  readonly family: Family | null;
  readonly at: SourcePos;
}

export interface VirtualServerGroup {
  readonly name: string;
  readonly ranges: readonly VsgRange[];
  readonly fwmarks: readonly VsgFwmark[];
  readonly at: SourcePos;
}

export type VsTarget =
  | { readonly kind: 'addr'; readonly addr: Addr; readonly port: number }
  | { readonly kind: 'fwmark'; readonly fwmark: number }
  | { readonly kind: 'group'; readonly name: string };

/** Connection options of a checker (connect_ip, connect_port, bindto, bind_port, bind_if, fwmark, connect_timeout). */
export interface CheckerConnection {
  /** Default: the real server's address. */
  readonly ip: Addr;
  /** Default: the real server's port. */
  readonly port: number;
  readonly bindto: Addr | null;
  readonly bindPort: number | null;
  readonly bindIf: string | null;
  readonly fwmark: number | null;
  /** Default: the real server's, then the virtual server's connect_timeout (5 s). */
  readonly timeoutUs: number;
}

interface CheckerCommon {
  /** Default 1; DNS_CHECK 3, MISC_CHECK 0 (check_api.c, check_dns.c, check_misc.c). */
  readonly retry: number;
  /** Default 1 s; HTTP_GET/SSL_GET 3 s; DNS_CHECK the delay_loop. */
  readonly delayBeforeRetryUs: number;
  /** Default: the real server's warmup, else the delay_loop (0 disables). */
  readonly warmupUs: number;
  readonly delayLoopUs: number;
  /** Starts failed until it succeeds once. */
  readonly alpha: boolean;
  readonly logAllFailures: boolean;
  /** keepvs extension: consecutive successes to come back up / failures to go down (1 = keepalived). */
  readonly rise: number;
  readonly fall: number;
  /** keepvs extension `probe_close` (TCP_CHECK, HTTP_GET): null = global_defs checker_probe_close. */
  readonly probeClose: ProbeCloseMode | null;
  readonly at: SourcePos;
}

export interface HttpUrl {
  readonly path: string;
  /** 32 hex digits (MD5 of the body), lower case. */
  readonly digest: string | null;
  /** Accepted status codes; default 200-299. */
  readonly statusCodes: readonly { readonly min: number; readonly max: number }[];
  readonly virtualhost: string | null;
  readonly regex: string | null;
  readonly regexNoMatch: boolean;
  readonly regexOptions: readonly string[];
  readonly regexMinOffset: number;
  readonly regexMaxOffset: number;
  readonly at: SourcePos;
}

export type Checker =
  | (CheckerCommon & { readonly type: 'TCP_CHECK'; readonly connection: CheckerConnection })
  | (CheckerCommon & {
    readonly type: 'HTTP_GET' | 'SSL_GET';
    readonly connection: CheckerConnection;
    readonly urls: readonly HttpUrl[];
    readonly virtualhost: string | null;
    readonly httpProtocol: '1.0' | '1.0C' | '1.1';
    readonly enableSni: boolean;
    readonly fastRecovery: boolean;
  })
  | (CheckerCommon & { readonly type: 'MISC_CHECK'; readonly script: ScriptSpec; readonly timeoutS: number | null; readonly dynamic: boolean })
  | (CheckerCommon & { readonly type: 'DNS_CHECK'; readonly connection: CheckerConnection; readonly queryType: string; readonly name: string })
  | (CheckerCommon & { readonly type: 'SMTP_CHECK'; readonly connection: CheckerConnection; readonly heloName: string | null; readonly hosts: readonly CheckerConnection[] })
  | (CheckerCommon & {
    readonly type: 'UDP_CHECK';
    readonly connection: CheckerConnection;
    /** Hex payload; null = random. */
    readonly payload: string | null;
    readonly requireReply: boolean;
    /** Hex with X/x nibble wildcards. */
    readonly replyData: string | null;
    readonly minReplyLength: number;
    readonly maxReplyLength: number;
  })
  | (CheckerCommon & { readonly type: 'PING_CHECK'; readonly connection: CheckerConnection })
  | (CheckerCommon & { readonly type: 'FILE_CHECK'; readonly trackFile: string; readonly weight: number; readonly weightReverse: boolean })
  | (CheckerCommon & { readonly type: 'BFD_CHECK'; readonly name: string });

export type CheckerType = Checker['type'];

export interface RealServer {
  readonly addr: Addr;
  /** Port after keepalived's fix-ups (the VS port for DR/TUN and for NAT without a port; 0 for fwmark non-NAT). */
  readonly port: number;
  /** Default: the virtual server's weight (1). 0 is allowed. */
  readonly weight: number;
  readonly forwarding: Forwarding;
  readonly uthreshold: number;
  readonly lthreshold: number;
  readonly inhibitOnFailure: boolean;
  readonly notifyUp: ScriptSpec | null;
  readonly notifyDown: ScriptSpec | null;
  readonly alpha: boolean;
  readonly retry: number | null;
  readonly connectTimeoutUs: number;
  readonly delayLoopUs: number;
  readonly delayBeforeRetryUs: number | null;
  readonly warmupUs: number | null;
  readonly smtpAlert: boolean;
  readonly virtualhost: string | null;
  readonly checkers: readonly Checker[];
  readonly at: SourcePos;
}

export interface SorryServer {
  readonly addr: Addr;
  readonly port: number;
  readonly forwarding: Forwarding;
  readonly inhibit: boolean;
  readonly at: SourcePos;
}

export interface VirtualServer {
  readonly target: VsTarget;
  readonly family: Family;
  /** null for fwmark services (the protocol is ignored there). Default UDP: kernel protocol 0 is UDP. */
  readonly protocol: Protocol | null;
  /** Default wlc. */
  readonly scheduler: SchedulerName;
  /** IP_VS_SVC_F_* bits from ops / flag-N / sh-* / mh-* (ONEPACKET 0x4, SCHED1..3 0x8/0x10/0x20). */
  readonly flags: number;
  readonly hashed: boolean;
  /** Default NAT. */
  readonly forwarding: Forwarding;
  /** Seconds; 0 = not persistent. `persistence_timeout` with no value = 360. */
  readonly persistenceTimeout: number;
  /** IPv4: netmask as host-order u32; IPv6: prefix length. null = all ones / 128. */
  readonly persistenceGranularity: number | null;
  readonly persistenceEngine: string | null;
  readonly haSuspend: boolean;
  readonly smtpAlert: boolean;
  readonly virtualhost: string | null;
  readonly alpha: boolean;
  readonly omega: boolean;
  readonly quorum: number;
  readonly hysteresis: number;
  readonly quorumUp: ScriptSpec | null;
  readonly quorumDown: ScriptSpec | null;
  /** Default weight of its real servers. */
  readonly weight: number;
  readonly inhibitOnFailure: boolean;
  readonly sorryServer: SorryServer | null;
  readonly delayLoopUs: number;
  readonly connectTimeoutUs: number;
  readonly retry: number | null;
  readonly delayBeforeRetryUs: number | null;
  readonly warmupUs: number | null;
  readonly realServers: readonly RealServer[];
  readonly at: SourcePos;
}

export interface SslContext {
  readonly password: string | null;
  readonly ca: string | null;
  readonly certificate: string | null;
  readonly key: string | null;
  readonly at: SourcePos;
}

// ------------------------------------------------------------------ the whole file

export interface KeepalivedConfig {
  /** The files read, in order (main file first). */
  readonly files: readonly string[];
  readonly globalDefs: GlobalDefs;
  readonly vrrpScripts: readonly VrrpScript[];
  readonly trackFiles: readonly TrackFile[];
  readonly trackProcesses: readonly TrackProcess[];
  readonly bfdInstances: readonly BfdInstance[];
  readonly vrrpSyncGroups: readonly VrrpSyncGroup[];
  readonly vrrpInstances: readonly VrrpInstance[];
  readonly garpGroups: readonly GarpGroup[];
  readonly staticIpaddress: readonly IpAddress[];
  readonly staticRoutes: readonly IpRoute[];
  readonly staticRules: readonly IpRule[];
  readonly virtualServerGroups: readonly VirtualServerGroup[];
  readonly virtualServers: readonly VirtualServer[];
  readonly ssl: SslContext | null;
  /** Top-level settings outside global_defs (net_namespace, instance, child_wait_time, ...). */
  readonly topLevel: ReadonlyMap<string, readonly string[]>;
}
