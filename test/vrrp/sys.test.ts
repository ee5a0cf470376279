// The pure parts of the sys edges VRRP uses: netlink link/address messages, `ip -j addr show` output,
// and the fake `ip` runner's model; plus the real raw socket open path where root is available.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetlink } from '../../src/sys/netlink.ts';
import { parseIpAddrJson } from '../../src/sys/ip.ts';
import { FakeIpRunner } from '../../src/sys/fake/ip.ts';
import { FakeClock } from '../../src/sys/fake/clock.ts';

function nlmsg(type: number, body: Uint8Array): Uint8Array {
  const len = 16 + body.length;
  const b = new Uint8Array((len + 3) & ~3);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, len, true);
  dv.setUint16(4, type, true);
  b.set(body, 16);
  return b;
}

function rta(type: number, data: Uint8Array): Uint8Array {
  const len = 4 + data.length;
  const b = new Uint8Array((len + 3) & ~3);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, len, true);
  dv.setUint16(2, type, true);
  b.set(data, 4);
  return b;
}

test('netlink RTM_NEWLINK / RTM_NEWADDR parse into link and address events', () => {
  const ifi = new Uint8Array(16);
  const dv = new DataView(ifi.buffer);
  dv.setInt32(4, 7, true); // index
  dv.setUint32(8, 0x1 | 0x40, true); // IFF_UP | IFF_RUNNING
  const name = rta(3, new TextEncoder().encode('eth0\0'));
  const mac = rta(1, new Uint8Array([2, 0, 0xc6, 0x12, 0x0a, 1]));
  const link = nlmsg(16, new Uint8Array([...ifi, ...name, ...mac]));
  const down = Uint8Array.from(ifi);
  new DataView(down.buffer).setUint32(8, 0x1, true); // UP without RUNNING: carrier lost
  const linkDown = nlmsg(16, new Uint8Array([...down, ...name]));
  const ifa = new Uint8Array([2, 24, 0, 0, 7, 0, 0, 0]);
  const addr = nlmsg(20, new Uint8Array([...ifa, ...rta(2, new Uint8Array([198, 18, 10, 100]))]));
  const ev = parseNetlink(new Uint8Array([...link, ...linkDown, ...addr]));
  assert.equal(ev.length, 3);
  assert.deepEqual({ ...ev[0], mac: [...(ev[0] as { mac: Uint8Array }).mac] }, { kind: 'link', index: 7, name: 'eth0', deleted: false, up: true, mac: [2, 0, 0xc6, 0x12, 0x0a, 1] });
  assert.equal((ev[1] as { up: boolean }).up, false);
  assert.deepEqual({ ...ev[2], address: [...(ev[2] as { address: Uint8Array }).address] }, { kind: 'addr', index: 7, family: 4, prefixlen: 24, deleted: false, address: [198, 18, 10, 100] });
  assert.deepEqual(parseNetlink(new Uint8Array([1, 2, 3])), [], 'garbage is ignored');
});

test('`ip -j addr show` parsing: carrier, tentative addresses, MAC', () => {
  const links = parseIpAddrJson(JSON.stringify([
    { ifindex: 2, ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, address: '02:00:c6:12:0a:01',
      addr_info: [{ family: 'inet', local: '198.18.10.1', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64, tentative: true }] },
    { ifindex: 3, ifname: 'eth1', flags: ['BROADCAST', 'MULTICAST', 'UP', 'NO-CARRIER'], address: '02:00:c6:12:0a:02' },
  ]));
  assert.equal(links[0].up, true);
  assert.equal(links[1].up, false, 'UP without LOWER_UP is down (keepalived: IFF_UP and IFF_RUNNING)');
  assert.deepEqual([...links[0].mac!], [2, 0, 0xc6, 0x12, 0x0a, 1]);
  assert.equal(links[0].addrs[1].tentative, true);
});

test('the fake ip runner models addresses so `ip -j addr show` reflects changes', async () => {
  const ip = new FakeIpRunner();
  ip.addLink('eth0', '02:00:00:00:00:01', ['198.18.10.1/24']);
  assert.equal((await ip.run(['-4', 'addr', 'add', '198.18.10.100/24', 'dev', 'eth0'])).ok, true);
  assert.match((await ip.run(['-4', 'addr', 'add', '198.18.10.100/24', 'dev', 'eth0'])).stderr, /File exists/);
  const shown = parseIpAddrJson((await ip.run(['-j', 'addr', 'show'])).stdout);
  assert.deepEqual(shown[0].addrs.map((a) => a.address), ['198.18.10.1', '198.18.10.100']);
  assert.equal((await ip.run(['-4', 'addr', 'del', '198.18.10.100/24', 'dev', 'eth0'])).ok, true);
  assert.deepEqual(ip.addressesOf('eth0'), ['198.18.10.1/24']);
});

test('the fake clock fires timers in order, cancelled ones never', async () => {
  const c = new FakeClock();
  const fired: number[] = [];
  c.setTimer(30, () => fired.push(30));
  const t = c.setTimer(10, () => fired.push(10));
  c.setTimer(20, () => fired.push(20));
  t.cancel();
  await c.advanceTo(25);
  assert.deepEqual(fired, [20]);
  assert.equal(c.now(), 25);
  await c.advanceTo(100);
  assert.deepEqual(fired, [20, 30]);
});

test('raw VRRP sockets open with CAP_NET_RAW and refuse a missing interface with ENODEV', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root (CAP_NET_RAW)');
  const { openVrrpSocket, SysError } = await import('../../src/sys/raw-socket.ts');
  assert.throws(() => openVrrpSocket({ family: 4, protocol: 112, ifname: 'kvr-no-such-if', multicastGroup: '224.0.0.18', localAddress: null }, () => {}),
    (e: unknown) => e instanceof SysError && e.errno === 19);
  const s = openVrrpSocket({ family: 4, protocol: 112, ifname: 'lo', multicastGroup: '224.0.0.18', localAddress: null }, () => {});
  await s.close();
});
