// A table-driven option parser that behaves like popt's poptGetNextOpt (popt.c), because keepvsadm
// must accept and refuse exactly the command lines ipvsadm (linked against popt) does:
//  - options are pulled one at a time, so a caller can act on (and fail at) each value before popt
//    would notice a later bad option;
//  - non-options are "leftovers", collected wherever they appear (popt permutes), read back with
//    nextLeftover() (poptGetArg); "--" makes the rest leftovers; a lone "-" is a leftover;
//  - long names match exactly (no abbreviations); "--name=value" or "--name value";
//  - a single dash starts a bundle of short options ("-Ln"); an argument-taking short option takes
//    the rest of its bundle ("-srr", "-s=rr") or else the next argv element, whatever it looks like;
//  - an optional argument ("-p [timeout]") is taken from the rest of the bundle, "=value", or the
//    next argv element unless that element starts with '-' (popt.c, POPT_ARGFLAG_OPTIONAL);
//  - POSIXLY_CORRECT / POSIX_ME_HARDER in the environment stop option processing at the first
//    non-option (popt.c: poptGetContext sets POPT_CONTEXT_POSIXMEHARDER).
// Errors carry popt's codes; badOption() is popt's poptBadOption(): the argv element last consumed.

export type ArgKind = 'none' | 'required' | 'optional';

export interface OptionSpec<V> {
  readonly long?: string;
  /** One character, or absent. */
  readonly short?: string;
  readonly arg: ArgKind;
  /** What next() reports for this option (popt's val). */
  readonly val: V;
}

export type GetoptErrorCode = 'BADOPT' | 'NOARG' | 'UNWANTEDARG';

/** popt.c: poptStrerror for the errors this parser can produce. */
export const GETOPT_ERROR_TEXT: Readonly<Record<GetoptErrorCode, string>> = {
  BADOPT: 'unknown option',
  NOARG: 'missing argument',
  UNWANTEDARG: 'option does not take an argument',
};

export type GetoptItem<V> =
  | { readonly kind: 'option'; readonly val: V; readonly arg: string | null }
  | { readonly kind: 'end' }
  | { readonly kind: 'error'; readonly code: GetoptErrorCode };

export interface GetoptSettings {
  /** Stop at the first non-option, as popt does under POSIXLY_CORRECT. */
  readonly posixMeHarder?: boolean;
}

export class OptionParser<V> {
  private readonly argv: readonly string[];
  private readonly table: readonly OptionSpec<V>[];
  private readonly posix: boolean;
  /** Index of the next argv element (argv[0] is the program name, as in popt). */
  private next = 1;
  /** The unread rest of a short-option bundle. */
  private charArg: string | null = null;
  private restLeftover = false;
  private readonly leftovers: string[] = [];
  private leftoverRead = 0;

  /** argv includes the program name at index 0, like C's argv. */
  constructor(argv: readonly string[], table: readonly OptionSpec<V>[], settings: GetoptSettings = {}) {
    this.argv = argv;
    this.table = table;
    this.posix = settings.posixMeHarder ?? false;
  }

  nextOption(): GetoptItem<V> {
    for (;;) {
      if (this.charArg === null && this.next >= this.argv.length) return { kind: 'end' };

      let opt: OptionSpec<V> | undefined;
      let longArg: string | null = null;

      if (this.charArg === null) {
        const s = this.argv[this.next++];
        if (this.restLeftover || !s.startsWith('-') || s === '-') {
          if (this.posix) this.restLeftover = true;
          this.leftovers.push(s);
          continue;
        }
        if (s === '--') {
          this.restLeftover = true;
          continue;
        }
        const oneDash = s[1] !== '-';
        const name = s.slice(oneDash ? 1 : 2);
        const eq = name.indexOf('=');
        const longName = eq >= 0 ? name.slice(0, eq) : name;
        if (eq >= 0) longArg = name.slice(eq + 1);
        // popt.c: findOption matches a long name after one dash only for POPT_ARGFLAG_ONEDASH
        // options, which this table never has; "-xyz" is then a bundle of short options.
        if (!oneDash) {
          opt = this.table.find((o) => o.long !== undefined && o.long === longName);
          if (!opt) return { kind: 'error', code: 'BADOPT' };
        } else {
          this.charArg = s.slice(1);
          longArg = null;
        }
      }

      if (this.charArg !== null) {
        const c = this.charArg[0];
        const rest = this.charArg.slice(1);
        this.charArg = null;
        opt = this.table.find((o) => o.short !== undefined && o.short === c);
        if (!opt) return { kind: 'error', code: 'BADOPT' };
        if (rest !== '') this.charArg = rest;
      }

      const o = opt as OptionSpec<V>;
      if (o.arg === 'none') {
        if (longArg !== null || (this.charArg !== null && this.charArg[0] === '=')) {
          return { kind: 'error', code: 'UNWANTEDARG' };
        }
        return { kind: 'option', val: o.val, arg: null };
      }

      let value: string | null;
      if (longArg !== null) {
        value = longArg;
      } else if (this.charArg !== null) {
        value = this.charArg[0] === '=' ? this.charArg.slice(1) : this.charArg;
        this.charArg = null;
      } else if (this.next >= this.argv.length) {
        if (o.arg === 'required') return { kind: 'error', code: 'NOARG' };
        value = null;
      } else if (o.arg === 'optional' && this.argv[this.next].startsWith('-')) {
        value = null;
      } else {
        value = this.argv[this.next++];
      }
      return { kind: 'option', val: o.val, arg: value };
    }
  }

  /** popt.c: poptBadOption(POPT_BADOPTION_NOALIAS) — the argv element consumed last. */
  badOption(): string {
    return this.argv[this.next - 1] ?? '';
  }

  /** popt.c: poptGetArg — the next leftover in the order met (call once nextOption() said 'end'). */
  nextLeftover(): string | null {
    return this.leftoverRead < this.leftovers.length ? this.leftovers[this.leftoverRead++] : null;
  }
}
