// The top level of keepalived.conf. keepalived reads the file once per process: the parent reads
// global_defs and a few top-level keywords, the checker process the LVS sections, the VRRP process
// the VRRP sections (keepalived/core/main.c: global_init_keywords, check_parser.c:
// check_init_keywords, vrrp_parser.c: vrrp_init_keywords). keepvs reads it in two passes the same
// way, so global_defs applies to every section wherever it is written, and each section's keywords
// are reported by the pass that owns them.
import type { KeywordSpec, KeywordTable } from '../tree.ts';
import { table } from '../tree.ts';
import type { ParseCtx } from './context.ts';
import { GLOBAL_DEFS, PARENT_TOP_LEVEL } from './global.ts';
import { LVS_TOP_LEVEL } from './lvs.ts';
import { VRRP_TOP_LEVEL } from './vrrp.ts';

type K = KeywordSpec<ParseCtx>;

const GLOBAL_PASS: K[] = [GLOBAL_DEFS, ...PARENT_TOP_LEVEL];
const SECTION_PASS: K[] = [...VRRP_TOP_LEVEL, ...LVS_TOP_LEVEL];

/** lib/parser.c: an inactive root keyword gets no sub-keywords; its block is skipped by brace counting. */
function inactive(k: K): K {
  return { name: k.name, inactive: true };
}

export function rootTable(pass: 'global' | 'sections'): KeywordTable<ParseCtx> {
  return pass === 'global'
    ? table([...GLOBAL_PASS, ...SECTION_PASS.map(inactive)])
    : table([...GLOBAL_PASS.map(inactive), ...SECTION_PASS]);
}

/** Every top-level keyword (for docs and tests). */
export const TOP_LEVEL_KEYWORDS: readonly string[] = [...GLOBAL_PASS, ...SECTION_PASS].map((k) => k.name);

/**
 * Every section and its keywords, walked from the tables: section path -> keyword names
 * ('' is the top level; nested sections read "virtual_server real_server HTTP_GET url").
 */
export function keywordSections(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (path: string, specs: Iterable<K>): void => {
    const names: string[] = [];
    for (const k of specs) {
      names.push(k.name);
      if (k.sub) walk(path ? `${path} ${k.name}` : k.name, k.sub.values());
    }
    const prev = out.get(path) ?? [];
    out.set(path, [...new Set([...prev, ...names])]);
  };
  walk('', [...GLOBAL_PASS, ...SECTION_PASS]);
  return out;
}
