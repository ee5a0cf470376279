// The VRRP side of keepalived.conf: vrrp_instance, vrrp_sync_group, vrrp_script, track_file,
// vrrp_track_process, garp_group, static_ipaddress/routes/rules, track_group,
// interface_up_down_delays, linkbeat_interfaces and bfd_instance (keepalived/vrrp/vrrp_parser.c,
// vrrp_data.c, vrrp_track.c, keepalived/trackers/track_file.c, keepalived/bfd/bfd_parser.c).
// Parsed and checked here; the VRRP room acts on the model.
import type { KeywordSpec, Statement } from '../tree.ts';
import { table } from '../tree.ts';
import type { ParseCtx, SyncGroupDraft, VrrpDraft } from './context.ts';
import { inetStoSockaddr, newNotify } from './context.ts';
import { parseIpAddress, parseIpRoute, parseIpRule } from './ipaddress.ts';
import { isMulticast } from './global.ts';
import { UINT_MAX, INT_MAX, checkTrueFalse } from '../numbers.ts';
import type { Token } from '../lexer.ts';
import type { TrackRef } from '../model.ts';
import type { SourcePos } from '../diagnostics.ts';

type K = KeywordSpec<ParseCtx>;

export function inst(c: ParseCtx): VrrpDraft {
  return c.instances[c.instances.length - 1];
}

function group(c: ParseCtx): SyncGroupDraft {
  return c.syncGroups[c.syncGroups.length - 1];
}

// ---------------------------------------------------------------- tracking blocks

type TrackKind = 'interface' | 'script' | 'file' | 'process' | 'bfd';

/** vrrp_track.c: alloc_track_if / alloc_track_script / track_file.c: vrrp_alloc_track_file / ... */
function trackRef(c: ParseCtx, owner: string, kind: TrackKind, words: readonly Token[], list: TrackRef[]): void {
  const name = words[0].text;
  const label = kind === 'interface' ? 'track_interface' : kind === 'script' ? 'track script' : kind === 'file' ? 'track file' : kind === 'process' ? 'track process' : 'track bfd';
  if (kind === 'interface') {
    if (!c.interfaceExists(name)) return c.report(words[0], `(${owner}) tracked interface ${name} doesn't exist`, { code: 'NO_SUCH_INTERFACE', keyword: 'track_interface' });
  } else {
    const known = kind === 'script' ? c.vrrpScripts.some((s) => s.name === name)
      : kind === 'file' ? c.trackFiles.some((f) => f.name === name)
        : kind === 'process' ? c.trackProcesses.some((p) => p.name === name) : c.bfdInstances.some((b) => b.name === name);
    if (!known) return c.report(words[0], `(${owner}) ${label} ${name} not found, ignoring...`, { code: 'NOT_FOUND', keyword: `track_${kind}`, expected: `a ${kind === 'bfd' ? 'bfd_instance' : kind === 'script' ? 'vrrp_script' : kind === 'file' ? 'track_file' : 'vrrp_track_process'} defined before this instance` });
  }
  if (list.some((r) => r.name === name)) return c.report(words[0], `(${owner}) duplicate ${kind === 'interface' ? 'track_interface' : `track_${kind}`} ${name} - ignoring`, { code: 'DUPLICATE', keyword: `track_${kind}` });
  let weight: number | null = kind === 'interface' ? 0 : null;
  let reverse = false;
  if (words.length >= 2) {
    if (words[1].text !== 'weight') return c.report(words[1], `(${owner}) unknown ${kind === 'interface' ? `track_interface ${name}` : `${label}`} option ${words[1].text} - ignoring`, { keyword: `track_${kind}`, expected: 'weight W [reverse]' });
    if (words.length === 2) return c.report(words[1], `(${owner}) weight without value specified for ${kind === 'interface' ? 'track_interface' : label} ${name} - ignoring`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: `track_${kind}` });
    const st = { keyword: words[0], args: words.slice(1), line: null as never } as Statement;
    const w = c.int(st, 2, -254, 254);
    if (w === null) {
      c.report(words[2], kind === 'interface' ? `(${owner}) weight ${words[2].text} for ${name} must be between [-253..253] inclusive. Ignoring...` : `(${owner}) ${label} ${name}: weight must be between [-253..253] inclusive, ignoring...`, { code: 'OUT_OF_RANGE', keyword: `track_${kind}` });
      weight = kind === 'interface' ? 0 : null;
    } else if ((w === 254 || w === -254) && (kind === 'interface' || kind === 'script')) {
      c.report(words[2], `(${owner}) weight for ${name} cannot be +/-254. Setting to +/-253`, { code: 'ADJUSTED', keyword: `track_${kind}` });
      weight = w > 0 ? 253 : -253;
    } else {
      weight = w;
    }
    if (words.length >= 4) {
      if (words[3].text === 'reverse') reverse = true;
      else if (words[3].text !== 'noreverse' || kind === 'interface') c.report(words[3], `(${owner}) unknown ${kind === 'interface' ? 'track_interace' : `track_${kind}`} ${name} weight option ${words[3].text} - ignoring`, { keyword: `track_${kind}`, expected: 'reverse' });
    }
  }
  list.push({ name, weight, reverse, at: words[0].at });
}

function trackBlock(kind: TrackKind, pick: (c: ParseCtx) => { name: string; list: TrackRef[] }): K {
  return {
    name: `track_${kind}`,
    handler: (c, st, w) => {
      const { name, list } = pick(c);
      for (const line of w.valueBlock(st)) trackRef(c, name, kind, line, list);
    },
  };
}

const TRACK_FIELDS = { interface: 'trackInterfaces', script: 'trackScripts', file: 'trackFiles', process: 'trackProcesses', bfd: 'trackBfds' } as const;

// ---------------------------------------------------------------- notify scripts

type NotifyField = 'master' | 'backup' | 'fault' | 'stop' | 'generic';

function notifyKw(name: string, field: NotifyField, pick: (c: ParseCtx) => { label: string; notify: Record<NotifyField, unknown> }): K {
  return {
    name, args: 1,
    handler: (c, st) => {
      const { label, notify } = pick(c);
      if (notify[field]) return c.report(st.args[0], `${label} ${name === 'notify' ? 'notify' : name} script already specified - ignoring ${st.args[0].text}`, { code: 'DUPLICATE', keyword: name });
      notify[field] = c.notifyScript(st);
    },
  };
}

// ---------------------------------------------------------------- vrrp_instance

const optBoolInst = (name: string, set: (v: VrrpDraft, b: boolean) => void): K => ({
  name,
  handler: (c, st) => {
    const v = inst(c);
    const b = c.optBool(st, `(${v.name}) invalid ${name} ${st.args[0]?.text} specified`);
    if (b !== null) set(v, b);
  },
});

const uintInst = (name: string, min: number, max: number, msg: (v: VrrpDraft, t: string) => string, set: (v: VrrpDraft, n: number, c: ParseCtx, st: Statement) => void): K => ({
  name, args: 1,
  handler: (c, st) => {
    const v = inst(c);
    const n = c.uint(st, 1, min, max);
    if (n === null) return c.report(st.args[0], msg(v, st.args[0].text), { keyword: name, expected: `${min}..${max}` });
    set(v, n, c, st);
  },
});

function srcIp(c: ParseCtx, st: Statement, field: 'unicastSrcIp' | 'mcastSrcIp'): void {
  const v = inst(c);
  const a = inetStoSockaddr(st.args[0].text, null);
  if (!a) return c.report(st.args[0], `Configuration error: VRRP instance[${v.name}] malformed src address[${st.args[0].text}]. Skipping...`, { code: 'INVALID_ADDRESS', keyword: st.keyword.text });
  if (v.family === null) v.family = a.addr.family;
  else if (v.family !== a.addr.family) return c.report(st.args[0], `Configuration error: VRRP instance[${v.name}] and src address[${st.args[0].text}] MUST be of the same family !!! Skipping...`, { code: 'CONFLICT', keyword: st.keyword.text });
  v[field] = a.addr;
  v.saddrFromConfig = true;
}

function vip(c: ParseCtx, words: readonly Token[], excluded: boolean): void {
  const v = inst(c);
  const a = parseIpAddress(c, words, false);
  if (!a) return;
  if (excluded) {
    v.evips.push(a);
    return;
  }
  if (v.family === null) v.family = a.addr.family;
  else if (a.addr.family !== v.family) return c.report(words[0], `(${v.name}): address family must match VRRP instance [${words[0].text}] - ignoring`, { code: 'CONFLICT', keyword: 'virtual_ipaddress' });
  v.vips.push(a);
}

const garpRepeat = (name: string, set: (v: VrrpDraft, n: number) => void, zeroToOne: boolean): K => uintInst(name, 0, name === 'garp_lower_prio_repeat' ? INT_MAX : UINT_MAX,
  (v, t) => name === 'garp_lower_prio_repeat' ? `(${v.name}): Invalid garp_lower_prio_repeat '${t}'` : `(${v.name}): ${name} '${t}' invalid - ignoring`,
  (v, n, c, st) => {
    if (zeroToOne && n === 0) {
      c.report(st.args[0], `(${v.name}): ${name} must be greater than 0, setting to 1`, { code: 'ADJUSTED', keyword: name });
      n = 1;
    }
    set(v, n);
  });

const INSTANCE_KEYWORDS: K[] = [
  {
    name: 'use_vmac',
    handler: (c, st) => {
      const v = inst(c);
      const vm = v.useVmac ?? { name: null, mac: null };
      for (const a of st.args.slice(0, 2)) {
        if (a.text.includes(':')) {
          if (!/^([0-9A-Fa-f]{1,2}:){3,5}[0-9A-Fa-f]{0,2}:?$/.test(a.text)) c.report(a, `VMAC invalid MAC address ${a.text} - ignored`, { code: 'INVALID_ADDRESS', keyword: 'use_vmac' });
          else vm.mac = a.text;
        } else if (a.text.length >= 16 || /[/:\s]/.test(a.text) || a.text === '.' || a.text === '..') {
          c.report(a, `VMAC interface name '${a.text}' too long or invalid characters - ignoring`, { keyword: 'use_vmac' });
        } else if (c.instances.some((o) => o !== v && o.useVmac?.name === a.text)) {
          c.report(a, `(${v.name}) VRRP instance ${c.instances.find((o) => o.useVmac?.name === a.text)!.name} is already using ${a.text} - ignoring name`, { code: 'DUPLICATE', keyword: 'use_vmac' });
        } else {
          vm.name = a.text;
        }
      }
      v.useVmac = vm;
    },
  },
  { name: 'use_vmac_addr', handler: () => {} },
  { name: 'vmac_xmit_base', handler: (c) => { inst(c).vmacXmitBase = true; } },
  { name: 'use_ipvlan', handler: (c, st) => { inst(c).useIpvlan = st.args.map((a) => a.text); } },
  {
    name: 'unicast_peer',
    handler: (c, st, w) => {
      const v = inst(c);
      v.unicastConfigured = true;
      for (const line of w.valueBlock(st)) {
        const a = inetStoSockaddr(line[0].text, null);
        if (!a) { c.report(line[0], `Configuration error: VRRP instance[${v.name}] malformed unicast peer address[${line[0].text}]. Skipping...`, { code: 'INVALID_ADDRESS', keyword: 'unicast_peer' }); continue; }
        if (v.family === null) v.family = a.addr.family;
        else if (a.addr.family !== v.family) { c.report(line[0], `Configuration error: VRRP instance[${v.name}] and unicast peer address[${line[0].text}] MUST be of the same family !!! Skipping...`, { code: 'CONFLICT', keyword: 'unicast_peer' }); continue; }
        let minTtl: number | null = null;
        let maxTtl: number | null = null;
        for (let i = 1; i < line.length; i += 2) {
          if (i + 1 >= line.length) { c.report(line[i], `(${v.name}) ${line[i].text} is missing a value`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'unicast_peer' }); break; }
          const st2 = { keyword: line[0], args: line.slice(1), line: st.line } as Statement;
          const n = c.uint(st2, i + 1, 0, 255);
          if (n === null) continue;
          if (line[i].text === 'min_ttl') minTtl = n;
          else if (line[i].text === 'max_ttl') maxTtl = n;
          else { c.report(line[i], `(${v.name}) unknown unicast_peer option ${line[i].text}`, { keyword: 'unicast_peer', expected: 'min_ttl or max_ttl' }); break; }
          v.checkUnicastSrc = true;
        }
        if ((minTtl ?? 0) > (maxTtl ?? 255)) c.report(line[0], `(${v.name}) min_ttl ${minTtl} > max_ttl ${maxTtl} - all packets will be discarded`, { code: 'CONFLICT', keyword: 'unicast_peer' });
        v.unicastPeers.push({ addr: a.addr, minTtl, maxTtl, at: line[0].at });
      }
    },
  },
  { name: 'unicast_fault_no_peer', handler: (c) => { const v = inst(c); v.unicastConfigured = true; v.unicastFaultNoPeer = true; } },
  { name: 'check_unicast_src', handler: (c) => { const v = inst(c); v.unicastConfigured = true; v.checkUnicastSrc = true; } },
  {
    name: 'old_unicast_checksum',
    handler: (c, st) => {
      const v = inst(c);
      v.unicastConfigured = true;
      if (st.args.length > 0 && st.args[0].text !== 'never') c.report(st.args[0], `(${v.name}) Unknown old_unicast_chksum mode ${st.args[0].text} - ignoring`, { keyword: 'old_unicast_checksum', expected: 'never' });
    },
  },
  {
    name: 'native_ipv6',
    handler: (c, st) => {
      const v = inst(c);
      if (v.family === 4) return c.report(st.keyword, `(${v.name}) Cannot specify native_ipv6 with IPv4 addresses`, { code: 'CONFLICT', keyword: 'native_ipv6' });
      v.family = 6;
      v.version = 3;
    },
  },
  {
    name: 'state', args: 1,
    handler: (c, st) => {
      const v = inst(c);
      const s = st.args[0].text;
      if (s === 'MASTER') v.state = 'MASTER';
      else if (s === 'BACKUP') {
        if (v.state === 'MASTER') c.report(st.args[0], `(${v.name}) state previously set as MASTER - ignoring BACKUP`, { code: 'CONFLICT', keyword: 'state' });
        else v.state = 'BACKUP';
      } else {
        c.report(st.args[0], `(${v.name}) unknown state '${s}', defaulting to BACKUP`, { keyword: 'state', expected: 'MASTER or BACKUP' });
        v.state = 'BACKUP';
      }
    },
  },
  {
    name: 'interface', args: 1,
    handler: (c, st) => {
      const v = inst(c);
      const n = st.args[0].text;
      if (n.length >= 16) return c.report(st.args[0], `Interface name '${n}' too long - ignoring`, { keyword: 'interface', expected: 'at most 15 characters' });
      v.interface = n;
      v.interfaceOk = true;
      if (!c.interfaceExists(n)) {
        v.interfaceOk = false;
        c.report(st.args[0], `WARNING - interface ${n} for vrrp_instance ${v.name} doesn't exist`, { code: 'NO_SUCH_INTERFACE', keyword: 'interface' });
      } else if (c.isLoopback(n)) {
        c.report(st.args[0], `(${v.name}) cannot use a loopback interface (${n}) for vrrp - ignoring`, { code: 'CONFLICT', keyword: 'interface', expected: 'a non-loopback interface' });
        v.interface = null;
        v.interfaceOk = false;
      }
    },
  },
  { name: 'vrf', args: 1, handler: () => {} },
  { name: 'dont_track_primary', handler: (c) => { inst(c).dontTrackPrimary = true; } },
  ...(['interface', 'script', 'file', 'process', 'bfd'] as const).map((kind) => trackBlock(kind, (c) => ({ name: inst(c).name, list: inst(c)[TRACK_FIELDS[kind]] }))),
  { name: 'mcast_src_ip', args: 1, handler: (c, st) => srcIp(c, st, 'mcastSrcIp') },
  { name: 'unicast_src_ip', args: 1, handler: (c, st) => { inst(c).unicastConfigured = true; srcIp(c, st, 'unicastSrcIp'); } },
  {
    name: 'mcast_dst_ip', args: 1,
    handler: (c, st) => {
      const v = inst(c);
      const a = inetStoSockaddr(st.args[0].text, null);
      if (!a) return c.report(st.args[0], `(${v.name}) malformed mcast dest address ${st.args[0].text}. Skipping...`, { code: 'INVALID_ADDRESS', keyword: 'mcast_dst_ip' });
      if (v.family === null) v.family = a.addr.family;
      else if (v.family !== a.addr.family) return c.report(st.args[0], `(${v.name}) mcast dest address ${st.args[0].text} MUST match VRRP instance family. Skipping...`, { code: 'CONFLICT', keyword: 'mcast_dst_ip' });
      const linkLocalMc = a.addr.family === 6 && a.addr.bytes[0] === 0xff && (a.addr.bytes[1] & 0x0f) === 2;
      if ((a.addr.family === 4 && !isMulticast(a.addr)) || (a.addr.family === 6 && !linkLocalMc)) {
        return c.report(st.args[0], `(${v.name}) mcast_dst_ip ${st.args[0].text} not${a.addr.family === 6 ? ' link-local' : ''} multicast. Skipping...`, { code: 'INVALID_ADDRESS', keyword: 'mcast_dst_ip' });
      }
      v.mcastDstIp = a.addr;
    },
  },
  { name: 'track_src_ip', handler: (c) => { inst(c).trackSrcIp = true; } },
  uintInst('virtual_router_id', 1, 255, (v, t) => `(${v.name}): VRID '${t}' not valid - must be between 1 & 255`, (v, n) => { v.vrid = n; }),
  uintInst('unicast_ttl', 0, 255, (v, t) => `(${v.name}): TTL '${t}' not valid - must be between 0 & 255`, (v, n) => { v.unicastTtl = n; }),
  {
    name: 'version', args: 1,
    handler: (c, st) => {
      const v = inst(c);
      const n = c.int(st, 1, 2, 3);
      if (n === null) return c.report(st.args[0], `(${v.name}): Version must be either 2 or 3`, { keyword: 'version', expected: '2 or 3' });
      if ((v.version !== undefined && v.version !== n) || (n === 2 && v.family === 6)) {
        return c.report(st.args[0], `(${v.name}) vrrp_version ${n} conflicts with configured or deduced version ${v.version ?? 0}; ignoring.`, { code: 'CONFLICT', keyword: 'version' });
      }
      v.version = n as 2 | 3;
    },
  },
  {
    name: 'priority', args: 1,
    handler: (c, st) => {
      const v = inst(c);
      const n = c.uint(st, 1, 1, 255);
      if (n === null) {
        c.report(st.args[0], `(${v.name}) Priority not valid! must be between 1 & 255. Using default 100`, { code: 'ADJUSTED', keyword: 'priority', expected: '1..255' });
        v.priority = 100;
      } else {
        v.priority = n;
      }
    },
  },
  {
    name: 'advert_int', args: 1,
    handler: (c, st) => {
      const v = inst(c);
      const n = c.decimal(st, 1, 10000, 255 * 1e6, 6);
      if (n === null || n <= 0) return c.report(st.args[0], `(${v.name}) Advert interval (${st.args[0].text}) not valid! Must be > 0 - ignoring`, { keyword: 'advert_int', expected: '0.01..255 seconds' });
      v.advertIntUs = n;
    },
  },
  { name: 'virtual_ipaddress', handler: (c, st, w) => { for (const l of w.valueBlock(st)) vip(c, l, false); } },
  { name: 'virtual_ipaddress_excluded', handler: (c, st, w) => { for (const l of w.valueBlock(st)) vip(c, l, true); } },
  { name: 'no_virtual_ipaddress', handler: () => {} },
  { name: 'promote_secondaries', handler: (c) => { inst(c).promoteSecondaries = true; } },
  { name: 'linkbeat_use_polling', handler: (c, st) => c.report(st.keyword, `(${inst(c).name}) 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block`, { code: 'DEPRECATED', keyword: 'linkbeat_use_polling' }) },
  {
    name: 'virtual_routes',
    handler: (c, st, w) => {
      for (const l of w.valueBlock(st)) {
        const r = parseIpRoute(c, l, false);
        if (r) inst(c).routes.push(r);
      }
    },
  },
  {
    name: 'virtual_rules',
    handler: (c, st, w) => {
      for (const l of w.valueBlock(st)) {
        const r = parseIpRule(c, l);
        if (r) inst(c).rules.push(r);
      }
    },
  },
  { name: 'accept', handler: (c) => { inst(c).accept = true; } },
  { name: 'no_accept', handler: (c) => { inst(c).accept = false; } },
  {
    name: 'skip_check_adv_addr',
    handler: (c, st) => {
      const v = inst(c);
      if (st.args.length > 0 && checkTrueFalse(st.args[0].text) === null) return c.report(st.args[0], `(${v.name}) invalid skip_check_adv_addr ${st.args[0].text} specified`, { keyword: 'skip_check_adv_addr' });
      // keepalived sets the flag for any valid value, even "false".
      v.skipCheckAdvAddr = true;
    },
  },
  optBoolInst('strict_mode', (v, b) => { v.strictMode = b; }),
  { name: 'preempt', handler: (c) => { inst(c).nopreempt = false; } },
  { name: 'nopreempt', handler: (c) => { inst(c).nopreempt = true; } },
  {
    name: 'preempt_delay', args: 1,
    handler: (c, st) => {
      const v = inst(c);
      const n = c.decimal(st, 1, 0, 1000 * 1e6, 6);
      if (n === null) {
        c.report(st.args[0], `(${v.name}) Preempt_delay not valid! must be between 0-1000`, { keyword: 'preempt_delay', expected: '0..1000 seconds' });
        v.preemptDelayUs = 0;
      } else {
        v.preemptDelayUs = n;
      }
    },
  },
  {
    name: 'debug', args: 1,
    handler: (c, st) => {
      const v = inst(c);
      const n = c.uint(st, 1, 0, 4);
      if (n === null) return c.report(st.args[0], `(${v.name}) Debug value '${st.args[0].text}' not valid; must be between 0-4`, { keyword: 'debug' });
      v.debug = n;
    },
  },
  ...([['notify_backup', 'backup'], ['notify_master', 'master'], ['notify_fault', 'fault'], ['notify_stop', 'stop'], ['notify', 'generic']] as const)
    .map(([name, field]) => notifyKw(name, field, (c) => ({ label: `(${inst(c).name})`, notify: inst(c).notify }))),
  {
    name: 'notify_deleted',
    handler: (c, st) => {
      const v = inst(c);
      if (v.notifyDeleted !== 'send-fault') return c.report(st.args[0] ?? st.keyword, `(${v.name}) notify_deleted already specified - ignoring ${st.args[0]?.text ?? ''}`, { code: 'DUPLICATE', keyword: 'notify_deleted' });
      v.notifyDeleted = st.args.length > 0 ? c.notifyScript(st) ?? 'notify-only' : 'notify-only';
    },
  },
  {
    name: 'notify_master_rx_lower_pri', args: 1,
    handler: (c, st) => {
      const v = inst(c);
      if (v.notifyMasterRxLowerPri) return c.report(st.args[0], `(${v.name}) notify_master_rx_lower_pri script already specified - ignoring ${st.args[0].text}`, { code: 'DUPLICATE', keyword: 'notify_master_rx_lower_pri' });
      v.notifyMasterRxLowerPri = c.notifyScript(st);
    },
  },
  {
    name: 'smtp_alert',
    handler: (c, st) => {
      const v = c.optBool(st, `Invalid vrrp_instance smtp_alert parameter ${st.args[0]?.text}`);
      if (v !== null) inst(c).smtpAlert = v;
    },
  },
  {
    name: 'notify_priority_changes',
    handler: (c, st) => {
      const v = inst(c);
      const b = c.optBool(st, `(${v.name}) Invalid value '${st.args[0]?.text}' for notify_priority_changes specified`);
      if (b !== null) v.notifyPriorityChanges = b;
    },
  },
  {
    name: 'lvs_sync_daemon_interface', args: 1,
    handler: (c, st) => {
      const v = inst(c);
      c.report(st.keyword, `(${v.name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated.`, { code: 'DEPRECATED', keyword: 'lvs_sync_daemon_interface' });
      c.report(st.keyword, `      ${' '.repeat(Math.max(0, v.name.length - 2))}Please use global lvs_sync_daemon`, { code: 'DEPRECATED', keyword: 'lvs_sync_daemon_interface', expected: 'lvs_sync_daemon IFACE inst NAME in global_defs' });
      if (c.global.lvsSyncDaemon) return c.report(st.args[0], `(${v.name}) lvs_sync_daemon_interface has already been specified as ${c.global.lvsSyncDaemon.interface} - ignoring`, { code: 'DUPLICATE', keyword: 'lvs_sync_daemon_interface' });
      c.global.lvsSyncDaemon = { interface: st.args[0].text, instance: v.name, syncId: null, maxlen: null, port: null, ttl: null, group: null, at: st.keyword.at };
    },
  },
  uintInst('garp_master_delay', 0, Math.floor(UINT_MAX / 1e6), (v, t) => `(${v.name}): garp_master_delay '${t}' invalid - ignoring`, (v, n) => { v.garpMasterDelayS = n; }),
  {
    name: 'garp_master_refresh', args: 1,
    handler: (c, st) => {
      const v = inst(c);
      const n = c.uint(st, 1, 0, UINT_MAX);
      if (n === null) c.report(st.args[0], `(${v.name}): Invalid garp_master_refresh '${st.args[0].text}' - ignoring`, { keyword: 'garp_master_refresh' });
      v.garpMasterRefreshS = n ?? 0;
    },
  },
  garpRepeat('garp_master_repeat', (v, n) => { v.garpMasterRepeat = n; }, true),
  garpRepeat('garp_master_refresh_repeat', (v, n) => { v.garpMasterRefreshRepeat = n; }, true),
  uintInst('garp_lower_prio_delay', 0, Math.floor(UINT_MAX / 1e6), (v, t) => `(${v.name}): garp_lower_prio_delay '${t}' invalid - ignoring`, (v, n) => { v.garpLowerPrioDelayS = n; }),
  garpRepeat('garp_lower_prio_repeat', (v, n) => { v.garpLowerPrioRepeat = n; }, false),
  uintInst('down_timer_adverts', 1, 100, (v, t) => `(${v.name}): Invalid down_timer_adverts [1:100] '${t}'`, (v, n) => { v.downTimerAdverts = n; }),
  ...['garp_extra_if', 'vmac_garp_intvl'].map((name): K => ({
    name,
    handler: (c, st) => {
      const v = inst(c);
      if (name === 'vmac_garp_intvl') c.report(st.keyword, 'Keyword "vmac_garp_intvl" is deprecated - please use "garp_extra_if"', { code: 'DEPRECATED', klass: 'DEPRECATED', keyword: name });
      let all = false;
      let delay: number | null = null;
      for (let i = 1; i <= st.args.length; i++) {
        if (st.args[i - 1].text === 'all') { all = true; continue; }
        const n = c.uint(st, i, 0, 86400);
        if (n === null) return c.report(st.args[i - 1], `(${v.name}): ${name} '${st.args[i - 1].text}' invalid - ignoring`, { keyword: name });
        delay = n;
      }
      if (delay === null) return c.report(st.keyword, `(${v.name}): ${name} specified without time - ignoring`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: name });
      v.garpExtraIf = { all, intervalS: delay };
    },
  })),
  optBoolInst('lower_prio_no_advert', (v, b) => { v.lowerPrioNoAdvert = b; }),
  optBoolInst('higher_prio_send_advert', (v, b) => { v.higherPrioSendAdvert = b; }),
  {
    name: 'kernel_rx_buf_size',
    handler: (c, st) => {
      const v = inst(c);
      const n = st.args.length === 1 ? c.uint(st, 1, 0, UINT_MAX) : null;
      if (n === null) return c.report(st.args[0] ?? st.keyword, `(${v.name}) invalid kernel_rx_buf_size specified`, { keyword: 'kernel_rx_buf_size' });
      v.kernelRxBufSize = n;
    },
  },
  {
    name: 'authentication',
    sub: table([
      {
        name: 'auth_type', args: 1,
        handler: (c, st) => {
          const v = inst(c);
          const t = st.args[0].text;
          if (t === 'AH' || t === 'PASS') v.authType = t;
          else c.report(st.args[0], `(${v.name}) unknown authentication type '${t}'`, { keyword: 'auth_type', expected: 'PASS or AH' });
        },
      },
      {
        name: 'auth_pass', args: 1,
        handler: (c, st) => {
          let p = st.args[0].text;
          if (p.length > 8) {
            c.report(st.args[0], 'Truncating auth_pass to 8 characters', { code: 'ADJUSTED', keyword: 'auth_pass', expected: 'at most 8 characters' });
            p = p.slice(0, 8);
          }
          inst(c).authPass = p;
        },
      },
    ]),
  },
];

function newInstance(name: string, at: Token['at']): VrrpDraft {
  return {
    name, at, interface: null, interfaceOk: false, family: null, vrid: 0, priority: 0, advertIntUs: 0, authType: null, authPass: null,
    vips: [], evips: [], routes: [], rules: [], unicastSrcIp: null, mcastSrcIp: null, mcastDstIp: null, saddrFromConfig: false,
    unicastConfigured: false, unicastPeers: [], unicastTtl: null, unicastFaultNoPeer: false, checkUnicastSrc: false,
    useVmac: null, vmacXmitBase: false, useIpvlan: null, nopreempt: false, preemptDelayUs: 0, dontTrackPrimary: false,
    skipCheckAdvAddr: false, trackSrcIp: false, promoteSecondaries: false, trackInterfaces: [], trackScripts: [], trackFiles: [],
    trackProcesses: [], trackBfds: [], notify: newNotify(), notifyDeleted: 'send-fault', notifyMasterRxLowerPri: null,
    garpExtraIf: null, downTimerAdverts: 3, kernelRxBufSize: null, debug: 0,
  };
}

const VRRP_INSTANCE: K = {
  name: 'vrrp_instance',
  handler: (c, st) => {
    if (st.args.length !== 1) {
      c.report(st.keyword, 'vrrp_instance must have a name', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'vrrp_instance', expected: 'vrrp_instance NAME {' });
      return 'skip-block';
    }
    const name = st.args[0].text;
    if (c.instances.some((i) => i.name === name)) {
      c.report(st.args[0], `vrrp instance ${name} already defined`, { code: 'DUPLICATE', keyword: 'vrrp_instance' });
      return 'skip-block';
    }
    c.instances.push(newInstance(name, st.keyword.at));
  },
  sub: table(INSTANCE_KEYWORDS),
  close: (c) => {
    // vrrp_parser.c: vrrp_end_handler.
    const v = inst(c);
    if (v.unicastConfigured && v.useVmac) {
      if (!v.interface) {
        c.report(v.at, `(${v.name}): Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac`, { code: 'CONFLICT', keyword: 'use_vmac' });
        v.useVmac = null;
      } else if (!v.vmacXmitBase) {
        c.report(v.at, `(${v.name}) unicast with use_vmac requires vmac_xmit_base - setting`, { code: 'ADJUSTED', keyword: 'use_vmac' });
        v.vmacXmitBase = true;
      }
    }
    if (v.unicastPeers.length === 0 && v.unicastTtl !== null) {
      c.report(v.at, `(${v.name}): Cannot use unicast_ttl without unicast peers - resetting`, { code: 'CONFLICT', keyword: 'unicast_ttl' });
      v.unicastTtl = null;
    }
  },
};

// ---------------------------------------------------------------- vrrp_sync_group

const SYNC_GROUP: K = {
  name: 'vrrp_sync_group',
  handler: (c, st) => {
    if (st.args.length !== 1) {
      c.report(st.keyword, 'vrrp_sync_group must have a name - skipping', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'vrrp_sync_group' });
      return 'skip-block';
    }
    const name = st.args[0].text;
    if (c.syncGroups.some((g) => g.name === name)) {
      c.report(st.args[0], `vrrp sync group ${name} already defined`, { code: 'DUPLICATE', keyword: 'vrrp_sync_group' });
      return 'skip-block';
    }
    c.syncGroups.push({
      name, members: null, at: st.keyword.at, trackInterfaces: [], trackScripts: [], trackFiles: [], trackProcesses: [], trackBfds: [],
      notify: newNotify(), smtpAlert: null, trackingWeight: false, notifyPriorityChanges: null,
    });
  },
  sub: table([
    {
      name: 'group',
      handler: (c, st, w) => {
        const g = group(c);
        if (g.members !== null) {
          c.report(st.keyword, `Group list already specified for sync group ${g.name}`, { code: 'DUPLICATE', keyword: 'group' });
          return 'skip-block';
        }
        const names = w.valueWords(st).map((t) => t.text);
        if (names.length === 0) c.report(st.keyword, `Warning - sync group ${g.name} has empty group block`, { code: 'NOTHING_CONFIGURED', keyword: 'group' });
        else g.members = names;
      },
    },
    ...(['interface', 'script', 'file', 'process', 'bfd'] as const).map((kind) => trackBlock(kind, (c) => ({ name: group(c).name, list: group(c)[TRACK_FIELDS[kind]] }))),
    ...([['notify_backup', 'backup'], ['notify_master', 'master'], ['notify_fault', 'fault'], ['notify_stop', 'stop'], ['notify', 'generic']] as const)
      .map(([name, field]) => notifyKw(name, field, (c) => ({ label: `vrrp group ${group(c).name}:`, notify: group(c).notify }))),
    {
      name: 'smtp_alert',
      handler: (c, st) => {
        const v = c.optBool(st, `Invalid vrrp_group smtp_alert parameter ${st.args[0]?.text}`);
        if (v !== null) group(c).smtpAlert = v;
      },
    },
    {
      name: 'global_tracking',
      handler: (c, st) => {
        const g = group(c);
        c.report(st.keyword, `(${g.name}) global_tracking is deprecated. Use track_interface/script/file on the sync group`, { code: 'DEPRECATED', keyword: 'global_tracking' });
        g.trackingWeight = true;
      },
    },
    { name: 'sync_group_tracking_weight', handler: (c) => { group(c).trackingWeight = true; } },
    {
      name: 'notify_priority_changes',
      handler: (c, st) => {
        const g = group(c);
        const b = c.optBool(st, `(${g.name}) Invalid value '${st.args[0]?.text}' for sync group notify_priority_changes specified`);
        if (b !== null) g.notifyPriorityChanges = b;
      },
    },
  ]),
};

// ---------------------------------------------------------------- vrrp_script

function script(c: ParseCtx) {
  return c.vrrpScripts[c.vrrpScripts.length - 1];
}

const VRRP_SCRIPT: K = {
  name: 'vrrp_script', args: 1,
  handler: (c, st) => {
    c.vrrpScripts.push({ name: st.args[0].text, at: st.keyword.at, script: null, userSet: false, remove: false });
  },
  sub: table([
    {
      name: 'script',
      handler: (c, st) => {
        const args = c.commandLine(st);
        if (args) script(c).script = { args, user: null, group: null, at: st.args[0]?.at ?? st.keyword.at };
      },
    },
    {
      name: 'interval', args: 1,
      handler: (c, st) => {
        const s = script(c);
        let n = c.uint(st, 1, 0, Math.floor(UINT_MAX / 1e6));
        if (n === null) return c.report(st.args[0], `(${s.name}): vrrp script interval '${st.args[0].text}' must be between 1 and ${Math.floor(UINT_MAX / 1e6)} - ignoring`, { keyword: 'interval' });
        if (n === 0) { c.report(st.args[0], `(${s.name}): vrrp script interval must be greater than 0, setting to 1`, { code: 'ADJUSTED', keyword: 'interval' }); n = 1; }
        s.intervalS = n;
      },
    },
    {
      name: 'timeout', args: 1,
      handler: (c, st) => {
        const s = script(c);
        let n = c.uint(st, 1, 0, Math.floor(UINT_MAX / 1e6));
        if (n === null) return c.report(st.args[0], `(${s.name}): vrrp script timeout '${st.args[0].text}' invalid - ignoring`, { keyword: 'timeout' });
        if (n === 0) { c.report(st.args[0], `(${s.name}): vrrp script timeout must be greater than 0, setting to 1`, { code: 'ADJUSTED', keyword: 'timeout' }); n = 1; }
        s.timeoutS = n;
      },
    },
    {
      name: 'weight', args: 1,
      handler: (c, st) => {
        const s = script(c);
        const n = c.int(st, 1, -253, 253);
        if (n === null) c.report(st.args[0], `vrrp_script ${s.name} weight ${st.args[0].text} must be in [-253, 253]`, { keyword: 'weight', expected: '-253..253' });
        else s.weight = n;
        if (st.args.length >= 2) {
          if (st.args[1].text === 'reverse') s.weightReverse = true;
          else c.report(st.args[1], `vrrp_script ${s.name} unknown weight option ${st.args[1].text}`, { keyword: 'weight', expected: 'reverse' });
        }
      },
    },
    ...(['rise', 'fall'] as const).map((name): K => ({
      name, args: 1,
      handler: (c, st) => {
        const s = script(c);
        const n = c.uint(st, 1, 1, INT_MAX);
        if (n === null) c.report(st.args[0], `(${s.name}): vrrp script ${name} value '${st.args[0].text}' invalid, defaulting to 1`, { code: 'ADJUSTED', keyword: name });
        s[name] = n ?? 1;
      },
    })),
    {
      name: 'user', args: 1,
      handler: (c, st) => {
        const s = script(c);
        const user = st.args[0].text;
        const grp = st.args[1]?.text ?? null;
        if (!c.host.userExists(user) || (grp !== null && !c.host.groupExists(grp))) {
          c.report(st.args[0], `Unable to set uid/gid for script ${s.script?.args.join(' ') ?? '(null)'}`, { code: 'SCRIPT', keyword: 'user' });
          s.remove = true;
          return;
        }
        s.remove = false;
        s.userSet = true;
        if (s.script) s.script = { ...s.script, user, group: grp };
      },
    },
    { name: 'init_fail', handler: (c) => { script(c).initFail = true; } },
  ]),
  close: (c) => {
    const s = script(c);
    if (!s.script) {
      c.report(s.at, `No script set for vrrp_script ${s.name} - removing`, { code: 'NOTHING_CONFIGURED', keyword: 'vrrp_script', expected: 'script COMMAND' });
      s.remove = true;
    } else if (!s.remove && !s.userSet && !c.defaultScriptUser(s.script.at)) {
      c.report(s.at, `Unable to set default user for vrrp script ${s.name} - removing`, { code: 'SCRIPT', keyword: 'vrrp_script' });
      s.remove = true;
    }
    if (s.remove) c.vrrpScripts.pop();
  },
};

// ---------------------------------------------------------------- track_file, vrrp_track_process, bfd_instance

function trackFile(c: ParseCtx) {
  return c.trackFiles[c.trackFiles.length - 1];
}

const TRACK_FILE_KEYWORDS: K[] = [
  {
    name: 'file',
    handler: (c, st) => {
      const t = trackFile(c);
      if (st.args.length < 1) return c.report(st.keyword, 'track file file name missing', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'file' });
      if (t.fileSet) return c.report(st.args[0], `File already set for track file ${t.name} - ignoring ${st.args[0].text}`, { code: 'DUPLICATE', keyword: 'file' });
      t.file = st.args[0].text;
      t.fileSet = true;
    },
  },
  {
    name: 'weight',
    handler: (c, st) => {
      const t = trackFile(c);
      if (st.args.length < 1) return c.report(st.keyword, `No weight specified for track file ${t.name} - ignoring`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'weight' });
      if (t.weightSet) return c.report(st.args[0], `Weight already set for track file ${t.name} - ignoring ${st.args[0].text}`, { code: 'DUPLICATE', keyword: 'weight' });
      const n = c.int(st, 1, -254, 254);
      if (n === null) c.report(st.args[0], `Weight (${st.args[0].text}) for track_file ${t.name} must be between [-254..254] inclusive. Ignoring...`, { keyword: 'weight' });
      t.weight = n ?? 1;
      t.weightSet = n !== null && n !== 1;
      if (st.args.length >= 2) {
        if (st.args[1].text === 'reverse') t.weightReverse = true;
        else c.report(st.args[1], `track_file ${t.name} unknown weight option ${st.args[1].text}`, { keyword: 'weight', expected: 'reverse' });
      }
    },
  },
  {
    name: 'init_file',
    handler: (c, st) => {
      const t = trackFile(c);
      let value = 0;
      let overwrite = false;
      st.args.forEach((a, k) => {
        const wd = a.text.trimStart();
        if (/^[0-9-]/.test(wd)) {
          const n = c.int(st, k + 1, -(2 ** 31), 2 ** 31 - 1);
          if (n === null) c.report(a, `Track file ${t.name} init value ${wd} is invalid`, { keyword: 'init_file' });
          else if (n < -254 || n > 254) c.report(a, `Track file ${t.name} init value ${n} is outside sensible range [-254, 254]`, { code: 'OUT_OF_RANGE', keyword: 'init_file' });
          value = n ?? 0;
        } else if (wd === 'overwrite') {
          overwrite = true;
        } else {
          c.report(a, `Unknown track file init option ${wd}`, { keyword: 'init_file', expected: 'a value and/or overwrite' });
        }
      });
      t.initFile = { value, overwrite };
    },
  },
];

const trackFileRoot = (name: string): K => ({
  name, args: 1,
  handler: (c, st) => {
    if (name === 'vrrp_track_file') c.report(st.keyword, '"vrrp_track_file" is deprecated, please use "track_file"', { code: 'DEPRECATED', klass: 'OK', keyword: name, severity: 'warning' });
    const n = st.args[0].text;
    if (c.trackFiles.some((t) => t.name === n)) {
      c.report(st.args[0], `track_file ${n} already defined`, { code: 'DUPLICATE', keyword: name });
      return 'skip-block';
    }
    c.trackFiles.push({ name: n, at: st.keyword.at, fileSet: false, weightSet: false });
  },
  sub: table(TRACK_FILE_KEYWORDS),
  close: (c) => {
    const t = trackFile(c);
    if (!t.file) {
      c.report(t.at, `No file set for track_file ${t.name} - ignoring`, { code: 'NOTHING_CONFIGURED', keyword: name, expected: 'file PATH' });
      c.trackFiles.pop();
    }
  },
});

function tprocess(c: ParseCtx) {
  return c.trackProcesses[c.trackProcesses.length - 1];
}

const processDelay = (name: string, set: (p: ReturnType<typeof tprocess>, us: number) => void): K => ({
  name, args: 1,
  handler: (c, st) => {
    const p = tprocess(c);
    const n = c.decimal(st, 1, 1, 3600 * 1e6, 6);
    if (n === null) return c.report(st.args[0], `${name === 'delay' ? '' : name.replace('delay', '')}delay (${st.args[0].text}) for vrrp_track_process ${p.name} must be between [0.000001..3600] inclusive. Ignoring...`, { keyword: name });
    set(p, n);
  },
});

const VRRP_TRACK_PROCESS: K = {
  name: 'vrrp_track_process', args: 1,
  handler: (c, st) => { c.trackProcesses.push({ name: st.args[0].text, at: st.keyword.at, quorum: 1, quorumMax: 0, weight: 0 }); },
  sub: table([
    {
      name: 'process', args: 1,
      handler: (c, st) => {
        const p = tprocess(c);
        if (p.process) return c.report(st.args[0], `Process already set for track process ${p.name} - ignoring ${st.args[0].text}`, { code: 'DUPLICATE', keyword: 'process' });
        p.process = st.args[0].text;
        p.params = st.args.slice(1).map((a) => a.text);
        if (p.params.length > 0) {
          p.paramMatch ??= 'exact';
          p.fullCommand = true;
        }
      },
    },
    {
      name: 'param_match',
      handler: (c, st) => {
        const p = tprocess(c);
        const m = st.args[0]?.text;
        if (m === undefined) p.paramMatch = 'exact';
        else if (m === 'initial' || m === 'partial') p.paramMatch = m;
        else return c.report(st.args[0], `Invalid param_match type ${m} - ignoring`, { keyword: 'param_match', expected: 'initial or partial' });
        p.fullCommand = true;
      },
    },
    {
      name: 'weight',
      handler: (c, st) => {
        const p = tprocess(c);
        if (st.args.length < 1) return c.report(st.keyword, `No weight specified for track process ${p.name} - ignoring`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'weight' });
        if (p.weight) return c.report(st.args[0], `Weight already set for track process ${p.name} - ignoring ${st.args[0].text}`, { code: 'DUPLICATE', keyword: 'weight' });
        const n = c.int(st, 1, -254, 254);
        if (n === null) return c.report(st.args[0], `Weight (${st.args[0].text}) for vrrp_track_process ${p.name} must be between [-254..254] inclusive. Ignoring...`, { keyword: 'weight' });
        if (st.args.length >= 2) {
          if (st.args[1].text === 'reverse') p.weightReverse = true;
          else c.report(st.args[1], `vrrp_track_process ${p.name} unknown weight option ${st.args[1].text}`, { keyword: 'weight', expected: 'reverse' });
        }
        p.weight = n;
      },
    },
    {
      name: 'quorum', args: 1,
      handler: (c, st) => {
        const p = tprocess(c);
        const n = c.uint(st, 1, 1, 65535);
        if (n === null) return c.report(st.args[0], `Quorum (${st.args[0].text}) for vrrp_track_process ${p.name} must be between [1..65535] inclusive. Ignoring...`, { keyword: 'quorum' });
        if (p.quorumMax && n > p.quorumMax) return c.report(st.args[0], 'Quorum is greater than quorum_max - ignoring', { code: 'CONFLICT', keyword: 'quorum' });
        p.quorum = n;
      },
    },
    {
      name: 'quorum_max', args: 1,
      handler: (c, st) => {
        const p = tprocess(c);
        const n = c.uint(st, 1, 0, 65535);
        if (n === null) return c.report(st.args[0], `quorum_max (${st.args[0].text}) for vrrp_track_process ${p.name} must be between [0..65535] inclusive. Ignoring...`, { keyword: 'quorum_max' });
        if ((n || (p.quorum ?? 1) > 1) && n < (p.quorum ?? 1)) return c.report(st.args[0], 'quorum_max is less than quorum - ignoring', { code: 'CONFLICT', keyword: 'quorum_max' });
        p.quorumMax = n;
        if (n === 0) p.quorum = 0;
        else if (!p.quorum) p.quorum = 1;
      },
    },
    processDelay('delay', (p, us) => { p.terminateDelayUs = us; p.forkDelayUs = us; }),
    processDelay('terminate_delay', (p, us) => { p.terminateDelayUs = us; }),
    processDelay('fork_delay', (p, us) => { p.forkDelayUs = us; }),
    { name: 'full_command', handler: (c) => { tprocess(c).fullCommand = true; } },
  ]),
  close: (c) => {
    const p = tprocess(c);
    if (!p.process) {
      c.report(p.at, `track process '${p.name}' process name not specified`, { code: 'NOTHING_CONFIGURED', keyword: 'vrrp_track_process', expected: 'process NAME' });
      c.trackProcesses.pop();
    }
  },
};

const BFD_SETTINGS = ['source_ip', 'neighbor_ip', 'neighbour_ip', 'min_rx', 'min_tx', 'idle_tx', 'multiplier', 'passive', 'ttl', 'hoplimit', 'max_hops', 'weight', 'vrrp', 'checker'];

const BFD_INSTANCE: K = {
  name: 'bfd_instance', args: 1,
  handler: (c, st) => {
    const n = st.args[0].text;
    if (n.length >= 32) {
      c.report(st.args[0], `BFD instance name ${n} too long`, { keyword: 'bfd_instance' });
      return 'skip-block';
    }
    if (c.bfdInstances.some((b) => b.name === n)) {
      c.report(st.args[0], `BFD instance ${n} already configured`, { code: 'DUPLICATE', keyword: 'bfd_instance' });
      return 'skip-block';
    }
    c.bfdInstances.push({ name: n, at: st.keyword.at, settings: new Map() });
  },
  sub: table(BFD_SETTINGS.map((name): K => ({
    name,
    handler: (c, st) => {
      const b = c.bfdInstances[c.bfdInstances.length - 1];
      // A value out of range is reported here with its place (keepvs -t) and left out, so the BFD
      // process keeps the default, as keepalived does.
      if (st.args.length > 0 && !bfdValueOk(c, st, b.name, name)) return;
      b.settings.set(name, st.args.map((a) => a.text));
      if (name === 'max_hops') maxHopsAt.set(b, st.keyword.at);
    },
  }))),
  close: (c, st) => {
    const b = c.bfdInstances[c.bfdInstances.length - 1];
    if (!b.settings.has('neighbor_ip') && !b.settings.has('neighbour_ip')) {
      c.report(b.at, `Configuration error: BFD instance ${b.name} has no neighbor_ip, disabling instance`, { code: 'NOTHING_CONFIGURED', keyword: 'bfd_instance', expected: 'neighbor_ip ADDRESS' });
      c.bfdInstances.pop();
      return;
    }
    // bfd_parser.c: bfd_end_handler — max_hops (a uint8_t there, so -1 is 255) above the ttl/hoplimit
    // (default 255 for IPv4, 64 for IPv6) is lowered to it, reported as a configuration error.
    const ttlText = b.settings.get('hoplimit')?.[0] ?? b.settings.get('ttl')?.[0];
    const hopsText = b.settings.get('max_hops')?.[0];
    if (hopsText !== undefined) {
      const v6 = (b.settings.get('neighbor_ip') ?? b.settings.get('neighbour_ip'))?.[0]?.includes(':') ?? false;
      const ttl = ttlText !== undefined ? Number(ttlText) : v6 ? 64 : 255;
      const hops = Number(hopsText) & 0xff;
      if (hops > ttl) c.report(maxHopsAt.get(b) ?? st.keyword, `BFD instance ${b.name}: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit`, { code: 'ADJUSTED', keyword: 'max_hops' });
    }
  },
};

/** Where each instance's max_hops was written, for the end-of-block check's diagnostic. */
const maxHopsAt = new WeakMap<object, SourcePos>();

/** include/bfd.h: the interval bound, UINT32_MAX / 1000 ms, and the "max sensible" values keepalived notes. */
const BFD_INTERVAL_MAX = Math.floor(0xffffffff / 1000);
const BFD_MAX_SENSIBLE_MS = 10000;

/**
 * bfd_parser.c (keepalived 2.2.7): the range of each bfd_instance value, with keepalived's messages.
 * min_rx / min_tx / idle_tx are milliseconds with up to 3 decimals; a value above 10000 ms is
 * accepted with keepalived's "larger than max sensible" note.
 */
function bfdValueOk(c: ParseCtx, st: Statement, inst: string, name: string): boolean {
  const text = st.args[0].text;
  // keepalived prints ttl and hoplimit alike ("ttl/hoplimit value ...").
  const head = `Configuration error: BFD instance ${inst} ${name === 'ttl' || name === 'hoplimit' ? 'ttl/hoplimit' : name} value ${text} `;
  switch (name) {
    case 'min_rx':
    case 'min_tx':
    case 'idle_tx': {
      const min = name === 'idle_tx' ? 1000 : 1;
      const v = c.decimal(st, 1, min * 1000, BFD_INTERVAL_MAX * 1000, 3);
      if (v === null) {
        c.report(st.args[0], `${head}is not valid (must be in range [${min}-${BFD_INTERVAL_MAX}]), ignoring`, { keyword: name, expected: `${min}..${BFD_INTERVAL_MAX} ms` });
        return false;
      }
      if (v > BFD_MAX_SENSIBLE_MS * 1000) {
        c.report(st.args[0], `Configuration warning: BFD instance ${inst} ${name} value ${text} is larger than max sensible (${BFD_MAX_SENSIBLE_MS})`, { code: 'ADJUSTED', klass: 'OK', keyword: name, severity: 'info' });
      }
      return true;
    }
    case 'multiplier':
      if (c.uint(st, 1, 1, 255) === null) {
        c.report(st.args[0], `${head}not valid (must be in range [1-255]), ignoring`, { keyword: name, expected: '1..255' });
        return false;
      }
      return true;
    case 'ttl':
    case 'hoplimit':
      if (c.uint(st, 1, 1, 255) === null) {
        c.report(st.args[0], `${head}not valid (must be in range [1-255]), ignoring`, { keyword: name, expected: '1..255' });
        return false;
      }
      return true;
    case 'max_hops':
      if (c.int(st, 1, -1, 255) === null) {
        c.report(st.args[0], `${head}not valid (must be in range [-1-255]), ignoring`, { keyword: name, expected: '-1..255' });
        return false;
      }
      return true;
    default:
      return true;
  }
}

// ---------------------------------------------------------------- static_*, garp_group, track_group, ...

const STATIC: K[] = [
  {
    name: 'static_ipaddress',
    handler: (c, st, w) => {
      for (const l of w.valueBlock(st)) {
        const a = parseIpAddress(c, l, true);
        if (a) c.staticAddrs.push(a);
      }
    },
  },
  {
    name: 'static_routes',
    handler: (c, st, w) => {
      for (const l of w.valueBlock(st)) {
        const r = parseIpRoute(c, l, true);
        if (r) c.staticRoutes.push(r);
      }
    },
  },
  {
    name: 'static_rules',
    handler: (c, st, w) => {
      for (const l of w.valueBlock(st)) {
        const r = parseIpRule(c, l);
        if (r) c.staticRules.push(r);
      }
    },
  },
  {
    name: 'track_group',
    handler: (c, st) => {
      if (st.args.length !== 1) {
        c.report(st.keyword, 'track_group must have a name - skipping', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'track_group' });
        return 'skip-block';
      }
      if (c.trackGroups.some((g) => g.name === st.args[0].text)) {
        c.report(st.args[0], `track_group ${st.args[0].text} already defined`, { code: 'DUPLICATE', keyword: 'track_group' });
        return 'skip-block';
      }
      c.trackGroups.push({ name: st.args[0].text, members: null, at: st.keyword.at });
    },
    sub: table([{
      name: 'group',
      handler: (c, st, w) => {
        const g = c.trackGroups[c.trackGroups.length - 1];
        if (g.members !== null) {
          c.report(st.keyword, `Group list already specified for sync group ${g.name}`, { code: 'DUPLICATE', keyword: 'group' });
          return 'skip-block';
        }
        const names = w.valueWords(st).map((t) => t.text);
        if (names.length === 0) c.report(st.keyword, `Warning - track group ${g.name} has empty group block`, { code: 'NOTHING_CONFIGURED', keyword: 'group' });
        else g.members = names;
      },
    }]),
  },
  {
    name: 'garp_group',
    handler: (c, st) => { c.garpGroups.push({ interfaces: [], at: st.keyword.at, aggregation: 0 }); },
    sub: table([
      ...(['garp_interval', 'gna_interval'] as const).map((name): K => ({
        name, args: 1,
        handler: (c, st) => {
          const n = c.decimal(st, 1, 0, INT_MAX, 6);
          if (n === null) return c.report(st.args[0], `garp_group ${name} '${st.args[0].text}' invalid`, { keyword: name });
          const g = c.garpGroups[c.garpGroups.length - 1];
          if (name === 'garp_interval') g.garpIntervalUs = n;
          else g.gnaIntervalUs = n;
        },
      })),
      {
        name: 'interface', args: 1,
        handler: (c, st) => {
          const n = st.args[0].text;
          if (!c.interfaceExists(n)) return c.report(st.args[0], `WARNING - interface ${n} specified for garp_group doesn't exist`, { code: 'NO_SUCH_INTERFACE', keyword: 'interface' });
          if (c.garpGroups.some((g) => g.interfaces.includes(n))) return c.report(st.args[0], `garp_group already specified for ${n} - ignoring`, { code: 'DUPLICATE', keyword: 'interface' });
          c.garpGroups[c.garpGroups.length - 1].interfaces.push(n);
        },
      },
      {
        name: 'interfaces',
        handler: (c, st, w) => {
          const names = w.valueWords(st);
          if (names.length === 0) return c.report(st.keyword, 'Warning - empty garp_group interfaces block', { code: 'NOTHING_CONFIGURED', keyword: 'interfaces' });
          // vrrp_parser.c: an interfaces block numbers its group (the "aggregation group").
          const cur = c.garpGroups[c.garpGroups.length - 1];
          cur.aggregation = 1 + c.garpGroups.filter((x) => x !== cur && x.aggregation > 0).length;
          for (const t of names) {
            if (!c.interfaceExists(t.text)) { c.report(t, `WARNING - interface ${t.text} specified for garp_group doesn't exist`, { code: 'NO_SUCH_INTERFACE', keyword: 'interfaces' }); continue; }
            if (c.garpGroups.some((g) => g.interfaces.includes(t.text))) { c.report(t, `garp_group already specified for ${t.text} - ignoring`, { code: 'DUPLICATE', keyword: 'interfaces' }); continue; }
            c.garpGroups[c.garpGroups.length - 1].interfaces.push(t.text);
          }
        },
      },
    ]),
    close: (c) => {
      const g = c.garpGroups[c.garpGroups.length - 1];
      if (g.garpIntervalUs === undefined && g.gnaIntervalUs === undefined) {
        c.report(g.at, `garp group ${g.aggregation} does not have any delay set - removing`, { code: 'NOTHING_CONFIGURED', keyword: 'garp_group', expected: 'garp_interval or gna_interval' });
        c.garpGroups.pop();
      }
    },
  },
  {
    name: 'interface_up_down_delays',
    handler: (c, st, w) => {
      for (const l of w.valueBlock(st)) {
        // vrrp_parser.c: alloc_if_up_down_delay — an unknown interface is CONFIG_FATAL.
        if (c.host.interfaces !== null && !c.host.interfaces.has(l[0].text) && !c.global.dynamicInterfaces) {
          c.report(l[0], `unknown interface ${l[0].text} specified for up/down delay`, { code: 'NO_SUCH_INTERFACE', klass: 'FATAL', keyword: 'interface_up_down_delays' });
        }
      }
    },
  },
  {
    name: 'linkbeat_interfaces',
    handler: (c, st, w) => {
      for (const l of w.valueBlock(st)) {
        if (c.host.interfaces !== null && !c.host.interfaces.has(l[0].text) && !c.global.dynamicInterfaces) {
          c.report(l[0], `unknown interface ${l[0].text} specified for linkbeat interface`, { code: 'NO_SUCH_INTERFACE', klass: 'FATAL', keyword: 'linkbeat_interfaces' });
        } else if (l.length > 1 && (!['MII', 'ETHTOOL', 'IOCTL'].includes(l[1].text) || l.length > 2)) {
          c.report(l[1], `extra characters ${l[1].text} in linkbeat interface`, { keyword: 'linkbeat_interfaces', expected: 'MII, ETHTOOL or IOCTL' });
        }
      }
    },
  },
];

export const VRRP_TOP_LEVEL: K[] = [
  ...STATIC, SYNC_GROUP, VRRP_INSTANCE, VRRP_SCRIPT, VRRP_TRACK_PROCESS,
  trackFileRoot('track_file'), trackFileRoot('vrrp_track_file'), BFD_INSTANCE,
];

export const VRRP_SECTION_KEYWORDS = {
  vrrp_instance: INSTANCE_KEYWORDS.map((k) => k.name),
} as const;
