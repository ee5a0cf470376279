// UDP through the proxy plane with the real Director: a client flow (address, port) is one entry
// that every datagram re-arms for the UDP timeout (ip_vs_proto_udp.c); -o schedules every datagram
// (ip_vs_core.c: ONE_PACKET entries are never hashed). Real sockets on 127.0.0.1 only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import type { Director } from '../../src/core/director.ts';
import type { Conn } from '../../src/core/conn/conn.ts';
import { connStateName } from '../../src/core/conn/protocol.ts';
import { SVC_F } from '../../src/core/service.ts';
import { Harness, LOOPBACK, addBackendDest, serviceOptions, udpKey, until, within } from './proxy-harness.ts';

function udpConns(d: Director, vport: number): Conn[] {
  return [...d.conns.values()].filter((c) => c.vport === vport && c.protocol === 'udp');
}

async function udpService(h: Harness, n: number, flags = 0) {
  const backends = [];
  for (let i = 0; i < n; i++) backends.push(await h.udpBackend(`u${i}`));
  const vport = await h.freePort();
  const d = h.director();
  assert.ok(d.addService(udpKey(vport), serviceOptions('rr', { flags })).ok);
  const dests = backends.map((b) => addBackendDest(d, udpKey(vport), b.port));
  const plane = h.plane();
  await plane.sync(d);
  return { backends, vport, d, dests, plane };
}

test('UDP: a client flow sticks to its dest, new flows follow rr; replies come from VIP:port', async (t) => {
  const h = new Harness();
  t.after(() => h.close());
  const { backends, vport, d, dests, plane } = await udpService(h, 3);
  const c1 = await h.udpClient();
  const c2 = await h.udpClient();
  const r1 = [];
  for (let i = 0; i < 3; i++) r1.push(await h.udpAsk(c1, vport, `a${i}`));
  const r2 = await h.udpAsk(c2, vport, 'b0');
  // rr from the list head (u2 u1 u0): flow 1 -> u2 for all its datagrams, flow 2 -> u1.
  assert.deepEqual(r1.map((r) => r.data), ['u2:a0', 'u2:a1', 'u2:a2']);
  assert.equal(r2.data, 'u1:b0');
  for (const r of [...r1, r2]) assert.equal(r.from, `127.0.0.1:${vport}`);
  // The real server sees the director's address, not the client's (a full proxy).
  assert.ok(backends[2].seen.every((s) => !s.from.endsWith(`:${c1.address().port}`)));
  const entries = udpConns(d, vport);
  assert.equal(entries.length, 2);
  const e1 = entries.find((c) => c.cport === c1.address().port)!;
  assert.equal(connStateName(e1), 'UDP');
  assert.deepEqual([e1.inPkts, e1.outPkts, e1.inBytes, e1.outBytes], [3, 3, 6, 15]);
  // UDP entries are never active (ip_vs_proto_udp.c has no active state).
  assert.deepEqual(dests.map((x) => [x.activeConns, x.inactConns]), [[0, 0], [0, 1], [0, 1]]);
  assert.equal(e1.timeout, 300_000);
  assert.equal(plane.stats().openConnections, 2);
});

test('UDP: a flow expires after the UDP timeout with no datagram; the next one is scheduled afresh (--set udp)', async (t) => {
  const h = new Harness();
  t.after(() => h.close());
  const { vport, d, plane } = await udpService(h, 2);
  const c = await h.udpClient();
  assert.equal((await h.udpAsk(c, vport, 'x')).data, 'u1:x');
  h.now += 299_000;
  plane.sweep();
  assert.equal((await h.udpAsk(c, vport, 'y')).data, 'u1:y', 'the reply re-armed it');
  h.now += 300_000;
  plane.sweep();
  assert.equal(plane.stats().openConnections, 0);
  assert.equal(udpConns(d, vport).length, 0);
  assert.equal((await h.udpAsk(c, vport, 'z')).data, 'u0:z');
  assert.ok(d.timeouts.setTimeouts({ tcp: 0, tcpfin: 0, udp: 5 }).ok);
  assert.equal((await h.udpAsk(c, vport, 'w')).data, 'u0:w');
  h.now += 6000;
  plane.sweep();
  assert.equal((await h.udpAsk(c, vport, 'v')).data, 'u1:v');
});

test('UDP one-packet scheduling (-o): every datagram is scheduled, no entry is kept', async (t) => {
  const h = new Harness();
  t.after(() => h.close());
  const { vport, d } = await udpService(h, 3, SVC_F.ONEPACKET);
  const c = await h.udpClient();
  const got = [];
  for (let i = 0; i < 4; i++) got.push((await h.udpAsk(c, vport, `p${i}`)).data);
  assert.deepEqual(got, ['u2:p0', 'u1:p1', 'u0:p2', 'u2:p3']);
  assert.equal(udpConns(d, vport).length, 0);
  assert.equal(d.services()[0].stats.counters.conns, 4);
});

test('UDP -o: every datagram is counted in the dest and service stats (ip_vs_in: in_stats before the entry is freed)', async (t) => {
  const h = new Harness();
  t.after(() => h.close());
  const { vport, d, dests } = await udpService(h, 1, SVC_F.ONEPACKET);
  const c = await h.udpClient();
  await h.udpAsk(c, vport, 'hello');
  assert.deepEqual([dests[0].stats.counters.inpkts, dests[0].stats.counters.inbytes], [1, 5]);
  assert.deepEqual([d.services()[0].stats.counters.inpkts, d.services()[0].stats.counters.inbytes], [1, 5]);
});

test('UDP with PROXY protocol v2: every datagram to the real server starts with the header', async (t) => {
  const h = new Harness();
  t.after(() => h.close());
  const { backends, vport, d, plane } = await udpService(h, 1);
  assert.ok(plane.setProxyProtocol(d.services()[0].id, null, 'v2').ok);
  const c = await h.udpClient();
  await h.udpAsk(c, vport, 'q1');
  await h.udpAsk(c, vport, 'q2');
  assert.equal(backends[0].seen.length, 2);
  for (const [i, s] of backends[0].seen.entries()) {
    const b = Buffer.from(s.data, 'latin1');
    assert.equal(b.subarray(0, 12).toString('hex'), '0d0a0d0a000d0a515549540a');
    // v2 PROXY, INET + DGRAM, 12 bytes of addresses: client 127.0.0.1:port -> VIP 127.0.0.1:vport.
    assert.deepEqual([b[12], b[13], b.readUInt16BE(14)], [0x21, 0x12, 12]);
    assert.deepEqual([...b.subarray(16, 24)], [127, 0, 0, 1, 127, 0, 0, 1]);
    assert.deepEqual([b.readUInt16BE(24), b.readUInt16BE(26)], [c.address().port, vport]);
    assert.equal(b.subarray(28).toString(), `q${i + 1}`);
  }
});

test('UDP: a deleted dest keeps its flows until closeDest(); a real server that is gone is a counted drop', async (t) => {
  const h = new Harness();
  t.after(() => h.close());
  const { vport, d, dests, plane } = await udpService(h, 2);
  const c = await h.udpClient();
  assert.equal((await h.udpAsk(c, vport, 'a')).data, 'u1:a');
  assert.ok(d.deleteDest(udpKey(vport), LOOPBACK, dests[1].port, h.now).ok);
  await plane.sync(d);
  assert.equal((await h.udpAsk(c, vport, 'b')).data, 'u1:b', 'the open flow carries on');
  plane.closeDest(dests[1]);
  assert.equal(plane.stats().drops['dest-closed'], 1);
  assert.equal((await h.udpAsk(c, vport, 'c')).data, 'u0:c', 'a new flow to the remaining dest');

  // A dest with nothing listening: the kernel's ICMP port unreachable shows up as a counted drop.
  const dead = await h.freePort();
  d.editDest(udpKey(vport), { addr: LOOPBACK, port: dests[0].port, fwd: 'masq', weight: 0, uThreshold: 0, lThreshold: 0 });
  addBackendDest(d, udpKey(vport), dead);
  const c2 = await h.udpClient();
  c2.send('void', vport, '127.0.0.1');
  c2.send('void again', vport, '127.0.0.1');
  await until(() => (plane.stats().drops['rs-refused'] ?? 0) >= 1, 2000, 'rs-refused counted');
  // Everything else still works.
  assert.equal((await h.udpAsk(c, vport, 'd')).data, 'u0:d');
});

test('UDP: an empty datagram is forwarded like any other; stop() closes the service socket', async (t) => {
  const h = new Harness();
  t.after(() => h.close());
  const { vport, plane } = await udpService(h, 1);
  const c = await h.udpClient();
  assert.equal((await h.udpAsk(c, vport, '')).data, 'u0:');
  await within(plane.stop(0), 2000, 'stop');
  assert.equal(plane.stats().openConnections, 0);
  // The VIP port is free again.
  const probe = dgram.createSocket('udp4');
  t.after(() => probe.close());
  await within(new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.bind(vport, '127.0.0.1', () => resolve());
  }), 1000, 'rebind the VIP port');
});
