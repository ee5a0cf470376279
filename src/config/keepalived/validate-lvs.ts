// What keepalived does to the LVS sections after reading them (keepalived/check/ipwrapper.c:
// link_vsg_to_vs, keepalived/check/check_data.c: validate_check_config), each fix-up reported the
// way keepalived reports it:
//  - a virtual server without real servers is dropped;
//  - no protocol: UDP (kernel protocol 0 means UDP); ops only with UDP; port 0 without persistence
//    becomes persistent (360 s); a protocol on a fwmark service is ignored;
//  - no scheduler: wlc; no forwarding method: NAT;
//  - a duplicate real server (same address and port) is dropped;
//  - real servers inherit alpha, inhibit_on_failure, retry, connect_timeout, delay_loop, warmup,
//    delay_before_retry and weight from the virtual server; checkers inherit from the real server,
//    with their own defaults (retry 1, DNS 3, MISC 0; delay_before_retry 1 s, HTTP/SSL 3 s, DNS the
//    delay_loop; warmup the delay_loop);
//  - quorum is capped at the real servers' total weight and hysteresis below quorum;
//  - outside NAT a real server's port is forced to the service port (DR/TUN cannot map ports), and
//    a fwmark service's non-NAT real servers lose their port.
import type { Addr } from '../../core/addr.ts';
import type { ParseCtx, CheckerDraft, ConnDraft, RsDraft, VsDraft } from './keywords/context.ts';
import { PERSISTENT_TIMEOUT_DEFAULT, vsLabel } from './keywords/lvs.ts';
import { SVC_F } from '../../core/service.ts';
import type {
  Checker, CheckerConnection, Forwarding, GlobalDefs, HttpUrl, RealServer, ScriptSpec, VirtualServer, VirtualServerGroup,
} from './model.ts';
import type { SchedulerName } from '../../core/sched/scheduler.ts';

const NAT: Forwarding = { method: 'NAT', tunnel: null };

function rsLabel(r: { addr: Addr; port: number }, v: VsDraft): string {
  return `[${r.addr.text}]:${v.protocol ?? 'none'}:${r.port}`;
}

function vsName(v: VsDraft): string {
  return v.target.kind === 'group' ? `[${v.target.name}]:0` : vsLabel(v);
}

function vsgeText(r: VirtualServerGroup['ranges'][number]): string {
  return r.first.text === r.last.text ? `${r.first.text},${r.port}` : `${r.first.text}-${r.last.text},${r.port}`;
}

export interface LvsResult {
  readonly virtualServerGroups: VirtualServerGroup[];
  readonly virtualServers: VirtualServer[];
  /** Every script the checker process would run (for the script-security check). */
  readonly scripts: ScriptSpec[];
}

export function validateLvs(c: ParseCtx, g: GlobalDefs): LvsResult {
  const groups: VirtualServerGroup[] = c.vsgs.map((d) => ({ name: d.name, ranges: d.ranges, fwmarks: d.fwmarks, at: d.at }));
  const out: VirtualServer[] = [];
  const scripts: ScriptSpec[] = [];
  for (const v of c.vss) {
    const group = v.target.kind === 'group' ? groups.find((x) => x.name === (v.target as { name: string }).name) ?? null : null;
    if (v.target.kind === 'group') {
      // ipwrapper.c: link_vsg_to_vs only logs these, so they do not change keepalived's -t verdict.
      if (!group) {
        c.report(v.at, `Virtual server group ${v.target.name} specified but not configured - ignoring virtual server ${vsName(v)}`, { code: 'NOT_FOUND', klass: 'OK', keyword: 'virtual_server', severity: 'error', expected: 'a virtual_server_group of that name' });
        continue;
      }
      const v4 = group.ranges.some((r) => r.first.family === 4) || group.fwmarks.some((f) => f.family === 4);
      const v6 = group.ranges.some((r) => r.first.family === 6) || group.fwmarks.some((f) => f.family === 6);
      const fam = v4 === v6 ? null : v4 ? 4 : 6;
      if ((v4 && v6 && v.family !== null) || (fam !== null && v.family !== null && fam !== v.family)) {
        c.report(v.at, `${v.target.name}: address family doesn't match virtual server ${vsName(v)} - ignoring`, { code: 'CONFLICT', klass: 'OK', keyword: 'virtual_server', severity: 'error' });
        continue;
      }
      if (fam !== null) v.family = fam;
      v.family ??= 4;
    }
    const fin = validateVs(c, v, group, g, scripts, (name) => {
      const t = c.trackFiles.find((x) => x.name === name);
      return { weight: t?.weight ?? 1, reverse: t?.weightReverse ?? false };
    });
    if (fin) out.push(fin);
  }
  return { virtualServerGroups: groups, virtualServers: out, scripts };
}

/** The weight of a track_file (a FILE_CHECK without its own weight takes it: check_file.c: file_end_handler). */
type TrackFileWeight = (name: string) => { readonly weight: number; readonly reverse: boolean };

function validateVs(c: ParseCtx, v: VsDraft, group: VirtualServerGroup | null, g: GlobalDefs, scripts: ScriptSpec[], fileWeight: TrackFileWeight): VirtualServer | null {
  const at = v.at;
  if (v.rs.length === 0) {
    c.report(at, `Virtual server ${vsName(v)} has no real servers - ignoring`, { code: 'NOTHING_CONFIGURED', keyword: 'virtual_server', expected: 'at least one real_server' });
    return null;
  }
  const isFwmark = v.target.kind === 'fwmark';
  if (v.haSuspend && (isFwmark || (group && group.fwmarks.length > 0))) {
    c.report(at, `Virtual server ${vsName(v)}: cannot use ha_suspend with fwmarks - clearing ha_suspend`, { code: 'CONFLICT', keyword: 'ha_suspend' });
    v.haSuspend = false;
  }
  if ((group && group.ranges.length > 0) || (!group && !isFwmark)) {
    if (!v.protocol) {
      c.report(at, `Virtual server ${vsName(v)}: no protocol set - defaulting to UDP`, { code: 'DEFAULT_APPLIED', keyword: 'protocol', expected: 'protocol TCP|UDP|SCTP' });
      v.protocol = 'udp';
    }
    if ((v.flags & SVC_F.ONEPACKET) && v.protocol !== 'udp') {
      c.report(at, `Virtual server ${vsName(v)}: one packet scheduling requires UDP - resetting`, { code: 'CONFLICT', keyword: 'ops' });
      v.flags &= ~SVC_F.ONEPACKET;
    }
    if (!v.persistenceTimeout && !group && !isFwmark && v.target.kind === 'addr' && v.target.port === 0) {
      c.report(at, `Virtual server ${vsName(v)}: zero port only valid for persistent services - setting`, { code: 'ADJUSTED', keyword: 'virtual_server', expected: 'a port, or persistence_timeout' });
      v.persistenceTimeout = PERSISTENT_TIMEOUT_DEFAULT;
    }
  }
  if (!v.persistenceTimeout && group && group.ranges.some((r) => r.port === 0)) {
    c.report(at, `Virtual server ${vsName(v)}: zero port only valid for persistent services - setting`, { code: 'ADJUSTED', keyword: 'virtual_server' });
    v.persistenceTimeout = PERSISTENT_TIMEOUT_DEFAULT;
  }
  if (v.protocol && ((group && group.ranges.length === 0 && group.fwmarks.length > 0) || (!group && isFwmark))) {
    c.report(at, `Warning: Virtual server ${vsName(v)}: protocol specified for fwmark - protocol will be ignored`, { code: 'CONFLICT', keyword: 'protocol', severity: 'warning' });
    v.protocol = undefined;
  }
  if (!v.scheduler) {
    c.report(at, `Virtual server ${vsName(v)}: no scheduler set, setting default 'wlc'`, { code: 'DEFAULT_APPLIED', keyword: 'lvs_sched', expected: 'lvs_sched rr|wrr|lc|wlc|...' });
    v.scheduler = 'wlc';
  }
  const smtpAlert = v.smtpAlert ?? g.smtpAlertChecker ?? g.smtpAlert ?? false;
  const kept: RsDraft[] = [];
  let weightSum = 0;
  const noFwdWarn = (): void => {
    c.report(at, `Virtual server ${vsName(v)}: no forwarding method set, setting default NAT`, { code: 'DEFAULT_APPLIED', keyword: 'lvs_method', expected: 'lvs_method NAT|DR|TUN' });
    v.forwarding = NAT;
  };
  for (const r of v.rs) {
    if (kept.some((k) => k.addr.text === r.addr.text && k.port === r.port)) {
      c.report(r.at, `VS ${vsName(v)}: real server ${rsLabel(r, v)} is duplicated - removing second rs`, { code: 'DUPLICATE', keyword: 'real_server' });
      continue;
    }
    if (!r.forwarding) {
      if (!v.forwarding) noFwdWarn();
      r.forwarding = v.forwarding;
    }
    r.alpha ??= v.alpha;
    r.inhibitOnFailure ??= v.inhibitOnFailure;
    r.retry ??= v.retry;
    r.connectTimeoutUs ??= v.connectTimeoutUs;
    r.delayLoopUs ??= v.delayLoopUs;
    r.warmupUs ??= v.warmupUs;
    r.delayBeforeRetryUs ??= v.delayBeforeRetryUs;
    r.weight ??= v.weight;
    r.smtpAlert ??= g.smtpAlertChecker ?? g.smtpAlert ?? true;
    weightSum += r.weight;
    if (v.sorry && v.sorry.addr.text === r.addr.text && v.sorry.port === r.port && v.sorry.inhibit !== r.inhibitOnFailure) {
      c.report(v.sorry.at, `Virtual server ${vsName(v)}: real server ${rsLabel(r, v)} matches sorry server, but inhibit setting differs, ${r.inhibitOnFailure ? 'sett' : 'clear'}ing on sorry server`, { code: 'CONFLICT', keyword: 'sorry_server' });
      v.sorry.inhibit = r.inhibitOnFailure;
    }
    kept.push(r);
  }
  if (v.sorry && !v.sorry.forwarding) {
    if (!v.forwarding) noFwdWarn();
    v.sorry.forwarding = v.forwarding;
  }
  if (v.quorum > weightSum) {
    c.report(at, `Warning - quorum ${v.quorum} for ${vsName(v)} exceeds total weight of real servers ${weightSum}, reducing quorum to ${weightSum}`, { code: 'ADJUSTED', keyword: 'quorum' });
    v.quorum = weightSum;
  }
  if (v.hysteresis >= v.quorum) {
    // keepalived computes quorum - 1 in unsigned arithmetic: with a quorum of 0 that is 4294967295.
    const h = (v.quorum - 1) >>> 0;
    c.report(at, `Virtual server ${vsName(v)}: hysteresis ${v.hysteresis} >= quorum ${v.quorum}; setting hysteresis to ${h}`, { code: 'ADJUSTED', keyword: 'hysteresis' });
    v.hysteresis = h;
  }
  // Ports: NAT may map them; DR and TUN cannot (and FULLNAT, a keepvs extension, may like NAT).
  const mapsPorts = (f: Forwarding | undefined): boolean => f?.method === 'NAT' || f?.method === 'FULLNAT';
  if (group) {
    if (group.fwmarks.length > 0) {
      for (const r of kept) {
        if (!mapsPorts(r.forwarding) && r.port) c.report(r.at, `WARNING - fwmark virtual server ${vsName(v)}, real server ${rsLabel(r, v)} has port specified - port will be ignored`, { code: 'ADJUSTED', keyword: 'real_server' });
      }
      if (v.sorry && !mapsPorts(v.sorry.forwarding) && v.sorry.port) c.report(v.sorry.at, `WARNING - fwmark virtual server ${vsName(v)}, sorry server has port specified - port will be ignored`, { code: 'ADJUSTED', keyword: 'sorry_server' });
    }
    for (const ge of group.ranges) {
      for (const r of kept) {
        if (mapsPorts(r.forwarding)) continue;
        if (r.port && ge.port !== r.port) c.report(r.at, `virtual server ${vsName(v)}:[${vsgeText(ge)}] and real server ${rsLabel(r, v)} ports don't match`, { code: 'CONFLICT', keyword: 'real_server' });
      }
      if (v.sorry && !mapsPorts(v.sorry.forwarding) && v.sorry.port && ge.port !== v.sorry.port) {
        c.report(v.sorry.at, `WARNING - virtual server ${vsName(v)}, sorry server has port specified - port will be ignored`, { code: 'ADJUSTED', keyword: 'sorry_server' });
      }
    }
  } else {
    const vport = v.target.kind === 'addr' ? v.target.port : 0;
    for (const r of kept) {
      if (mapsPorts(r.forwarding)) {
        if (!isFwmark && !r.port) r.port = vport;
        continue;
      }
      if (isFwmark) {
        if (r.port) {
          c.report(r.at, `WARNING - fwmark virtual server ${vsName(v)}, real server ${rsLabel(r, v)} has port specified - clearing`, { code: 'ADJUSTED', keyword: 'real_server' });
          r.port = 0;
        }
      } else if (!r.port) {
        r.port = vport;
      } else if (r.port !== vport) {
        c.report(r.at, `WARNING - virtual server ${vsName(v)} and real server ${rsLabel(r, v)} ports don't match - resetting`, { code: 'ADJUSTED', keyword: 'real_server', expected: `port ${vport} (${r.forwarding?.method} cannot map ports)` });
        r.port = vport;
      }
    }
    if (v.sorry && !mapsPorts(v.sorry.forwarding)) {
      if (isFwmark) {
        if (v.sorry.port) {
          c.report(v.sorry.at, `WARNING - virtual server ${vsName(v)}, sorry server has port specified - clearing`, { code: 'ADJUSTED', keyword: 'sorry_server' });
          v.sorry.port = 0;
        }
      } else if (!v.sorry.port) {
        v.sorry.port = vport;
      } else if (v.sorry.port !== vport) {
        c.report(v.sorry.at, `WARNING - virtual server ${vsName(v)} and sorry server ports don't match - resetting`, { code: 'ADJUSTED', keyword: 'sorry_server' });
        v.sorry.port = vport;
      }
    }
  }
  if (v.quorumUp) scripts.push(v.quorumUp);
  if (v.quorumDown) scripts.push(v.quorumDown);
  const realServers: RealServer[] = kept.map((r) => finishRs(r, scripts, fileWeight));
  return {
    target: v.target, family: v.family ?? 4, protocol: v.protocol ?? null, scheduler: v.scheduler as SchedulerName, flags: v.flags, hashed: v.hashed,
    forwarding: v.forwarding ?? NAT, persistenceTimeout: v.persistenceTimeout, persistenceGranularity: v.persistenceGranularity,
    persistenceEngine: v.persistenceEngine, haSuspend: v.haSuspend, smtpAlert, virtualhost: v.virtualhost, alpha: v.alpha, omega: v.omega,
    quorum: v.quorum, hysteresis: v.hysteresis, quorumUp: v.quorumUp, quorumDown: v.quorumDown, weight: v.weight, inhibitOnFailure: v.inhibitOnFailure,
    sorryServer: v.sorry ? { addr: v.sorry.addr, port: v.sorry.port, forwarding: v.sorry.forwarding ?? NAT, inhibit: v.sorry.inhibit, at: v.sorry.at } : null,
    delayLoopUs: v.delayLoopUs, connectTimeoutUs: v.connectTimeoutUs, retry: v.retry ?? null, delayBeforeRetryUs: v.delayBeforeRetryUs ?? null,
    warmupUs: v.warmupUs ?? null, realServers, at,
  };
}

function finishRs(r: RsDraft, scripts: ScriptSpec[], fileWeight: TrackFileWeight): RealServer {
  if (r.notifyUp) scripts.push(r.notifyUp);
  if (r.notifyDown) scripts.push(r.notifyDown);
  const checkers: Checker[] = [];
  for (const ch of r.checkers) {
    if (ch.dropped) continue;
    const fin = finishChecker(ch, r, fileWeight);
    checkers.push(fin);
    if (fin.type === 'MISC_CHECK') scripts.push(fin.script);
  }
  return {
    addr: r.addr, port: r.port, weight: r.weight!, forwarding: r.forwarding ?? NAT, uthreshold: r.uthreshold ?? 0, lthreshold: r.lthreshold ?? 0,
    inhibitOnFailure: r.inhibitOnFailure!, notifyUp: r.notifyUp ?? null, notifyDown: r.notifyDown ?? null, alpha: r.alpha!, retry: r.retry ?? null,
    connectTimeoutUs: r.connectTimeoutUs!, delayLoopUs: r.delayLoopUs!, delayBeforeRetryUs: r.delayBeforeRetryUs ?? null, warmupUs: r.warmupUs ?? null,
    smtpAlert: r.smtpAlert!, virtualhost: r.virtualhost ?? null, checkers, at: r.at,
  };
}

function connection(co: ConnDraft | null, r: RsDraft): CheckerConnection {
  return {
    ip: co?.ip ?? r.addr, port: co?.port ?? r.port, bindto: co?.bindto ?? null, bindPort: co?.bindPort ?? null, bindIf: co?.bindIf ?? null,
    fwmark: co?.fwmark ?? null, timeoutUs: co?.timeoutUs ?? r.connectTimeoutUs!,
  };
}

/** check_data.c: the checker loop of validate_check_config, plus each type's defaults. */
function finishChecker(ch: CheckerDraft, r: RsDraft, fileWeight: TrackFileWeight): Checker {
  const defaultRetry = ch.type === 'DNS_CHECK' ? 3 : ch.type === 'MISC_CHECK' ? 0 : 1;
  const defaultDbr = ch.type === 'HTTP_GET' || ch.type === 'SSL_GET' ? 3_000_000 : ch.type === 'DNS_CHECK' ? 0 : 1_000_000;
  const delayLoopUs = ch.delayLoopUs ?? r.delayLoopUs!;
  const common = {
    retry: ch.retry ?? r.retry ?? defaultRetry,
    delayLoopUs,
    warmupUs: ch.warmupUs ?? r.warmupUs ?? delayLoopUs,
    delayBeforeRetryUs: ch.delayBeforeRetryUs ?? r.delayBeforeRetryUs ?? (defaultDbr || delayLoopUs),
    alpha: ch.alpha ?? r.alpha!,
    logAllFailures: ch.logAllFailures ?? false,
    rise: ch.rise ?? 1,
    fall: ch.fall ?? 1,
    probeClose: ch.probeClose ?? null,
    at: ch.at,
  };
  const conn = (): CheckerConnection => connection(ch.conn, r);
  switch (ch.type) {
    case 'TCP_CHECK':
    case 'PING_CHECK':
      return { ...common, type: ch.type, connection: conn() };
    case 'HTTP_GET':
    case 'SSL_GET':
      return {
        ...common, type: ch.type, connection: conn(), virtualhost: ch.virtualhost, httpProtocol: ch.httpProtocol, enableSni: ch.enableSni,
        fastRecovery: ch.fastRecovery,
        urls: ch.urls.map((u): HttpUrl => ({
          path: u.path!, digest: u.digest ?? null, statusCodes: u.statusCodes.length ? u.statusCodes : [{ min: 200, max: 299 }],
          virtualhost: u.virtualhost ?? null, regex: u.regex ?? null, regexNoMatch: u.regexNoMatch ?? false, regexOptions: u.regexOptions ?? [],
          regexMinOffset: u.regexMinOffset ?? 0, regexMaxOffset: u.regexMaxOffset ?? 0, at: u.at,
        })),
      };
    case 'MISC_CHECK':
      return { ...common, type: 'MISC_CHECK', script: ch.script!, timeoutS: ch.miscTimeoutS, dynamic: ch.miscDynamic };
    case 'DNS_CHECK':
      return { ...common, type: 'DNS_CHECK', connection: conn(), queryType: ch.dnsType, name: ch.dnsName ?? '' };
    case 'SMTP_CHECK':
      return { ...common, type: 'SMTP_CHECK', connection: conn(), heloName: ch.heloName, hosts: ch.hosts.map((h) => connection(h, r)) };
    case 'UDP_CHECK':
      return {
        ...common, type: 'UDP_CHECK', connection: conn(), payload: ch.payload, requireReply: ch.requireReply, replyData: ch.replyData,
        minReplyLength: ch.minReplyLength, maxReplyLength: ch.maxReplyLength,
      };
    case 'FILE_CHECK':
      return { ...common, type: 'FILE_CHECK', trackFile: ch.trackFile!, weight: ch.fileWeight ?? fileWeight(ch.trackFile!).weight,
        weightReverse: ch.fileWeight !== null ? ch.fileWeightReverse : fileWeight(ch.trackFile!).reverse };
    case 'BFD_CHECK':
      return { ...common, type: 'BFD_CHECK', name: ch.bfdName! };
  }
}
