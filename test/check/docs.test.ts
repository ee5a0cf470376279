// docs/checkers.md names exactly the check result codes and configuration problem codes that
// exist, every checker type, and every checker default it quotes matches spec.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CHECK_CODES } from '../../src/check/result.ts';
import { CHECK_SPEC_ERRORS, CHECKER_TYPES, KEEPALIVED_DEFAULTS, DNS_TYPES, REGEX_OPTIONS } from '../../src/check/spec.ts';

const doc = readFileSync(resolve(import.meta.dirname, '..', '..', 'docs', 'checkers.md'), 'utf8');

function codesIn(section: string): string[] {
  const start = doc.indexOf(section);
  assert.ok(start >= 0, section);
  const rest = doc.slice(start + section.length);
  const end = rest.search(/\n## /);
  return [...(end >= 0 ? rest.slice(0, end) : rest).matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
}

test('docs/checkers.md lists exactly the check result codes', () => {
  assert.deepEqual(codesIn('## Check result codes').sort(), Object.keys(CHECK_CODES).sort());
});

test('docs/checkers.md lists exactly the configuration problem codes', () => {
  assert.deepEqual(codesIn('## Configuration problems').sort(), Object.keys(CHECK_SPEC_ERRORS).sort());
});

test('docs/checkers.md names every checker, DNS type and regex option', () => {
  for (const t of CHECKER_TYPES) assert.match(doc, new RegExp(`\\| \`${t}\` \\|`), t);
  for (const t of Object.keys(DNS_TYPES)) assert.match(doc, new RegExp(`\\b${t}\\b`), t);
  for (const o of Object.keys(REGEX_OPTIONS)) assert.match(doc, new RegExp(`\`${o}\``), o);
});

test('docs/checkers.md quotes the defaults spec.ts uses', () => {
  assert.match(doc, new RegExp(`\\| \`connect_timeout\` \\| ${KEEPALIVED_DEFAULTS.connect_timeout} s`));
  assert.match(doc, new RegExp(`\\| \`delay_loop\` \\| ${KEEPALIVED_DEFAULTS.delay_loop} s`));
  assert.match(doc, new RegExp(`\\| \`retry\` \\| ${KEEPALIVED_DEFAULTS.retry} \\(\`DNS_CHECK\` ${KEEPALIVED_DEFAULTS.dns_retry}, \`MISC_CHECK\` ${KEEPALIVED_DEFAULTS.misc_retry}\\)`));
  assert.match(doc, new RegExp(`${KEEPALIVED_DEFAULTS.delay_before_retry} s \\(\`HTTP_GET\`/\`SSL_GET\` ${KEEPALIVED_DEFAULTS.http_delay_before_retry} s`));
  assert.match(doc, new RegExp(KEEPALIVED_DEFAULTS.helo_name.replaceAll('.', '\\.')));
});
