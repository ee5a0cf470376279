// NftPlane with a fake NetCommands: admission (checkService/checkDest), one atomic nft load per
// change, DR routing commands, the NFQUEUE rule's life, sysctl reporting, start-up cleanup and stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Director } from '../../src/core/director.ts';
import { addr } from '../../src/core/addr.ts';
import type { ServiceKey } from '../../src/core/service.ts';
import type { FwdMethod } from '../../src/core/dest.ts';
import { NftPlane, NftApplyError } from '../../src/dataplane/nft/plane.ts';
import { openNftPlane, NftStartError, optionsFromEnv } from '../../src/dataplane/nft/factory.ts';
import { effectiveCaps, hasCap, CAP_NET_ADMIN, sysctlFindings } from '../../src/dataplane/nft/preflight.ts';
import { drCleanupCommands, drCommands, drPlan, EMPTY_DR_PLAN, forFamily } from '../../src/dataplane/nft/dr-routes.ts';
import { FakeNetCommands } from '../../src/sys/fake/nft.ts';
import { flowElementKey } from '../../src/dataplane/nft/render.ts';

const KEY: ServiceKey = { kind: 'addr', protocol: 'tcp', vip: addr('198.18.0.100'), port: 80 };
const OPTS = { scheduler: 'rr' as const, flags: 0, timeout: 360, netmask: 0xffffffff, pe: null };
const spec = (rip: string, fwd: FwdMethod, port = 80, weight = 1) => ({ addr: addr(rip), port, fwd, weight, uThreshold: 0, lThreshold: 0 });

function setup(opts: Partial<ConstructorParameters<typeof NftPlane>[0]> = {}) {
  const cmd = new FakeNetCommands();
  const logs: string[] = [];
  const plane = new NftPlane({ commands: cmd, clock: () => 0, log: (l, m) => logs.push(`${l}: ${m}`), ...opts });
  const d = new Director({ seed: 1 });
  return { cmd, plane, d, logs };
}

test('checkService / checkDest: what the nft plane refuses, with a reason', () => {
  const { plane, d } = setup();
  d.addService(KEY, OPTS);
  const svc = d.services()[0];
  d.addDest(KEY, spec('198.18.1.11', 'masq'));
  const fwm = d.addService({ kind: 'fwmark', fwmark: 3, family: 4 }, OPTS);
  assert.ok(fwm.ok);
  const v6 = d.addService({ kind: 'addr', protocol: 'tcp', vip: addr('2001:2::100'), port: 80 }, { ...OPTS, netmask: 128 });
  assert.ok(v6.ok);
  const svc6 = v6.ok ? v6.value : svc;
  const rows: { desc: string; check: () => ReturnType<NftPlane['checkDest']>; code?: string; message?: RegExp }[] = [
    { desc: 'a TCP VIP:port', check: () => plane.checkService(KEY, OPTS) },
    { desc: 'an SCTP service', check: () => plane.checkService({ kind: 'addr', protocol: 'sctp', vip: addr('198.18.0.100'), port: 3868 }, OPTS) },
    { desc: 'a firewall-mark service', check: () => plane.checkService({ kind: 'fwmark', fwmark: 5, family: 4 }, OPTS) },
    { desc: 'an IPv6 service', check: () => plane.checkService({ kind: 'addr', protocol: 'tcp', vip: addr('2001:2::100'), port: 80 }, { ...OPTS, netmask: 128 }) },
    { desc: 'an IPv6 NAT dest', check: () => plane.checkDest(svc6, spec('2001:2:0:1::11', 'masq')) },
    { desc: 'an IPv6 FULLNAT dest', check: () => plane.checkDest(svc6, spec('2001:2:0:1::11', 'fullnat')) },
    { desc: 'IPv6 DR', check: () => plane.checkDest(svc6, spec('2001:2:0:1::11', 'route')) },
    { desc: 'IPv6 TUN', check: () => plane.checkDest(svc6, spec('2001:2:0:1::11', 'tunnel')), code: 'UNSUPPORTED_FWD', message: /IPv6 tunnelling \(-i\) is not supported/ },
    { desc: 'NAT dest', check: () => plane.checkDest(svc, spec('198.18.1.12', 'masq')) },
    { desc: 'FULLNAT dest next to NAT', check: () => plane.checkDest(svc, spec('198.18.1.12', 'fullnat')) },
    { desc: 'DR next to NAT', check: () => plane.checkDest(svc, spec('198.18.1.12', 'route')), code: 'UNSUPPORTED_FWD', message: /cannot mix direct routing or tunnelling with NAT/ },
    { desc: 'TUN without ipip', check: () => plane.checkDest(svc, spec('198.18.1.12', 'tunnel')), code: 'UNSUPPORTED_FWD', message: /needs ipip.*CONFIG_NET_IPIP/ },
    { desc: 'LOCALNODE', check: () => plane.checkDest(svc, spec('198.18.1.12', 'local')), code: 'UNSUPPORTED_FWD', message: /LOCALNODE/ },
    { desc: 'DR on a fwmark service', check: () => plane.checkDest(fwm.ok ? fwm.value : svc, spec('198.18.1.12', 'route')), code: 'UNSUPPORTED_FWD', message: /raw hook/ },
    { desc: 'PROXY protocol on a service', check: () => plane.checkService(KEY, { ...OPTS, proxyProtocol: 'v2' }), code: 'PLANE_ERROR', message: /cannot send the PROXY protocol header/ },
    { desc: 'PROXY protocol on a dest', check: () => plane.checkDest(svc, { ...spec('198.18.1.12', 'masq'), proxyProtocol: 'v1' }), code: 'PLANE_ERROR', message: /cannot send the PROXY protocol header/ },
    { desc: 'PROXY protocol switched off on a dest', check: () => plane.checkDest(svc, { ...spec('198.18.1.12', 'masq'), proxyProtocol: 'none' }) },
  ];
  for (const r of rows) {
    const c = r.check();
    if (!r.code) { assert.ok(c.ok, r.desc); continue; }
    assert.ok(!c.ok, r.desc);
    if (!c.ok) {
      assert.equal(c.error.code, r.code, r.desc);
      assert.match(c.error.message, r.message!, r.desc);
    }
  }
  assert.deepEqual(plane.capabilities.fwd, ['masq', 'fullnat', 'route']);
  assert.deepEqual(setup({ ipip: true }).plane.capabilities.fwd, ['masq', 'fullnat', 'route', 'tunnel']);
});

test('sync: start-up cleanup once, then one atomic nft load per change, updated in place', async () => {
  const { cmd, plane, d } = setup();
  d.addService(KEY, OPTS);
  d.addDest(KEY, spec('198.18.1.11', 'masq'));
  await plane.sync(d);
  const loads = cmd.loaded;
  assert.equal(loads.length, 2, 'cleanup + first load');
  assert.equal(loads[0], 'add table ip keepvs\ndelete table ip keepvs\nadd table ip6 keepvs\ndelete table ip6 keepvs\n');
  assert.match(loads[1], /^add table ip keepvs\ndelete table ip keepvs\nadd table ip keepvs\n/);
  d.addDest(KEY, spec('198.18.1.12', 'masq'));
  await plane.sync(d);
  assert.equal(cmd.loaded.length, 3);
  assert.doesNotMatch(cmd.loaded[2], /delete table/, 'later changes never recreate the table');
  assert.match(cmd.loaded[2], /add element ip keepvs dnat_ap \{ 0x6b000002 : 198\.18\.1\.12 \. 80, 0x6b000001 : 198\.18\.1\.11 \. 80 \}/,
    'existing dests keep their marks');
  assert.equal(cmd.calls.filter((c) => c.tool === 'iptables' && c.args.includes('-A')).length, 0, 'no queue rule without a queue-path service');
});

test('a refused ruleset is an error that names nft, and the next sync starts from the last good state', async () => {
  const { cmd, plane, d } = setup();
  d.addService(KEY, OPTS);
  await plane.sync(d);
  cmd.answer = (c) => (c.tool === 'nft' ? { code: 1, stdout: '', stderr: 'Error: Could not process rule: No such file or directory\n' } : undefined);
  d.addDest(KEY, spec('198.18.1.11', 'masq'));
  await assert.rejects(plane.sync(d), (e: unknown) => e instanceof NftApplyError && e.error.code === 'PLANE_ERROR' && /nft refused the ruleset: Error: Could not process rule/.test(e.message));
  cmd.answer = () => undefined;
  await plane.sync(d);
  assert.doesNotMatch(cmd.loaded.at(-1)!, /delete table/);
});

test('queue-path services bring the NFQUEUE rule in iptables\' mangle table, and take it away', async () => {
  const { cmd, plane, d } = setup();
  // `iptables -C` answers 1 when the rule is not there yet.
  cmd.answer = (c) => (c.tool === 'iptables' && c.args.includes('-C') ? { code: 1, stdout: '', stderr: '' } : undefined);
  d.addService(KEY, { ...OPTS, scheduler: 'lc' });
  d.addDest(KEY, spec('198.18.1.11', 'masq'));
  await plane.sync(d);
  const ipt = cmd.calls.flatMap((c) => (c.tool === 'iptables' ? [c.args.join(' ')] : []));
  assert.ok(ipt.includes('-t mangle -A KEEPVS -m mark --mark 0x6c000000/0xff000000 -j NFQUEUE --queue-num 107 --queue-bypass'), ipt.join('\n'));
  assert.ok(ipt.includes('-t mangle -A PREROUTING -j KEEPVS'));
  const before = cmd.calls.length;
  d.editService(KEY, OPTS);
  await plane.sync(d);
  const after = cmd.calls.slice(before).flatMap((c) => (c.tool === 'iptables' ? [c.args.join(' ')] : []));
  assert.deepEqual(after.slice(0, 1), ['-t mangle -D PREROUTING -j KEEPVS']);
  assert.ok(after.includes('-t mangle -X KEEPVS'));
  plane.setExactService(KEY, true);
  await plane.sync(d);
  assert.match(cmd.loaded.at(-1)!, /add rule ip keepvs s1 meta mark set 0x6c000001 accept/, 'forced onto the exact path');
});

test('DR: routes, fwmark rules and the local-rule move; stop puts everything back', async () => {
  const { cmd, plane, d } = setup();
  d.addService(KEY, OPTS);
  d.addDest(KEY, spec('198.18.1.11', 'route'));
  await plane.sync(d);
  const ip = () => cmd.calls.flatMap((c) => (c.tool === 'ip' ? [c.args.join(' ')] : []));
  assert.deepEqual(ip().filter((a) => !/^(-6 )?-j /.test(a)), [
    'route replace default via 198.18.1.11 table 7012353 proto 107',
    'rule add pref 90 to 198.18.0.100 fwmark 0x6b000001 table 7012353 proto 107',
    'rule add pref 100 lookup local proto 107',
    'rule del pref 0 lookup local',
  ]);
  const n = cmd.calls.length;
  await plane.stop(0);
  const stopIp = cmd.calls.slice(n).flatMap((c) => (c.tool === 'ip' ? [c.args.join(' ')] : []));
  assert.deepEqual(stopIp, [
    'rule add pref 0 lookup local',
    'rule del pref 100 lookup local',
    'rule del pref 90 to 198.18.0.100 fwmark 0x6b000001 table 7012353',
    'route flush table 7012353',
  ]);
  assert.equal(cmd.loaded.at(-1), 'add table ip keepvs\ndelete table ip keepvs\n');
});

test('IPv6 DR: the same rules and routes with ip -6, next to IPv4 DR; stop puts both local rules back', async () => {
  let now = 0;
  const { cmd, plane, d } = setup({ clock: () => now });
  const key6: ServiceKey = { kind: 'addr', protocol: 'tcp', vip: addr('2001:2::100'), port: 80 };
  d.addService(KEY, OPTS);
  d.addDest(KEY, spec('198.18.1.11', 'route'));
  d.addService(key6, { ...OPTS, netmask: 128 });
  d.addDest(key6, spec('2001:2:0:1::11', 'route'));
  await plane.sync(d);
  const ip = (from = 0) => cmd.calls.slice(from).flatMap((c) => (c.tool === 'ip' ? [c.args.join(' ')] : [])).filter((a) => !/^(-6 )?-j /.test(a));
  assert.deepEqual(ip(), [
    'route replace default via 198.18.1.11 table 7012353 proto 107',
    'rule add pref 90 to 198.18.0.100 fwmark 0x6b000001 table 7012353 proto 107',
    'rule add pref 100 lookup local proto 107',
    'rule del pref 0 lookup local',
    '-6 route replace default via 2001:2:0:1::11 table 7012354 proto 107',
    '-6 rule add pref 90 to 2001:2::100 fwmark 0x6b000002 table 7012354 proto 107',
    '-6 rule add pref 100 lookup local proto 107',
    '-6 rule del pref 0 lookup local',
  ]);
  assert.match(cmd.loaded.at(-1)!, /add rule ip6 keepvs s2 notrack/, 'the ip6 table has the DR chain');
  assert.match(cmd.loaded.at(-1)!, /add map ip6 keepvs flows_s2 \{ typeof tcp sport \. @nh,96,96 : meta mark; flags dynamic,timeout; \}/);
  assert.match(cmd.loaded.at(-1)!, /add set ip6 keepvs conns_s2 \{ typeof tcp sport \. ip6 saddr \. meta mark; flags dynamic,timeout; \}/);
  // Removing the last IPv6 DR dest gives the IPv6 local rule back once its flows may be gone
  // (the flow timeout), leaving IPv4's moved.
  d.deleteService(key6);
  const n = cmd.calls.length;
  await plane.sync(d);
  assert.deepEqual(ip(n), [], 'the removed dest lingers');
  now = 901_000;
  await plane.sync(d);
  assert.deepEqual(ip(n).filter((a) => a.includes('local')), ['-6 rule add pref 0 lookup local', '-6 rule del pref 100 lookup local']);
  d.addService(key6, { ...OPTS, netmask: 128 });
  d.addDest(key6, spec('2001:2:0:1::12', 'route'));
  await plane.sync(d);
  const m = cmd.calls.length;
  await plane.stop(0);
  const stopIp = ip(m);
  for (const want of ['rule add pref 0 lookup local', '-6 rule add pref 0 lookup local', '-6 rule del pref 100 lookup local']) {
    assert.ok(stopIp.includes(want), `stop: ${want}\n${stopIp.join('\n')}`);
  }
  assert.ok(stopIp.some((a) => /^-6 route flush table \d+$/.test(a)), stopIp.join('\n'));
});

test('start-up cleanup covers both families (ip rule / ip -6 rule)', () => {
  const rules6 = JSON.stringify([{ priority: 90, table: '7012354', protocol: '107' }, { priority: 100, table: 'local', protocol: '107' }]);
  assert.deepEqual(forFamily(6, drCleanupCommands(rules6, [7012354])), [
    ['-6', 'rule', 'add', 'pref', '0', 'lookup', 'local'],
    ['-6', 'rule', 'flush', 'proto', '107'],
    ['-6', 'route', 'flush', 'table', '7012354', 'proto', '107'],
  ]);
  assert.deepEqual(forFamily(4, [['rule', 'list']]), [['rule', 'list']]);
  // A flow's key for `nft delete element` (closing a dest's flows): IPv6 is sport . low 96 bits.
  assert.equal(flowElementKey(4, '198.18.0.10', 1234), '198.18.0.10 . 1234');
  assert.equal(flowElementKey(6, addr('2001:2::10').bytes, 1234), '1234 . 0x000000000000000000000010');
});

test('DR: a removed dest keeps its route while its flows may live', async () => {
  let now = 0;
  const { cmd, plane, d } = setup({ clock: () => now });
  d.addService(KEY, OPTS);
  d.addDest(KEY, spec('198.18.1.11', 'route'));
  d.addDest(KEY, spec('198.18.1.12', 'route'));
  await plane.sync(d);
  d.deleteDest(KEY, addr('198.18.1.12'), 80);
  const n = cmd.calls.length;
  await plane.sync(d);
  assert.deepEqual(cmd.calls.slice(n).filter((c) => c.tool === 'ip'), [], 'the route and rule of the removed dest stay');
  now = 901_000;
  await plane.sync(d);
  const later = cmd.calls.flatMap((c) => (c.tool === 'ip' ? [c.args.join(' ')] : []));
  // The newest dest (.12) is first in the list and got backend id 1, table 0x6b0001.
  assert.ok(later.includes('route replace default via 198.18.1.12 table 7012353 proto 107'), later.join('\n'));
  assert.ok(later.includes('route flush table 7012353'), later.join('\n'));
});

test('flush on stop off: the table stays loaded', async () => {
  const { cmd, plane, d } = setup({ flushOnStop: false });
  d.addService(KEY, OPTS);
  await plane.sync(d);
  const n = cmd.loaded.length;
  await plane.stop(0);
  assert.equal(cmd.loaded.length, n);
});

test('sysctls are reported, and set only when asked', async () => {
  const a = setup();
  a.cmd.sysctls.set('net.ipv4.ip_forward', '0');
  a.cmd.sysctls.set('net.ipv4.conf.all.rp_filter', '1');
  a.cmd.sysctls.set('net.netfilter.nf_conntrack_acct', '1');
  await a.plane.start(false);
  assert.deepEqual(a.logs.filter((l) => l.startsWith('warn')), [
    'warn: sysctl net.ipv4.ip_forward is 0, should be 1: the director forwards every connection to a real server',
    'warn: sysctl net.ipv4.conf.all.rp_filter is 1, should be 0: strict reverse-path filtering drops asymmetric LVS traffic',
  ]);
  assert.equal(a.cmd.sysctls.get('net.ipv4.ip_forward'), '0');
  const b = setup();
  b.cmd.sysctls.set('net.ipv4.ip_forward', '0');
  await b.plane.start(true);
  assert.equal(b.cmd.sysctls.get('net.ipv4.ip_forward'), '1');
  assert.deepEqual(sysctlFindings((n) => ({ 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.rp_filter': '2', 'net.netfilter.nf_conntrack_acct': '1', 'net.ipv4.conf.eth0.rp_filter': '0' } as Record<string, string>)[n] ?? null, ['eth0']), []);
});

test('privileges: CAP_NET_ADMIN is checked first, and its absence is named', async () => {
  assert.equal(hasCap(effectiveCaps('Name:\tx\nCapEff:\t000001ffffffffff\n'), CAP_NET_ADMIN), true);
  assert.equal(hasCap(effectiveCaps('CapEff:\t0000000000000000\n'), CAP_NET_ADMIN), false);
  assert.equal(hasCap(effectiveCaps('CapEff:\t0000000000001000\n'), CAP_NET_ADMIN), true);
  const cmd = new FakeNetCommands();
  await assert.rejects(openNftPlane({ clock: () => 0, log: () => {}, commands: cmd, procStatus: 'CapEff:\t0000000000000000\n' }),
    (e: unknown) => e instanceof NftStartError && /needs root or CAP_NET_ADMIN \(missing: CAP_NET_ADMIN\)/.test(e.message));
  assert.equal(cmd.calls.length, 0, 'nothing is run without the capability');
  cmd.answer = (c) => (c.tool === 'nft-args' ? { code: 127, stdout: '', stderr: 'nft: not found' } : undefined);
  await assert.rejects(openNftPlane({ clock: () => 0, log: () => {}, commands: cmd, procStatus: 'CapEff:\t0000000000001000\n' }),
    /apt-get install nftables/);
});

test('options from the environment', () => {
  assert.deepEqual(optionsFromEnv({ KEEPVS_NFT_FULLNAT_SOURCE: '198.18.1.1-198.18.1.4', KEEPVS_NFT_FLUSH_ON_STOP: '0', KEEPVS_NFT_EXACT: 'all', KEEPVS_NFT_QUEUE_FAILURE: 'drop' }), {
    table: undefined, fullnatSource: '198.18.1.1-198.18.1.4', flushOnStop: false, fixSysctls: undefined, exactAll: true,
    queueFailure: 'drop', queueNum: undefined, viewIntervalMs: undefined, noQueue: undefined, mapTimeouts: undefined,
  });
});

test('dr-routes: plans and crash cleanup are pure', () => {
  assert.deepEqual(drCommands(EMPTY_DR_PLAN, EMPTY_DR_PLAN), []);
  assert.deepEqual(drPlan({ table: 'k', family: 4, queueNum: 0, queueFailure: 'drop', fullnatSource: null, drFlowTimeoutS: 1, services: [] }), EMPTY_DR_PLAN);
  const rules = JSON.stringify([{ priority: 90, table: '7012353', protocol: '107' }, { priority: 100, table: 'local', protocol: '107' }, { priority: 32766, table: 'main' }]);
  assert.deepEqual(drCleanupCommands(rules, [7012353]), [
    ['rule', 'add', 'pref', '0', 'lookup', 'local'],
    ['rule', 'flush', 'proto', '107'],
    ['route', 'flush', 'table', '7012353', 'proto', '107'],
  ]);
  assert.deepEqual(drCleanupCommands(JSON.stringify([{ priority: 0, table: 'local' }]), []), [], 'nothing of ours: nothing to do');
});

test('NAT gateway check: a real server that answers nothing is named in a warning, once', async () => {
  const line = (port: number) => `tcp      6 100 SYN_SENT src=198.18.0.10 dst=198.18.0.100 sport=${port} dport=80 [UNREPLIED] src=198.18.1.11 dst=198.18.0.10 sport=80 dport=${port} mark=1795162113 use=1`;
  const { parseConntrack } = await import('../../src/sys/conntrack.ts');
  const entries = parseConntrack([line(1), line(2), line(3)].join('\n'));
  const { plane, d, logs, cmd } = setup({ conntrack: { dump: async () => entries } });
  cmd.answer = (c) => (c.tool === 'nft-args' ? { code: 1, stdout: '', stderr: '' } : undefined);
  d.addService(KEY, OPTS);
  d.addDest(KEY, spec('198.18.1.11', 'masq'));
  await plane.sync(d);
  await plane.refreshView(d);
  await plane.refreshView(d);
  assert.deepEqual(logs.filter((l) => l.includes('gateway')), [
    'warn: real server 198.18.1.11:80 (NAT) has answered none of 3 connections: LVS-NAT needs its default gateway to be the director (DIP), or use --fullnat',
  ]);
  assert.equal(plane.stats().openConnections, 3);
  await plane.stop(0);
});

test('--set timeouts: mapped onto conntrack\'s sysctls when asked; DR flow timeout follows', async () => {
  const { plane, d, cmd } = setup({ mapTimeouts: true, conntrack: { dump: async () => [] } });
  d.addService(KEY, OPTS);
  d.addDest(KEY, spec('198.18.1.11', 'route'));
  await plane.sync(d);
  await plane.refreshView(d);
  d.timeouts.setTimeouts({ tcp: 600, tcpfin: 60, udp: 30 });
  await plane.refreshView(d);
  const sets = cmd.calls.flatMap((c) => (c.tool === 'sysctl-set' ? [c.args.join('=')] : []));
  assert.deepEqual(sets.slice(-3), [
    'net.netfilter.nf_conntrack_tcp_timeout_established=600',
    'net.netfilter.nf_conntrack_tcp_timeout_fin_wait=60',
    'net.netfilter.nf_conntrack_udp_timeout_stream=30',
  ]);
  assert.match(cmd.loaded.at(-1)!, /update @flows_s1 \{ ip saddr \. tcp sport timeout 600s : meta mark \}/);
  await plane.stop(0);
});

test('TUN where the kernel has ipip: an ipip device per real server, the DR path through it', async () => {
  const { cmd, plane, d } = setup({ ipip: true });
  d.addService(KEY, OPTS);
  d.addDest(KEY, spec('198.18.1.11', 'tunnel'));
  const svc = d.services()[0];
  assert.ok(plane.checkDest(svc, spec('198.18.1.12', 'route')).ok, 'tunnel and route share the DR path');
  assert.ok(!plane.checkDest(svc, { ...spec('198.18.1.12', 'tunnel'), tunnel: { type: 'gue', port: 6080, csum: 'nocsum' } }).ok, 'GUE is refused');
  await plane.sync(d);
  const ip = () => cmd.calls.flatMap((c) => (c.tool === 'ip' ? [c.args.join(' ')] : [])).filter((a) => !/^(-6 )?-j /.test(a));
  assert.deepEqual(ip(), [
    'link add kvip1 type ipip remote 198.18.1.11',
    'link set kvip1 up',
    'route replace default dev kvip1 table 7012353 proto 107',
    'rule add pref 90 to 198.18.0.100 fwmark 0x6b000001 table 7012353 proto 107',
    'rule add pref 100 lookup local proto 107',
    'rule del pref 0 lookup local',
  ]);
  assert.match(cmd.loaded.at(-1)!, /add element ip keepvs dr_addr \{ 198\.18\.0\.100 \. tcp \. 80 : goto s1 \}/);
  await plane.stop(0);
  assert.deepEqual(ip().slice(-2), ['route flush table 7012353', 'link del kvip1']);
  assert.deepEqual(drCleanupCommands('[]', [], ['kvip3', 'tunl0']), [['link', 'del', 'kvip3']], 'a crash leaves no tunnel behind');
});

test('TUN over VXLAN (--nft-tunnel=vxlan, keepvs extension): a VXLAN device per real server, no ipip needed', async () => {
  const { cmd, plane, d } = setup({ ipip: false, tunnel: { kind: 'vxlan', vni: 42, port: 4789 } });
  assert.deepEqual(plane.capabilities.fwd, ['masq', 'fullnat', 'route', 'tunnel']);
  d.addService(KEY, OPTS);
  const svc = d.services()[0];
  assert.ok(plane.checkDest(svc, spec('198.18.1.11', 'tunnel')).ok, 'TUN accepted without ipip');
  const gre = plane.checkDest(svc, { ...spec('198.18.1.11', 'tunnel'), tunnel: { type: 'gre', port: 0, csum: 'nocsum' } });
  assert.ok(!gre.ok && /VXLAN \(--nft-tunnel=vxlan\).*not gre/.test(gre.error.message), 'GRE is refused, naming the encapsulation in use');
  d.addDest(KEY, spec('198.18.1.11', 'tunnel'));
  d.addDest(KEY, spec('198.18.1.12', 'tunnel'));
  await plane.sync(d);
  const ip = () => cmd.calls.flatMap((c) => (c.tool === 'ip' ? [c.args.join(' ')] : [])).filter((a) => !/^(-6 )?-j /.test(a));
  assert.deepEqual(ip(), [
    'link add kvx0 type vxlan external dstport 4789',
    'link set kvx0 mtu 1450 up',
    'neigh replace 198.18.0.100 lladdr 02:6b:76:73:76:78 dev kvx0 nud permanent',
    'route replace default encap ip id 42 dst 198.18.1.12 dev kvx0 table 7012353 proto 107',
    'route replace default encap ip id 42 dst 198.18.1.11 dev kvx0 table 7012354 proto 107',
    'rule add pref 90 to 198.18.0.100 fwmark 0x6b000001 table 7012353 proto 107',
    'rule add pref 90 to 198.18.0.100 fwmark 0x6b000002 table 7012354 proto 107',
    'rule add pref 100 lookup local proto 107',
    'rule del pref 0 lookup local',
  ]);
  await plane.stop(0);
  assert.deepEqual(ip().slice(-3), ['route flush table 7012353', 'route flush table 7012354', 'link del kvx0']);
  assert.deepEqual(drCleanupCommands('[]', [], ['kvx0', 'vxlan0']), [['link', 'del', 'kvx0']], 'a crash leaves no VXLAN device behind');
});

test('without ipip and without --nft-tunnel=vxlan, TUN is refused and the message names the way out', () => {
  const { plane, d } = setup();
  d.addService(KEY, OPTS);
  const c = plane.checkDest(d.services()[0], spec('198.18.1.11', 'tunnel'));
  assert.ok(!c.ok && /needs ipip.*--nft-tunnel=vxlan/.test(c.error.message));
});

test('keepvs --dataplane nft without CAP_NET_ADMIN: refused at start, naming what is missing', async (t) => {
  const { execFile } = await import('node:child_process');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join, resolve } = await import('node:path');
  const root = resolve(import.meta.dirname, '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'keepvs-nocap-'));
  const keepvs = [join(root, 'bin', 'keepvs'), '--dataplane', 'nft', '-l', '--control', join(dir, 's.sock'), '-p', join(dir, 'pid')];
  // As root, drop the capability from the bounding set (setpriv, util-linux); otherwise we lack it already.
  let argv = keepvs;
  if (process.getuid?.() === 0) {
    const have = await new Promise<boolean>((r) => execFile('setpriv', ['--version'], (e) => r(!e)));
    if (!have) { t.skip('needs setpriv (util-linux) to drop CAP_NET_ADMIN as root'); return; }
    argv = ['setpriv', '--bounding-set', '-net_admin', '--inh-caps', '-net_admin', ...keepvs];
  }
  const r = await new Promise<{ code: number; out: string }>((res) => {
    execFile(argv[0], argv.slice(1), { timeout: 20_000 }, (e, stdout, stderr) => res({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }));
  });
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /the nft data plane needs root or CAP_NET_ADMIN \(missing: CAP_NET_ADMIN\)/);
});

test('closeDest deletes the dest\'s conntrack entries and DR flows by its mark', async () => {
  const { cmd, plane, d } = setup();
  d.addService(KEY, OPTS);
  d.addDest(KEY, spec('198.18.1.11', 'route'));
  await plane.sync(d);
  const flows = '{"nftables": [{"map": {"elem": [[{"elem": {"val": {"concat": ["198.18.0.10", 1234]}, "expires": 5}}, 1795162113], [{"elem": {"val": {"concat": ["198.18.0.11", 99]}, "expires": 5}}, 1795162114]]}}]}';
  cmd.answer = (c) => (c.tool === 'nft-args' && c.args.includes('flows_s1') ? { code: 0, stdout: flows, stderr: '' } : undefined);
  plane.closeDest(d.services()[0].dests[0]);
  for (let i = 0; i < 20 && !cmd.loaded.at(-1)!.startsWith('delete element'); i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(cmd.calls.find((c) => c.tool === 'conntrack'), { tool: 'conntrack', args: ['-D', '-f', 'ipv4', '--mark', String(0x6b000001)] });
  assert.equal(cmd.loaded.at(-1), 'delete element ip keepvs flows_s1 { 198.18.0.10 . 1234 }\n');
});
