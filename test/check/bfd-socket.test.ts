// BFD's sockets (src/sys/bfd-socket.ts) on loopback: the sender's TTL / hop limit arrives in the
// receiver's IP_RECVTTL / IPV6_RECVHOPLIMIT control message, with the source and destination
// addresses; the source port lies in RFC 5881's range. Port 47784 (this suite's range), not 3784.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BFD_MAX_PORT, BFD_MIN_PORT, type BfdDatagram, openBfdReceiver, openBfdSender, sourcePortRange } from '../../src/sys/bfd-socket.ts';

test('bfd socket: source port range = ip_local_port_range ∩ 49152-65535, at least 1024 wide (keepalived)', () => {
  const rows: Array<[string, string | null, readonly [number, number]]> = [
    ['Linux default 32768-60999', '32768\t60999\n', [49152, 60999]],
    ['inside the range', '50000 60000\n', [50000, 60000]],
    ['too narrow: the whole BFD range', '60000\t60500\n', [BFD_MIN_PORT, BFD_MAX_PORT]],
    ['below the range entirely', '1024 40000', [BFD_MIN_PORT, BFD_MAX_PORT]],
    ['unreadable', null, [BFD_MIN_PORT, BFD_MAX_PORT]],
    ['garbage', 'x y', [BFD_MIN_PORT, BFD_MAX_PORT]],
  ];
  for (const [what, text, want] of rows) assert.deepEqual(sourcePortRange(text), want, what);
});

async function roundTrip(family: 4 | 6, loop: string, ttl: number): Promise<{ got: BfdDatagram; port: number }> {
  const seen: BfdDatagram[] = [];
  const rx = openBfdReceiver(family, 47784, (d) => seen.push(d));
  const tx = await openBfdSender({ family, neighbor: loop, port: 47784, source: loop, ttl });
  try {
    assert.equal(await tx.send(new Uint8Array([1, 2, 3])), true);
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(seen.length, 1, 'received');
    return { got: seen[0], port: tx.localPort };
  } finally {
    tx.close();
    await rx.close();
  }
}

test('bfd socket: IPv4 TTL 255 and TTL 7 arrive as sent (IP_TTL out, IP_RECVTTL in)', async () => {
  for (const ttl of [255, 7]) {
    const { got, port } = await roundTrip(4, '127.0.0.1', ttl);
    assert.deepEqual([...got.data], [1, 2, 3]);
    assert.equal(got.ttl, ttl);
    assert.equal(got.src, '127.0.0.1');
    assert.equal(got.dst, '127.0.0.1', 'IP_PKTINFO');
    assert.ok(port >= BFD_MIN_PORT && port <= BFD_MAX_PORT, `source port ${port}`);
  }
});

test('bfd socket: IPv6 hop limit arrives as sent (IPV6_UNICAST_HOPS out, IPV6_RECVHOPLIMIT in)', async (t) => {
  let r;
  try {
    r = await roundTrip(6, '::1', 255);
  } catch (e) {
    t.skip(`no IPv6 loopback: ${(e as Error).message}`);
    return;
  }
  assert.equal(r.got.ttl, 255);
  assert.equal(r.got.src, '::1');
});
