// docs/daemon.md names every flag, metric and API error code that exists, and none that does not
// (DESIGN.md: docs-consistency tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FLAGS } from '../../src/daemon/options.ts';
import { METRICS } from '../../src/api/metrics.ts';
import { API_ERRORS } from '../../src/api/errors.ts';
import { ROUTES } from '../../src/api/routes/index.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DOC = readFileSync(resolve(ROOT, 'docs', 'daemon.md'), 'utf8');
const API_DOC = readFileSync(resolve(ROOT, 'docs', 'api.md'), 'utf8');

test('every flag is documented, and every documented flag exists', () => {
  for (const f of FLAGS) assert.ok(DOC.includes(`--${f.long}`), `--${f.long} missing from docs/daemon.md`);
  // The flag tables: rows that start with a flag.
  const documented = new Set([...DOC.matchAll(/^\| `(?:-[A-Za-z], )?--([a-z-]+)/gm)].map((m) => m[1]));
  assert.ok(documented.size >= FLAGS.length);
  for (const name of documented) assert.ok(FLAGS.some((f) => f.long === name), `docs/daemon.md documents --${name}, which does not exist`);
});

test('every metric is documented, and every documented metric exists', () => {
  const rows = new Set([...DOC.matchAll(/^\| `((?:keepvs|process|nodejs)_[a-z0-9_]+)` \|/gm)].map((m) => m[1]));
  assert.deepEqual([...rows].sort(), Object.keys(METRICS).sort());
});

test('every API error code is documented', () => {
  for (const code of Object.keys(API_ERRORS)) assert.ok(DOC.includes(`\`${code}\``), code);
});

test('every route is in docs/api.md or docs/daemon.md', () => {
  for (const r of [...ROUTES, { method: 'GET', path: '/metrics' }]) {
    assert.ok(API_DOC.includes(`${r.method} ${r.path}`) || API_DOC.includes(`${r.method}  ${r.path}`) || DOC.includes(`${r.method} ${r.path}`),
      `${r.method} ${r.path}`);
  }
});
