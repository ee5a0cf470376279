// docs/keepalived-conf.md names every section and keyword keepvs accepts, in the row of its
// section, and every diagnostic code; and it names none that does not exist (DESIGN.md:
// docs-consistency tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { keywordSections } from '../../src/config/keepalived/keywords/root.ts';
import { DIAGNOSTIC_CODES } from '../../src/config/keepalived/diagnostics.ts';

const DOC = readFileSync(resolve(import.meta.dirname, '..', '..', 'docs', 'keepalived-conf.md'), 'utf8');

/** The keyword table: section label -> backticked keywords of its row. */
function documentedSections(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of DOC.matchAll(/^\| ((?:`[^`]+`(?: › )?)+|\(top level\)) \| ((?:`[^`]+` ?)+) \|$/gm)) {
    const section = m[1] === '(top level)' ? '' : [...m[1].matchAll(/`([^`]+)`/g)].map((x) => x[1]).join(' ');
    out.set(section, [...m[2].matchAll(/`([^`]+)`/g)].map((x) => x[1]));
  }
  return out;
}

test('every section and its keywords are documented, and nothing else', () => {
  const code = keywordSections();
  const doc = documentedSections();
  assert.deepEqual([...doc.keys()].sort(), [...code.keys()].sort());
  for (const [section, names] of code) assert.deepEqual([...(doc.get(section) ?? [])].sort(), [...names].sort(), `section "${section}"`);
});

test('every diagnostic code is documented, and every documented code exists', () => {
  const start = DOC.indexOf('| code | when |');
  const table = DOC.slice(start, DOC.indexOf('\n\n', start));
  const rows = [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(rows.sort(), Object.keys(DIAGNOSTIC_CODES).sort());
});

test('every -t exit code is documented', () => {
  for (const c of [0, 1, 2, 4, 5, 6]) assert.match(DOC, new RegExp(`^\\| ${c} \\|`, 'm'), `exit code ${c}`);
});
