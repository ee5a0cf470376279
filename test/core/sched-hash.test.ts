// sh and dh (net/netfilter/ipvs/ip_vs_sh.c, ip_vs_dh.c) and hash_32 (include/linux/hash.h).
// Expected buckets are computed here with BigInt from the hash_32 definition (high 8 bits of
// v * 0x61C88647 mod 2^32) and the tables from the reassign loops of the two files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr } from '../../src/core/addr.ts';
import { DEST_F, Dest } from '../../src/core/dest.ts';
import { SVC_F, Service, destKeyId } from '../../src/core/service.ts';
import { hash32 } from '../../src/core/sched/hash.ts';
import { createSh, shBuckets } from '../../src/core/sched/sh.ts';
import { createDh, dhBuckets } from '../../src/core/sched/dh.ts';
import type { SchedContext, SchedPacket, SchedulerFactory } from '../../src/core/sched/scheduler.ts';

const COMMIT: SchedContext = { now: 0, random: () => 0, commit: true };
const EXPLAIN: SchedContext = { now: 0, random: () => 0, commit: false };

/** hash_32 from its definition, with BigInt so no 32-bit multiply trick is involved. */
function hash32Ref(v: number, bits: number): number {
  return Number(((BigInt(v >>> 0) * 0x61c88647n) & 0xffffffffn) >> BigInt(32 - bits));
}

function u32(text: string): number {
  return text.split('.').reduce((a, b) => a * 256 + Number(b), 0);
}

/** A TCP service with dests (list order as given: index 0 = list head) and a scheduler. */
function build(factory: SchedulerFactory, dests: { ip: string; weight: number }[], flags = 0): { svc: Service; d: Dest[] } {
  const svc = new Service({ kind: 'addr', protocol: 'tcp', vip: addr('192.0.2.1'), port: 80 }, {
    scheduler: 'sh', flags, timeout: 360, netmask: 0xffffffff, pe: null,
  });
  const d = dests.map((x) => new Dest(svc, { addr: addr(x.ip), port: 80, fwd: 'masq', weight: x.weight, uThreshold: 0, lThreshold: 0 }));
  for (const x of d) {
    svc.dests.push(x);
    svc.destIndex.set(destKeyId(x.addr, x.port), x);
  }
  svc.scheduler = factory(svc);
  return { svc, d };
}

function pkt(client: string, cport = 40000, vip = '192.0.2.1'): SchedPacket {
  return { caddr: addr(client), cport, vaddr: addr(vip), vport: 80 };
}

test('hash_32 keeps the high bits of the golden-ratio product', () => {
  const rows = [
    { desc: 'zero', v: 0, bits: 8, want: 0 },
    { desc: 'one: top byte of 0x61C88647', v: 1, bits: 8, want: 0x61 },
    { desc: 'two wraps into 0xC3', v: 2, bits: 8, want: 0xc3 },
    { desc: 'client 198.51.100.7, 8 bits', v: u32('198.51.100.7'), bits: 8, want: 171 },
    { desc: 'client 198.51.100.7 + port 40000, 8 bits', v: u32('198.51.100.7') + 40000, bits: 8, want: 79 },
    { desc: 'VIP 192.0.2.1, 8 bits', v: u32('192.0.2.1'), bits: 8, want: 50 },
    { desc: 'VIP 192.0.2.1, 10 bits (lblc)', v: u32('192.0.2.1'), bits: 10, want: 203 },
    { desc: 'all ones, 32 bits', v: 0xffffffff, bits: 32, want: (0x100000000 - 0x61c88647) >>> 0 },
  ];
  for (const r of rows) {
    assert.equal(hash32Ref(r.v, r.bits), r.want, `reference: ${r.desc}`);
    assert.equal(hash32(r.v, r.bits), r.want, r.desc);
  }
});

// List order A (w3), B (w0), C (w2): ip_vs_sh_reassign moves on when ++count >= weight, so the
// pattern is A A A B C C repeated; B (weight 0) still gets one bucket per cycle.
const SH_LIST = [
  { ip: '10.0.0.1', weight: 3 },
  { ip: '10.0.0.2', weight: 0 },
  { ip: '10.0.0.3', weight: 2 },
];

test('sh bucket table: weighted walk, a weight-0 dest keeps one bucket per cycle', () => {
  const { svc, d } = build(createSh, SH_LIST);
  const [A, B, C] = d;
  const pattern = [A, A, A, B, C, C];
  const table = shBuckets(svc.dests);
  assert.equal(table.length, 256);
  for (let i = 0; i < 256; i++) assert.equal(table[i], pattern[i % 6], `bucket ${i}`);
  const counts = [A, B, C].map((x) => table.filter((t) => t === x).length);
  // 256 = 42 cycles of 6 + A A A B.
  assert.deepEqual(counts, [42 * 3 + 3, 42 + 1, 42 * 2]);
  const explicit = [
    { bucket: 0, want: A }, { bucket: 3, want: B }, { bucket: 5, want: C },
    { bucket: 171, want: B }, { bucket: 252, want: A }, { bucket: 255, want: B },
  ];
  for (const e of explicit) assert.equal(table[e.bucket], e.want, `bucket ${e.bucket}`);
});

test('sh bucket table edge cases', () => {
  const { svc } = build(createSh, []);
  assert.ok(shBuckets(svc.dests).every((x) => x === null), 'no dests: every bucket empty');
  const one = build(createSh, [{ ip: '10.0.0.9', weight: 0 }]);
  assert.ok(shBuckets(one.svc.dests).every((x) => x === one.d[0]), 'a lone weight-0 dest fills the table');
  const heavy = build(createSh, [{ ip: '10.0.0.1', weight: 300 }, { ip: '10.0.0.2', weight: 1 }]);
  assert.ok(shBuckets(heavy.svc.dests).every((x) => x === heavy.d[0]), 'a weight above 256 takes every bucket');
});

test('sh lookups without and with sh-fallback and sh-port', () => {
  // Buckets: 198.51.100.7 -> 171 (B), with port 40000 -> 79 (A); 198.51.100.8 -> 12 (A);
  // 203.0.113.9 -> 64 (C). Fallback probes bucket (((k + h) & 255) + h) & 255 for k = 0, 1, ...,
  // i.e. 86, 87, 88 ... for h = 171 (ip_vs_sh_get_fallback feeds roffset back in as the offset).
  const rows: {
    desc: string; flags: number; client: string; overload?: number[]; want: number | null; reason: string; detail: string;
  }[] = [
    { desc: 'plain pick', flags: 0, client: '198.51.100.8', want: 0, reason: 'pick', detail: 'bucket 12' },
    { desc: 'plain pick of C', flags: 0, client: '203.0.113.9', want: 2, reason: 'pick', detail: 'bucket 64' },
    { desc: 'hashed to weight-0 B, no fallback', flags: 0, client: '198.51.100.7', want: null, reason: 'unavailable', detail: 'bucket 171' },
    { desc: 'the client port is ignored without sh-port', flags: 0, client: '198.51.100.7', want: null, reason: 'unavailable', detail: 'bucket 171' },
    { desc: 'sh-port: client port moves the bucket to 79 (A)', flags: SVC_F.SCHED2, client: '198.51.100.7', want: 0, reason: 'pick', detail: 'bucket 79' },
    { desc: 'sh-fallback: first probe bucket 86 is A', flags: SVC_F.SCHED1, client: '198.51.100.7', want: 0, reason: 'fallback', detail: 'bucket 171 unavailable, fallback bucket 86' },
    { desc: 'sh-fallback with A overloaded: 86 (A), 87 (B) skipped, 88 is C', flags: SVC_F.SCHED1, client: '198.51.100.7', overload: [0], want: 2, reason: 'fallback', detail: 'bucket 171 unavailable, fallback bucket 88' },
    { desc: 'sh-fallback finds nothing when A and C are overloaded', flags: SVC_F.SCHED1, client: '198.51.100.7', overload: [0, 2], want: null, reason: 'unavailable', detail: 'bucket 171' },
    { desc: 'OVERLOAD on the hashed dest, no fallback', flags: 0, client: '203.0.113.9', overload: [2], want: null, reason: 'unavailable', detail: 'bucket 64' },
    { desc: 'sh-fallback + sh-port: bucket 79 is A, usable', flags: SVC_F.SCHED1 | SVC_F.SCHED2, client: '198.51.100.7', want: 0, reason: 'pick', detail: 'bucket 79' },
  ];
  for (const r of rows) {
    const { svc, d } = build(createSh, SH_LIST, r.flags);
    for (const i of r.overload ?? []) d[i].flags |= DEST_F.OVERLOAD;
    const want = r.want === null ? null : d[r.want];
    const p = pkt(r.client);
    const got = svc.scheduler.schedule(svc, p, COMMIT);
    assert.equal(got.dest, want, r.desc);
    assert.equal(got.reason, r.reason, r.desc);
    assert.equal(got.detail, undefined, `${r.desc}: no detail when committing`);
    const ex = svc.scheduler.schedule(svc, p, EXPLAIN);
    assert.equal(ex.dest, want, `${r.desc} (explain)`);
    assert.equal(ex.detail, r.detail, `${r.desc} (explain detail)`);
  }
});

test('sh with no dests has nothing to pick', () => {
  const { svc } = build(createSh, [], SVC_F.SCHED1);
  const got = svc.scheduler.schedule(svc, pkt('198.51.100.7'), COMMIT);
  assert.deepEqual(got, { dest: null, reason: 'no-dest' });
});

test('sh registers add_dest, del_dest and upd_dest and rebuilds on each', () => {
  const { svc, d } = build(createSh, SH_LIST);
  const [A, , C] = d;
  const sched = svc.scheduler;
  assert.ok(sched.addDest && sched.delDest && sched.updDest, 'all three hooks');
  // upd_dest: A's weight 3 -> 1 gives pattern A B C C; bucket 171 = 42*4 + 3 -> C.
  A.weight = 1;
  sched.updDest?.(svc, A);
  assert.equal(sched.schedule(svc, pkt('198.51.100.7'), COMMIT).dest, C);
  // add_dest at the list head: D(1) A(1) B(0) C(2) -> D A B C C; bucket 171 = 34*5 + 1 -> A.
  const D = new Dest(svc, { addr: addr('10.0.0.4'), port: 80, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0 });
  svc.dests.unshift(D);
  sched.addDest?.(svc, D);
  assert.equal(shBuckets(svc.dests)[0], D);
  assert.equal(sched.schedule(svc, pkt('198.51.100.7'), COMMIT).dest, A);
  // del_dest of A: D(1) B(0) C(2) -> D B C C; bucket 171 -> C; bucket 12 -> D.
  svc.dests.splice(1, 1);
  sched.delDest?.(svc, A, 1);
  assert.equal(sched.schedule(svc, pkt('198.51.100.7'), COMMIT).dest, C);
  assert.equal(sched.schedule(svc, pkt('198.51.100.8'), COMMIT).dest, D);
});

test('dh bucket table: round robin over the list, weights ignored', () => {
  const { svc, d } = build(createDh, [
    { ip: '10.0.0.1', weight: 5 },
    { ip: '10.0.0.2', weight: 0 },
    { ip: '10.0.0.3', weight: 1 },
  ]);
  const table = dhBuckets(svc.dests);
  assert.equal(table.length, 256);
  for (let i = 0; i < 256; i++) assert.equal(table[i], d[i % 3], `bucket ${i}`);
  assert.deepEqual(d.map((x) => table.filter((t) => t === x).length), [86, 85, 85]);
  assert.ok(dhBuckets([]).every((x) => x === null));
});

test('dh hashes the packet destination, never falls back', () => {
  // VIP 192.0.2.1 -> bucket 50 (50 % 3 = 2: C); 192.0.2.2 -> 148 (148 % 3 = 1: B, weight 0);
  // 203.0.113.9 -> 64 (64 % 3 = 1: B). The client address does not matter.
  const list = [{ ip: '10.0.0.1', weight: 5 }, { ip: '10.0.0.2', weight: 0 }, { ip: '10.0.0.3', weight: 1 }];
  const rows: { desc: string; vip: string; client: string; mutate?: (d: Dest[]) => void; want: number | null; reason: string; detail: string }[] = [
    { desc: 'VIP 192.0.2.1 to C', vip: '192.0.2.1', client: '198.51.100.7', want: 2, reason: 'pick', detail: 'bucket 50' },
    { desc: 'another client, same VIP, same dest', vip: '192.0.2.1', client: '203.0.113.9', want: 2, reason: 'pick', detail: 'bucket 50' },
    { desc: 'weight-0 B is unavailable', vip: '192.0.2.2', client: '198.51.100.7', want: null, reason: 'unavailable', detail: 'bucket 148' },
    { desc: 'OVERLOAD on C', vip: '192.0.2.1', client: '198.51.100.7', mutate: (d) => { d[2].flags |= DEST_F.OVERLOAD; }, want: null, reason: 'unavailable', detail: 'bucket 50' },
    { desc: 'AVAILABLE cleared on C', vip: '192.0.2.1', client: '198.51.100.7', mutate: (d) => { d[2].flags &= ~DEST_F.AVAILABLE; }, want: null, reason: 'unavailable', detail: 'bucket 50' },
    { desc: 'fallback flag means nothing to dh', vip: '192.0.2.2', client: '198.51.100.7', want: null, reason: 'unavailable', detail: 'bucket 148' },
  ];
  for (const r of rows) {
    const { svc, d } = build(createDh, list, SVC_F.SCHED1);
    r.mutate?.(d);
    const want = r.want === null ? null : d[r.want];
    const got = svc.scheduler.schedule(svc, pkt(r.client, 1234, r.vip), COMMIT);
    assert.equal(got.dest, want, r.desc);
    assert.equal(got.reason, r.reason, r.desc);
    const ex = svc.scheduler.schedule(svc, pkt(r.client, 1234, r.vip), EXPLAIN);
    assert.equal(ex.detail, r.detail, `${r.desc} (explain)`);
  }
});

test('dh registers add_dest and del_dest but no upd_dest', () => {
  const { svc, d } = build(createDh, [{ ip: '10.0.0.1', weight: 1 }, { ip: '10.0.0.2', weight: 1 }]);
  const sched = svc.scheduler;
  assert.equal(sched.updDest, undefined);
  assert.ok(sched.addDest && sched.delDest);
  // 192.0.2.1 -> bucket 50 -> index 0 of two.
  assert.equal(sched.schedule(svc, pkt('198.51.100.7'), COMMIT).dest, d[0]);
  svc.dests.splice(0, 1);
  sched.delDest?.(svc, d[0], 0);
  assert.equal(sched.schedule(svc, pkt('198.51.100.7'), COMMIT).dest, d[1]);
});
