// The hook for keepalived.conf: `keepvs -t` (config test), `keepvs -f FILE` (start) and SIGHUP
// (reload) all come through here. keepvs cannot read keepalived.conf yet; the keepalived.conf issue
// fills these in (parse -> validate -> diff -> apply, keeping the old configuration on failure) and
// the daemon around them stays as it is.
import { accessSync, constants } from 'node:fs';
import type { Director } from '../core/director.ts';
import type { DataPlane } from '../dataplane/dataplane.ts';

/**
 * keepalived -t exit codes (man keepalived): 0 fine; 3 the configuration cannot be run;
 * 4 errors, but it would run after adjusting; 5 scripts without enable_script_security.
 * keepvs adds 1 for "could not test at all" (no file, unreadable, no parser).
 */
export const CONFIG_TEST_EXIT = { OK: 0, CANNOT_TEST: 1, CANNOT_RUN: 3, ERRORS_WILL_RUN: 4, SCRIPT_SECURITY: 5 } as const;

export interface ConfigTestOutcome {
  readonly exitCode: number;
  /** Diagnostics, keepalived-shaped: "(FILE: Line N) text". */
  readonly lines: readonly string[];
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
export async function testConfig(file: string | null): Promise<ConfigTestOutcome> {
  if (file === null) {
    return { exitCode: CONFIG_TEST_EXIT.CANNOT_TEST, lines: ['config test needs a configuration file: keepvs -t -f FILE'] };
  }
  const unreadable = readable(file);
  if (unreadable) return { exitCode: CONFIG_TEST_EXIT.CANNOT_TEST, lines: [unreadable] };
  return { exitCode: CONFIG_TEST_EXIT.CANNOT_TEST, lines: [NOT_YET] };
}

/** keepvs -f FILE at start, and SIGHUP: make the director and the plane match the file. */
export async function loadConfig(file: string, _target: ConfigTarget): Promise<ConfigLoadOutcome> {
  const unreadable = readable(file);
  if (unreadable) return { ok: false, message: unreadable };
  return { ok: false, message: NOT_YET };
}
