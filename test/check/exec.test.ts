// src/sys/exec.ts: script security as keepalived's check_script_secure judges it, the default
// script user, and the runner's process-group timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkScriptSecurity, defaultScriptUser, createScriptRunner } from '../../src/sys/exec.ts';

const root = { uid: 0, gid: 0 };

test('script security: root-run scripts need a path nobody else can write', (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root: the checks only apply to scripts run as root, and chown needs root'); return; }
  const base = mkdtempSync(join(tmpdir(), 'keepvs-sec-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  chmodSync(base, 0o755);
  const safeDir = join(base, 'safe');
  const openDir = join(base, 'open');
  mkdirSync(safeDir, { mode: 0o755 });
  mkdirSync(openDir);
  chmodSync(openDir, 0o777);
  const mk = (p: string, mode: number) => { writeFileSync(p, '#!/bin/sh\nexit 0\n'); chmodSync(p, mode); return p; };
  const rows: Array<{ desc: string; path: string; security: boolean; verdict: string }> = [
    { desc: 'root-owned, 0755, in a 0755 directory', path: mk(join(safeDir, 'ok.sh'), 0o755), security: true, verdict: 'ok' },
    { desc: 'world-writable script, script security on', path: mk(join(safeDir, 'ww.sh'), 0o777), security: true, verdict: 'disabled' },
    { desc: 'world-writable script, script security off: a warning', path: mk(join(safeDir, 'ww2.sh'), 0o777), security: false, verdict: 'insecure' },
    { desc: 'in a world-writable directory without the sticky bit', path: mk(join(openDir, 'x.sh'), 0o755), security: true, verdict: 'disabled' },
    { desc: 'not executable', path: mk(join(safeDir, 'noexec.sh'), 0o644), security: true, verdict: 'not-executable' },
    { desc: 'missing', path: join(safeDir, 'nope.sh'), security: true, verdict: 'not-found' },
    { desc: 'found through PATH', path: 'true', security: true, verdict: 'ok' },
    // keepalived checks the resolved path: a linked directory (merged /usr: /bin -> usr/bin) is fine.
    { desc: 'through a linked directory, as /bin/sh on Debian 12', path: (symlinkSync('safe', join(base, 'bin')), join(base, 'bin', 'ok.sh')), security: true, verdict: 'ok' },
    { desc: 'a link named otherwise, to a safe script', path: (symlinkSync('ok.sh', join(safeDir, 'sh')), join(safeDir, 'sh')), security: true, verdict: 'ok' },
    { desc: 'a safe-looking link whose target sits in a world-writable directory', path: (mk(join(openDir, 'y.sh'), 0o755), symlinkSync(join(openDir, 'y.sh'), join(safeDir, 'y')), join(safeDir, 'y')), security: true, verdict: 'disabled' },
  ];
  for (const row of rows) assert.equal(checkScriptSecurity(row.path, root, row.security).verdict, row.verdict, row.desc);
  assert.equal(checkScriptSecurity(join(safeDir, 'ww.sh'), { uid: 65534, gid: 65534 }, true).verdict, 'ok', 'not run as root: no path checks');
});

test('default script user: keepalived_script if it exists, else ourselves; an error with script security', () => {
  const withUser = (name: string) => (name === 'keepalived_script' ? { uid: 998, gid: 998, name } : null);
  assert.deepEqual(defaultScriptUser(false, withUser), { uid: 998, gid: 998, name: 'keepalived_script' });
  const none = () => null;
  assert.deepEqual(defaultScriptUser(false, none), { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
  assert.equal(defaultScriptUser(true, none), null);
});

test('runner: a timed-out script and its children are terminated (process group)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keepvs-run-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'slow.sh');
  writeFileSync(script, `#!/bin/sh\nsleep 30 &\necho $! > ${dir}/child\nwait\n`);
  chmodSync(script, 0o755);
  const r = await createScriptRunner().run({ argv: [script], timeoutMs: 200, killGraceMs: 200 });
  assert.equal(r.timedOut, true);
  const { readFileSync } = await import('node:fs');
  const child = Number(readFileSync(join(dir, 'child'), 'utf8'));
  await new Promise((res) => setTimeout(res, 300));
  let state = 'gone';
  try {
    const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
    state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    // Reaped.
  }
  assert.ok(state === 'gone' || state === 'Z', `the background child is dead too (state ${state})`);
});
