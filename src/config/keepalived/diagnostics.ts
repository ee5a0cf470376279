// Diagnostics for keepalived.conf: where (file:line:col), which keyword, what was wrong and what
// was expected, how bad. Each one also carries the class keepalived itself would have reported it
// with (lib/parser.h: config_err_t), because `keepvs -t` must exit with the code keepalived's -t
// gives for the same file.
//
// How keepalived 2.2.7 turns classes into its -t exit code (lib/parser.c: vreport_config_error keeps
// the numerically largest class seen; keepalived/core/main.c: config_test_exit; lib/scheduler.h:
// chk_exit_code). The man page's 1/3/4/5 do not match the binary; these are what Debian's
// keepalived 2.2.7 returns:
//   nothing reported                                   -> 0
//   only FILE_NOT_FOUND / BAD_IF / FATAL               -> 4 (KEEPALIVED_CHK_EXIT_CONFIG)
//   anything from MULTIPLE_FILES up to DEPRECATED      -> 5 (KEEPALIVED_CHK_EXIT_CONFIG_TEST)
//   SECURITY_ERROR (scripts without script security)  -> 6 (..._CONFIG_TEST_SECURITY)
//   a keyword missing its parameter                    -> 2, at once (lib/parser.c: null_strvec exits
//                                                         with KEEPALIVED_EXIT_CONFIG)
//   an include that include_check (or includem/b/w/a) makes an error
//                                                      -> 6 once the parent has read the file
//                                                         (main.c: had_config_file_error ->
//                                                         KEEPALIVED_EXIT_NO_CONFIG), before any
//                                                         section is checked
// keepvs keeps reading after either so it can show every problem, but exits as keepalived would.

export interface SourcePos {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based column in the physical line (0 when the place is a whole file or unknown). */
  readonly col: number;
}

/** lib/parser.h: config_err_t, in keepalived's order (the order decides the exit code). */
export const KEEPALIVED_CLASSES = [
  'OK',
  'FILE_NOT_FOUND', 'BAD_IF', 'FATAL',
  'MULTIPLE_FILES', 'UNKNOWN_KEYWORD', 'UNEXPECTED_BOB', 'MISSING_BOB', 'UNEXPECTED_EOB', 'MISSING_EOB',
  'UNMATCHED_QUOTE', 'MISSING_PARAMETER', 'INVALID_NUMBER', 'GENERAL_ERROR', 'WARNING', 'DEPRECATED',
  'SECURITY_ERROR',
] as const;
export type KeepalivedClass = (typeof KEEPALIVED_CLASSES)[number];

export type Severity = 'error' | 'warning' | 'info';

/**
 * Stable codes, one per kind of problem (a metric label, a test's expectation). The message says
 * the particulars.
 */
export const DIAGNOSTIC_CODES = {
  FILE_UNREADABLE: 'a configuration file cannot be read',
  INCLUDE_MISSING: 'an include matched no file, or not every file it names',
  INCLUDE_NOT_FILE: 'an include matched a directory or an executable file',
  UNTERMINATED_QUOTE: 'a quote is not closed on its line',
  ESCAPED_COMMENT: "a \\# or \\! outside quotes: keepalived's checker and VRRP processes read it as a comment",
  EXTRA_CLOSE_BRACE: "a '}' closes no block",
  MISSING_CLOSE_BRACE: "blocks left open at the end of the configuration",
  MISSING_OPEN_BRACE: "a block keyword is not followed by '{'",
  UNEXPECTED_OPEN_BRACE: "a '{' that opens no block",
  UNKNOWN_KEYWORD: 'a keyword keepalived does not know in this section',
  MISSING_PARAMETER: 'a keyword without a value it needs (where keepalived reads past the end of the line it stops at once: exit 2)',
  EXTRA_PARAMETER: 'more values than the keyword takes',
  INVALID_NUMBER: 'a value that is not a number of the expected kind',
  OUT_OF_RANGE: 'a number outside the range the keyword allows',
  INVALID_VALUE: 'a value that is not one of the words the keyword allows',
  INVALID_ADDRESS: 'an address, prefix or address range that does not parse',
  DUPLICATE: 'something defined or given twice',
  NOT_FOUND: 'a reference to something not defined (script, track file, group, instance)',
  NO_SUCH_INTERFACE: 'an interface that does not exist on this host',
  NOTHING_CONFIGURED: 'a block left empty, so keepalived removes it',
  CONFLICT: 'two settings that cannot be used together; keepalived keeps one',
  DEFAULT_APPLIED: 'a required setting is missing and keepalived applies its default',
  ADJUSTED: 'a value keepalived corrects (port, quorum, hysteresis, interval rounding, ...)',
  DEPRECATED: 'an old spelling keepalived still accepts',
  GENERATOR: 'a ~SEQ/~LST line or parameter definition that does not parse',
  SCRIPT_SECURITY: 'scripts would run as root without enable_script_security',
  SCRIPT: 'a script that cannot be used (missing, not executable, bad user)',
  EXTENSION: 'a keepvs extension keepalived itself would refuse',
} as const;
export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export interface Diagnostic {
  /** Where; null for a whole-configuration finding (keepalived prints those without a line). */
  readonly at: SourcePos | null;
  readonly severity: Severity;
  readonly code: DiagnosticCode;
  /** The keyword the problem is about ('' when none). */
  readonly keyword: string;
  /** keepalived's own words where it has them, so a search for its message still finds ours. */
  readonly message: string;
  /** What would have been accepted, when that is short to say. */
  readonly expected?: string;
  /** How keepalived classifies it; 'OK' for keepvs-only notes that keepalived would not report. */
  readonly klass: KeepalivedClass;
}

/** Collects diagnostics; `fatal` records keepalived's exit-at-once for a missing parameter. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  missingParameter = false;
  /** An include problem counted as FILE_NOT_FOUND (lib/parser.c: config_file_error). */
  fileError = false;

  add(d: Diagnostic): void {
    this.list.push(d);
    if (d.klass === 'MISSING_PARAMETER') this.missingParameter = true;
    if (d.klass === 'FILE_NOT_FOUND' && d.keyword === 'include') this.fileError = true;
  }

  report(at: SourcePos | null, code: DiagnosticCode, klass: KeepalivedClass, message: string,
    extra: { keyword?: string; expected?: string; severity?: Severity } = {}): void {
    this.add({
      at, code, klass, message, keyword: extra.keyword ?? '', expected: extra.expected,
      severity: extra.severity ?? defaultSeverity(klass, code),
    });
  }
}

function defaultSeverity(klass: KeepalivedClass, code: DiagnosticCode): Severity {
  if (klass === 'OK') return 'info';
  if (code === 'DEFAULT_APPLIED' || code === 'ADJUSTED' || code === 'DEPRECATED' || klass === 'WARNING' || klass === 'DEPRECATED') return 'warning';
  return 'error';
}

/**
 * keepalived -t's exit code for a set of diagnostics (see the table at the top of this file).
 * `stop` is how the parent's read ended: a missing parameter (2) or a file error (6) ends it there.
 */
export function configTestExitCode(diags: readonly Diagnostic[], stop: 'missing-parameter' | 'file-error' | null): number {
  if (stop === 'missing-parameter') return 2;
  if (stop === 'file-error') return 6;
  let worst = 0;
  for (const d of diags) worst = Math.max(worst, KEEPALIVED_CLASSES.indexOf(d.klass));
  const cls = KEEPALIVED_CLASSES[worst];
  if (cls === 'OK') return 0;
  if (cls === 'SECURITY_ERROR') return 6;
  if (cls === 'FILE_NOT_FOUND' || cls === 'BAD_IF' || cls === 'FATAL') return 4;
  return 5;
}

/** "file:line:col: error: message [keyword] (expected ...)" — the compiler-style line keepvs prints. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.at === null ? 'keepalived.conf' : d.at.col > 0 ? `${d.at.file}:${d.at.line}:${d.at.col}` : d.at.line > 0 ? `${d.at.file}:${d.at.line}` : d.at.file;
  const kw = d.keyword ? ` [${d.keyword}]` : '';
  const exp = d.expected ? ` (expected ${d.expected})` : '';
  return `${where}: ${d.severity}: ${d.message}${kw}${exp} {${d.code}}`;
}
