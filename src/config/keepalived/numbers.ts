// keepalived's number readers (lib/parser.c: read_int_func, read_unsigned_func,
// read_decimal_unsigned_long_func, read_timer, check_true_false), with the leniency and the exact
// messages of its config-test mode: leading blanks and a '+' are accepted, an empty string reads as
// 0 (strtol stops at once and finds the end), a value with too many decimal places is reported and
// rounded, and every rejection is an INVALID_NUMBER. Values outside the range are refused, as -t
// does (at run time keepalived would sometimes keep them with a "WARNING -" prefix instead).
import type { DiagnosticCode, KeepalivedClass } from './diagnostics.ts';

export type NumberProblem = (code: DiagnosticCode, klass: KeepalivedClass, message: string, expected?: string) => void;

const BLANKS = ' \t\n\v\f\r';
const ULONG_MAX = (1n << 64n) - 1n;

/** strtoul/strtol on decimal text: blanks, a sign, digits. `end` = index after the digits (0 if none). */
function cStrtoBig(s: string): { value: bigint; end: number; neg: boolean; digits: boolean } {
  let i = 0;
  while (i < s.length && BLANKS.includes(s[i])) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') { neg = s[i] === '-'; i++; }
  const start = i;
  let v = 0n;
  while (i < s.length && s[i] >= '0' && s[i] <= '9') { v = v * 10n + BigInt(s.charCodeAt(i) - 48); i++; }
  if (i === start) return { value: 0n, end: 0, neg: false, digits: false };
  return { value: neg ? -v : v, end: i, neg, digits: true };
}

/** lib/parser.c: read_int_func (base 10). */
export function readInt(text: string, min: number, max: number, problem: NumberProblem): number | null {
  const r = cStrtoBig(text);
  const end = r.digits ? r.end : 0;
  const INT_MIN = -(2n ** 31n);
  const INT_MAX = 2n ** 31n - 1n;
  const LONG_MIN = -(2n ** 63n);
  const LONG_MAX = 2n ** 63n - 1n;
  const expected = `an integer in [${min}, ${max}]`;
  if (end !== text.length) {
    problem('INVALID_NUMBER', 'INVALID_NUMBER', `invalid number '${text}'`, expected);
    return null;
  }
  if (r.value < LONG_MIN || r.value > LONG_MAX || r.value < INT_MIN || r.value > INT_MAX) {
    problem('OUT_OF_RANGE', 'INVALID_NUMBER', `number '${text}' outside integer range`, expected);
    return null;
  }
  const v = Number(r.value);
  if (v < min || v > max) {
    problem('OUT_OF_RANGE', 'INVALID_NUMBER', `number '${text}' outside range [${min}, ${max}]`, expected);
    return null;
  }
  return v;
}

/** lib/parser.c: read_unsigned_func (base 10; max up to UINT_MAX). */
export function readUnsigned(text: string, min: number, max: number, problem: NumberProblem): number | null {
  let off = 0;
  while (off < text.length && BLANKS.includes(text[off])) off++;
  const expected = `a whole number in [${min}, ${max}]`;
  if (text[off] === '-') {
    problem('INVALID_NUMBER', 'INVALID_NUMBER', `negative number '${text}'`, expected);
    return null;
  }
  const r = cStrtoBig(text.slice(off));
  // strtoul with no digits leaves endptr at its start: blanks only (or nothing) read as 0.
  const end = r.digits ? off + r.end : off;
  if (end !== text.length) {
    problem('INVALID_NUMBER', 'INVALID_NUMBER', `invalid number '${text}'`, expected);
    return null;
  }
  if (r.value > 0xffffffffn) {
    problem('OUT_OF_RANGE', 'INVALID_NUMBER', `number '${text}' outside unsigned integer range`, expected);
    return null;
  }
  const v = Number(r.value);
  if (v < min || v > max) {
    problem('OUT_OF_RANGE', 'INVALID_NUMBER', `number '${text}' outside range [${min}, ${max}]`, expected);
    return null;
  }
  return v;
}

/** Microseconds per second: keepalived's TIMER_HZ, with TIMER_HZ_DIGITS = 6 decimal places. */
export const TIMER_HZ = 1_000_000;
/** lib/parser.h: TIMER_MAXIMUM (ULONG_MAX - 1), the bound when a timer has no upper limit. */
export const TIMER_MAXIMUM = Number.MAX_SAFE_INTEGER;

function fixed(v: bigint, shift: number): string {
  const d = 10n ** BigInt(shift);
  return `${v / d}.${(v % d).toString().padStart(shift, '0')}`;
}

/**
 * lib/parser.c: read_decimal_unsigned_long_func — a decimal with up to `shift` places, returned as
 * value * 10^shift. min/max are in those units.
 */
export function readDecimal(text: string, min: number, max: number, shift: number, problem: NumberProblem): number | null {
  // The common case, plain digits with few enough decimals, without BigInt.
  const simple = /^(\d{1,15})(?:\.(\d*))?$/.exec(text);
  if (simple && (simple[2] ?? '').length <= shift) {
    const v = Number(simple[1]) * 10 ** shift + Number((simple[2] ?? '').padEnd(shift, '0') || '0');
    if (Number.isSafeInteger(v) && v >= min && v <= max) return v;
  }
  const expected = `a number of seconds in [${fixed(BigInt(min), shift)}, ${fixed(BigInt(Math.min(max, TIMER_MAXIMUM)), shift)}]`;
  if (text[0] === '-') {
    problem('INVALID_NUMBER', 'INVALID_NUMBER', `negative number '${text}'`, expected);
    return null;
  }
  const dp = text.indexOf('.');
  let numDp = dp >= 0 ? text.length - dp - 1 : 0;
  let roundUp = false;
  if (numDp > shift) {
    // Reported, then rounded and (if the result is valid) accepted.
    problem('INVALID_NUMBER', 'INVALID_NUMBER', `number '${text}' has too many decimal places`, `at most ${shift} decimal places`);
    roundUp = text[dp + shift + 1] >= '5';
    numDp = shift;
  }
  let updated = dp >= 0 ? text.slice(0, dp) + text.slice(dp + 1, dp + 1 + numDp) : text;
  updated += '0'.repeat(shift - numDp);
  const r = cStrtoBig(updated);
  const end = r.digits ? r.end : 0;
  let val = r.value;
  if (r.neg) val = ((val % (ULONG_MAX + 1n)) + ULONG_MAX + 1n) % (ULONG_MAX + 1n);
  if (roundUp) val++;
  if (end !== updated.length && updated.length > 0) {
    problem('INVALID_NUMBER', 'INVALID_NUMBER', `invalid number '${text}'`, expected);
    return null;
  }
  if (val > ULONG_MAX) {
    problem('OUT_OF_RANGE', 'INVALID_NUMBER', `number '${text}' outside unsigned decimal range`, expected);
    return null;
  }
  if (val < BigInt(min) || val > BigInt(max)) {
    problem('OUT_OF_RANGE', 'INVALID_NUMBER', `number '${text}' outside range [${fixed(BigInt(min), shift)}, ${fixed(BigInt(max), shift)}]`, expected);
    return null;
  }
  return Number(val);
}

/** lib/parser.c: read_timer — seconds with microsecond resolution, returned in microseconds; max 0 = no limit. */
export function readTimer(text: string, minUs: number, maxUs: number, problem: NumberProblem): number | null {
  return readDecimal(text, minUs, maxUs === 0 ? TIMER_MAXIMUM : maxUs, 6, problem);
}

/** lib/parser.c: check_true_false — on/true/yes, off/false/no (exact, lower case), else null. */
export function checkTrueFalse(text: string): boolean | null {
  if (text === 'true' || text === 'on' || text === 'yes') return true;
  if (text === 'false' || text === 'off' || text === 'no') return false;
  return null;
}

export const UINT_MAX = 0xffffffff;
export const INT_MAX = 0x7fffffff;
