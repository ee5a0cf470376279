// SIGHUP reload of the VRRP blocks, as keepalived 2.2.7 reloads its VRRP process (src/vrrp/reload.ts,
// VrrpProcess.reload): the pure decisions row by row, then whole processes on the in-memory LAN with a
// fake clock — kept instances keep their state, removed ones resign, new ones start, a MASTER applies
// the address diff, scripts keep their verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeNet, flush, stateOf, type FakeNode } from './fake-host.ts';
import { resolveVrrpConfig, type ResolvedInstance, type ResolvedScript, type VrrpConfig, type VrrpInstanceConfig } from '../../src/vrrp/config.ts';
import { addressDiff, carryScriptCounter, matchInstance } from '../../src/vrrp/reload.ts';
import { parseVrrpHeader } from '../../src/vrrp/packet.ts';

const S = 1_000_000;
const VIP = '198.18.10.100';

function inst(over: Partial<VrrpInstanceConfig>): VrrpInstanceConfig {
  return {
    name: 'VI_1', interface: 'eth0', virtual_router_id: 51, advert_int: 1,
    authentication: { auth_type: 'PASS', auth_pass: 's3cret' }, virtual_ipaddress: [`${VIP}/24 dev eth0`],
    notify: '/etc/keepvs/notify.sh vr', ...over,
  };
}

function resolved(cfg: VrrpConfig) {
  const r = resolveVrrpConfig(cfg);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
  return r.vrrp;
}

function one(over: Partial<VrrpInstanceConfig>): ResolvedInstance {
  return resolved({ vrrp_instance: [inst(over)] }).instances[0];
}

test('matchInstance: which new instance continues an old one (keepalived vrrp_exist)', () => {
  const old = one({});
  const rows: { desc: string; next: Partial<VrrpInstanceConfig>; kept: boolean }[] = [
    { desc: 'identical', next: {}, kept: true },
    { desc: 'renamed, new priority and VIPs', next: { name: 'WEB', priority: 50, virtual_ipaddress: ['198.18.10.101/24'] }, kept: true },
    { desc: 'another VRID', next: { virtual_router_id: 52 }, kept: false },
    { desc: 'another interface', next: { interface: 'eth1' }, kept: false },
    { desc: 'unicast instead of multicast', next: { unicast_src_ip: '198.18.10.1', unicast_peer: ['198.18.10.2'] }, kept: false },
    { desc: 'another multicast group', next: { mcast_dst_ip: '224.0.0.19' }, kept: false },
    { desc: 'use_vmac switched on', next: { use_vmac: true }, kept: false },
  ];
  for (const r of rows) assert.equal(matchInstance(old, [one(r.next)]) !== null, r.kept, r.desc);
  const uni = one({ unicast_src_ip: '198.18.10.1', unicast_peer: ['198.18.10.2'] });
  assert.ok(matchInstance(uni, [one({ unicast_src_ip: '198.18.10.1', unicast_peer: ['198.18.10.3'] })]), 'unicast: new peers, same source');
  assert.equal(matchInstance(uni, [one({ unicast_src_ip: '198.18.10.9', unicast_peer: ['198.18.10.2'] })]), null, 'unicast: another source');
});

test('addressDiff: what a kept MASTER removes and whether it adds', () => {
  const old = one({ virtual_ipaddress_excluded: ['198.18.20.5/32'], virtual_routes: ['198.18.30.0/24 via 198.18.10.254'] });
  const rows: { desc: string; next: Partial<VrrpInstanceConfig>; removed: string[]; routes: number; added: boolean }[] = [
    { desc: 'unchanged', next: { virtual_ipaddress_excluded: ['198.18.20.5/32'], virtual_routes: ['198.18.30.0/24 via 198.18.10.254'] }, removed: [], routes: 0, added: false },
    { desc: 'an address and the route dropped', next: {}, removed: ['198.18.20.5'], routes: 1, added: false },
    { desc: 'an address added', next: { virtual_ipaddress: [`${VIP}/24 dev eth0`, '198.18.10.102/24 dev eth0'], virtual_ipaddress_excluded: ['198.18.20.5/32'], virtual_routes: ['198.18.30.0/24 via 198.18.10.254'] }, removed: [], routes: 0, added: true },
    { desc: 'a label changed: removed and added again', next: { virtual_ipaddress: [`${VIP}/24 dev eth0 label eth0:1`], virtual_ipaddress_excluded: ['198.18.20.5/32'], virtual_routes: ['198.18.30.0/24 via 198.18.10.254'] }, removed: [VIP], routes: 0, added: true },
  ];
  for (const r of rows) {
    const d = addressDiff(old, one(r.next));
    assert.deepEqual(d.removedVips.map((v) => v.addr.text), r.removed, r.desc);
    assert.equal(d.removedRoutes.length, r.routes, r.desc);
    assert.equal(d.added, r.added, r.desc);
  }
});

test('carryScriptCounter: a kept vrrp_script keeps its verdict (keepalived clear_diff_script)', () => {
  const sc = (rise: number, fall: number): ResolvedScript => ({ name: 's', script: '/bin/true', intervalUs: S, timeoutUs: S, weight: 0, reverse: false, rise, fall, initFail: false });
  const rows: { desc: string; old: ResolvedScript; result: number; init?: boolean; next: ResolvedScript; want: number; verdict: string | null; initState: string }[] = [
    { desc: 'never ran: starts over', old: sc(2, 2), result: 1, init: true, next: sc(3, 3), want: 2, verdict: null, initState: 'init' },
    { desc: 'fully up stays fully up', old: sc(2, 2), result: 3, next: sc(3, 4), want: 6, verdict: 'successful', initState: 'done' },
    { desc: 'up, one failure seen', old: sc(2, 3), result: 3, next: sc(3, 3), want: 4, verdict: 'successful', initState: 'done' },
    { desc: 'failed at 0 stays 0', old: sc(2, 2), result: 0, next: sc(5, 2), want: 0, verdict: 'unsuccessful', initState: 'done' },
    { desc: 'one success short of rise stays one short', old: sc(3, 2), result: 2, next: sc(5, 2), want: 4, verdict: 'unsuccessful', initState: 'done' },
  ];
  for (const r of rows) {
    const c = carryScriptCounter(r.old, { result: r.result, initState: r.init ? 'init' : 'done' }, r.next);
    assert.equal(c.counter.result, r.want, r.desc);
    assert.equal(c.counter.initState, r.initState, r.desc);
    assert.equal(c.verdict, r.verdict, r.desc);
  }
});

async function pair(aExtra: VrrpInstanceConfig[] = []) {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  const b = net.node('vrb', '198.18.10.2', '02:00:c6:12:0a:02');
  await net.start(a, { vrrp_instance: [inst({ state: 'MASTER', priority: 150 }), ...aExtra] });
  await net.start(b, { vrrp_instance: [inst({ state: 'BACKUP', priority: 100 }), ...aExtra.map((x) => ({ ...x, priority: 50 }))] });
  await net.run(5 * S);
  return { net, a, b };
}

async function reload(n: FakeNode, cfg: VrrpConfig): Promise<void> {
  await n.proc!.reload(resolved(cfg));
  await flush();
}

const addrCmds = (n: FakeNode) => n.ip.commands.filter((c) => / addr (add|del) /.test(c));

test('reload: a kept MASTER stays MASTER without a new election and applies the address diff', async () => {
  const { net, a, b } = await pair();
  assert.equal(stateOf(a), 'MASTER');
  const sentBefore = net.lan.sent.filter((p) => p.from === 'vra').length;
  const notifiesBefore = a.execs.length;
  const transitionsBefore = a.transitions.length;
  a.ip.commands.length = 0;
  const framesBefore = a.frames.sent.length;
  await reload(a, { vrrp_instance: [inst({ name: 'WEB', state: 'MASTER', priority: 150, virtual_ipaddress: [`${VIP}/24 dev eth0`, '198.18.10.102/24 dev eth0'] })] });
  // keepalived's sigreload_vrrp: the MASTER advertises before reloading.
  assert.equal(net.lan.sent.filter((p) => p.from === 'vra').length, sentBefore + 1);
  assert.equal(stateOf(a, 'WEB'), 'MASTER');
  assert.equal(a.transitions.length, transitionsBefore, 'no state change');
  assert.equal(a.execs.length, notifiesBefore, 'no notify for an unchanged state');
  assert.deepEqual(addrCmds(a), [`ip -4 addr add ${VIP}/24 dev eth0`, 'ip -4 addr add 198.18.10.102/24 dev eth0']);
  assert.ok(a.ip.addressesOf('eth0').includes('198.18.10.102/24'));
  assert.equal(a.frames.sent.length - framesBefore, 10, 'a GARP round (5 x 2 addresses) for the added address');
  assert.equal(a.held.at(-1), `${VIP},198.18.10.102`);
  assert.equal(a.proc!.status().instances[0].stats.counters.become_master, 1, 'counters carried over');
  // The peer gets the same file (its adverts must list the same addresses, else each drops the
  // other's as addr_count_mismatch): it stays BACKUP.
  await reload(b, { vrrp_instance: [inst({ name: 'WEB', state: 'BACKUP', priority: 100, virtual_ipaddress: [`${VIP}/24 dev eth0`, '198.18.10.102/24 dev eth0'] })] });
  await net.run(10 * S);
  assert.equal(stateOf(a, 'WEB'), 'MASTER');
  assert.equal(stateOf(b, 'WEB'), 'BACKUP');

  // Dropping the added address again removes it on the MASTER.
  a.ip.commands.length = 0;
  await reload(a, { vrrp_instance: [inst({ name: 'WEB', state: 'MASTER', priority: 150 })] });
  await reload(b, { vrrp_instance: [inst({ name: 'WEB', state: 'BACKUP', priority: 100 })] });
  assert.deepEqual(addrCmds(a), ['ip -4 addr del 198.18.10.102/24 dev eth0', `ip -4 addr add ${VIP}/24 dev eth0`]);
  assert.equal(a.held.at(-1), VIP);
  await net.run(10 * S);
  assert.equal(stateOf(a, 'WEB'), 'MASTER');
  assert.equal(stateOf(b, 'WEB'), 'BACKUP');
  await a.proc!.stop();
  await b.proc!.stop();
});

test('reload: a removed MASTER resigns (priority 0, addresses removed, FAULT to the generic notify); the peer takes over', async () => {
  const vi2 = inst({ name: 'VI_2', virtual_router_id: 52, priority: 150, virtual_ipaddress: ['198.18.10.110/24 dev eth0'], notify_fault: '/etc/keepvs/fault.sh' });
  const { net, a, b } = await pair([vi2]);
  assert.equal(stateOf(a, 'VI_2'), 'MASTER');
  assert.equal(stateOf(b, 'VI_2'), 'BACKUP');
  const execsBefore = a.execs.length;
  const heldBefore = a.held.length;
  assert.equal(a.held.at(-1), `${VIP},198.18.10.110`);
  await reload(a, { vrrp_instance: [inst({ state: 'MASTER', priority: 150 })] });
  // The data plane is told once, and never that VI_1's address went away meanwhile.
  assert.deepEqual(a.held.slice(heldBefore), [VIP]);
  const last = net.lan.sent.filter((p) => p.from === 'vra').at(-1)!;
  assert.equal(parseVrrpHeader(last.bytes, 20).vrid, 52);
  assert.equal(parseVrrpHeader(last.bytes, 20).priority, 0, 'VI_2 resigned with priority 0');
  assert.ok(!a.ip.addressesOf('eth0').includes('198.18.10.110/24'), 'its VIP is removed');
  assert.deepEqual(a.execs.slice(execsBefore).map((e) => e.argv.join(' ')), ['/etc/keepvs/notify.sh vr INSTANCE VI_2 FAULT 150'],
    'the generic notify says FAULT; notify_fault is not run (keepalived without notify_deleted)');
  assert.deepEqual(a.proc!.status().instances.map((i) => i.name), ['VI_1']);
  assert.equal(stateOf(a), 'MASTER', 'VI_1 is untouched');
  await net.run(2 * S);
  assert.equal(stateOf(b, 'VI_2'), 'MASTER', 'the peer took VI_2 over after Skew_Time');
  await a.proc!.stop();
  await b.proc!.stop();
});

test('reload: a new instance starts as at start-up; a kept BACKUP stays BACKUP and keeps its timer running', async () => {
  const { net, a, b } = await pair();
  const vi3 = inst({ name: 'VI_3', virtual_router_id: 53, priority: 100, virtual_ipaddress: ['198.18.10.120/24 dev eth0'] });
  await reload(b, { vrrp_instance: [inst({ state: 'BACKUP', priority: 100 }), vi3] });
  assert.equal(stateOf(b), 'BACKUP');
  assert.equal(stateOf(b, 'VI_3'), 'BACKUP');
  assert.match(b.logs.join('\n'), /\(VI_3\) Entering BACKUP STATE \(init\)/);
  await net.run(4 * S);
  assert.equal(stateOf(b, 'VI_3'), 'MASTER', 'nobody else has VRID 53');
  assert.equal(stateOf(b), 'BACKUP', 'VI_1 still hears the MASTER');
  assert.ok(b.ip.addressesOf('eth0').includes('198.18.10.120/24'));
  // The kept BACKUP still fails over when the MASTER goes.
  await a.proc!.stop();
  await net.run(1 * S);
  assert.equal(stateOf(b), 'MASTER');
  await b.proc!.stop();
});

test('reload: a kept vrrp_script keeps its verdict and a failing weight-0 script keeps the instance in FAULT', async () => {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  a.scriptResult = () => ({ code: 1, signal: null, timedOut: false });
  const cfg: VrrpConfig = {
    vrrp_script: [{ name: 'chk', script: '/usr/local/bin/chk', interval: 1, fall: 1, rise: 1 }],
    vrrp_instance: [inst({ priority: 150, track_script: [{ name: 'chk' }] })],
  };
  await net.start(a, cfg);
  await net.run(3 * S);
  assert.equal(stateOf(a), 'FAULT');
  const notifies = () => a.execs.filter((e) => e.argv[0] === '/etc/keepvs/notify.sh').map((e) => e.argv.join(' '));
  assert.deepEqual(notifies(), ['/etc/keepvs/notify.sh vr INSTANCE VI_1 FAULT 150']);
  await reload(a, cfg);
  assert.match(a.logs.join('\n'), /VRRP_Script\(chk\) considered unsuccessful on reload/);
  assert.deepEqual(notifies(), ['/etc/keepvs/notify.sh vr INSTANCE VI_1 FAULT 150'], 'FAULT is not announced again');
  assert.equal(stateOf(a), 'FAULT', 'no silent init wait, no BACKUP: the verdict stands');
  a.scriptResult = () => ({ code: 0, signal: null, timedOut: false });
  await net.run(2 * S);
  assert.equal(stateOf(a), 'BACKUP', 'the script recovers: BACKUP, then the election');
  await net.run(4 * S);
  assert.equal(stateOf(a), 'MASTER');
  await a.proc!.stop();
});

test('reload: a sync group in MASTER stays MASTER without new group notifies; a new BACKUP member takes the group down', async () => {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  const vi2 = inst({ name: 'VI_2', virtual_router_id: 52, priority: 150, virtual_ipaddress: ['198.18.10.110/24 dev eth0'] });
  const group = { name: 'G', group: ['VI_1', 'VI_2'], notify: '/etc/keepvs/group.sh' };
  const cfg: VrrpConfig = { vrrp_sync_group: [group], vrrp_instance: [inst({ priority: 150 }), vi2] };
  await net.start(a, cfg);
  await net.run(5 * S);
  assert.deepEqual(a.proc!.status().groups, [{ name: 'G', state: 'MASTER' }]);
  const groupNotifies = () => a.execs.filter((e) => e.argv[0] === '/etc/keepvs/group.sh').map((e) => e.argv.slice(1).join(' '));
  const before = groupNotifies();
  await reload(a, cfg);
  await net.run(5 * S);
  assert.deepEqual(a.proc!.status().groups, [{ name: 'G', state: 'MASTER' }]);
  assert.deepEqual(groupNotifies(), before, 'no group notify for an unchanged state');
  assert.equal(stateOf(a, 'VI_2'), 'MASTER');

  // A third member that is new (BACKUP at start): the group is BACKUP, its MASTER members step down.
  const vi3 = inst({ name: 'VI_3', virtual_router_id: 53, priority: 150, virtual_ipaddress: ['198.18.10.120/24 dev eth0'] });
  await reload(a, { vrrp_sync_group: [{ ...group, group: ['VI_1', 'VI_2', 'VI_3'] }], vrrp_instance: [inst({ priority: 150 }), vi2, vi3] });
  assert.equal(a.proc!.status().groups[0].state, 'BACKUP');
  assert.equal(stateOf(a), 'BACKUP');
  assert.equal(stateOf(a, 'VI_2'), 'BACKUP');
  assert.deepEqual(groupNotifies().slice(before.length), ['GROUP G BACKUP 0']);
  // Nobody else is there: the whole group becomes MASTER again at the down timer.
  await net.run(5 * S);
  assert.deepEqual(['VI_1', 'VI_2', 'VI_3'].map((n) => stateOf(a, n)), ['MASTER', 'MASTER', 'MASTER']);
  await a.proc!.stop();
});
