// Tracking (scripts, interfaces, files), sync groups and notifications.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialScriptCounter, scriptOutcome, scriptStatus, trackingTotals } from '../../src/vrrp/tracking.ts';
import { resolveVrrpConfig, type ResolvedScript, type VrrpConfig } from '../../src/vrrp/config.ts';
import { stateNotify, eventNotify } from '../../src/vrrp/notify.ts';
import { FakeNet, stateOf } from './fake-host.ts';

const S = 1_000_000;

function script(rise: number, fall: number, initFail = false): ResolvedScript {
  return { name: 's', script: 'true', intervalUs: S, timeoutUs: S, weight: 0, reverse: false, rise, fall, initFail };
}

test('vrrp_script rise/fall counter (vrrp_scheduler.c semantics)', () => {
  const rows = [
    { d: 'one success is enough at start', s: script(3, 2), runs: [true], want: ['ok'] },
    { d: 'one failure is enough at start', s: script(3, 2), runs: [false], want: ['fail'] },
    { d: 'from OK, fall=2 failures to FAIL', s: script(3, 2), runs: [true, false, false], want: ['ok', 'ok', 'fail'] },
    { d: 'from FAIL, rise=3 successes to OK', s: script(3, 2), runs: [false, true, true, true], want: ['fail', 'fail', 'fail', 'ok'] },
    { d: 'a success in between resets the fall count', s: script(1, 3), runs: [true, false, false, true, false, false, false], want: ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'fail'] },
    { d: 'init_fail starts failed', s: script(2, 1, true), runs: [true, true], want: ['fail', 'ok'] },
  ];
  for (const r of rows) {
    let c = initialScriptCounter(r.s);
    assert.equal(scriptStatus(r.s, c), r.s.initFail ? 'fail' : 'unknown', r.d);
    const got = r.runs.map((ok) => {
      c = scriptOutcome(r.s, c, ok);
      return scriptStatus(r.s, c);
    });
    assert.deepEqual(got, r.want, r.d);
  }
});

test('tracking totals: weights, reverse, files, owner, init-pending scripts', () => {
  const cfg: VrrpConfig = {
    vrrp_script: [{ name: 'up', script: 'x', weight: 20 }, { name: 'down', script: 'x', weight: -30 }, { name: 'gate', script: 'x' }],
    track_file: [{ name: 'f', file: '/tmp/f', weight: 2 }, { name: 'z', file: '/tmp/z', weight: 0 }],
    vrrp_instance: [{
      name: 'VI_1', interface: 'eth0', virtual_router_id: 1, priority: 100, virtual_ipaddress: ['198.18.10.100'],
      track_interface: [{ name: 'eth1', weight: -50 }, { name: 'eth2', weight: 10, reverse: true }],
      track_script: [{ name: 'up' }, { name: 'down' }, { name: 'gate' }], track_file: [{ name: 'f' }, { name: 'z' }],
    }],
  };
  const inst = resolveVrrpConfig(cfg).vrrp.instances[0];
  const st = (o: { eth0?: boolean; eth1?: boolean; eth2?: boolean; up?: 'ok' | 'fail' | 'unknown'; down?: 'ok' | 'fail' | 'unknown'; gate?: 'ok' | 'fail' | 'unknown'; f?: number; z?: number }) => ({
    interfaces: new Map([['eth0', o.eth0 ?? true], ['eth1', o.eth1 ?? true], ['eth2', o.eth2 ?? false]]),
    scripts: new Map([['up', o.up ?? 'ok'], ['down', o.down ?? 'ok'], ['gate', o.gate ?? 'ok']]),
    files: new Map([['f', o.f ?? 0], ['z', o.z ?? 0]]),
  });
  const rows = [
    { d: 'all good', o: {}, want: { totalPriority: 120, faults: 0, initPending: 0 } },
    { d: 'eth1 down: -50', o: { eth1: false }, want: { totalPriority: 70, faults: 0, initPending: 0 } },
    { d: 'eth2 up with reverse weight 10: -10', o: { eth2: true }, want: { totalPriority: 110, faults: 0, initPending: 0 } },
    { d: 'negative script failing: -30; positive failing: 0', o: { up: 'fail' as const, down: 'fail' as const }, want: { totalPriority: 70, faults: 0, initPending: 0 } },
    { d: 'weight-0 script not run yet: waits', o: { gate: 'unknown' as const }, want: { totalPriority: 120, faults: 0, initPending: 1 } },
    { d: 'weight-0 script failing: FAULT', o: { gate: 'fail' as const }, want: { totalPriority: 120, faults: 1, initPending: 0 } },
    { d: 'own interface down: FAULT', o: { eth0: false }, want: { totalPriority: 120, faults: 1, initPending: 0 } },
    { d: 'track_file value x weight', o: { f: 7 }, want: { totalPriority: 134, faults: 0, initPending: 0 } },
    { d: 'track_file weight 0, non-zero value: FAULT', o: { z: 1 }, want: { totalPriority: 120, faults: 1, initPending: 0 } },
    { d: 'track_file far below: FAULT', o: { f: -200 }, want: { totalPriority: 120, faults: 1, initPending: 0 } },
  ];
  for (const r of rows) assert.deepEqual(trackingTotals(inst, null, st(r.o)), r.want, r.d);
  const owner = { ...inst, basePriority: 255 };
  assert.equal(trackingTotals(owner, null, st({ eth1: false })).totalPriority, 255, 'the owner is never adjusted');
});

test('notify commands and FIFO lines (vrrp_notify.c conventions)', () => {
  const scripts = { master: '/bin/m "quoted arg"', backup: null, fault: null, stop: null, generic: '/bin/n x', masterRxLowerPri: '/bin/lp', deleted: '/bin/d', users: { master: { user: 'ops' } } };
  assert.deepEqual(stateNotify('INSTANCE', 'VI_1', 'MASTER', 150, scripts), {
    commands: [['/bin/m', 'quoted arg'], ['/bin/n', 'x', 'INSTANCE', 'VI_1', 'MASTER', '150']],
    users: [{ user: 'ops' }, null],
    fifoLine: 'INSTANCE "VI_1" MASTER 150\n',
  });
  assert.deepEqual(stateNotify('GROUP', 'G', 'BACKUP', 99, scripts), { commands: [['/bin/n', 'x', 'GROUP', 'G', 'BACKUP', '0']], users: [null], fifoLine: 'GROUP "G" BACKUP 0\n' });
  assert.deepEqual(stateNotify('INSTANCE', 'VI_1', 'DELETED', 150, scripts), {
    commands: [['/bin/d'], ['/bin/n', 'x', 'INSTANCE', 'VI_1', 'DELETED', '150']], users: [null, null], fifoLine: 'INSTANCE "VI_1" DELETED 150\n',
  });
  assert.deepEqual(eventNotify('VI_1', 'MASTER_RX_LOWER_PRI', 150, scripts), { commands: [['/bin/lp']], users: [null], fifoLine: 'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 150\n' });
});

test('vrrp_script with weight: a failing check on the MASTER lets the BACKUP preempt', async () => {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  const b = net.node('vrb', '198.18.10.2', '02:00:c6:12:0a:02');
  let healthy = true;
  a.scriptResult = (argv) => (argv.join(' ').includes('check-web') ? { code: healthy ? 0 : 1, signal: null, timedOut: false } : { code: 0, signal: null, timedOut: false });
  const conf = (prio: number, tracked: boolean): VrrpConfig => ({
    vrrp_script: [{ name: 'chk_web', script: '/usr/local/bin/check-web', interval: 1, weight: -60, fall: 2, rise: 2 }],
    vrrp_instance: [{ name: 'VI_1', interface: 'eth0', virtual_router_id: 51, priority: prio, virtual_ipaddress: ['198.18.10.100/24'], track_script: tracked ? [{ name: 'chk_web' }] : [] }],
  });
  await net.start(a, conf(150, true));
  await net.start(b, conf(100, false));
  await net.run(5 * S);
  assert.equal(stateOf(a), 'MASTER');
  healthy = false;
  await net.run(2 * S + 100_000);
  assert.equal(a.proc!.status().instances[0].effectivePriority, 90, 'two failures (fall 2) subtract 60');
  await net.run(5 * S);
  assert.equal(stateOf(b), 'MASTER', 'b (100) preempts a (90)');
  assert.equal(stateOf(a), 'BACKUP');
  healthy = true;
  await net.run(8 * S);
  assert.equal(stateOf(a), 'MASTER', 'two successes (rise 2) restore 150; a preempts back');
  assert.ok(a.execs.filter((e) => e.argv[0] === '/usr/local/bin/check-web').length >= 15, 'the check runs every second');
  await a.proc!.stop();
  await b.proc!.stop();
});

test('sync group: a fault in one member takes the whole group to FAULT; the peer group takes over as one', async () => {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  const b = net.node('vrb', '198.18.10.2', '02:00:c6:12:0a:02');
  a.ip.addLink('eth1', '02:00:c6:12:0b:01', ['198.18.11.1/24']);
  b.ip.addLink('eth1', '02:00:c6:12:0b:02', ['198.18.11.2/24']);
  const conf = (prio: number): VrrpConfig => ({
    global_defs: { vrrp_notify_fifo: '/run/fifo' },
    vrrp_sync_group: [{ name: 'G', group: ['EXT', 'INT'], notify: '/bin/gnotify' }],
    vrrp_instance: [
      { name: 'EXT', interface: 'eth0', virtual_router_id: 51, priority: prio, virtual_ipaddress: ['198.18.10.100/24'] },
      { name: 'INT', interface: 'eth1', virtual_router_id: 52, priority: prio, virtual_ipaddress: ['198.18.11.100/24'] },
    ],
  });
  // The in-memory LAN is one segment for both interfaces; VRIDs keep the instances apart.
  await net.start(a, conf(150));
  await net.start(b, conf(100));
  await net.run(5 * S);
  assert.deepEqual([stateOf(a, 'EXT'), stateOf(a, 'INT'), stateOf(b, 'EXT'), stateOf(b, 'INT')], ['MASTER', 'MASTER', 'BACKUP', 'BACKUP']);
  assert.ok(a.fifo.includes('GROUP "G" MASTER 0\n'));
  a.ip.links.get('eth1')!.up = false;
  await (a.proc as unknown as { refreshLinks(): Promise<void> }).refreshLinks();
  await net.run(1 * S);
  assert.deepEqual([stateOf(a, 'EXT'), stateOf(a, 'INT')], ['FAULT', 'FAULT'], 'EXT follows INT into FAULT');
  assert.deepEqual([stateOf(b, 'EXT'), stateOf(b, 'INT')], ['MASTER', 'MASTER']);
  assert.ok(a.execs.some((e) => e.argv.join(' ') === '/bin/gnotify GROUP G FAULT 0'));
  assert.ok(b.fifo.includes('GROUP "G" MASTER 0\n'));
  a.ip.links.get('eth1')!.up = true;
  await (a.proc as unknown as { refreshLinks(): Promise<void> }).refreshLinks();
  await net.run(6 * S);
  assert.deepEqual([stateOf(a, 'EXT'), stateOf(a, 'INT'), stateOf(b, 'EXT'), stateOf(b, 'INT')], ['MASTER', 'MASTER', 'BACKUP', 'BACKUP'], 'a comes back and preempts as a group');
  await a.proc!.stop();
  await b.proc!.stop();
  assert.ok(a.fifo.includes('GROUP "G" STOP 0\n'));
});

test('track_file: init_file creates it, a written value moves the priority, a weight-0 file faults', async () => {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  await net.start(a, {
    track_file: [{ name: 'prio', file: '/run/prio', weight: -10, init_file: { value: 0 } }, { name: 'maint', file: '/run/maint', weight: 0 }],
    vrrp_instance: [{ name: 'VI_1', interface: 'eth0', virtual_router_id: 51, priority: 200, virtual_ipaddress: ['198.18.10.100/24'], track_file: [{ name: 'prio' }, { name: 'maint' }] }],
  });
  assert.equal(a.files.get('/run/prio'), '0\n', 'init_file wrote 0');
  await net.run(4 * S);
  assert.equal(stateOf(a), 'MASTER');
  a.files.set('/run/prio', '3\n');
  a.fileWatchers.get('/run/prio')!();
  assert.equal(a.proc!.status().instances[0].effectivePriority, 170);
  a.files.set('/run/maint', '1\n');
  a.fileWatchers.get('/run/maint')!();
  await net.run(10_000);
  assert.equal(stateOf(a), 'FAULT');
  a.files.set('/run/maint', '0\n');
  a.fileWatchers.get('/run/maint')!();
  await net.run(10_000);
  assert.equal(stateOf(a), 'BACKUP');
  await a.proc!.stop();
});
