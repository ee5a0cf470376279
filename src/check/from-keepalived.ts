// From the parsed keepalived.conf (src/config/keepalived/model.ts) to the checker specs this room
// runs (spec.ts), so the daemon can start a HealthChecker for the virtual servers it programs.
// The model has already applied keepalived's inheritance and defaults (check_data.c:
// validate_check_config), so every checker here gets its timing and connection keys written out;
// resolveVirtualServer then has nothing left to inherit. Times go from the model's microseconds
// to the seconds a spec takes.
import type {
  Checker, CheckerConnection, KeepalivedConfig, RealServer, ScriptSpec, VirtualServer,
} from '../config/keepalived/model.ts';
import { addrFromBytes } from '../core/addr.ts';
import {
  DNS_TYPES, REGEX_OPTIONS, type CheckerSpec, type ConnectionKeys, type DnsTypeName, type NotifyScriptSpec,
  type RealServerSpec, type RegexOption, type ScriptUser, type TimingKeys, type VirtualServerSpec, type VsIdentity,
} from './spec.ts';

/** A checker the runtime cannot run (FILE_CHECK without its track_file, BFD_CHECK on a vrrp-only bfd_instance), named by its place. */
export interface SkippedChecker {
  readonly type: string;
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

const seconds = (us: number): number => us / 1e6;

function user(s: { user: string | null; group: string | null }): ScriptUser | undefined {
  if (s.user === null) return undefined;
  return s.group === null ? { user: s.user } : { user: s.user, group: s.group };
}

export function notifyScript(s: ScriptSpec | null): NotifyScriptSpec | undefined {
  if (!s) return undefined;
  const u = user(s);
  return u ? { argv: s.args, user: u } : { argv: s.args };
}

function connection(c: CheckerConnection): ConnectionKeys {
  const k: ConnectionKeys = { connect_ip: c.ip.text, connect_port: c.port, connect_timeout: seconds(c.timeoutUs) };
  if (c.bindto) k.bindto = c.bindto.text;
  if (c.bindPort !== null) k.bind_port = c.bindPort;
  if (c.bindIf !== null) k.bind_if = c.bindIf;
  if (c.fwmark !== null) k.fwmark = c.fwmark;
  return k;
}

/** True when a connection is just the real server's own address with no source options. */
function isDefaultConnection(c: CheckerConnection, rs: RealServer): boolean {
  return c.ip.text === rs.addr.text && c.port === rs.port && !c.bindto && c.bindPort === null && c.bindIf === null
    && c.fwmark === null && c.timeoutUs === rs.connectTimeoutUs;
}

function timing(c: Checker, logAll: boolean): TimingKeys {
  return {
    retry: c.retry,
    delay_before_retry: seconds(c.delayBeforeRetryUs),
    warmup: seconds(c.warmupUs),
    delay_loop: seconds(c.delayLoopUs),
    alpha: c.alpha,
    log_all_failures: c.logAllFailures || logAll,
    rise: c.rise,
    fall: c.fall,
  };
}

function checkerSpecs(cfg: KeepalivedConfig, rs: RealServer, c: Checker, skipped: SkippedChecker[]): CheckerSpec[] {
  const t = timing(c, cfg.globalDefs.checkerLogAllFailures);
  switch (c.type) {
    case 'TCP_CHECK':
      return [{ type: c.type, ...t, ...connection(c.connection), ...(c.probeClose !== null ? { probe_close: c.probeClose } : {}) }];
    case 'PING_CHECK':
      return [{ type: c.type, ...t, ...connection(c.connection) }];
    case 'HTTP_GET':
    case 'SSL_GET':
      return [{
        type: c.type, ...t, ...connection(c.connection),
        ...(c.type === 'HTTP_GET' && c.probeClose !== null ? { probe_close: c.probeClose } : {}),
        url: c.urls.map((u) => ({
          path: u.path,
          ...(u.digest !== null ? { digest: u.digest } : {}),
          status_code: u.statusCodes.map((s) => [s.min, s.max] as const),
          ...(u.virtualhost !== null ? { virtualhost: u.virtualhost } : {}),
          ...(u.regex !== null ? {
            regex: u.regex, regex_no_match: u.regexNoMatch,
            regex_options: u.regexOptions.filter((o): o is RegexOption => o in REGEX_OPTIONS),
            regex_min_offset: u.regexMinOffset, regex_max_offset: u.regexMaxOffset,
          } : {}),
        })),
        ...(c.virtualhost !== null ? { virtualhost: c.virtualhost } : {}),
        http_protocol: c.httpProtocol, enable_sni: c.enableSni, fast_recovery: c.fastRecovery,
      }];
    case 'MISC_CHECK': {
      const u = user(c.script);
      return [{
        type: 'MISC_CHECK', ...t, misc_path: c.script.args, misc_dynamic: c.dynamic,
        ...(c.timeoutS !== null ? { misc_timeout: c.timeoutS } : {}),
        ...(u ? { user: u } : {}),
      }];
    }
    case 'DNS_CHECK':
      return [{
        type: 'DNS_CHECK', ...t, ...connection(c.connection), name: c.name,
        ...(c.queryType in DNS_TYPES ? { dns_type: c.queryType as DnsTypeName } : {}),
      }];
    case 'SMTP_CHECK': {
      // check_smtp.c: each deprecated host{} block is one more SMTP checker; the checker's own
      // connection counts only when it says something beyond the real server's address.
      const helo = c.heloName !== null ? { helo_name: c.heloName } : {};
      const conns = c.hosts.length === 0 || !isDefaultConnection(c.connection, rs) ? [c.connection, ...c.hosts] : c.hosts;
      return conns.map((co) => ({ type: 'SMTP_CHECK' as const, ...t, ...helo, ...connection(co) }));
    }
    case 'UDP_CHECK':
      return [{
        type: 'UDP_CHECK', ...t, ...connection(c.connection),
        ...(c.payload !== null ? { payload: c.payload } : {}),
        ...(c.requireReply ? { require_reply: c.replyData ?? '' } : {}),
        min_reply_length: c.minReplyLength, max_reply_length: c.maxReplyLength,
      }];
    case 'FILE_CHECK': {
      const tf = cfg.trackFiles.find((f) => f.name === c.trackFile);
      if (!tf) {
        skipped.push({ type: c.type, file: c.at.file, line: c.at.line, reason: `track_file ${c.trackFile} is not defined` });
        return [];
      }
      return [{
        type: 'FILE_CHECK', weight: c.weight, reverse: c.weightReverse,
        track_file: { name: tf.name, file: tf.file, weight: tf.weight, reverse: tf.weightReverse },
      }];
    }
    case 'BFD_CHECK': {
      // bfd_parser.c: a bfd_instance naming only `vrrp` sends no events to the checker process, which
      // then does not know the instance (check_bfd.c: "BFD_CHECK - BFD NAME not configured").
      const b = cfg.bfdInstances.find((i) => i.name === c.name);
      if (!b || (b.settings.has('vrrp') && !b.settings.has('checker'))) {
        skipped.push({ type: c.type, file: c.at.file, line: c.at.line, reason: `BFD ${c.name} not configured for the checker process` });
        return [];
      }
      return [{ type: 'BFD_CHECK', name: c.name, alpha: c.alpha }];
    }
  }
}

/**
 * The addresses ha_suspend watches for a `virtual_server group`: every single address and every
 * address of every range (a range varies the last byte of IPv4, the last 16 bits of IPv6). This is
 * the matching keepalived's check_api.c: addr_matches spells out for groups (same /24 or /112 prefix,
 * last part within the range). keepalived 2.2.7 never reaches it — that function returns "no match"
 * for any group first, so its group's checkers are deactivated at start and never activated — and
 * keepvs follows the spelled-out rule instead (docs/keepalived-conf.md). fwmark entries have no
 * address (validate-lvs.ts clears ha_suspend on a group with fwmarks, as keepalived does).
 */
export function groupAddresses(cfg: KeepalivedConfig, name: string): string[] {
  const g = cfg.virtualServerGroups.find((x) => x.name === name);
  const out: string[] = [];
  for (const r of g?.ranges ?? []) {
    const first = r.first.bytes;
    const last = r.last.bytes;
    const n = first.length;
    // The varying part: the last byte (IPv4) or the last two bytes (IPv6), as the range syntax allows.
    const lo = n === 4 ? first[3] : (first[14] << 8) | first[15];
    const hi = n === 4 ? last[3] : (last[14] << 8) | last[15];
    for (let v = lo; v <= hi; v++) {
      const b = Uint8Array.from(first);
      if (n === 4) b[3] = v;
      else { b[14] = v >> 8; b[15] = v & 0xff; }
      out.push(addrFromBytes(b).text);
    }
  }
  return [...new Set(out)];
}

/** The identity the checker room names a virtual server by (keepalived's FMT_VS). */
export function vsIdentity(v: VirtualServer): VsIdentity {
  // keepalived.conf without `protocol` means UDP (kernel protocol 0); the model leaves it null for fwmark.
  const protocol = v.protocol ?? 'udp';
  if (v.target.kind === 'addr') return { kind: 'addr', address: v.target.addr.text, port: v.target.port, protocol };
  if (v.target.kind === 'fwmark') return { kind: 'fwmark', fwmark: v.target.fwmark, protocol };
  return { kind: 'group', group: v.target.name, port: 0, protocol };
}

export function realServerSpec(cfg: KeepalivedConfig, rs: RealServer, skipped: SkippedChecker[]): RealServerSpec {
  return {
    address: rs.addr.text,
    port: rs.port,
    weight: rs.weight,
    inhibit_on_failure: rs.inhibitOnFailure,
    alpha: rs.alpha,
    ...(rs.notifyUp ? { notify_up: notifyScript(rs.notifyUp) } : {}),
    ...(rs.notifyDown ? { notify_down: notifyScript(rs.notifyDown) } : {}),
    ...(rs.virtualhost !== null ? { virtualhost: rs.virtualhost } : {}),
    connect_timeout: seconds(rs.connectTimeoutUs),
    checkers: rs.checkers.flatMap((c) => checkerSpecs(cfg, rs, c, skipped)),
  };
}

export function virtualServerSpec(cfg: KeepalivedConfig, v: VirtualServer, skipped: SkippedChecker[]): VirtualServerSpec {
  return {
    id: vsIdentity(v),
    omega: v.omega,
    ...(v.haSuspend ? { ha_suspend: true } : {}),
    ...(v.haSuspend && v.target.kind === 'group' ? { ha_suspend_addresses: groupAddresses(cfg, v.target.name) } : {}),
    quorum: v.quorum,
    hysteresis: v.hysteresis,
    ...(v.quorumUp ? { quorum_up: notifyScript(v.quorumUp) } : {}),
    ...(v.quorumDown ? { quorum_down: notifyScript(v.quorumDown) } : {}),
    ...(v.sorryServer ? { sorry_server: { address: v.sorryServer.addr.text, port: v.sorryServer.port }, sorry_server_inhibit: v.sorryServer.inhibit } : {}),
    inhibit_on_failure: v.inhibitOnFailure,
    delay_loop: seconds(v.delayLoopUs),
    connect_timeout: seconds(v.connectTimeoutUs),
    ...(v.virtualhost !== null ? { virtualhost: v.virtualhost } : {}),
    real_server: v.realServers.map((rs) => realServerSpec(cfg, rs, skipped)),
  };
}

/** global_defs checker_probe_close (keepvs extension): the health checker's probeClose. */
export function probeCloseSetting(cfg: KeepalivedConfig): { probeClose: KeepalivedConfig['globalDefs']['checkerProbeClose'] } {
  return { probeClose: cfg.globalDefs.checkerProbeClose };
}

/** global_defs the checker process uses: enable_script_security and script_user. */
export function scriptSettings(cfg: KeepalivedConfig): { scriptSecurity: boolean; scriptUser?: ScriptUser } {
  const u = cfg.globalDefs.scriptUser;
  return {
    scriptSecurity: cfg.globalDefs.enableScriptSecurity,
    ...(u ? { scriptUser: u.group === null ? { user: u.user } : { user: u.user, group: u.group } } : {}),
  };
}
