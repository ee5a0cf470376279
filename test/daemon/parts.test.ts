// The daemon's small parts: the keepalived-like log line, the pid file rules, and the in-process
// wiring (READY=1 / STOPPING=1 to systemd, the plane stopped with the grace period, files removed).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, ctime } from '../../src/daemon/log.ts';
import { writePidFile, removePidFile, defaultPidFile, PidFileError } from '../../src/daemon/pidfile.ts';
import { startDaemon, StartError } from '../../src/daemon/wiring.ts';
import { parseDaemonArgs, type DaemonOptions } from '../../src/daemon/options.ts';
import { FakeSdNotifier } from '../../src/sys/fake/sd-notify.ts';
import { createSdNotifier } from '../../src/sys/sd-notify.ts';
import { defaultControlSocket } from '../../src/api/socket-path.ts';
import { FakePlane } from '../api/fake-plane.ts';
import { httpCall } from '../api/harness.ts';

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keepvs-parts-'));
  dirs.push(d);
  return d;
}

test('log lines: keepalived console format with -l, syslog shape without, debug only with -D', async (t) => {
  const when = new Date(2025, 10, 3, 8, 5, 9);
  const rows = [
    { desc: '-l', console: true, detail: false, level: 'info', msg: 'Starting keepvs', want: ['Mon Nov  3 08:05:09 2025: Starting keepvs'] },
    { desc: 'no -l', console: false, detail: false, level: 'error', msg: 'boom', want: ['keepvs[42]: boom'] },
    { desc: 'debug hidden without -D', console: true, detail: false, level: 'debug', msg: 'x', want: [] },
    { desc: 'debug shown with -D', console: false, detail: true, level: 'debug', msg: 'x', want: ['keepvs[42]: x'] },
    { desc: 'one line per line', console: false, detail: false, level: 'warn', msg: 'a\nb', want: ['keepvs[42]: a', 'keepvs[42]: b'] },
  ] as const;
  for (const row of rows) {
    await t.test(row.desc, () => {
      const lines: string[] = [];
      createLogger({ console: row.console, detail: row.detail, write: (l) => lines.push(l), now: () => when, pid: 42 }).log(row.level, row.msg);
      assert.deepEqual(lines, row.want);
    });
  }
  assert.equal(ctime(new Date(2024, 0, 15, 23, 59, 0)), 'Mon Jan 15 23:59:00 2024');
});

test('pid file: written, refused while its process lives, replaced when stale, removed only if ours', () => {
  const dir = tempDir();
  const p = join(dir, 'sub', 'keepvs.pid');
  writePidFile(p, 123456789);
  assert.equal(readFileSync(p, 'utf8'), '123456789\n');
  // 123456789 is above pid_max: nobody has it, so the file is stale and replaced.
  writePidFile(p, process.pid);
  assert.equal(readFileSync(p, 'utf8'), `${process.pid}\n`);
  assert.throws(() => writePidFile(p, 987654321), PidFileError);
  removePidFile(p, 987654321);
  assert.ok(existsSync(p), 'not removed by someone else');
  removePidFile(p, process.pid);
  assert.ok(!existsSync(p));
  assert.equal(defaultPidFile('/tmp/keepvs-1000/keepvs.sock', 1000), '/tmp/keepvs-1000/keepvs.pid');
  assert.equal(defaultPidFile('/run/keepvs/keepvs.sock', 0), '/run/keepvs.pid');
});

test('default control socket paths (docs/api.md)', () => {
  assert.equal(defaultControlSocket({}, 0), '/run/keepvs/keepvs.sock');
  assert.equal(defaultControlSocket({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000), '/run/user/1000/keepvs.sock');
  assert.equal(defaultControlSocket({}, 1000), '/tmp/keepvs-1000/keepvs.sock');
});

test('sd_notify is silent without NOTIFY_SOCKET', async () => {
  const n = createSdNotifier({});
  assert.equal(n.enabled, false);
  await n.notify({ READY: '1' });
});

function options(dir: string, extra: string[] = []): DaemonOptions {
  const inv = parseDaemonArgs(['--control', join(dir, 'k.sock'), '-p', join(dir, 'k.pid'), '--dump-dir', dir, ...extra]);
  assert.equal(inv.kind, 'run');
  return (inv as { options: DaemonOptions }).options;
}

const quiet = createLogger({ console: true, detail: true, write: () => {} });

test('in-process wiring: READY, API, dumps, STOPPING, ordered stop', async () => {
  const dir = tempDir();
  const plane = new FakePlane();
  const notifier = new FakeSdNotifier();
  const d = await startDaemon({
    options: options(dir), log: quiet, notifier,
    createPlane: async (_name, now) => { assert.equal(typeof now(), 'number'); return { plane, ticksDirector: false }; },
  });
  try {
    assert.equal(notifier.sent[0].READY, '1');
    assert.equal(plane.syncs, 1, 'the plane is synced with the (empty) director at start');
    assert.equal(readFileSync(join(dir, 'k.pid'), 'utf8'), `${process.pid}\n`);
    const r = await httpCall({ socketPath: join(dir, 'k.sock') }, 'GET', '/v1/info');
    assert.equal(r.json.dataplane, 'proxy');
    assert.equal(d.dumpData(), join(dir, 'keepvs.data'));
    assert.match(readFileSync(join(dir, 'keepvs.data'), 'utf8'), /^------< LVS Topology >------$/m);
    assert.equal(d.dumpStats(), join(dir, 'keepvs.stats'));
    assert.match(readFileSync(join(dir, 'keepvs.stats'), 'utf8'), /^Director drops:$/m);
  } finally {
    await d.stop(2500);
  }
  assert.deepEqual(plane.stopped, [2500], 'the plane got the grace period');
  assert.equal(notifier.sent.at(-1)?.STOPPING, '1');
  assert.ok(!existsSync(join(dir, 'k.sock')));
  assert.ok(!existsSync(join(dir, 'k.pid')));
  assert.equal(d.stop(0), d.stop(0), 'stop is idempotent');
});

test('a failed start leaves nothing behind', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'k.sock'), 'not a socket');
  const plane = new FakePlane();
  await assert.rejects(startDaemon({
    options: options(dir), log: quiet, notifier: new FakeSdNotifier(),
    createPlane: async () => ({ plane, ticksDirector: true }),
  }), (e: unknown) => e instanceof StartError && /not a socket/.test(e.message));
  assert.ok(!existsSync(join(dir, 'k.pid')), 'pid file removed');
  assert.deepEqual(plane.stopped, [0], 'plane stopped');
  assert.equal(readFileSync(join(dir, 'k.sock'), 'utf8'), 'not a socket');
});
