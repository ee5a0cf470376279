// virtual_server_group, virtual_server, real_server and SSL (keepalived/check/check_parser.c and
// check_data.c: alloc_vsg_entry, alloc_vs, alloc_rs, alloc_ssvr). FULLNAT as a forwarding method
// is a keepvs extension (keepalived 2.2 refuses it: "unknown [FULLNAT] routing method").
import type { KeywordSpec, Statement } from '../tree.ts';
import { table } from '../tree.ts';
import type { ParseCtx, RsDraft, VsDraft } from './context.ts';
import { inetStoSockaddr, portOrNull, VS_DEFAULT_CONNECT_TIMEOUT_US, VS_DEFAULT_DELAY_LOOP_US } from './context.ts';
import { CHECKER_KEYWORDS } from './checkers.ts';
import { UINT_MAX } from '../numbers.ts';
import { inetAton } from '../../endpoint.ts';
import { addrFromBytes, type Addr } from '../../../core/addr.ts';
import { SVC_F } from '../../../core/service.ts';
import type { Forwarding, LvsMethod } from '../model.ts';
import { parseTunnel } from '../../values.ts';

type K = KeywordSpec<ParseCtx>;

/** check_parser.c: lvs_schedulers. */
export const LVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'sh', 'mh', 'dh', 'fo', 'ovf', 'lblcr', 'sed', 'nq', 'twos'] as const;

/** include/uapi/linux/ip_vs.h: IP_VS_SVC_PERSISTENT_TIMEOUT, keepalived's default for a bare persistence_timeout. */
export const PERSISTENT_TIMEOUT_DEFAULT = 360;
/** keepalived/include/global_data.h: LVS_MAX_TIMEOUT. */
const LVS_MAX_TIMEOUT = 86400 * 31;
const WEIGHT_LIMIT = 2 ** 31 - 1;

export function vs(c: ParseCtx): VsDraft {
  return c.vss[c.vss.length - 1];
}

function rs(c: ParseCtx): RsDraft {
  const v = vs(c);
  return v.rs[v.rs.length - 1];
}

/** How keepalived names a virtual server in messages ("[10.0.0.1]:tcp:80", "FWM 1", group name). */
export function vsLabel(v: VsDraft): string {
  if (v.target.kind === 'group') return v.target.name;
  if (v.target.kind === 'fwmark') return `FWM ${v.target.fwmark}`;
  return `[${v.target.addr.text}]:${v.protocol ?? 'none'}:${v.target.port}`;
}

/** check_parser.c: svr_forwarding_handler (NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]). */
function forwarding(c: ParseCtx, st: Statement, sType: string, prev: Forwarding | undefined): Forwarding | null {
  const kw = st.keyword.text;
  const m = st.args[0].text;
  if (m === 'FULLNAT') {
    c.report(st.args[0], `FULLNAT is a keepvs extension; keepalived would refuse it ("PARSER : unknown [FULLNAT] routing method for ${sType} server.")`,
      { code: 'EXTENSION', klass: 'OK', keyword: kw, severity: 'info' });
  } else if (m !== 'NAT' && m !== 'DR' && m !== 'TUN') {
    c.report(st.args[0], `PARSER : unknown [${m}] routing method for ${sType} server.`, { keyword: kw, expected: 'NAT, DR or TUN (or keepvs FULLNAT)' });
    return null;
  }
  let type = prev?.tunnel?.type ?? 'ipip';
  let port = prev?.tunnel?.port ?? 0;
  let csum = prev?.tunnel?.csum ?? 'nocsum';
  for (let i = 1; i < st.args.length; i++) {
    const w = st.args[i].text;
    if (w === 'type') {
      if (i + 1 >= st.args.length) { c.report(st.args[i], `Missing tunnel type for ${sType} server.`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: kw, expected: 'ipip, gue or gre' }); return null; }
      const t = st.args[i + 1].text;
      if (t !== 'ipip' && t !== 'gue' && t !== 'gre') { c.report(st.args[i + 1], `Unknown tunnel type ${t} for ${sType} server.`, { keyword: kw, expected: 'ipip, gue or gre' }); return null; }
      type = t;
      i++;
    } else if (w === 'port') {
      if (i + 1 >= st.args.length) { c.report(st.args[i], `Missing port for ${sType} server gue tunnel.`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: kw }); return null; }
      const p = c.uint(st, i + 2, 1, 65535);
      if (p === null) { c.report(st.args[i + 1], `Invalid gue tunnel port ${st.args[i + 1].text} for ${sType} server.`, { keyword: kw, expected: '1..65535' }); return null; }
      port = p;
      i++;
    } else if (w === 'nocsum' || w === 'csum' || w === 'remcsum') {
      csum = w;
    } else {
      c.report(st.args[i], `Invalid tunnel option ${w} for ${sType} server.`, { keyword: kw, expected: 'type, port, nocsum, csum or remcsum' });
      return null;
    }
  }
  if ((type === 'gue') !== (port !== 0)) { c.report(st.keyword, 'gue tunnels require port, otherwise cannot have port.', { code: 'CONFLICT', keyword: kw }); return null; }
  if (type === 'ipip' && csum !== 'nocsum') { c.report(st.keyword, 'ipip tunnels do not support checksum option.', { code: 'CONFLICT', keyword: kw }); return null; }
  if (type === 'gre' && csum === 'remcsum') { c.report(st.keyword, 'gre tunnels do not support remote checksum option.', { code: 'CONFLICT', keyword: kw }); return null; }
  const method = m as LvsMethod;
  const tun = parseTunnel(type, port, csum);
  return { method, tunnel: method === 'TUN' && tun.ok ? tun.value : method === 'TUN' ? { type, port, csum } : null };
}

// ---------------------------------------------------------------- virtual_server_group

/** check_data.c: alloc_vsg_entry. */
function vsgEntry(c: ParseCtx, words: readonly { text: string; at: Statement['keyword']['at'] }[]): void {
  const g = c.vsgs[c.vsgs.length - 1];
  const first = words[0];
  const tok = { text: first.text, at: first.at };
  if (first.text === 'fwmark') {
    const mTok = words[1];
    if (!mTok) return c.report(tok, `*** Configuration line starting \`fwmark\` is missing a parameter after keyword \`fwmark\` at word position 2`, { code: 'MISSING_PARAMETER', klass: 'MISSING_PARAMETER', keyword: 'fwmark' });
    const st = { keyword: tok, args: words.slice(1), line: null as never } as Statement;
    const mark = c.uint(st, 1, 0, UINT_MAX);
    if (mark === null) return c.report(mTok, `(${g.name}): fwmark '${mTok.text}' must be in [0, ${UINT_MAX}] - ignoring`, { keyword: 'fwmark' });
    let family: 4 | 6 | null = null;
    if (words.length > 2) {
      const f = words[2].text;
      if (f === 'inet') family = 4;
      else if (f === 'inet6') family = 6;
      else return c.report(words[2], `(${g.name}): fwmark '${mark}' family ${f} unknown - ignoring`, { keyword: 'fwmark', expected: 'inet or inet6' });
    }
    g.fwmarks.push({ fwmark: mark, family, at: first.at });
    return;
  }
  const addrStr = first.text;
  const portStr = portOrNull(words[1]?.text);
  const portProblem = words[1] ? c.numberAt(words[1], 'virtual_server_group') : undefined;
  const a = inetStoSockaddr(addrStr, portStr, portProblem);
  if (!a) {
    return c.report(first, `Invalid virtual server group IP address ${addrStr} ${portStr ? '/port' : ''}${portStr ? '/' : ''}${portStr ?? ''} - skipping`,
      { code: 'INVALID_ADDRESS', keyword: 'virtual_server_group', expected: 'ADDRESS[-END|/PREFIX] [PORT] or fwmark N [inet|inet6]' });
  }
  const fam = a.addr.family;
  const bits = fam === 4 ? 32 : 128;
  let last: Addr = a.addr;
  const slash = addrStr.indexOf('/');
  const dash = addrStr.indexOf('-');
  if (slash >= 0) {
    const maskTxt = addrStr.slice(slash + 1);
    const mask = /^\d+$/.test(maskTxt) ? Number(maskTxt) : NaN;
    if (!(mask >= 1 && mask <= bits)) return c.report(first, `Invalid netmask - ${addrStr} - skipping`, { code: 'INVALID_ADDRESS', keyword: 'virtual_server_group', expected: `a prefix length 1..${bits}` });
    const end = new Uint8Array(a.addr.bytes);
    for (let bit = mask; bit < bits; bit++) {
      const byte = bit >> 3;
      const m = 0x80 >> (bit & 7);
      if (a.addr.bytes[byte] & m) return c.report(first, `Address mask bits not empty - ${addrStr} - skipping`, { code: 'INVALID_ADDRESS', keyword: 'virtual_server_group', expected: 'a network address (host bits zero)' });
      end[byte] |= m;
    }
    last = addrFromBytes(end);
  } else if (dash >= 0 && addrStr.slice(dash + 1).includes(fam === 4 ? '.' : ':')) {
    const e = inetStoSockaddr(addrStr.slice(dash + 1), portStr);
    if (!e) return c.report(first, `Invalid range end ${addrStr} - skipping`, { code: 'INVALID_ADDRESS', keyword: 'virtual_server_group' });
    if (e.addr.family !== fam) return c.report(first, `Range address families do not match ${addrStr} - skipping`, { code: 'INVALID_ADDRESS', keyword: 'virtual_server_group' });
    if (compareBytes(e.addr.bytes, a.addr.bytes) < 0) return c.report(first, `Address range end is less than address range start - ${addrStr} - skipping`, { code: 'INVALID_ADDRESS', keyword: 'virtual_server_group' });
    last = e.addr;
  } else if (dash >= 0) {
    // lib/utils.c: inet_stor — "a.b.c.d-E" ends the range at the last octet (IPv6: last 16-bit group, hex).
    const endTxt = addrStr.slice(dash + 1);
    const m = fam === 4 ? /^[ \t]*\+?(\d*)(.*)$/.exec(endTxt)! : /^[ \t]*\+?([0-9a-fA-F]*)(.*)$/.exec(endTxt)!;
    const val = m[1] === '' ? 0 : parseInt(m[1], fam === 4 ? 10 : 16);
    if (m[2] !== '') return c.report(first, `Virtual server group range '${addrStr}' has extra characters at end '${m[2]}'`, { code: 'INVALID_NUMBER', klass: 'INVALID_NUMBER', keyword: 'virtual_server_group' });
    if ((fam === 4 && val > 255) || (fam === 6 && val > 0xffff)) return c.report(first, `Virtual server group range '${addrStr}' end '${endTxt}' too large`, { code: 'OUT_OF_RANGE', klass: 'INVALID_NUMBER', keyword: 'virtual_server_group' });
    const end = new Uint8Array(a.addr.bytes);
    let start: number;
    if (fam === 4) {
      start = end[3];
      end[3] = val;
    } else {
      start = (end[14] << 8) | end[15];
      end[14] = val >> 8;
      end[15] = val & 0xff;
    }
    if (start >= val) return c.report(first, `Address range end is not greater than address range start - ${addrStr} - skipping`, { code: 'INVALID_ADDRESS', keyword: 'virtual_server_group' });
    last = addrFromBytes(end);
  }
  g.ranges.push({ first: a.addr, last, port: a.port, text: addrStr, at: first.at });
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

const VIRTUAL_SERVER_GROUP: K = {
  name: 'virtual_server_group', args: 1,
  handler: (c, st, w) => {
    c.vsgs.push({ name: st.args[0].text, ranges: [], fwmarks: [], at: st.keyword.at });
    for (const line of w.valueBlock(st, 1)) vsgEntry(c, line);
    const g = c.vsgs[c.vsgs.length - 1];
    if (g.ranges.length === 0 && g.fwmarks.length === 0) {
      c.report(st.args[0], `virtual server group ${g.name} has no entries - removing`, { code: 'NOTHING_CONFIGURED', keyword: 'virtual_server_group' });
      c.vsgs.pop();
      return;
    }
    const v4 = g.ranges.some((r) => r.first.family === 4) || g.fwmarks.some((f) => f.family === 4);
    const v6 = g.ranges.some((r) => r.first.family === 6) || g.fwmarks.some((f) => f.family === 6);
    if (v4 && v6 && g.fwmarks.some((f) => f.family === null)) {
      c.report(st.args[0], `virtual server group ${g.name} cannot have IPv4, IPv6 and fwmark without family - removing`, { code: 'CONFLICT', keyword: 'virtual_server_group' });
      c.vsgs.pop();
    }
  },
};

// ---------------------------------------------------------------- real_server

function scriptKw(name: 'notify_up' | 'notify_down'): K {
  return {
    name, args: 1,
    handler: (c, st) => {
      const r = rs(c);
      const field = name === 'notify_up' ? 'notifyUp' : 'notifyDown';
      if (r[field]) return c.report(st.args[0], `(${vs(c).target.kind === 'group' ? (vs(c).target as { name: string }).name : '(null)'}) ${name} script already specified - ignoring ${st.args[0].text}`, { code: 'DUPLICATE', keyword: name });
      r[field] = c.notifyScript(st);
    },
  };
}

/** A timer keyword of the virtual or real server (with keepalived's message when it is refused). */
function serverTimer(name: string, minUs: number, maxUs: number, msg: (v: string) => string, set: (c: ParseCtx, v: number) => void): K {
  return {
    name, args: 1,
    handler: (c, st) => {
      const v = c.timer(st, 1, minUs, maxUs);
      if (v === null) return c.report(st.args[0], msg(st.args[0].text), { keyword: name });
      set(c, v);
    },
  };
}

const retryKw = (set: (c: ParseCtx, v: number) => void): K => ({
  name: 'retry', args: 1,
  handler: (c, st) => {
    const v = c.uint(st, 1, 1, UINT_MAX);
    if (v === null) return c.report(st.args[0], `retry value invalid - ${st.args[0].text}`, { keyword: 'retry', expected: '1..4294967295' });
    set(c, v);
  },
});

const REAL_SERVER_KEYWORDS: K[] = [
  {
    name: 'weight', args: 1,
    handler: (c, st) => {
      const v = c.uint(st, 1, 0, WEIGHT_LIMIT);
      if (v === null) return c.report(st.args[0], `Real server weight ${st.args[0].text} is outside range 0-${WEIGHT_LIMIT}`, { keyword: 'weight' });
      rs(c).weight = v;
    },
  },
  {
    name: 'lvs_method', args: 1,
    handler: (c, st) => {
      const r = rs(c);
      const f = forwarding(c, st, 'real', r.forwarding);
      if (f) r.forwarding = f;
    },
  },
  ...(['uthreshold', 'lthreshold'] as const).map((name): K => ({
    name, args: 1,
    handler: (c, st) => {
      const v = c.uint(st, 1, 0, UINT_MAX);
      if (v === null) return c.report(st.args[0], `Invalid real_server ${name} '${st.args[0].text}' - ignoring`, { keyword: name });
      rs(c)[name] = v;
    },
  })),
  {
    name: 'inhibit_on_failure',
    handler: (c, st) => {
      const v = c.optBool(st, `Invalid inhibit_on_failure parameter ${st.args[0]?.text}`);
      if (v !== null) rs(c).inhibitOnFailure = v;
    },
  },
  scriptKw('notify_up'),
  scriptKw('notify_down'),
  {
    name: 'alpha',
    handler: (c, st) => {
      const v = c.optBool(st, `Invalid alpha parameter ${st.args[0]?.text}`);
      if (v !== null) rs(c).alpha = v;
    },
  },
  retryKw((c, v) => { rs(c).retry = v; }),
  serverTimer('delay_before_retry', 0, 0, (v) => `real server delay_before_retry '${v}' invalid - ignoring`, (c, v) => { rs(c).delayBeforeRetryUs = v; }),
  serverTimer('warmup', 0, 0, (v) => `real server warmup '${v}' invalid - ignoring`, (c, v) => { rs(c).warmupUs = v; }),
  serverTimer('connect_timeout', 1, UINT_MAX, (v) => `real server connect_timeout ${v} invalid - ignoring`, (c, v) => { rs(c).connectTimeoutUs = v; }),
  serverTimer('delay_loop', 1, 0, (v) => `real server delay_loop '${v}' invalid - ignoring`, (c, v) => { rs(c).delayLoopUs = v; }),
  {
    name: 'smtp_alert',
    handler: (c, st) => {
      const v = c.optBool(st, `Invalid real_server smtp_alert parameter ${st.args[0]?.text}`);
      if (v !== null) rs(c).smtpAlert = v;
    },
  },
  {
    name: 'virtualhost',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'real server virtualhost missing', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'virtualhost' });
      rs(c).virtualhost = st.args[0].text;
    },
  },
  {
    name: 'snmp_name',
    handler: (c, st) => {
      if (st.args.length !== 1) c.report(st.keyword, 'real server snmp_name missing or extra parameters', { keyword: 'snmp_name' });
    },
  },
  ...CHECKER_KEYWORDS,
];

const REAL_SERVER: K = {
  name: 'real_server', args: 1,
  handler: (c, st) => {
    const v = vs(c);
    const ip = st.args[0].text;
    const port = st.args[1]?.text;
    const a = inetStoSockaddr(ip, portOrNull(port), st.args[1] ? c.numberAt(st.args[1], 'real_server') : undefined);
    if (!a) {
      c.report(st.args[0], `Invalid real server ip address/port ${ip}/${port ?? '(null)'} - skipping`, { code: 'INVALID_ADDRESS', keyword: 'real_server', expected: 'ADDRESS [PORT]' });
      return 'skip-block';
    }
    v.rs.push({ addr: a.addr, port: a.port, at: st.keyword.at, checkers: [], forwarding: v.forwarding });
  },
  sub: table(REAL_SERVER_KEYWORDS),
  close: (c) => {
    // check_parser.c: rs_end_handler — outside tunnels the families must match.
    const v = vs(c);
    const r = v.rs[v.rs.length - 1];
    if (!r || r.forwarding?.method === 'TUN') return;
    if (v.family === null) v.family = r.addr.family;
    else if (v.family !== r.addr.family) {
      c.report(r.at, `Address family of virtual server and real server ${r.addr.text} don't match - skipping real server.`, { code: 'CONFLICT', keyword: 'real_server' });
      v.rs.pop();
    }
  },
};

// ---------------------------------------------------------------- virtual_server

function lbFlags(name: string): K {
  return {
    name,
    handler: (c, st) => {
      const v = vs(c);
      if (name === 'ops') v.flags |= SVC_F.ONEPACKET;
      else if (name === 'flag-1') v.flags |= SVC_F.SCHED1;
      else if (name === 'flag-2') v.flags |= SVC_F.SCHED2;
      else if (name === 'flag-3') v.flags |= SVC_F.SCHED3;
      // sh-*/mh-* count only with that scheduler, set before the flag (check_parser.c: lbflags_handler).
      else if (v.scheduler === 'sh' || v.scheduler === 'mh') {
        if (name === `${v.scheduler}-port`) v.flags |= SVC_F.SCHED2;
        else if (name === `${v.scheduler}-fallback`) v.flags |= SVC_F.SCHED1;
        else if (name === 'hashed') v.hashed = true;
      } else {
        c.report(st.keyword, `${name} only applies to sh scheduler - ignoring`, { code: 'CONFLICT', keyword: name, expected: 'lvs_sched sh (or mh) before this flag' });
      }
    },
  };
}

const VIRTUAL_SERVER_KEYWORDS: K[] = [
  {
    name: 'ip_family', args: 1,
    handler: (c, st) => {
      const v = vs(c);
      const t = st.args[0].text;
      const fam = t === 'inet' ? 4 : t === 'inet6' ? 6 : null;
      if (fam === null) return c.report(st.args[0], `unknown address family ${t}`, { keyword: 'ip_family', expected: 'inet or inet6' });
      if (v.family !== null && v.family !== fam) return c.report(st.args[0], `Virtual server specified family ${t} conflicts with server family`, { code: 'CONFLICT', keyword: 'ip_family' });
      v.family = fam;
    },
  },
  retryKw((c, v) => { vs(c).retry = v; }),
  serverTimer('delay_before_retry', 0, 0, (v) => `virtual server delay before retry '${v}' invalid - ignoring`, (c, v) => { vs(c).delayBeforeRetryUs = v; }),
  serverTimer('warmup', 0, 0, (v) => `virtual server warmup '${v}' invalid - ignoring`, (c, v) => { vs(c).warmupUs = v; }),
  serverTimer('connect_timeout', 1, UINT_MAX, (v) => `virtual server connect_timeout ${v} invalid - ignoring`, (c, v) => { vs(c).connectTimeoutUs = v; }),
  serverTimer('delay_loop', 1, 0, (v) => `virtual server delay loop '${v}' invalid - ignoring`, (c, v) => { vs(c).delayLoopUs = v; }),
  { name: 'inhibit_on_failure', handler: (c) => { vs(c).inhibitOnFailure = true; } },
  ...['lb_algo', 'lvs_sched'].map((name): K => ({
    name, args: 1,
    handler: (c, st) => {
      const s = st.args[0].text;
      if (!(LVS_SCHEDULERS as readonly string[]).includes(s)) return c.report(st.args[0], `Invalid lvs_scheduler '${s}' - ignoring`, { keyword: name, expected: LVS_SCHEDULERS.join(', ') });
      vs(c).scheduler = s;
    },
  })),
  ...['hashed', 'ops', 'flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'].map(lbFlags),
  ...['lb_kind', 'lvs_method'].map((name): K => ({
    name, args: 1,
    handler: (c, st) => {
      const v = vs(c);
      const f = forwarding(c, st, 'virtual', v.forwarding);
      if (f) v.forwarding = f;
    },
  })),
  {
    name: 'persistence_engine', args: 1,
    handler: (c, st) => {
      let pe = st.args[0].text;
      if (pe.length > 15) {
        c.report(st.args[0], `persistence_name too long, truncating - ${pe}`, { code: 'ADJUSTED', keyword: 'persistence_engine' });
        pe = pe.slice(0, 15);
      }
      vs(c).persistenceEngine = pe;
    },
  },
  {
    name: 'persistence_timeout',
    handler: (c, st) => {
      if (st.args.length < 1) {
        vs(c).persistenceTimeout = PERSISTENT_TIMEOUT_DEFAULT;
        return;
      }
      const v = c.uint(st, 1, 1, LVS_MAX_TIMEOUT);
      if (v === null) return c.report(st.args[0], 'persistence_timeout invalid', { keyword: 'persistence_timeout', expected: `1..${LVS_MAX_TIMEOUT}` });
      vs(c).persistenceTimeout = v;
    },
  },
  {
    name: 'persistence_granularity', args: 1,
    handler: (c, st) => {
      const v = vs(c);
      const t = st.args[0].text;
      const fam = v.family ?? (t.includes('.') ? 4 : 6);
      if (fam === 6) {
        const n = c.uint(st, 1, 1, 128);
        if (n === null) return c.report(st.args[0], `Invalid IPv6 persistence_granularity specified - ${t}`, { keyword: 'persistence_granularity', expected: 'a prefix length 1..128' });
        v.persistenceGranularity = n;
      } else {
        // getaddrinfo(AI_NUMERICHOST, AF_INET) takes inet_aton's forms (and nothing after them).
        const b = /\s/.test(t) ? null : inetAton(t);
        if (!b) return c.report(st.args[0], `Invalid IPv4 persistence_granularity specified - ${t}`, { keyword: 'persistence_granularity', expected: 'a dotted netmask' });
        v.persistenceGranularity = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
      }
      if (v.family === null) v.family = fam;
      if (!v.persistenceTimeout) v.persistenceTimeout = PERSISTENT_TIMEOUT_DEFAULT;
    },
  },
  {
    name: 'protocol', args: 1,
    handler: (c, st) => {
      const p = st.args[0].text.toLowerCase();
      if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') return c.report(st.args[0], `Unknown protocol ${st.args[0].text} - ignoring`, { keyword: 'protocol', expected: 'TCP, UDP or SCTP' });
      vs(c).protocol = p;
    },
  },
  { name: 'ha_suspend', handler: (c) => { vs(c).haSuspend = true; } },
  {
    name: 'smtp_alert',
    handler: (c, st) => {
      const v = c.optBool(st, `Invalid virtual_server smtp_alert parameter ${st.args[0]?.text}`);
      if (v !== null) vs(c).smtpAlert = v;
    },
  },
  {
    name: 'virtualhost',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'virtual server virtualhost missing', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'virtualhost' });
      vs(c).virtualhost = st.args[0].text;
    },
  },
  {
    name: 'snmp_name',
    handler: (c, st) => {
      if (st.args.length !== 1) c.report(st.keyword, 'virtual server snmp_name missing or extra parameters', { keyword: 'snmp_name' });
    },
  },
  { name: 'alpha', handler: (c) => { vs(c).alpha = true; } },
  { name: 'omega', handler: (c) => { vs(c).omega = true; } },
  ...(['quorum_up', 'quorum_down'] as const).map((name): K => ({
    name, args: 1,
    handler: (c, st) => {
      const v = vs(c);
      const field = name === 'quorum_up' ? 'quorumUp' : 'quorumDown';
      if (v[field]) return c.report(st.args[0], `(${v.target.kind === 'group' ? v.target.name : '(null)'}) ${name} script already specified - ignoring ${st.args[0].text}`, { code: 'DUPLICATE', keyword: name });
      v[field] = c.notifyScript(st);
    },
  })),
  {
    name: 'quorum', args: 1,
    handler: (c, st) => {
      let v = c.uint(st, 1, 1, UINT_MAX);
      if (v === null) {
        c.report(st.args[0], `Quorum ${st.args[0].text} must be in [1, ${UINT_MAX}]. Setting to 1.`, { code: 'ADJUSTED', keyword: 'quorum' });
        v = 1;
      }
      vs(c).quorum = v;
    },
  },
  {
    name: 'hysteresis', args: 1,
    handler: (c, st) => {
      const v = c.uint(st, 1, 0, UINT_MAX);
      if (v === null) return c.report(st.args[0], `Hysteresis ${st.args[0].text} must be in [0, ${UINT_MAX}] - ignoring`, { keyword: 'hysteresis' });
      vs(c).hysteresis = v;
    },
  },
  {
    name: 'weight', args: 1,
    handler: (c, st) => {
      const v = c.uint(st, 1, 1, WEIGHT_LIMIT);
      if (v === null) return c.report(st.args[0], `Virtual server weight ${st.args[0].text} is outside range 1-${WEIGHT_LIMIT}`, { keyword: 'weight' });
      vs(c).weight = v;
    },
  },
  {
    name: 'sorry_server', args: 1,
    handler: (c, st) => {
      const v = vs(c);
      const a = inetStoSockaddr(st.args[0].text, portOrNull(st.args[1]?.text), st.args[1] ? c.numberAt(st.args[1], 'sorry_server') : undefined);
      if (!a) return c.report(st.args[0], `Invalid sorry server IP address ${st.args[0].text} - skipping`, { code: 'INVALID_ADDRESS', keyword: 'sorry_server', expected: 'ADDRESS [PORT]' });
      v.sorry = { addr: a.addr, port: a.port, forwarding: v.forwarding, inhibit: false, at: st.keyword.at };
    },
  },
  {
    name: 'sorry_server_inhibit',
    handler: (c, st) => {
      const v = vs(c);
      if (v.sorry) v.sorry.inhibit = true;
      else c.report(st.keyword, 'Ignoring sorry_server inhibit used before or without sorry_server', { code: 'NOT_FOUND', keyword: 'sorry_server_inhibit', expected: 'sorry_server first' });
    },
  },
  {
    name: 'sorry_server_lvs_method',
    handler: (c, st, w) => {
      const v = vs(c);
      if (!v.sorry) return c.report(st.keyword, 'sorry_server forwarding used without sorry_server', { code: 'NOT_FOUND', keyword: 'sorry_server_lvs_method', expected: 'sorry_server first' });
      if (st.args.length < 1) return w.missingParameter(st, 1);
      const f = forwarding(c, st, 'sorry', v.sorry.forwarding);
      if (f) v.sorry.forwarding = f;
    },
  },
  REAL_SERVER,
];

const VIRTUAL_SERVER: K = {
  name: 'virtual_server', args: 1,
  handler: (c, st, w) => {
    const p1 = st.args[0].text;
    const p2 = st.args[1]?.text;
    const base = (target: VsDraft['target'], family: VsDraft['family']): VsDraft => ({
      target, family, at: st.keyword.at, flags: 0, hashed: false, persistenceTimeout: 0, persistenceGranularity: null,
      persistenceEngine: null, haSuspend: false, virtualhost: null, alpha: false, omega: false, quorum: 1, hysteresis: 0,
      quorumUp: null, quorumDown: null, weight: 1, inhibitOnFailure: false, sorry: null,
      delayLoopUs: VS_DEFAULT_DELAY_LOOP_US, connectTimeoutUs: VS_DEFAULT_CONNECT_TIMEOUT_US, rs: [],
    });
    if (p1 === 'group') {
      if (p2 === undefined) { w.missingParameter(st, 2); return 'skip-block'; }
      c.vss.push(base({ kind: 'group', name: p2 }, null));
      return;
    }
    if (p1 === 'fwmark') {
      if (p2 === undefined) { w.missingParameter(st, 2); return 'skip-block'; }
      const mark = c.uint(st, 2, 0, UINT_MAX);
      if (mark === null) {
        c.report(st.args[1], `virtual server fwmark '${p2}' must be in [0, ${UINT_MAX}] - ignoring`, { keyword: 'virtual_server' });
        return 'skip-block';
      }
      c.vss.push(base({ kind: 'fwmark', fwmark: mark }, null));
      return;
    }
    const port = portOrNull(p2);
    const a = inetStoSockaddr(p1, port, st.args[1] ? c.numberAt(st.args[1], 'virtual_server') : undefined);
    if (!a) {
      c.report(st.args[0], `Invalid virtual server IP address${port ? '/port' : ''} ${p1}${port ? '/' : ''}${port ?? ''} - skipping`,
        { code: 'INVALID_ADDRESS', keyword: 'virtual_server', expected: 'ADDRESS PORT, fwmark N or group NAME' });
      return 'skip-block';
    }
    c.vss.push(base({ kind: 'addr', addr: a.addr, port: a.port }, a.addr.family));
  },
  sub: table(VIRTUAL_SERVER_KEYWORDS),
  close: (c) => {
    // check_parser.c: vs_end_handler — the sorry server's family, then a family for fwmark services.
    const v = vs(c);
    if (v.sorry && v.sorry.forwarding?.method !== 'TUN') {
      if (v.family === null) v.family = v.sorry.addr.family;
      else if (v.family !== v.sorry.addr.family) {
        c.report(v.sorry.at, `Address family of virtual server and sorry server ${v.sorry.addr.text} don't match - skipping sorry server.`, { code: 'CONFLICT', keyword: 'sorry_server' });
        v.sorry = null;
      }
    }
    if (v.family === null && v.target.kind !== 'group') {
      let fam: 4 | 6 | null = v.sorry ? v.sorry.addr.family : null;
      let mixed = false;
      for (const r of v.rs) {
        if (fam === null) fam = r.addr.family;
        else if (fam !== r.addr.family) { mixed = true; break; }
      }
      v.family = mixed || fam === null ? 4 : fam;
    }
  },
};

const SSL: K = {
  name: 'SSL',
  handler: (c, st) => {
    if (c.ssl) c.report(st.keyword, 'SSL context already specified - replacing', { code: 'DUPLICATE', keyword: 'SSL' });
    c.ssl = { at: st.keyword.at };
  },
  sub: table((['password', 'ca', 'certificate', 'key'] as const).map((name): K => ({
    name,
    handler: (c, st) => {
      const label = name === 'password' ? 'password' : name === 'ca' ? 'cafile' : name === 'certificate' ? 'certfile' : 'keyfile';
      if (st.args.length < 1) return c.report(st.keyword, `SSL ${label} missing`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: name });
      const ssl = c.ssl!;
      if (ssl[name]) c.report(st.args[0], `SSL ${label} already specified - replacing`, { code: 'DUPLICATE', keyword: name });
      ssl[name] = st.args[0].text;
    },
  }))),
};

export const LVS_TOP_LEVEL: K[] = [SSL, VIRTUAL_SERVER_GROUP, VIRTUAL_SERVER];

/** For documentation tests: every keyword of each LVS section. */
export const LVS_SECTION_KEYWORDS = {
  virtual_server: VIRTUAL_SERVER_KEYWORDS.map((k) => k.name),
  real_server: REAL_SERVER_KEYWORDS.map((k) => k.name),
  SSL: ['password', 'ca', 'certificate', 'key'],
} as const;
