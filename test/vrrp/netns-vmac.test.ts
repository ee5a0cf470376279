// use_vmac on a real kernel (network namespaces, root): a keepvs MASTER puts its VIP on a macvlan with the
// virtual MAC 00:00:5e:00:01:VRID, so a client on the bridge resolves the VIP to that MAC; the macvlan is
// gone after stop. Then against keepalived 2.2.7 with use_vmac in the same lab: the MAC a client has cached
// stays right across a failover in either direction (both routers answer from the same virtual MAC).
// Outcomes only, every wait bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { VrrpLab, keepvsConf, labUnavailable, type Side } from './netns-lab.ts';
import type { VrrpConfig } from '../../src/vrrp/config.ts';

const why = labUnavailable(false);
const whyKeepalived = labUnavailable(true);
const VMAC = '00:00:5e:00:01:33';
let lab: VrrpLab | null = null;
let client = '';

function ip(...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

before(() => {
  if (why) return;
  lab = VrrpLab.create('kpg');
  // A client on the bridge: <prefix>c eth0 .9/24.
  client = `${lab.prefix}c`;
  const sw = lab.ns('sw');
  const steps: string[][] = [
    ['netns', 'add', client],
    ['link', 'add', 'pc', 'netns', sw, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client],
    ['-n', sw, 'link', 'set', 'pc', 'master', 'br0', 'up'],
    ['-n', client, 'addr', 'add', `${lab.subnet}.9/24`, 'dev', 'eth0'],
    ['-n', client, 'link', 'set', 'eth0', 'up'],
    ['-n', client, 'link', 'set', 'lo', 'up'],
    ['netns', 'exec', client, 'sysctl', '-qw', 'net.ipv6.conf.eth0.accept_dad=0'],
    ['-n', client, 'addr', 'add', '2001:db8:10::9/64', 'dev', 'eth0'],
  ];
  for (const s of steps) {
    const r = ip(...s);
    if (!r.ok) throw new Error(`ip ${s.join(' ')}: ${r.out}`);
  }
});
after(async () => {
  if (client) ip('netns', 'del', client);
  await lab?.destroy();
});

function vmacConf(L: VrrpLab, side: Side, priority: number): VrrpConfig {
  const c = keepvsConf(L, { side, state: side === 'a' ? 'MASTER' : 'BACKUP', priority, version: 3, advertInt: 0.1, vips: [`${L.vip}/24`] });
  return { ...c, vrrp_instance: c.vrrp_instance!.map((i) => ({ ...i, use_vmac: true })) };
}

/** Which sides have the VIP on their vmac. */
function vmacHolders(L: VrrpLab, vip = L.vip): Side[] {
  return (['a', 'b'] as const).filter((s) => ip('-n', L.ns(s), '-o', 'addr', 'show', 'dev', 'vrrp.51').out.includes(` ${vip}/`));
}

/**
 * The client pings the VIP and reports the MAC its ARP resolved the VIP to (null: no answer). The first
 * ping warms the MASTER's own neighbour entry for the client on the base interface: without it the MASTER
 * resolves the client from eth0 (the first connected route) with the VIP as ARP sender, and the client
 * would learn the base MAC from that request — keepalived behaves the same (it does not set arp_announce).
 */
function clientSeesVipAt(L: VrrpLab, vip = L.vip): string | null {
  const ping = () => spawnSync('ip', ['netns', 'exec', client, 'ping', '-c', '1', '-W', '1', vip], { encoding: 'utf8' }).status === 0;
  if (!ping()) return null;
  ip('-n', client, 'neigh', 'flush', 'dev', 'eth0');
  if (!ping()) return null;
  const m = ip('-n', client, 'neigh', 'show', vip).out.match(/lladdr ([0-9a-f:]{17})/);
  return m ? m[1] : null;
}

test('use_vmac: the MASTER answers for its VIP from 00:00:5e:00:01:VRID; the macvlan is gone after stop', async (t) => {
  if (why || !lab) return t.skip(why ?? 'lab not built');
  const L = lab;
  const a = L.startKeepvs('a', vmacConf(L, 'a', 150));
  try {
    assert.ok(await L.waitFor(() => vmacHolders(L).join('') === 'a', 10_000), `a holds the VIP on vrrp.51\n${a.log()}`);
    const link = ip('-n', L.ns('a'), '-d', 'link', 'show', 'dev', 'vrrp.51').out;
    assert.match(link, new RegExp(`link/ether ${VMAC}`), link);
    assert.match(link, /macvlan mode private/, link);
    assert.equal(ip('netns', 'exec', L.ns('a'), 'cat', '/proc/sys/net/ipv4/conf/eth0/arp_ignore').ok, true);
    assert.equal(spawnSync('ip', ['netns', 'exec', L.ns('a'), 'cat', '/proc/sys/net/ipv4/conf/eth0/arp_ignore'], { encoding: 'utf8' }).stdout.trim(), '1');
    let seen: string | null = null;
    await L.waitFor(() => (seen = clientSeesVipAt(L)) !== null, 5_000);
    assert.equal(seen, VMAC, 'the client resolves the VIP to the virtual MAC');
    // The adverts on the wire leave from the virtual MAC (bounded: 3 packets or 3 s).
    const cap = spawnSync('ip', ['netns', 'exec', client, 'timeout', '3', 'tcpdump', '-c', '3', '-e', '-nn', '-i', 'eth0', 'ip proto 112'], { encoding: 'utf8' });
    if (cap.error) t.diagnostic('tcpdump not installed: advert source MAC not checked');
    else assert.match(cap.stdout, new RegExp(`${VMAC} > 01:00:5e:00:00:12`), cap.stdout + cap.stderr);
  } finally {
    await a.stop('TERM');
  }
  assert.equal(ip('-n', L.ns('a'), 'link', 'show', 'dev', 'vrrp.51').ok, false, `vrrp.51 deleted on stop\n${a.log()}`);
  assert.equal(spawnSync('ip', ['netns', 'exec', L.ns('a'), 'cat', '/proc/sys/net/ipv4/conf/eth0/arp_ignore'], { encoding: 'utf8' }).stdout.trim(), '0', 'base arp_ignore restored');
});

test('use_vmac against keepalived 2.2.7 with use_vmac: one MASTER, and the VIP keeps its MAC across failovers both ways', async (t) => {
  if (whyKeepalived || !lab) return t.skip(whyKeepalived ?? 'lab not built');
  const L = lab;
  const conf = L.keepalivedConf({ side: 'b', state: 'BACKUP', priority: 100, version: 3, advertInt: 0.1, vips: [`${L.vip}/24`] })
    .replace('    interface eth0\n', '    interface eth0\n    use_vmac\n');
  const b = L.startKeepalived('b', conf);
  let a = L.startKeepvs('a', vmacConf(L, 'a', 150));
  try {
    assert.ok(await L.waitFor(() => vmacHolders(L).join('') === 'a', 10_000), `keepvs a (150) is MASTER on its vmac\n${a.log()}\n${b.log()}`);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(vmacHolders(L), ['a'], 'exactly one MASTER after convergence');
    let seen: string | null = null;
    await L.waitFor(() => (seen = clientSeesVipAt(L)) !== null, 5_000);
    assert.equal(seen, VMAC);
    await a.stop('TERM');
    assert.ok(await L.waitFor(() => vmacHolders(L).join('') === 'b', 5_000), `keepalived b takes over\n${b.log()}`);
    seen = null;
    await L.waitFor(() => (seen = clientSeesVipAt(L)) !== null, 5_000);
    assert.equal(seen, VMAC, 'keepalived answers from the same virtual MAC');
    a = L.startKeepvs('a', vmacConf(L, 'a', 150));
    assert.ok(await L.waitFor(() => vmacHolders(L).join('') === 'a', 10_000), `keepvs a preempts keepalived\n${a.log()}\n${b.log()}`);
    seen = null;
    await L.waitFor(() => (seen = clientSeesVipAt(L)) !== null, 5_000);
    assert.equal(seen, VMAC);
  } finally {
    await a.stop('TERM');
    await b.stop('TERM');
  }
  assert.equal(ip('-n', L.ns('a'), 'link', 'show', 'dev', 'vrrp.51').ok, false, 'keepvs removed its vmac');
});

test('use_vmac over IPv6 against keepalived 2.2.7 with use_vmac: the VIP answers from 00:00:5e:00:02:VRID on both sides', async (t) => {
  if (whyKeepalived || !lab) return t.skip(whyKeepalived ?? 'lab not built');
  const L = lab;
  const vip = '2001:db8:10::100';
  const vips = ['fe80::52/64', `${vip}/64`];
  const VMAC6 = '00:00:5e:00:02:33';
  const conf = L.keepalivedConf({ side: 'b', state: 'BACKUP', priority: 100, version: 3, advertInt: 0.1, vips })
    .replace('    interface eth0\n', '    interface eth0\n    use_vmac\n');
  const b = L.startKeepalived('b', conf);
  const ka = keepvsConf(L, { side: 'a', state: 'BACKUP', priority: 150, version: 3, advertInt: 0.1, vips });
  let a = L.startKeepvs('a', { ...ka, vrrp_instance: ka.vrrp_instance!.map((i) => ({ ...i, use_vmac: true })) });
  try {
    assert.ok(await L.waitFor(() => vmacHolders(L, vip).join('') === 'a', 10_000), `keepvs a (150) is MASTER on its vmac\n${a.log()}\n${b.log()}`);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(vmacHolders(L, vip), ['a'], 'exactly one MASTER after convergence');
    let seen: string | null = null;
    await L.waitFor(() => (seen = clientSeesVipAt(L, vip)) !== null, 5_000);
    assert.equal(seen, VMAC6, 'keepvs answers from the IPv6 virtual MAC');
    await a.stop('TERM');
    assert.ok(await L.waitFor(() => vmacHolders(L, vip).join('') === 'b', 5_000), `keepalived b takes over\n${b.log()}`);
    seen = null;
    await L.waitFor(() => (seen = clientSeesVipAt(L, vip)) !== null, 5_000);
    assert.equal(seen, VMAC6, 'keepalived answers from the same virtual MAC');
    a = L.startKeepvs('a', { ...ka, vrrp_instance: ka.vrrp_instance!.map((i) => ({ ...i, use_vmac: true })) });
    assert.ok(await L.waitFor(() => vmacHolders(L, vip).join('') === 'a', 10_000), `keepvs a preempts keepalived\n${a.log()}\n${b.log()}`);
  } finally {
    await a.stop('TERM');
    await b.stop('TERM');
  }
  assert.equal(ip('-n', L.ns('a'), 'link', 'show', 'dev', 'vrrp.51').ok, false, 'keepvs removed its vmac');
});
