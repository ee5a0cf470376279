// The health checker blocks inside a real_server (keepalived/check/check_api.c and one file per
// checker: check_tcp.c, check_http.c, check_misc.c, check_dns.c, check_smtp.c, check_udp.c,
// check_ping.c, check_file.c, check_bfd.c). Parsed into CheckerDraft; the defaults that depend on the
// real and virtual server (retry, delay_before_retry, warmup, connect_timeout) are filled in by
// validate-lvs.ts, as keepalived does after the whole file is read.
import type { KeywordSpec, Statement } from '../tree.ts';
import { table } from '../tree.ts';
import type { CheckerDraft, ConnDraft, ParseCtx, RsDraft, UrlDraft } from './context.ts';
import { inetStoSockaddr, probeCloseMode } from './context.ts';
import { UINT_MAX } from '../numbers.ts';
import { splitQuotedEscaped } from '../lexer.ts';
import type { Checker } from '../model.ts';

type K = KeywordSpec<ParseCtx>;

function currentRs(c: ParseCtx): RsDraft {
  const vs = c.vss[c.vss.length - 1];
  return vs.rs[vs.rs.length - 1];
}

export function currentChecker(c: ParseCtx): CheckerDraft {
  const rs = currentRs(c);
  return rs.checkers[rs.checkers.length - 1];
}

/** CHECKER_GET_CO(): the connection options being set (an SMTP host { } block's while it is open). */
function currentConn(c: ParseCtx): ConnDraft | null {
  return c.smtpHost ?? currentChecker(c).conn;
}

function newChecker(type: Checker['type'], st: Statement, withConn: boolean): CheckerDraft {
  return {
    type, at: st.keyword.at, conn: withConn ? { at: st.keyword.at } : null,
    urls: [], virtualhost: null, httpProtocol: '1.0', enableSni: false, fastRecovery: false,
    script: null, miscTimeoutS: null, miscDynamic: false, miscUser: null, miscRemoved: false,
    dnsType: 'SOA', dnsName: null, heloName: null, hosts: [],
    payload: null, requireReply: false, replyData: null, minReplyLength: 0, maxReplyLength: 255,
    trackFile: null, fileWeight: null, fileWeightReverse: false, bfdName: null, dropped: false,
  };
}

function open(type: Checker['type'], withConn: boolean) {
  return (c: ParseCtx, st: Statement): void => {
    currentRs(c).checkers.push(newChecker(type, st, withConn));
  };
}

/** check_api.c: check_conn_opts — an IPv6 link-local target needs bind_if. */
function connOk(c: ParseCtx, co: ConnDraft | null, at: Statement['keyword']): boolean {
  if (co?.ip && co.ip.family === 6 && co.ip.bytes[0] === 0xfe && (co.ip.bytes[1] & 0xc0) === 0x80 && !co.bindIf) {
    c.report(at, `Checker link local address ${co.ip.text} requires a bind_if`, { code: 'CONFLICT', keyword: at.text, expected: 'bind_if IFNAME' });
    return false;
  }
  return true;
}

function drop(c: ParseCtx): void {
  currentChecker(c).dropped = true;
}

/** check_api.c: install_checker_common_keywords. */
function common(withConn: boolean): K[] {
  const conn: K[] = [
    {
      name: 'connect_ip', args: 1,
      handler: (c, st) => {
        const co = currentConn(c);
        if (!co) return;
        const a = inetStoSockaddr(st.args[0].text, null);
        if (!a) return c.report(st.args[0], `Invalid connect_ip address ${st.args[0].text} - ignoring`, { code: 'INVALID_ADDRESS', keyword: 'connect_ip' });
        if (co.bindto && co.bindto.family !== a.addr.family) {
          return c.report(st.args[0], `connect_ip address ${st.args[0].text} does not match address family of bindto - skipping`, { code: 'CONFLICT', keyword: 'connect_ip' });
        }
        co.ip = a.addr;
      },
    },
    {
      name: 'connect_port', args: 1,
      handler: (c, st) => {
        const co = currentConn(c);
        if (!co) return;
        const v = c.uint(st, 1, 1, 65535);
        if (v === null) return c.report(st.args[0], `Invalid checker connect_port '${st.args[0].text}'`, { keyword: 'connect_port', expected: '1..65535' });
        co.port = v;
      },
    },
    {
      name: 'bindto', args: 1,
      handler: (c, st) => {
        const co = currentConn(c);
        if (!co) return;
        const a = inetStoSockaddr(st.args[0].text, null);
        if (!a) return c.report(st.args[0], `Invalid bindto address ${st.args[0].text} - ignoring`, { code: 'INVALID_ADDRESS', keyword: 'bindto' });
        if (co.ip && co.ip.family !== a.addr.family) {
          return c.report(st.args[0], `bindto address ${st.args[0].text} does not match address family of connect_ip - skipping`, { code: 'CONFLICT', keyword: 'bindto' });
        }
        co.bindto = a.addr;
      },
    },
    {
      name: 'bind_port', args: 1,
      handler: (c, st) => {
        const co = currentConn(c);
        if (!co) return;
        const v = c.uint(st, 1, 1, 65535);
        if (v === null) return c.report(st.args[0], `Invalid checker bind_port '${st.args[0].text}'`, { keyword: 'bind_port', expected: '1..65535' });
        co.bindPort = v;
      },
    },
    {
      name: 'bind_if', args: 1,
      handler: (c, st) => {
        const co = currentConn(c);
        if (!co) return;
        if (st.args[0].text.length > 15) return c.report(st.args[0], `Interface name ${st.args[0].text} is too long - ignoring`, { keyword: 'bind_if', expected: 'at most 15 characters' });
        co.bindIf = st.args[0].text;
      },
    },
    {
      name: 'connect_timeout', args: 1,
      handler: (c, st) => {
        const co = currentConn(c);
        if (!co) return;
        const v = c.timer(st, 1, 1, UINT_MAX);
        if (v === null) return c.report(st.args[0], `connect_timeout ${st.args[0].text} invalid - ignoring`, { keyword: 'connect_timeout' });
        co.timeoutUs = v;
      },
    },
    {
      name: 'fwmark', args: 1,
      handler: (c, st) => {
        const co = currentConn(c);
        if (!co) return;
        const v = c.uint(st, 1, 0, UINT_MAX);
        if (v === null) return c.report(st.args[0], `Invalid fwmark connection value '${st.args[0].text}'`, { keyword: 'fwmark' });
        co.fwmark = v;
      },
    },
  ];
  const rest: K[] = [
    {
      name: 'retry', args: 1,
      handler: (c, st) => {
        const v = c.uint(st, 1, 0, UINT_MAX);
        if (v === null) return c.report(st.args[0], `Invalid retry connection value '${st.args[0].text}'`, { keyword: 'retry' });
        currentChecker(c).retry = v;
      },
    },
    {
      name: 'delay_before_retry', args: 1,
      handler: (c, st) => {
        const v = c.timer(st, 1, 0, 0);
        if (v === null) return c.report(st.args[0], `Invalid delay_before_retry connection value '${st.args[0].text}'`, { keyword: 'delay_before_retry' });
        currentChecker(c).delayBeforeRetryUs = v;
      },
    },
    {
      name: 'warmup', args: 1,
      handler: (c, st) => {
        const v = c.timer(st, 1, 0, 0);
        if (v === null) return c.report(st.args[0], `Invalid warmup connection value '${st.args[0].text}'`, { keyword: 'warmup' });
        currentChecker(c).warmupUs = v;
      },
    },
    {
      name: 'delay_loop', args: 1,
      handler: (c, st) => {
        const v = c.timer(st, 1, 1, 0);
        if (v === null) return c.report(st.args[0], `delay_loop '${st.args[0].text}' is invalid - ignoring`, { keyword: 'delay_loop' });
        currentChecker(c).delayLoopUs = v;
      },
    },
    {
      name: 'alpha',
      handler: (c, st) => {
        const v = c.optBool(st, `Invalid alpha parameter ${st.args[0]?.text}`);
        if (v !== null) currentChecker(c).alpha = v;
      },
    },
    // keepvs extension (keepalived's checkers have no rise/fall): the seed's "three successes to
    // come back" is `rise 3`; the defaults of 1 reproduce keepalived exactly (docs/checkers.md).
    {
      name: 'rise', args: 1,
      handler: (c, st) => {
        const v = c.uint(st, 1, 1, 1000);
        if (v === null) return c.report(st.args[0], `Invalid rise value '${st.args[0].text}' (expected 1..1000)`, { keyword: 'rise' });
        currentChecker(c).rise = v;
      },
    },
    {
      name: 'fall', args: 1,
      handler: (c, st) => {
        const v = c.uint(st, 1, 1, 1000);
        if (v === null) return c.report(st.args[0], `Invalid fall value '${st.args[0].text}' (expected 1..1000)`, { keyword: 'fall' });
        currentChecker(c).fall = v;
      },
    },
    {
      name: 'log_all_failures',
      handler: (c, st) => {
        const v = c.optBool(st, `Invalid log_all_failures parameter ${st.args[0]?.text}`);
        if (v !== null) currentChecker(c).logAllFailures = v;
      },
    },
  ];
  return withConn ? [...conn, ...rest] : rest;
}

// keepvs extension: `probe_close reset|graceful` in TCP_CHECK and HTTP_GET (the checkers whose
// connection keepvs ends itself; SSL_GET's TLS session always closes with a FIN) overrides global_defs
// checker_probe_close. `checker_probe_close` is accepted here too, as the global keyword's spelling.
const PROBE_CLOSE: K[] = ['probe_close', 'checker_probe_close'].map((name): K => ({
  name, args: 1,
  handler: (c, st) => {
    const v = probeCloseMode(c, st, name);
    if (v !== null) currentChecker(c).probeClose = v;
  },
}));

const TCP_CHECK: K = {
  name: 'TCP_CHECK', handler: open('TCP_CHECK', true), sub: table([...common(true), ...PROBE_CLOSE]),
  close: (c, st) => { if (!connOk(c, currentChecker(c).conn, st.keyword)) drop(c); },
};

const PING_CHECK: K = {
  name: 'PING_CHECK', handler: open('PING_CHECK', true), sub: table(common(true)),
  close: (c, st) => { if (!connOk(c, currentChecker(c).conn, st.keyword)) drop(c); },
};

// ---------------------------------------------------------------- HTTP_GET / SSL_GET

function currentUrl(c: ParseCtx): UrlDraft {
  const ch = currentChecker(c);
  return ch.urls[ch.urls.length - 1];
}

/** check_http.c: status_code — codes and ranges within 100..599 (HTTP_STATUS_CODE_MIN/MAX); bad entries reported and skipped. */
function statusCodes(c: ParseCtx, st: Statement): void {
  const url = currentUrl(c);
  for (const tok of st.args) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(tok.text);
    const min = m ? Number(m[1]) : NaN;
    const max = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || min < 100 || min > 599 || max < 100 || max > 599 || min > max) {
      c.report(tok, `Invalid HTTP_GET status code '${tok.text}'`, { keyword: 'status_code', expected: 'codes or ranges within 100-599' });
      continue;
    }
    url.statusCodes.push({ min, max });
  }
}

const URL_KEYWORDS: K[] = [
  { name: 'path', args: 1, handler: (c, st) => { currentUrl(c).path = st.args[0].text; } },
  {
    name: 'digest', args: 1,
    handler: (c, st) => {
      const url = currentUrl(c);
      const d = st.args[0].text;
      if (url.digest) return c.report(st.args[0], `Digest '${d}' is a duplicate`, { code: 'DUPLICATE', keyword: 'digest' });
      if (d.length !== 32) return c.report(st.args[0], `digest '${d}' character length should be 32 rather than ${d.length}`, { keyword: 'digest', expected: '32 hex digits (an MD5 sum)' });
      // check_http.c parses pairs from the end with strtoul(.., 16): each pair must be two hex digits.
      for (let i = 15; i >= 0; i--) {
        if (!/^[0-9a-fA-F]{2}$/.test(d.slice(2 * i, 2 * i + 2)) && !/^[+-]?[0-9a-fA-F]$/.test(d.slice(2 * i, 2 * i + 2).trim())) {
          return c.report(st.args[0], `Unable to interpret hex digit in '${d}' at offset ${2 * i}/${2 * i + 1}`, { keyword: 'digest', expected: '32 hex digits (an MD5 sum)' });
        }
      }
      url.digest = d.toLowerCase();
    },
  },
  { name: 'status_code', handler: statusCodes },
  {
    name: 'virtualhost',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'Missing HTTP_GET virtualhost name', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'virtualhost' });
      currentUrl(c).virtualhost = st.args[0].text;
    },
  },
  {
    // check_http.c: regex re-splits the line with quotes and escapes; a bad count is only logged.
    name: 'regex',
    handler: (c, st) => {
      const r = splitQuotedEscaped(st.line.text);
      if (!r.ok || r.words.length !== 2) {
        c.report(st.keyword, 'regex missing or too many fields', { code: 'INVALID_VALUE', klass: 'OK', keyword: 'regex', severity: 'warning' });
        return;
      }
      currentUrl(c).regex = r.words[1];
    },
  },
  { name: 'regex_no_match', handler: (c) => { currentUrl(c).regexNoMatch = true; } },
  {
    name: 'regex_options',
    handler: (c, st) => {
      const known = ['allow_empty_class', 'alt_bsux', 'auto_callout', 'caseless', 'dollar_endonly', 'dotall', 'dupnames', 'extended', 'extended_more', 'firstline', 'match_unset_backref', 'multiline', 'never_ucp', 'never_utf', 'no_auto_capture', 'no_auto_possess', 'no_dotstar_anchor', 'no_start_optimize', 'ucp', 'ungreedy', 'utf', 'never_backslash_c', 'alt_circumflex', 'alt_verbnames', 'use_offset_limit'];
      const u = currentUrl(c);
      u.regexOptions = [...(u.regexOptions ?? []), ...st.args.map((a) => a.text).filter((o) => known.includes(o))];
    },
  },
  ...(['regex_min_offset', 'regex_max_offset'] as const).map((name): K => ({
    name,
    handler: (c, st) => {
      if (st.args.length !== 1 || !/^\d+$/.test(st.args[0].text)) {
        c.report(st.args[0] ?? st.keyword, `Invalid ${name} ${st.args[0]?.text ?? ''}`.trim(), { code: 'INVALID_NUMBER', klass: 'OK', keyword: name, severity: 'warning' });
        return;
      }
      const u = currentUrl(c);
      if (name === 'regex_min_offset') u.regexMinOffset = Number(st.args[0].text);
      else u.regexMaxOffset = Number(st.args[0].text) + 1;
    },
  })),
  { name: 'regex_stack', handler: () => {} },
];

const httpKeywords = (): K[] => [
  ...common(true),
  {
    name: 'nb_get_retry', args: 1,
    handler: (c, st) => {
      c.report(st.keyword, "nb_get_retry is deprecated - please use 'retry'", { code: 'DEPRECATED', keyword: 'nb_get_retry' });
      const v = c.uint(st, 1, 0, UINT_MAX);
      if (v === null) return c.report(st.args[0], `Invalid nb_get_retry value '${st.args[0].text}'`, { keyword: 'nb_get_retry' });
      currentChecker(c).retry = v;
    },
  },
  {
    name: 'virtualhost',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'HTTP_GET virtualhost name missing', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'virtualhost' });
      currentChecker(c).virtualhost = st.args[0].text;
    },
  },
  {
    name: 'http_protocol',
    handler: (c, st) => {
      if (st.args.length < 1) return c.report(st.keyword, 'Missing http_protocol version', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'http_protocol' });
      const v = st.args[0].text;
      const map: Record<string, '1.0' | '1.0C' | '1.1'> = { '1.0': '1.0', '1.1': '1.1', '1.0C': '1.0C', '1.0c': '1.0C' };
      if (!map[v]) return c.report(st.args[0], `Invalid http_protocol version ${v}`, { keyword: 'http_protocol', expected: '1.0, 1.0C or 1.1' });
      currentChecker(c).httpProtocol = map[v];
    },
  },
  {
    name: 'enable_sni',
    handler: (c, st) => {
      const v = c.optBool(st, `Invalid enable_sni parameter ${st.args[0]?.text}`);
      if (v !== null) currentChecker(c).enableSni = v;
    },
  },
  {
    name: 'fast_recovery',
    handler: (c, st) => {
      const v = c.optBool(st, `Invalid fast_recovery parameter ${st.args[0]?.text}`);
      if (v !== null) currentChecker(c).fastRecovery = v;
    },
  },
  {
    name: 'url',
    handler: (c, st) => {
      currentChecker(c).urls.push({ statusCodes: [], at: st.keyword.at, regexOptions: [] });
    },
    sub: table(URL_KEYWORDS),
    close: (c, st) => {
      const ch = currentChecker(c);
      const url = ch.urls[ch.urls.length - 1];
      if (!url.path) {
        c.report(st.keyword, 'HTTP/SSL_GET checker url has no path - ignoring', { code: 'NOTHING_CONFIGURED', keyword: 'url', expected: 'path /PATH' });
        ch.urls.pop();
      }
    },
  },
];

const httpCheck = (type: 'HTTP_GET' | 'SSL_GET'): K => ({
  name: type, handler: open(type, true), sub: table(type === 'HTTP_GET' ? [...httpKeywords(), ...PROBE_CLOSE] : httpKeywords()),
  close: (c, st) => {
    const ch = currentChecker(c);
    if (ch.urls.length === 0) {
      c.report(st.keyword, 'HTTP/SSL_GET checker has no urls specified - ignoring', { code: 'NOTHING_CONFIGURED', keyword: type, expected: 'url { path ... }' });
      ch.dropped = true;
    }
    if (!connOk(c, ch.conn, st.keyword)) ch.dropped = true;
  },
});

// ---------------------------------------------------------------- MISC_CHECK

const MISC_CHECK: K = {
  name: 'MISC_CHECK', handler: open('MISC_CHECK', false),
  sub: table([
    ...common(false),
    {
      name: 'misc_path',
      handler: (c, st) => {
        const args = c.commandLine(st);
        if (args) currentChecker(c).script = { args, user: null, group: null, at: st.args[0]?.at ?? st.keyword.at };
      },
    },
    {
      name: 'misc_timeout', args: 1,
      handler: (c, st) => {
        const v = c.uint(st, 1, 0, Math.floor(UINT_MAX / 1e6));
        if (v === null) return c.report(st.args[0], `Invalid misc_timeout value '${st.args[0].text}'`, { keyword: 'misc_timeout' });
        currentChecker(c).miscTimeoutS = v;
      },
    },
    { name: 'misc_dynamic', handler: (c) => { currentChecker(c).miscDynamic = true; } },
    {
      name: 'user',
      handler: (c, st) => {
        const ch = currentChecker(c);
        if (ch.miscRemoved) return;
        const cmd = ch.script?.args.join(' ') ?? '(null)';
        if (st.args.length < 1) return c.report(st.keyword, `No user specified for misc checker script ${cmd}`, { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'user' });
        const user = st.args[0].text;
        const group = st.args[1]?.text ?? null;
        if (!c.host.userExists(user) || (group !== null && !c.host.groupExists(group))) {
          c.report(st.args[0], `Failed to set uid/gid for misc checker script ${cmd} - removing`, { code: 'SCRIPT', keyword: 'user' });
          ch.miscRemoved = true;
          ch.dropped = true;
          return;
        }
        ch.miscUser = { user, group };
      },
    },
  ]),
  close: (c, st) => {
    const ch = currentChecker(c);
    if (ch.miscRemoved) return;
    if (!ch.script) {
      c.report(st.keyword, 'No script path has been specified for MISC_CHECKER - skipping', { code: 'NOTHING_CONFIGURED', keyword: 'MISC_CHECK', expected: 'misc_path COMMAND' });
      ch.dropped = true;
      return;
    }
    if (ch.miscUser) {
      ch.script = { ...ch.script, user: ch.miscUser.user, group: ch.miscUser.group };
    } else if (!c.defaultScriptUser(ch.script.at)) {
      c.report(st.keyword, `Unable to set default user for misc script ${ch.script.args.join(' ')} - removing`, { code: 'SCRIPT', keyword: 'MISC_CHECK' });
      ch.dropped = true;
    }
  },
};

// ---------------------------------------------------------------- DNS_CHECK

export const DNS_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA', 'RRSIG', 'DNSKEY'] as const;

const DNS_CHECK: K = {
  name: 'DNS_CHECK', handler: open('DNS_CHECK', true),
  sub: table([
    ...common(true),
    {
      name: 'type', args: 1,
      handler: (c, st) => {
        // check_dns.c: dns_type_lookup compares case-insensitively.
        const t = DNS_TYPES.find((x) => x === st.args[0].text.toUpperCase());
        if (!t) return c.report(st.args[0], `Unknown DNS check type ${st.args[0].text} - ignoring`, { keyword: 'type', expected: DNS_TYPES.join(', ') });
        currentChecker(c).dnsType = t;
      },
    },
    {
      name: 'name', args: 1,
      handler: (c, st) => {
        const ch = currentChecker(c);
        if (ch.dnsName !== null) return c.report(st.args[0], 'DNS_CHECK name already specified - ignoring', { code: 'DUPLICATE', keyword: 'name' });
        const n = st.args[0].text;
        if ((n[0] === '.' && n.length > 1) || n.includes('..')) return c.report(st.args[0], `DNS_CHECK name '${n}' has empty label - ignoring`, { keyword: 'name', expected: 'a domain name without empty labels' });
        ch.dnsName = n;
      },
    },
  ]),
  close: (c, st) => { if (!connOk(c, currentChecker(c).conn, st.keyword)) drop(c); },
};

// ---------------------------------------------------------------- SMTP_CHECK

const SMTP_CHECK: K = {
  name: 'SMTP_CHECK', handler: open('SMTP_CHECK', true),
  sub: table([
    {
      name: 'helo_name',
      handler: (c, st) => {
        if (st.args.length < 1) return c.report(st.keyword, 'SMTP_CHECK helo name missing', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'helo_name' });
        currentChecker(c).heloName = st.args[0].text;
      },
    },
    ...common(true),
    {
      // Deprecated in keepalived (only logged): prefer one SMTP_CHECK per target.
      name: 'host',
      handler: (c, st) => { c.smtpHost = { at: st.keyword.at }; },
      sub: table(common(true)),
      close: (c, st) => {
        const h = c.smtpHost!;
        c.smtpHost = null;
        if (connOk(c, h, st.keyword)) currentChecker(c).hosts.push(h);
      },
    },
  ]),
  close: (c, st) => {
    const ch = currentChecker(c);
    const co = ch.conn!;
    const configured = co.ip !== undefined || co.port !== undefined || co.bindto !== undefined || co.bindPort !== undefined
      || co.bindIf !== undefined || co.fwmark !== undefined || co.timeoutUs !== undefined;
    if (!configured && ch.hosts.length > 0) {
      // The first host block becomes this checker's target; the others become checkers of their own.
      ch.conn = ch.hosts.shift()!;
    } else if (!connOk(c, co, st.keyword)) {
      ch.dropped = true;
    }
  },
};

// ---------------------------------------------------------------- UDP_CHECK

/** lib/parser.c: read_hex_str — hex digits in pairs, blanks between bytes, X as a nibble wildcard when allowed. */
export function hexBytes(text: string, wildcards: boolean): number | null {
  let n = 0;
  let i = 0;
  const isHex = (ch: string | undefined): boolean => ch !== undefined && (/[0-9a-fA-F]/.test(ch) || (wildcards && (ch === 'x' || ch === 'X')));
  for (;;) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i >= text.length) break;
    if (!isHex(text[i])) return null;
    i++;
    if (i < text.length && text[i] !== ' ') {
      if (!isHex(text[i])) return null;
      i++;
    }
    n++;
  }
  return n === 0 ? null : n;
}

const UDP_CHECK: K = {
  name: 'UDP_CHECK', handler: open('UDP_CHECK', true),
  sub: table([
    ...common(true),
    {
      name: 'payload',
      handler: (c, st) => {
        if (st.args.length === 0) return c.report(st.keyword, 'UDP_CHECK payload requires a payload', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'payload', expected: 'hex bytes' });
        const hex = st.args.map((a) => a.text).join(' ');
        if (hexBytes(hex, false) === null) return c.report(st.args[0], 'Invalid hex string for UDP_CHECK payload', { keyword: 'payload', expected: 'hex bytes' });
        currentChecker(c).payload = hex;
      },
    },
    {
      name: 'require_reply',
      handler: (c, st) => {
        const ch = currentChecker(c);
        ch.requireReply = true;
        if (st.args.length === 0) return;
        const hex = st.args.map((a) => a.text).join(' ');
        if (hexBytes(hex, true) === null) return c.report(st.args[0], 'Invalid hex string for UDP_CHECK reply', { keyword: 'require_reply', expected: 'hex bytes, X for any nibble' });
        ch.replyData = hex;
      },
    },
    ...(['min_reply_length', 'max_reply_length'] as const).map((name): K => ({
      name, args: 1,
      handler: (c, st) => {
        const v = c.uint(st, 1, 0, 65535);
        if (v === null) return c.report(st.args[0], `UDP_CHECK ${name === 'min_reply_length' ? 'min' : 'max'} length ${st.args[0].text} not valid - must be between 0 & 65535`, { keyword: name });
        if (name === 'min_reply_length') currentChecker(c).minReplyLength = v;
        else currentChecker(c).maxReplyLength = v;
      },
    })),
  ]),
  close: (c, st) => {
    const ch = currentChecker(c);
    if (!connOk(c, ch.conn, st.keyword)) return drop(c);
    if (ch.minReplyLength > ch.maxReplyLength) {
      c.report(st.keyword, `UDP_CHECK min_reply length ${ch.minReplyLength} > max_reply_length ${ch.maxReplyLength} - will always fail`, { code: 'CONFLICT', keyword: 'UDP_CHECK' });
    }
  },
};

// ---------------------------------------------------------------- FILE_CHECK, BFD_CHECK

const FILE_CHECK: K = {
  name: 'FILE_CHECK', handler: open('FILE_CHECK', false),
  sub: table([
    {
      name: 'track_file', args: 1,
      handler: (c, st) => {
        const name = st.args[0].text;
        if (!c.trackFiles.some((t) => t.name === name)) return c.report(st.args[0], `track_file ${name} not found`, { code: 'NOT_FOUND', keyword: 'track_file', expected: 'the name of a track_file block defined earlier' });
        currentChecker(c).trackFile = name;
      },
    },
    {
      name: 'weight',
      handler: (c, st) => {
        const ch = currentChecker(c);
        if (st.args.length < 1) return c.report(st.keyword, 'track file weight missing', { code: 'MISSING_PARAMETER', klass: 'GENERAL_ERROR', keyword: 'weight' });
        const v = c.int(st, 1, -(2 ** 31 - 1), 2 ** 31 - 1);
        if (v === null) return c.report(st.args[0], `weight for track file must be in [${-(2 ** 31 - 1)}..${2 ** 31 - 1}] inclusive. Ignoring...`, { keyword: 'weight' });
        let reverse = false;
        if (st.args.length >= 2) {
          if (st.args[1].text === 'reverse') reverse = true;
          else if (st.args[1].text !== 'noreverse') return c.report(st.args[1], `unknown track file weight option ${st.args[1].text} - ignoring`, { keyword: 'weight', expected: 'reverse or noreverse' });
        }
        ch.fileWeight = v;
        ch.fileWeightReverse = reverse;
      },
    },
  ]),
  close: (c, st) => {
    const ch = currentChecker(c);
    if (!ch.trackFile) {
      c.report(st.keyword, 'FILE_CHECK has no track_file specified - ignoring', { code: 'NOTHING_CONFIGURED', keyword: 'FILE_CHECK', expected: 'track_file NAME' });
      ch.dropped = true;
    }
  },
};

const BFD_CHECK: K = {
  name: 'BFD_CHECK', handler: open('BFD_CHECK', false),
  sub: table([
    {
      name: 'name',
      handler: (c, st) => {
        const vs = c.vss[c.vss.length - 1];
        const label = vs.target.kind === 'addr' ? vs.target.addr.text : vs.target.kind === 'fwmark' ? `FWM ${vs.target.fwmark}` : vs.target.name;
        if (st.args.length !== 1) return c.report(st.keyword, `(${label}) BFD_CHECK - No or too many names specified`, { keyword: 'name' });
        const n = st.args[0].text;
        if (!c.bfdInstances.some((b) => b.name === n)) return c.report(st.args[0], `(${label}) BFD_CHECK - BFD ${n} not configured`, { code: 'NOT_FOUND', keyword: 'name' });
        currentChecker(c).bfdName = n;
      },
    },
    {
      name: 'alpha',
      handler: (c, st) => {
        const v = c.optBool(st, `Invalid alpha parameter ${st.args[0]?.text}`);
        if (v !== null) currentChecker(c).alpha = v;
      },
    },
  ]),
  close: (c, st) => {
    const ch = currentChecker(c);
    if (!ch.bfdName) {
      c.report(st.keyword, 'No name has been specified for BFD_CHECKER - skipping', { code: 'NOTHING_CONFIGURED', keyword: 'BFD_CHECK', expected: 'name BFD_INSTANCE' });
      ch.dropped = true;
    }
  },
};

/** check_api.c: install_checkers_keyword — the checker blocks a real_server accepts. */
export const CHECKER_KEYWORDS: K[] = [
  MISC_CHECK, SMTP_CHECK, TCP_CHECK, PING_CHECK, UDP_CHECK, httpCheck('HTTP_GET'), httpCheck('SSL_GET'), DNS_CHECK, FILE_CHECK, BFD_CHECK,
];
