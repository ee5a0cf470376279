// lc, wlc, sed, nq, fo, ovf and twos against the kernel: net/netfilter/ipvs/ip_vs_{lc,wlc,sed,nq,
// fo,ovf,twos}.c, include/net/ip_vs.h (ip_vs_dest_conn_overhead) and drivers/char/random.c
// (__get_random_u32_below). The schedulers answer from an index; each is checked against a plain
// linear walk written here from the kernel file, on hand-worked rows and on thousands of random
// states with adds, deletes, weight edits, OVERLOAD and connection binds in between.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Dest, bindConn, unbindConn } from '../../src/core/dest.ts';
import type { Service } from '../../src/core/service.ts';
import type { SchedPick, SchedulerName } from '../../src/core/sched/scheduler.ts';
import { randomBelow } from '../../src/core/sched/twos.ts';
import {
  addDest, delDest, emptyService, makeService, samplePacket, schedContext, seededRandom, setLoad, setOverloaded,
  setWeight,
} from './fixtures.ts';

const PKT = samplePacket();

// ---------------------------------------------------------------------------------------------
// Reference walks, one per kernel file. 64-bit and 32-bit integer arithmetic is done in BigInt so
// these share nothing with the implementation.

type Walk = (list: readonly Dest[], random: () => number) => Dest | null;

/** include/net/ip_vs.h: (activeconns << 8) + inactconns, as an int. */
const overheadInt = (d: Dest): bigint => BigInt.asIntN(32, (BigInt(d.activeConns) << 8n) + BigInt(d.inactConns));
const s64 = (x: bigint) => BigInt.asIntN(64, x);
const w = (d: Dest) => BigInt(d.weight);

const lcWalk: Walk = (list) => {
  let least: Dest | null = null;
  let loh = 0n;
  for (const d of list) {
    if (d.overloaded || d.weight === 0) continue;
    const doh = BigInt.asUintN(32, overheadInt(d));
    if (least === null || doh < loh) { least = d; loh = doh; }
  }
  return least;
};

function weightedWalk(overhead: (d: Dest) => bigint): Walk {
  return (list) => {
    let i = 0;
    while (i < list.length && !(!list[i].overloaded && list[i].weight > 0)) i++;
    if (i === list.length) return null;
    let least = list[i];
    let loh = overhead(least);
    for (i++; i < list.length; i++) {
      const d = list[i];
      if (d.overloaded) continue;
      const doh = overhead(d);
      if (s64(loh * w(d)) > s64(doh * w(least))) { least = d; loh = doh; }
    }
    return least;
  };
}

const sedOverhead = (d: Dest): bigint => BigInt.asIntN(32, BigInt(d.activeConns) + 1n);
const wlcWalk = weightedWalk(overheadInt);
const sedWalk = weightedWalk(sedOverhead);

const nqWalk: Walk = (list) => {
  let least: Dest | null = null;
  let loh = 0n;
  for (const d of list) {
    if (d.overloaded || d.weight === 0) continue;
    const doh = sedOverhead(d);
    if (d.activeConns === 0) return d;
    if (least === null || s64(loh * w(d)) > s64(doh * w(least))) { least = d; loh = doh; }
  }
  return least;
};

const foWalk: Walk = (list) => {
  let best: Dest | null = null;
  let hw = 0;
  for (const d of list) {
    if (!d.overloaded && d.weight > hw) { best = d; hw = d.weight; }
  }
  return best;
};

const ovfWalk: Walk = (list) => {
  let h: Dest | null = null;
  let hw = 0;
  for (const d of list) {
    const wt = d.weight;
    if (d.overloaded || d.activeConns > wt || wt === 0) continue;
    if (h === null || wt > hw) { h = d; hw = wt; }
  }
  return h;
};

/** drivers/char/random.c: __get_random_u32_below, in BigInt. */
function refRandomBelow(ceil: number, random: () => number): number {
  const c = BigInt(ceil);
  const rand = BigInt(random() >>> 0);
  if (c === 0n) return Number(rand);
  let mult = c * rand;
  if (BigInt.asUintN(32, mult) < c) {
    const bound = BigInt.asUintN(32, -c) % c;
    while (BigInt.asUintN(32, mult) < bound) mult = c * BigInt(random() >>> 0);
  }
  return Number(mult >> 32n);
}

/** ip_vs_twos.c with every int as a wrapping 32-bit value. */
const twosWalk: Walk = (list, random) => {
  const i32 = (x: bigint) => BigInt.asIntN(32, x);
  let total = 0n;
  let choice1: Dest | null = null;
  for (const d of list) {
    if (!d.overloaded && d.weight > 0) { total = i32(total + w(d)); choice1 = d; }
  }
  if (choice1 === null) return null;
  total = i32(total + 1n);
  const ceil = Number(BigInt.asUintN(32, total));
  let r1 = i32(BigInt(refRandomBelow(ceil, random)));
  let r2 = i32(BigInt(refRandomBelow(ceil, random)));
  let choice2: Dest | null = null;
  let w1 = -1n;
  let w2 = -1n;
  let oh1 = 0n;
  let oh2 = 0n;
  for (const d of list) {
    if (d.overloaded || d.weight <= 0) continue;
    r1 = i32(r1 - w(d));
    r2 = i32(r2 - w(d));
    if (r1 <= 0n && w1 === -1n) { choice1 = d; w1 = w(d); oh1 = overheadInt(d); }
    if (r2 <= 0n && w2 === -1n) { choice2 = d; w2 = w(d); oh2 = overheadInt(d); }
    if (w1 !== -1n && w2 !== -1n) break;
  }
  if (choice2 !== null && i32(w2 * oh1) > i32(w1 * oh2)) choice1 = choice2;
  return choice1;
};

const WALKS: Record<'lc' | 'wlc' | 'sed' | 'nq' | 'fo' | 'ovf' | 'twos', Walk> = {
  lc: lcWalk, wlc: wlcWalk, sed: sedWalk, nq: nqWalk, fo: foWalk, ovf: ovfWalk, twos: twosWalk,
};

// ---------------------------------------------------------------------------------------------
// Hand-worked rows

interface D { w: number; a?: number; i?: number; ov?: boolean }

function build(sched: SchedulerName, ds: readonly D[]): Service {
  const svc = makeService(sched, ds.map((d) => d.w));
  ds.forEach((d, k) => {
    setLoad(svc.dests[k], d.a ?? 0, d.i ?? 0);
    if (d.ov) setOverloaded(svc.dests[k], true);
  });
  return svc;
}

/** Index of the chosen dest in list order, or -1. */
function choose(svc: Service, random?: () => number, commit = true): number {
  const p = svc.scheduler.schedule(svc, PKT, schedContext({ commit, random }));
  return p.dest === null ? -1 : svc.dests.indexOf(p.dest);
}

interface Row { desc: string; ds: D[]; want: number }

const HAND: Record<'lc' | 'wlc' | 'sed' | 'nq' | 'fo' | 'ovf', Row[]> = {
  lc: [
    { desc: '256 (1 active) loses to 255 inactive; weight ignored', ds: [{ w: 1, a: 1 }, { w: 5, i: 255 }], want: 1 },
    { desc: 'equal overheads keep the earlier dest', ds: [{ w: 1, i: 7 }, { w: 9, i: 7 }], want: 0 },
    { desc: 'weight 0 and OVERLOAD are skipped', ds: [{ w: 0 }, { w: 1, ov: true }, { w: 1, a: 3 }], want: 2 },
    { desc: 'nothing available', ds: [{ w: 0 }, { w: 2, ov: true }], want: -1 },
    // (2^24 << 8) wraps to 0 in the kernel's int, then is compared as unsigned.
    { desc: 'overhead is the kernel int seen as unsigned (wraps at 2^24 active)', ds: [{ w: 1, a: 2 ** 23 }, { w: 1, a: 2 ** 24 }], want: 1 },
  ],
  wlc: [
    { desc: '256/1 beats 556/2 and 300/1', ds: [{ w: 1, a: 1 }, { w: 2, a: 1, i: 300 }, { w: 1, i: 300 }], want: 0 },
    { desc: 'uneven: 517/3 beats 200/1 and 346/2', ds: [{ w: 1, i: 200 }, { w: 2, a: 1, i: 90 }, { w: 3, a: 2, i: 5 }], want: 2 },
    { desc: 'equal ratios 10/2 and 5/1 keep the earlier dest', ds: [{ w: 2, i: 10 }, { w: 1, i: 5 }], want: 0 },
    { desc: 'equal ratios, other order', ds: [{ w: 1, i: 5 }, { w: 2, i: 10 }], want: 0 },
    { desc: 'an idle weight-0 dest never wins', ds: [{ w: 0 }, { w: 1, a: 1 }], want: 1 },
    { desc: 'a weight-0 dest after the first does not win either', ds: [{ w: 1, a: 4 }, { w: 0 }], want: 0 },
    { desc: 'OVERLOAD is skipped', ds: [{ w: 1, ov: true }, { w: 1, a: 2 }], want: 1 },
    { desc: 'all weight 0', ds: [{ w: 0 }, { w: 0 }], want: -1 },
    // (2^30+1)(2^30+1) = 2^60+2^31+1 > 2^30(2^30+2) = 2^60+2^31: equal in doubles, not in s64.
    { desc: 'products past 2^53 are compared exactly', ds: [{ w: 2 ** 30 + 2, a: 2 ** 22, i: 1 }, { w: 2 ** 30 + 1, a: 2 ** 22 }], want: 1 },
    // 2^23 active conns: (2^23 << 8) wraps to -2^31, and 0 * w > -2^31 * 1 lets the weight-0 dest win.
    { desc: 'a wrapped (negative) overhead lets a weight-0 dest win, as in the kernel', ds: [{ w: 1 }, { w: 0, a: 2 ** 23 }], want: 1 },
  ],
  sed: [
    { desc: 'inactive ignored: 1/1 ties 2/2, earlier kept', ds: [{ w: 1, i: 1000 }, { w: 2, a: 1 }], want: 0 },
    { desc: '(4+1)/3 beats (1+1)/1', ds: [{ w: 1, a: 1 }, { w: 3, a: 4 }], want: 1 },
    { desc: 'three-way tie 2/1 = 4/2 = 10/5 keeps the first', ds: [{ w: 1, a: 1 }, { w: 2, a: 3 }, { w: 5, a: 9 }], want: 0 },
    { desc: 'uneven: 3/4 beats 1/1 and 2/2', ds: [{ w: 1 }, { w: 2, a: 1, i: 50 }, { w: 4, a: 2 }], want: 2 },
    { desc: 'weight 0 never wins', ds: [{ w: 0 }, { w: 1, a: 5 }], want: 1 },
    { desc: 'products past 2^53 are compared exactly', ds: [{ w: 2 ** 30 + 2, a: 2 ** 30 }, { w: 2 ** 30 + 1, a: 2 ** 30 - 1 }], want: 1 },
  ],
  nq: [
    { desc: 'the first idle dest wins even if a later idle one has more weight', ds: [{ w: 1, i: 500 }, { w: 100 }], want: 0 },
    { desc: 'an idle dest beats a better busy one before it', ds: [{ w: 100, a: 1 }, { w: 1 }], want: 1 },
    { desc: 'idle but OVERLOAD or weight 0 is skipped; then sed: 3/1 vs 5/2', ds: [{ w: 1, ov: true }, { w: 0 }, { w: 1, a: 2 }, { w: 2, a: 4 }], want: 3 },
    { desc: 'no idle dest: sed tie 2/1 = 4/2 keeps the earlier', ds: [{ w: 1, a: 1 }, { w: 2, a: 3 }], want: 0 },
    { desc: 'inactive conns do not make a dest busy', ds: [{ w: 1, a: 1 }, { w: 1, i: 9 }], want: 1 },
    { desc: 'nothing available', ds: [{ w: 0 }], want: -1 },
  ],
  fo: [
    { desc: 'highest weight, the earlier of equals', ds: [{ w: 1 }, { w: 3 }, { w: 3 }], want: 1 },
    { desc: 'OVERLOAD skipped, load ignored', ds: [{ w: 3, ov: true }, { w: 2, a: 50 }, { w: 0 }], want: 1 },
    { desc: 'all weight 0', ds: [{ w: 0 }, { w: 0 }], want: -1 },
  ],
  ovf: [
    { desc: 'a dest over its weight in active conns is skipped', ds: [{ w: 2, a: 2 }, { w: 3, a: 4 }, { w: 1 }], want: 0 },
    { desc: 'active == weight still qualifies; equal weights keep the earlier', ds: [{ w: 3, a: 3 }, { w: 3, a: 1 }], want: 0 },
    { desc: 'inactive conns do not count', ds: [{ w: 1, i: 100 }, { w: 1, a: 2 }], want: 0 },
    { desc: 'nothing below its weight', ds: [{ w: 2, a: 3 }, { w: 0 }], want: -1 },
  ],
};

for (const [sched, rows] of Object.entries(HAND)) {
  test(`${sched}: hand-worked rows (ip_vs_${sched}.c)`, async (t) => {
    for (const r of rows) {
      await t.test(r.desc, () => {
        const svc = build(sched as SchedulerName, r.ds);
        assert.equal(choose(svc), r.want, 'commit');
        assert.equal(choose(svc, undefined, false), r.want, 'explain');
        assert.equal(WALKS[sched as keyof typeof WALKS](svc.dests, seededRandom(1)) === null ? -1 :
          svc.dests.indexOf(WALKS[sched as keyof typeof WALKS](svc.dests, seededRandom(1)) as Dest), r.want, 'reference walk');
      });
    }
  });
}

test('reasons and explain detail', () => {
  const svc = build('wlc', [{ w: 2, a: 2 }]);
  const explained = svc.scheduler.schedule(svc, PKT, schedContext({ commit: false }));
  assert.equal(explained.reason, 'pick');
  assert.equal(explained.detail, 'overhead 512 / weight 2');
  const none = build('lc', [{ w: 0 }]);
  assert.deepEqual(none.scheduler.schedule(none, PKT, schedContext()), { dest: null, reason: 'no-dest' });
  assert.equal(none.scheduler.schedule(none, PKT, schedContext({ commit: false })).reason, 'no-dest');
});

// ---------------------------------------------------------------------------------------------
// twos

/** A u32 that __get_random_u32_below(ceil) maps to k without a redraw. */
function u32For(k: number, ceil: number): number {
  const c = BigInt(ceil);
  let r = (BigInt(k) * 2n ** 32n + c - 1n) / c;
  // Step past values whose low half would be redrawn (below 2^32 mod ceil).
  while (BigInt.asUintN(32, c * r) < 2n ** 32n % c) r++;
  assert.equal(refRandomBelow(ceil, scripted([Number(r)]).random), k);
  return Number(r);
}

function scripted(values: number[]): { random: () => number; used: () => number } {
  let i = 0;
  return {
    random: () => {
      if (i >= values.length) throw new Error('more random draws than scripted');
      return values[i++];
    },
    used: () => i,
  };
}

test('twos: get_random_u32_below (drivers/char/random.c)', async (t) => {
  const rows: { desc: string; ceil: number; draws: number[]; want: number; used: number }[] = [
    { desc: 'high half of ceil * rand', ceil: 7, draws: [0x80000000], want: 3, used: 1 },
    { desc: 'largest u32 gives ceil - 1', ceil: 7, draws: [0xffffffff], want: 6, used: 1 },
    // 2^32 mod 3 = 1: rand 0 leaves low half 0 < 1, so it is drawn again.
    { desc: 'a low half below 2^32 mod ceil is drawn again', ceil: 3, draws: [0, 5], want: 0, used: 2 },
    // 2^32 mod 65537 = 1: same for rand 0; rand 1 gives low half 65537 >= ceil, kept.
    { desc: 'rand 0 is redrawn for ceil 65537', ceil: 65537, draws: [0, 1], want: 0, used: 2 },
    { desc: 'ceil 2^31 + 5: (2^31+5)(2^32-2) = 2^63 + 2^34 - 10, high half 2^31 + 3', ceil: 2 ** 31 + 5, draws: [0xfffffffe], want: 2 ** 31 + 3, used: 1 },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const s = scripted(r.draws);
      assert.equal(randomBelow(r.ceil, s.random), r.want);
      assert.equal(s.used(), r.used);
    });
  }
});

test('twos: hand-worked picks (ip_vs_twos.c)', async (t) => {
  const rows: { desc: string; ds: D[]; r: [number, number]; want: number }[] = [
    // total 1+2+3 = 6, figures below 7. r1=0 → A; r2=4: 4-1=3, 3-2=1, 1-3<=0 → C.
    // 3 * 256 > 1 * 10 → choice 2 (C).
    { desc: 'two choices, the less loaded per weight wins', ds: [{ w: 1, a: 1 }, { w: 2 }, { w: 3, i: 10 }], r: [0, 4], want: 2 },
    { desc: 'same choices, choice 1 kept when not strictly worse', ds: [{ w: 1, i: 10 }, { w: 2 }, { w: 3, i: 30 }], r: [0, 4], want: 0 },
    // Only C and D count: total 2. r1=0 → C; r2=2: 2-1=1, 1-1=0 → D; C busier → D.
    { desc: 'OVERLOAD and weight 0 are left out of the walk', ds: [{ w: 2, ov: true }, { w: 0 }, { w: 1, a: 1 }, { w: 1 }], r: [0, 2], want: 3 },
    { desc: 'both figures on the same dest', ds: [{ w: 5, a: 3 }, { w: 5 }], r: [5, 1], want: 0 },
    // 65535 * 33024 wraps negative in the kernel's int, so the heavily loaded choice 1 is kept.
    { desc: 'weight * overhead is a wrapping 32-bit int product', ds: [{ w: 1, a: 129 }, { w: 65535 }], r: [0, 2], want: 0 },
    // 2^30 + 2^30 wraps the int total to -2^31; + 1 gives ceil 2^31 + 1. r1 = 2^31 is -2^31 as an
    // int: minus 2^30 wraps to +2^30 (A not taken), minus 2^30 again is 0 (B). r2 = 0 takes A.
    { desc: 'a weight sum past INT_MAX wraps the figures as in the kernel', ds: [{ w: 2 ** 30 }, { w: 2 ** 30 }], r: [2 ** 31, 0], want: 1 },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const svc = build('twos', r.ds);
      const total = svc.dests.reduce((s, d) => s + (!d.overloaded && d.weight > 0 ? d.weight : 0), 0) + 1;
      const draws = [u32For(r.r[0], total), u32For(r.r[1], total)];
      const s = scripted(draws);
      assert.equal(choose(svc, s.random), r.want);
      assert.equal(s.used(), 2);
      assert.equal(svc.dests.indexOf(twosWalk(svc.dests, scripted(draws).random) as Dest), r.want, 'reference walk');
    });
  }
  await t.test('no dest: nothing drawn', () => {
    const svc = build('twos', [{ w: 0 }, { w: 1, ov: true }]);
    const s = scripted([]);
    assert.equal(choose(svc, s.random), -1);
  });
});

// ---------------------------------------------------------------------------------------------
// Random states: the indexed schedulers against the walks

const PARITY: (keyof typeof WALKS)[] = ['lc', 'wlc', 'sed', 'nq', 'fo', 'ovf', 'twos'];

function randomWeight(below: (n: number) => number): number {
  const k = below(20);
  if (k < 4) return 0;
  if (k < 17) return 1 + below(4);
  if (k < 19) return 1 + below(65535);
  return 1 + below(2 ** 30);
}

function randomLoad(dest: Dest, below: (n: number) => number): void {
  const active = below(4) === 0 ? 0 : below(5);
  const inactive = below(3) === 0 ? 0 : below(4) * 128 + below(3);
  setLoad(dest, active, inactive);
}

function runParity(sched: keyof typeof WALKS, seed: number, steps: number, maxDests: number): number {
  const rnd = seededRandom(seed);
  const below = (n: number) => rnd() % n;
  const svc = makeService(sched, Array.from({ length: below(Math.min(maxDests, 40)) }, () => randomWeight(below)));
  for (const d of svc.dests) randomLoad(d, below);
  const removed: Dest[] = [];
  let checked = 0;
  for (let step = 0; step < steps; step++) {
    const n = svc.dests.length;
    const op = below(24);
    if (op < 3 && n < maxDests) {
      const d = addDest(svc, randomWeight(below));
      if (below(2) === 0) randomLoad(d, below);
    } else if (op < 5 && n > 0) {
      const d = svc.dests[below(n)];
      delDest(svc, d);
      removed.push(d);
    } else if (op < 7 && n > 0) {
      setWeight(svc, svc.dests[below(n)], randomWeight(below));
    } else if (op < 9 && n > 0) {
      setOverloaded(svc.dests[below(n)], below(2) === 0);
    } else if (op < 11 && n > 0) {
      randomLoad(svc.dests[below(n)], below);
    } else if (op < 14 && n > 0) {
      const d = svc.dests[below(n)];
      const kind = below(3) === 0 ? 'active' : 'inactive';
      // unbindConn clears OVERLOAD when no threshold is set (ip_vs_unbind_dest).
      if (below(2) === 0 && (kind === 'active' ? d.activeConns : d.inactConns) > 0) unbindConn(d, kind);
      else bindConn(d, kind);
    } else if (op < 15 && removed.length > 0) {
      // A conn of a deleted dest expires: the index must ignore it.
      const d = removed[below(removed.length)];
      bindConn(d, 'active');
    } else {
      const drawSeed = rnd() | 1;
      const commit = below(3) !== 0;
      const mine = seededRandom(drawSeed);
      const theirs = seededRandom(drawSeed);
      const got: SchedPick = svc.scheduler.schedule(svc, PKT, { now: 0, random: mine, commit });
      const want = WALKS[sched](svc.dests, theirs);
      const at = (d: Dest | null) => (d === null ? -1 : svc.dests.indexOf(d));
      assert.equal(at(got.dest), at(want), `${sched} seed ${seed} step ${step} (${commit ? 'commit' : 'explain'})`);
      assert.equal(got.reason, want === null ? 'no-dest' : 'pick');
      assert.equal(mine(), theirs(), `${sched}: same number of random draws`);
      if (!commit && got.dest !== null) assert.ok(got.detail);
      if (commit && got.dest !== null && below(2) === 0) bindConn(got.dest, below(2) === 0 ? 'active' : 'inactive');
      checked++;
    }
  }
  return checked;
}

for (const sched of PARITY) {
  test(`${sched}: indexed choice equals the kernel walk on random states`, () => {
    let checked = 0;
    for (let seed = 1; seed <= 40; seed++) checked += runParity(sched, seed * 2654435761, 400, 40);
    assert.ok(checked > 5000, `only ${checked} decisions checked`);
  });
  test(`${sched}: parity survives index relayouts at a few thousand dests`, () => {
    // Many adds exhaust the room in front of the list head; many deletes leave holes.
    const svc = emptyService(sched);
    const rnd = seededRandom(0xc0ffee);
    const below = (n: number) => rnd() % n;
    const at = (d: Dest | null) => (d === null ? -1 : svc.dests.indexOf(d));
    const check = (label: string) => {
      const s = (rnd() | 1) >>> 0;
      const got = svc.scheduler.schedule(svc, PKT, schedContext({ random: seededRandom(s) }));
      assert.equal(at(got.dest), at(WALKS[sched](svc.dests, seededRandom(s))), label);
    };
    for (let i = 0; i < 3000; i++) {
      const d = addDest(svc, randomWeight(below));
      randomLoad(d, below);
      if (i % 97 === 0) check(`add ${i}`);
    }
    for (let i = 0; i < 2900; i++) {
      delDest(svc, svc.dests[below(svc.dests.length)]);
      if (i % 89 === 0) check(`delete ${i}`);
    }
    for (let i = 0; i < 200; i++) {
      const d = svc.dests[below(svc.dests.length)];
      randomLoad(d, below);
      check(`load ${i}`);
    }
  });
}
