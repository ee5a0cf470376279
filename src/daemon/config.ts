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
import { scriptSettings } from '../check/from-keepalived.ts';
import type { ConfigStatus } from '../api/router.ts';
import { type AcceptedPlan, acceptPlan, applyOps, diffDesired, opText } from './reload.ts';
import { HealthGlue, checkerSpecs, desiredState, scriptProblems } from './health.ts';
import type { Logger } from './log.ts';

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
}

interface Live {
  readonly accepted: AcceptedPlan;
  readonly checker: HealthChecker;
  readonly glue: HealthGlue;
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

    // diff + apply: what the old checkers had put in the table against what the new ones want.
    const old = this.#live;
    const before = old ? desiredState(old.accepted, old.checker.snapshot()) : [];
    const carry = old?.checker.carry();
    old?.glue.detach();
    old?.checker.retire();
    const checker = new HealthChecker({
      ...scripts,
      log: (m) => log.info(m),
      ...this.#d.checker,
      virtualServers: specs,
      carry,
    });
    for (const p of checker.problems) log.warn(`${p.where}: ${p.message} {${p.code}}`);
    checker.start();
    const after = desiredState(accepted, checker.snapshot());
    const ops = diffDesired(before, after);
    for (const op of ops) log.debug(`${phase}: ${opText(op)}`);
    for (const f of applyOps(director, ops, now())) log.error(`${opText(f.op)} failed: ${f.error.code}: ${f.error.message}`);
    const glue = new HealthGlue({ director, plane, log, now, checker, accepted });
    glue.attach();
    this.#live = { accepted, checker, glue };
    this.#model = config;
    if (phase === 'reload') log.info(`Reload of ${file}: ${ops.length === 0 ? 'nothing changed' : `${ops.length} change(s)`}`);
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
