// glob(3) the way keepalived calls it for `include` and -f (lib/parser.c: open_and_check_glob):
// GLOB_MARK | GLOB_BRACE | GLOB_ALTDIRFUNC, with counters for what was missing. Brace
// alternatives ({a,b}, nested) are expanded first and each is globbed in turn, its matches sorted
// on their own (glibc appends per alternative). '*', '?' and '[...]' do not match a leading '.'
// (no GLOB_PERIOD); '\' quotes the next character. A pattern without wildcards "matches" only if
// lstat finds it; a failed lstat counts a missing file, a directory that cannot be opened counts a
// missing directory, and opening any directory means wildcards were used. Pure: the file system
// comes in as a ConfigFs.
import { posix } from 'node:path';

export interface FileStat {
  readonly kind: 'file' | 'dir' | 'other';
  /** Any execute bit set (keepalived refuses to read an executable as configuration). */
  readonly executable: boolean;
}

export type ReadResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly errno: string };

/** The file system keepalived.conf is read from. */
export interface ConfigFs {
  readFile(path: string): ReadResult;
  /** stat (follows symbolic links); null when it does not exist. */
  stat(path: string): FileStat | null;
  /** lstat existence. */
  lexists(path: string): boolean;
  /** Entry names of a directory (no . and ..); null when it cannot be opened. */
  readdir(path: string): readonly string[] | null;
}

export interface GlobResult {
  /** Matched paths, as glob returns them: relative patterns give paths relative to `cwd`. */
  readonly paths: readonly string[];
  readonly missingFiles: number;
  readonly missingDirs: number;
  readonly haveWildcards: boolean;
}

/** GLOB_BRACE expansion: the first top-level {a,b,...} is expanded, recursively. */
export function expandBraces(pattern: string): string[] {
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') { i++; continue; }
    if (pattern[i] === '{') { open = i; break; }
  }
  if (open < 0) return [pattern];
  let depth = 0;
  let close = -1;
  const commas: number[] = [];
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') { i++; continue; }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) { close = i; break; }
    } else if (c === ',' && depth === 1) commas.push(i);
  }
  if (close < 0) return [pattern];
  const head = pattern.slice(0, open);
  const tail = pattern.slice(close + 1);
  const bounds = [open, ...commas, close];
  const out: string[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    for (const alt of expandBraces(head + pattern.slice(bounds[k] + 1, bounds[k + 1]) + tail)) out.push(alt);
  }
  return out;
}

export function hasBrace(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') { i++; continue; }
    if (pattern[i] === '{') return true;
  }
  return false;
}

function hasWildcard(seg: string): boolean {
  for (let i = 0; i < seg.length; i++) {
    if (seg[i] === '\\') { i++; continue; }
    if (seg[i] === '*' || seg[i] === '?' || seg[i] === '[') return true;
  }
  return false;
}

function unescape(seg: string): string {
  return seg.replace(/\\(.)/g, '$1');
}

/** fnmatch(3) with FNM_PERIOD: a compiled matcher for one path segment. */
export function segmentMatcher(seg: string): (name: string) => boolean {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '\\' && i + 1 < seg.length) { re += escapeRe(seg[++i]); continue; }
    if (c === '*') { re += '.*'; continue; }
    if (c === '?') { re += '.'; continue; }
    if (c === '[') {
      let j = i + 1;
      let neg = false;
      if (seg[j] === '!' || seg[j] === '^') { neg = true; j++; }
      let body = '';
      let first = true;
      while (j < seg.length && (seg[j] !== ']' || first)) {
        const ch = seg[j];
        body += ch === '\\' || ch === ']' || ch === '[' || ch === '^' ? `\\${ch}` : ch;
        first = false;
        j++;
      }
      if (j >= seg.length) { re += '\\['; continue; }
      re += `[${neg ? '^' : ''}${body}]`;
      i = j;
      continue;
    }
    re += escapeRe(c);
  }
  const rx = new RegExp(`${re}$`, 's');
  const explicitDot = seg.startsWith('.') || seg.startsWith('\\.');
  return (name) => (name.startsWith('.') && !explicitDot ? false : rx.test(name));
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

function globOne(pattern: string, cwd: string, fs: ConfigFs, acc: { missingFiles: number; missingDirs: number; haveWildcards: boolean }): string[] {
  const abs = pattern.startsWith('/');
  const segs = pattern.split('/');
  // Candidates: [display path, real path]. Start at the root or the cwd.
  let cands: Array<[string, string]> = [[abs ? '' : '', abs ? '' : cwd]];
  const join = (disp: string, real: string, name: string): [string, string] => [
    disp === '' ? (abs ? `/${name}` : name) : `${disp}/${name}`,
    real === '' ? `/${name}` : `${real}/${name}`,
  ];
  const parts = abs ? segs.slice(1) : segs;
  for (let k = 0; k < parts.length; k++) {
    const seg = parts[k];
    const last = k === parts.length - 1;
    if (seg === '' && !last) continue;
    const next: Array<[string, string]> = [];
    if (hasWildcard(seg)) {
      const match = segmentMatcher(seg);
      for (const [disp, real] of cands) {
        acc.haveWildcards = true;
        const names = fs.readdir(real === '' ? '/' : real);
        if (names === null) { acc.missingDirs++; continue; }
        for (const n of [...names].sort()) if (match(n)) next.push(join(disp, real, n));
      }
    } else {
      const name = unescape(seg);
      for (const [disp, real] of cands) {
        const p = join(disp, real, name);
        if (last) {
          if (!fs.lexists(p[1])) { acc.missingFiles++; continue; }
        }
        next.push(p);
      }
    }
    cands = next;
    if (!last) {
      // Only directories can hold the next segment.
      cands = cands.filter(([, real]) => {
        const st = fs.stat(real);
        if (st && st.kind === 'dir') return true;
        if (!hasWildcard(parts[k])) acc.missingDirs++;
        return false;
      });
    }
  }
  return cands.map(([disp, real]) => {
    const st = fs.stat(real);
    return st && st.kind === 'dir' ? `${disp}/` : disp;
  });
}

/** glob(pattern, GLOB_MARK|GLOB_BRACE|GLOB_ALTDIRFUNC) relative to `cwd`. */
export function glob(pattern: string, cwd: string, fs: ConfigFs): GlobResult {
  const acc = { missingFiles: 0, missingDirs: 0, haveWildcards: false };
  const paths: string[] = [];
  for (const alt of expandBraces(pattern)) paths.push(...globOne(alt, cwd, fs, acc));
  return { paths, ...acc };
}

/** Where a path glob returned really is (relative ones are relative to `cwd`). */
export function resolvePath(cwd: string, p: string): string {
  return posix.normalize(p.startsWith('/') ? p : `${cwd}/${p}`);
}
