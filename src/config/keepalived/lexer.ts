// keepalived.conf's lexical layer (lib/parser.c), every character keeping the column it came from:
//  - decomment(): leading blanks go, '#' or '!' outside double quotes starts a comment, "\#" and
//    "\!" outside quotes are a literal '#' / '!', trailing blanks go, and a line ending in '\'
//    keeps that '\' (only multi-line $PARAM definitions use it). An unclosed '"' is reported.
//  - splitWords(): alloc_strvec_r — words split on blanks; a word starting with '"' runs to the
//    next '"' (quotes dropped, blanks kept); otherwise a word ends at a blank or a '"'. No escapes.
//  - splitQuotedEscaped(): alloc_strvec_quoted_escaped, used for script command lines (notify*,
//    script, misc_path): '"' and '\'' quotes anywhere in a word, adjacent pieces joined, and the
//    escapes \a \b \E \f \n \r \t \v \NNN (octal) \xHH \cC and \<any> = that character.
import type { SourcePos } from './diagnostics.ts';

/** One logical line: its text after decomment/substitution, and the physical column of each char. */
export interface Line {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  /** cols[i] = 1-based column in the physical line of text[i]. */
  readonly cols: readonly number[];
}

export interface Token {
  readonly text: string;
  readonly at: SourcePos;
}

export function makeLine(file: string, line: number, text: string, cols?: readonly number[]): Line {
  return { file, line, text, cols: cols ?? Array.from({ length: text.length }, (_, i) => i + 1) };
}

/** Column of text[i], or just past the end. */
export function colAt(l: Line, i: number): number {
  if (l.cols.length === 0) return 1;
  return i < l.cols.length ? l.cols[i] : l.cols[l.cols.length - 1] + 1;
}

export function posAt(l: Line, i: number): SourcePos {
  return { file: l.file, line: l.line, col: colAt(l, i) };
}

/** A sub-range of a line, keeping columns. */
export function sliceLine(l: Line, start: number, end?: number): Line {
  return { file: l.file, line: l.line, text: l.text.slice(start, end), cols: l.cols.slice(start, end) };
}

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** lib/parser.c: decomment(). Returns the cleaned line and whether a '"' was left open. */
export function decomment(l: Line): { line: Line; unterminatedQuote: boolean; textBeforeCut: string } {
  let chars = [...l.text];
  let cols = [...l.cols];
  let lead = 0;
  while (lead < chars.length && isBlank(chars[lead])) lead++;
  chars = chars.slice(lead);
  cols = cols.slice(lead);
  let quote = false;
  let cont = false;
  let skip = -1;
  for (let p = 0; p < chars.length; ) {
    const c = chars[p];
    if (c === '"') {
      if (skip < 0) quote = !quote;
      p++;
      continue;
    }
    if (c === '\\') {
      if (p + 1 < chars.length) {
        if (!quote && (chars[p + 1] === '#' || chars[p + 1] === '!')) {
          chars.splice(p, 1);
          cols.splice(p, 1);
          p++;
        } else {
          p += 2;
        }
        continue;
      }
      chars.length = p;
      cols.length = p;
      cont = true;
      break;
    }
    if (!quote && skip < 0 && (c === '!' || c === '#')) skip = p;
    p++;
  }
  const textBeforeCut = chars.join('');
  if (skip >= 0) {
    chars.length = skip;
    cols.length = skip;
  }
  let end = chars.length;
  while (end > 0 && isBlank(chars[end - 1])) end--;
  chars.length = end;
  cols.length = end;
  if (cont) {
    chars.push('\\');
    cols.push(cols.length > 0 ? cols[cols.length - 1] + 1 : 1);
  }
  return { line: { file: l.file, line: l.line, text: chars.join(''), cols }, unterminatedQuote: quote, textBeforeCut };
}

const WHITE = ' \t\f\n\r\v';

/** lib/parser.c: alloc_strvec_r. `unmatched` is set when a '"' has no partner (words so far are kept). */
export function splitWords(l: Line): { tokens: Token[]; unmatched: boolean } {
  const s = l.text;
  const tokens: Token[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && WHITE.includes(s[i])) i++;
    if (i >= s.length) break;
    const start = i;
    if (s[i] === '"') {
      const close = s.indexOf('"', i + 1);
      if (close < 0) return { tokens, unmatched: true };
      tokens.push({ text: s.slice(i + 1, close), at: posAt(l, start) });
      i = close + 1;
    } else {
      while (i < s.length && !WHITE.includes(s[i]) && s[i] !== '"') i++;
      tokens.push({ text: s.slice(start, i), at: posAt(l, start) });
    }
  }
  return { tokens, unmatched: false };
}

export type QuotedEscapedResult =
  | { readonly ok: true; readonly words: string[] }
  | { readonly ok: false; readonly reason: 'unmatched-quote' | 'trailing-backslash'; readonly quote?: string };

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}

/** lib/parser.c: alloc_strvec_quoted_escaped. */
export function splitQuotedEscaped(src: string): QuotedEscapedResult {
  const words: string[] = [];
  let i = 0;
  let quote = '';
  while (i < src.length) {
    while (i < src.length && WHITE.includes(src[i])) i++;
    if (i >= src.length) break;
    let out = '';
    while (i < src.length) {
      const stop = quote === '"' ? '"\\' : quote === "'" ? "'\\" : `${WHITE}'"\\`;
      let j = i;
      while (j < src.length && !stop.includes(src[j])) j++;
      if (j >= src.length) {
        if (quote) return { ok: false, reason: 'unmatched-quote', quote };
        out += src.slice(i);
        i = src.length;
        break;
      }
      out += src.slice(i, j);
      i = j;
      const c = src[i];
      if (c === '\\') {
        i++;
        if (i >= src.length) return { ok: false, reason: 'trailing-backslash' };
        const e = src[i];
        if (e === 'x' && isHex(src[i + 1])) {
          let v = 0;
          i++;
          while (isHex(src[i])) { v = ((v << 4) | parseInt(src[i], 16)) & 0xff; i++; }
          out += String.fromCharCode(v);
        } else if (e === 'c' && i + 1 < src.length) {
          out += String.fromCharCode(src.charCodeAt(i + 1) & 0x1f);
          i += 2;
        } else if (e >= '0' && e <= '7') {
          let v = src.charCodeAt(i++) - 48;
          for (let k = 0; k < 2 && src[i] >= '0' && src[i] <= '7'; k++) v = ((v << 3) + src.charCodeAt(i++) - 48) & 0xff;
          out += String.fromCharCode(v);
        } else {
          const map: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
          out += map[e] ?? e;
          i++;
        }
        continue;
      }
      if (quote) {
        quote = '';
        i++;
        continue;
      }
      if (c === '"' || c === "'") {
        quote = c;
        i++;
        continue;
      }
      break;
    }
    words.push(out);
  }
  return { ok: true, words };
}
