// The queue path without a kernel: the NFQUEUE netlink codec (sys/nfqueue.ts), packet parsing, and
// the answerer's verdicts — each the core's own decision, idempotent for a retransmitted SYN —
// plus the conntrack view (parse, state mapping, counts, counters, expiry) and DR flow-map entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Director } from '../../src/core/director.ts';
import { addr } from '../../src/core/addr.ts';
import type { ServiceKey } from '../../src/core/service.ts';
import { configCommand, parseDatagram, verdictMessage, nfqMessage } from '../../src/sys/nfqueue.ts';
import { parseConntrack } from '../../src/sys/conntrack.ts';
import { QueueAnswerer, flowOfPacket, packetFlow, type QueueSource, type QueuedPacket } from '../../src/dataplane/nft/queue.ts';
import { ConntrackView, flowMapEntries } from '../../src/dataplane/nft/conntrack-view.ts';
import { BackendIds, backendMark } from '../../src/dataplane/nft/marks.ts';
import { destKey } from '../../src/dataplane/nft/model.ts';

const KEY: ServiceKey = { kind: 'addr', protocol: 'tcp', vip: addr('198.18.0.100'), port: 80 };

function ipv4Tcp(src: string, sport: number, dst: string, dport: number, proto = 6): Uint8Array {
  const p = new Uint8Array(40);
  p[0] = 0x45;
  p[9] = proto;
  p.set(addr(src).bytes, 12);
  p.set(addr(dst).bytes, 16);
  p[20] = sport >> 8; p[21] = sport & 255; p[22] = dport >> 8; p[23] = dport & 255;
  p[33] = 0x02; // SYN
  return p;
}

test('nfqueue codec: config and verdict messages, packet parsing', () => {
  const bind = configCommand(1, 107, 1);
  const v = new DataView(bind.buffer);
  assert.equal(v.getUint32(0, true), bind.length);
  assert.equal(v.getUint16(4, true), (3 << 8) | 2, 'NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_CONFIG');
  assert.equal(v.getUint16(6, true), 1 | 4, 'NLM_F_REQUEST | NLM_F_ACK');
  assert.equal(v.getUint16(18, false), 107, 'res_id is big-endian');
  const verdict = verdictMessage(9, 107, 0x01020304, 1, 0x6b000002);
  assert.deepEqual([...verdict.subarray(20)], [
    12, 0, 2, 0, 0, 0, 0, 1, 1, 2, 3, 4, // NFQA_VERDICT_HDR { NF_ACCEPT, id } big-endian
    8, 0, 3, 0, 0x6b, 0, 0, 2, // NFQA_MARK
  ]);
  // A packet message as the kernel sends it: NFQA_PACKET_HDR, NFQA_MARK, NFQA_PAYLOAD.
  const payload = ipv4Tcp('198.18.0.10', 40000, '198.18.0.100', 80);
  const attr = (type: number, data: Uint8Array) => {
    const a = new Uint8Array((4 + data.length + 3) & ~3);
    new DataView(a.buffer).setUint16(0, 4 + data.length, true);
    new DataView(a.buffer).setUint16(2, type, true);
    a.set(data, 4);
    return a;
  };
  const hdr = new Uint8Array([0, 0, 0, 42, 8, 0, 0]);
  const msg = nfqMessage(0, 0, 0, 107, [attr(1, hdr), attr(3, new Uint8Array([0x6c, 0, 0, 1])), attr(10, payload)], 2);
  const twice = new Uint8Array(msg.length * 2);
  twice.set(msg, 0);
  twice.set(msg, msg.length);
  const { packets, errors } = parseDatagram(twice);
  assert.deepEqual(errors, []);
  assert.equal(packets.length, 2);
  assert.equal(packets[0].id, 42);
  assert.equal(packets[0].mark, 0x6c000001);
  assert.deepEqual([...packets[0].payload], [...payload]);
  // An NLMSG_ERROR with -EPERM.
  const err = new Uint8Array(36);
  const ev = new DataView(err.buffer);
  ev.setUint32(0, 36, true); ev.setUint16(4, 2, true); ev.setInt32(16, -1, true);
  assert.deepEqual(parseDatagram(err).errors, [1]);
});

test('flowOfPacket: the 5-tuple; a keepvs tag is not a fwmark, a user mark is', () => {
  const f = flowOfPacket(ipv4Tcp('198.18.0.10', 40000, '198.18.0.100', 80), 0x6c000001)!;
  assert.deepEqual([f.protocol, f.caddr.text, f.cport, f.vaddr.text, f.vport, f.fwmark], ['tcp', '198.18.0.10', 40000, '198.18.0.100', 80, undefined]);
  assert.equal(flowOfPacket(ipv4Tcp('198.18.0.10', 1, '198.18.0.100', 80, 17), 5)!.fwmark, 5);
  assert.equal(flowOfPacket(ipv4Tcp('198.18.0.10', 1, '198.18.0.100', 80, 1), 0), null, 'ICMP is not scheduled');
  assert.equal(flowOfPacket(new Uint8Array(10), 0), null);
});

class FakeQueue implements QueueSource {
  handler: (b: readonly QueuedPacket[]) => void = () => {};
  readonly verdicts: { id: number; verdict: number; mark: number | null }[] = [];
  flushes = 0;
  onPackets(h: (b: readonly QueuedPacket[]) => void): void { this.handler = h; }
  verdict(id: number, verdict: number, mark: number | null): void { this.verdicts.push({ id, verdict, mark }); }
  flush(): void { this.flushes++; }
  async close(): Promise<void> {}
}

test('queue answers: the core\'s decision as the mark, retransmits get the same answer, one write per batch', () => {
  const d = new Director({ seed: 1 });
  d.addService(KEY, { scheduler: 'wlc', flags: 0, timeout: 360, netmask: 0xffffffff, pe: null });
  for (const [rip, w] of [['198.18.1.11', 1], ['198.18.1.12', 3]] as const) d.addDest(KEY, { addr: addr(rip), port: 80, fwd: 'masq', weight: w, uThreshold: 0, lThreshold: 0 });
  const ids = new BackendIds();
  for (const dest of d.services()[0].dests) ids.take(destKey(d.services()[0], dest));
  // The same decisions from a twin director, to compare with.
  const twin = new Director({ seed: 1 });
  twin.addService(KEY, { scheduler: 'wlc', flags: 0, timeout: 360, netmask: 0xffffffff, pe: null });
  for (const [rip, w] of [['198.18.1.11', 1], ['198.18.1.12', 3]] as const) twin.addDest(KEY, { addr: addr(rip), port: 80, fwd: 'masq', weight: w, uThreshold: 0, lThreshold: 0 });
  const q = new FakeQueue();
  const drops: string[] = [];
  const a = new QueueAnswerer(q, d, () => 0, (k) => ids.get(k), (r) => drops.push(r));
  const batch = Array.from({ length: 8 }, (_, i) => ({ id: i, mark: 0x6c000001, payload: ipv4Tcp('198.18.0.10', 40000 + i, '198.18.0.100', 80) }));
  q.handler(batch);
  assert.equal(q.flushes, 1, 'one send for the batch');
  const expected = batch.map((p) => {
    const dec = twin.schedule(twin.services()[0], flowOfPacket(p.payload, 0)!, 0);
    return backendMark(ids.get(destKey(d.services()[0], d.services()[0].findDest(dec.dest!.addr, 80)!))!);
  });
  assert.deepEqual(q.verdicts.map((v) => v.mark), expected);
  assert.ok(q.verdicts.every((v) => v.verdict === 1));
  // A retransmitted SYN of connection 3: same mark, no new decision.
  const before = a.decisions;
  q.handler([{ ...batch[3], id: 100 }]);
  assert.equal(q.verdicts.at(-1)!.mark, expected[3]);
  assert.equal(a.decisions, before);
  // No service for this VIP:port: dropped, counted.
  q.handler([{ id: 101, mark: 0x6c000001, payload: ipv4Tcp('198.18.0.10', 1, '198.18.0.100', 81) }]);
  assert.deepEqual(q.verdicts.at(-1), { id: 101, verdict: 0, mark: null });
  assert.deepEqual(drops, ['queue-no-service']);
  // A non-first IPv4 fragment (offset 185 * 8): dropped, counted by its own reason.
  const frag = ipv4Tcp('198.18.0.10', 1, '198.18.0.100', 80);
  frag[6] = 0x20; frag[7] = 185;
  q.handler([{ id: 102, mark: 0x6c000001, payload: frag }]);
  assert.deepEqual(q.verdicts.at(-1), { id: 102, verdict: 0, mark: null });
  assert.deepEqual(drops, ['queue-no-service', 'queue-non-first-fragment']);
});

const CT = `tcp      6 431999 ESTABLISHED src=198.18.0.10 dst=198.18.0.100 sport=40000 dport=80 packets=5 bytes=400 src=198.18.1.11 dst=198.18.0.10 sport=80 dport=40000 packets=4 bytes=900 [ASSURED] mark=1795162113 use=1
tcp      6 118 TIME_WAIT src=198.18.0.10 dst=198.18.0.100 sport=40001 dport=80 packets=6 bytes=420 src=198.18.1.12 dst=198.18.0.10 sport=80 dport=40001 packets=5 bytes=1000 [ASSURED] mark=1795162114 use=1
udp      17 29 src=198.18.0.10 dst=198.18.0.100 sport=5353 dport=53 [UNREPLIED] src=198.18.1.11 dst=198.18.0.10 sport=53 dport=5353 mark=1795162113 use=1
tcp      6 100 ESTABLISHED src=198.18.0.10 dst=198.18.0.100 sport=40002 dport=80 src=198.18.1.11 dst=198.18.0.10 sport=80 dport=40002 mark=7 use=1
conntrack v1.4.7 (conntrack-tools): 4 flow entries have been shown.`;

test('parseConntrack reads conntrack -L lines', () => {
  const e = parseConntrack(CT);
  assert.equal(e.length, 4);
  assert.deepEqual([e[0].protocol, e[0].timeout, e[0].state, e[0].orig.sport, e[0].reply.src, e[0].orig.packets, e[0].reply.bytes, e[0].mark, e[0].assured],
    ['tcp', 431999, 'ESTABLISHED', 40000, '198.18.1.11', 5, 900, 0x6b000001, true]);
  assert.deepEqual([e[2].protocol, e[2].state, e[2].orig.dport], ['udp', '', 53]);
});

test('the conntrack view: adopted entries, IPVS states and counts, counters, expiry', () => {
  const d = new Director({ seed: 1 });
  d.addService(KEY, { scheduler: 'rr', flags: 0, timeout: 360, netmask: 0xffffffff, pe: null });
  for (const rip of ['198.18.1.12', '198.18.1.11']) d.addDest(KEY, { addr: addr(rip), port: 80, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0 });
  const svc = d.services()[0];
  const ids = new BackendIds();
  const keys = new Map<number, string>();
  for (const dest of svc.dests) { const k = destKey(svc, dest); keys.set(ids.take(k), k); } // .11 gets id 1
  const v = new ConntrackView({ dump: async () => [] }, (k) => svc.destIndex.get(k.split('#')[1]));
  v.setKeys(keys);
  const tcpOnly = parseConntrack(CT).filter((e) => e.protocol === 'tcp');
  v.apply(d, tcpOnly, 1000);
  const [rs11, rs12] = [svc.findDest(addr('198.18.1.11'), 80)!, svc.findDest(addr('198.18.1.12'), 80)!];
  assert.deepEqual([rs11.activeConns, rs11.inactConns, rs12.activeConns, rs12.inactConns], [1, 0, 0, 1]);
  assert.equal(v.openConnections, 2, 'the entry with a foreign mark is not ours');
  assert.deepEqual([rs11.stats.counters.inpkts, rs11.stats.counters.outbytes, svc.stats.counters.conns], [5, 900, 2]);
  const states = [...d.conns.values()].map((c) => `${c.cport} ${c.state} ${c.expires}`).sort();
  assert.deepEqual(states, ['40000 1 432000000', '40001 5 119000'], 'ESTABLISHED / TIME_WAIT with conntrack\'s remaining time');
  // Next dump: the established one moved on; counters add only the difference.
  const next = parseConntrack(CT.replace('431999 ESTABLISHED', '100 FIN_WAIT').replace('packets=5 bytes=400', 'packets=7 bytes=500')).filter((e) => e.protocol === 'tcp' && e.orig.sport === 40000);
  v.apply(d, next, 2000);
  assert.deepEqual([rs11.activeConns, rs11.inactConns, rs12.inactConns], [0, 1, 0], 'FIN_WAIT is inactive; the entry gone from conntrack left');
  assert.equal(rs11.stats.counters.inpkts, 7);
  assert.equal([...d.conns.values()].length, 1);
  v.apply(d, [], 3000);
  assert.equal([...d.conns.values()].length, 0);
  assert.deepEqual([rs11.activeConns, rs11.inactConns], [0, 0]);
});

test('DR flow-map entries become ESTABLISHED connections', () => {
  const json = '{"nftables": [{"metainfo": {}}, {"map": {"family": "ip", "name": "flows_s1", "elem": [[{"elem": {"val": {"concat": ["198.18.0.10", 1234]}, "timeout": 900, "expires": 899}}, 1795162113]]}}]}';
  const e = flowMapEntries(json, 'tcp', '198.18.0.100', 80);
  assert.equal(e.length, 1);
  assert.deepEqual([e[0].orig.src, e[0].orig.sport, e[0].orig.dst, e[0].orig.dport, e[0].state, e[0].timeout, e[0].mark], ['198.18.0.10', 1234, '198.18.0.100', 80, 'ESTABLISHED', 899, 0x6b000001]);
  assert.deepEqual(flowMapEntries('not json', 'tcp', '198.18.0.100', 80), []);
  // IPv6 keys are port first (render.ts: flowKey), as `nft -j list map ip6` prints them.
  const json6 = '{"nftables": [{"map": {"family": "ip6", "name": "flows_s1", "elem": [[{"elem": {"val": {"concat": [1234, "2001:2::10"]}, "timeout": 60, "expires": 59}}, 1795162113]]}}]}';
  const e6 = flowMapEntries(json6, 'tcp', '2001:2::100', 80);
  assert.deepEqual([e6[0].orig.src, e6[0].orig.sport, e6[0].reply.dst, e6[0].reply.dport], ['2001:2::10', 1234, '2001:2::10', 1234]);
});

/** A minimal IPv6 packet: the fixed 40-byte header, then source and destination ports. */
function ipv6(src: string, sport: number, dst: string, dport: number, next = 6): Uint8Array {
  const p = new Uint8Array(60);
  p[0] = 0x60;
  p[6] = next;
  p.set(addr(src).bytes, 8);
  p.set(addr(dst).bytes, 24);
  p[40] = sport >> 8; p[41] = sport & 0xff; p[42] = dport >> 8; p[43] = dport & 0xff;
  return p;
}

test('flowOfPacket: IPv6 first packets (TCP, UDP); ICMPv6 and truncated packets are not scheduled', async (t) => {
  const rows: { desc: string; p: Uint8Array; want: string | null }[] = [
    { desc: 'TCP', p: ipv6('2001:2::10', 40000, '2001:2::100', 80), want: 'tcp [2001:2::10]:40000 -> [2001:2::100]:80' },
    { desc: 'UDP', p: ipv6('2001:2::10', 5353, '2001:2::100', 53, 17), want: 'udp [2001:2::10]:5353 -> [2001:2::100]:53' },
    { desc: 'a hop-by-hop header with no room for itself', p: ipv6('2001:2::10', 1, '2001:2::100', 80, 0).subarray(0, 46), want: null },
    { desc: 'ICMPv6', p: ipv6('2001:2::10', 1, '2001:2::100', 80, 58), want: null },
    { desc: 'truncated', p: ipv6('2001:2::10', 1, '2001:2::100', 80).subarray(0, 42), want: null },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const f = flowOfPacket(r.p, 0);
      assert.equal(f === null ? null : `${f.protocol} [${f.caddr.text}]:${f.cport} -> [${f.vaddr.text}]:${f.vport}`, r.want);
    });
  }
});

/**
 * An IPv6 extension header of `size` bytes whose Next Header is `next`, its length byte written by
 * its own rule: AH in 4-octet units minus 2 (RFC 4302 §2.2), the fragment header fixed at 8 bytes
 * with `fragOffset` (8-octet units) and the More flag set, the others in 8-octet units minus 1.
 */
function ext(kind: number, next: number, size: number, fragOffset = 0): number[] {
  const h: number[] = new Array(size).fill(0);
  h[0] = next;
  if (kind === 44) { const v = (fragOffset << 3) | 1; h[2] = v >> 8; h[3] = v & 0xff; } else if (kind === 51) h[1] = size / 4 - 2;
  else h[1] = size / 8 - 1;
  // Filler that would be read as a wrong next header if a length were misread.
  for (let i = 4; i < size; i++) h[i] = 0x3a;
  return h;
}

/** An IPv6 packet: the fixed header (Next Header `first`), the chain, then ports 40000 -> 80 (+16 bytes). */
function ipv6Chain(first: number, chain: number[][], tail = 20): Uint8Array {
  const head = ipv6('2001:2::10', 0, '2001:2::100', 0, first).subarray(0, 40);
  const l4 = [40000 >> 8, 40000 & 0xff, 0, 80, ...new Array(16).fill(0)].slice(0, tail);
  return new Uint8Array([...head, ...chain.flat(), ...l4]);
}

test('packetFlow walks the IPv6 extension header chain to the transport header (as ipv6_find_hdr)', async (t) => {
  const TCP = 6; const UDP = 17; const SCTP = 132;
  const HOP = 0; const RT = 43; const FRAG = 44; const AH = 51; const DST = 60;
  const rows: { desc: string; p: Uint8Array; want: string }[] = [
    { desc: 'hop-by-hop (8 bytes) then TCP', p: ipv6Chain(HOP, [ext(HOP, TCP, 8)]), want: 'tcp 40000 -> 80' },
    { desc: 'hop-by-hop with options (16 bytes) then UDP', p: ipv6Chain(HOP, [ext(HOP, UDP, 16)]), want: 'udp 40000 -> 80' },
    { desc: 'routing (24 bytes) then TCP', p: ipv6Chain(RT, [ext(RT, TCP, 24)]), want: 'tcp 40000 -> 80' },
    { desc: 'destination options then SCTP', p: ipv6Chain(DST, [ext(DST, SCTP, 8)]), want: 'sctp 40000 -> 80' },
    { desc: 'a first fragment (offset 0, More set) then TCP', p: ipv6Chain(FRAG, [ext(FRAG, TCP, 8)]), want: 'tcp 40000 -> 80' },
    { desc: 'AH, 24 bytes: (len + 2) * 4, not the 8-octet rule', p: ipv6Chain(AH, [ext(AH, TCP, 24)]), want: 'tcp 40000 -> 80' },
    { desc: 'AH, 12 bytes (not a multiple of 8) then UDP', p: ipv6Chain(AH, [ext(AH, UDP, 12)]), want: 'udp 40000 -> 80' },
    {
      desc: 'the whole RFC 8200 order: hop, dst, routing, fragment, AH, dst, TCP',
      p: ipv6Chain(HOP, [ext(HOP, DST, 8), ext(DST, RT, 16), ext(RT, FRAG, 24), ext(FRAG, AH, 8), ext(AH, DST, 16), ext(DST, TCP, 8)]),
      want: 'tcp 40000 -> 80',
    },
    { desc: '12 destination-options headers: the kernel\'s cap, still walked', p: ipv6Chain(DST, [...Array.from({ length: 11 }, () => ext(DST, DST, 8)), ext(DST, TCP, 8)]), want: 'tcp 40000 -> 80' },
    { desc: '13 extension headers: beyond the cap, bad', p: ipv6Chain(DST, [...Array.from({ length: 12 }, () => ext(DST, DST, 8)), ext(DST, TCP, 8)]), want: 'queue-bad-packet' },
    { desc: 'a non-first fragment: no transport header, its own reason', p: ipv6Chain(FRAG, [ext(FRAG, TCP, 8, 185)]), want: 'queue-non-first-fragment' },
    { desc: 'a non-first fragment after hop-by-hop', p: ipv6Chain(HOP, [ext(HOP, FRAG, 8), ext(FRAG, UDP, 8, 1)]), want: 'queue-non-first-fragment' },
    { desc: 'ESP: not walked (encrypted)', p: ipv6Chain(50, [ext(DST, TCP, 8)]), want: 'queue-bad-packet' },
    { desc: 'No Next Header (59) after hop-by-hop', p: ipv6Chain(HOP, [ext(HOP, 59, 8)]), want: 'queue-bad-packet' },
    { desc: 'ICMPv6 after destination options', p: ipv6Chain(DST, [ext(DST, 58, 8)]), want: 'queue-bad-packet' },
    { desc: 'an extension header running past the packet', p: ipv6Chain(RT, [ext(RT, TCP, 24).slice(0, 6)], 0), want: 'queue-bad-packet' },
    { desc: 'a length byte pointing past the packet', p: ipv6Chain(HOP, [[TCP, 200, 0, 0, 0, 0, 0, 0]]), want: 'queue-bad-packet' },
    { desc: 'the transport header cut short after the chain', p: ipv6Chain(HOP, [ext(HOP, TCP, 8)], 3), want: 'queue-bad-packet' },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const got = packetFlow(r.p, 0);
      assert.equal(got.ok ? `${got.flow.protocol} ${got.flow.cport} -> ${got.flow.vport}` : got.reason, r.want);
      if (got.ok) assert.deepEqual([got.flow.caddr.text, got.flow.vaddr.text], ['2001:2::10', '2001:2::100']);
    });
  }
});
