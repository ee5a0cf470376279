// The HealthChecker facade with an injected clock and scripted probes: the timeline of checks,
// the events it publishes, notify scripts and FIFO lines, misc_dynamic, FILE_CHECK, the
// scheduler's stagger and concurrency cap. One test at the end uses real sockets and real time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { HealthChecker, type HealthEvent, type Probes } from '../../src/check/health-checker.ts';
import type { CheckResult, CheckCode } from '../../src/check/result.ts';
import type { VirtualServerSpec } from '../../src/check/spec.ts';
import { Scheduler } from '../../src/check/scheduler.ts';
import { FakeScriptRunner } from '../../src/sys/fake/exec.ts';
import { ManualClock, flush } from './fake-clock.ts';

const res = (ok: boolean, code: CheckCode = ok ? 'L4OK' : 'L4CON', extra: Partial<CheckResult> = {}): CheckResult => ({ ok, code, message: code, durationMs: 0, ...extra });

/** A probe whose answers per address come from a mutable table; records call times. */
function scripted(clock: ManualClock) {
  const up = new Map<string, boolean>();
  const calls: Array<{ at: number; address: string }> = [];
  const probe = async (_spec: unknown, target: { address: string }) => {
    calls.push({ at: clock.now(), address: target.address });
    return res(up.get(target.address) ?? true);
  };
  return { up, calls, probes: { tcp: probe as Probes['tcp'], http: probe as unknown as Probes['http'] } };
}

const vs = (over: Partial<VirtualServerSpec> = {}): VirtualServerSpec => ({
  id: { kind: 'addr', address: '192.168.201.15', port: 80, protocol: 'tcp' },
  delay_loop: 10, warmup: 0,
  real_server: [
    { address: '10.0.0.1', port: 80, checkers: [{ type: 'TCP_CHECK', retry: 2, delay_before_retry: 2 }] },
    { address: '10.0.0.2', port: 80, checkers: [{ type: 'TCP_CHECK', retry: 2, delay_before_retry: 2 }] },
  ],
  ...over,
});

function collect(hc: HealthChecker): string[] {
  const out: string[] = [];
  hc.subscribe((e: HealthEvent) => {
    if (e.type === 'checker') return;
    if (e.type.startsWith('dest-')) out.push(`${e.type} ${(e as { address: string }).address}`);
    else if (e.type === 'rs-up' || e.type === 'rs-down') out.push(`${e.type} ${e.address}`);
    else if (e.type === 'rs-weight') out.push(`${e.type} ${e.from}->${e.to}`);
    else out.push(e.type);
  });
  return out;
}

test('health checker: start-up, a server failing retry+1 times spaced by delay_before_retry, then recovering', async () => {
  const clock = new ManualClock();
  const s = scripted(clock);
  const hc = new HealthChecker({ virtualServers: [vs()], clock, random: () => 0, probes: s.probes });
  const events = collect(hc);
  hc.start();
  assert.deepEqual(events, ['dest-add 10.0.0.1', 'dest-add 10.0.0.2', 'quorum-up']);
  await clock.advance(1000);
  assert.deepEqual(s.calls.map((c) => c.at), [1000, 1000], 'first checks after BOOTSTRAP_DELAY (warmup 0)');
  s.up.set('10.0.0.1', false);
  await clock.advance(10_000);
  await clock.advance(2000);
  await clock.advance(2000);
  const times = s.calls.filter((c) => c.address === '10.0.0.1').map((c) => c.at);
  assert.deepEqual(times, [1000, 11_000, 13_000, 15_000], 'retry 2: three failures, 2 s apart');
  assert.deepEqual(events.slice(3), ['dest-remove 10.0.0.1', 'rs-down 10.0.0.1']);
  s.up.set('10.0.0.1', true);
  await clock.advance(10_000);
  assert.deepEqual(events.slice(5), ['dest-add 10.0.0.1', 'rs-up 10.0.0.1'], 'one success restores');
  hc.stop();
});

test('health checker: warmup staggers the first checks; stop() cancels everything', async () => {
  const clock = new ManualClock();
  const s = scripted(clock);
  let i = 0;
  const rs = Array.from({ length: 10 }, (_, k) => ({ address: `10.0.1.${k + 1}`, port: 80, checkers: [{ type: 'TCP_CHECK' as const }] }));
  const hc = new HealthChecker({ virtualServers: [vs({ warmup: 5, real_server: rs })], clock, random: () => (i++ % 10) / 10, probes: s.probes });
  hc.start();
  await clock.advance(6000);
  assert.deepEqual(s.calls.map((c) => c.at), [1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 5500]);
  hc.stop();
  await clock.advance(60_000);
  assert.equal(s.calls.length, 10, 'no checks after stop');
});

test('health checker: alpha servers start out of the pool and join on their first success', async () => {
  const clock = new ManualClock();
  const s = scripted(clock);
  const hc = new HealthChecker({ virtualServers: [vs({ alpha: true })], clock, random: () => 0, probes: s.probes });
  const events = collect(hc);
  s.up.set('10.0.0.2', false);
  hc.start();
  assert.deepEqual(events, [], 'nothing alive, no sorry server: nothing to do');
  await clock.advance(1000);
  assert.deepEqual(events, ['dest-add 10.0.0.1', 'rs-up 10.0.0.1', 'quorum-up', 'rs-down 10.0.0.2']);
  hc.stop();
});

test('health checker: notify scripts run as configured, FIFO gets keepalived lines, omega runs the down notifies on stop', async () => {
  const clock = new ManualClock();
  const s = scripted(clock);
  const runner = new FakeScriptRunner();
  const fifo: string[] = [];
  const spec = vs({
    omega: true,
    quorum_up: { argv: ['/etc/keepalived/q.sh', 'up'] },
    quorum_down: { argv: ['/etc/keepalived/q.sh', 'down'] },
    real_server: [{ address: '10.0.0.1', port: 80, notify_up: { argv: ['/etc/keepalived/rs.sh', 'UP'] }, notify_down: { argv: ['/etc/keepalived/rs.sh', 'DOWN'] }, checkers: [{ type: 'TCP_CHECK', retry: 0 }] }],
  });
  const hc = new HealthChecker({
    virtualServers: [spec], clock, random: () => 0, probes: s.probes, runner,
    lookupUser: () => null, checkScript: (p) => ({ verdict: 'ok', path: p, reason: '' }),
    fifo: { write: (b) => fifo.push(Buffer.from(b).toString('latin1')) },
  });
  hc.start();
  s.up.set('10.0.0.1', false);
  await clock.advance(1000);
  hc.stop();
  await flush();
  // keepalived's update_vs_notifies(stopping) declares the quorum down again at shutdown, and
  // with omega runs quorum_down even though it already ran.
  assert.deepEqual(runner.runs.map((r) => r.argv.join(' ')), [
    '/etc/keepalived/q.sh up', '/etc/keepalived/rs.sh DOWN', '/etc/keepalived/q.sh down', '/etc/keepalived/q.sh down',
  ]);
  assert.deepEqual(fifo, [
    'VS [192.168.201.15]:tcp:80 UP\n\0',
    'RS [10.0.0.1]:tcp:80 [192.168.201.15]:tcp:80 DOWN\n\0',
    'VS [192.168.201.15]:tcp:80 DOWN\n\0',
    'VS [192.168.201.15]:tcp:80 DOWN\n\0',
  ]);
  const hc2Runs = new FakeScriptRunner();
  const hc2 = new HealthChecker({ virtualServers: [spec], clock, random: () => 0, probes: scripted(clock).probes, runner: hc2Runs, lookupUser: () => null, checkScript: (p) => ({ verdict: 'ok', path: p, reason: '' }) });
  hc2.start();
  hc2.stop();
  await flush();
  assert.deepEqual(hc2Runs.runs.map((r) => `${r.argv.join(' ')} ${r.timeoutMs}`), ['/etc/keepalived/q.sh up 0', '/etc/keepalived/rs.sh DOWN 1000', '/etc/keepalived/q.sh down 1000'], 'omega: shutdown notifies get 1 s');
});

test('health checker: MISC_CHECK misc_dynamic sets the real server weight from the exit status', async () => {
  const clock = new ManualClock();
  const runner = new FakeScriptRunner();
  runner.exits(12, 12, 0);
  const weights: string[] = [];
  const hc = new HealthChecker({
    virtualServers: [vs({ real_server: [{ address: '10.0.0.1', port: 80, weight: 3, checkers: [{ type: 'MISC_CHECK', misc_path: ['/bin/check'], misc_dynamic: true }] }] })],
    clock, random: () => 0, runner, lookupUser: () => null, checkScript: (p) => ({ verdict: 'ok', path: p, reason: '' }),
  });
  hc.subscribe((e) => { if (e.type === 'rs-weight' || e.type === 'dest-edit') weights.push(`${e.type} ${e.type === 'rs-weight' ? `${e.from}->${e.to}` : e.weight}`); });
  hc.start();
  await clock.advance(1000);
  await clock.advance(10_000);
  await clock.advance(10_000);
  assert.deepEqual(weights, ['rs-weight 3->10', 'dest-edit 10', 'rs-weight 10->3', 'dest-edit 3']);
  assert.equal(runner.runs[0].timeoutMs, 10_000, 'misc_timeout unset: the virtual server delay_loop');
  hc.stop();
});

test('health checker: MISC_CHECK scripts that fail the security check are dropped, as keepalived does', () => {
  const hc = new HealthChecker({
    virtualServers: [vs({ real_server: [{ address: '10.0.0.1', port: 80, checkers: [{ type: 'MISC_CHECK', misc_path: ['/tmp/x.sh'] }] }] })],
    scriptSecurity: true, lookupUser: () => ({ uid: 0, gid: 0 }), checkScript: (p) => ({ verdict: 'disabled', path: p, reason: '/tmp is writable' }),
    runner: new FakeScriptRunner(), clock: new ManualClock(),
  });
  hc.start();
  assert.equal(hc.snapshot().virtualServers[0].realServers[0].checkers.length, 0);
  assert.match(hc.problems.map((p) => p.message).join('\n'), /disabled: \/tmp is writable/);
  hc.stop();
});

test('health checker: FILE_CHECK follows the file value (fault, weight share, recovery)', () => {
  const values = new Map<string, number>([['/run/w', 0]]);
  const hc = new HealthChecker({
    virtualServers: [vs({ real_server: [{ address: '10.0.0.1', port: 80, weight: 5, checkers: [{ type: 'FILE_CHECK', track_file: { name: 'w', file: '/run/w' }, weight: 2 }] }, { address: '10.0.0.2', port: 80, checkers: [] }] })],
    clock: new ManualClock(), files: { read: (p) => values.get(p) ?? 0, watch: () => ({ close() {} }) },
  });
  const events = collect(hc);
  hc.start();
  values.set('/run/w', 3);
  hc.pollFiles();
  assert.equal(hc.snapshot().virtualServers[0].realServers[0].effectiveWeight, 11);
  values.set('/run/w', -2147483648);
  hc.pollFiles();
  values.set('/run/w', 1);
  hc.pollFiles();
  assert.deepEqual(events.slice(3), ['rs-weight 5->11', 'dest-edit 10.0.0.1', 'dest-remove 10.0.0.1', 'rs-down 10.0.0.1', 'dest-add 10.0.0.1', 'rs-up 10.0.0.1']);
  assert.equal(hc.snapshot().virtualServers[0].realServers[0].effectiveWeight, 7);
  hc.stop();
});

test('scheduler: the concurrency cap delays checks, never drops them', async () => {
  const clock = new ManualClock();
  const sched = new Scheduler(clock, 2);
  const started: number[] = [];
  const releases: Array<() => void> = [];
  for (let id = 0; id < 5; id++) {
    sched.schedule(id, 100, () => { started.push(id); return new Promise<void>((r) => releases.push(r)); });
  }
  await clock.advance(100);
  assert.deepEqual(started, [0, 1]);
  releases.shift()!();
  await flush();
  assert.deepEqual(started, [0, 1, 2]);
  for (let k = 0; k < 4; k++) { releases.shift()?.(); await flush(); }
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(sched.stats().delayedByCap, 3);
  sched.cancel(9);
  sched.stop();
});

test('health checker, real sockets: a TCP server going away takes its real server out (real time, 100 ms delay_loop)', async (t) => {
  const server = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const hc = new HealthChecker({
    virtualServers: [{
      id: { kind: 'addr', address: '127.0.0.1', port: 1, protocol: 'tcp' }, delay_loop: 0.1, warmup: 0,
      real_server: [{ address: '127.0.0.1', port, checkers: [{ type: 'TCP_CHECK', connect_timeout: 0.5, retry: 1, delay_before_retry: 0.05 }] }],
    }],
  });
  t.after(() => hc.stop());
  const seen: string[] = [];
  const gone = new Promise<void>((resolve) => hc.subscribe((e) => {
    seen.push(e.type);
    if (e.type === 'rs-down') resolve();
  }));
  hc.start();
  await new Promise((r) => setTimeout(r, 1300));
  assert.ok(hc.stats().checks >= 1, 'checks ran');
  assert.equal(hc.snapshot().virtualServers[0].realServers[0].alive, true);
  await new Promise<void>((r) => server.close(() => r()));
  await Promise.race([gone, new Promise((_, rej) => setTimeout(() => rej(new Error('no rs-down within 3 s')), 3000))]);
  assert.deepEqual(seen.filter((e) => e !== 'checker'), ['dest-add', 'quorum-up', 'dest-remove', 'rs-down', 'quorum-down']);
});
