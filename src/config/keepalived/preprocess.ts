// keepalived's line reader (lib/parser.c: read_line and its helpers), one logical line at a time:
//   include / includer / includem / includew / includeb / includea GLOB  (relative to the including
//     file's directory; the `include_check` global keyword changes what a missing file means)
//   @ID line / @^ID line      kept only when ID is (is not) the config id (-i, default: short hostname)
//   $NAME=VALUE               a definition (no blank before '='; a trailing '\' continues it);
//   $NAME, ${NAME}            replaced where used, recursively; unknown names are left as they are;
//                             $NAME needs a blank, ',', ')' or the line end after it
//   ${_PWD} ${_INSTANCE} ${_RANDOM [MIN [MAX]]} ${_HASH} ${_BANG}  predefined (and ${_ENV NAME},
//                             keepalived 2.3's, accepted here as a keepvs extension)
//   ~SEQ(var, [start,] [step,] end) text   /  ~SEQx(...) (hex)  /  ~LST(var, v1, v2...) text  /
//   ~LST({a,b}, {1,2}, {3,4}) text         generate `text` once per value, nestable
//   '{' and '}' outside double quotes      split off onto lines of their own, counted
// A line is read only when the parser asks for it, so `include_check` in global_defs applies to the
// includes after it, as in keepalived.
import type { Diagnostics, KeepalivedClass, SourcePos } from './diagnostics.ts';
import { type ConfigFs, glob, hasBrace, resolvePath } from './glob.ts';
import { type Line, decomment, makeLine, posAt, sliceLine } from './lexer.ts';
import { posix } from 'node:path';

/** lib/parser.c: include_t bits. */
export const INCLUDE = { R: 1, M: 2, W: 4, B: 8 } as const;

export interface PreprocessOptions {
  readonly fs: ConfigFs;
  /** The config id for @ID lines; null matches nothing. */
  readonly configId: string | null;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** 0 <= random() < 1, for ${_RANDOM}. */
  readonly random: () => number;
  /**
   * Read the way keepalived's checker and VRRP processes do: from the parent's copy of the
   * configuration, which holds each line already decommented once, so the line is decommented a
   * second time (lib/parser.c: write_conf_copy / read_conf_copy). "\#" or "\!" outside quotes
   * survives only the first read and starts a comment in the second.
   */
  readonly fromCopy?: boolean;
}

interface Def {
  readonly name: string;
  value: string;
  multiline: boolean;
  /** Predefined definitions compute their value; maxParams = how many numbers they take. */
  fn?: (params: string | null, ctx: Preprocessor) => string | null;
  maxParams: number;
}

interface OpenFile {
  readonly path: string;
  readonly lines: readonly string[];
  next: number;
}

interface IncludeEntry {
  /** The glob matches still to read, resolved. */
  readonly paths: string[];
  readonly includeType: number;
  readonly savedIncludeCheck: number;
  current: OpenFile | null;
  numMatches: number;
  readonly pattern: string;
}

type Generator =
  | { kind: 'seq'; var: string; next: number; step: number; last: number; hex: boolean; text: Line }
  | { kind: 'lst'; params: string[]; sets: string[][]; idx: number; text: Line }
  | { kind: 'multiline'; lines: string[]; idx: number; at: SourcePos };

const MAXBUF = 1024;

export class Preprocessor {
  private readonly opts: PreprocessOptions;
  private readonly diags: Diagnostics;
  private readonly stack: IncludeEntry[] = [];
  private readonly defs: Def[] = [];
  private readonly gens: Generator[] = [];
  private residue: Line | null = null;
  private multilineDef: Def | null = null;
  /** lib/parser.c: include_check, changed by the global keyword include_check. */
  includeCheck = 0;
  blockDepth = 0;
  /** Every file read, in order. */
  readonly files: string[] = [];
  /** Where the most recently returned line came from (the include line for include errors). */
  private lastPos: SourcePos | null = null;

  constructor(opts: PreprocessOptions, diags: Diagnostics) {
    this.opts = opts;
    this.diags = diags;
    this.std('_PWD', () => this.currentDir(), 0);
    this.std('_INSTANCE', () => this.opts.configId ?? '', 0);
    this.std('_RANDOM', (params) => {
      let min = 0;
      let max = 32767;
      if (params !== null) {
        const nums = params.trim().split(/ +/).map(Number);
        min = nums[0];
        if (nums.length > 1) max = nums[1];
      }
      return String(Math.floor(this.opts.random() * (max - min + 1)) + min);
    }, 2);
    this.std('_HASH', () => '#', 0);
    this.std('_BANG', () => '!', 0);
    this.std('_ENV', (params) => (params === null ? '' : this.opts.env[params.trim()] ?? ''), 1);
  }

  private std(name: string, fn: Def['fn'], maxParams: number): void {
    this.defs.push({ name, value: '', multiline: false, fn, maxParams });
  }

  /** Start reading with already-globbed main files (lib/parser.c: init_data opens conf_file R|M|W). */
  open(paths: readonly string[]): void {
    this.stack.push({ paths: [...paths], includeType: INCLUDE.R | INCLUDE.M | INCLUDE.W, savedIncludeCheck: this.includeCheck, current: null, numMatches: 0, pattern: paths[0] ?? '' });
    if (!this.openNext(this.stack[this.stack.length - 1])) this.stack.pop();
  }

  private currentDir(): string {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const f = this.stack[i].current;
      if (f) return posix.dirname(f.path);
    }
    return '/';
  }

  /** The class a file problem gets: FILE_NOT_FOUND only when include_check or the include variant asks. */
  private fileClass(entryType: number, errType: number): KeepalivedClass {
    return ((this.includeCheck | entryType) & errType) !== 0 ? 'FILE_NOT_FOUND' : 'OK';
  }

  private fileError(at: SourcePos | null, entryType: number, errType: number, code: 'INCLUDE_MISSING' | 'INCLUDE_NOT_FILE' | 'FILE_UNREADABLE', message: string): void {
    const klass = this.fileClass(entryType, errType);
    this.diags.report(at, code, klass, message, { keyword: 'include', severity: klass === 'OK' ? 'warning' : 'error' });
  }

  /** lib/parser.c: open_conf_file — the next readable match of an include entry. */
  private openNext(e: IncludeEntry, at: SourcePos | null = this.lastPos): boolean {
    while (e.paths.length > 0) {
      const p = e.paths.shift()!;
      if (p.endsWith('/')) {
        this.fileError(at, e.includeType, INCLUDE.R, 'INCLUDE_NOT_FILE', `Configuration file '${p}' is a directory - skipping`);
        continue;
      }
      const st = this.opts.fs.stat(p);
      if (!st || st.kind !== 'file' || st.executable) {
        this.fileError(at, e.includeType, INCLUDE.R, 'INCLUDE_NOT_FILE', `Configuration file '${p}' is not a regular non-executable file - skipping`);
        continue;
      }
      const r = this.opts.fs.readFile(p);
      if (!r.ok) {
        this.fileError(at, e.includeType, INCLUDE.R, 'FILE_UNREADABLE', `Configuration file '${p}' open problem (${r.errno}) - skipping`);
        continue;
      }
      // fgets keeps a final line without '\n'; split the same way.
      const lines = r.text.split('\n');
      if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
      e.current = { path: p, lines, next: 0 };
      e.numMatches++;
      this.files.push(p);
      return true;
    }
    e.current = null;
    return false;
  }

  /** lib/parser.c: check_include / open_glob_file / open_and_check_glob. */
  private include(line: Line): boolean {
    const t = line.text;
    if (!t.startsWith('include') || t.length <= 7) return false;
    let type: number;
    let start: number;
    if (/\s/.test(t[7])) {
      type = 0;
      start = 8;
    } else if ('rmwba'.includes(t[7]) && t.length > 8 && /\s/.test(t[8])) {
      const c = t[7];
      type = c === 'r' ? INCLUDE.R : c === 'a' ? INCLUDE.R | INCLUDE.M | INCLUDE.B | INCLUDE.W
        : c === 'w' ? INCLUDE.R | INCLUDE.M | INCLUDE.W : c === 'm' ? INCLUDE.R | INCLUDE.M : INCLUDE.R | INCLUDE.B;
      start = 9;
    } else {
      return false;
    }
    while (start < t.length && (t[start] === ' ' || t[start] === '\t')) start++;
    const pattern = t.slice(start);
    const at = posAt(line, start);
    const cwd = this.currentDir();
    const g = glob(pattern, cwd, this.opts.fs);
    const entry: IncludeEntry = {
      paths: g.paths.map((p) => (p.endsWith('/') ? `${resolvePath(cwd, p)}/` : resolvePath(cwd, p))),
      includeType: type, savedIncludeCheck: this.includeCheck, current: null, numMatches: 0, pattern,
    };
    if (g.paths.length === 0) {
      if (g.missingFiles > 0 || g.missingDirs > 0) {
        const err = hasBrace(pattern) ? INCLUDE.B : INCLUDE.M;
        this.fileError(at, type, err, 'INCLUDE_MISSING', `Config files missing '${pattern}'.`);
      } else if (g.haveWildcards && ((this.includeCheck | type) & INCLUDE.W) !== 0) {
        this.fileError(at, type, INCLUDE.W, 'INCLUDE_MISSING', `No config files matched '${pattern}'.`);
      } else if (g.haveWildcards) {
        this.diags.report(at, 'INCLUDE_MISSING', 'OK', `No config files matched '${pattern}'.`, { keyword: 'include', severity: 'info' });
      }
      return true;
    }
    if (g.missingFiles > 0 || g.missingDirs > 0) {
      this.fileError(at, type, INCLUDE.B, 'INCLUDE_MISSING', `Some config files missing: "${pattern}".`);
      if (((this.includeCheck | type) & INCLUDE.B) !== 0) return true;
    }
    this.stack.push(entry);
    if (!this.openNext(entry, at)) this.stack.pop();
    return true;
  }

  /** The next physical non-empty line, decommented; null at the end of every file. */
  private physical(): Line | null {
    for (;;) {
      const e = this.stack[this.stack.length - 1];
      if (!e) return null;
      const f = e.current;
      if (!f || f.next >= f.lines.length) {
        // lib/parser.c: end_file restores include_check as it was when the include was opened.
        this.includeCheck = e.savedIncludeCheck;
        if (!this.openNext(e)) this.stack.pop();
        continue;
      }
      const lineNo = ++f.next;
      let raw = f.lines[lineNo - 1];
      raw = raw.replace(/[\r\n]+$/, '');
      if (raw.length === 0) {
        if (this.multilineDef) this.endMultilineDef();
        continue;
      }
      let d = decomment(makeLine(f.path, lineNo, raw));
      if (d.unterminatedQuote) {
        this.diags.report(posAt(d.line, 0), 'UNTERMINATED_QUOTE', 'GENERAL_ERROR', `Unterminated quote '${d.textBeforeCut}'`, { expected: 'a closing "' });
      }
      if (this.opts.fromCopy && d.line.text.length > 0) {
        const again = decomment(d.line);
        if (again.line.text !== d.line.text) {
          this.diags.report(posAt(d.line, 0), 'ESCAPED_COMMENT', 'OK',
            `keepalived's checker and VRRP processes read this line as '${again.line.text}': an escaped '#' or '!' outside quotes is a comment for them (quote it instead)`,
            { severity: 'warning' });
        }
        d = again;
      }
      if (d.line.text.length === 0) continue;
      return d.line;
    }
  }

  private endMultilineDef(): void {
    const def = this.multilineDef!;
    this.multilineDef = null;
    if (def.value.length === 0) def.multiline = false;
  }

  /** lib/parser.c: read_line. Returns null at the end of the configuration. */
  next(): Line | null {
    let buf: Line | null;
    for (;;) {
      if (this.residue) {
        buf = this.residue;
        this.residue = null;
      } else if (this.gens.length > 0) {
        buf = this.generate();
        if (buf === null) continue;
      } else {
        buf = this.physical();
        if (buf === null) {
          this.lastPos = null;
          return null;
        }
      }
      this.lastPos = posAt(buf, 0);
      if (this.multilineDef) {
        this.continueMultilineDef(buf);
        continue;
      }
      if (buf.text.length === 0) continue;
      buf = this.substitute(buf);
      if (buf === null || buf.text.length === 0) continue;
      if (this.include(buf)) continue;
      break;
    }
    return this.splitBraces(buf);
  }

  private continueMultilineDef(buf: Line): void {
    const def = this.multilineDef!;
    let t = buf.text;
    let more = false;
    if (t.endsWith('\\')) {
      t = t.slice(0, -1).replace(/[ \t]+$/, '') + '\n';
      more = true;
    }
    if (!more) this.endMultilineDef();
    if (t.length >= 2 || (t.length > 0 && !more)) def.value += t;
  }

  /** The @ID / $NAME= / ~SEQ / ~LST / $NAME handling of one line (the inner loop of read_line). */
  private substitute(start: Line): Line | null {
    let buf = start;
    for (let guard = 0; guard < 64; guard++) {
      let recheck = false;
      if (buf.text[0] === '@') {
        const rev = buf.text[1] === '^';
        const ofs = rev ? 2 : 1;
        const m = /[ \t]/.exec(buf.text.slice(ofs));
        if (!m) return null;
        const id = buf.text.slice(ofs, ofs + m.index);
        const matches = this.opts.configId !== null && id === this.opts.configId;
        if (matches === rev) return null;
        let s = ofs + m.index;
        while (s < buf.text.length && (buf.text[s] === ' ' || buf.text[s] === '\t')) s++;
        buf = sliceLine(buf, s);
      }
      if (buf.text[0] === '$' && this.checkDefinition(buf.text)) return null;
      if (buf.text.startsWith('~SEQ') || buf.text.startsWith('~LST')) {
        const okGen = buf.text[1] === 'S' ? this.addSeq(buf) : this.addLst(buf);
        if (!okGen) {
          this.diags.report(posAt(buf, 0), 'GENERATOR', 'GENERAL_ERROR', `Invalid ${buf.text[1] === 'S' ? '~SEQ' : '~LST'} specification '${buf.text}'`);
        }
        return null;
      }
      if (buf.text[0] === '~') break;
      if (buf.text.includes('$')) {
        const r = this.replaceParams(buf);
        if (r === null) break;
        const d = decomment(r);
        buf = d.line;
        if (buf.text[0] === '@') recheck = true;
        if (buf.text.includes('$')) recheck = true;
      }
      if (!recheck) break;
    }
    return buf;
  }

  /** lib/parser.c: find_definition for a use at text[i] (just after the '$'). */
  private findUse(text: string, i: number): { def: Def; end: number; params: string | null; allowMultiline: boolean } | null {
    let p = i;
    const braces = text[p] === '{';
    if (braces) p++;
    if (!/[A-Za-z_]/.test(text[p] ?? '')) return null;
    let q = p + 1;
    while (q < text.length && /[A-Za-z0-9_]/.test(text[q])) q++;
    const name = text.slice(p, q);
    let params: string | null = null;
    let end: number;
    if (braces) {
      let r = q;
      let pStart = -1;
      let pEnd = -1;
      while (r < text.length && (text[r] === ' ' || /[0-9]/.test(text[r]) || (name === '_ENV' && /[A-Za-z0-9_]/.test(text[r])))) {
        if (text[r] !== ' ') {
          if (pStart < 0) pStart = r;
          pEnd = r;
        }
        r++;
      }
      if (pStart >= 0 && pEnd + 1 !== r) return null;
      if (text[r] !== '}') return null;
      if (pStart >= 0) params = text.slice(pStart, pEnd + 1);
      end = r + 1;
    } else {
      const c = text[q];
      if (c !== undefined && c !== ' ' && c !== '\t' && c !== ',' && c !== ')') return null;
      end = q;
    }
    const allowMultiline = end === text.length;
    const def = this.defs.find((d) => d.name === name && (allowMultiline || !d.multiline));
    if (!def) return null;
    if (params !== null && def.maxParams === 0) return null;
    return { def, end, params, allowMultiline };
  }

  /** lib/parser.c: replace_param. null when nothing was replaced. */
  private replaceParams(l: Line): Line | null {
    let text = l.text;
    let cols = [...l.cols];
    let cur = 0;
    let found = false;
    for (let guard = 0; guard < 4096; guard++) {
      cur = text.indexOf('$', cur);
      if (cur < 0 || cur + 1 >= text.length) break;
      const use = this.findUse(text, cur + 1);
      if (!use) { cur++; continue; }
      found = true;
      let value: string;
      if (use.def.fn) value = use.def.fn(use.params, this) ?? '';
      else value = use.def.value;
      if (use.def.multiline) {
        const nl = value.indexOf('\n');
        const rest = nl >= 0 ? value.slice(nl + 1) : '';
        value = nl >= 0 ? value.slice(0, nl) : value;
        if (rest.length > 0) this.gens.push({ kind: 'multiline', lines: rest.split('\n'), idx: 0, at: posAt(l, cur) });
      }
      const col = cols[cur] ?? cols[cols.length - 1] ?? 1;
      const newText = text.slice(0, cur) + value + text.slice(use.end);
      if (newText.length >= MAXBUF) break;
      cols = [...cols.slice(0, cur), ...new Array<number>(value.length).fill(col), ...cols.slice(use.end)];
      text = newText;
      if (value[value.search(/[^ \t]|$/)] === '~') break;
    }
    return found ? { file: l.file, line: l.line, text, cols } : null;
  }

  /** lib/parser.c: check_definition — "$NAME=VALUE" (no blank before '='). */
  private checkDefinition(text: string): boolean {
    if (!/^\$[A-Za-z_]/.test(text)) return false;
    let p = 2;
    while (p < text.length && text[p] !== '=') {
      if (!/[A-Za-z0-9_]/.test(text[p])) return false;
      p++;
    }
    if (text[p] !== '=') return false;
    const name = text.slice(1, p);
    p++;
    while (p < text.length && (text[p] === ' ' || text[p] === '\t')) p++;
    let value = text.slice(p);
    let def = this.defs.find((d) => d.name === name);
    if (def) {
      def.fn = undefined;
    } else {
      def = { name, value: '', multiline: false, maxParams: 0 };
      this.defs.push(def);
    }
    if (value.endsWith('\\')) {
      value = value.slice(0, -1).replace(/[ \t]+$/, '');
      def.value = value.length > 0 ? `${value}\n` : '';
      def.multiline = true;
      this.multilineDef = def;
    } else {
      def.value = value;
      def.multiline = false;
    }
    return true;
  }

  private setDefinition(name: string, value: string): void {
    const def = this.defs.find((d) => d.name === name && !d.multiline);
    if (def) {
      def.value = value;
      def.fn = undefined;
    } else {
      this.defs.push({ name, value, multiline: false, maxParams: 0 });
    }
  }

  /** The next generated line (seq/lst/multiline), or null when the top generator is exhausted. */
  private generate(): Line | null {
    const g = this.gens[this.gens.length - 1];
    if (g.kind === 'multiline') {
      if (g.idx >= g.lines.length) { this.gens.pop(); return null; }
      const t = g.lines[g.idx++];
      if (g.idx >= g.lines.length) this.gens.pop();
      return { file: g.at.file, line: g.at.line, text: t, cols: new Array<number>(t.length).fill(g.at.col) };
    }
    if (g.kind === 'seq') {
      this.setDefinition(g.var, g.hex ? g.next.toString(16) : String(g.next));
      const out = g.text;
      g.next += g.step;
      if ((g.step > 0 && g.next > g.last) || (g.step < 0 && g.next < g.last)) this.gens.pop();
      return out;
    }
    const set = g.sets[g.idx++];
    g.params.forEach((p, k) => this.setDefinition(p, set[k] ?? ''));
    if (g.idx >= g.sets.length) this.gens.pop();
    return g.text;
  }

  /** lib/parser.c: add_seq. */
  private addSeq(l: Line): boolean {
    const t = l.text;
    const bad = (msg: string): boolean => {
      this.diags.report(posAt(l, 0), 'GENERATOR', 'GENERAL_ERROR', msg);
      return false;
    };
    let p = 4;
    const hex = t[p] === 'x';
    if (hex) p++;
    while (t[p] === ' ' || t[p] === '\t') p++;
    if (t[p++] !== '(') return false;
    while (t[p] === ' ' || t[p] === '\t') p++;
    const varStart = p;
    while (p < t.length && !' \t,)'.includes(t[p])) p++;
    const varName = t.slice(varStart, p);
    while (t[p] === ' ' || t[p] === '\t') p++;
    if (p >= t.length || t[p] === ')' || varName === '') return bad(`Invalid ~SEQ definition '${t}'`);
    p++;
    while (t[p] === ' ' || t[p] === '\t') p++;
    const close = t.indexOf(')', p);
    if (close < 0) return bad(`Invalid ~SEQ definition '${t}'`);
    let args = t.slice(p, close + 1);
    if (args.length + 1 > 3 * 20 + 3 + 1) return bad(`~SEQ parameter strings too long '${t}'`);
    const rep = this.replaceParams(makeLine(l.file, l.line, args));
    if (rep) args = rep.text;
    const nums: number[] = [];
    let q = 0;
    for (;;) {
      const m = /^[ \t]*([+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*))?/.exec(args.slice(q))!;
      const txt = m[1] ?? '';
      nums.push(txt === '' ? 0 : parseCLong(txt));
      q += m[0].length;
      while (args[q] === ' ' || args[q] === '\t') q++;
      if (args[q] === ')') break;
      if (args[q] !== ',' || nums.length === 3) return bad(`Invalid ~SEQ definition '${t}'`);
      q++;
    }
    let start: number;
    let step: number;
    let end: number;
    if (nums.length === 1) {
      end = nums[0];
      step = end < 1 ? -1 : 1;
      start = end < 0 ? -1 : 1;
    } else if (nums.length === 2) {
      [start, end] = nums;
      step = start <= end ? 1 : -1;
    } else {
      [start, step, end] = nums;
      if (step === 0 || (start < end && step < 0) || (start > end && step > 0)) return bad(`Invalid ~SEQ values '${t}'`);
    }
    if (hex && (start < 0 || end < 0)) return bad(`~SEQx is only valid for positive numbers '${t}'`);
    let r = close + 1;
    while (t[r] === ' ' || t[r] === '\t') r++;
    this.gens.push({ kind: 'seq', var: varName, next: start, step, last: end, hex, text: sliceLine(l, r) });
    return true;
  }

  /** lib/parser.c: add_lst. */
  private addLst(l: Line): boolean {
    const t = l.text;
    let p = 4;
    const blanks = (): void => { while (t[p] === ' ' || t[p] === '\t') p++; };
    blanks();
    if (t[p++] !== '(') return false;
    blanks();
    let endChar = ',';
    if (t[p] === '{') { endChar = '}'; p++; blanks(); }
    const params: string[] = [];
    for (;;) {
      const s = p;
      while (p < t.length && !' \t,}'.includes(t[p])) p++;
      params.push(t.slice(s, p));
      blanks();
      if (t[p] === endChar) break;
      if (t[p] !== ',') return false;
      p++;
      blanks();
    }
    if (t[p] === '}') { p++; blanks(); }
    if (t[p++] !== ',') return false;
    blanks();
    const sets: string[][] = [];
    for (;;) {
      let ec = ',';
      if (t[p] === '{') { ec = '}'; p++; blanks(); }
      const set: string[] = [];
      for (;;) {
        const s = p;
        while (p < t.length && !' \t,})'.includes(t[p])) p++;
        set.push(t.slice(s, p));
        blanks();
        if (t[p] === ec || (t[p] === ')' && ec === ',')) break;
        if (t[p] !== ',') return false;
        p++;
        blanks();
        if (set.length > params.length - 1 + 0 && set.length >= params.length) {
          this.diags.report(posAt(l, 0), 'GENERATOR', 'GENERAL_ERROR', `~LST specification has too many values '${t}'`);
          return false;
        }
      }
      while (set.length < params.length) set.push('');
      sets.push(set);
      if (t[p] === '}' && ec === '}') { p++; blanks(); }
      if (t[p] === ')') break;
      if (t[p] !== ',') return false;
      p++;
      blanks();
    }
    if (params.length === 0 || sets.length === 0) return false;
    p++;
    blanks();
    this.gens.push({ kind: 'lst', params, sets, idx: 0, text: sliceLine(l, p) });
    return true;
  }

  /** The brace handling at the end of read_line: '{' / '}' become lines of their own. */
  private splitBraces(buf: Line): Line {
    const t = buf.text;
    let p = -1;
    if (t[0] === '{' || t[0] === '}') {
      p = 0;
    } else {
      for (let i = 0; i < t.length; i++) {
        if (t[i] === '"') {
          const c = t.indexOf('"', i + 1);
          if (c < 0) break;
          i = c;
          continue;
        }
        if (t[i] === '{' || t[i] === '}') { p = i; break; }
      }
    }
    let out = buf;
    if (p >= 0) {
      let skip = 0;
      if (p === 0) {
        skip = 1;
        while (t[skip] === ' ' || t[skip] === '\t') skip++;
      }
      if (p + skip < t.length) {
        let rest = sliceLine(buf, p + skip);
        let e = rest.text.length;
        while (e > 0 && (rest.text[e - 1] === ' ' || rest.text[e - 1] === '\t')) e--;
        rest = sliceLine(rest, 0, e);
        this.residue = rest;
        out = sliceLine(buf, 0, p + skip);
      }
    }
    let e = out.text.length;
    while (e > 0 && (out.text[e - 1] === ' ' || out.text[e - 1] === '\t')) e--;
    out = sliceLine(out, 0, e);
    if (out.text === '{') {
      this.blockDepth++;
    } else if (out.text === '}') {
      if (this.blockDepth-- < 1) {
        this.diags.report(posAt(out, 0), 'EXTRA_CLOSE_BRACE', 'UNEXPECTED_EOB', "Extra '}' found", { keyword: '}' });
        this.blockDepth = 0;
      }
    }
    return out;
  }
}

/** strtol(s, NULL, 0) for the forms the ~SEQ regexp admits. */
function parseCLong(txt: string): number {
  const neg = txt.startsWith('-');
  const body = txt.replace(/^[+-]/, '');
  let v: number;
  if (/^0[xX]/.test(body)) v = parseInt(body.slice(2), 16);
  else if (body.length > 1 && body.startsWith('0')) v = parseInt(body, 8);
  else v = parseInt(body, 10);
  return neg ? -v : v;
}
