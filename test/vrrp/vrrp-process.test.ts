// Two (or more) keepvs VRRP processes on an in-memory Ethernet segment with a shared fake clock: the
// whole runtime (sockets, dispatch, timers, ip commands, GARPs, notify) without root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeNet, stateOf, type FakeNode } from './fake-host.ts';
import type { VrrpConfig, VrrpInstanceConfig } from '../../src/vrrp/config.ts';
import { addr } from '../../src/core/addr.ts';
import { AUTH_TYPE, IPPROTO_VRRP, VRRP_TOS, encodeIpv4, encodeVrrp, parseVrrpHeader, passwordAuthData } from '../../src/vrrp/packet.ts';
import { sampleHex, toHex } from './pcap.ts';

const S = 1_000_000;
const MS = 1_000;
const VIP = '198.18.10.100';

function conf(over: Partial<VrrpInstanceConfig>, extra: Partial<VrrpConfig> = {}): VrrpConfig {
  return {
    vrrp_instance: [{
      name: 'VI_1', interface: 'eth0', virtual_router_id: 51, advert_int: 1,
      authentication: { auth_type: 'PASS', auth_pass: 's3cret' }, virtual_ipaddress: [`${VIP}/24 dev eth0`],
      notify: '/etc/keepvs/notify.sh vr', ...over,
    }],
    ...extra,
  };
}

function holders(...nodes: FakeNode[]): string[] {
  return nodes.filter((n) => n.ip.addressesOf('eth0').includes(`${VIP}/24`)).map((n) => n.name);
}

async function pair(aOver: Partial<VrrpInstanceConfig> = {}, bOver: Partial<VrrpInstanceConfig> = {}) {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  const b = net.node('vrb', '198.18.10.2', '02:00:c6:12:0a:02');
  await net.start(a, conf({ state: 'MASTER', priority: 150, ...aOver }));
  await net.start(b, conf({ state: 'BACKUP', priority: 100, ...bOver }));
  return { net, a, b };
}

test('election: the higher priority becomes MASTER at its Master_Down_Interval, exactly one VIP holder', async () => {
  const { net, a, b } = await pair();
  await net.run(3_414_062 - 1);
  assert.equal(stateOf(a), 'BACKUP');
  await net.run(2);
  assert.equal(stateOf(a), 'MASTER');
  await net.run(10 * S);
  assert.equal(stateOf(b), 'BACKUP');
  assert.deepEqual(holders(a, b), ['vra']);
  // Adverts on the wire are the keepalived sample, byte for byte apart from the IP id and checksums.
  const first = net.lan.sent.find((p) => p.from === 'vra')!;
  const sample = sampleHex('vrrpv2-advert-mcast.txt', 'ip packet');
  assert.equal(toHex(first.bytes.subarray(20)), toHex(sample.subarray(20)));
  assert.equal(toHex(first.bytes.subarray(0, 4)), toHex(sample.subarray(0, 4)));
  assert.equal(toHex(first.bytes.subarray(6, 10)), toHex(sample.subarray(6, 10)));
  // vra sent one advert per second as MASTER; vrb sent none.
  assert.equal(net.lan.sent.filter((p) => p.from === 'vrb').length, 0);
  assert.equal(a.proc!.status().instances[0].stats.counters.advert_sent, 11);
  // The generic notify got "INSTANCE VI_1 MASTER 150" appended.
  // state MASTER below 255 starts as BACKUP (init), as keepalived 2.2.7 does.
  assert.deepEqual(a.execs.map((e) => e.argv.join(' ')), ['/etc/keepvs/notify.sh vr INSTANCE VI_1 BACKUP 150', '/etc/keepvs/notify.sh vr INSTANCE VI_1 MASTER 150']);
  assert.deepEqual(b.execs.map((e) => e.argv.join(' ')), ['/etc/keepvs/notify.sh vr INSTANCE VI_1 BACKUP 100']);
  // 5 GARPs at once, 5 more after garp_master_delay (5 s), each the sample frame.
  assert.equal(a.frames.sent.length, 10);
  assert.equal(toHex(a.frames.sent[0].frame), 'ffffffffffff0200c6120a01080600010800060400010200c6120a01c6120a64ffffffffffffc6120a64');
  await a.proc!.stop();
  await b.proc!.stop();
});

test('failover on stop: priority 0, the backup takes over after Skew_Time; failback with preempt', async () => {
  const { net, a, b } = await pair();
  await net.run(5 * S);
  const stopAt = net.clock.now();
  await a.proc!.stop();
  assert.deepEqual(holders(a, b), [], 'vra removed the VIP on stop');
  const prio0 = net.lan.sent.filter((p) => p.from === 'vra').at(-1)!;
  assert.equal(parseVrrpHeader(prio0.bytes, 20).priority, 0);
  await net.run(609_375 + 200 + 1);
  assert.equal(stateOf(b), 'MASTER');
  assert.ok(b.transitions.some((t) => t.to === 'MASTER' && t.atUs - stopAt <= 609_375 + 200 + 1));
  assert.deepEqual(holders(a, b), ['vrb']);
  // vra comes back (preempt): it ignores the lower adverts and takes over at its own down timer.
  await net.start(a, conf({ state: 'MASTER', priority: 150 }));
  await net.run(3_414_062 + 1000);
  assert.equal(stateOf(a), 'MASTER');
  await net.run(10 * MS);
  assert.equal(stateOf(b), 'BACKUP');
  assert.deepEqual(holders(a, b), ['vra']);
  await a.proc!.stop();
  await b.proc!.stop();
});

test('failover on a crash (no priority 0): the backup waits its full Master_Down_Interval', async () => {
  const { net, a, b } = await pair();
  await net.run(5 * S);
  const lastAdvert = net.lan.sent.filter((p) => p.from === 'vra').at(-1)!.atUs;
  a.lanHost.connected = false; // SIGKILL: silence, and the VIP stays on vra
  await net.run(4 * S);
  const took = b.transitions.find((t) => t.to === 'MASTER')!;
  assert.equal(took.atUs - lastAdvert - 200, 3_609_375, 'last advert received + Master_Down_Interval');
  await b.proc!.stop();
});

test('nopreempt: the returning higher priority stays BACKUP', async () => {
  const { net, a, b } = await pair({ state: 'BACKUP', nopreempt: true }, { nopreempt: true });
  await net.run(4 * S);
  assert.equal(stateOf(a), 'MASTER');
  await a.proc!.stop();
  await net.run(2 * S);
  assert.equal(stateOf(b), 'MASTER');
  await net.start(a, conf({ state: 'BACKUP', priority: 150, nopreempt: true }));
  await net.run(20 * S);
  assert.equal(stateOf(a), 'BACKUP');
  assert.equal(stateOf(b), 'MASTER');
  assert.deepEqual(holders(a, b), ['vrb']);
  await a.proc!.stop();
  await b.proc!.stop();
});

test('VRRPv3 at 0.1 s and unicast peers', async () => {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  const b = net.node('vrb', '198.18.10.2', '02:00:c6:12:0a:02');
  const v3 = (me: string, peer: string, prio: number) => conf({ version: 3, advert_int: 0.1, authentication: undefined, priority: prio, unicast_src_ip: me, unicast_peer: [peer] });
  await net.start(a, v3('198.18.10.1', '198.18.10.2', 150));
  await net.start(b, v3('198.18.10.2', '198.18.10.1', 100));
  await net.run(1 * S);
  assert.equal(stateOf(a), 'MASTER');
  assert.equal(stateOf(b), 'BACKUP');
  const adv = net.lan.sent.find((p) => p.from === 'vra')!;
  assert.equal(adv.dst, '198.18.10.2');
  assert.equal(toHex(adv.bytes.subarray(20)), '31339601000ac4e2c6120a64'.replace('c4e2', toHex(adv.bytes.subarray(26, 28))));
  // Same bytes as keepalived's unicast v3 sample except the interval (10 cs here, 100 cs there).
  const sample = sampleHex('vrrpv3-advert-ucast.txt', 'ip packet');
  const again = encodeVrrp({ version: 3, family: 4, vrid: 51, priority: 150, adverInt: 100, addrs: [addr(VIP)] }, { src: addr('198.18.10.1'), dst: addr('198.18.10.2') });
  assert.equal(toHex(again), toHex(sample.subarray(20)));
  a.lanHost.connected = false;
  await net.run(500 * MS);
  assert.equal(stateOf(b), 'MASTER');
  await b.proc!.stop();
});

test('forged and flooding adverts are counted by reason and do not flap the MASTER', async () => {
  const { net, a, b } = await pair();
  await net.run(4 * S);
  assert.equal(stateOf(a), 'MASTER');
  const src = addr('198.18.10.66');
  const g = addr('224.0.0.18');
  const good = (o: { prio?: number; ttl?: number; pass?: string; vrid?: number; addrs?: string[] }) => {
    const msg = encodeVrrp({
      version: 2, family: 4, vrid: o.vrid ?? 51, priority: o.prio ?? 254, adverInt: 1, addrs: (o.addrs ?? [VIP]).map(addr),
      authType: AUTH_TYPE.pass, authData: passwordAuthData(o.pass ?? 's3cret'),
    });
    return encodeIpv4({ tos: VRRP_TOS, id: 9, ttl: o.ttl ?? 255, protocol: IPPROTO_VRRP, src, dst: g }, msg);
  };
  const forged = [good({ ttl: 1 }), good({ pass: 'hunter2' }), good({ vrid: 77 }), good({ addrs: ['198.18.10.99'] }), new Uint8Array([0x45, 0, 0, 20])];
  for (let i = 0; i < 5000; i++) {
    net.lan.inject(4, IPPROTO_VRRP, src.text, '224.0.0.18', forged[i % forged.length]);
    if (i % 500 === 0) await net.run(100 * MS);
  }
  await net.run(5 * S);
  assert.equal(stateOf(a), 'MASTER');
  assert.equal(stateOf(b), 'BACKUP');
  assert.equal(a.transitions.filter((t) => t.to !== 'MASTER').length, 1, 'only the initial BACKUP before MASTER');
  const st = a.proc!.status();
  assert.deepEqual(st.instances[0].stats.drops, { ttl_invalid: 1000, auth_pass_invalid: 1000, addr_list_mismatch: 1000 });
  assert.deepEqual(st.unclaimed, { unknown_vrid: 1000, too_short: 1000 });
  assert.ok(a.logs.filter((l) => l.includes('dropped advert')).length < 100, 'drop logs are rate-limited');
  await a.proc!.stop();
  await b.proc!.stop();
});

test('track_interface weight and link fault; notify FIFO lines', async () => {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  a.ip.addLink('eth1', '02:00:c6:12:0b:01', []);
  await net.start(a, { global_defs: { vrrp_notify_fifo: '/run/keepvs.fifo' }, ...conf({ state: 'MASTER', priority: 150, track_interface: [{ name: 'eth1', weight: -60 }] }) });
  await net.run(4 * S);
  assert.equal(stateOf(a), 'MASTER');
  assert.deepEqual(a.fifo, ['INSTANCE "VI_1" BACKUP 150\n', 'INSTANCE "VI_1" MASTER 150\n']);
  a.ip.links.get('eth1')!.up = false;
  a.ip.links.get('eth0')!.up = false;
  await (a.proc as unknown as { refreshLinks(): Promise<void> }).refreshLinks();
  await net.run(10 * MS);
  assert.equal(stateOf(a), 'FAULT');
  assert.equal(a.proc!.status().instances[0].effectivePriority, 90);
  assert.deepEqual(a.fifo.slice(2), ['INSTANCE "VI_1" FAULT 90\n']);
  assert.deepEqual(a.ip.addressesOf('eth0'), ['198.18.10.1/24', 'fe80::3:1/64'], 'VIP removed on FAULT');
  await a.proc!.stop();
});

test('MASTER installs VIPs, excluded VIPs, routes and rules through ip, and removes them on BACKUP and stop', async () => {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  const b = net.node('vrb', '198.18.10.2', '02:00:c6:12:0a:02');
  const extra = {
    virtual_ipaddress_excluded: ['198.18.20.5/32 dev eth0', '2001:db8:20::5/64 dev eth0'],
    virtual_routes: ['198.18.30.0/24 via 198.18.10.254 dev eth0'],
    virtual_rules: ['from 198.18.10.100 table 100'],
    garp_master_refresh: 2,
  };
  await net.start(a, conf({ priority: 100, ...extra }));
  await net.run(4 * S);
  assert.equal(stateOf(a), 'MASTER');
  assert.deepEqual(a.ip.commands.filter((c) => / (add|del) /.test(c)), [
    `ip -4 addr add ${VIP}/24 dev eth0`,
    'ip -4 addr add 198.18.20.5/32 dev eth0',
    'ip -6 addr add 2001:db8:20::5/64 dev eth0 nodad',
    'ip route add 198.18.30.0/24 via 198.18.10.254 dev eth0',
    'ip rule add from 198.18.10.100 table 100',
  ]);
  // The excluded addresses are announced but not advertised.
  const adv = net.lan.sent.find((p) => p.from === 'vra')!;
  assert.equal(parseVrrpHeader(adv.bytes, 20).naddr, 1);
  const frames = a.frames.sent.map((f) => f.frame);
  assert.equal(frames.filter((f) => f[12] === 0x08 && f[13] === 0x06).length, 10, '5 rounds x 2 IPv4 addresses');
  assert.equal(frames.filter((f) => f[12] === 0x86 && f[13] === 0xdd).length, 5, '5 unsolicited NAs for the IPv6 one');
  // The refresh is checked when an advert goes out, once the refresh time has passed (vrrp_state_master_tx).
  await net.run(3 * S);
  assert.ok(a.frames.sent.length > 15, 'garp_master_refresh re-announces');
  a.ip.commands.length = 0;
  await net.start(b, conf({ priority: 200 }));
  await net.run(5 * S);
  assert.equal(stateOf(a), 'BACKUP');
  assert.deepEqual(a.ip.commands.filter((c) => / (add|del) /.test(c)), [
    'ip rule del from 198.18.10.100 table 100',
    'ip route del 198.18.30.0/24 via 198.18.10.254 dev eth0',
    `ip -4 addr del ${VIP}/24 dev eth0`,
    'ip -4 addr del 198.18.20.5/32 dev eth0',
    'ip -6 addr del 2001:db8:20::5/64 dev eth0',
  ]);
  assert.deepEqual(a.ip.routes, new Set());
  await a.proc!.stop();
  await b.proc!.stop();
  assert.deepEqual(b.ip.addressesOf('eth0'), ['198.18.10.2/24', 'fe80::3:2/64'], 'stop removes the VIP');
});

test('held addresses for the data plane: after the MASTER added them, gone as soon as it releases', async () => {
  const { net, a, b } = await pair({ virtual_ipaddress_excluded: ['198.18.10.101/24 dev eth0'] });
  assert.deepEqual(a.proc!.managedAddresses(), new Set([VIP, '198.18.10.101']));
  await net.run(3_414_062 - 1);
  assert.deepEqual(a.held, [], 'nothing held while BACKUP');
  await net.run(2);
  assert.equal(stateOf(a), 'MASTER');
  // Reported only once `ip addr add` has finished, so a listener can bind the address.
  assert.deepEqual(a.held, [`${VIP},198.18.10.101`]);
  assert.ok(a.ip.addressesOf('eth0').includes(`${VIP}/24`));
  assert.deepEqual(a.proc!.heldAddresses(), new Set([VIP, '198.18.10.101']));
  const stopAt = a.held.length;
  const stopping = a.proc!.stop();
  // Released at the decision, before the addresses go.
  assert.deepEqual(a.held.slice(stopAt), ['']);
  await stopping;
  await net.run(609_375 + 200 + 1);
  assert.equal(stateOf(b), 'MASTER');
  assert.deepEqual(b.held, [VIP], 'vrb has no excluded address');
  await b.proc!.stop();
  assert.deepEqual(b.held, [VIP, '']);
});
