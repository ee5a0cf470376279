// keepvsadm: ipvsadm 1.31's command line on top of the keepvs control API. The thin shell around
// parse.ts (argv → command) and format.ts (snapshots → text): it resolves names, calls the daemon,
// prints, and ends with ipvsadm's exit codes:
//   0 success; 2 fail() (bad option value, validity table, no daemon — ipvsadm's "Can't
//   initialize ipvs" when the kernel has no IPVS); 255 tryhelp_exit(-1), a popt error, or a
//   refused change (process_options returns the libipvs -1); 1 a listing that could not be read.
// Unlike ipvsadm, which opens the kernel interface before it looks at argv, keepvsadm parses first:
// -h, -v and argument errors work without a running daemon.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import dns from 'node:dns';
import { ApiClient, ApiRefusal, DaemonUnreachable, defaultSocketPath, type ServiceRef } from '../../api/client.ts';
import type { ConnSnapshot, InfoSnapshot, ServiceSnapshot, TimeoutsSnapshot } from '../../core/snapshot.ts';
import { CORE_ERRORS } from '../../core/errors.ts';
import { ServicesDb, addrBytes, protocolName } from '../../config/endpoint.ts';
import { readRestoreLines } from '../../config/ipvsadm/rules.ts';
import { parseCommandLine, type Command, type ParseOutcome } from './parse.ts';
import { FMT_NONE, listAll, listConnections, listService, listTimeouts, saveRules, type Names } from './format.ts';
import { tryHelpText } from './usage.ts';

/** The part of ApiClient keepvsadm uses (tests pass the real client on a fake daemon's socket). */
export type Api = Pick<ApiClient, 'socketPath' | 'info' | 'services' | 'connections' | 'timeouts' | 'setTimeouts'
  | 'addService' | 'editService' | 'deleteService' | 'clear' | 'zero' | 'addDest' | 'editDest' | 'deleteDest' | 'explain'>;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
}

export interface Deps {
  readonly api: Api;
  /** argv[0] as invoked. */
  readonly program: string;
  /** gethostbyname: first IPv4 address of a name. */
  readonly resolveHost: (name: string) => Promise<Uint8Array | null>;
  /** gethostbyaddr: the name of an address, or null. */
  readonly reverseHost: (family: 4 | 6, addr: string) => Promise<string | null>;
  readonly servicesDb: ServicesDb;
  readonly posixMeHarder?: boolean;
}

/** libipvs.c's operations, for ipvs_strerror's per-function entries. */
type Op = 'add_service' | 'update_service' | 'del_service' | 'zero_service' | 'add_dest' | 'update_dest' | 'del_dest'
  | 'set_timeout' | 'flush' | 'get_services' | 'get_service' | 'get_timeout' | 'explain';

/** libipvs.c: ipvs_strerror's table — the per-function entries first, then the generic ones. */
const STRERROR_BY_OP: readonly (readonly [Op | null, string, string])[] = [
  ['add_service', 'EEXIST', 'Service already exists'],
  ['add_service', 'ENOENT', 'Scheduler or persistence engine not found'],
  ['update_service', 'ESRCH', 'No such service'],
  ['update_service', 'ENOENT', 'Scheduler or persistence engine not found'],
  ['del_service', 'ESRCH', 'No such service'],
  ['zero_service', 'ESRCH', 'No such service'],
  ['add_dest', 'ESRCH', 'Service not defined'],
  ['add_dest', 'EEXIST', 'Destination already exists'],
  ['update_dest', 'ESRCH', 'Service not defined'],
  ['update_dest', 'ENOENT', 'No such destination'],
  ['del_dest', 'ESRCH', 'Service not defined'],
  ['del_dest', 'ENOENT', 'No such destination'],
  ['get_services', 'ESRCH', 'No such service'],
  ['get_service', 'ESRCH', 'No such service'],
  [null, 'EPERM', 'Permission denied (you must be root)'],
  [null, 'EINVAL', 'Invalid operation.  Possibly wrong module version, address not unicast, ...'],
  [null, 'ENOPROTOOPT', 'Protocol not available'],
  [null, 'ENOMEM', 'Memory allocation problem'],
  [null, 'EOPNOTSUPP', 'Operation not supported with IPv6'],
  [null, 'EAFNOSUPPORT', 'Operation not supported with specified address family'],
  [null, 'EMSGSIZE', 'Module is wrong version'],
];

/** glibc strerror for the errnos the core can return that ipvs_strerror does not name. */
const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EEXIST: 'File exists',
  ERANGE: 'Numerical result out of range',
  EBUSY: 'Device or resource busy',
  E2BIG: 'Argument list too long',
  EIO: 'Input/output error',
  EACCES: 'Permission denied',
  EADDRINUSE: 'Address already in use',
  ENODEV: 'No such device',
};

/** Core codes for keepvs's own extensions: the kernel never returns them, so no errno text fits. */
const KEEPVS_CORE_CODES: ReadonlySet<string> = new Set(['PROXY_PROTOCOL_INVALID']);

/**
 * What ipvsadm prints for a refused change: ipvs_strerror(errno) for the core's refusals (they
 * carry the kernel's errno); keepvs's own refusals (the data plane cannot forward that way, a bad
 * request, a keepvs extension's value) have no kernel counterpart, so their message is printed as it is.
 */
export function refusalText(op: Op, e: ApiRefusal): string {
  if (!(e.code in CORE_ERRORS) || KEEPVS_CORE_CODES.has(e.code)) return e.message;
  const hit = STRERROR_BY_OP.find(([f, errno]) => (f === null || f === op) && errno === e.errno);
  return hit ? hit[2] : STRERROR[e.errno] ?? e.message;
}

/** ipvsadm's exit() from inside a command: a restore stops there too. */
class Stop {
  readonly code: number;
  constructor(code: number) { this.code = code; }
}

function sameAddr(a: string | null, b: string): boolean {
  if (a === null) return false;
  const x = addrBytes(a);
  const y = addrBytes(b);
  return x !== null && y !== null && x.length === y.length && x.every((v, i) => v === y[i]);
}

/** ipvs_get_service: the service with that fwmark and family, or protocol, address and port. */
function findService(services: readonly ServiceSnapshot[], ref: ServiceRef): ServiceSnapshot | undefined {
  if ('fwmark' in ref) return services.find((s) => s.kind === 'fwmark' && s.fwmark === ref.fwmark && s.family === ref.family);
  return services.find((s) => s.kind === 'addr' && s.protocol === ref.protocol && s.port === ref.port && sameAddr(s.vip, ref.vip));
}

/** How long keepvsadm waits for reverse lookups before it prints numbers instead. */
const REVERSE_TIMEOUT_MS = 2000;

export class Keepvsadm {
  private readonly io: Io;
  private readonly deps: Deps;

  constructor(io: Io, deps: Deps) {
    this.io = io;
    this.deps = deps;
  }

  /** ipvsadm.c: main — no argument lists the table with names; otherwise one command line. */
  async run(args: readonly string[]): Promise<number> {
    try {
      if (args.length === 0) return await this.execute({ cmd: 'list', format: FMT_NONE, target: { kind: 'all' } }, false);
      return await this.runLine(args, false);
    } catch (e) {
      if (e instanceof Stop) return e.code;
      if (e instanceof DaemonUnreachable) {
        this.io.err(this.unreachableText(e));
        return 2;
      }
      throw e;
    }
  }

  private unreachableText(e: DaemonUnreachable): string {
    const me = basename(this.deps.program);
    if (e.sysCode === 'EACCES' || e.sysCode === 'EPERM') return `${me}: cannot reach keepvs at ${e.socketPath}: permission denied\n`;
    return `${me}: cannot reach keepvs at ${e.socketPath} (is the keepvs daemon running?)\n`;
  }

  /** process_options for one command line; returns its result, throws Stop for an exit(). */
  private async runLine(args: readonly string[], readingStdin: boolean): Promise<number> {
    const outcome = await this.parse(args);
    if (!outcome.ok) {
      this.io.out(outcome.exit.stdout);
      this.io.err(outcome.exit.stderr);
      if (outcome.exit.fatal) throw new Stop(outcome.exit.code);
      return outcome.exit.code;
    }
    return this.execute(outcome.command, readingStdin);
  }

  /**
   * parse.ts is pure, so host names are resolved around it: parse with what is known, resolve the
   * names it asked for, parse again — until it asks for nothing new (each round learns a name).
   */
  private async parse(args: readonly string[]): Promise<ParseOutcome> {
    const known = new Map<string, Uint8Array | null>();
    for (;;) {
      const missing = new Set<string>();
      const outcome = parseCommandLine(args, {
        program: this.deps.program,
        posixMeHarder: this.deps.posixMeHarder,
        hosts: (name) => {
          if (known.has(name)) return known.get(name) ?? null;
          missing.add(name);
          return null;
        },
        services: (name, protocol) => {
          const p = protocolName(protocol);
          return p === null ? null : this.deps.servicesDb.portOf(name, p);
        },
      });
      if (missing.size === 0) return outcome;
      await Promise.all([...missing].map(async (n) => { known.set(n, await this.deps.resolveHost(n)); }));
    }
  }

  /**
   * Render with names: a first pass records which addresses the text needs, they are looked up
   * together (with a deadline), and the text is rendered again with the answers.
   */
  private async withNames(numeric: boolean, render: (names: Names) => string): Promise<string> {
    const db = this.deps.servicesDb;
    const service = (port: number, protocol: number): string | null => {
      const p = protocolName(protocol);
      return p === null ? null : db.nameOf(port, p);
    };
    if (numeric) return render({ host: () => null, service });
    const wanted = new Map<string, { family: 4 | 6; addr: string }>();
    render({ host: (family, addr) => { wanted.set(`${family}|${addr}`, { family, addr }); return null; }, service });
    const found = new Map<string, string | null>();
    await Promise.all([...wanted].map(async ([key, w]) => {
      found.set(key, await this.deps.reverseHost(w.family, w.addr));
    }));
    return render({ host: (family, addr) => found.get(`${family}|${addr}`) ?? null, service });
  }

  /** A read for a listing: an API refusal prints like ipvsadm's and ends with exit(1). */
  private async read<T>(op: Op, p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      if (e instanceof ApiRefusal) {
        this.io.err(`${refusalText(op, e)}\n`);
        throw new Stop(1);
      }
      throw e;
    }
  }

  /** A change: a refusal prints ipvs_strerror's text and the line's result is -1 (exit 255). */
  private async change(op: Op, p: Promise<unknown>): Promise<number> {
    try {
      await p;
      return 0;
    } catch (e) {
      if (e instanceof ApiRefusal) {
        this.io.err(`${refusalText(op, e)}\n`);
        return 255;
      }
      throw e;
    }
  }

  private async execute(c: Command, readingStdin: boolean): Promise<number> {
    const api = this.deps.api;
    switch (c.cmd) {
      case 'list': {
        const t = c.target;
        if (t.kind === 'all') {
          const info: InfoSnapshot = await this.read('get_services', api.info());
          const services: ServiceSnapshot[] = await this.read('get_services', api.services());
          this.io.out(await this.withNames(c.format.numeric, (n) => listAll(info, services, c.format, n)));
        } else if (t.kind === 'service') {
          const services = await this.read('get_service', api.services());
          const svc = findService(services, t.service);
          if (!svc) {
            this.io.err(`${STRERROR_BY_OP.find(([f]) => f === 'get_service')?.[2]}\n`);
            throw new Stop(1);
          }
          this.io.out(await this.withNames(c.format.numeric, (n) => listService(svc, c.format, n)));
        } else if (t.kind === 'connections') {
          const conns: ConnSnapshot[] = await this.read('get_services', api.connections());
          this.io.out(await this.withNames(c.format.numeric, (n) => listConnections(conns, c.format, n)));
        } else if (t.kind === 'timeout') {
          const to: TimeoutsSnapshot = await this.read('get_timeout', api.timeouts());
          this.io.out(listTimeouts(to));
        }
        // --daemon: ipvsadm prints one line per running sync daemon; keepvs runs none.
        return 0;
      }
      case 'save': {
        const services = await this.read('get_services', api.services());
        this.io.out(await this.withNames(c.format.numeric, (n) => saveRules(services, c.format, n)));
        return 0;
      }
      case 'restore': {
        // ipvsadm.c: restore_table refuses to nest ("avoid infinite loop").
        if (readingStdin) {
          this.io.err(tryHelpText(this.deps.program));
          throw new Stop(255);
        }
        let result = 0;
        for (const tokens of readRestoreLines(await this.io.readStdin())) {
          if (tokens.length > 0) result = await this.runLine(tokens, true);
        }
        return result;
      }
      case 'flush': return this.change('flush', api.clear());
      case 'add-service': return this.change('add_service', api.addService(c.service, c.options));
      case 'edit-service': return this.change('update_service', api.editService(c.service, c.options));
      case 'delete-service': return this.change('del_service', api.deleteService(c.service));
      case 'zero': return this.change('zero_service', api.zero(c.service));
      case 'add-server': return this.change('add_dest', api.addDest(c.service, c.dest));
      case 'edit-server': return this.change('update_dest', api.editDest(c.service, c.dest));
      case 'delete-server': return this.change('del_dest', api.deleteDest(c.service, c.dest));
      case 'set': return this.change('set_timeout', api.setTimeouts(c.timeouts));
      case 'start-daemon':
      case 'stop-daemon':
        // The kernel's connection sync daemon has no keepvs counterpart yet; a refused change.
        this.io.err('keepvs has no connection synchronization daemon (--start-daemon/--stop-daemon are not supported)\n');
        return 255;
      case 'explain': {
        const ex = await this.read('explain', api.explain(c.service, c.client));
        const text = typeof ex.text === 'string' ? ex.text : JSON.stringify(ex, null, 2);
        this.io.out(text.endsWith('\n') ? text : `${text}\n`);
        return 0;
      }
    }
  }
}

/** gethostbyname through the system resolver (NSS: /etc/hosts, then DNS), IPv4 only. */
async function systemResolveHost(name: string): Promise<Uint8Array | null> {
  try {
    const r = await dns.promises.lookup(name, { family: 4 });
    return addrBytes(r.address);
  } catch {
    return null;
  }
}

/** gethostbyaddr through getnameinfo (NSS as well), with a deadline so a dead DNS cannot hang a listing. */
function systemReverseHost(_family: 4 | 6, addr: string): Promise<string | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), REVERSE_TIMEOUT_MS);
    timer.unref();
    dns.promises.lookupService(addr, 0).then(
      (r) => { clearTimeout(timer); resolve(r.hostname === addr ? null : r.hostname); },
      () => { clearTimeout(timer); resolve(null); },
    );
  });
}

function loadServicesDb(): ServicesDb {
  try {
    return new ServicesDb(readFileSync('/etc/services', 'utf8'));
  } catch {
    return new ServicesDb('');
  }
}

function readAllStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

/** The executable's entry: bin/keepvsadm passes argv[0] in KEEPVSADM_ARGV0. */
export async function main(): Promise<void> {
  const program = process.env.KEEPVSADM_ARGV0 || 'keepvsadm';
  delete process.env.KEEPVSADM_ARGV0;
  const io: Io = {
    out: (t) => { if (t) process.stdout.write(t); },
    err: (t) => { if (t) process.stderr.write(t); },
    readStdin: readAllStdin,
  };
  const app = new Keepvsadm(io, {
    api: new ApiClient(defaultSocketPath()),
    program,
    resolveHost: systemResolveHost,
    reverseHost: systemReverseHost,
    servicesDb: loadServicesDb(),
    posixMeHarder: Boolean(process.env.POSIXLY_CORRECT || process.env.POSIX_ME_HARDER),
  });
  const code = await app.run(process.argv.slice(2));
  // Let stdout drain (a pipe may be slow), then leave even if a lookup is still pending.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

if (import.meta.main) void main();
