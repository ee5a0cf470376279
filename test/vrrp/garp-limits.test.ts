// vrrp_startup_delay and the gratuitous ARP / NA rate limits (vrrp_garp_interval, vrrp_gna_interval,
// garp_group), as keepalived 2.2.7 applies them (vrrp_scheduler.c vrrp_init_instance_sands and
// vrrp_arp_thread, vrrp_arp.c send_gratuitous_arp, vrrp_if.c set_default_garp_delay, vrrp_parser.c
// garp_group): whole processes on the in-memory LAN with a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeNet, stateOf } from './fake-host.ts';
import { resolveVrrpConfig, type VrrpConfig, type VrrpInstanceConfig } from '../../src/vrrp/config.ts';

const S = 1_000_000;

function inst(over: Partial<VrrpInstanceConfig>): VrrpInstanceConfig {
  return { name: 'VI_1', interface: 'eth0', virtual_router_id: 51, advert_int: 1, virtual_ipaddress: ['198.18.10.100/24 dev eth0'], ...over };
}

test('vrrp_startup_delay: no BACKUP times out before the delay plus its Master_Down_Interval', async () => {
  const rows: { desc: string; delay?: number; over: Partial<VrrpInstanceConfig>; masterAt: number }[] = [
    { desc: 'no delay: Master_Down_Interval (priority 100)', over: { priority: 100 }, masterAt: 3_609_375 },
    { desc: '5 s delay: 5 s + Master_Down_Interval', delay: 5, over: { priority: 100 }, masterAt: 5 * S + 3_609_375 },
    { desc: 'the address owner waits for the delay too, then 1 µs', delay: 2, over: { state: 'MASTER', priority: 255 }, masterAt: 2 * S + 1 },
  ];
  for (const r of rows) {
    const net = new FakeNet();
    const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
    const cfg: VrrpConfig = { global_defs: { vrrp_startup_delay: r.delay }, vrrp_instance: [inst(r.over)] };
    const start = net.clock.now();
    await net.start(a, cfg);
    await net.run(r.masterAt - 1);
    assert.notEqual(stateOf(a), 'MASTER', `${r.desc}: not yet`);
    await net.run(2);
    assert.equal(stateOf(a), 'MASTER', r.desc);
    assert.equal(a.transitions.find((t) => t.to === 'MASTER')!.atUs - start, r.masterAt, r.desc);
    if (r.delay) assert.ok(a.logs.includes(`Delaying startup for ${r.delay} seconds`), r.desc);
    // A reload does not delay again (vrrp_daemon.c: only when not reloading).
    await a.proc!.reload(resolveVrrpConfig(cfg).vrrp);
    await net.run(5 * S);
    assert.equal(stateOf(a), 'MASTER', `${r.desc}: after a reload`);
    await a.proc!.stop();
  }
});

/** Frames sent by the time each mark (µs after start) is reached. */
async function framesAt(cfg: VrrpConfig, marks: number[], extraLink = false): Promise<number[]> {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  if (extraLink) a.ip.addLink('eth1', '02:00:c6:12:0b:01', ['198.18.11.1/24']);
  const start = net.clock.now();
  await net.start(a, cfg);
  const out: number[] = [];
  for (const m of marks) {
    await net.run(start + m - net.clock.now());
    out.push(a.frames.sent.length);
  }
  await a.proc!.stop();
  return out;
}

const owner = (over: Partial<VrrpInstanceConfig> = {}) => inst({
  state: 'MASTER', priority: 255, virtual_ipaddress: ['198.18.10.100/24 dev eth0', '198.18.10.101/24 dev eth0'], ...over,
});

test('vrrp_garp_interval: one GARP per interval on an interface; repeats for an address already queued collapse into one', async () => {
  const marks = [0.5 * S, 1.5 * S, 2.5 * S, 4.5 * S, 5.5 * S, 6.5 * S, 9 * S];
  const rows: { desc: string; cfg: VrrpConfig; want: number[] }[] = [
    { desc: 'no limit: 5 rounds x 2 addresses now, 10 more after garp_master_delay', cfg: { vrrp_instance: [owner()] }, want: [10, 10, 10, 10, 20, 20, 20] },
    {
      desc: '1 s apart: .100 now, .101 at 1 s, .100 again at 2 s (its 4 other repeats collapsed); the same at 5, 6, 7 s',
      cfg: { global_defs: { vrrp_garp_interval: 1 }, vrrp_instance: [owner()] }, want: [1, 2, 3, 3, 4, 5, 6],
    },
    { desc: 'vrrp_gna_interval does not limit IPv4', cfg: { global_defs: { vrrp_gna_interval: 1 }, vrrp_instance: [owner()] }, want: [10, 10, 10, 10, 20, 20, 20] },
  ];
  for (const r of rows) assert.deepEqual(await framesAt(r.cfg, marks), r.want, r.desc);
});

test('garp_group: its interfaces share one limit; outside a group each interface has its own', async () => {
  const vips = { garp_master_repeat: 1, garp_master_delay: 0, virtual_ipaddress: ['198.18.10.100/24 dev eth0', '198.18.11.100/24 dev eth1'] };
  const rows: { desc: string; cfg: VrrpConfig; want: number[] }[] = [
    { desc: 'global interval: eth0 and eth1 each send at once', cfg: { global_defs: { vrrp_garp_interval: 1 }, vrrp_instance: [owner(vips)] }, want: [2, 2] },
    { desc: 'one garp_group over eth0 and eth1: the second waits a second', cfg: { garp_group: [{ garp_interval: 1, interfaces: ['eth0', 'eth1'] }], vrrp_instance: [owner(vips)] }, want: [1, 2] },
    {
      desc: 'a group for eth1 only; eth0 takes the global limit',
      cfg: { global_defs: { vrrp_garp_interval: 1 }, garp_group: [{ garp_interval: 3, interfaces: ['eth1'] }], vrrp_instance: [owner(vips)] }, want: [2, 2],
    },
  ];
  for (const r of rows) assert.deepEqual(await framesAt(r.cfg, [0.5 * S, 1.5 * S], true), r.want, r.desc);
});
