// use_vmac / vmac_xmit_base (src/vrrp/vmac.ts, keepalived vrrp_vmac.c and vrrp_if_config.c), notify_deleted
// and the account written after a notify command, on the in-memory LAN with a fake clock: which `ip`
// commands and sysctls a VMAC instance issues, where its sockets, addresses and gratuitous ARPs go, and
// what stop and reload undo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeNet, stateOf, type FakeNode } from './fake-host.ts';
import { resolveVrrpConfig, vmacAddress, type VrrpConfig, type VrrpInstanceConfig } from '../../src/vrrp/config.ts';
import { vrrpConfigFromKeepalived } from '../../src/vrrp/from-keepalived.ts';
import type { RawSocketOptions } from '../../src/sys/raw-socket.ts';
import { linkLocalFromMac } from '../../src/vrrp/vmac.ts';
import type { ScriptIdentity } from '../../src/sys/exec.ts';
import { loadKeepalivedConfig } from '../../src/config/keepalived/load.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const S = 1_000_000;
const VIP = '198.18.10.100';
const VMAC = '00:00:5e:00:01:33';

function inst(over: Partial<VrrpInstanceConfig>): VrrpInstanceConfig {
  return {
    name: 'VI_1', interface: 'eth0', virtual_router_id: 51, advert_int: 1, priority: 150,
    authentication: { auth_type: 'PASS', auth_pass: 's3cret' }, virtual_ipaddress: [`${VIP}/24`], ...over,
  };
}

/** A node whose opened sockets are recorded, with the base interface's ARP sysctls at 0. */
function vmacNode(net: FakeNet): { node: FakeNode; sockets: RawSocketOptions[] } {
  const node = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  node.files.set('/proc/sys/net/ipv4/conf/eth0/arp_ignore', '0\n');
  node.files.set('/proc/sys/net/ipv4/conf/eth0/arp_filter', '0\n');
  const sockets: RawSocketOptions[] = [];
  const open = node.host.openSocket.bind(node.host);
  (node.host as { openSocket: typeof open }).openSocket = (o, cb) => {
    sockets.push(o);
    return open(o, cb);
  };
  return { node, sockets };
}

const linkCmds = (n: FakeNode) => n.ip.commands.filter((c) => / link (add|del|set) |addr (add|del) /.test(c));

test('resolution: use_vmac names, MAC, vmac_xmit_base, and what is refused', () => {
  const rows: { desc: string; over: Partial<VrrpInstanceConfig>; vmac?: { name: string; mac: string; xmitBase: boolean } | null; error?: string }[] = [
    { desc: 'no use_vmac', over: {}, vmac: null },
    { desc: 'use_vmac: vrrp.VRID, 00:00:5e:00:01:VRID', over: { use_vmac: true }, vmac: { name: 'vrrp.51', mac: VMAC, xmitBase: false } },
    { desc: 'use_vmac NAME', over: { use_vmac: 'vip51' }, vmac: { name: 'vip51', mac: VMAC, xmitBase: false } },
    { desc: 'vmac_xmit_base', over: { use_vmac: true, vmac_xmit_base: true }, vmac: { name: 'vrrp.51', mac: VMAC, xmitBase: true } },
    { desc: 'unicast forces vmac_xmit_base', over: { use_vmac: true, unicast_src_ip: '198.18.10.1', unicast_peer: ['198.18.10.2'] }, vmac: { name: 'vrrp.51', mac: VMAC, xmitBase: true } },
    { desc: 'VRID 255 in hex', over: { use_vmac: true, virtual_router_id: 255 }, vmac: { name: 'vrrp.255', mac: '00:00:5e:00:01:ff', xmitBase: false } },
    { desc: 'IPv6: 00:00:5e:00:02:VRID', over: { use_vmac: true, virtual_ipaddress: ['fe80::51/64', '2001:db8::51/64'] }, vmac: { name: 'vrrp.51', mac: '00:00:5e:00:02:33', xmitBase: false } },
    { desc: 'name longer than IFNAMSIZ', over: { use_vmac: 'a-very-long-vmac-name' }, error: 'VALUE_INVALID' },
    { desc: 'use_ipvlan still refused', over: { use_ipvlan: true }, error: 'USE_VMAC_UNSUPPORTED' },
  ];
  for (const r of rows) {
    const res = resolveVrrpConfig({ vrrp_instance: [inst(r.over)] });
    const errors = res.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
    if (r.error) {
      assert.deepEqual(errors, [r.error], r.desc);
      continue;
    }
    assert.deepEqual(errors, [], r.desc);
    assert.deepEqual(res.vrrp.instances[0].vmac, r.vmac, r.desc);
  }
  assert.equal(vmacAddress(1, 6), '00:00:5e:00:02:01');
});

test('use_vmac: the macvlan, its sysctls, sockets, VIPs and GARPs on the virtual MAC; stop deletes it and restores the base', async () => {
  const net = new FakeNet();
  const { node: a, sockets } = vmacNode(net);
  await net.start(a, { vrrp_instance: [inst({ use_vmac: true, virtual_ipaddress_excluded: ['198.18.20.5/32 dev eth0'] })] });
  // Created, tuned and up before any socket opens on it.
  assert.deepEqual(linkCmds(a).slice(0, 2), [
    `ip link add link eth0 name vrrp.51 address ${VMAC} type macvlan mode private`,
    'ip link set dev vrrp.51 up',
  ]);
  assert.deepEqual(sockets.map((s) => s.ifname), ['vrrp.51'], 'adverts leave from (and are read on) the vmac');
  const sysctls = Object.fromEntries([...a.files].filter(([p]) => p.startsWith('/proc/sys/')).map(([p, v]) => [p, v.trim()]));
  assert.deepEqual(sysctls, {
    '/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore': '1',
    '/proc/sys/net/ipv4/conf/vrrp.51/accept_local': '1',
    '/proc/sys/net/ipv4/conf/vrrp.51/rp_filter': '0',
    '/proc/sys/net/ipv6/conf/vrrp.51/disable_ipv6': '1',
    '/proc/sys/net/ipv4/conf/eth0/arp_ignore': '1',
    '/proc/sys/net/ipv4/conf/eth0/arp_filter': '1',
  });
  await net.run(5 * S);
  assert.equal(stateOf(a), 'MASTER');
  // A VIP without `dev` goes on the vmac; one with its own dev stays there.
  assert.deepEqual(a.ip.addressesOf('vrrp.51'), [`${VIP}/24`]);
  assert.ok(a.ip.addressesOf('eth0').includes('198.18.20.5/32'));
  const vmacIndex = a.ip.links.get('vrrp.51')!.index;
  const garps = a.frames.sent.filter((f) => f.frame[12] === 0x08 && f.frame[13] === 0x06 && f.frame[31] === 100);
  assert.ok(garps.length >= 5);
  for (const g of garps) {
    assert.equal(g.ifindex, vmacIndex, 'GARP sent on the vmac');
    assert.equal([...g.frame.subarray(6, 12)].map((b) => b.toString(16).padStart(2, '0')).join(':'), VMAC, 'Ethernet source = virtual MAC');
    assert.equal([...g.frame.subarray(22, 28)].map((b) => b.toString(16).padStart(2, '0')).join(':'), VMAC, 'ARP sender = virtual MAC');
  }
  // The advert's source is the base interface's address (the vmac has none of its own).
  const adv = net.lan.sent.find((p) => p.from === 'vra')!;
  assert.deepEqual([...adv.bytes.subarray(12, 16)], [198, 18, 10, 1]);
  await a.proc!.stop();
  assert.deepEqual(linkCmds(a).slice(-1), ['ip link del dev vrrp.51'], 'deleted after its addresses went');
  assert.equal(a.ip.links.has('vrrp.51'), false);
  assert.equal(a.files.get('/proc/sys/net/ipv4/conf/eth0/arp_ignore')!.trim(), '0', 'base arp_ignore restored');
  assert.equal(a.files.get('/proc/sys/net/ipv4/conf/eth0/arp_filter')!.trim(), '0', 'base arp_filter restored');
  assert.ok(a.logs.includes('(VI_1): Success creating VMAC interface vrrp.51'));
});

test('use_vmac over IPv6: no generated link-local, the base\'s link-local on the vmac, NAs from 00:00:5e:00:02:VRID, IPv4 sysctls untouched', async () => {
  const net = new FakeNet();
  const { node: a, sockets } = vmacNode(net);
  await net.start(a, { vrrp_instance: [inst({ use_vmac: true, authentication: undefined, virtual_ipaddress: ['fe80::51/64', '2001:db8:10::100/64'] })] });
  assert.deepEqual(linkCmds(a), [
    'ip link add link eth0 name vrrp.51 address 00:00:5e:00:02:33 type macvlan mode private',
    'ip link set dev vrrp.51 addrgenmode none',
    'ip -6 addr add fe80::3:1/64 dev vrrp.51 nodad',
    'ip link set dev vrrp.51 up',
  ]);
  assert.deepEqual(sockets.map((s) => s.ifname), ['vrrp.51']);
  assert.deepEqual([...a.files.keys()].filter((p) => p.startsWith('/proc/sys/') && !p.includes('/eth0/')), [], 'no sysctl written on the vmac');
  assert.equal(a.files.get('/proc/sys/net/ipv4/conf/eth0/arp_ignore'), '0\n', 'base untouched');
  await net.run(5 * S);
  assert.equal(stateOf(a), 'MASTER');
  assert.ok(a.ip.addressesOf('vrrp.51').includes('2001:db8:10::100/64'));
  const nas = a.frames.sent.filter((f) => f.frame[12] === 0x86 && f.frame[13] === 0xdd);
  assert.ok(nas.length >= 5);
  for (const f of nas) assert.equal([...f.frame.subarray(6, 12)].map((b) => b.toString(16).padStart(2, '0')).join(':'), '00:00:5e:00:02:33');
  await a.proc!.stop();
  assert.equal(a.ip.links.has('vrrp.51'), false);
});

test('linkLocalFromMac: modified EUI-64 (keepalived make_link_local_address)', () => {
  assert.equal(linkLocalFromMac(new Uint8Array([0x02, 0x00, 0xc6, 0x12, 0x0a, 0x01])), 'fe80::0:c6ff:fe12:a01');
  assert.equal(linkLocalFromMac(new Uint8Array([0x52, 0x54, 0x00, 0xab, 0xcd, 0xef])), 'fe80::5054:ff:feab:cdef');
});

test('vmac_xmit_base: sockets on the base interface, addresses still on the vmac', async () => {
  const net = new FakeNet();
  const { node: a, sockets } = vmacNode(net);
  await net.start(a, { vrrp_instance: [inst({ use_vmac: 'vip51', vmac_xmit_base: true })] });
  assert.deepEqual(sockets.map((s) => s.ifname), ['eth0']);
  await net.run(5 * S);
  assert.equal(stateOf(a), 'MASTER');
  assert.deepEqual(a.ip.addressesOf('vip51'), [`${VIP}/24`]);
  await a.proc!.stop();
  assert.equal(a.ip.links.has('vip51'), false);
});

test('use_vmac: an interface of that name that is not a macvlan is left alone and the instance is in FAULT', async () => {
  const net = new FakeNet();
  const { node: a } = vmacNode(net);
  a.ip.addLink('vrrp.51', '02:00:00:00:00:51');
  await net.start(a, { vrrp_instance: [inst({ use_vmac: true })] });
  await net.run(5 * S);
  assert.equal(stateOf(a), 'FAULT');
  assert.ok(a.ip.links.has('vrrp.51'), 'not deleted');
  assert.ok(a.logs.some((l) => /vrrp\.51: an interface of that name exists and is not a macvlan/.test(l)));
  await a.proc!.stop();
  assert.ok(a.ip.links.has('vrrp.51'), 'not ours to delete');
});

test('reload: a removed vmac instance resigns, then its vmac goes; a new one gets its vmac', async () => {
  const net = new FakeNet();
  const { node: a } = vmacNode(net);
  await net.start(a, { vrrp_instance: [inst({ use_vmac: true })] });
  await net.run(5 * S);
  assert.equal(stateOf(a), 'MASTER');
  const r = resolveVrrpConfig({ vrrp_instance: [inst({ name: 'VI_2', virtual_router_id: 52, use_vmac: true, virtual_ipaddress: ['198.18.10.102/24'] })] });
  await a.proc!.reload(r.vrrp);
  await a.proc!.settled();
  assert.equal(a.ip.links.has('vrrp.51'), false, 'old vmac deleted');
  assert.ok(a.ip.links.has('vrrp.52'), 'new vmac created');
  const cmds = linkCmds(a);
  assert.ok(cmds.indexOf(`ip -4 addr del ${VIP}/24 dev vrrp.51`) < cmds.indexOf('ip link del dev vrrp.51'), 'address removed before the link');
  await a.proc!.stop();
  assert.equal(a.ip.links.has('vrrp.52'), false);
  assert.equal(a.files.get('/proc/sys/net/ipv4/conf/eth0/arp_ignore')!.trim(), '0');
});

// ------------------------------------------------------------------------------------ notify_deleted

test('notify_deleted: a removed instance is reported DELETED (its script runs), else FAULT without notify_fault', async () => {
  const rows: { desc: string; over: Partial<VrrpInstanceConfig>; fifo: string; argv: string[][] }[] = [
    {
      desc: 'default: FAULT to the generic notify and the FIFO only', over: {},
      fifo: 'INSTANCE "VI_1" FAULT 150\n', argv: [['/bin/notify', 'INSTANCE', 'VI_1', 'FAULT', '150']],
    },
    {
      desc: 'notify_deleted: DELETED', over: { notify_deleted: true },
      fifo: 'INSTANCE "VI_1" DELETED 150\n', argv: [['/bin/notify', 'INSTANCE', 'VI_1', 'DELETED', '150']],
    },
    {
      desc: 'notify_deleted SCRIPT: the script runs too', over: { notify_deleted: '/bin/deleted.sh x' },
      fifo: 'INSTANCE "VI_1" DELETED 150\n', argv: [['/bin/deleted.sh', 'x'], ['/bin/notify', 'INSTANCE', 'VI_1', 'DELETED', '150']],
    },
  ];
  for (const r of rows) {
    const net = new FakeNet();
    const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
    const cfg: VrrpConfig = { global_defs: { notify_fifo: '/run/fifo' }, vrrp_instance: [inst({ notify: '/bin/notify', notify_fault: '/bin/fault.sh', ...r.over })] };
    await net.start(a, cfg);
    await net.run(5 * S);
    assert.equal(stateOf(a), 'MASTER', r.desc);
    a.fifo.length = 0;
    a.execs.length = 0;
    await a.proc!.reload(resolveVrrpConfig({ global_defs: { notify_fifo: '/run/fifo' }, vrrp_instance: [inst({ name: 'VI_9', virtual_router_id: 9 })] }).vrrp);
    assert.deepEqual(a.fifo.filter((l) => l.includes('VI_1')), [r.fifo], r.desc);
    assert.deepEqual(a.execs.map((e) => [...e.argv]), r.argv, r.desc);
    await a.proc!.stop();
  }
});

// ------------------------------------------------------------------------------- notify script users

const USERS: Record<string, ScriptIdentity> = { keepalived_script: { uid: 900, gid: 900 }, web: { uid: 1000, gid: 1000 }, ops: { uid: 1001, gid: 1001 } };

test('notify commands run as the USER [GROUP] written after them, others as script_user', async () => {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  const asked: string[] = [];
  (a.host as { scripts?: unknown }).scripts = {
    identity: (user: { user: string; group?: string } | null) => {
      asked.push(user ? `${user.user}:${user.group ?? ''}` : '-');
      const id = USERS[user?.user ?? 'keepalived_script'];
      return id && user?.group ? { ...id, gid: USERS[user.group]?.gid ?? id.gid } : id ?? null;
    },
    check: (argv0: string) => ({ verdict: 'ok', path: argv0, reason: '' }),
  };
  await net.start(a, {
    global_defs: { script_user: { user: 'web' } },
    vrrp_instance: [inst({ notify_master: { script: '/bin/master.sh', user: { user: 'ops', group: 'web' } }, notify: '/bin/notify' })],
  });
  await net.run(5 * S);
  assert.equal(stateOf(a), 'MASTER');
  const uidOf = (p: string) => a.execs.filter((e) => e.argv[0] === p).map((e) => e.uid);
  assert.deepEqual(uidOf('/bin/master.sh'), [1001], 'notify_master as ops');
  assert.ok(uidOf('/bin/notify').length > 0 && uidOf('/bin/notify').every((u) => u === 1000), 'generic notify as script_user web');
  assert.ok(asked.includes('ops:web'), 'the group is passed to the account lookup');
  await a.proc!.stop();
});

test('from keepalived.conf: the user after a notify command, notify_deleted and use_vmac reach the VRRP config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kpg-conf-'));
  try {
    const file = join(dir, 'keepalived.conf');
    writeFileSync(file, [
      'vrrp_instance VI_1 {', ' interface eth0', ' virtual_router_id 51', ' use_vmac vip51', ' vmac_xmit_base',
      ' notify_master "/bin/m.sh \'a b\'" nobody nogroup', ' notify_backup /bin/b.sh', ' notify_deleted',
      ' virtual_ipaddress {', '  198.18.10.100/24', ' }', '}', '',
    ].join('\n'));
    const r = loadKeepalivedConfig(file);
    assert.ok(r.config, 'loads');
    const conf = vrrpConfigFromKeepalived(r.config).vrrp_instance![0];
    assert.deepEqual(conf.notify_master, { script: '/bin/m.sh "a b"', user: { user: 'nobody', group: 'nogroup' } });
    assert.equal(conf.notify_backup, '/bin/b.sh');
    assert.equal(conf.notify_deleted, true);
    assert.equal(conf.use_vmac, 'vip51');
    assert.equal(conf.vmac_xmit_base, true);
    const inst0 = resolveVrrpConfig(vrrpConfigFromKeepalived(r.config)).vrrp.instances[0];
    assert.deepEqual(inst0.notify.users, { master: { user: 'nobody', group: 'nogroup' } });
    assert.equal(inst0.notifyDeleted, true);
    assert.deepEqual(inst0.vmac, { name: 'vip51', mac: VMAC, xmitBase: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
