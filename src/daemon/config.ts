// The hook for keepalived.conf: `keepvs -t` (config test), `keepvs -d` (dump the effective
// configuration), `keepvs -f FILE` (start) and SIGHUP (reload) all come through here. -t and -d
// read the file with src/config/keepalived (docs/keepalived-conf.md). Running it is ConfigRunner:
// parse and validate the whole file (any error: refuse it — at start keepvs does not start, on a
// reload the running configuration stays and the stale metric says so), turn its virtual servers
// into director services (toDirectorPlan), leave out those the data plane cannot serve (reload.ts:
// acceptPlan), start the health checkers on the rest (carrying the old checkers' state over on a
// reload), and apply only the difference between the director the old configuration wanted and the
// one the new one wants (reload.ts: diffDesired). From then on health.ts applies the checkers' events.
// keepalived does the same in keepalived/check/check_daemon.c: start_check / reload_check_thread
// with ipwrapper.c: clear_diff_services; `reload_check_config` there is always on here.
import { accessSync, constants } from 'node:fs';
import type { Director } from '../core/director.ts';
import type { DataPlane } from '../dataplane/dataplane.ts';
import { loadKeepalivedConfig, type LoadResult } from '../config/keepalived/load.ts';
import { type Diagnostic, formatDiagnostic } from '../config/keepalived/diagnostics.ts';
import { dumpKeepalivedConfig } from '../config/keepalived/dump.ts';
import type { KeepalivedConfig } from '../config/keepalived/model.ts';
import type { KeepalivedHost } from '../config/keepalived/host.ts';
import { toDirectorPlan, type DirectorPlan } from '../config/keepalived/lvs.ts';
import { HealthChecker, type HealthCheckerOptions } from '../check/health-checker.ts';
import { BfdProcess } from '../check/bfd/process.ts';
import { bfdInstanceConfigs } from '../check/bfd/config.ts';
import { type BfdNet, systemBfdNet } from '../sys/bfd-socket.ts';
import { probeCloseSetting, scriptSettings } from '../check/from-keepalived.ts';
import type { BfdStatus, ConfigStatus } from '../api/router.ts';
import { type AcceptedPlan, acceptPlan, applyOps, diffDesired, opText } from './reload.ts';
import { HealthGlue, checkerSpecs, desiredState, scriptProblems, vsName } from './health.ts';
import { hostname } from 'node:os';
import { CheckerAlerts } from '../check/smtp-alert.ts';
import type { Logger } from './log.ts';
import { CheckerFifos, type FifoSetting } from '../check/notify-fifo.ts';
import type { NotifyScriptSpec } from '../check/spec.ts';
import type { ScriptSpec, GlobalDefs } from '../config/keepalived/model.ts';
import { createScriptRunner, checkScriptSecurity, defaultScriptUser, lookupScriptUser } from '../sys/exec.ts';
import { type LvsGlobalsState, applyLvsGlobals } from './lvs-globals.ts';
import { localAddresses } from '../sys/local-address.ts';

/** How often ha_suspend looks at the host's addresses (keepalived hears netlink at once). */
const HA_SUSPEND_POLL_MS = 1000;

/**
 * keepvs -t exit codes: those Debian's keepalived 2.2.7 -t actually returns (the man page's 1/3/4/5
 * do not match the binary; src/config/keepalived/diagnostics.ts has the mapping from its source):
 * 0 fine; 2 a keyword lacks its parameter (keepalived stops reading); 4 only "cannot run" problems
 * (a missing interface or file); 5 configuration errors keepalived works around; 6 scripts without
 * enable_script_security, or an include that include_check makes fatal. keepvs adds 1 for "could
 * not test at all" (no -f given).
 */
export const CONFIG_TEST_EXIT = {
  OK: 0, CANNOT_TEST: 1, MISSING_PARAMETER: 2, CANNOT_RUN: 4, ERRORS_WILL_RUN: 5, SCRIPT_SECURITY: 6,
} as const;

export interface ConfigTestOutcome {
  readonly exitCode: number;
  /** Diagnostics, one a line: "file:line:col: severity: message [keyword] (expected ...) {CODE}". */
  readonly lines: readonly string[];
}

export interface ConfigReadOptions {
  /** keepalived -i: the id @ID lines are matched against (default: the short host name). */
  readonly configId?: string | null;
  /** Tests pass a fixed host; default: this machine. */
  readonly host?: KeepalivedHost;
}

function diagnosticLines(file: string, r: LoadResult): string[] {
  const lines = r.diagnostics.map(formatDiagnostic);
  if (lines.length > 0) {
    const count = (s: string): number => r.diagnostics.filter((d) => d.severity === s).length;
    lines.push(`${file}: ${count('error')} error(s), ${count('warning')} warning(s); keepalived -t would exit ${r.exitCode}`);
  }
  return lines;
}

/** keepvs -t [-f FILE]: check, report, change nothing. */
export async function testConfig(file: string | null, opts: ConfigReadOptions = {}): Promise<ConfigTestOutcome> {
  if (file === null) {
    return { exitCode: CONFIG_TEST_EXIT.CANNOT_TEST, lines: ['config test needs a configuration file: keepvs -t -f FILE'] };
  }
  const r = loadKeepalivedConfig(file, { configId: opts.configId, host: opts.host });
  return { exitCode: r.exitCode, lines: diagnosticLines(file, r) };
}

export interface ConfigDumpOutcome extends ConfigTestOutcome {
  /** The effective configuration as keepalived.conf text; '' when the file could not be read. */
  readonly text: string;
}

/** keepvs -d [-f FILE]: the effective configuration (defaults filled in, fix-ups applied). */
export async function dumpConfig(file: string | null, opts: ConfigReadOptions = {}): Promise<ConfigDumpOutcome> {
  if (file === null) {
    return { exitCode: CONFIG_TEST_EXIT.CANNOT_TEST, lines: ['dumping the configuration needs a configuration file: keepvs -d -f FILE'], text: '' };
  }
  const r = loadKeepalivedConfig(file, { configId: opts.configId, host: opts.host });
  return { exitCode: r.exitCode, lines: diagnosticLines(file, r), text: r.config ? dumpKeepalivedConfig(r.config) : '' };
}

export interface ConfigTarget {
  readonly director: Director;
  readonly plane: DataPlane;
  /** Where the runner logs; default: nowhere. */
  readonly log?: Logger;
}

export type ConfigLoadOutcome = { readonly ok: true; readonly lines: readonly string[] } | { readonly ok: false; readonly message: string };

function readable(file: string): string | null {
  try {
    accessSync(file, constants.R_OK);
    return null;
  } catch (e) {
    return `cannot read configuration file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
}

/**
 * What makes keepvs refuse a file: every error, and an include that is missing or skipped, which
 * keepalived only warns about — running without it would drop whatever it defines. (An include
 * whose wildcard matches nothing is fine: an empty conf.d.)
 */
export function refusesFile(d: Diagnostic): boolean {
  if (d.severity === 'error') return true;
  return d.severity === 'warning' && (d.code === 'INCLUDE_MISSING' || d.code === 'INCLUDE_NOT_FILE' || d.code === 'FILE_UNREADABLE');
}

const SILENT: Logger = { log() {}, error() {}, warn() {}, info() {}, debug() {} };

export interface ConfigRunnerDeps extends ConfigTarget, ConfigReadOptions {
  /** The director's clock (ms), for deletions. Default Date.now. */
  readonly now?: () => number;
  /** Wall clock (ms since the epoch) for keepvs_config_last_reload_success_timestamp_seconds. */
  readonly wallClock?: () => number;
  /**
   * -C/-P: whether the checker subsystem runs. keepalived programs IPVS from its checker process,
   * so without it (keepvs -P) the virtual servers are read but not run. Default true.
   */
  readonly check?: boolean;
  /** Checker options: tests inject a clock, probes, a script runner. */
  readonly checker?: Partial<Omit<HealthCheckerOptions, 'virtualServers' | 'carry'>>;
  /**
   * Called with an accepted file right before the plane syncs with it (start and reload): the
   * daemon tells the plane which addresses VRRP manages (wiring.ts).
   */
  readonly beforeSync?: (model: KeepalivedConfig) => void;
  /** smtp_alert's mail sender (tests: a recorder). */
  readonly sendAlertMail?: ConstructorParameters<typeof CheckerAlerts>[3];
  /** BFD sockets (src/sys/bfd-socket.ts); tests give a fake. */
  readonly bfdNet?: BfdNet;
}

interface Live {
  readonly accepted: AcceptedPlan;
  readonly checker: HealthChecker;
  readonly glue: HealthGlue;
  /** smtp_alert's subscription to the checker (null: no mail configured). */
  readonly unsubscribeAlerts: (() => void) | null;
}

/** How one load went: the file's verdict, what was skipped, what changed. */
export interface ConfigApplyResult {
  readonly ok: boolean;
  /** Why the file was refused (ok false). */
  readonly message: string;
  readonly diagnostics: readonly Diagnostic[];
  /** Operations applied to the director (reload.ts: opText). */
  readonly ops: readonly string[];
}

/**
 * keepvs -f: runs the keepalived.conf's virtual servers. start() once, reload() on SIGHUP, stop()
 * at the end; loads run one at a time.
 */
export class ConfigRunner {
  readonly #d: ConfigRunnerDeps;
  readonly #log: Logger;
  #live: Live | null = null;
  #model: KeepalivedConfig | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #file: string | null = null;
  #stale = false;
  #lastSuccess: number | null = null;
  readonly #reloads = { success: 0, failure: 0 };
  /** notify_fifo / lvs_notify_fifo (check/notify-fifo.ts), reopened at every accepted load. */
  #fifos: CheckerFifos | null = null;
  readonly #lvsGlobals: LvsGlobalsState = { original: null };
  /** The BFD sessions BFD_CHECKs follow (check/bfd/process.ts); kept across reloads. */
  #bfd: BfdProcess | null = null;
  /** ha_suspend: the host's addresses, refreshed by a poll while some virtual server uses it. */
  #local = new Set<string>();
  #haPoll: ReturnType<typeof setInterval> | null = null;

  constructor(deps: ConfigRunnerDeps) {
    this.#d = deps;
    this.#log = deps.log ?? SILENT;
  }

  /** The running checkers (null until a load succeeds). */
  /** The configuration last applied (VRRP instances are read from it at start). */
  get model(): KeepalivedConfig | null {
    return this.#model;
  }

  get checker(): HealthChecker | null {
    return this.#live?.checker ?? null;
  }

  /** The BFD sessions and counters (GET /v1/bfd, keepvs_bfd_* metrics); null while no BFD process runs. */
  bfdStatus(): BfdStatus | null {
    const b = this.#bfd;
    return b ? { sessions: b.snapshot(), stats: b.stats() } : null;
  }

  status(): ConfigStatus {
    return { file: this.#file, stale: this.#stale, lastSuccessSeconds: this.#lastSuccess, reloads: { ...this.#reloads } };
  }

  /** keepvs -f FILE at start. A refused file (ok false) means keepvs does not start. */
  start(file: string): Promise<ConfigApplyResult> {
    return this.#serial(async () => {
      const r = await this.#load(file, 'start');
      if (r.ok) this.#succeeded(file);
      return r;
    });
  }

  /** SIGHUP: a refused file leaves everything as it runs and marks the configuration stale. */
  reload(file: string): Promise<ConfigApplyResult> {
    return this.#serial(async () => {
      const r = await this.#load(file, 'reload');
      if (r.ok) {
        this.#reloads.success++;
        this.#succeeded(file);
      } else {
        this.#reloads.failure++;
        this.#stale = true;
      }
      return r;
    });
  }

  /** Stop the checkers (omega's notifies run); the director is left as it is. */
  stop(): void {
    const live = this.#live;
    if (!live) return;
    live.glue.detach();
    live.checker.stop();
    live.unsubscribeAlerts?.();
    void this.#bfd?.stop();
    this.#fifos?.close();
    if (this.#haPoll) clearInterval(this.#haPoll);
    this.#haPoll = null;
  }

  /** ha_suspend's edge: a poll of the host's addresses, unless the checker options bring their own. */
  #haSuspendWatch(virtualServers: readonly { readonly haSuspend: boolean }[]): Pick<HealthCheckerOptions, 'isLocalAddress'> {
    if (this.#d.checker?.isLocalAddress) return {};
    const wanted = virtualServers.some((v) => v.haSuspend);
    if (!wanted) {
      if (this.#haPoll) clearInterval(this.#haPoll);
      this.#haPoll = null;
      return {};
    }
    this.#local = localAddresses();
    this.#haPoll ??= setInterval(() => {
      this.#local = localAddresses();
      this.#live?.checker.addressesChanged();
    }, HA_SUSPEND_POLL_MS);
    this.#haPoll.unref?.();
    return { isLocalAddress: (a) => this.#local.has(a) };
  }

  /** smtp_alert: mail the checker's changes when global_defs names a server and recipients (check/smtp-alert.ts). */
  #alerts(config: KeepalivedConfig, accepted: AcceptedPlan, checker: HealthChecker): (() => void) | null {
    const g = config.globalDefs;
    if (!g.smtpServer || g.notificationEmail.length === 0) return null;
    const vsAlert = new Set<string>();
    const rsAlert = new Set<string>();
    for (const v of accepted.virtualServers) {
      const name = vsName(v);
      if (v.smtpAlert) vsAlert.add(name);
      for (const r of v.realServers) if (r.smtpAlert) rsAlert.add(`${name}|${r.addr.text}|${r.port}`);
    }
    if (vsAlert.size === 0 && rsAlert.size === 0) return null;
    const alerts = new CheckerAlerts({
      routerId: g.routerId, from: g.notificationEmailFrom, to: g.notificationEmail, server: g.smtpServer,
      helo: g.smtpHeloName ?? hostname(), connectTimeoutMs: g.smtpConnectTimeoutS * 1000, noCheckerEmails: g.other.has('no_checker_emails'),
    }, { vs: (n) => vsAlert.has(n), rs: (n, a, p) => rsAlert.has(`${n}|${a}|${p}`) }, (m) => this.#log.info(m), this.#d.sendAlertMail);
    return checker.subscribe((ev) => alerts.on(ev));
  }

  /** The checker side's FIFOs for this file, opened as keepalived's start_check opens them. */
  #openFifos(g: GlobalDefs, scripts: ReturnType<typeof scriptSettings> & ConfigRunnerDeps['checker']): void {
    const toSetting = (f: GlobalDefs['lvsNotifyFifo']): FifoSetting | null => f && { path: f.path, script: f.script && notifyScript(f.script) };
    const lookup = scripts?.lookupUser ?? lookupScriptUser;
    const judge = scripts?.checkScript ?? checkScriptSecurity;
    this.#fifos ??= new CheckerFifos({
      runner: this.#d.checker?.runner ?? createScriptRunner(),
      identity: (script) => {
        const u = script.user ?? scripts?.scriptUser;
        const id = u ? lookup(u.user, u.group) : defaultScriptUser(scripts?.scriptSecurity ?? false, lookup);
        if (!id) return null;
        const v = judge(script.argv[0] ?? '', id, scripts?.scriptSecurity ?? false).verdict;
        return v === 'ok' || v === 'insecure' ? id : null;
      },
      log: (level, m) => this.#log.log(level, m),
    });
    this.#fifos.open(toSetting(g.notifyFifo), toSetting(g.lvsNotifyFifo));
  }

  /**
   * The bfd_instance sessions some BFD_CHECK names (VRRP's track_bfd does not run yet): started at the
   * first load that needs one, reconfigured at each reload, unchanged sessions keep running.
   */
  async #runBfd(config: KeepalivedConfig, specs: readonly { real_server: readonly { checkers: readonly { type: string; name?: string }[] }[] }[]): Promise<BfdProcess | null> {
    const used = new Set(specs.flatMap((v) => v.real_server.flatMap((r) => r.checkers.filter((c) => c.type === 'BFD_CHECK').map((c) => c.name ?? ''))));
    const { instances, problems } = bfdInstanceConfigs(config.bfdInstances);
    for (const p of problems) {
      const at = config.bfdInstances.find((b) => b.name === p.instance)?.at;
      this.#log.log('warn', `${at ? `${at.file}:${at.line}:${at.col}: ` : ''}warning: ${p.message} {${p.code}}`);
    }
    const run = instances.filter((i) => i.checker && used.has(i.name));
    if (!this.#bfd && run.length === 0) return null;
    if (!this.#bfd) {
      // The checkers' clock and random source (tests inject them), so BFD timers step with theirs.
      this.#bfd = new BfdProcess({
        instances: run, net: this.#d.bfdNet ?? systemBfdNet, clock: this.#d.checker?.clock, random: this.#d.checker?.random,
        log: (level, m) => this.#log.log(level, m),
      });
      await this.#bfd.start();
    } else {
      await this.#bfd.reconfigure(run);
    }
    return this.#bfd;
  }

  #succeeded(file: string): void {
    this.#file = file;
    this.#stale = false;
    this.#lastSuccess = Math.floor((this.#d.wallClock ?? Date.now)() / 1000);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #load(file: string, phase: 'start' | 'reload'): Promise<ConfigApplyResult> {
    const log = this.#log;
    const { director, plane } = this.#d;
    const now = this.#d.now ?? Date.now;
    const refused = (message: string, diagnostics: readonly Diagnostic[]): ConfigApplyResult => ({ ok: false, message, diagnostics, ops: [] });

    // parse + validate: keepalived's own verdict on the file, every problem with its place.
    const r = loadKeepalivedConfig(file, { configId: this.#d.configId, host: this.#d.host });
    for (const d of r.diagnostics) log.log(d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warn' : 'info', formatDiagnostic(d));
    if (!r.config) return refused(`cannot read configuration file ${file}`, r.diagnostics);
    const config = r.config;
    // The message names the first problem that has a place (a whole-file one, like an unclosed block, has none).
    const errors = r.diagnostics.filter(refusesFile).sort((a, b) => (a.at ? 0 : 1) - (b.at ? 0 : 1)).map(formatDiagnostic);

    // The virtual servers this plane can serve; each one it cannot is skipped, by name and place.
    const check = this.#d.check ?? true;
    let plan: DirectorPlan = { services: [], diagnostics: [] };
    if (check) plan = toDirectorPlan(config);
    else if (config.virtualServers.length > 0) log.info(`${config.virtualServers.length} virtual_server block(s) not run: the checker subsystem is off (-P)`);
    const { accepted, skipped } = acceptPlan(plan, plane);
    const scripts = { ...scriptSettings(config), ...this.#d.checker };
    for (const p of scriptProblems(accepted, scripts)) {
      const line = `${p.at.file}:${p.at.line}:${p.at.col}: error: ${p.message} {${p.code}}`;
      log.error(line);
      errors.push(line);
    }
    if (errors.length > 0) {
      return refused(`${file}: ${errors.length} error(s), the first: ${errors[0]} (keepvs -t -f ${file} lists the file's own)`, r.diagnostics);
    }
    for (const d of plan.diagnostics) log.error(formatDiagnostic(d));
    for (const s of skipped) log.error(`${s.at.file}:${s.at.line}:${s.at.col}: error: ${s.message} {${s.code}}`);
    const { specs, skipped: checkersSkipped } = checkerSpecs(config, accepted);
    for (const c of checkersSkipped) log.warn(`${c.file}:${c.line}: warning: ${c.type}: ${c.reason}`);
    // global_defs lvs_flush / lvs_timeouts / lvs_sync_daemon and the FIFOs: the checker process's (-C).
    if (check) {
      applyLvsGlobals(director, config.globalDefs, phase, this.#lvsGlobals, log, now());
      this.#openFifos(config.globalDefs, scripts);
    }

    // diff + apply: what the old checkers had put in the table against what the new ones want.
    const old = this.#live;
    const before = old ? desiredState(old.accepted, old.checker.snapshot()) : [];
    const carry = old?.checker.carry();
    old?.glue.detach();
    const flushOnStop = config.globalDefs.lvsFlushOnStop;
    const bfd = await this.#runBfd(config, specs);
    const checker = new HealthChecker({
      ...scripts,
      ...(bfd ? { bfd } : {}),
      log: (m) => log.info(m),
      ...(this.#fifos ? { fifo: this.#fifos.writer } : {}),
      lvsFlushOnStop: flushOnStop,
      ...probeCloseSetting(config),
      ...(check ? this.#haSuspendWatch(accepted.virtualServers) : {}),
      ...this.#d.checker,
      virtualServers: specs,
      carry,
    });
    // What the new file dropped leaves with keepalived's notifies (clear_diff_services), from the
    // old checker and its scripts, after the carry was taken (the new one starts from before).
    old?.checker.dropForReload(checker.members(), flushOnStop);
    old?.checker.retire();
    old?.unsubscribeAlerts?.();
    for (const p of checker.problems) log.warn(`${p.where}: ${p.message} {${p.code}}`);
    // Subscribed before start(): "Starting with quorum up" mails too (ipwrapper.c: do_vs_notifies).
    const unsubscribeAlerts = check ? this.#alerts(config, accepted, checker) : null;
    checker.start();
    const after = desiredState(accepted, checker.snapshot());
    const ops = diffDesired(before, after);
    for (const op of ops) log.debug(`${phase}: ${opText(op)}`);
    for (const f of applyOps(director, ops, now())) log.error(`${opText(f.op)} failed: ${f.error.code}: ${f.error.message}`);
    const glue = new HealthGlue({ director, plane, log, now, checker, accepted });
    glue.attach();
    this.#live = { accepted, checker, glue, unsubscribeAlerts };
    this.#model = config;
    if (phase === 'reload') log.info(`Reload of ${file}: ${ops.length === 0 ? 'nothing changed' : `${ops.length} change(s)`}`);
    this.#d.beforeSync?.(config);
    try {
      await plane.sync(director);
    } catch (e) {
      const message = `data plane: ${(e as Error).message}`;
      if (phase === 'start') return refused(message, r.diagnostics);
      // The configuration stands; the plane opens the listener again at its next sync.
      log.error(`${message} (the service stays configured)`);
    }
    return { ok: true, message: '', diagnostics: r.diagnostics, ops: ops.map(opText) };
  }
}

/** A model script as the checkers take it. */
function notifyScript(s: ScriptSpec): NotifyScriptSpec {
  return { argv: s.args, ...(s.user !== null ? { user: s.group !== null ? { user: s.user, group: s.group } : { user: s.user } } : {}) };
}

const runners = new WeakMap<Director, ConfigRunner>();

/**
 * keepvs -f FILE at start, and SIGHUP: make the director and the plane match the file. The first
 * call for a director starts it, later ones reload it (see ConfigRunner).
 */
export async function loadConfig(file: string, target: ConfigTarget): Promise<ConfigLoadOutcome> {
  const unreadable = readable(file);
  if (unreadable) return { ok: false, message: unreadable };
  let runner = runners.get(target.director);
  const first = !runner;
  runner ??= new ConfigRunner(target);
  runners.set(target.director, runner);
  const r = first ? await runner.start(file) : await runner.reload(file);
  return r.ok ? { ok: true, lines: [] } : { ok: false, message: r.message };
}
