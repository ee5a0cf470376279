// The block walker: keepalived's process_stream / alloc_value_block (lib/parser.c) driven by one
// keyword table per section. Its rules, which decide what a malformed file means:
//  - a keyword with a sub-table opens a block; the next line must be '{' ("Missing '{' at beginning
//    of configuration block" otherwise, and the line is read as the block's first keyword);
//  - '}' ends the current block; a '{' where no block starts is reported and ignored, so the lines
//    of an unknown keyword's block are read as keywords of the enclosing section, and its '}' closes
//    the enclosing block early (that is keepalived's behaviour, and it explains the diagnostics a
//    misspelt block name produces);
//  - an unknown keyword is reported and its line ignored;
//  - a handler may ask to skip the block that follows (a bad virtual_server address, a duplicate
//    vrrp_instance name): lines up to the matching '}' are ignored and the block's close handler
//    does not run;
//  - a value block (virtual_ipaddress, notification_email, ...) is read as lines of words up to '}'.
// At the end of the configuration every open block is closed (their close handlers run).
import type { Diagnostics } from './diagnostics.ts';
import { type Line, type Token, splitWords, posAt } from './lexer.ts';
import type { Preprocessor } from './preprocess.ts';

export interface Statement {
  readonly keyword: Token;
  /** The words after the keyword (a trailing '{' of a block keyword removed). */
  readonly args: readonly Token[];
  /** The line as read (script keywords re-split it with quotes and escapes). */
  readonly line: Line;
}

export type HandlerResult = void | 'skip-block';

export interface KeywordSpec<C> {
  readonly name: string;
  /** Words the keyword needs after it; fewer is keepalived's fatal "missing a parameter". */
  readonly args?: number;
  readonly handler?: (ctx: C, st: Statement, walker: Walker<C>) => HandlerResult;
  /** Keywords of the block this keyword opens. */
  readonly sub?: KeywordTable<C>;
  /** Runs when the block ends (not when it was skipped). */
  readonly close?: (ctx: C, st: Statement) => void;
  /**
   * Read by another of keepalived's processes: this pass skips the keyword and its block silently
   * (lib/parser.c: a keyword installed with active = false).
   */
  readonly inactive?: boolean;
}

export type KeywordTable<C> = ReadonlyMap<string, KeywordSpec<C>>;

export function table<C>(specs: readonly KeywordSpec<C>[]): KeywordTable<C> {
  return new Map(specs.map((s) => [s.name, s]));
}

export class Walker<C> {
  private readonly src: Preprocessor;
  private readonly diags: Diagnostics;
  private readonly ctx: C;
  /** 0 = not skipping; -1 = skip the block if the next line opens one; n > 0 = brace depth being skipped. */
  private skip = 0;

  constructor(src: Preprocessor, diags: Diagnostics, ctx: C) {
    this.src = src;
    this.diags = diags;
    this.ctx = ctx;
  }

  private words(l: Line): Token[] {
    const r = splitWords(l);
    if (r.unmatched) {
      this.diags.report(posAt(l, 0), 'UNTERMINATED_QUOTE', 'UNMATCHED_QUOTE', `Unmatched quote: '${l.text}'`, { expected: 'a closing "' });
    }
    return r.tokens;
  }

  /** lib/parser.c: process_stream. Returns true when it ended on a skipped block's '}'. */
  run(tbl: KeywordTable<C>, needBob: boolean, level: number): boolean {
    for (;;) {
      const l = this.src.next();
      if (l === null) return false;
      const toks = this.words(l);
      if (toks.length === 0) continue;
      const str = toks[0].text;
      if (this.skip === -1) {
        if (str === '{') {
          this.skip = 1;
          needBob = false;
          continue;
        }
        this.skip = 0;
      }
      if (this.skip > 0) {
        for (const t of toks) {
          if (t.text === '{') this.skip++;
          else if (t.text === '}') {
            if (--this.skip === 0) break;
          }
        }
        if (str === '}' && this.skip === 0 && level > 0) return true;
        continue;
      }
      if (needBob) {
        needBob = false;
        if (str === '{' && level > 0) continue;
        this.diags.report(toks[0].at, 'MISSING_OPEN_BRACE', 'MISSING_BOB', "Missing '{' at beginning of configuration block", { expected: "'{'" });
      } else if (str === '{') {
        this.diags.report(toks[0].at, 'UNEXPECTED_OPEN_BRACE', 'UNEXPECTED_BOB', "Unexpected '{' - ignoring");
        continue;
      }
      if (str === '}' && level > 0) return false;
      const spec = tbl.get(str);
      if (!spec) {
        this.diags.report(toks[0].at, 'UNKNOWN_KEYWORD', 'UNKNOWN_KEYWORD', `Unknown keyword '${str}'`, { keyword: str });
        continue;
      }
      if (spec.inactive) {
        this.skip = -1;
        continue;
      }
      let args = toks.slice(1);
      let bobNeeded = false;
      if (spec.sub) {
        if (args.length > 0 && args[args.length - 1].text === '{') args = args.slice(0, -1);
        else bobNeeded = true;
      }
      const st: Statement = { keyword: toks[0], args, line: l };
      const need = spec.args ?? 0;
      if (args.length < need) {
        this.missingParameter(st, args.length + 1);
        if (spec.sub) this.skip = -1;
      } else if (spec.handler) {
        const r = spec.handler(this.ctx, st, this);
        if (r === 'skip-block') this.skip = -1;
      }
      if (spec.sub) {
        const skipped = this.run(spec.sub, bobNeeded, level + 1);
        if (!skipped && spec.close) spec.close(this.ctx, st);
      }
    }
  }

  /** lib/parser.c: null_strvec — keepalived exits with status 2 here; keepvs reports and reads on. */
  missingParameter(st: Statement, index: number): void {
    const all = [st.keyword, ...st.args];
    const prev = all[index - 1];
    const msg = prev
      ? `*** Configuration line starting \`${all[0].text}\` is missing a parameter after keyword \`${prev.text}\` at word position ${index + 1}`
      : `*** Configuration line starting \`${all[0].text}\` is missing a parameter at word position ${index + 1}`;
    const last = all[all.length - 1];
    this.diags.report({ ...last.at, col: last.at.col + last.text.length }, 'MISSING_PARAMETER', 'MISSING_PARAMETER', msg,
      { keyword: all[0].text, expected: `a value after '${prev?.text ?? all[0].text}'` });
  }

  /**
   * lib/parser.c: alloc_value_block — the lines of a `keyword { ... }` value block, each as words.
   * `nameWords` = how many words after the keyword belong to it (a virtual_server_group's name).
   */
  valueBlock(st: Statement, nameWords = 0): Token[][] {
    const out: Token[][] = [];
    const extra = st.args.slice(nameWords);
    let needBob = true;
    if (extra.length > 0) {
      if (extra[0].text === '{') {
        needBob = false;
        const rest = extra.slice(1);
        if (rest.length > 0) {
          if (rest[rest.length - 1].text === '}') {
            if (rest.length > 1) out.push(rest.slice(0, -1));
            return out;
          }
          out.push(rest);
        }
      } else {
        this.diags.report(extra[0].at, 'EXTRA_PARAMETER', 'GENERAL_ERROR', `Block ${st.keyword.text} has extra parameters ${extra[0].text} ...`, { keyword: st.keyword.text, expected: "'{'" });
      }
    }
    for (;;) {
      const l = this.src.next();
      if (l === null) return out;
      let toks = this.words(l);
      if (toks.length === 0) continue;
      if (needBob) {
        needBob = false;
        if (toks[0].text === '{') {
          if (toks.length === 1) continue;
          toks = toks.slice(1);
        } else {
          // keepalived only logs this ("'{' missing from beginning of block"); it is not counted.
          this.diags.report(toks[0].at, 'MISSING_OPEN_BRACE', 'OK', `'{' missing from beginning of block ${st.keyword.text}`, { keyword: st.keyword.text, expected: "'{'", severity: 'warning' });
        }
      }
      let eob = false;
      if (toks[toks.length - 1].text === '}') {
        if (toks.length === 1) return out;
        eob = true;
        toks = toks.slice(0, -1);
      }
      out.push(toks);
      if (eob) return out;
    }
  }

  /** lib/parser.c: read_value_block — every word of a value block, flattened. */
  valueWords(st: Statement): Token[] {
    return this.valueBlock(st).flat();
  }
}
