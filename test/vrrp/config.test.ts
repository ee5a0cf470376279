// Resolution of the typed VRRP configuration: keepalived's defaults and vrrp_complete_instance rules,
// each correction a diagnostic with a stable code; VIP text and its `ip` arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveVrrpConfig, type VrrpConfig, type VrrpInstanceConfig } from '../../src/vrrp/config.ts';
import { parseVip, vipAddArgs, vipDelArgs, parseRouteOrRule, splitWords } from '../../src/vrrp/vip.ts';
import { AUTH_TYPE } from '../../src/vrrp/packet.ts';

function one(ic: Partial<VrrpInstanceConfig>, extra: Partial<VrrpConfig> = {}) {
  const r = resolveVrrpConfig({ vrrp_instance: [{ name: 'VI_1', interface: 'eth0', virtual_router_id: 51, virtual_ipaddress: ['198.18.10.100/24'], ...ic }], ...extra });
  return { inst: r.vrrp.instances[0], codes: r.diagnostics.map((d) => d.code), diags: r.diagnostics };
}

test('defaults are keepalived\'s', () => {
  const { inst, codes } = one({});
  assert.deepEqual(codes, []);
  assert.equal(inst.version, 2);
  assert.equal(inst.basePriority, 100);
  assert.equal(inst.initialState, 'BACKUP');
  assert.equal(inst.adverIntUs, 1_000_000);
  assert.equal(inst.downTimerAdverts, 3);
  assert.equal(inst.mcastDst.text, '224.0.0.18');
  assert.equal(inst.ttl, 255);
  assert.deepEqual(inst.garp, { masterDelayUs: 5_000_000, masterRepeat: 5, lowerPrioDelayUs: 5_000_000, lowerPrioRepeat: 5, refreshUs: 0, refreshRepeat: 1 });
  assert.equal(inst.lowerPrioNoAdvert, false);
  assert.equal(inst.higherPrioSendAdvert, false);
  assert.equal(inst.checksumCompat, 'auto');
});

test('resolution table: corrections and refusals with their codes', () => {
  const rows: { d: string; ic: Partial<VrrpInstanceConfig>; codes: string[]; check?: (i: NonNullable<ReturnType<typeof one>['inst']>) => void; extra?: Partial<VrrpConfig> }[] = [
    { d: 'state MASTER without priority is the owner', ic: { state: 'MASTER' }, codes: [], check: (i) => assert.equal(i.basePriority, 255) },
    { d: 'priority 255 without state means MASTER', ic: { priority: 255 }, codes: [], check: (i) => assert.equal(i.initialState, 'MASTER') },
    { d: 'v2 fractional interval rounds', ic: { advert_int: 1.5 }, codes: ['ADVERT_INT_ROUNDED'], check: (i) => assert.equal(i.adverIntUs, 2_000_000) },
    { d: 'v3 keeps centiseconds', ic: { version: 3, advert_int: 0.25 }, codes: [], check: (i) => assert.equal(i.adverIntUs, 250_000) },
    { d: 'auth ignored in v3', ic: { version: 3, authentication: { auth_type: 'PASS', auth_pass: 'x' } }, codes: ['AUTH_IGNORED'], check: (i) => assert.equal(i.authType, AUTH_TYPE.none) },
    { d: 'long password truncated to 8', ic: { authentication: { auth_type: 'PASS', auth_pass: '123456789' } }, codes: ['AUTH_PASS_TRUNCATED'], check: (i) => assert.equal(Buffer.from(i.authData).toString(), '12345678') },
    { d: 'AH with state MASTER below 255 starts BACKUP', ic: { state: 'MASTER', priority: 150, authentication: { auth_type: 'AH', auth_pass: 'x' } }, codes: ['STATE_CLEARED'], check: (i) => assert.equal(i.initialState, 'BACKUP') },
    { d: 'nopreempt ignored with state MASTER', ic: { state: 'MASTER', priority: 150, nopreempt: true }, codes: ['NOPREEMPT_IGNORED'], check: (i) => assert.equal(i.nopreempt, false) },
    { d: 'nopreempt ignored for the owner', ic: { priority: 255, nopreempt: true }, codes: ['NOPREEMPT_IGNORED'] },
    { d: 'preempt_delay ignored with nopreempt', ic: { nopreempt: true, preempt_delay: 5 }, codes: ['PREEMPT_DELAY_IGNORED'], check: (i) => assert.equal(i.preemptDelayUs, 0) },
    { d: 'strict mode forces lower_prio_no_advert and clears GARP repeats', ic: { strict_mode: true }, codes: [], check: (i) => { assert.equal(i.lowerPrioNoAdvert, true); assert.equal(i.garp.lowerPrioRepeat, 0); } },
    { d: 'strict mode refuses authentication', ic: { strict_mode: true, authentication: { auth_type: 'PASS', auth_pass: 'x' } }, codes: ['AUTH_IGNORED'] },
    { d: 'IPv6 is VRRPv3', ic: { virtual_ipaddress: ['fe80::1/64', '2001:db8::1/64'] }, codes: [], check: (i) => { assert.equal(i.version, 3); assert.equal(i.family, 6); assert.equal(i.mcastDst.text, 'ff02::12'); } },
    { d: 'first IPv6 VIP should be link-local', ic: { virtual_ipaddress: ['2001:db8::1/64'] }, codes: ['FIRST_IPV6_VIP_NOT_LINK_LOCAL'] },
    { d: 'mixed families refused', ic: { virtual_ipaddress: ['198.18.10.100', '2001:db8::1'] }, codes: ['FAMILY_MIXED'] },
    { d: 'v3 without VIP refused', ic: { version: 3, virtual_ipaddress: [] }, codes: ['NO_VIP'] },
    { d: 'v2 without VIP warned', ic: { virtual_ipaddress: [] }, codes: ['NO_VIP_WARNING'] },
    { d: 'VRID out of range', ic: { virtual_router_id: 256 }, codes: ['VRID_INVALID'] },
    { d: 'use_ipvlan refused clearly', ic: { use_ipvlan: true }, codes: ['USE_VMAC_UNSUPPORTED'] },
    { d: 'unicast_src_ip without peers: multicast', ic: { unicast_src_ip: '198.18.10.2' }, codes: ['UNICAST_WITHOUT_PEERS'], check: (i) => assert.equal(i.unicast, false) },
    { d: 'unicast peers', ic: { unicast_src_ip: '198.18.10.2', unicast_peer: ['198.18.10.1', { address: '198.18.10.3', min_ttl: 250 }] }, codes: [], check: (i) => { assert.equal(i.unicast, true); assert.deepEqual(i.peers.map((p) => [p.addr.text, p.minTtl, p.maxTtl]), [['198.18.10.1', 0, 255], ['198.18.10.3', 250, 255]]); } },
    { d: 'unicast in strict mode refused', ic: { strict_mode: true, unicast_src_ip: '198.18.10.2', unicast_peer: ['198.18.10.1'] }, codes: ['UNICAST_IN_STRICT'] },
    { d: 'mcast_dst_ip', ic: { mcast_dst_ip: '224.0.0.99' }, codes: [], check: (i) => assert.equal(i.mcastDst.text, '224.0.0.99') },
    { d: 'unknown track_script', ic: { track_script: [{ name: 'nope' }] }, codes: ['SCRIPT_UNKNOWN'] },
    { d: 'bad VIP text', ic: { virtual_ipaddress: ['198.18.10.300/24'] }, codes: ['ADDR_INVALID', 'NO_VIP_WARNING'] },
  ];
  for (const r of rows) {
    const { inst, codes } = one(r.ic, r.extra);
    assert.deepEqual(codes, r.codes, r.d);
    if (r.check) r.check(inst);
  }
});

test('sync group members keep only weight-0 trackers unless sync_group_tracking_weight', () => {
  const cfg: VrrpConfig = {
    vrrp_script: [{ name: 'chk', script: 'true', weight: -20 }],
    vrrp_sync_group: [{ name: 'G', group: ['VI_1', 'VI_2'] }],
    vrrp_instance: [
      { name: 'VI_1', interface: 'eth0', virtual_router_id: 1, virtual_ipaddress: ['198.18.10.100'], track_script: [{ name: 'chk' }] },
      { name: 'VI_2', interface: 'eth0', virtual_router_id: 2, virtual_ipaddress: ['198.18.10.101'] },
    ],
  };
  const r = resolveVrrpConfig(cfg);
  assert.deepEqual(r.diagnostics.map((d) => d.code), ['SYNC_GROUP_WEIGHT_IGNORED']);
  assert.equal(r.vrrp.instances[0].trackScripts[0].weight, 0);
  assert.equal(r.vrrp.instances[0].syncGroup, 'G');
  cfg.vrrp_sync_group![0].sync_group_tracking_weight = true;
  assert.equal(resolveVrrpConfig(cfg).vrrp.instances[0].trackScripts[0].weight, -20);
});

test('duplicate VRIDs on one interface are refused', () => {
  const r = resolveVrrpConfig({ vrrp_instance: [
    { name: 'A', interface: 'eth0', virtual_router_id: 7, virtual_ipaddress: ['198.18.10.100'] },
    { name: 'B', interface: 'eth0', virtual_router_id: 7, virtual_ipaddress: ['198.18.10.101'] },
  ] });
  assert.deepEqual(r.diagnostics.map((d) => d.code), ['DUPLICATE_INSTANCE']);
});

test('virtual_ipaddress text to ip arguments', () => {
  const rows = [
    { t: '198.18.10.100', add: ['-4', 'addr', 'add', '198.18.10.100/32', 'dev', 'eth0'] },
    { t: '198.18.10.100/24 dev eth1 label eth1:1', add: ['-4', 'addr', 'add', '198.18.10.100/24', 'dev', 'eth1', 'label', 'eth1:1'] },
    { t: '198.18.10.100/24 brd + scope link', add: ['-4', 'addr', 'add', '198.18.10.100/24', 'dev', 'eth0', 'brd', '198.18.10.255', 'scope', 'link'] },
    { t: '198.18.10.100/24 brd -', add: ['-4', 'addr', 'add', '198.18.10.100/24', 'dev', 'eth0', 'brd', '198.18.10.0'] },
    { t: '2001:db8::1/64', add: ['-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad'] },
    { t: '2001:db8::1', add: ['-6', 'addr', 'add', '2001:db8::1/128', 'dev', 'eth0', 'nodad', 'preferred_lft', '0', 'valid_lft', 'forever'] },
    { t: '2001:db8::1/64 -nodad noprefixroute', add: ['-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'noprefixroute'] },
  ];
  for (const r of rows) {
    const v = parseVip(r.t);
    assert.ok(v.ok, r.t);
    assert.deepEqual(vipAddArgs(v.value, v.value.dev ?? 'eth0'), r.add, r.t);
  }
  const v = parseVip('198.18.10.100/24 dev eth1');
  assert.ok(v.ok);
  assert.deepEqual(vipDelArgs(v.value, 'eth1'), ['-4', 'addr', 'del', '198.18.10.100/24', 'dev', 'eth1']);
  for (const bad of ['198.18.10.100/33', 'nonsense', '198.18.10.100 dev', '2001:db8::1 brd +', '198.18.10.1 frobnicate']) {
    assert.equal(parseVip(bad).ok, false, bad);
  }
  assert.deepEqual(parseRouteOrRule('10.0.0.0/8 gw 198.18.10.254 dev eth0 no_track'), { ok: true, value: ['10.0.0.0/8', 'via', '198.18.10.254', 'dev', 'eth0'] });
  assert.deepEqual(splitWords('"/usr/bin/my script" arg \'two words\''), ['/usr/bin/my script', 'arg', 'two words']);
});
