// argv → a keepvsadm command, exactly as ipvsadm.c's parse_options + process_options decide it:
// the same option table (popt), the same per-option value checks in argv order (each one fails at
// once, like fail()), then the leftovers, the sched flags, the commands × options validity table
// (generic_opt_check), the service and dest checks, and the list conflicts — same texts, same exit
// codes. Pure: host and service names are looked up through the functions in ParseEnv.
import { OptionParser, GETOPT_ERROR_TEXT, type OptionSpec } from '../getopt.ts';
import {
  IPPROTO, SERVICE_ADDR, addrText, cAtoi, inetAton, inetPton4, inetPton6, parseFwmarkText,
  parseServiceAddress, stringToNumber, type HostLookup, type ServiceLookup,
} from '../../config/endpoint.ts';
import type { DestBody, ServiceOptionsBody, ServiceRef, TimeoutsBody } from '../../api/client.ts';
import type { Format } from './format.ts';
import { tryHelpText, usageText, VERSION_LINE } from './usage.ts';

/** ipvsadm.c: cmdnames, in CMD_* order, plus keepvs's explain. */
export const COMMANDS = [
  'add-service', 'edit-service', 'delete-service', 'flush', 'list', 'add-server', 'delete-server',
  'edit-server', 'set', 'start-daemon', 'stop-daemon', 'restore', 'save', 'zero', 'explain',
] as const;
export type CommandName = (typeof COMMANDS)[number];

/** ipvsadm.c: optnames, in OPTC_* order (bit j), plus keepvs's client, proxy-protocol and exact-path. */
export const OPTION_NAMES = [
  'numeric', 'connection', 'service-address', 'scheduler', 'persistent', 'netmask', 'real-server',
  'forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'mcast-interface', 'timeout', 'daemon',
  'stats', 'rate', 'thresholds', 'persistent-conn', 'nosort', 'syncid', 'exact', 'ops', 'pe',
  'sched-flags', 'mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen', 'tun-info', 'tun-type',
  'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum', 'client', 'proxy-protocol', 'exact-path',
] as const;
export type OptionName = (typeof OPTION_NAMES)[number];

/**
 * ipvsadm.c: commands_v_options, one row per command, one column per option above.
 * '+' compulsory, 'x' illegal, '1' only one of the '1' options, '.' optional. The last two columns
 * (client, proxy-protocol, exact-path) and the last row (explain) are keepvs's.
 */
export const VALIDITY: Readonly<Record<CommandName, string>> = {
  //                 ncsspMrfwxymtdsrtpsseopbgptstttncrcpe
  'add-service':    'xx+...xxxxxxxxxxxxxxx...xxxxxxxxxxx..',
  'edit-service':   'xx+...xxxxxxxxxxxxxxx...xxxxxxxxxxx..',
  'delete-service': 'xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'flush':          'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'list':           '.11xxxxxxxxx11.......xxxxxxx.xxxxxxxx',
  'add-server':     'xx+xxx+....xxxxxxxxxxxxxxxxxx.....x.x',
  'delete-server':  'xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'edit-server':    'xx+xxx+....xxxxxxxxxxxxxxxxxx.....x.x',
  'set':            'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'start-daemon':   'xxxxxxxxxxx.xxxxxxx.xxxx....xxxxxxxxx',
  'stop-daemon':    'xxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxx',
  'restore':        'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'save':           '.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'zero':           'xx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'explain':        'xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx+xx',
};

const TUNNEL_TYPES = ['ipip', 'gue', 'gre'] as const;
type TunnelTypeName = (typeof TUNNEL_TYPES)[number];
/** ipvsadm.c: tunopts (the option columns tunnel_types_v_options covers). */
const TUNNEL_OPTS: readonly OptionName[] = ['tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];
/** ipvsadm.c: tunnel_types_v_options */
const TUNNEL_VALIDITY: Readonly<Record<TunnelTypeName, string>> = { ipip: 'xxxx', gue: '+111', gre: 'x11x' };

/** What next() reports: a short option letter or the long name for long-only options. */
type Val =
  | 'A' | 'E' | 'D' | 'C' | 'L' | 'l' | 'Z' | 'a' | 'e' | 'd' | 'set' | 'h' | 'v' | 'R' | 'S'
  | 'start-daemon' | 'stop-daemon' | 't' | 'u' | 'sctp-service' | 'f' | 's' | 'p' | 'M' | 'r'
  | 'm' | 'i' | 'g' | 'w' | 'x' | 'y' | 'n' | 'c' | 'mcast-interface' | 'syncid' | 'timeout'
  | 'daemon' | 'stats' | 'rate' | 'thresholds' | 'persistent-conn' | 'nosort' | 'sort' | 'X' | '6'
  | 'o' | 'pe' | 'b' | 'mcast-group' | 'mcast-port' | 'mcast-ttl' | 'sync-maxlen' | 'tun-info'
  | 'tun-type' | 'tun-port' | 'tun-nocsum' | 'tun-csum' | 'tun-remcsum' | 'fullnat' | 'explain' | 'client'
  | 'proxy-protocol' | 'exact-path';

const o = (long: string, short: string | undefined, arg: 'none' | 'required' | 'optional', val: Val): OptionSpec<Val> =>
  short === undefined ? { long, arg, val } : { long, short, arg, val };

/** ipvsadm.c: parse_options' poptOption table, in its order; fullnat/explain/client/proxy-protocol/exact-path are keepvs's. */
export const OPTION_TABLE: readonly OptionSpec<Val>[] = [
  o('add-service', 'A', 'none', 'A'), o('edit-service', 'E', 'none', 'E'), o('delete-service', 'D', 'none', 'D'),
  o('clear', 'C', 'none', 'C'), o('list', 'L', 'none', 'L'), o('list', 'l', 'none', 'l'), o('zero', 'Z', 'none', 'Z'),
  o('add-server', 'a', 'none', 'a'), o('edit-server', 'e', 'none', 'e'), o('delete-server', 'd', 'none', 'd'),
  o('set', undefined, 'none', 'set'), o('help', 'h', 'none', 'h'), o('version', 'v', 'none', 'v'),
  o('restore', 'R', 'none', 'R'), o('save', 'S', 'none', 'S'),
  o('start-daemon', undefined, 'required', 'start-daemon'), o('stop-daemon', undefined, 'required', 'stop-daemon'),
  o('tcp-service', 't', 'required', 't'), o('udp-service', 'u', 'required', 'u'),
  o('sctp-service', undefined, 'required', 'sctp-service'), o('fwmark-service', 'f', 'required', 'f'),
  o('scheduler', 's', 'required', 's'), o('persistent', 'p', 'optional', 'p'), o('netmask', 'M', 'required', 'M'),
  o('real-server', 'r', 'required', 'r'), o('masquerading', 'm', 'none', 'm'), o('ipip', 'i', 'none', 'i'),
  o('gatewaying', 'g', 'none', 'g'), o('weight', 'w', 'required', 'w'), o('u-threshold', 'x', 'required', 'x'),
  o('l-threshold', 'y', 'required', 'y'), o('numeric', 'n', 'none', 'n'), o('connection', 'c', 'none', 'c'),
  o('mcast-interface', undefined, 'required', 'mcast-interface'), o('syncid', undefined, 'required', 'syncid'),
  o('timeout', undefined, 'none', 'timeout'), o('daemon', undefined, 'none', 'daemon'),
  o('stats', undefined, 'none', 'stats'), o('rate', undefined, 'none', 'rate'),
  o('thresholds', undefined, 'none', 'thresholds'), o('persistent-conn', undefined, 'none', 'persistent-conn'),
  o('nosort', undefined, 'none', 'nosort'), o('sort', undefined, 'none', 'sort'), o('exact', 'X', 'none', 'X'),
  o('ipv6', '6', 'none', '6'), o('ops', 'o', 'none', 'o'), o('pe', undefined, 'required', 'pe'),
  o('sched-flags', 'b', 'required', 'b'), o('mcast-group', undefined, 'required', 'mcast-group'),
  o('mcast-port', undefined, 'required', 'mcast-port'), o('mcast-ttl', undefined, 'required', 'mcast-ttl'),
  o('sync-maxlen', undefined, 'required', 'sync-maxlen'), o('tun-info', undefined, 'none', 'tun-info'),
  o('tun-type', undefined, 'required', 'tun-type'), o('tun-port', undefined, 'required', 'tun-port'),
  o('tun-nocsum', undefined, 'none', 'tun-nocsum'), o('tun-csum', undefined, 'none', 'tun-csum'),
  o('tun-remcsum', undefined, 'none', 'tun-remcsum'),
  o('fullnat', undefined, 'none', 'fullnat'), o('explain', undefined, 'none', 'explain'),
  o('client', undefined, 'required', 'client'), o('proxy-protocol', undefined, 'required', 'proxy-protocol'),
  o('exact-path', undefined, 'none', 'exact-path'),
];

/** ipvsadm.c: MAX_TIMEOUT (31 days) and libipvs.h: IPVS_SVC_PERSISTENT_TIMEOUT. */
const MAX_TIMEOUT = 86400 * 31;
const DEFAULT_PERSISTENT_TIMEOUT = 360;
const INT_MAX = 2147483647;
const SVC_F_PERSISTENT = 0x1;
const SVC_F_ONEPACKET = 0x4;
const SVC_F_SCHED1 = 0x8;
const SVC_F_SCHED2 = 0x10;
const SVC_F_SCHED3 = 0x20;

export interface DaemonSettings {
  readonly state: 'master' | 'backup';
  readonly mcastInterface: string;
  readonly syncid: number;
  readonly mcastGroup: string | null;
  readonly mcastPort: number;
  readonly mcastTtl: number;
  readonly syncMaxlen: number;
}

export type ListTarget =
  | { readonly kind: 'all' }
  | { readonly kind: 'service'; readonly service: ServiceRef }
  | { readonly kind: 'connections' }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'daemon' };

export type Command =
  | { readonly cmd: 'list'; readonly format: Format; readonly target: ListTarget }
  | { readonly cmd: 'save'; readonly format: Format }
  | { readonly cmd: 'restore' }
  | { readonly cmd: 'flush' }
  | { readonly cmd: 'add-service' | 'edit-service'; readonly service: ServiceRef; readonly options: ServiceOptionsBody }
  | { readonly cmd: 'delete-service'; readonly service: ServiceRef }
  | { readonly cmd: 'zero'; readonly service: ServiceRef | null }
  | { readonly cmd: 'add-server' | 'edit-server'; readonly service: ServiceRef; readonly dest: DestBody }
  | { readonly cmd: 'delete-server'; readonly service: ServiceRef; readonly dest: { readonly addr: string; readonly port: number } }
  | { readonly cmd: 'set'; readonly timeouts: TimeoutsBody }
  | { readonly cmd: 'start-daemon'; readonly daemon: DaemonSettings }
  | { readonly cmd: 'stop-daemon'; readonly daemon: DaemonSettings }
  | { readonly cmd: 'explain'; readonly service: ServiceRef; readonly client: { readonly addr: string; readonly port: number } };

/**
 * The process ends (or, in a restore, the line ends) with this output. `fatal` is ipvsadm's exit()
 * (fail, tryhelp_exit, usage, version: a restore stops too); not fatal is process_options returning
 * -1 after a popt error, which a restore survives.
 */
export interface ParseExit {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
  readonly fatal: boolean;
}

export type ParseOutcome = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly exit: ParseExit };

export interface ParseEnv {
  /** argv[0] as invoked: ipvsadm prints it in the usage and "Try ..." texts. */
  readonly program: string;
  /** gethostbyname: the first IPv4 address of a name, or null. */
  readonly hosts: HostLookup;
  /** getservbyname(name, protocol name), or null. */
  readonly services: ServiceLookup;
  readonly posixMeHarder?: boolean;
}

/** Thrown inside parse only, caught at its edge: ipvsadm's exit() / fail(). */
class Exit {
  readonly exit: ParseExit;
  constructor(exit: ParseExit) { this.exit = exit; }
}

/** ipvsadm.c: fail(2, ...) — the message and a newline on stderr, exit status 2. */
function fail(message: string): never {
  throw new Exit({ stdout: '', stderr: `${message}\n`, code: 2, fatal: true });
}

const AF_INET = 4;
const AF_INET6 = 6;

/** ipvs_service_t as ipvsadm fills it. */
interface SvcState {
  af: 0 | 4 | 6;
  protocol: number;
  addr: Uint8Array;
  port: number;
  fwmark: number;
  sched: string;
  flags: number;
  timeout: number;
  /** IPv4: the mask as a u32; IPv6: the prefix length (ipvsadm keeps both in one u32 field). */
  netmask: number;
  pe: string;
}

/** ipvs_dest_t as ipvsadm fills it. */
interface DestState {
  af: 0 | 4 | 6;
  addr: Uint8Array;
  port: number;
  fwd: 'masq' | 'route' | 'tunnel' | 'fullnat';
  weight: number;
  uThreshold: number;
  lThreshold: number;
  tunType: number;
  tunPort: number;
  tunFlags: number;
}

function protocolOf(n: number): 'tcp' | 'udp' | 'sctp' {
  return n === IPPROTO.UDP ? 'udp' : n === IPPROTO.SCTP ? 'sctp' : 'tcp';
}

function serviceRef(s: SvcState): ServiceRef {
  if (s.fwmark) return { fwmark: s.fwmark, family: s.af === AF_INET6 ? 6 : 4 };
  return { protocol: protocolOf(s.protocol), vip: addrText(s.addr), port: s.port };
}

function u32Dotted(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

function schedFlagNames(flags: number, sched: string): string[] {
  const named = sched === 'sh' || sched === 'mh';
  const out: string[] = [];
  if (flags & SVC_F_SCHED1) out.push(named ? `${sched}-fallback` : 'flag-1');
  if (flags & SVC_F_SCHED2) out.push(named ? `${sched}-port` : 'flag-2');
  if (flags & SVC_F_SCHED3) out.push('flag-3');
  return out;
}

/** ipvsadm.c: parse_sched_flags — strtok over ',' (empty items vanish), checked one by one. */
function parseSchedFlags(sched: string, arg: string): number {
  const s = sched !== '' ? sched : 'wlc';
  const items = arg.split(',').filter((x) => x !== '');
  // ipvsadm dereferences a NULL first token for an argument made only of commas (a crash);
  // keepvsadm reports it as an invalid flag instead.
  if (items.length === 0) fail("invalid scheduler flag `'");
  let flags = 0;
  for (const flag of items) {
    switch (flag) {
      case 'flag-1': flags |= SVC_F_SCHED1; break;
      case 'flag-2': flags |= SVC_F_SCHED2; break;
      case 'flag-3': flags |= SVC_F_SCHED3; break;
      case 'sh-fallback': flags |= SVC_F_SCHED1; if (s !== 'sh') fail(`incompatible scheduler flag \`${flag}'`); break;
      case 'sh-port': flags |= SVC_F_SCHED2; if (s !== 'sh') fail(`incompatible scheduler flag \`${flag}'`); break;
      case 'mh-fallback': flags |= SVC_F_SCHED1; if (s !== 'mh') fail(`incompatible scheduler flag \`${flag}'`); break;
      case 'mh-port': flags |= SVC_F_SCHED2; if (s !== 'mh') fail(`incompatible scheduler flag \`${flag}'`); break;
      default: fail(`invalid scheduler flag \`${flag}'`);
    }
  }
  return flags;
}

/** ipvsadm.c: parse_timeout — NULL (an absent optional value) is the default persistence. */
function parseTimeout(buf: string | null, min: number, max: number): number {
  if (buf === null) return DEFAULT_PERSISTENT_TIMEOUT;
  const i = stringToNumber(buf, min, max);
  if (i === -1) fail(`invalid timeout value \`${buf}' specified`);
  return i;
}

/** ipvsadm.c: generic_opt_check, over the options in column order. */
function genericOptCheck(cmd: CommandName, options: ReadonlySet<number>): void {
  const row = VALIDITY[cmd];
  let last = -1;
  for (let j = 0; j < OPTION_NAMES.length; j++) {
    const rule = row[j];
    if (!options.has(j)) {
      if (rule === '+') fail(`You need to supply the '${OPTION_NAMES[j]}' option for the '${cmd}' command`);
    } else {
      if (rule === 'x') fail(`Illegal '${OPTION_NAMES[j]}' option with the '${cmd}' command`);
      if (rule === '1') {
        if (last < 0) { last = j; continue; }
        fail(`The option '${OPTION_NAMES[j]}' conflicts with the '${OPTION_NAMES[last]}' option in the '${cmd}' command`);
      }
    }
  }
}

/** ipvsadm.c: tunnel_opt_check */
function tunnelOptCheck(tunType: number, options: ReadonlySet<number>): void {
  const name = TUNNEL_TYPES[tunType];
  const row = TUNNEL_VALIDITY[name];
  let last: OptionName | null = null;
  for (let j = 0; j < TUNNEL_OPTS.length; j++) {
    const opt = TUNNEL_OPTS[j];
    const rule = row[j];
    if (!options.has(OPTION_NAMES.indexOf(opt))) {
      if (rule === '+') fail(`You need to supply the '${opt}' option for the '${name}' tunnel type`);
    } else {
      if (rule === 'x') fail(`Illegal '${opt}' option with the '${name}' tunnel type`);
      if (rule === '1') {
        if (last === null) { last = opt; continue; }
        fail(`The option '${opt}' conflicts with the '${last}' option in the '${name}' tunnel type`);
      }
    }
  }
}

const opt = (name: OptionName): number => OPTION_NAMES.indexOf(name);

/** ipvsadm.c: parse_options + process_options up to the kernel call. */
export function parseCommandLine(args: readonly string[], env: ParseEnv): ParseOutcome {
  try {
    return { ok: true, command: parse(args, env) };
  } catch (e) {
    if (e instanceof Exit) return { ok: false, exit: e.exit };
    throw e;
  }
}

function parse(args: readonly string[], env: ParseEnv): Command {
  const tryHelp = (): never => {
    throw new Exit({ stdout: '', stderr: tryHelpText(env.program), code: 255, fatal: true });
  };
  const popt = new OptionParser<Val>([env.program, ...args], OPTION_TABLE, { posixMeHarder: env.posixMeHarder });

  const svc: SvcState = {
    af: 0, protocol: 0, addr: new Uint8Array(4), port: 0, fwmark: 0, sched: '', flags: 0, timeout: 0,
    netmask: 0xffffffff, pe: '',
  };
  const dest: DestState = {
    af: 0, addr: new Uint8Array(4), port: 0, fwd: 'route', weight: 1, uThreshold: 0, lThreshold: 0,
    tunType: 0, tunPort: 0, tunFlags: 0,
  };
  const daemon = { state: 'master' as 'master' | 'backup', mcastInterface: '', syncid: 0, mcastGroup: null as string | null, mcastPort: 0, mcastTtl: 0, syncMaxlen: 0 };
  let client: { addr: string; port: number } | null = null;
  let proxyProtocol: 'v1' | 'v2' | 'none' | null = null;
  let exactPath = false;
  const options = new Set<number>();
  const fmt = { numeric: false, rule: false, stats: false, rate: false, thresholds: false, persistentConn: false, nosort: false, exact: false, tunInfo: false };
  let schedFlagsArg = '';

  const setOption = (name: OptionName): void => {
    const j = opt(name);
    if (options.has(j)) fail(`multiple '${name}' options specified`);
    options.add(j);
  };

  // The first option must be the command; anything else (or nothing) is "Try ... -h".
  const first = popt.nextOption();
  if (first.kind !== 'option') return tryHelp();
  let cmd: CommandName;
  switch (first.val) {
    case 'A': cmd = 'add-service'; break;
    case 'E': cmd = 'edit-service'; break;
    case 'D': cmd = 'delete-service'; break;
    case 'a': cmd = 'add-server'; break;
    case 'e': cmd = 'edit-server'; break;
    case 'd': cmd = 'delete-server'; break;
    case 'C': cmd = 'flush'; break;
    case 'L': case 'l': cmd = 'list'; break;
    case 'Z': cmd = 'zero'; break;
    case 'set': cmd = 'set'; break;
    case 'R': cmd = 'restore'; break;
    case 'S': cmd = 'save'; break;
    case 'explain': cmd = 'explain'; break;
    case 'start-daemon':
      cmd = 'start-daemon';
      if (first.arg === 'master' || first.arg === 'backup') daemon.state = first.arg;
      else fail('illegal start-daemon parameter specified');
      break;
    case 'stop-daemon':
      cmd = 'stop-daemon';
      if (first.arg === 'master' || first.arg === 'backup') daemon.state = first.arg;
      else fail('illegal start_daemon specified');
      break;
    case 'h':
      throw new Exit({ stdout: usageText(env.program), stderr: '', code: 0, fatal: true });
    case 'v':
      throw new Exit({ stdout: VERSION_LINE, stderr: '', code: 0, fatal: true });
    default:
      return tryHelp();
  }

  for (;;) {
    const item = popt.nextOption();
    if (item.kind === 'end') break;
    if (item.kind === 'error') {
      // process_options returns -1 here (a restore goes on with the next line).
      throw new Exit({ stdout: '', stderr: `${popt.badOption()}: ${GETOPT_ERROR_TEXT[item.code]}\n`, code: 255, fatal: false });
    }
    const arg = item.arg as string;
    switch (item.val) {
      case 't': case 'u': case 'sctp-service': {
        setOption('service-address');
        svc.protocol = item.val === 't' ? IPPROTO.TCP : item.val === 'u' ? IPPROTO.UDP : IPPROTO.SCTP;
        const r = parseServiceAddress(arg, svc.protocol, env.hosts, env.services);
        if (!(r.result & SERVICE_ADDR)) fail('illegal virtual server address[:port] specified');
        svc.af = r.family;
        svc.addr = r.bytes;
        if (r.family === AF_INET6) svc.netmask = 128;
        if (r.port !== null) svc.port = r.port;
        break;
      }
      case 'f': {
        setOption('service-address');
        // ipvsadm sets a sane protocol even though a fwmark service does not use it.
        svc.af = AF_INET;
        svc.protocol = IPPROTO.TCP;
        const mark = parseFwmarkText(arg);
        if (mark === null) fail(`invalid fwmark value \`${arg}' specified`);
        svc.fwmark = mark;
        break;
      }
      case 's':
        setOption('scheduler');
        // strncpy into sched_name[IP_VS_SCHEDNAME_MAXLEN - 1].
        svc.sched = arg.slice(0, 15);
        break;
      case 'p':
        setOption('persistent');
        svc.flags |= SVC_F_PERSISTENT;
        svc.timeout = parseTimeout(item.arg, 1, MAX_TIMEOUT);
        break;
      case 'M':
        setOption('netmask');
        if (svc.af !== AF_INET6) {
          const m = inetAton(arg) ?? env.hosts(arg);
          if (!m) fail('illegal virtual server persistent mask specified');
          svc.netmask = ((m[0] << 24) | (m[1] << 16) | (m[2] << 8) | m[3]) >>> 0;
        } else {
          const n = cAtoi(arg) >>> 0;
          if (n < 1 || n > 128) fail('illegal ipv6 netmask specified');
          svc.netmask = n;
        }
        break;
      case 'r': {
        setOption('real-server');
        const r = parseServiceAddress(arg, svc.protocol, env.hosts, env.services);
        if (!(r.result & SERVICE_ADDR)) fail('illegal real server address[:port] specified');
        dest.af = r.family;
        dest.addr = r.bytes;
        // The service's port (as known at this point of argv) when none is given.
        dest.port = r.port ?? svc.port;
        break;
      }
      case 'i': setOption('forwarding-method'); dest.fwd = 'tunnel'; break;
      case 'g': setOption('forwarding-method'); dest.fwd = 'route'; break;
      case 'm': setOption('forwarding-method'); dest.fwd = 'masq'; break;
      case 'fullnat': setOption('forwarding-method'); dest.fwd = 'fullnat'; break;
      case 'w': {
        setOption('weight');
        const n = stringToNumber(arg, 0, 65535);
        if (n === -1) fail('illegal weight specified');
        dest.weight = n;
        break;
      }
      case 'x': {
        setOption('u-threshold');
        const n = stringToNumber(arg, 0, INT_MAX);
        if (n === -1) fail('illegal u_threshold specified');
        dest.uThreshold = n;
        break;
      }
      case 'y': {
        setOption('l-threshold');
        const n = stringToNumber(arg, 0, INT_MAX);
        if (n === -1) fail('illegal l_threshold specified');
        dest.lThreshold = n;
        break;
      }
      case 'c': setOption('connection'); break;
      case 'n': setOption('numeric'); fmt.numeric = true; break;
      case 'mcast-interface': setOption('mcast-interface'); daemon.mcastInterface = arg.slice(0, 15); break;
      case 'syncid': {
        setOption('syncid');
        const n = stringToNumber(arg, 0, 255);
        if (n === -1) fail('illegal syncid specified');
        daemon.syncid = n;
        break;
      }
      case 'timeout': setOption('timeout'); break;
      case 'daemon': setOption('daemon'); break;
      case 'stats': setOption('stats'); fmt.stats = true; break;
      case 'rate': setOption('rate'); fmt.rate = true; break;
      case 'thresholds': setOption('thresholds'); fmt.thresholds = true; break;
      case 'persistent-conn': setOption('persistent-conn'); fmt.persistentConn = true; break;
      case 'nosort': setOption('nosort'); fmt.nosort = true; break;
      case 'sort': break; // the default; accepted with any command, for compatibility
      case 'X': setOption('exact'); fmt.exact = true; break;
      case '6':
        // Not an OPTC option: no "multiple" check and no validity column.
        if (svc.fwmark) { svc.af = AF_INET6; svc.netmask = 128; } else fail('-6 used before -f\n');
        break;
      case 'o': setOption('ops'); svc.flags |= SVC_F_ONEPACKET; break;
      case 'pe': setOption('pe'); svc.pe = arg.slice(0, 16); break;
      case 'b': setOption('sched-flags'); schedFlagsArg = arg.slice(0, 127); break;
      case 'mcast-group':
        setOption('mcast-group');
        if (arg.includes(':')) {
          const g = inetPton6(arg);
          if (!g || g[0] !== 0xff) fail(`invalid IPv6 mcast-group \`${arg}'`);
          daemon.mcastGroup = addrText(g);
        } else {
          const g = inetPton4(arg);
          if (!g || (g[0] & 0xf0) !== 0xe0) fail(`invalid IPv4 mcast-group \`${arg}'`);
          daemon.mcastGroup = addrText(g);
        }
        break;
      case 'mcast-port': {
        setOption('mcast-port');
        const n = stringToNumber(arg, 1, 65535);
        if (n === -1) fail('illegal mcast-port specified');
        daemon.mcastPort = n;
        break;
      }
      case 'mcast-ttl': {
        setOption('mcast-ttl');
        const n = stringToNumber(arg, 1, 255);
        if (n === -1) fail('illegal mcast-ttl specified');
        daemon.mcastTtl = n;
        break;
      }
      case 'sync-maxlen': {
        setOption('sync-maxlen');
        const n = stringToNumber(arg, 1, 65535 - 20 - 8);
        if (n === -1) fail('illegal sync-maxlen specified');
        daemon.syncMaxlen = n;
        break;
      }
      case 'tun-info': setOption('tun-info'); fmt.tunInfo = true; break;
      case 'tun-type': {
        setOption('tun-type');
        const t = (TUNNEL_TYPES as readonly string[]).indexOf(arg);
        if (t < 0) fail('illegal tunnel type specified');
        dest.tunType = t;
        break;
      }
      case 'tun-port': {
        setOption('tun-port');
        const n = stringToNumber(arg, 1, 65535);
        if (n === -1) fail('illegal tunnel port specified');
        dest.tunPort = n;
        break;
      }
      case 'tun-nocsum': setOption('tun-nocsum'); break;
      case 'tun-csum': setOption('tun-csum'); dest.tunFlags |= 1; break;
      case 'tun-remcsum': setOption('tun-remcsum'); dest.tunFlags |= 2; break;
      case 'client': {
        setOption('client');
        const r = parseServiceAddress(arg, svc.protocol, env.hosts, env.services);
        if (!(r.result & SERVICE_ADDR)) fail('illegal client address[:port] specified');
        client = { addr: addrText(r.bytes), port: r.port ?? 0 };
        break;
      }
      case 'proxy-protocol':
        // keepvs: the PROXY protocol header toward the real servers (src/core/proxy-protocol.ts).
        setOption('proxy-protocol');
        if (arg !== 'v1' && arg !== 'v2' && arg !== 'none') fail(`invalid proxy-protocol value \`${arg}' specified`);
        proxyProtocol = arg;
        break;
      case 'exact-path':
        // keepvs: on the nft data plane, every new connection is decided by the core (NFQUEUE),
        // even when the scheduler could run in the kernel (docs/dataplane-nft.md).
        setOption('exact-path');
        exactPath = true;
        break;
      default:
        // A second command, -h or -v after the command.
        fail(`invalid option \`${popt.badOption()}'`);
    }
  }

  let timeouts: TimeoutsBody | null = null;
  if (cmd === 'set') {
    const a = popt.nextLeftover();
    const b = a === null ? null : popt.nextLeftover();
    const c = b === null ? null : popt.nextLeftover();
    if (a === null || b === null || c === null) fail('--set option requires 3 timeout values');
    timeouts = { tcp: parseTimeout(a, 0, MAX_TIMEOUT), tcpfin: parseTimeout(b, 0, MAX_TIMEOUT), udp: parseTimeout(c, 0, MAX_TIMEOUT) };
  }
  const extra = popt.nextLeftover();
  if (extra !== null) fail(`unexpected argument ${extra}`);

  if (schedFlagsArg !== '') {
    svc.flags &= ~(SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3);
    svc.flags |= parseSchedFlags(svc.sched, schedFlagsArg);
  }

  genericOptCheck(cmd, options);

  if (cmd === 'add-service' || cmd === 'edit-service') {
    if (!svc.fwmark && !svc.port && !(svc.flags & SVC_F_PERSISTENT)) fail('Zero port specified for non-persistent service');
    if (svc.flags & SVC_F_ONEPACKET && !svc.fwmark && svc.protocol !== IPPROTO.UDP) {
      fail('One-Packet Scheduling is only for UDP virtual services');
    }
    if (svc.sched === '') svc.sched = 'wlc';
  }
  // proxy-protocol.txt §2.1: the v1 text header has no UDP form (the -a line knows the protocol too).
  if (proxyProtocol === 'v1' && !svc.fwmark && svc.protocol === IPPROTO.UDP) {
    fail('PROXY protocol v1 is only for TCP virtual services; use v2');
  }
  if (cmd === 'start-daemon' && daemon.mcastInterface === '') daemon.mcastInterface = 'eth0';

  if (cmd === 'add-server' || cmd === 'edit-server') {
    // DR and TUN cannot change the port: ipvsadm forces the service's (not for fwmark services).
    if (!svc.fwmark && (dest.fwd === 'tunnel' || dest.fwd === 'route')) dest.port = svc.port;
    if (dest.af !== svc.af && dest.fwd !== 'tunnel') fail('Different address family is allowed only for tunneling servers');
    const tunOpts = ['tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'] as const;
    if (tunOpts.some((t) => options.has(opt(t))) && dest.fwd !== 'tunnel') fail('Tunnel options conflict with forward method');
    tunnelOptCheck(dest.tunType, options);
  }

  if (cmd === 'list') {
    const has = (n: OptionName): boolean => options.has(opt(n));
    if (((has('connection') || has('timeout') || has('daemon')) && (has('stats') || has('rate') || has('thresholds')))
      || ((has('timeout') || has('daemon')) && has('persistent-conn'))) {
      fail('options conflicts in the list command');
    }
  }

  const format: Format = { ...fmt };
  const service = serviceRef(svc);
  switch (cmd) {
    case 'list': {
      const target: ListTarget = options.has(opt('connection')) ? { kind: 'connections' }
        : options.has(opt('service-address')) ? { kind: 'service', service }
        : options.has(opt('timeout')) ? { kind: 'timeout' }
        : options.has(opt('daemon')) ? { kind: 'daemon' }
        : { kind: 'all' };
      return { cmd, format, target };
    }
    case 'save': return { cmd, format: { ...format, rule: true } };
    case 'restore': return { cmd };
    case 'flush': return { cmd };
    case 'add-service':
    case 'edit-service': {
      const v6 = svc.af === AF_INET6;
      const netmask = v6 ? (svc.netmask === 128 ? null : String(svc.netmask)) : (svc.netmask === 0xffffffff ? null : u32Dotted(svc.netmask));
      return {
        cmd, service, options: {
          scheduler: svc.sched,
          persistent: svc.flags & SVC_F_PERSISTENT ? svc.timeout : null,
          netmask,
          pe: svc.pe === '' ? null : svc.pe,
          ops: (svc.flags & SVC_F_ONEPACKET) !== 0,
          schedFlags: schedFlagNames(svc.flags, svc.sched),
          ...(proxyProtocol !== null ? { proxyProtocol } : {}),
          ...(exactPath ? { exactPath: true } : {}),
        },
      };
    }
    case 'delete-service': return { cmd, service };
    case 'zero': {
      // libipvs.c: ipvs_zero_service sends no service (= zero everything) when it has no fwmark,
      // a zero address and a zero port, which is also what no -t/-u/-f at all amounts to.
      const empty = !svc.fwmark && svc.addr.every((b) => b === 0) && svc.port === 0;
      return { cmd, service: empty ? null : service };
    }
    case 'add-server':
    case 'edit-server': {
      const csum = (['nocsum', 'csum', 'remcsum'] as const)[dest.tunFlags] ?? 'nocsum';
      return {
        cmd, service, dest: {
          addr: addrText(dest.addr), port: dest.port, fwd: dest.fwd, weight: dest.weight,
          uThreshold: dest.uThreshold, lThreshold: dest.lThreshold,
          tunnel: dest.fwd === 'tunnel' ? { type: TUNNEL_TYPES[dest.tunType], port: dest.tunPort, csum } : null,
          ...(proxyProtocol !== null ? { proxyProtocol } : {}),
        },
      };
    }
    case 'delete-server': return { cmd, service, dest: { addr: addrText(dest.addr), port: dest.port } };
    case 'set': return { cmd, timeouts: timeouts as TimeoutsBody };
    case 'start-daemon':
    case 'stop-daemon': return { cmd, daemon: { ...daemon } };
    case 'explain': return { cmd, service, client: client as { addr: string; port: number } };
  }
}
