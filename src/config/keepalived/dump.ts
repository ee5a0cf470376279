// keepvs -d / --dump-conf: the effective configuration, written back as keepalived.conf with every
// default keepalived would apply spelled out and every fix-up already made. Reading the dump again
// gives the same configuration (the round trip is tested), so it doubles as a normaliser: what you
// see is what keepvs runs. Times are seconds; a timer keeps its microseconds as decimals.
import type {
  Checker, CheckerConnection, Forwarding, GlobalDefs, IpAddress, IpRoute, IpRule, KeepalivedConfig, ScriptSpec, TrackRef,
  VirtualServer, VrrpInstance, VrrpNotify, VrrpSyncGroup,
} from './model.ts';
import { netmaskText } from '../values.ts';
import { SVC_F } from '../../core/service.ts';

const IND = '   ';

function seconds(us: number): string {
  const s = (us / 1e6).toFixed(6).replace(/\.?0+$/, '');
  return s === '' ? '0' : s;
}

/** A word as keepalived's tokenizer reads it back: quoted when it holds blanks or is empty. */
function word(w: string): string {
  return w === '' || /[\s"{}#!]/.test(w) ? `"${w.replace(/"/g, '')}"` : w;
}

/** A script line for notify_* / script / misc_path: the command quoted as one word, then user group. */
function script(s: ScriptSpec): string {
  const cmd = s.args.map((a) => (/[\s'"\\]/.test(a) ? `'${a.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : a)).join(' ');
  const q = `"${cmd.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return [q, ...(s.user ? [s.user] : []), ...(s.user && s.group ? [s.group] : [])].join(' ');
}

function onOff(b: boolean): string {
  return b ? 'on' : 'off';
}

class Out {
  readonly lines: string[] = [];
  depth = 0;
  line(text: string): void {
    this.lines.push(`${IND.repeat(this.depth)}${text}`);
  }
  block(head: string, body: () => void): void {
    this.line(`${head} {`);
    this.depth++;
    body();
    this.depth--;
    this.line('}');
  }
}

function globalDefs(o: Out, g: GlobalDefs): void {
  o.block('global_defs', () => {
    o.line(`router_id ${word(g.routerId)}`);
    if (g.notificationEmail.length) o.block('notification_email', () => g.notificationEmail.forEach((e) => o.line(word(e))));
    o.line(`notification_email_from ${word(g.notificationEmailFrom)}`);
    if (g.smtpServer) o.line(`smtp_server ${g.smtpServer.host} ${g.smtpServer.port}`);
    if (g.smtpHeloName) o.line(`smtp_helo_name ${word(g.smtpHeloName)}`);
    o.line(`smtp_connect_timeout ${g.smtpConnectTimeoutS}`);
    if (g.smtpAlert !== null) o.line(`smtp_alert ${onOff(g.smtpAlert)}`);
    if (g.smtpAlertVrrp !== null) o.line(`smtp_alert_vrrp ${onOff(g.smtpAlertVrrp)}`);
    if (g.smtpAlertChecker !== null) o.line(`smtp_alert_checker ${onOff(g.smtpAlertChecker)}`);
    o.line(`checker_log_all_failures ${onOff(g.checkerLogAllFailures)}`);
    o.line(`checker_probe_close ${g.checkerProbeClose}`);
    o.line(`default_interface ${g.defaultInterface}`);
    if (g.dynamicInterfaces) o.line('dynamic_interfaces');
    if (g.lvsSyncDaemon) {
      const d = g.lvsSyncDaemon;
      const parts = [d.interface, ...(d.instance ? ['inst', d.instance] : []), ...(d.syncId !== null ? ['id', String(d.syncId)] : []),
        ...(d.maxlen !== null ? ['maxlen', String(d.maxlen)] : []), ...(d.port !== null ? ['port', String(d.port)] : []),
        ...(d.ttl !== null ? ['ttl', String(d.ttl)] : []), ...(d.group ? ['group', d.group.text] : [])];
      o.line(`lvs_sync_daemon ${parts.join(' ')}`);
    }
    const t = g.lvsTimeouts;
    if (t.tcp || t.tcpfin || t.udp) o.line(`lvs_timeouts tcp ${t.tcp} tcpfin ${t.tcpfin} udp ${t.udp}`);
    if (g.lvsFlush) o.line('lvs_flush');
    if (g.lvsFlushOnStop !== 'no') o.line(`lvs_flush_on_stop${g.lvsFlushOnStop === 'vs' ? ' VS' : ''}`);
    o.line(`vrrp_mcast_group4 ${g.vrrpMcastGroup4.text}`);
    o.line(`vrrp_mcast_group6 ${g.vrrpMcastGroup6.text}`);
    o.line(`vrrp_version ${g.vrrpVersion}`);
    if (g.vrrpStrict) o.line('vrrp_strict');
    o.line(`vrrp_garp_master_delay ${g.vrrpGarpMasterDelayS}`);
    o.line(`vrrp_garp_master_repeat ${g.vrrpGarpMasterRepeat}`);
    o.line(`vrrp_garp_lower_prio_delay ${g.vrrpGarpLowerPrioDelayS}`);
    o.line(`vrrp_garp_lower_prio_repeat ${g.vrrpGarpLowerPrioRepeat}`);
    o.line(`vrrp_garp_master_refresh ${g.vrrpGarpMasterRefreshS}`);
    if (g.vrrpGarpMasterRefreshRepeat > 0) o.line(`vrrp_garp_master_refresh_repeat ${g.vrrpGarpMasterRefreshRepeat}`);
    if (g.vrrpGarpIntervalUs) o.line(`vrrp_garp_interval ${seconds(g.vrrpGarpIntervalUs)}`);
    if (g.vrrpGnaIntervalUs) o.line(`vrrp_gna_interval ${seconds(g.vrrpGnaIntervalUs)}`);
    o.line(`vrrp_down_timer_adverts ${g.vrrpDownTimerAdverts}`);
    o.line(`vrrp_lower_prio_no_advert ${onOff(g.vrrpLowerPrioNoAdvert)}`);
    o.line(`vrrp_higher_prio_send_advert ${onOff(g.vrrpHigherPrioSendAdvert)}`);
    if (g.vrrpCheckUnicastSrc) o.line('vrrp_check_unicast_src');
    if (g.vrrpSkipCheckAdvAddr) o.line('vrrp_skip_check_adv_addr');
    o.line(`vrrp_notify_priority_changes ${onOff(g.vrrpNotifyPriorityChanges)}`);
    if (g.scriptUser) o.line(`script_user ${g.scriptUser.user}${g.scriptUser.group ? ` ${g.scriptUser.group}` : ''}`);
    if (g.enableScriptSecurity) o.line('enable_script_security');
    for (const [kw, f] of [['notify_fifo', g.notifyFifo], ['vrrp_notify_fifo', g.vrrpNotifyFifo], ['lvs_notify_fifo', g.lvsNotifyFifo]] as const) {
      if (!f) continue;
      if (f.path) o.line(`${kw} ${word(f.path)}`);
      if (f.script) o.line(`${kw}_script ${script(f.script)}`);
    }
    if (g.startupScript) o.line(`startup_script ${script(g.startupScript)}`);
    if (g.shutdownScript) o.line(`shutdown_script ${script(g.shutdownScript)}`);
    for (const [k, v] of g.other) o.line([k, ...v.map(word)].join(' '));
  });
}

function trackRefs(o: Out, kw: string, refs: readonly TrackRef[]): void {
  if (refs.length === 0) return;
  o.block(kw, () => {
    for (const r of refs) o.line([r.name, ...(r.weight !== null ? ['weight', String(r.weight)] : []), ...(r.reverse ? ['reverse'] : [])].join(' '));
  });
}

function notify(o: Out, n: VrrpNotify): void {
  if (n.master) o.line(`notify_master ${script(n.master)}`);
  if (n.backup) o.line(`notify_backup ${script(n.backup)}`);
  if (n.fault) o.line(`notify_fault ${script(n.fault)}`);
  if (n.stop) o.line(`notify_stop ${script(n.stop)}`);
  if (n.generic) o.line(`notify ${script(n.generic)}`);
}

function ipAddress(a: IpAddress): string {
  const parts = [`${a.addr.text}/${a.prefixLen}`];
  if (a.broadcast) parts.push('brd', a.broadcast);
  if (a.dev) parts.push('dev', a.dev);
  if (a.scope) parts.push('scope', a.scope);
  if (a.label) parts.push('label', a.label);
  if (a.peer) parts.push('peer', a.peer.text);
  parts.push(...a.flags);
  if (a.noTrack) parts.push('no_track');
  if (a.useVmac) parts.push('use_vmac');
  if (a.preferredLft !== null) parts.push('preferred_lft', String(a.preferredLft));
  if (a.trackGroup) parts.push('track_group', a.trackGroup);
  return parts.join(' ');
}

function ipRoute(r: IpRoute): string {
  const parts: string[] = [];
  const type = r.options.get('type');
  if (type && type !== 'unicast') parts.push(type);
  parts.push(r.dst);
  if (r.src) parts.push('src', r.src.text);
  if (r.via) parts.push('via', r.via.text);
  if (r.dev) parts.push('dev', r.dev);
  for (const [k, v] of r.options) if (k !== 'type' && k !== 'no_track') parts.push(...(v === '' ? [k] : [k, v]));
  if (r.noTrack) parts.push('no_track');
  return parts.join(' ');
}

function ipRule(r: IpRule): string {
  const parts: string[] = [];
  if (r.from) parts.push('from', r.from);
  if (r.to) parts.push('to', r.to);
  if (r.table) parts.push('table', r.table);
  for (const [k, v] of r.options) parts.push(...(k === 'action' ? [v] : v === '' ? [k] : [k, v]));
  parts.push('preference', String(r.priority));
  return parts.join(' ');
}

function vrrpInstance(o: Out, v: VrrpInstance): void {
  o.block(`vrrp_instance ${v.name}`, () => {
    o.line(`state ${v.state}`);
    if (v.interface) o.line(`interface ${v.interface}`);
    o.line(`virtual_router_id ${v.vrid}`);
    o.line(`priority ${v.priority}`);
    o.line(`advert_int ${seconds(v.advertIntUs)}`);
    o.line(`version ${v.version}`);
    if (v.family === 6 && v.virtualIpaddress.length === 0) o.line('native_ipv6');
    if (v.authType) {
      o.block('authentication', () => {
        o.line(`auth_type ${v.authType}`);
        if (v.authPass) o.line(`auth_pass ${word(v.authPass)}`);
      });
    }
    if (v.nopreempt) o.line('nopreempt');
    if (v.preemptDelayUs) o.line(`preempt_delay ${seconds(v.preemptDelayUs)}`);
    o.line(v.accept ? 'accept' : 'no_accept');
    o.line(`strict_mode ${onOff(v.strictMode)}`);
    if (v.dontTrackPrimary) o.line('dont_track_primary');
    if (v.skipCheckAdvAddr) o.line('skip_check_adv_addr');
    if (v.promoteSecondaries) o.line('promote_secondaries');
    if (v.mcastSrcIp) o.line(`mcast_src_ip ${v.mcastSrcIp.text}`);
    if (v.mcastDstIp) o.line(`mcast_dst_ip ${v.mcastDstIp.text}`);
    if (v.unicastSrcIp) o.line(`unicast_src_ip ${v.unicastSrcIp.text}`);
    if (v.trackSrcIp) o.line('track_src_ip');
    if (v.unicastPeers.length) {
      o.block('unicast_peer', () => {
        for (const p of v.unicastPeers) o.line([p.addr.text, ...(p.minTtl !== null ? ['min_ttl', String(p.minTtl)] : []), ...(p.maxTtl !== null ? ['max_ttl', String(p.maxTtl)] : [])].join(' '));
      });
    }
    if (v.unicastTtl !== null) o.line(`unicast_ttl ${v.unicastTtl}`);
    if (v.unicastFaultNoPeer) o.line('unicast_fault_no_peer');
    if (v.checkUnicastSrc && v.unicastPeers.every((p) => p.minTtl === null && p.maxTtl === null)) o.line('check_unicast_src');
    if (v.useVmac) o.line(['use_vmac', ...(v.useVmac.name ? [v.useVmac.name] : []), ...(v.useVmac.mac ? [v.useVmac.mac] : [])].join(' '));
    if (v.vmacXmitBase) o.line('vmac_xmit_base');
    if (v.useIpvlan) o.line(['use_ipvlan', ...v.useIpvlan].join(' '));
    trackRefs(o, 'track_interface', v.trackInterfaces);
    trackRefs(o, 'track_script', v.trackScripts);
    trackRefs(o, 'track_file', v.trackFiles);
    trackRefs(o, 'track_process', v.trackProcesses);
    trackRefs(o, 'track_bfd', v.trackBfds);
    if (v.virtualIpaddress.length) o.block('virtual_ipaddress', () => v.virtualIpaddress.forEach((a) => o.line(ipAddress(a))));
    if (v.virtualIpaddressExcluded.length) o.block('virtual_ipaddress_excluded', () => v.virtualIpaddressExcluded.forEach((a) => o.line(ipAddress(a))));
    if (v.virtualRoutes.length) o.block('virtual_routes', () => v.virtualRoutes.forEach((r) => o.line(ipRoute(r))));
    if (v.virtualRules.length) o.block('virtual_rules', () => v.virtualRules.forEach((r) => o.line(ipRule(r))));
    notify(o, v.notify);
    if (typeof v.notifyDeleted === 'object') o.line(`notify_deleted ${script(v.notifyDeleted)}`);
    else if (v.notifyDeleted === 'notify-only') o.line('notify_deleted');
    if (v.notifyMasterRxLowerPri) o.line(`notify_master_rx_lower_pri ${script(v.notifyMasterRxLowerPri)}`);
    o.line(`notify_priority_changes ${onOff(v.notifyPriorityChanges)}`);
    o.line(`smtp_alert ${onOff(v.smtpAlert)}`);
    o.line(`garp_master_delay ${v.garpMasterDelayS}`);
    o.line(`garp_master_repeat ${v.garpMasterRepeat}`);
    o.line(`garp_lower_prio_delay ${v.garpLowerPrioDelayS}`);
    o.line(`garp_lower_prio_repeat ${v.garpLowerPrioRepeat}`);
    o.line(`garp_master_refresh ${v.garpMasterRefreshS}`);
    if (v.garpMasterRefreshRepeat > 0) o.line(`garp_master_refresh_repeat ${v.garpMasterRefreshRepeat}`);
    if (v.garpExtraIf) o.line(`garp_extra_if${v.garpExtraIf.all ? ' all' : ''} ${v.garpExtraIf.intervalS}`);
    o.line(`down_timer_adverts ${v.downTimerAdverts}`);
    o.line(`lower_prio_no_advert ${onOff(v.lowerPrioNoAdvert)}`);
    o.line(`higher_prio_send_advert ${onOff(v.higherPrioSendAdvert)}`);
    if (v.kernelRxBufSize !== null) o.line(`kernel_rx_buf_size ${v.kernelRxBufSize}`);
    if (v.debug) o.line(`debug ${v.debug}`);
  });
}

function syncGroup(o: Out, g: VrrpSyncGroup): void {
  o.block(`vrrp_sync_group ${g.name}`, () => {
    o.block('group', () => g.members.forEach((m) => o.line(m)));
    trackRefs(o, 'track_interface', g.trackInterfaces);
    trackRefs(o, 'track_script', g.trackScripts);
    trackRefs(o, 'track_file', g.trackFiles);
    trackRefs(o, 'track_process', g.trackProcesses);
    trackRefs(o, 'track_bfd', g.trackBfds);
    notify(o, g.notify);
    if (g.smtpAlert !== null) o.line(`smtp_alert ${onOff(g.smtpAlert)}`);
    if (g.trackingWeight) o.line('sync_group_tracking_weight');
    if (g.notifyPriorityChanges !== null) o.line(`notify_priority_changes ${onOff(g.notifyPriorityChanges)}`);
  });
}

function forwarding(f: Forwarding): string {
  if (f.method !== 'TUN' || !f.tunnel) return f.method;
  const t = f.tunnel;
  return ['TUN', 'type', t.type, ...(t.type === 'gue' ? ['port', String(t.port)] : []), ...(t.type !== 'ipip' ? [t.csum] : [])].join(' ');
}

function connection(o: Out, c: CheckerConnection): void {
  o.line(`connect_ip ${c.ip.text}`);
  if (c.port) o.line(`connect_port ${c.port}`);
  if (c.bindto) o.line(`bindto ${c.bindto.text}`);
  if (c.bindPort !== null) o.line(`bind_port ${c.bindPort}`);
  if (c.bindIf) o.line(`bind_if ${c.bindIf}`);
  if (c.fwmark !== null) o.line(`fwmark ${c.fwmark}`);
  o.line(`connect_timeout ${seconds(c.timeoutUs)}`);
}

function checker(o: Out, ch: Checker): void {
  o.block(ch.type, () => {
    if (ch.type !== 'FILE_CHECK' && ch.type !== 'BFD_CHECK') {
      o.line(`retry ${ch.retry}`);
      o.line(`delay_before_retry ${seconds(ch.delayBeforeRetryUs)}`);
      o.line(`warmup ${seconds(ch.warmupUs)}`);
      o.line(`delay_loop ${seconds(ch.delayLoopUs)}`);
      o.line(`log_all_failures ${onOff(ch.logAllFailures)}`);
      if (ch.rise !== 1) o.line(`rise ${ch.rise}`);
      if (ch.fall !== 1) o.line(`fall ${ch.fall}`);
      if (ch.probeClose !== null) o.line(`probe_close ${ch.probeClose}`);
    }
    if (ch.type !== 'FILE_CHECK') o.line(`alpha ${onOff(ch.alpha)}`);
    switch (ch.type) {
      case 'TCP_CHECK':
      case 'PING_CHECK':
        connection(o, ch.connection);
        break;
      case 'HTTP_GET':
      case 'SSL_GET':
        connection(o, ch.connection);
        if (ch.virtualhost) o.line(`virtualhost ${word(ch.virtualhost)}`);
        o.line(`http_protocol ${ch.httpProtocol}`);
        if (ch.type === 'SSL_GET') o.line(`enable_sni ${onOff(ch.enableSni)}`);
        o.line(`fast_recovery ${onOff(ch.fastRecovery)}`);
        for (const u of ch.urls) {
          o.block('url', () => {
            o.line(`path ${word(u.path)}`);
            if (u.digest) o.line(`digest ${u.digest}`);
            o.line(`status_code ${u.statusCodes.map((s) => (s.min === s.max ? String(s.min) : `${s.min}-${s.max}`)).join(' ')}`);
            if (u.virtualhost) o.line(`virtualhost ${word(u.virtualhost)}`);
            if (u.regex !== null) o.line(`regex ${word(u.regex)}`);
            if (u.regexNoMatch) o.line('regex_no_match');
            if (u.regexOptions.length) o.line(`regex_options ${u.regexOptions.join(' ')}`);
            if (u.regexMinOffset) o.line(`regex_min_offset ${u.regexMinOffset}`);
            if (u.regexMaxOffset) o.line(`regex_max_offset ${u.regexMaxOffset - 1}`);
          });
        }
        break;
      case 'MISC_CHECK':
        o.line(`misc_path ${script({ ...ch.script, user: null, group: null })}`);
        if (ch.script.user) o.line(`user ${ch.script.user}${ch.script.group ? ` ${ch.script.group}` : ''}`);
        if (ch.timeoutS !== null) o.line(`misc_timeout ${ch.timeoutS}`);
        if (ch.dynamic) o.line('misc_dynamic');
        break;
      case 'DNS_CHECK':
        connection(o, ch.connection);
        o.line(`type ${ch.queryType}`);
        if (ch.name) o.line(`name ${ch.name}`);
        break;
      case 'SMTP_CHECK':
        connection(o, ch.connection);
        if (ch.heloName) o.line(`helo_name ${word(ch.heloName)}`);
        for (const h of ch.hosts) o.block('host', () => connection(o, h));
        break;
      case 'UDP_CHECK':
        connection(o, ch.connection);
        if (ch.payload) o.line(`payload ${ch.payload}`);
        if (ch.requireReply) o.line(`require_reply${ch.replyData ? ` ${ch.replyData}` : ''}`);
        o.line(`min_reply_length ${ch.minReplyLength}`);
        o.line(`max_reply_length ${ch.maxReplyLength}`);
        break;
      case 'FILE_CHECK':
        o.line(`track_file ${ch.trackFile}`);
        o.line(`weight ${ch.weight}${ch.weightReverse ? ' reverse' : ''}`);
        break;
      case 'BFD_CHECK':
        o.line(`name ${ch.name}`);
        break;
    }
  });
}

function virtualServer(o: Out, v: VirtualServer): void {
  const head = v.target.kind === 'addr' ? `virtual_server ${v.target.addr.text} ${v.target.port}`
    : v.target.kind === 'fwmark' ? `virtual_server fwmark ${v.target.fwmark}` : `virtual_server group ${v.target.name}`;
  o.block(head, () => {
    if (v.target.kind !== 'addr') o.line(`ip_family ${v.family === 6 ? 'inet6' : 'inet'}`);
    if (v.protocol) o.line(`protocol ${v.protocol.toUpperCase()}`);
    o.line(`lvs_sched ${v.scheduler}`);
    const sh = v.scheduler === 'sh' || v.scheduler === 'mh' ? v.scheduler : null;
    if (v.flags & SVC_F.ONEPACKET) o.line('ops');
    if (v.flags & SVC_F.SCHED1) o.line(sh ? `${sh}-fallback` : 'flag-1');
    if (v.flags & SVC_F.SCHED2) o.line(sh ? `${sh}-port` : 'flag-2');
    if (v.flags & SVC_F.SCHED3) o.line('flag-3');
    if (v.hashed && sh) o.line('hashed');
    o.line(`lvs_method ${forwarding(v.forwarding)}`);
    if (v.persistenceTimeout) o.line(`persistence_timeout ${v.persistenceTimeout}`);
    if (v.persistenceGranularity !== null) o.line(`persistence_granularity ${netmaskText(v.persistenceGranularity, v.family)}`);
    if (v.persistenceEngine) o.line(`persistence_engine ${v.persistenceEngine}`);
    o.line(`delay_loop ${seconds(v.delayLoopUs)}`);
    o.line(`connect_timeout ${seconds(v.connectTimeoutUs)}`);
    if (v.retry !== null) o.line(`retry ${v.retry}`);
    if (v.delayBeforeRetryUs !== null) o.line(`delay_before_retry ${seconds(v.delayBeforeRetryUs)}`);
    if (v.warmupUs !== null) o.line(`warmup ${seconds(v.warmupUs)}`);
    if (v.haSuspend) o.line('ha_suspend');
    o.line(`smtp_alert ${onOff(v.smtpAlert)}`);
    if (v.virtualhost) o.line(`virtualhost ${word(v.virtualhost)}`);
    if (v.alpha) o.line('alpha');
    if (v.omega) o.line('omega');
    o.line(`quorum ${Math.max(1, v.quorum)}`);
    o.line(`hysteresis ${v.hysteresis}`);
    if (v.quorumUp) o.line(`quorum_up ${script(v.quorumUp)}`);
    if (v.quorumDown) o.line(`quorum_down ${script(v.quorumDown)}`);
    o.line(`weight ${v.weight}`);
    if (v.inhibitOnFailure) o.line('inhibit_on_failure');
    if (v.sorryServer) {
      const s = v.sorryServer;
      o.line(`sorry_server ${s.addr.text}${s.port ? ` ${s.port}` : ''}`);
      if (s.inhibit) o.line('sorry_server_inhibit');
      o.line(`sorry_server_lvs_method ${forwarding(s.forwarding)}`);
    }
    for (const r of v.realServers) {
      o.block(`real_server ${r.addr.text}${r.port ? ` ${r.port}` : ''}`, () => {
        o.line(`weight ${r.weight}`);
        o.line(`lvs_method ${forwarding(r.forwarding)}`);
        if (r.uthreshold) o.line(`uthreshold ${r.uthreshold}`);
        if (r.lthreshold) o.line(`lthreshold ${r.lthreshold}`);
        o.line(`inhibit_on_failure ${onOff(r.inhibitOnFailure)}`);
        o.line(`alpha ${onOff(r.alpha)}`);
        if (r.retry !== null) o.line(`retry ${r.retry}`);
        o.line(`connect_timeout ${seconds(r.connectTimeoutUs)}`);
        o.line(`delay_loop ${seconds(r.delayLoopUs)}`);
        if (r.delayBeforeRetryUs !== null) o.line(`delay_before_retry ${seconds(r.delayBeforeRetryUs)}`);
        if (r.warmupUs !== null) o.line(`warmup ${seconds(r.warmupUs)}`);
        o.line(`smtp_alert ${onOff(r.smtpAlert)}`);
        if (r.virtualhost) o.line(`virtualhost ${word(r.virtualhost)}`);
        if (r.notifyUp) o.line(`notify_up ${script(r.notifyUp)}`);
        if (r.notifyDown) o.line(`notify_down ${script(r.notifyDown)}`);
        for (const ch of r.checkers) checker(o, ch);
      });
    }
  });
}

/** The whole effective configuration as keepalived.conf text. */
export function dumpKeepalivedConfig(cfg: KeepalivedConfig): string {
  const o = new Out();
  o.line(`# keepvs --dump-conf: the effective configuration read from ${cfg.files.join(', ')}`);
  o.line('# (keepalived 2.2 defaults filled in, its fix-ups applied; times in seconds)');
  for (const [k, v] of cfg.topLevel) o.line([k, ...v.map(word)].join(' '));
  globalDefs(o, cfg.globalDefs);
  if (cfg.ssl) {
    const s = cfg.ssl;
    o.block('SSL', () => {
      if (s.password) o.line(`password ${word(s.password)}`);
      if (s.ca) o.line(`ca ${word(s.ca)}`);
      if (s.certificate) o.line(`certificate ${word(s.certificate)}`);
      if (s.key) o.line(`key ${word(s.key)}`);
    });
  }
  if (cfg.staticIpaddress.length) o.block('static_ipaddress', () => cfg.staticIpaddress.forEach((x) => o.line(ipAddress(x))));
  if (cfg.staticRoutes.length) o.block('static_routes', () => cfg.staticRoutes.forEach((r) => o.line(ipRoute(r))));
  if (cfg.staticRules.length) o.block('static_rules', () => cfg.staticRules.forEach((r) => o.line(ipRule(r))));
  for (const g of cfg.garpGroups) {
    o.block('garp_group', () => {
      if (g.garpIntervalUs !== null) o.line(`garp_interval ${seconds(g.garpIntervalUs)}`);
      if (g.gnaIntervalUs !== null) o.line(`gna_interval ${seconds(g.gnaIntervalUs)}`);
      if (g.interfaces.length) o.block('interfaces', () => g.interfaces.forEach((i) => o.line(i)));
    });
  }
  for (const b of cfg.bfdInstances) o.block(`bfd_instance ${b.name}`, () => { for (const [k, v] of b.settings) o.line([k, ...v].join(' ')); });
  for (const t of cfg.trackFiles) {
    o.block(`track_file ${t.name}`, () => {
      o.line(`file ${word(t.file)}`);
      o.line(`weight ${t.weight}${t.weightReverse ? ' reverse' : ''}`);
      if (t.initFile) o.line(`init_file ${t.initFile.value}${t.initFile.overwrite ? ' overwrite' : ''}`);
    });
  }
  for (const p of cfg.trackProcesses) {
    o.block(`vrrp_track_process ${p.name}`, () => {
      o.line(['process', p.process, ...p.params].map(word).join(' '));
      if (p.paramMatch === 'initial' || p.paramMatch === 'partial') o.line(`param_match ${p.paramMatch}`);
      if (p.weight) o.line(`weight ${p.weight}${p.weightReverse ? ' reverse' : ''}`);
      o.line(`quorum ${p.quorum}`);
      if (p.quorumMax) o.line(`quorum_max ${p.quorumMax}`);
      if (p.forkDelayUs) o.line(`fork_delay ${seconds(p.forkDelayUs)}`);
      if (p.terminateDelayUs) o.line(`terminate_delay ${seconds(p.terminateDelayUs)}`);
      if (p.fullCommand) o.line('full_command');
    });
  }
  for (const s of cfg.vrrpScripts) {
    o.block(`vrrp_script ${s.name}`, () => {
      o.line(`script ${script({ ...s.script, user: null, group: null })}`);
      if (s.script.user) o.line(`user ${s.script.user}${s.script.group ? ` ${s.script.group}` : ''}`);
      o.line(`interval ${s.intervalS}`);
      o.line(`timeout ${s.timeoutS}`);
      o.line(`weight ${s.weight}${s.weightReverse ? ' reverse' : ''}`);
      o.line(`rise ${s.rise}`);
      o.line(`fall ${s.fall}`);
      if (s.initFail) o.line('init_fail');
    });
  }
  for (const v of cfg.vrrpInstances) vrrpInstance(o, v);
  for (const g of cfg.vrrpSyncGroups) syncGroup(o, g);
  for (const g of cfg.virtualServerGroups) {
    o.block(`virtual_server_group ${g.name}`, () => {
      for (const r of g.ranges) o.line(`${r.text}${r.port ? ` ${r.port}` : ''}`);
      for (const f of g.fwmarks) o.line(`fwmark ${f.fwmark}${f.family ? ` inet${f.family === 6 ? '6' : ''}` : ''}`);
    });
  }
  for (const v of cfg.virtualServers) virtualServer(o, v);
  return `${o.lines.join('\n')}\n`;
}
