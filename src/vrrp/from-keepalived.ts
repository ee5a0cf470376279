// From the parsed keepalived.conf (src/config/keepalived/model.ts) to the VRRP room's VrrpConfig, so the
// daemon runs VRRP with:  new VrrpProcess(resolveVrrpConfig(vrrpConfigFromKeepalived(model)).vrrp, host).
// The model already applied keepalived's fix-ups (and reported them with file:line:col); resolving
// again is idempotent, so the daemon should only surface the resolver's errors (and ignore its warnings,
// which the config diagnostics already gave).
import type { IpAddress, IpRoute, IpRule, KeepalivedConfig, ScriptSpec, TrackRef as ModelTrackRef, VrrpNotify } from '../config/keepalived/model.ts';
import type { NotifyScriptConfig, TrackRef, VrrpConfig, VrrpInstanceConfig, VrrpSyncGroupConfig } from './config.ts';

function quote(w: string): string {
  return /[\s"']/.test(w) || w === '' ? `"${w.replace(/"/g, '\\"')}"` : w;
}

/** A script as the one-line text config.ts splits again. */
export function scriptText(s: ScriptSpec | null): string | undefined {
  return s ? s.args.map(quote).join(' ') : undefined;
}

export function ipAddressText(a: IpAddress): string {
  const w = [`${a.addr.text}/${a.prefixLen}`];
  if (a.dev) w.push('dev', a.dev);
  if (a.broadcast) w.push('brd', a.broadcast);
  if (a.scope) w.push('scope', a.scope);
  if (a.label) w.push('label', a.label);
  if (a.peer) w.push('peer', a.peer.text);
  w.push(...a.flags);
  if (a.preferredLft !== null) w.push('preferred_lft', String(a.preferredLft));
  if (a.noTrack) w.push('no_track');
  return w.join(' ');
}

export function ipRouteText(r: IpRoute): string {
  const w: string[] = [];
  const type = r.options.get('type');
  if (r.blackhole) w.push('blackhole');
  else if (type) w.push(type);
  if (r.src) w.push('src', r.src.text);
  w.push(r.dst);
  if (r.via) w.push('via', r.via.text);
  if (r.dev) w.push('dev', r.dev);
  for (const [k, v] of r.options) {
    if (k === 'type' || k === 'track_group') continue;
    w.push(k);
    if (v !== '') w.push(v);
  }
  return w.join(' ');
}

export function ipRuleText(r: IpRule): string {
  const w: string[] = [];
  if (r.options.has('not')) w.push('not');
  if (r.from) w.push('from', r.from);
  if (r.to) w.push('to', r.to);
  if (r.table) w.push('table', r.table);
  if (r.priority) w.push('priority', String(r.priority));
  for (const [k, v] of r.options) {
    if (k === 'not' || k === 'no_track') continue;
    if (k === 'action') {
      w.push(v);
      continue;
    }
    w.push(k);
    if (v !== '') w.push(v);
  }
  return w.join(' ');
}

function refs(list: readonly ModelTrackRef[]): TrackRef[] {
  return list.map((t) => ({ name: t.name, ...(t.weight !== null ? { weight: t.weight } : {}), ...(t.reverse ? { reverse: true } : {}) }));
}

/** A notify command with the `USER [GROUP]` written after it (run as that account, vrrp_notify.c). */
function notifyScript(s: ScriptSpec | null): NotifyScriptConfig | undefined {
  const text = scriptText(s);
  if (text === undefined || !s?.user) return text;
  return { script: text, user: { user: s.user, ...(s.group ? { group: s.group } : {}) } };
}

function notify(n: VrrpNotify) {
  return {
    notify_master: notifyScript(n.master), notify_backup: notifyScript(n.backup), notify_fault: notifyScript(n.fault),
    notify_stop: notifyScript(n.stop), notify: notifyScript(n.generic),
  };
}

export function vrrpConfigFromKeepalived(m: KeepalivedConfig): VrrpConfig {
  const g = m.globalDefs;
  const instances: VrrpInstanceConfig[] = m.vrrpInstances.map((v) => ({
    name: v.name,
    state: v.state,
    interface: v.interface ?? undefined,
    dont_track_primary: v.dontTrackPrimary,
    virtual_router_id: v.vrid,
    priority: v.priority,
    advert_int: v.advertIntUs / 1_000_000,
    version: v.version,
    authentication: v.authType && v.authPass ? { auth_type: v.authType, auth_pass: v.authPass } : undefined,
    virtual_ipaddress: v.virtualIpaddress.map(ipAddressText),
    virtual_ipaddress_excluded: v.virtualIpaddressExcluded.map(ipAddressText),
    virtual_routes: v.virtualRoutes.map(ipRouteText),
    virtual_rules: v.virtualRules.map(ipRuleText),
    mcast_src_ip: v.mcastSrcIp?.text,
    unicast_src_ip: v.unicastSrcIp?.text,
    unicast_peer: v.unicastPeers.length
      ? v.unicastPeers.map((p) => ({ address: p.addr.text, ...(p.minTtl !== null ? { min_ttl: p.minTtl } : {}), ...(p.maxTtl !== null ? { max_ttl: p.maxTtl } : {}) }))
      : undefined,
    unicast_ttl: v.unicastTtl ?? undefined,
    unicast_fault_no_peer: v.unicastFaultNoPeer,
    mcast_dst_ip: v.mcastDstIp?.text,
    check_unicast_src: v.checkUnicastSrc,
    nopreempt: v.nopreempt,
    preempt_delay: v.preemptDelayUs / 1_000_000,
    skip_check_adv_addr: v.skipCheckAdvAddr,
    strict_mode: v.strictMode,
    garp_master_delay: v.garpMasterDelayS,
    garp_master_repeat: v.garpMasterRepeat,
    garp_lower_prio_delay: v.garpLowerPrioDelayS,
    garp_lower_prio_repeat: v.garpLowerPrioRepeat,
    garp_master_refresh: v.garpMasterRefreshS,
    garp_master_refresh_repeat: v.garpMasterRefreshRepeat,
    down_timer_adverts: v.downTimerAdverts,
    lower_prio_no_advert: v.lowerPrioNoAdvert,
    higher_prio_send_advert: v.higherPrioSendAdvert,
    track_interface: refs(v.trackInterfaces),
    track_script: refs(v.trackScripts),
    track_file: refs(v.trackFiles),
    track_process: refs(v.trackProcesses),
    ...notify(v.notify),
    notify_master_rx_lower_pri: notifyScript(v.notifyMasterRxLowerPri),
    notify_deleted: v.notifyDeleted === 'send-fault' ? undefined : v.notifyDeleted === 'notify-only' ? true : notifyScript(v.notifyDeleted),
    notify_priority_changes: v.notifyPriorityChanges,
    use_vmac: v.useVmac ? (v.useVmac.name ?? true) : undefined,
    vmac_xmit_base: v.vmacXmitBase || undefined,
    use_ipvlan: v.useIpvlan ? true : undefined,
  }));
  const groups: VrrpSyncGroupConfig[] = m.vrrpSyncGroups.map((s) => ({
    name: s.name,
    group: [...s.members],
    track_interface: refs(s.trackInterfaces),
    track_script: refs(s.trackScripts),
    track_file: refs(s.trackFiles),
    track_process: refs(s.trackProcesses),
    ...notify(s.notify),
    notify_priority_changes: s.notifyPriorityChanges ?? undefined,
    sync_group_tracking_weight: s.trackingWeight,
  }));
  return {
    global_defs: {
      router_id: g.routerId,
      vrrp_version: g.vrrpVersion,
      vrrp_mcast_group4: g.vrrpMcastGroup4.text,
      vrrp_mcast_group6: g.vrrpMcastGroup6.text,
      vrrp_garp_master_delay: g.vrrpGarpMasterDelayS,
      vrrp_garp_master_repeat: g.vrrpGarpMasterRepeat,
      vrrp_garp_lower_prio_delay: g.vrrpGarpLowerPrioDelayS,
      vrrp_garp_lower_prio_repeat: g.vrrpGarpLowerPrioRepeat,
      vrrp_garp_master_refresh: g.vrrpGarpMasterRefreshS,
      vrrp_garp_master_refresh_repeat: g.vrrpGarpMasterRefreshRepeat,
      vrrp_down_timer_adverts: g.vrrpDownTimerAdverts,
      vrrp_lower_prio_no_advert: g.vrrpLowerPrioNoAdvert,
      vrrp_higher_prio_send_advert: g.vrrpHigherPrioSendAdvert,
      vrrp_check_unicast_src: g.vrrpCheckUnicastSrc,
      vrrp_skip_check_adv_addr: g.vrrpSkipCheckAdvAddr,
      vrrp_strict: g.vrrpStrict,
      vrrp_notify_priority_changes: g.vrrpNotifyPriorityChanges,
      notify_fifo: g.notifyFifo?.path,
      vrrp_notify_fifo: g.vrrpNotifyFifo?.path,
      vrrp_startup_delay: startupDelay(g.other.get('vrrp_startup_delay')),
      script_user: g.scriptUser ? { user: g.scriptUser.user, ...(g.scriptUser.group ? { group: g.scriptUser.group } : {}) } : undefined,
      enable_script_security: g.enableScriptSecurity,
      vrrp_garp_interval: g.vrrpGarpIntervalUs / 1_000_000,
      vrrp_gna_interval: g.vrrpGnaIntervalUs / 1_000_000,
    },
    garp_group: m.garpGroups.map((x) => ({
      garp_interval: x.garpIntervalUs === null ? undefined : x.garpIntervalUs / 1_000_000,
      gna_interval: x.gnaIntervalUs === null ? undefined : x.gnaIntervalUs / 1_000_000,
      interfaces: [...x.interfaces],
    })),
    vrrp_script: m.vrrpScripts.map((s) => ({
      name: s.name, script: scriptText(s.script) ?? '', interval: s.intervalS, timeout: s.timeoutS, weight: s.weight,
      reverse: s.weightReverse, rise: s.rise, fall: s.fall, init_fail: s.initFail,
      user: s.script.user ? { user: s.script.user, ...(s.script.group ? { group: s.script.group } : {}) } : undefined,
    })),
    track_file: m.trackFiles.map((f) => ({
      name: f.name, file: f.file, weight: f.weight, reverse: f.weightReverse,
      init_file: f.initFile ? { value: f.initFile.value, overwrite: f.initFile.overwrite } : undefined,
    })),
    vrrp_sync_group: groups,
    vrrp_track_process: m.trackProcesses.map((p) => ({
      name: p.name, process: p.process, params: [...p.params], param_match: p.paramMatch ?? undefined,
      weight: p.weight, reverse: p.weightReverse, full_command: p.fullCommand,
      // The loader keeps quorum_max 0 for "not set" unless quorum_max 0 was written (then quorum is 0 too).
      quorum: p.quorum, quorum_max: p.quorumMax === 0 && p.quorum > 0 ? undefined : p.quorumMax,
      fork_delay: p.forkDelayUs / 1_000_000, terminate_delay: p.terminateDelayUs / 1_000_000,
    })),
    vrrp_instance: instances,
  };
}

/** vrrp_startup_delay SECONDS is kept as written by the loader (global_parser.c: a decimal, µs precision). */
function startupDelay(words: readonly string[] | undefined): number | undefined {
  const v = words?.[0] === undefined ? Number.NaN : Number(words[0]);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}
