// What keepalived's VRRP process checks once the file is read (keepalived/vrrp/vrrp_daemon.c:
// start_vrrp, keepalived/vrrp/vrrp.c: vrrp_complete_init, chk_min_cfg, vrrp_complete_instance,
// check_vrid_conflicts, keepalived/vrrp/vrrp_sync.c: vrrp_sync_set_group). When an interface named
// in the VRRP sections does not exist, keepalived stops right there ("Non-existent interface
// specified in configuration", CONFIG_BAD_IF) and checks nothing else; keepvs does the same, so the
// verdict matches. The model is still filled in with keepalived's defaults.
import type { ParseCtx, VrrpDraft, SyncGroupDraft } from './keywords/context.ts';
import type { GlobalDefs, VrrpInstance, VrrpSyncGroup, ScriptSpec, VrrpScript } from './model.ts';

const ADVER_DFL_US = 1_000_000;

function fmtF(us: number): string {
  return (us / 1e6).toFixed(6);
}

export interface VrrpResult {
  readonly instances: VrrpInstance[];
  readonly syncGroups: VrrpSyncGroup[];
  readonly vrrpScripts: VrrpScript[];
  /** Every script the VRRP process would run, with whether it is a track script (for the security check). */
  readonly scripts: { readonly spec: ScriptSpec; readonly trackScript: string | null }[];
  /** keepalived stopped before the instance checks (a missing interface, no VRID, no interface). */
  readonly stoppedEarly: boolean;
}

export function validateVrrp(c: ParseCtx, g: GlobalDefs): VrrpResult {
  const scripts: VrrpResult['scripts'] = [];
  const vrrpScripts: VrrpScript[] = c.vrrpScripts.map((s) => ({
    name: s.name, script: s.script!, intervalS: s.intervalS ?? 1, timeoutS: s.timeoutS ?? s.intervalS ?? 1, weight: s.weight ?? 0,
    weightReverse: s.weightReverse ?? false, rise: s.rise ?? 1, fall: s.fall ?? 1, initFail: s.initFail ?? false, at: s.at,
  }));
  let stopped = false;
  if (c.nonExistentInterface) {
    c.report(null, 'Non-existent interface specified in configuration', { code: 'NO_SUCH_INTERFACE', klass: 'BAD_IF', expected: 'interfaces that exist on this host, or dynamic_interfaces in global_defs' });
    stopped = true;
  }
  if (!stopped && c.instances.length > 0) {
    for (const s of vrrpScripts) scripts.push({ spec: s.script, trackScript: s.name });
    for (const v of c.instances) {
      for (const s of [v.notify.backup, v.notify.master, v.notify.fault, v.notify.stop, v.notify.generic, v.notifyMasterRxLowerPri, typeof v.notifyDeleted === 'object' ? v.notifyDeleted : null]) {
        if (s) scripts.push({ spec: s, trackScript: null });
      }
    }
    for (const sg of c.syncGroups) {
      for (const s of [sg.notify.backup, sg.notify.master, sg.notify.fault, sg.notify.stop, sg.notify.generic]) if (s) scripts.push({ spec: s, trackScript: null });
    }
    for (const f of [g.notifyFifo?.script, g.vrrpNotifyFifo?.script]) if (f) scripts.push({ spec: f, trackScript: null });
    for (const v of c.instances) {
      if (v.vrid === 0) {
        c.report(v.at, `(${v.name}) the virtual router id must be set`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'virtual_router_id', expected: 'virtual_router_id 1..255' });
        stopped = true;
        break;
      }
      // vrrp.c: chk_min_cfg runs before the unicast flag is set, so 2.2.7 wants an interface even with unicast peers.
      if (!v.interface) {
        c.report(v.at, `(${v.name}) Unknown interface!`, { code: 'NO_SUCH_INTERFACE', keyword: 'interface', expected: 'interface IFNAME' });
        stopped = true;
        break;
      }
    }
  }
  const groups = stopped ? c.syncGroups.filter((sg) => sg.members !== null).map((sg) => finishGroup(sg, sg.members ?? [])) : syncGroups(c);
  const instances: VrrpInstance[] = [];
  for (const v of c.instances) {
    const r = completeInstance(c, v, g, stopped);
    if (r === 'stop') {
      stopped = true;
    }
    instances.push(finishInstance(v, g));
  }
  if (!stopped) vridConflicts(c, instances, g);
  return { instances, syncGroups: groups, vrrpScripts, scripts, stoppedEarly: stopped };
}

function finishGroup(sg: SyncGroupDraft, members: string[]): VrrpSyncGroup {
  return {
    name: sg.name, members, trackInterfaces: sg.trackInterfaces, trackScripts: sg.trackScripts, trackFiles: sg.trackFiles,
    trackProcesses: sg.trackProcesses, trackBfds: sg.trackBfds, notify: sg.notify, smtpAlert: sg.smtpAlert, trackingWeight: sg.trackingWeight,
    notifyPriorityChanges: sg.notifyPriorityChanges, at: sg.at,
  };
}

/** vrrp_sync.c: vrrp_sync_set_group for every group. */
function syncGroups(c: ParseCtx): VrrpSyncGroup[] {
  const out: VrrpSyncGroup[] = [];
  const taken = new Set<string>();
  for (const sg of c.syncGroups) {
    if (sg.members === null) {
      c.report(sg.at, `Sync group ${sg.name} has no virtual router(s). removing`, { code: 'NOTHING_CONFIGURED', keyword: 'vrrp_sync_group', expected: 'group { INSTANCE ... }' });
      continue;
    }
    const members: string[] = [];
    let owner: boolean | null = null;
    for (const m of sg.members) {
      const v = c.instances.find((i) => i.name === m);
      if (!v) { c.report(sg.at, `Virtual router ${m} specified in sync group ${sg.name} doesn't exist - ignoring`, { code: 'NOT_FOUND', keyword: 'group' }); continue; }
      if (taken.has(m)) { c.report(sg.at, `Virtual router ${m} cannot exist in more than one sync group; ignoring ${sg.name}`, { code: 'DUPLICATE', keyword: 'group' }); continue; }
      taken.add(m);
      members.push(m);
      const isOwner = v.state === 'MASTER' && v.priority === 255;
      if (owner === true && v.state === 'BACKUP') c.report(sg.at, `Sync group ${sg.name} has some member(s) as address owner and some not as address owner. This won't work.`, { code: 'CONFLICT', keyword: 'group' });
      if (owner !== false) owner = isOwner;
    }
    if (members.length === 0) {
      c.report(sg.at, `Sync group ${sg.name}, no matching virtual router found in group declaration - removing`, { code: 'NOT_FOUND', keyword: 'vrrp_sync_group' });
      continue;
    }
    if (members.length === 1) c.report(sg.at, `Sync group ${sg.name} has only 1 virtual router(s) - this probably isn't what you want`, { code: 'CONFLICT', keyword: 'vrrp_sync_group', severity: 'warning' });
    out.push(finishGroup(sg, members));
  }
  return out;
}

/** vrrp.c: vrrp_complete_instance — defaults and the reported fix-ups (quietly when keepalived stopped earlier). */
function completeInstance(c: ParseCtx, v: VrrpDraft, g: GlobalDefs, quiet: boolean): 'ok' | 'stop' {
  const report: ParseCtx['report'] = quiet ? () => {} : (at, msg, o) => c.report(at, msg, o);
  const strict = v.strictMode ?? g.vrrpStrict;
  v.strictMode = strict;
  if (v.family === 6) {
    if (v.version === 2 && strict) {
      report(v.at, `(${v.name}) cannot use IPv6 with VRRP version 2; setting version 3`, { code: 'ADJUSTED', keyword: 'version' });
      v.version = 3;
    } else if (!v.version) {
      v.version = 3;
    }
  }
  v.family ??= 4;
  v.version ??= v.family === 6 ? 3 : g.vrrpVersion;
  if (v.vips.length === 0) {
    if (v.version === 3 || strict) {
      report(v.at, `(${v.name}) No VIP specified; at least one is required`, { code: 'NOTHING_CONFIGURED', keyword: 'virtual_ipaddress' });
      return quiet ? 'ok' : 'stop';
    }
    report(v.at, `(${v.name}) No VIP specified; at least one is sensible`, { code: 'NOTHING_CONFIGURED', keyword: 'virtual_ipaddress', severity: 'warning' });
  }
  if (v.priority === 0) v.priority = v.state === 'MASTER' ? 255 : 100;
  if (v.state === undefined) {
    v.state = v.priority === 255 ? 'MASTER' : 'BACKUP';
  } else if (strict && (v.state === 'MASTER') !== (v.priority === 255)) {
    report(v.at, `(${v.name}) State MASTER must match being address owner`, { code: 'CONFLICT', keyword: 'state' });
    v.state = v.priority === 255 ? 'MASTER' : 'BACKUP';
  }
  if (v.authType !== null) {
    if (strict) {
      report(v.at, `(${v.name}) Strict mode does not support authentication. Ignoring.`, { code: 'CONFLICT', keyword: 'authentication' });
      v.authType = null;
    } else if (v.version === 3) {
      report(v.at, `(${v.name}) VRRP version 3 does not support authentication. Ignoring.`, { code: 'CONFLICT', keyword: 'authentication' });
      v.authType = null;
    } else if (!v.authPass) {
      report(v.at, `(${v.name}) Authentication specified but no password given. Ignoring`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'auth_pass' });
      v.authType = null;
    } else if (v.family === 6 && v.authType === 'AH') {
      report(v.at, `(${v.name}) Cannot use AH authentication with IPv6. ignoring`, { code: 'CONFLICT', keyword: 'auth_type' });
      v.authType = null;
    } else if (v.authType === 'AH' && v.state === 'MASTER' && v.priority !== 255) {
      report(v.at, `(${v.name}) Initial state master is incompatible with AH authentication - clearing`, { code: 'CONFLICT', keyword: 'state' });
      v.state = 'BACKUP';
    }
  }
  const unicast = v.unicastConfigured && v.unicastPeers.length > 0;
  if (strict && unicast && v.interface) {
    report(v.at, `(${v.name}) Unicast peers are not supported in strict mode`, { code: 'CONFLICT', keyword: 'unicast_peer' });
    return quiet ? 'ok' : 'stop';
  }
  if (v.unicastConfigured && v.unicastPeers.length === 0 && !v.unicastFaultNoPeer) {
    report(v.at, `(${v.name}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.`, { code: 'DEPRECATED', klass: 'DEPRECATED', keyword: 'unicast_peer' });
  }
  if (strict && v.useVmac?.mac) {
    report(v.at, `(${v.name}): cannot specify MAC address with strict mode - clearing`, { code: 'CONFLICT', keyword: 'use_vmac' });
    v.useVmac = { ...v.useVmac, mac: null };
  }
  if (v.family === 6 && !unicast && v.vips.length > 0 && strict) {
    const b = v.vips[0].addr.bytes;
    if (!(b[0] === 0xfe && (b[1] & 0xc0) === 0x80)) report(v.at, `(${v.name}) the first IPv6 VIP address must be link local`, { code: 'CONFLICT', keyword: 'virtual_ipaddress' });
  }
  const max = v.family === 4 ? Math.floor((1500 - 14 - 20 - 8 - (v.version === 2 ? 8 + (v.authType === 'AH' ? 24 : 0) : 0)) / 4) : Math.floor((1500 - 14 - 40 - 8) / 16);
  const maxAddr = Math.min(max, 255);
  if (v.vips.length > maxAddr) {
    report(v.at, `(${v.name}) Number of VIPs (${v.vips.length}) exceeds maximum/space available in packet (max ${maxAddr} addresses) - excess moved to eVIPs`, { code: 'ADJUSTED', keyword: 'virtual_ipaddress' });
    v.evips.push(...v.vips.splice(maxAddr));
  }
  if (v.priority === 255 && v.nopreempt) {
    report(v.at, `(${v.name}) nopreempt is incompatible with priority 255. resetting nopreempt`, { code: 'CONFLICT', keyword: 'nopreempt' });
    v.nopreempt = false;
  }
  if (v.state === 'MASTER') {
    if (v.nopreempt) {
      report(v.at, `(${v.name}) Warning - nopreempt will not work with initial state MASTER - clearing`, { code: 'CONFLICT', keyword: 'nopreempt' });
      v.nopreempt = false;
    }
    if (v.preemptDelayUs) {
      report(v.at, `(${v.name}) Warning - preempt delay will not work with initial state MASTER - clearing`, { code: 'CONFLICT', keyword: 'preempt_delay' });
      v.preemptDelayUs = 0;
    }
  }
  if (v.preemptDelayUs) {
    if (strict) {
      report(v.at, `(${v.name}) preempt_delay is incompatible with strict mode - resetting`, { code: 'CONFLICT', keyword: 'preempt_delay' });
      v.preemptDelayUs = 0;
    }
    if (v.nopreempt) {
      report(v.at, `(${v.name}) preempt_delay is incompatible with nopreempt mode - resetting`, { code: 'CONFLICT', keyword: 'preempt_delay' });
      v.preemptDelayUs = 0;
    }
  }
  if (v.downTimerAdverts !== 3 && strict) {
    report(v.at, `(${v.name}) down_timer_adverts is incompatible with strict mode - resetting`, { code: 'CONFLICT', keyword: 'down_timer_adverts' });
    v.downTimerAdverts = 3;
  }
  v.accept ??= v.priority === 255 ? true : !strict;
  if (v.accept && v.priority !== 255 && strict && v.version === 2) {
    report(v.at, `(${v.name}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting`, { code: 'CONFLICT', keyword: 'accept' });
    v.accept = false;
  }
  if (unicast && v.mcastDstIp) {
    report(v.at, `(${v.name}) multicast destination specified with unicast - ignoring`, { code: 'CONFLICT', keyword: 'mcast_dst_ip' });
    v.mcastDstIp = null;
  }
  if (v.garpLowerPrioRepeat === undefined) v.garpLowerPrioRepeat = strict ? 0 : g.vrrpGarpLowerPrioRepeat;
  else if (strict && v.garpLowerPrioRepeat) {
    report(v.at, `(${v.name}) Strict mode requires no repeat garps. resetting`, { code: 'CONFLICT', keyword: 'garp_lower_prio_repeat' });
    v.garpLowerPrioRepeat = 0;
  }
  if (v.garpLowerPrioDelayS === undefined) v.garpLowerPrioDelayS = strict ? 0 : g.vrrpGarpLowerPrioDelayS;
  else if (strict && v.garpLowerPrioDelayS) {
    report(v.at, `(${v.name}) Strict mode requires no repeat garp delay. resetting`, { code: 'CONFLICT', keyword: 'garp_lower_prio_delay' });
    v.garpLowerPrioDelayS = 0;
  }
  if (v.lowerPrioNoAdvert === undefined) v.lowerPrioNoAdvert = strict ? true : g.vrrpLowerPrioNoAdvert;
  else if (strict && !v.lowerPrioNoAdvert) {
    report(v.at, `(${v.name}) Strict mode requires no lower priority advert. resetting`, { code: 'CONFLICT', keyword: 'lower_prio_no_advert' });
    v.lowerPrioNoAdvert = true;
  }
  if (v.higherPrioSendAdvert === undefined) v.higherPrioSendAdvert = strict ? false : g.vrrpHigherPrioSendAdvert;
  else if (strict && v.higherPrioSendAdvert) {
    report(v.at, `(${v.name}) strict mode requires higher_prio_send_advert to be clear. resetting`, { code: 'CONFLICT', keyword: 'higher_prio_send_advert' });
    v.higherPrioSendAdvert = false;
  }
  if (!v.advertIntUs) v.advertIntUs = ADVER_DFL_US;
  if (v.version === 2) {
    if (v.advertIntUs >= 256 * 1e6) {
      report(v.at, `(${v.name}) VRRPv2 advertisement interval ${(v.advertIntUs / 1e6).toFixed(2)}s is out of range. Must be less than 256s. Setting to 255s`, { code: 'ADJUSTED', keyword: 'advert_int' });
      v.advertIntUs = 255 * 1e6;
    } else if (v.advertIntUs % 1e6) {
      report(v.at, `(${v.name}) VRRPv2 advertisement interval ${fmtF(v.advertIntUs)}s must be an integer. rounding`, { code: 'ADJUSTED', keyword: 'advert_int', expected: 'whole seconds with VRRPv2' });
      v.advertIntUs = v.advertIntUs + 500_000 - ((v.advertIntUs + 500_000) % 1e6) || 1e6;
    }
  } else if (v.advertIntUs >= 4096 * 10_000) {
    report(v.at, `(${v.name}) VRRPv3 advertisement interval ${(v.advertIntUs / 1e6).toFixed(2)}s is out of range. Must be less than 40.96s. Setting to 40.95s`, { code: 'ADJUSTED', keyword: 'advert_int' });
    v.advertIntUs = 4095 * 10_000;
  } else if (v.advertIntUs % 10_000) {
    report(v.at, `(${v.name}) VRRPv3 advertisement interval ${fmtF(v.advertIntUs)}s must be in units of 10ms - rounding`, { code: 'ADJUSTED', keyword: 'advert_int', expected: 'a multiple of 0.01 s with VRRPv3' });
    v.advertIntUs = v.advertIntUs + 5_000 - ((v.advertIntUs + 5_000) % 10_000) || 10_000;
  }
  return 'ok';
}

function finishInstance(v: VrrpDraft, g: GlobalDefs): VrrpInstance {
  const strict = v.strictMode ?? g.vrrpStrict;
  const priority = v.priority || (v.state === 'MASTER' ? 255 : 100);
  return {
    name: v.name, state: v.state ?? (priority === 255 ? 'MASTER' : 'BACKUP'), interface: v.interface, family: v.family ?? 4,
    version: v.version ?? g.vrrpVersion, vrid: v.vrid, priority, advertIntUs: v.advertIntUs || ADVER_DFL_US, authType: v.authType,
    authPass: v.authType ? v.authPass : null, virtualIpaddress: v.vips, virtualIpaddressExcluded: v.evips, virtualRoutes: v.routes, virtualRules: v.rules,
    unicastSrcIp: v.unicastSrcIp, mcastSrcIp: v.mcastSrcIp, mcastDstIp: v.mcastDstIp, unicastPeers: v.unicastPeers, unicastTtl: v.unicastTtl,
    unicastFaultNoPeer: v.unicastFaultNoPeer, checkUnicastSrc: v.checkUnicastSrc || g.vrrpCheckUnicastSrc, useVmac: v.useVmac,
    vmacXmitBase: v.vmacXmitBase, useIpvlan: v.useIpvlan, nopreempt: v.nopreempt, preemptDelayUs: v.preemptDelayUs,
    accept: v.accept ?? (priority === 255 ? true : !strict), strictMode: strict, dontTrackPrimary: v.dontTrackPrimary,
    skipCheckAdvAddr: v.skipCheckAdvAddr || g.vrrpSkipCheckAdvAddr, trackSrcIp: v.trackSrcIp && v.saddrFromConfig,
    promoteSecondaries: v.promoteSecondaries, trackInterfaces: v.trackInterfaces, trackScripts: v.trackScripts, trackFiles: v.trackFiles,
    trackProcesses: v.trackProcesses, trackBfds: v.trackBfds, notify: v.notify, notifyDeleted: v.notifyDeleted,
    notifyMasterRxLowerPri: v.notifyMasterRxLowerPri, notifyPriorityChanges: v.notifyPriorityChanges ?? g.vrrpNotifyPriorityChanges,
    smtpAlert: v.smtpAlert ?? g.smtpAlertVrrp ?? g.smtpAlert ?? false,
    garpMasterDelayS: v.garpMasterDelayS ?? g.vrrpGarpMasterDelayS, garpMasterRepeat: v.garpMasterRepeat ?? g.vrrpGarpMasterRepeat,
    garpLowerPrioDelayS: v.garpLowerPrioDelayS ?? (strict ? 0 : g.vrrpGarpLowerPrioDelayS),
    garpLowerPrioRepeat: v.garpLowerPrioRepeat ?? (strict ? 0 : g.vrrpGarpLowerPrioRepeat),
    garpMasterRefreshS: v.garpMasterRefreshS ?? g.vrrpGarpMasterRefreshS, garpMasterRefreshRepeat: v.garpMasterRefreshRepeat ?? g.vrrpGarpMasterRefreshRepeat,
    garpExtraIf: v.garpExtraIf, downTimerAdverts: v.downTimerAdverts, lowerPrioNoAdvert: v.lowerPrioNoAdvert ?? (strict ? true : g.vrrpLowerPrioNoAdvert),
    higherPrioSendAdvert: v.higherPrioSendAdvert ?? (strict ? false : g.vrrpHigherPrioSendAdvert), kernelRxBufSize: v.kernelRxBufSize,
    debug: v.debug, at: v.at,
  };
}

/** vrrp.c: check_vrid_conflicts, for the multicast case (unicast VRIDs are per source address). */
function vridConflicts(c: ParseCtx, instances: readonly VrrpInstance[], g: GlobalDefs): void {
  for (let i = 0; i < instances.length; i++) {
    for (let j = i + 1; j < instances.length; j++) {
      const a = instances[i];
      const b = instances[j];
      if (a.family !== b.family || a.vrid !== b.vrid) continue;
      const ua = a.unicastPeers.length > 0;
      const ub = b.unicastPeers.length > 0;
      if (ua !== ub || ua) continue;
      if (a.interface !== b.interface) continue;
      const ma = a.mcastDstIp ?? (a.family === 4 ? g.vrrpMcastGroup4 : g.vrrpMcastGroup6);
      const mb = b.mcastDstIp ?? (b.family === 4 ? g.vrrpMcastGroup4 : g.vrrpMcastGroup6);
      if (ma.text !== mb.text) continue;
      c.report(b.at, `${a.name} and ${b.name} both use VRID ${a.vrid} with IPv${a.family} on interface ${a.interface}`, { code: 'CONFLICT', keyword: 'virtual_router_id', expected: 'a different virtual_router_id per interface and family' });
    }
  }
}
