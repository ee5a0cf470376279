// keepvs's command line: keepalived 2.2's flags where they mean something here
// (style-and-ecosystem.md B2), plus keepvs's own. Parsed with the shared table-driven getopt.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { OptionParser, type OptionSpec } from '../cli/getopt.ts';
import { parseHostPort } from '../config/values.ts';
import type { NftEnvOptions } from '../dataplane/nft/factory.ts';
import type { TcpEngineName } from '../dataplane/proxy/plane.ts';
import { nftFlagValue, NFT_FLAGS, type NftFlagName } from '../dataplane/nft/flags.ts';

export type DataPlaneChoice = 'proxy' | 'nft';

export interface DaemonOptions {
  /** -f: a keepalived.conf; null = start empty and let keepvsadm fill the director. */
  readonly configFile: string | null;
  /** -P / -C: which subsystems run (both when neither or both is given, as keepalived). */
  readonly vrrp: boolean;
  readonly check: boolean;
  readonly logConsole: boolean;
  readonly logDetail: boolean;
  /** -n is accepted; keepvs never forks. */
  readonly dontFork: boolean;
  /** -p; null = the default (docs/daemon.md). */
  readonly pidFile: string | null;
  readonly dataplane: DataPlaneChoice;
  /** --control; null = the default path (docs/api.md). */
  readonly control: string | null;
  readonly api: { readonly host: string; readonly port: number } | null;
  readonly apiTokenFile: string | null;
  readonly graceSeconds: number;
  readonly dumpDir: string;
  /** -i: the config id @ID lines are matched against; null = the short host name. */
  readonly configId: string | null;
  /** --proxy-engine: the proxy plane's TCP engine (absent: the plane's default, uring where it runs). */
  readonly proxyEngine?: TcpEngineName;
  /** --nft-*: the nft data plane's options given on the command line (absent: none given; env KEEPVS_NFT_* fill the rest). */
  readonly nft?: NftEnvOptions;
}

export type Invocation =
  | { readonly kind: 'run'; readonly options: DaemonOptions }
  | { readonly kind: 'config-test'; readonly options: DaemonOptions; readonly logFile: string | null; readonly dumpConf: boolean }
  | { readonly kind: 'dump-conf'; readonly options: DaemonOptions }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'signum'; readonly name: string }
  | { readonly kind: 'error'; readonly message: string };

type Val =
  | 'use-file' | 'vrrp' | 'check' | 'log-console' | 'log-detail' | 'dont-fork' | 'pid' | 'config-test'
  | 'version' | 'help' | 'signum' | 'dataplane' | 'control' | 'api' | 'api-token-file' | 'grace' | 'dump-dir'
  | 'config-id' | 'dump-conf' | 'proxy-engine' | NftFlagName;

interface FlagRow extends OptionSpec<Val> {
  /** The argument's name in --help, and the help line. */
  readonly metavar?: string;
  readonly help: string;
  readonly keepalived: boolean;
}

/** One row per flag: parsing and --help both come from here. */
export const FLAGS: readonly FlagRow[] = [
  { short: 'f', long: 'use-file', arg: 'required', val: 'use-file', metavar: 'FILE', keepalived: true, help: 'Use the specified configuration file (keepalived.conf)' },
  { short: 'P', long: 'vrrp', arg: 'none', val: 'vrrp', keepalived: true, help: 'Only run with VRRP subsystem' },
  { short: 'C', long: 'check', arg: 'none', val: 'check', keepalived: true, help: 'Only run with Health-checker subsystem' },
  { short: 'l', long: 'log-console', arg: 'none', val: 'log-console', keepalived: true, help: 'Log messages to local console' },
  { short: 'D', long: 'log-detail', arg: 'none', val: 'log-detail', keepalived: true, help: 'Detailed log messages' },
  { short: 'n', long: 'dont-fork', arg: 'none', val: 'dont-fork', keepalived: true, help: "Don't fork the daemon process (keepvs never forks)" },
  { short: 'p', long: 'pid', arg: 'required', val: 'pid', metavar: 'FILE', keepalived: true, help: 'Use specified pidfile for parent process' },
  { short: 'd', long: 'dump-conf', arg: 'none', val: 'dump-conf', keepalived: true, help: 'Dump the configuration data (keepvs: print it and exit)' },
  { short: 'i', long: 'config-id', arg: 'required', val: 'config-id', metavar: 'id', keepalived: true, help: 'Skip any configuration lines beginning \'@\' that don\'t match id' },
  { short: 't', long: 'config-test', arg: 'optional', val: 'config-test', metavar: 'LOG_FILE', keepalived: true, help: 'Check the configuration for obvious errors, output to stderr by default' },
  { long: 'signum', arg: 'required', val: 'signum', metavar: 'SIGFUNC', keepalived: true, help: 'Return signal number for STOP, RELOAD, DATA, STATS' },
  { short: 'v', long: 'version', arg: 'none', val: 'version', keepalived: true, help: 'Display the version number' },
  { short: 'h', long: 'help', arg: 'none', val: 'help', keepalived: true, help: 'Display this help message' },
  { long: 'dataplane', arg: 'required', val: 'dataplane', metavar: 'proxy|nft', keepalived: false, help: 'How packets are forwarded: proxy (user space, no root; default) or nft (kernel)' },
  { long: 'proxy-engine', arg: 'required', val: 'proxy-engine', metavar: 'uring|handles|sockets', keepalived: false, help: 'The proxy plane\'s TCP engine: uring (default where io_uring runs), handles (libuv) or sockets (node:net)' },
  { long: 'control', arg: 'required', val: 'control', metavar: 'PATH', keepalived: false, help: 'Control API Unix socket (default /run/keepvs/keepvs.sock as root, else $XDG_RUNTIME_DIR/keepvs.sock or /tmp/keepvs-UID/keepvs.sock)' },
  { long: 'api', arg: 'required', val: 'api', metavar: 'HOST:PORT', keepalived: false, help: 'Also serve the control API and /metrics on TCP (needs a token)' },
  { long: 'api-token-file', arg: 'required', val: 'api-token-file', metavar: 'FILE', keepalived: false, help: 'Bearer token for --api (else env KEEPVS_API_TOKEN)' },
  { long: 'grace', arg: 'required', val: 'grace', metavar: 'SECONDS', keepalived: false, help: 'On SIGTERM/SIGINT let open connections finish this long (default 5)' },
  { long: 'dump-dir', arg: 'required', val: 'dump-dir', metavar: 'DIR', keepalived: false, help: 'Where SIGUSR1/SIGUSR2 write keepvs.data/keepvs.stats (default /tmp)' },
  // The nft data plane's options (docs/dataplane-nft.md); each also reads a KEEPVS_NFT_* variable as a fallback.
  ...NFT_FLAGS.map((f) => ({ long: f.long, arg: f.metavar === undefined ? 'none' as const : 'required' as const, val: f.long, metavar: f.metavar, keepalived: false, help: f.help })),
];

export const DEFAULT_GRACE_SECONDS = 5;
export const DEFAULT_DUMP_DIR = '/tmp';

export function parseDaemonArgs(args: readonly string[]): Invocation {
  const p = new OptionParser<Val>(['keepvs', ...args], FLAGS);
  let configFile: string | null = null;
  let vrrpOnly = false;
  let checkOnly = false;
  let logConsole = false;
  let logDetail = false;
  let dontFork = false;
  let pidFile: string | null = null;
  let configTest: { logFile: string | null } | null = null;
  let dataplane: DataPlaneChoice = 'proxy';
  let proxyEngine: TcpEngineName | null = null;
  let control: string | null = null;
  let api: DaemonOptions['api'] = null;
  let apiTokenFile: string | null = null;
  let graceSeconds = DEFAULT_GRACE_SECONDS;
  let dumpDir = DEFAULT_DUMP_DIR;
  let configId: string | null = null;
  let dumpConf = false;
  let help = false;
  let version = false;
  let signumName: string | null = null;
  let nft: Record<string, unknown> = {};

  for (;;) {
    const it = p.nextOption();
    if (it.kind === 'end') break;
    if (it.kind === 'error') {
      const bad = p.badOption();
      const message = it.code === 'BADOPT' ? `Unknown option ${bad}`
        : it.code === 'NOARG' ? `Option ${bad} needs a value` : `Option ${bad} takes no value`;
      return { kind: 'error', message };
    }
    const arg = it.arg ?? '';
    switch (it.val) {
      case 'use-file': configFile = arg; break;
      case 'vrrp': vrrpOnly = true; break;
      case 'check': checkOnly = true; break;
      case 'log-console': logConsole = true; break;
      case 'log-detail': logDetail = true; break;
      case 'dont-fork': dontFork = true; break;
      case 'pid': pidFile = arg; break;
      case 'config-test': configTest = { logFile: it.arg }; break;
      case 'version': version = true; break;
      case 'help': help = true; break;
      case 'signum': signumName = arg; break;
      case 'dataplane':
        if (arg !== 'proxy' && arg !== 'nft') return { kind: 'error', message: `--dataplane must be proxy or nft, not '${arg}'` };
        dataplane = arg;
        break;
      case 'proxy-engine':
        if (arg !== 'uring' && arg !== 'handles' && arg !== 'sockets') return { kind: 'error', message: `--proxy-engine must be uring, handles or sockets, not '${arg}'` };
        proxyEngine = arg;
        break;
      case 'control':
        if (arg === '') return { kind: 'error', message: '--control needs a path' };
        control = arg;
        break;
      case 'api': {
        const hp = parseHostPort(arg);
        if (!hp.ok) return { kind: 'error', message: `--api: ${hp.error.message}` };
        api = hp.value;
        break;
      }
      case 'api-token-file': apiTokenFile = arg; break;
      case 'grace': {
        const n = /^\d+(\.\d+)?$/.test(arg) ? Number(arg) : Number.NaN;
        if (!Number.isFinite(n)) return { kind: 'error', message: `--grace takes seconds (a number >= 0), not '${arg}'` };
        graceSeconds = n;
        break;
      }
      case 'dump-dir': dumpDir = arg; break;
      case 'config-id': configId = arg; break;
      case 'dump-conf': dumpConf = true; break;
      default: {
        const v = nftFlagValue(it.val, it.arg);
        if (!v.ok) return { kind: 'error', message: v.message };
        nft = { ...nft, ...v.value };
      }
    }
  }
  const extra = p.nextLeftover();
  if (extra !== null) return { kind: 'error', message: `Unexpected argument ${extra}` };
  if (help) return { kind: 'help' };
  if (version) return { kind: 'version' };
  if (signumName !== null) return { kind: 'signum', name: signumName };
  // keepalived: -P alone runs only VRRP, -C alone only the checkers, both or neither run both.
  const both = vrrpOnly === checkOnly;
  const options: DaemonOptions = {
    configFile, vrrp: both || vrrpOnly, check: both || checkOnly, logConsole, logDetail, dontFork, pidFile,
    dataplane, control, api, apiTokenFile, graceSeconds, dumpDir, configId,
    ...(Object.keys(nft).length > 0 ? { nft: nft as NftEnvOptions } : {}),
    ...(proxyEngine !== null ? { proxyEngine } : {}),
  };
  if (configTest) return { kind: 'config-test', options, logFile: configTest.logFile, dumpConf };
  return dumpConf ? { kind: 'dump-conf', options } : { kind: 'run', options };
}

function flagText(f: FlagRow): string {
  const short = f.short ? `-${f.short}, ` : '    ';
  const value = f.metavar === undefined ? '' : f.arg === 'optional' ? `[=${f.metavar}]` : `=${f.metavar}`;
  return `  ${short}--${f.long}${value}`;
}

/** keepalived's usage layout: "Usage: keepalived [OPTION...]" then one line per flag. */
export function helpText(): string {
  // Help text starts at column 31 and wraps before column 80, continuing indented by one more.
  const line = (f: FlagRow): string => {
    const left = flagText(f);
    const words = f.help.split(' ');
    const rows: string[] = [];
    let cur = '';
    for (const w of words) {
      const width = rows.length === 0 ? 79 - 31 : 79 - 32;
      if (cur && cur.length + 1 + w.length > width) {
        rows.push(cur);
        cur = w;
      } else {
        cur = cur ? `${cur} ${w}` : w;
      }
    }
    rows.push(cur);
    const head = left.length < 31 ? `${left.padEnd(31)}${rows[0]}` : `${left}\n${' '.repeat(31)}${rows[0]}`;
    return [head, ...rows.slice(1).map((r) => `${' '.repeat(32)}${r}`)].join('\n');
  };
  return [
    'Usage: keepvs [OPTION...]',
    ...FLAGS.filter((f) => f.keepalived).map(line),
    '',
    'keepvs options:',
    ...FLAGS.filter((f) => !f.keepalived).map(line),
    '',
    'Without -f keepvs starts with no virtual services; configure it with keepvsadm.',
    'Signals: TERM/INT stop, HUP reload, USR1 data dump, USR2 stats dump (see docs/daemon.md).',
    '',
  ].join('\n');
}

export function keepvsVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function versionText(): string {
  return [
    `keepvs v${keepvsVersion()}`,
    '',
    'The Linux Virtual Server director, ipvsadm and keepalived, rebuilt in TypeScript.',
    '',
    `Running on Node.js ${process.version}, Linux ${release()}`,
    'Data planes: proxy, nft',
    '',
  ].join('\n');
}
