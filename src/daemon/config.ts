// The hook for keepalived.conf: `keepvs -t` (config test), `keepvs -d` (dump the effective
// configuration), `keepvs -f FILE` (start) and SIGHUP (reload) all come through here. -t and -d
// read the file with src/config/keepalived (docs/keepalived-conf.md); applying it at start and on
// reload (parse -> validate -> toDirectorPlan -> diff -> apply, keeping the old configuration on
// failure) is the next step of the keepalived.conf issue, and the daemon around it stays as it is.
import { accessSync, constants } from 'node:fs';
import type { Director } from '../core/director.ts';
import type { DataPlane } from '../dataplane/dataplane.ts';
import { loadKeepalivedConfig, type LoadResult } from '../config/keepalived/load.ts';
import { formatDiagnostic } from '../config/keepalived/diagnostics.ts';
import { dumpKeepalivedConfig } from '../config/keepalived/dump.ts';
import type { KeepalivedHost } from '../config/keepalived/host.ts';

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

export interface ConfigTarget {
  readonly director: Director;
  readonly plane: DataPlane;
}

export type ConfigLoadOutcome = { readonly ok: true; readonly lines: readonly string[] } | { readonly ok: false; readonly message: string };

const NOT_YET = 'reading keepalived.conf is not implemented yet (tracked by the keepalived.conf issue); '
  + 'start keepvs without -f and configure it with keepvsadm';

function readable(file: string): string | null {
  try {
    accessSync(file, constants.R_OK);
    return null;
  } catch (e) {
    return `cannot read configuration file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
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

/** keepvs -f FILE at start, and SIGHUP: make the director and the plane match the file. */
export async function loadConfig(file: string, _target: ConfigTarget): Promise<ConfigLoadOutcome> {
  const unreadable = readable(file);
  if (unreadable) return { ok: false, message: unreadable };
  return { ok: false, message: NOT_YET };
}
