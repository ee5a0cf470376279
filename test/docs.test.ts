// Docs consistency (DESIGN.md, "Habits"): every error code that exists is documented, and the docs
// name none that does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CORE_ERRORS } from '../src/core/errors.ts';
import { SCHEDULER_NAMES } from '../src/core/sched/scheduler.ts';

const doc = (name: string) => readFileSync(resolve(import.meta.dirname, '..', 'docs', name), 'utf8');

test('docs/core.md lists exactly the core error codes', () => {
  const text = doc('core.md');
  const section = text.slice(text.indexOf('## Error codes'));
  const documented = [...section.matchAll(/^\| `([A-Z_]+)` \| (\w+) \|/gm)].map((m) => [m[1], m[2]]);
  const actual = Object.entries(CORE_ERRORS).map(([code, def]) => [code, def.errno]);
  assert.deepEqual(documented.sort(), actual.sort());
});

test('docs/core.md names every scheduler', () => {
  const text = doc('core.md');
  for (const name of SCHEDULER_NAMES) assert.match(text, new RegExp(`\\b${name}\\b`), name);
});
