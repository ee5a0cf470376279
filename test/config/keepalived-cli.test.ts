// bin/keepvs -t / -d / -i as a user runs them: diagnostics on stderr (or in the -t log file), the
// dump on stdout, keepalived's exit codes. Temp files are removed even on failure.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const KEEPVS = resolve(import.meta.dirname, '..', '..', 'bin', 'keepvs');
const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'keepalived');
const dir = mkdtempSync(join(tmpdir(), 'keepvs-conf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function keepvs(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(KEEPVS, args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('keepvs -t: a clean file is silent and exits 0', () => {
  const r = keepvs(['-t', '-f', join(FIXTURES, 'keepalived.conf.virtual_server_group')]);
  assert.deepEqual([r.code, r.err, r.out], [0, '', '']);
});

test('keepvs -t: file:line:col diagnostics, a summary, and keepalived\'s code', () => {
  const f = join(dir, 'bad.conf');
  writeFileSync(f, 'virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_algo fastest\n  lb_kind NAT\n  real_server 10.0.0.2 80 {\n  }\n}\n');
  const r = keepvs(['-t', '-f', f]);
  assert.equal(r.code, 5);
  const lines = r.err.trim().split('\n');
  assert.equal(lines[0], `${f}:3:11: error: Invalid lvs_scheduler 'fastest' - ignoring [lb_algo] (expected rr, wrr, lc, wlc, lblc, sh, mh, dh, fo, ovf, lblcr, sed, nq, twos) {INVALID_VALUE}`);
  assert.match(lines[1], /no scheduler set, setting default 'wlc'/);
  assert.equal(lines[lines.length - 1], `${f}: 1 error(s), 1 warning(s); keepalived -t would exit 5`);
});

test('keepvs --config-test=LOG writes the diagnostics to LOG', () => {
  const log = join(dir, 'test.log');
  const r = keepvs([`--config-test=${log}`, '-f', join(FIXTURES, 'keepalived.conf.fwmark')]);
  assert.equal(r.code, 5);
  assert.equal(r.err, '');
  assert.match(readFileSync(log, 'utf8'), /protocol specified for fwmark - protocol will be ignored/);
});

test('keepvs -t -i ID selects @ID lines', () => {
  const f = join(dir, 'cond.conf');
  writeFileSync(f, '@a global_defs {\n@a   router_id x\n@a }\n@b bogus_keyword\n');
  assert.equal(keepvs(['-t', '-i', 'a', '-f', f]).code, 0);
  assert.equal(keepvs(['-t', '-i', 'b', '-f', f]).code, 5);
});

test('keepvs -t without -f, and with a file that does not exist', () => {
  assert.equal(keepvs(['-t']).code, 1);
  const r = keepvs(['-t', '-f', join(dir, 'nothere.conf')]);
  assert.equal(r.code, 4);
  assert.match(r.err, /Unable to find configuration file/);
});

test('keepvs -d prints the effective configuration, which keepvs -t accepts', () => {
  const r = keepvs(['-d', '-f', join(FIXTURES, 'keepalived.conf.virtual_server_group')]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^virtual_server group VSG_1 \{$/m);
  assert.match(r.out, /^ {6}HTTP_GET \{$/m);
  const f = join(dir, 'dump.conf');
  writeFileSync(f, r.out);
  const again = keepvs(['-t', '-f', f]);
  assert.equal(again.code, 0, again.err);
});
