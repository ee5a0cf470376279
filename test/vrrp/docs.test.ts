// docs/vrrp.md names exactly the drop reasons and error codes that exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DROP_REASON_NAMES } from '../../src/vrrp/drop-reasons.ts';
import { VRRP_ERRORS } from '../../src/vrrp/errors.ts';

const text = readFileSync(resolve(import.meta.dirname, '..', '..', 'docs', 'vrrp.md'), 'utf8');

function section(title: string): string {
  const start = text.indexOf(`## ${title}`);
  assert.ok(start >= 0, `docs/vrrp.md has "## ${title}"`);
  const end = text.indexOf('\n## ', start + 3);
  return text.slice(start, end < 0 ? undefined : end);
}

test('docs/vrrp.md lists exactly the drop reasons', () => {
  const documented = [...section('Drop reasons').matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), [...DROP_REASON_NAMES].sort());
});

test('docs/vrrp.md lists exactly the error codes, with their severity', () => {
  const documented = [...section('Error codes').matchAll(/^\| `([A-Z0-9_]+)` \| (\w+) \|/gm)].map((m) => [m[1], m[2]]);
  const actual = Object.entries(VRRP_ERRORS).map(([code, d]) => [code, d.severity]);
  assert.deepEqual(documented.sort(), actual.sort());
});
