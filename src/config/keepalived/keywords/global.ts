// global_defs and the top-level keywords the parent process reads (keepalived/core/global_parser.c:
// init_global_keywords). Keywords that keepvs does not act on yet are still checked the way
// keepalived checks them and kept, as written, in GlobalDefs.other.
import type { KeywordSpec } from '../tree.ts';
import { table } from '../tree.ts';
import type { ParseCtx } from './context.ts';
import { inetStoSockaddr, probeCloseMode, pton } from './context.ts';
import { checkTrueFalse, UINT_MAX, INT_MAX } from '../numbers.ts';
import { INCLUDE } from '../preprocess.ts';

type K = KeywordSpec<ParseCtx>;

const words = (st: { args: readonly { text: string }[] }): string[] => st.args.map((a) => a.text);

/** Record the keyword as written. */
function keep(c: ParseCtx, name: string, args: string[]): void {
  c.global.other.set(name, args);
}

/** A keyword that takes nothing (or ignores what it gets): recorded as present. */
const flag = (name: string): K => ({ name, handler: (c, st) => keep(c, name, words(st)) });

/** A keyword whose handler reads word 1 without checking: missing it is fatal in keepalived. */
const needs1 = (name: string): K => ({ name, args: 1, handler: (c, st) => keep(c, name, words(st)) });

/** An optional on/off value (keyword alone = on). */
const optBool = (name: string, invalid: (v: string) => string): K => ({
  name,
  handler: (c, st) => {
    if (st.args.length > 0 && checkTrueFalse(st.args[0].text) === null) {
      c.report(st.args[0], invalid(st.args[0].text), { keyword: name, expected: 'on|off|true|false|yes|no' });
      return;
    }
    keep(c, name, words(st));
  },
});

/** read_unsigned on word 1 with keepalived's message on failure. */
type St = Parameters<NonNullable<K['handler']>>[1];

const uintKw = (name: string, min: number, max: number, invalid: (v: string) => string, set?: (c: ParseCtx, v: number, st: St) => void): K => ({
  name, args: 1,
  handler: (c, st) => {
    const v = c.uint(st, 1, min, max);
    if (v === null) {
      c.report(st.args[0], invalid(st.args[0].text), { keyword: name, code: 'OUT_OF_RANGE', expected: `a whole number in [${min}, ${max}]` });
      return;
    }
    if (set) set(c, v, st);
    else keep(c, name, words(st));
  },
});

/** The "0 means 1" repeat counters (vrrp_garp_master_repeat ...). */
const repeatKw = (name: string, set: (c: ParseCtx, v: number) => void): K => uintKw(name, 0, UINT_MAX, (v) => `${name} '${v}' invalid - ignoring`, (c, v, st) => {
  if (v === 0) {
    c.report(st.args[0], `${name} must be greater than 0, setting to 1`, { code: 'ADJUSTED', keyword: name });
    v = 1;
  }
  set(c, v);
});

const processName = (name: string): K => ({
  name, args: 1,
  handler: (c, st) => {
    if (st.args[0].text.length >= 16) c.report(st.args[0], `Process name ${st.args[0].text} more than 15 characters, truncating`, { code: 'ADJUSTED', keyword: name });
    keep(c, name, [st.args[0].text.slice(0, 15)]);
  },
});

/** *_priority: a nice value -20..19. */
const nicePriority = (name: string, proc: string): K => ({
  name,
  handler: (c, st) => {
    if (st.args.length < 1) return c.report(st.keyword, `No ${proc} process priority specified`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: name });
    if (c.int(st, 1, -20, 19) === null) return c.report(st.args[0], `Invalid ${proc} process priority specified`, { keyword: name, expected: '-20..19' });
    keep(c, name, words(st));
  },
});

/** *_rt_priority: SCHED_RR 1..99, clamped with a message. */
const rtPriority = (name: string, proc: string): K => ({
  name,
  handler: (c, st) => {
    if (st.args.length < 1) return c.report(st.keyword, `No ${proc} process real-time priority specified`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: name });
    const v = c.int(st, 1, -(2 ** 31), 2 ** 31 - 1);
    if (v === null) return c.report(st.args[0], `${proc} process real-time priority '${st.args[0].text}' invalid`, { keyword: name });
    if (v < 1) c.report(st.args[0], `${proc} process real-time priority ${v} less than minimum 1 - setting to minimum`, { code: 'ADJUSTED', keyword: name });
    else if (v > 99) c.report(st.args[0], `${proc} process real-time priority ${v} greater than maximum 99 - setting to maximum`, { code: 'ADJUSTED', keyword: name });
    keep(c, name, [String(Math.min(99, Math.max(1, v)))]);
  },
});

const cpuAffinity = (name: string, proc: string): K => ({
  name,
  handler: (c, st) => {
    if (st.args.length < 1) return c.report(st.keyword, `No ${proc} cpu_id set specified`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: name });
    for (let i = 1; i <= st.args.length; i++) {
      const v = c.int(st, i, 0, 4095);
      if (v === null) return c.report(st.args[i - 1], `Invalid cpu_id:${st.args[i - 1].text} specified for ${proc} process`, { keyword: name });
    }
    keep(c, name, words(st));
  },
});

const rlimit = (name: string, proc: string): K => uintKw(name, 1, UINT_MAX, (v) => `Invalid ${proc} real-time limit - ${v}`);

const fifo = (name: string, type: string, field: 'notifyFifo' | 'vrrpNotifyFifo' | 'lvsNotifyFifo'): K => ({
  name,
  handler: (c, st) => {
    if (st.args.length < 1) return c.report(st.keyword, `No ${type}notify_fifo name specified`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: name });
    const cur = c.global[field];
    if (cur) return c.report(st.args[0], `${type}notify_fifo already specified - ignoring ${st.args[0].text}`, { code: 'DUPLICATE', keyword: name });
    c.global[field] = { path: st.args[0].text, script: null };
  },
});

const fifoScript = (name: string, type: string, field: 'notifyFifo' | 'vrrpNotifyFifo' | 'lvsNotifyFifo'): K => ({
  name,
  handler: (c, st) => {
    if (st.args.length < 1) return c.report(st.keyword, `No ${type}notify_fifo_script specified`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: name });
    const cur = c.global[field];
    if (cur?.script) return c.report(st.args[0], `${type}notify_fifo_script already specified - ignoring ${st.args[0].text}`, { code: 'DUPLICATE', keyword: name });
    const script = c.notifyScript(st);
    c.global[field] = { path: cur?.path ?? '', script };
  },
});

function lvsTimeouts(c: ParseCtx, st: Parameters<NonNullable<K['handler']>>[1]): void {
  if (st.args.length < 2) return c.report(st.keyword, 'lvs_timeouts requires at least one option', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'lvs_timeouts', expected: 'tcp SECS, tcpfin SECS or udp SECS' });
  const t = { tcp: 0, tcpfin: 0, udp: 0, ...c.global.lvsTimeouts };
  for (let i = 1; i <= st.args.length; i++) {
    const w = st.args[i - 1].text;
    if (w === 'tcp' || w === 'tcpfin' || w === 'udp') {
      if (i === st.args.length) {
        c.report(st.args[i - 1], `No value specified for lvs_timeout ${w} - ignoring`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'lvs_timeouts' });
        continue;
      }
      const v = c.uint(st, i + 1, 0, 86400 * 31);
      if (v === null) c.report(st.args[i], `Invalid lvs_timeout ${w} (${st.args[i].text}) - ignoring`, { keyword: 'lvs_timeouts' });
      else t[w] = v;
      i++;
      continue;
    }
    c.report(st.args[i - 1], `Unknown option ${w} specified for lvs_timeouts`, { keyword: 'lvs_timeouts', expected: 'tcp, tcpfin or udp' });
  }
  c.global.lvsTimeouts = t;
}

function lvsSyncDaemon(c: ParseCtx, st: Parameters<NonNullable<K['handler']>>[1]): void {
  const kw = 'lvs_sync_daemon';
  if (c.global.lvsSyncDaemon) return c.report(st.keyword, `lvs_sync_daemon has already been specified as ${c.global.lvsSyncDaemon.interface} ${c.global.lvsSyncDaemon.instance ?? ''} - ignoring`, { code: 'DUPLICATE', keyword: kw });
  if (st.args.length < 1) return c.report(st.keyword, 'lvs_sync_daemon requires interface', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: kw });
  if (st.args[0].text.length >= 16) return c.report(st.args[0], `lvs_sync_daemon interface name '${st.args[0].text}' too long - ignoring`, { keyword: kw });
  const d = { interface: st.args[0].text, instance: null as string | null, syncId: null as number | null, maxlen: null as number | null, port: null as number | null, ttl: null as number | null, group: null as ReturnType<typeof pton>, at: st.keyword.at };
  for (let i = 2; i <= st.args.length; i++) {
    const w = st.args[i - 1].text;
    const valued = ['inst', 'id', 'maxlen', 'port', 'ttl', 'group'];
    if (valued.includes(w)) {
      if (i === st.args.length) {
        c.report(st.args[i - 1], w === 'id' ? 'No value specified for lvs_sync_daemon id, defaulting to vrid' : `No value specified for lvs_sync_daemon ${w} - ignoring`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: kw });
        continue;
      }
      const v = st.args[i];
      if (w === 'inst') {
        if (d.instance !== null) c.report(v, `lvs_sync_daemon vrrp instance has already been specified as ${d.instance} - ignoring`, { code: 'DUPLICATE', keyword: kw });
        else d.instance = v.text;
      } else if (w === 'group') {
        const a = inetStoSockaddr(v.text, null);
        if (!a) c.report(v, `Invalid lvs_sync_daemon group (${v.text}) - ignoring`, { code: 'INVALID_ADDRESS', keyword: kw });
        else if (!isMulticast(a.addr)) c.report(v, `lvs_sync_daemon group address ${v.text} is not multicast - ignoring`, { code: 'INVALID_ADDRESS', keyword: kw });
        else d.group = a.addr;
      } else {
        const [min, max] = w === 'id' ? [0, 255] : w === 'maxlen' ? [1, 65535 - 20 - 8] : w === 'port' ? [1, 65535] : [1, 255];
        const n = c.uint(st, i + 1, min, max);
        if (n === null) c.report(v, w === 'id' ? `Invalid syncid (${v.text}) - defaulting to vrid` : `Invalid lvs_sync_daemon ${w} (${v.text}) - ignoring`, { keyword: kw });
        else if (w === 'id') d.syncId = n;
        else if (w === 'maxlen') d.maxlen = n;
        else if (w === 'port') d.port = n;
        else d.ttl = n;
      }
      i++;
      continue;
    }
    // Backward compatibility: lvs_sync_daemon IF VRRP_INSTANCE [SYNC_ID].
    if (i === 2) { d.instance = w; continue; }
    if (i === 3) {
      const n = c.uint(st, 3, 0, 255);
      if (n === null) c.report(st.args[2], `Invalid syncid (${w}) - defaulting to vrid`, { keyword: kw });
      else {
        c.report(st.args[2], 'Please use keyword "id" before lvs_sync_daemon SYNCID', { code: 'DEPRECATED', keyword: kw });
        d.syncId = n;
      }
      continue;
    }
    c.report(st.args[i - 1], `Unknown option ${w} specified for lvs_sync_daemon`, { keyword: kw, expected: 'inst, id, maxlen, port, ttl or group' });
  }
  c.global.lvsSyncDaemon = d;
}

export function isMulticast(a: { family: 4 | 6; bytes: Uint8Array }): boolean {
  return a.family === 4 ? (a.bytes[0] & 0xf0) === 0xe0 : a.bytes[0] === 0xff;
}

function mcastGroup(name: string, family: 4 | 6): K {
  return {
    name, args: 1,
    handler: (c, st) => {
      const v = st.args[0];
      const a = inetStoSockaddr(v.text, null);
      if (!a) return c.report(v, `Can't parse ${name} [${v.text}]. Skipping`, { code: 'INVALID_ADDRESS', keyword: name });
      if (a.addr.family !== family) return c.report(v, `${name} [${v.text}] is not IPv${family}. Skipping`, { code: 'INVALID_ADDRESS', keyword: name });
      if (!isMulticast(a.addr)) return c.report(v, `${name} [${v.text}] is not multicast. Skipping`, { code: 'INVALID_ADDRESS', keyword: name });
      // An IPv6 group should be link-local scope (ff02::/16); keepalived warns (CONFIG_WARNING).
      if (family === 6 && (a.addr.bytes[1] & 0x0f) !== 2) c.report(v, `${name} [${v.text}] should be link-local multicast.`, { klass: 'WARNING', keyword: name, severity: 'warning' });
      if (family === 4) c.global.vrrpMcastGroup4 = a.addr;
      else c.global.vrrpMcastGroup6 = a.addr;
    },
  };
}

/** lib/parser.c: include_check_set. */
function includeCheck(c: ParseCtx, st: Parameters<NonNullable<K['handler']>>[1]): void {
  if (st.args.length === 0) {
    c.pre.includeCheck = INCLUDE.R | INCLUDE.M | INCLUDE.W | INCLUDE.B;
    return;
  }
  st.args.forEach((tok, k) => {
    const w = tok.text;
    let mode = 0;
    let off = 1;
    if (w[0] === '-') mode = -1;
    else if (w[0] === '+') mode = 1;
    else {
      off = 0;
      if (k === 0) c.pre.includeCheck = 0;
      else return c.report(tok, `Duplicate include_check '${w}' specified - ignoring`, { code: 'DUPLICATE', keyword: 'include_check' });
    }
    const names: Record<string, number> = { read: INCLUDE.R, match: INCLUDE.M, wildcard_match: INCLUDE.W, brace_match: INCLUDE.B };
    const bit = names[w.slice(off)];
    if (bit === undefined) return c.report(tok, `Unknown include_check type '${w.slice(off)}' - ignoring`, { keyword: 'include_check', expected: '[+|-]read, match, wildcard_match or brace_match' });
    if (mode === 0) c.pre.includeCheck = INCLUDE.R | bit;
    else if (mode === 1) c.pre.includeCheck |= bit;
    else c.pre.includeCheck &= ~bit;
  });
}

function scriptTimeout(name: string, type: string): K {
  return {
    name,
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, `${type}_script_timeout requires value`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: name });
      if (c.uint(st, 1, 1, 1000) === null) return c.report(st.args[0], `${type}_script_timeout '${st.args[0].text}' must be in [1, 1000] - ignoring`, { keyword: name });
      keep(c, name, words(st));
    },
  };
}

function startupScript(name: string, type: string, field: 'startupScript' | 'shutdownScript'): K {
  return {
    name,
    handler: (c, st) => {
      if (c.global[field]) return c.report(st.keyword, `${type} script already specified`, { code: 'DUPLICATE', keyword: name });
      if (st.args.length < 1) return c.report(st.keyword, `${type} script missing`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: name });
      const s = c.notifyScript(st);
      if (!s) return c.report(st.keyword, `Invalid ${type} script`, { code: 'SCRIPT', keyword: name });
      c.global[field] = s;
    },
  };
}

const GLOBAL_KEYWORDS: K[] = [
  flag('process_names'),
  processName('process_name'), processName('vrrp_process_name'), processName('checker_process_name'),
  processName('lvs_process_name'), processName('bfd_process_name'),
  {
    name: 'router_id',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'routerid name missing - ignoring', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'router_id' });
      c.global.routerId = st.args[0].text;
    },
  },
  {
    name: 'notification_email_from',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'emailfrom missing - ignoring', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'notification_email_from' });
      c.global.notificationEmailFrom = st.args[0].text;
    },
  },
  {
    name: 'smtp_server', args: 1,
    handler: (c, st) => {
      const host = st.args[0].text;
      const portTok = st.args[1];
      const port = portTok?.text ?? '25';
      const problem = portTok ? c.numberAt(portTok, 'smtp_server') : () => {};
      // An address when it parses as one; otherwise keepalived resolves it as a host name
      // (domain_stosockaddr), which keepvs leaves to the mailer. The port must be 1..65535 either way.
      const asAddr = /[-/]/.test(host) ? null : inetStoSockaddr(host, port, problem);
      const portN = Number(port);
      if (!asAddr && !(/^\d+$/.test(port) && portN >= 1 && portN <= 65535)) {
        return c.report(st.args[0], `Invalid smtp server ${host} ${port}`, { code: 'INVALID_ADDRESS', keyword: 'smtp_server', expected: 'an address or host name and a port 1..65535' });
      }
      c.global.smtpServer = { host, port: portN };
    },
  },
  { name: 'smtp_helo_name', handler: (c, st) => { if (st.args.length > 0) c.global.smtpHeloName = st.args[0].text; } },
  uintKw('smtp_connect_timeout', 0, Math.floor(UINT_MAX / 1e6), (v) => `smtp_connect_timeout '${v}' must be in [0, ${Math.floor(UINT_MAX / 1e6)}] - ignoring`, (c, v, st) => {
    if (v === 0) {
      c.report(st.args[0], 'smtp_conect_timeout must be greater than 0, setting to 1', { code: 'ADJUSTED', keyword: 'smtp_connect_timeout' });
      v = 1;
    }
    c.global.smtpConnectTimeoutS = v;
  }),
  {
    name: 'notification_email',
    handler: (c, st, w) => {
      const emails = w.valueWords(st).map((t) => t.text);
      if (emails.length === 0) return c.report(st.keyword, 'Warning - empty notification_email block', { code: 'NOTHING_CONFIGURED', keyword: 'notification_email' });
      c.global.notificationEmail = [...(c.global.notificationEmail ?? []), ...emails];
    },
  },
  ...(['smtp_alert', 'smtp_alert_vrrp', 'smtp_alert_checker'] as const).map((name): K => ({
    name,
    handler: (c, st) => {
      const v = c.optBool(st, `Invalid value '${st.args[0]?.text}' for global ${name} specified`);
      if (v === null) return;
      if (name === 'smtp_alert') c.global.smtpAlert = v;
      else if (name === 'smtp_alert_vrrp') c.global.smtpAlertVrrp = v;
      else c.global.smtpAlertChecker = v;
    },
  })),
  startupScript('startup_script', 'startup', 'startupScript'),
  scriptTimeout('startup_script_timeout', 'startup'),
  startupScript('shutdown_script', 'shutdown', 'shutdownScript'),
  scriptTimeout('shutdown_script_timeout', 'shutdown'),
  {
    name: 'max_auto_priority',
    handler: (c, st) => {
      if (st.args.length > 0 && c.int(st, 1, -1, 99) === null) return c.report(st.args[0], `max_auto_priority '${st.args[0].text}' must be in [0, 99] (or -1 to disable) - ignoring`, { keyword: 'max_auto_priority' });
      keep(c, 'max_auto_priority', words(st));
    },
  },
  {
    name: 'min_auto_priority_delay',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'min_auto_priority_delay requires delay time', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'min_auto_priority_delay' });
      if (c.int(st, 1, 1, 10000000) === null) return c.report(st.args[0], `min_auto_priority_delay '${st.args[0].text}' must be in [1, 10000000] - ignoring`, { keyword: 'min_auto_priority_delay' });
      keep(c, 'min_auto_priority_delay', words(st));
    },
  },
  {
    name: 'checker_log_all_failures',
    handler: (c, st) => {
      const v = c.optBool(st, 'Invalid value for checker_log_all_failures specified');
      if (v !== null) c.global.checkerLogAllFailures = v;
    },
  },
  // keepvs extension (keepalived 2.2 has no such keyword): how TCP_CHECK / HTTP_GET probes end; a
  // checker's own `probe_close` overrides it (docs/checkers.md, src/sys/tcp-connect.ts).
  {
    name: 'checker_probe_close', args: 1,
    handler: (c, st) => {
      const v = probeCloseMode(c, st, 'checker_probe_close');
      if (v !== null) c.global.checkerProbeClose = v;
    },
  },
  {
    name: 'dynamic_interfaces',
    handler: (c, st) => {
      c.global.dynamicInterfaces = true;
      if (st.args.length > 0 && st.args[0].text !== 'allow_if_changes') c.report(st.args[0], `Unknown dynamic_interfaces option '${st.args[0].text}'`, { keyword: 'dynamic_interfaces', expected: 'allow_if_changes' });
      keep(c, 'dynamic_interfaces', words(st));
    },
  },
  flag('no_email_faults'),
  {
    name: 'default_interface',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'default_interface requires interface name', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'default_interface' });
      c.global.defaultInterface = st.args[0].text;
    },
  },
  flag('disable_local_igmp'),
  { name: 'lvs_timeouts', handler: lvsTimeouts },
  { name: 'lvs_flush', handler: (c) => { c.global.lvsFlush = true; } },
  ...['lvs_flush_on_stop', 'lvs_flush_onstop'].map((name): K => ({
    name,
    handler: (c, st) => {
      if (st.args.length === 0) c.global.lvsFlushOnStop = 'full';
      else if (st.args[0].text === 'VS') c.global.lvsFlushOnStop = 'vs';
      else c.report(st.args[0], `Unknown lvs_flush_on_stop type ${st.args[0].text}`, { keyword: name, expected: 'VS' });
    },
  })),
  { name: 'lvs_sync_daemon', handler: lvsSyncDaemon },
  mcastGroup('vrrp_mcast_group4', 4),
  mcastGroup('vrrp_mcast_group6', 6),
  uintKw('vrrp_garp_master_delay', 0, Math.floor(UINT_MAX / 1e6), (v) => `vrrp_garp_master_delay '${v}' invalid - ignoring`, (c, v) => { c.global.vrrpGarpMasterDelayS = v; }),
  repeatKw('vrrp_garp_master_repeat', (c, v) => { c.global.vrrpGarpMasterRepeat = v; }),
  uintKw('vrrp_garp_master_refresh', 0, UINT_MAX, (v) => `Invalid vrrp_garp_master_refresh '${v}' - ignoring`, (c, v) => { c.global.vrrpGarpMasterRefreshS = v; }),
  repeatKw('vrrp_garp_master_refresh_repeat', (c, v) => { c.global.vrrpGarpMasterRefreshRepeat = v; }),
  uintKw('vrrp_garp_lower_prio_delay', 0, Math.floor(UINT_MAX / 1e6), (v) => `vrrp_garp_lower_prio_delay '${v}' invalid - ignoring`, (c, v) => { c.global.vrrpGarpLowerPrioDelayS = v; }),
  uintKw('vrrp_garp_lower_prio_repeat', 0, INT_MAX, (v) => `Invalid vrrp_garp_lower_prio_repeat '${v}'`, (c, v) => { c.global.vrrpGarpLowerPrioRepeat = v; }),
  uintKw('vrrp_down_timer_adverts', 1, 100, (v) => `Invalid vrrp_down_timer_adverts [1:100] '${v}'`, (c, v) => { c.global.vrrpDownTimerAdverts = v; }),
  ...(['vrrp_garp_interval', 'vrrp_gna_interval'] as const).map((name): K => ({
    name, args: 1,
    handler: (c, st) => {
      const v = c.decimal(st, 1, 1, UINT_MAX, 6);
      if (v === null) return c.report(st.args[0], `${name} '${st.args[0].text}' is invalid`, { keyword: name, expected: 'seconds, at least 0.000001' });
      if (name === 'vrrp_garp_interval') c.global.vrrpGarpIntervalUs = v;
      else c.global.vrrpGnaIntervalUs = v;
    },
  })),
  {
    name: 'vrrp_min_garp',
    handler: (c, st) => {
      if (st.args.length > 0 && checkTrueFalse(st.args[0].text) === null) return c.report(st.args[0], 'Invalid value for vrrp_min_garp specified', { keyword: 'vrrp_min_garp' });
      if (st.args.length > 0 && checkTrueFalse(st.args[0].text) === false) return;
      // One gratuitous ARP, no repeats, unless set explicitly.
      c.global.vrrpGarpMasterRepeat ??= 1;
      c.global.vrrpGarpMasterRefreshS ??= 0;
      c.global.vrrpGarpMasterRefreshRepeat ??= 0;
      c.global.vrrpGarpMasterDelayS ??= 0;
    },
  },
  ...['vrrp_garp_extra_if', 'vrrp_vmac_garp_intvl'].map((name): K => ({
    name,
    handler: (c, st) => {
      if (name === 'vrrp_vmac_garp_intvl') c.report(st.keyword, 'Keyword "vrrp_vmac_garp_intvl" is deprecated - please use "vrrp_garp_extra_if"', { code: 'DEPRECATED', klass: 'DEPRECATED', keyword: name });
      let delay = 0;
      for (let i = 1; i <= st.args.length; i++) {
        if (st.args[i - 1].text === 'all') continue;
        const v = c.uint(st, i, 1, 86400);
        if (v === null) return c.report(st.args[i - 1], `${name} '${st.args[i - 1].text}' invalid - ignoring`, { keyword: name });
        delay = v;
      }
      if (!delay) return c.report(st.keyword, `${name} specified without time - ignoring`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: name });
      keep(c, 'vrrp_garp_extra_if', words(st));
    },
  })),
  ...(['vrrp_lower_prio_no_advert', 'vrrp_higher_prio_send_advert', 'vrrp_notify_priority_changes'] as const).map((name): K => ({
    name,
    handler: (c, st) => {
      const v = c.optBool(st, name === 'vrrp_notify_priority_changes' ? `Invalid value '${st.args[0]?.text}' for global vrrp_notify_priority_changes specified` : `Invalid value for ${name} specified`);
      if (v === null) return;
      if (name === 'vrrp_lower_prio_no_advert') c.global.vrrpLowerPrioNoAdvert = v;
      else if (name === 'vrrp_higher_prio_send_advert') c.global.vrrpHigherPrioSendAdvert = v;
      else c.global.vrrpNotifyPriorityChanges = v;
    },
  })),
  {
    name: 'vrrp_version', args: 1,
    handler: (c, st) => {
      const v = c.int(st, 1, 2, 3);
      if (v === null) return c.report(st.args[0], 'VRRP Error: Version must be either 2 or 3', { keyword: 'vrrp_version', expected: '2 or 3' });
      c.global.vrrpVersion = v as 2 | 3;
    },
  },
  flag('vrrp_iptables'), flag('vrrp_ipsets'), flag('nftables'), needs1('nftables_priority'), flag('nftables_ifindex'),
  flag('nftables_ipvs'), needs1('nftables_ipvs_priority'), needs1('nftables_ipvs_start_fwmark'), flag('nftables_counters'),
  { name: 'vrrp_check_unicast_src', handler: (c) => { c.global.vrrpCheckUnicastSrc = true; } },
  { name: 'vrrp_skip_check_adv_addr', handler: (c) => { c.global.vrrpSkipCheckAdvAddr = true; } },
  { name: 'vrrp_strict', handler: (c) => { c.global.vrrpStrict = true; } },
  nicePriority('vrrp_priority', 'vrrp'), nicePriority('checker_priority', 'checker'), nicePriority('bfd_priority', 'bfd'),
  flag('vrrp_no_swap'), flag('checker_no_swap'), flag('bfd_no_swap'),
  rtPriority('vrrp_rt_priority', 'vrrp'), rtPriority('checker_rt_priority', 'checker'), rtPriority('bfd_rt_priority', 'bfd'),
  cpuAffinity('vrrp_cpu_affinity', 'vrrp'), cpuAffinity('checker_cpu_affinity', 'checker'), cpuAffinity('bfd_cpu_affinity', 'bfd'),
  rlimit('vrrp_rlimit_rttime', 'vrrp'), rlimit('vrrp_rlimit_rtime', 'vrrp'), rlimit('checker_rlimit_rttime', 'checker'),
  rlimit('checker_rlimit_rtime', 'checker'), rlimit('bfd_rlimit_rttime', 'bfd'), rlimit('bfd_rlimit_rtime', 'bfd'),
  fifo('notify_fifo', '', 'notifyFifo'), fifoScript('notify_fifo_script', '', 'notifyFifo'),
  fifo('vrrp_notify_fifo', 'vrrp_', 'vrrpNotifyFifo'), fifoScript('vrrp_notify_fifo_script', 'vrrp_', 'vrrpNotifyFifo'),
  fifo('lvs_notify_fifo', 'lvs_', 'lvsNotifyFifo'), fifoScript('lvs_notify_fifo_script', 'lvs_', 'lvsNotifyFifo'),
  flag('fifo_write_vrrp_states_on_reload'),
  {
    name: 'snmp_socket',
    handler: (c, st) => {
      if (st.args.length > 1) return c.report(st.args[1], 'Too many parameters specified for snmp_socket - ignoring', { code: 'EXTRA_PARAMETER', keyword: 'snmp_socket' });
      if (st.args.length < 1) return c.report(st.keyword, 'SNMP error : snmp socket name missing', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'snmp_socket' });
      keep(c, 'snmp_socket', words(st));
    },
  },
  flag('enable_traps'), flag('enable_snmp_vrrp'), flag('enable_snmp_keepalived'), flag('enable_snmp_rfc'),
  flag('enable_snmp_rfcv2'), flag('enable_snmp_rfcv3'), flag('enable_snmp_checker'), flag('enable_dbus'),
  {
    name: 'dbus_service_name',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'dbus_service_name missing - ignoring', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'dbus_service_name' });
      keep(c, 'dbus_service_name', words(st));
    },
  },
  {
    name: 'script_user',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'No script username specified', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'script_user' });
      const user = st.args[0].text;
      const group = st.args[1]?.text ?? null;
      if (!c.host.userExists(user) || (group !== null && !c.host.groupExists(group))) {
        c.defaultUserState = 'failed';
        return c.report(st.args[0], 'Error setting global script uid/gid', { code: 'SCRIPT', keyword: 'script_user' });
      }
      c.global.scriptUser = { user, group };
    },
  },
  { name: 'enable_script_security', handler: (c) => { c.global.enableScriptSecurity = true; } },
  ...['vrrp_netlink_cmd_rcv_bufs', 'vrrp_netlink_monitor_rcv_bufs', 'process_monitor_rcv_bufs', 'lvs_netlink_cmd_rcv_bufs', 'lvs_netlink_monitor_rcv_bufs']
    .map((name) => uintKw(name, 0, UINT_MAX, (v) => `Invalid ${name} ${v}`)),
  ...['vrrp_netlink_cmd_rcv_bufs_force', 'vrrp_netlink_monitor_rcv_bufs_force', 'process_monitor_rcv_bufs_force', 'lvs_netlink_cmd_rcv_bufs_force', 'lvs_netlink_monitor_rcv_bufs_force']
    .map((name) => optBool(name, (v) => `Invalid value '${v}' for global ${name} specified`)),
  flag('rs_init_notifies'), flag('no_checker_emails'),
  {
    name: 'vrrp_rx_bufs_policy',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'vrrp_rx_bufs_policy missing', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'vrrp_rx_bufs_policy' });
      keep(c, 'vrrp_rx_bufs_policy', words(st));
    },
  },
  {
    name: 'vrrp_rx_bufs_multiplier',
    handler: (c, st) => {
      if (st.args.length !== 1) return c.report(st.keyword, 'Invalid vrrp_rx_bufs_multiplier', { keyword: 'vrrp_rx_bufs_multiplier' });
      if (c.uint(st, 1, 1, UINT_MAX) === null) return c.report(st.args[0], `Invalid vrrp_rx_bufs_multiplier ${st.args[0].text}`, { keyword: 'vrrp_rx_bufs_multiplier' });
      keep(c, 'vrrp_rx_bufs_multiplier', words(st));
    },
  },
  {
    name: 'vrrp_startup_delay', args: 1,
    handler: (c, st) => {
      if (c.decimal(st, 1, 1000, UINT_MAX, 6) === null) return c.report(st.args[0], `vrrp_startup_delay '${st.args[0].text}' is invalid`, { keyword: 'vrrp_startup_delay' });
      keep(c, 'vrrp_startup_delay', words(st));
    },
  },
  flag('log_unknown_vrids'),
  needs1('vmac_prefix'), needs1('vmac_addr_prefix'),
  {
    name: 'umask',
    handler: (c, st) => {
      const text = st.args.map((a) => a.text).join(' ');
      const ok = /^0[0-7]{0,4}$/.test(text) || /^[0-9]+$/.test(text) || /^(IRUSR|IWUSR|IXUSR|IRGRP|IWGRP|IXGRP|IROTH|IWOTH|IXOTH|IRWXU|IRWXG|IRWXO)( *\| *(IRUSR|IWUSR|IXUSR|IRGRP|IWGRP|IXGRP|IROTH|IWOTH|IXOTH|IRWXU|IRWXG|IRWXO))*$/.test(text);
      if (!ok) return c.report(st.args[0] ?? st.keyword, st.args.length === 0 ? 'umask missing bit value' : `Invalid umask value ${text}`, { keyword: 'umask', expected: 'an octal mode or IRUSR|IWGRP|... names' });
      keep(c, 'umask', words(st));
    },
  },
  uintKw('random_seed', 0, UINT_MAX, (v) => `random_seed ${v} invalid`),
  flag('reload_check_config'),
  {
    name: 'reload_time_file',
    handler: (c, st) => {
      if (st.args.length !== 1) return c.report(st.keyword, 'reload_time_file invalid', { keyword: 'reload_time_file', expected: 'one file name' });
      keep(c, 'reload_time_file', words(st));
    },
  },
  flag('reload_repeat'), flag('reload_file'),
  { name: 'include_check', handler: includeCheck },
  needs1('config_save_dir'),
  {
    name: 'tmp_config_directory',
    handler: (c, st) => {
      if (c.global.other.has('tmp_config_directory')) return c.report(st.keyword, 'tmp_config_directory already specified - ignoring', { code: 'DUPLICATE', keyword: 'tmp_config_directory' });
      if (st.args.length < 1) return c.report(st.keyword, 'tmp_config_directory missing directory name', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'tmp_config_directory' });
      keep(c, 'tmp_config_directory', words(st));
    },
  },
  optBool('data_use_instance', (v) => `Invalid value '${v}' for global date_use_instance specified`),
];

/** Top-level keywords the parent process reads besides global_defs (global_parser.c). */
export const PARENT_TOP_LEVEL: K[] = [
  flag('linkbeat_use_polling'),
  {
    name: 'net_namespace',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'net_namespace name missing - ignoring', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'net_namespace' });
      if (c.topLevel.has('net_namespace')) return c.report(st.args[0], `Duplicate net_namespace definition ${st.args[0].text} - ignoring`, { code: 'DUPLICATE', keyword: 'net_namespace' });
      c.topLevel.set('net_namespace', words(st));
    },
  },
  {
    name: 'net_namespace_ipvs',
    handler: (c, st) => {
      if (c.topLevel.has('net_namespace_ipvs')) return c.report(st.args[0] ?? st.keyword, `Duplicate net_namespace_ipvs definition ${st.args[0]?.text ?? ''} - ignoring`, { code: 'DUPLICATE', keyword: 'net_namespace_ipvs' });
      c.topLevel.set('net_namespace_ipvs', words(st));
    },
  },
  { name: 'namespace_with_ipsets', handler: (c, st) => { c.topLevel.set('namespace_with_ipsets', words(st)); } },
  { name: 'use_pid_dir', handler: (c, st) => { c.topLevel.set('use_pid_dir', words(st)); } },
  {
    name: 'instance',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'instance name missing - ignoring', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'instance' });
      if (c.topLevel.has('instance')) return c.report(st.args[0], `Duplicate instance definition ${st.args[0].text} - ignoring`, { code: 'DUPLICATE', keyword: 'instance' });
      c.topLevel.set('instance', words(st));
    },
  },
  {
    name: 'child_wait_time', args: 1,
    handler: (c, st) => {
      if (c.uint(st, 1, 0, UINT_MAX) === null) return c.report(st.args[0], `Invalid child_wait_time ${st.args[0].text}`, { keyword: 'child_wait_time' });
      c.topLevel.set('child_wait_time', words(st));
    },
  },
];

export const GLOBAL_DEFS: K = { name: 'global_defs', sub: table(GLOBAL_KEYWORDS) };

/** Names the docs must list. */
export const GLOBAL_KEYWORD_NAMES: readonly string[] = GLOBAL_KEYWORDS.map((k) => k.name);
