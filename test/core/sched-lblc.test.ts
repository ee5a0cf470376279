// lblc and lblcr (net/netfilter/ipvs/ip_vs_lblc.c, ip_vs_lblcr.c): per-destination-address
// tables, the is_overloaded test, the weighted least-connection fallback, lblcr's set shrinking
// after lblcr_expiration, and the GC timer (every 60 s; every 30th run a full pass with the
// expiration sysctl; otherwise, above 16384 counted entries, a pass dropping entries idle >= 6 min
// bucket by bucket from the rover). Time is injected in ms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr, addrFromU32 } from '../../src/core/addr.ts';
import { DEST_F, Dest } from '../../src/core/dest.ts';
import { Service, destKeyId } from '../../src/core/service.ts';
import { lblcFactory, createLblc } from '../../src/core/sched/lblc.ts';
import { lblcrFactory, createLblcr } from '../../src/core/sched/lblcr.ts';
import { localityWlc, localityOverloaded } from '../../src/core/sched/locality.ts';
import type { SchedContext, SchedPacket } from '../../src/core/sched/scheduler.ts';

const MIN = 60 * 1000;

function at(now: number, commit = true): SchedContext {
  return { now, random: () => 0, commit };
}

function service(): Service {
  return new Service({ kind: 'fwmark', fwmark: 1, family: 4 }, { scheduler: 'lblc', flags: 0, timeout: 360, netmask: 0xffffffff, pe: null });
}

/** Dests 10.0.0.1.. in list order (index 0 = list head). */
function withDests(svc: Service, weights: number[]): Dest[] {
  const out = weights.map((w, i) => new Dest(svc, { addr: addr(`10.0.0.${i + 1}`), port: 80, fwd: 'route', weight: w, uThreshold: 0, lThreshold: 0 }));
  for (const d of out) {
    svc.dests.push(d);
    svc.destIndex.set(destKeyId(d.addr, d.port), d);
  }
  return out;
}

function load(d: Dest, active: number, inactive = 0): void {
  d.activeConns = active;
  d.inactConns = inactive;
}

function to(vip: string): SchedPacket {
  return { caddr: addr('198.51.100.7'), cport: 40000, vaddr: addr(vip), vport: 80 };
}

test('the weighted least-connection fallback is the kernel loop', () => {
  // __ip_vs_lblc_schedule: first non-OVERLOAD dest with weight > 0 starts; later non-OVERLOAD dests
  // replace it when loh * w(d) > doh * w(least); overhead = active * 256 + inactive.
  const rows: { desc: string; weights: number[]; loads: [number, number][]; overloaded?: number[]; want: number | null }[] = [
    { desc: 'all idle: the list head', weights: [1, 1, 1], loads: [[0, 0], [0, 0], [0, 0]], want: 0 },
    { desc: 'least overhead per weight', weights: [1, 2, 1], loads: [[2, 0], [3, 0], [2, 0]], want: 1 },
    { desc: 'tie keeps the earlier dest', weights: [2, 1], loads: [[2, 0], [1, 0]], want: 0 },
    { desc: 'inactive conns count 1/256 of an active one', weights: [1, 1], loads: [[1, 0], [0, 255]], want: 1 },
    { desc: 'a weight-0 head is skipped to start', weights: [0, 1, 1], loads: [[0, 0], [5, 0], [4, 0]], want: 2 },
    { desc: 'a later weight-0 dest never wins', weights: [1, 0], loads: [[9, 0], [0, 0]], want: 0 },
    { desc: 'OVERLOAD dests are skipped', weights: [1, 1, 1], loads: [[0, 0], [0, 0], [5, 0]], overloaded: [0, 1], want: 2 },
    { desc: 'nothing usable', weights: [0, 1], loads: [[0, 0], [0, 0]], overloaded: [1], want: null },
  ];
  for (const r of rows) {
    const svc = service();
    const d = withDests(svc, r.weights);
    r.loads.forEach(([a, i], k) => load(d[k], a, i));
    for (const k of r.overloaded ?? []) d[k].flags |= DEST_F.OVERLOAD;
    assert.equal(localityWlc(svc), r.want === null ? null : d[r.want], r.desc);
  }
});

test('is_overloaded: more active than weight while some dest is under half load', () => {
  const rows: { desc: string; weights: number[]; active: number[]; want: boolean }[] = [
    { desc: 'at its weight: not overloaded', weights: [4, 4], active: [4, 0], want: false },
    { desc: 'above its weight, other dest idle', weights: [4, 4], active: [5, 0], want: true },
    { desc: 'above its weight, other dest at half load exactly', weights: [4, 4], active: [5, 2], want: false },
    { desc: 'above its weight, other dest just under half', weights: [4, 5], active: [5, 2], want: true },
    { desc: 'only a weight-0 other dest: 0 < 0 is false', weights: [4, 0], active: [5, 0], want: false },
    { desc: 'the dest itself can be the half-loaded one only if active*2 < weight', weights: [4], active: [5], want: false },
  ];
  for (const r of rows) {
    const svc = service();
    const d = withDests(svc, r.weights);
    r.active.forEach((a, k) => load(d[k], a));
    assert.equal(localityOverloaded(d[0], svc), r.want, r.desc);
  }
});

test('lblc: remember, reuse, re-pick on overload, weight 0 and deletion', () => {
  const svc = service();
  const [A, B, C] = withDests(svc, [4, 4, 4]);
  const lblc = lblcFactory()(svc);
  svc.scheduler = lblc;
  const X = '192.0.2.10';

  const first = lblc.schedule(svc, to(X), at(0));
  assert.deepEqual(first, { dest: A, reason: 'pick' });
  assert.equal(lblc.size, 1);
  assert.deepEqual(lblc.entry(X), { dest: A, lastuse: 0 });

  load(A, 3);
  assert.deepEqual(lblc.schedule(svc, to(X), at(1000)), { dest: A, reason: 'table-hit' }, 'kept although B and C are idle');
  assert.equal(lblc.entry(X)?.lastuse, 1000, 'a hit refreshes lastuse');

  load(A, 5);
  load(B, 2);
  load(C, 2);
  assert.equal(lblc.schedule(svc, to(X), at(2000)).reason, 'table-hit', 'above weight but nobody under half load');

  load(B, 1);
  // A overloaded and B under half: WLC over A 1280/4, B 256/4, C 512/4 -> B.
  assert.deepEqual(lblc.schedule(svc, to(X), at(3000)), { dest: B, reason: 'pick' });
  assert.deepEqual(lblc.entry(X), { dest: B, lastuse: 3000 });
  assert.equal(lblc.size, 1);
  assert.equal(lblc.counted, 2, 'ip_vs_lblc_new replaces without decrementing tbl->entries');

  load(A, 0);
  load(B, 0);
  load(C, 0);
  B.weight = 0;
  assert.deepEqual(lblc.schedule(svc, to(X), at(4000)), { dest: A, reason: 'pick' }, 'weight 0 forces a re-pick');
  assert.equal(lblc.entry(X)?.dest, A);

  // Deletion: the director unlinks the dest and clears AVAILABLE; lblc has no del_dest hook.
  svc.dests.splice(0, 1);
  svc.destIndex.delete(destKeyId(A.addr, A.port));
  A.flags &= ~DEST_F.AVAILABLE;
  assert.deepEqual(lblc.schedule(svc, to(X), at(5000)), { dest: C, reason: 'pick' }, 'deleted dest is re-picked (B still weight 0)');
  assert.equal(lblc.counted, 4);
});

test('lblc: when WLC picks the entry dest again the entry is kept as is', () => {
  const svc = service();
  const [A, B] = withDests(svc, [4, 8]);
  const lblc = lblcFactory()(svc);
  lblc.schedule(svc, to('192.0.2.10'), at(0));
  // A overloaded (5 > 4) and B under half (3*2 < 8), yet A still has the least overhead/weight.
  load(A, 5);
  load(B, 3);
  assert.equal(localityWlc(svc), B);
  load(B, 3, 2000);
  assert.equal(lblc.schedule(svc, to('192.0.2.10'), at(10)).dest, A);
  assert.equal(lblc.counted, 1, 'same dest: no new entry');
  assert.deepEqual(lblc.entry('192.0.2.10'), { dest: A, lastuse: 10 });
});

test('lblc: nothing available', () => {
  const svc = service();
  withDests(svc, [0, 0]);
  const lblc = createLblc(svc);
  assert.deepEqual(lblc.schedule(svc, to('192.0.2.10'), at(0)), { dest: null, reason: 'no-dest' });
});

test('lblc: explain changes no table state', () => {
  const svc = service();
  const [A, B] = withDests(svc, [4, 4]);
  const lblc = lblcFactory()(svc);
  const ex = lblc.schedule(svc, to('192.0.2.1'), at(0, false));
  // hash_32(192.0.2.1, 10) = 203.
  assert.deepEqual(ex, { dest: A, reason: 'pick', detail: 'bucket 203, new entry' });
  assert.equal(lblc.size, 0);
  lblc.schedule(svc, to('192.0.2.1'), at(0));
  assert.deepEqual(lblc.schedule(svc, to('192.0.2.1'), at(500, false)), { dest: A, reason: 'table-hit', detail: 'bucket 203' });
  assert.equal(lblc.entry('192.0.2.1')?.lastuse, 0);
  load(A, 5);
  assert.deepEqual(lblc.schedule(svc, to('192.0.2.1'), at(600, false)), { dest: B, reason: 'pick', detail: 'bucket 203, entry replaced' });
  assert.deepEqual(lblc.entry('192.0.2.1'), { dest: A, lastuse: 0 });
  assert.equal(lblc.counted, 1);
});

test('lblc GC: the 30th run is a full pass with lblc_expiration', () => {
  const rows = [
    { desc: 'expiration 10 min: the entry idle 30 min goes, the one used at 25 min stays', expirationMs: 10 * MIN, left: ['192.0.2.20'] },
    { desc: 'default 24 h: both stay', expirationMs: undefined, left: ['192.0.2.10', '192.0.2.20'] },
  ];
  for (const r of rows) {
    const svc = service();
    withDests(svc, [1, 1]);
    const lblc = lblcFactory(r.expirationMs === undefined ? {} : { expirationMs: r.expirationMs })(svc);
    lblc.tick?.(svc, 0); // arms the timer: runs at 1, 2, 3 ... min
    lblc.schedule(svc, to('192.0.2.10'), at(0));
    lblc.tick?.(svc, 25 * MIN);
    lblc.schedule(svc, to('192.0.2.20'), at(25 * MIN));
    lblc.tick?.(svc, 30 * MIN - 1);
    assert.equal(lblc.size, 2, `${r.desc}: runs 1..29 only count`);
    lblc.tick?.(svc, 30 * MIN);
    const left = ['192.0.2.10', '192.0.2.20'].filter((k) => lblc.entry(k) !== undefined);
    assert.deepEqual(left, r.left, r.desc);
  }
});

test('lblc GC: the full pass compares now >= lastuse + expiration', () => {
  const svc = service();
  withDests(svc, [1]);
  const lblc = lblcFactory({ expirationMs: () => 20 * MIN })(svc);
  lblc.tick?.(svc, 0);
  lblc.schedule(svc, to('192.0.2.10'), at(10 * MIN)); // expires at exactly 30 min
  lblc.schedule(svc, to('192.0.2.11'), at(10 * MIN + 1));
  lblc.tick?.(svc, 30 * MIN);
  assert.equal(lblc.entry('192.0.2.10'), undefined);
  assert.notEqual(lblc.entry('192.0.2.11'), undefined);
  // The next full pass is 30 runs later (counter restarts at 1).
  lblc.tick?.(svc, 59 * MIN);
  assert.notEqual(lblc.entry('192.0.2.11'), undefined);
  lblc.tick?.(svc, 60 * MIN);
  assert.equal(lblc.entry('192.0.2.11'), undefined);
});

test('lblc GC: above 16384 entries, idle >= 6 min entries go bucket by bucket from the rover', () => {
  const svc = service();
  withDests(svc, [1]);
  const lblc = lblcFactory()(svc);
  lblc.tick?.(svc, 0);
  const n = 16400;
  const keys: string[] = [];
  const bucketOf: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = addrFromU32((0x64400000 + i) >>> 0);
    keys.push(a.text);
    // hash_32(fold, 10) from its definition.
    bucketOf.push(Number(((BigInt(a.fold) * 0x61c88647n) & 0xffffffffn) >> 22n));
    lblc.schedule(svc, { caddr: a, cport: 1, vaddr: a, vport: 80 }, at(0));
  }
  assert.equal(lblc.size, n);
  // Runs at 1..5 min: over max_size, but nothing idle for 6 min yet; the rover goes full circle.
  lblc.tick?.(svc, 5 * MIN);
  assert.equal(lblc.size, n);
  // Run at 6 min: goal = (16400 - 16384) * 4 / 3 = 21; whole buckets 1, 2, ... until >= 21 gone.
  lblc.tick?.(svc, 6 * MIN);
  const sizes = new Array<number>(1024).fill(0);
  for (const b of bucketOf) sizes[b]++;
  let gone = 0;
  let last = 0;
  while (gone < 21) gone += sizes[++last];
  const expectLeft = keys.filter((_, i) => bucketOf[i] < 1 || bucketOf[i] > last);
  assert.equal(lblc.size, expectLeft.length);
  assert.equal(lblc.counted, n - gone);
  for (let i = 0; i < n; i += 97) {
    assert.equal(lblc.entry(keys[i]) !== undefined, bucketOf[i] < 1 || bucketOf[i] > last, `entry ${keys[i]} in bucket ${bucketOf[i]}`);
  }
});

test('lblcr: a set grows on overload and serves its least loaded member', () => {
  const svc = service();
  const [A, B, C] = withDests(svc, [4, 4, 4]);
  const lblcr = lblcrFactory()(svc);
  const X = '192.0.2.10';
  assert.deepEqual(lblcr.schedule(svc, to(X), at(0)), { dest: A, reason: 'pick' });
  assert.deepEqual(lblcr.entry(X), { set: [A], lastuse: 0, lastmod: 0 });
  load(A, 3);
  assert.deepEqual(lblcr.schedule(svc, to(X), at(10)), { dest: A, reason: 'table-hit' });
  load(A, 5);
  load(B, 1);
  load(C, 2);
  // A overloaded, B under half: WLC picks B and adds it at the head of the set.
  assert.deepEqual(lblcr.schedule(svc, to(X), at(20)), { dest: B, reason: 'pick' });
  assert.deepEqual(lblcr.entry(X), { set: [B, A], lastuse: 20, lastmod: 20 });
  // Set min over B (256/4) and A (1280/4).
  assert.deepEqual(lblcr.schedule(svc, to(X), at(30)), { dest: B, reason: 'table-hit' });
  // B quiesced: the set min skips it; A is overloaded now that C is under half -> WLC picks C.
  B.weight = 0;
  load(C, 1);
  assert.deepEqual(lblcr.schedule(svc, to(X), at(40)), { dest: C, reason: 'pick' });
  assert.deepEqual(lblcr.entry(X)?.set, [C, B, A]);
  // WLC picking a member already in the set leaves lastmod alone.
  C.flags |= DEST_F.OVERLOAD;
  load(A, 5);
  load(C, 0);
  B.weight = 4;
  load(B, 9);
  // Set min is A (1280/4 beats B's 2304/4; C is OVERLOAD), overloaded since C is idle; WLC picks A.
  assert.deepEqual(lblcr.schedule(svc, to(X), at(50)), { dest: A, reason: 'pick' });
  assert.deepEqual(lblcr.entry(X), { set: [C, B, A], lastuse: 50, lastmod: 40 });
});

test('lblcr: after lblcr_expiration a multi-member set sheds its most loaded member', () => {
  const svc = service();
  const [A, B] = withDests(svc, [4, 4]);
  const lblcr = lblcrFactory({ expirationMs: 10 * MIN })(svc);
  const X = '192.0.2.10';
  lblcr.schedule(svc, to(X), at(0));
  load(A, 5);
  load(B, 1);
  lblcr.schedule(svc, to(X), at(MIN)); // set [B, A], lastmod 1 min
  assert.deepEqual(lblcr.entry(X)?.set, [B, A]);
  load(A, 3);
  // time_after(now, lastmod + expiration) is strict.
  assert.equal(lblcr.schedule(svc, to(X), at(11 * MIN)).dest, B);
  assert.deepEqual(lblcr.entry(X)?.set, [B, A]);
  // Explain at the due time reports the shedding but does not do it.
  const ex = lblcr.schedule(svc, to(X), at(11 * MIN + 1, false));
  assert.deepEqual(ex, { dest: B, reason: 'table-hit', detail: 'bucket 651, shed 10.0.0.1:80' });
  assert.deepEqual(lblcr.entry(X), { set: [B, A], lastuse: 11 * MIN, lastmod: MIN });
  assert.deepEqual(lblcr.schedule(svc, to(X), at(11 * MIN + 1)), { dest: B, reason: 'table-hit' });
  assert.deepEqual(lblcr.entry(X), { set: [B], lastuse: 11 * MIN + 1, lastmod: 11 * MIN + 1 });
});

test('lblcr: on a load tie the shed member is the one being returned', () => {
  // ip_vs_dest_set_min keeps the first on ties (strict >) and so does ip_vs_dest_set_max (strict <).
  const svc = service();
  const [A, B] = withDests(svc, [4, 4]);
  const lblcr = lblcrFactory({ expirationMs: MIN })(svc);
  const X = '192.0.2.10';
  lblcr.schedule(svc, to(X), at(0));
  load(A, 5);
  load(B, 0);
  lblcr.schedule(svc, to(X), at(0)); // set [B, A]
  load(A, 0);
  assert.equal(lblcr.schedule(svc, to(X), at(2 * MIN)).dest, B);
  assert.deepEqual(lblcr.entry(X)?.set, [A]);
  assert.equal(lblcr.schedule(svc, to(X), at(2 * MIN)).dest, A);
});

test('lblcr: deleted members are skipped by the min pick, and the max pick can still shed them', () => {
  const svc = service();
  const [A, B] = withDests(svc, [4, 4]);
  const lblcr = lblcrFactory({ expirationMs: MIN })(svc);
  const X = '192.0.2.10';
  lblcr.schedule(svc, to(X), at(0));
  load(A, 5);
  lblcr.schedule(svc, to(X), at(0)); // set [B, A]
  svc.dests.splice(1, 1);
  B.flags &= ~DEST_F.AVAILABLE;
  load(A, 1);
  load(B, 7);
  // min: B not AVAILABLE, so A; max: B (7*256 load, AVAILABLE not looked at) is shed.
  assert.deepEqual(lblcr.schedule(svc, to(X), at(2 * MIN)), { dest: A, reason: 'table-hit' });
  assert.deepEqual(lblcr.entry(X)?.set, [A]);
});

test('lblcr: nothing available, explain on a fresh table, GC full pass', () => {
  const svc = service();
  const [A] = withDests(svc, [0, 1]).slice(1);
  const lblcr = createLblcr(svc);
  assert.equal(lblcr.schedule(svc, to('192.0.2.1'), at(0, false)).detail, 'bucket 203, new entry');
  A.weight = 0;
  assert.deepEqual(lblcr.schedule(svc, to('192.0.2.1'), at(0)), { dest: null, reason: 'no-dest' });

  const svc2 = service();
  withDests(svc2, [1]);
  const s2 = lblcrFactory({ expirationMs: 5 * MIN })(svc2);
  s2.tick?.(svc2, 0);
  s2.schedule(svc2, to('192.0.2.10'), at(0));
  s2.tick?.(svc2, 29 * MIN);
  assert.equal(s2.size, 1);
  s2.tick?.(svc2, 30 * MIN);
  assert.equal(s2.size, 0);
});

test('done() flushes the table and no entry is created afterwards', () => {
  for (const make of [lblcFactory(), lblcrFactory()]) {
    const svc = service();
    const [A] = withDests(svc, [1]);
    const s = make(svc);
    s.schedule(svc, to('192.0.2.10'), at(0));
    s.done?.(svc);
    assert.equal(s.size, 0);
    assert.deepEqual(s.schedule(svc, to('192.0.2.10'), at(1)), { dest: A, reason: 'pick' });
    assert.equal(s.size, 0);
  }
});

test('lblc and lblcr register no dest hooks', () => {
  for (const make of [createLblc, createLblcr]) {
    const s = make(service());
    assert.equal(s.addDest, undefined);
    assert.equal(s.delDest, undefined);
    assert.equal(s.updDest, undefined);
  }
});
