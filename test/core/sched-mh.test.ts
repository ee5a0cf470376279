// mh (net/netfilter/ipvs/ip_vs_mh.c): Maglev table of M = 4093 slots (CONFIG_IP_VS_MH_TAB_INDEX
// 12), permutations from hsiphash (lib/siphash.c, SipHash-1-3 on 64-bit) with the fixed keys of
// generate_hash_secret, turns from last_weight / gcd >> rshift. The reference model below is a
// literal, slow transcription of ip_vs_mh_permutate + ip_vs_mh_populate using a BigInt SipHash, so
// the table under test is compared against something that shares no code with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr, addrFromU32 } from '../../src/core/addr.ts';
import { DEST_F, Dest } from '../../src/core/dest.ts';
import { SVC_F, Service, destKeyId } from '../../src/core/service.ts';
import { MH_TABLE_SIZE, createMh, mhLookupTable, mhTooManyDests } from '../../src/core/sched/mh.ts';
import type { SchedContext, SchedPacket } from '../../src/core/sched/scheduler.ts';

const COMMIT: SchedContext = { now: 0, random: () => 0, commit: true };
const EXPLAIN: SchedContext = { now: 0, random: () => 0, commit: false };
const M = 4093;

const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M64;

/** hsiphash(&v, 4, {k, k}) on a 64-bit little-endian kernel, from the SipHash-1-3 definition. */
function hsipRef(v: number, k: bigint): number {
  let v0 = 0x736f6d6570736575n ^ k;
  let v1 = 0x646f72616e646f6dn ^ k;
  let v2 = 0x6c7967656e657261n ^ k;
  let v3 = 0x7465646279746573n ^ k;
  const round = (): void => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const b = (4n << 56n) | BigInt(v >>> 0);
  v3 ^= b;
  round();
  v0 ^= b;
  v2 ^= 0xffn;
  round(); round(); round();
  return Number((v0 ^ v1 ^ v2 ^ v3) & 0xffffffffn);
}

const KEY1 = 2654435761n;
const KEY2 = 2654446892n;

/** Reference table as dest indices (-1 = empty), following ip_vs_mh.c step by step. */
function referenceTable(dests: { fold: number; port: number; lastWeight: number }[]): number[] {
  const table = new Array<number>(M).fill(-1);
  let g = 0;
  for (const d of dests) if (d.lastWeight > 0) g = g > 0 ? gcdRef(d.lastWeight, g) : d.lastWeight;
  if (g < 1) return table;
  let mw = 0;
  for (const d of dests) if (d.lastWeight > mw) mw = d.lastWeight;
  const fls = (x: number): number => (x === 0 ? 0 : Math.floor(Math.log2(x)) + 1);
  const rshift = Math.max(0, fls(Math.floor(mw / g)) - 6);
  const ds = dests.map((d) => {
    const v = (d.port + d.fold) >>> 0;
    const offset = hsipRef(v, KEY1) % M;
    return { perm: offset, skip: (hsipRef(v, KEY2) % (M - 1)) + 1, turns: (Math.floor(d.lastWeight / g) >> rshift) || (d.lastWeight !== 0 ? 1 : 0) };
  });
  const used = new Set<number>();
  let n = 0;
  let dtCount = 0;
  for (;;) {
    let p = 0;
    while (p < dests.length) {
      const s = ds[p];
      if (s.turns < 1) { p++; continue; }
      while (used.has(s.perm)) s.perm = (s.perm + s.skip) % M;
      used.add(s.perm);
      table[s.perm] = p;
      if (++n === M) return table;
      if (++dtCount >= s.turns) { dtCount = 0; p++; }
    }
  }
}

function gcdRef(a: number, b: number): number {
  return b === 0 ? a : gcdRef(b, a % b);
}

function service(flags = 0, family: 4 | 6 = 4): Service {
  const vip = family === 4 ? addr('192.0.2.1') : addr('2001:db8::1');
  return new Service({ kind: 'addr', protocol: 'tcp', vip, port: 80 }, { scheduler: 'mh', flags, timeout: 360, netmask: 0xffffffff, pe: null });
}

/** Dests in list order (index 0 = list head). */
function withDests(svc: Service, specs: { ip: string; weight: number; port?: number }[]): Dest[] {
  const out = specs.map((s) => new Dest(svc, { addr: addr(s.ip), port: s.port ?? 80, fwd: 'masq', weight: s.weight, uThreshold: 0, lThreshold: 0 }));
  for (const d of out) {
    svc.dests.push(d);
    svc.destIndex.set(destKeyId(d.addr, d.port), d);
  }
  svc.scheduler = createMh(svc);
  return out;
}

function indices(svc: Service): number[] {
  return mhLookupTable(svc).map((d) => (d === null ? -1 : svc.dests.indexOf(d)));
}

function pkt(client: string, cport = 0): SchedPacket {
  return { caddr: addr(client), cport, vaddr: addr('192.0.2.1'), vport: 80 };
}

test('MH_TABLE_SIZE is primes[12 - 8] and more dests than slots is refused', () => {
  assert.equal(MH_TABLE_SIZE, 4093);
  assert.equal(mhTooManyDests(4093), false);
  assert.equal(mhTooManyDests(4094), true);
});

test('lookup table equals the step-by-step reference for several dest sets', () => {
  const rows: { desc: string; dests: { ip: string; weight: number; port?: number }[] }[] = [
    { desc: 'three equal weights', dests: [{ ip: '10.0.0.1', weight: 1 }, { ip: '10.0.0.2', weight: 1 }, { ip: '10.0.0.3', weight: 1 }] },
    { desc: 'weights 4:2 (gcd 2 -> turns 2:1)', dests: [{ ip: '10.0.0.1', weight: 4 }, { ip: '10.0.0.2', weight: 2 }] },
    { desc: 'weights 1000:3:1 (rshift 4)', dests: [{ ip: '10.0.0.1', weight: 1000 }, { ip: '10.0.0.2', weight: 3 }, { ip: '10.0.0.3', weight: 1 }] },
    { desc: 'a dest added with weight 0 takes no slot', dests: [{ ip: '10.0.0.1', weight: 2 }, { ip: '10.0.0.2', weight: 0 }, { ip: '10.0.0.3', weight: 3 }] },
    { desc: 'same address, different ports', dests: [{ ip: '10.0.0.1', weight: 1, port: 80 }, { ip: '10.0.0.1', weight: 1, port: 8080 }] },
  ];
  for (const r of rows) {
    const svc = service();
    const dests = withDests(svc, r.dests);
    const want = referenceTable(dests.map((d) => ({ fold: d.addr.fold, port: d.port, lastWeight: d.lastWeight })));
    assert.deepEqual(indices(svc), want, r.desc);
  }
});

test('slot counts follow the turns exactly', () => {
  // Each round every dest claims `turns` slots; the table fills after M claims, so the counts are
  // fixed by M and the turns alone.
  const rows: { desc: string; weights: number[]; counts: number[] }[] = [
    // 4093 = 1364 * 3 + 1: the head of the list gets the extra slot.
    { desc: 'three equal weights', weights: [5, 5, 5], counts: [1365, 1364, 1364] },
    // gcd 2, turns 2 and 1: 1364 rounds of 3, then 1 more slot for the first dest.
    { desc: 'weights 4:2', weights: [4, 2], counts: [2729, 1364] },
    // gcd 1, max 1000: fls(1000) = 10, rshift 4, turns 62 and 1 (0 rounded up): 64 rounds of 63 = 4032,
    // then 61 more slots for the first dest.
    { desc: 'weights 1000:1', weights: [1000, 1], counts: [64 * 62 + 61, 64] },
    { desc: 'weight 0 gets nothing', weights: [0, 1], counts: [0, 4093] },
    { desc: 'all weights 0: empty table', weights: [0, 0], counts: [0, 0] },
  ];
  for (const r of rows) {
    const svc = service();
    const dests = withDests(svc, r.weights.map((w, i) => ({ ip: `10.0.1.${i + 1}`, weight: w })));
    const table = mhLookupTable(svc);
    assert.deepEqual(dests.map((d) => table.filter((t) => t === d).length), r.counts, r.desc);
  }
});

test('lookups without and with mh-fallback and mh-port', () => {
  const specs = [{ ip: '10.0.0.1', weight: 1 }, { ip: '10.0.0.2', weight: 1 }, { ip: '10.0.0.3', weight: 1 }];
  const clients = ['198.51.100.7', '198.51.100.8', '203.0.113.9', '192.0.2.77', '198.18.0.1'];
  for (const flags of [0, SVC_F.SCHED1, SVC_F.SCHED2, SVC_F.SCHED1 | SVC_F.SCHED2]) {
    const svc = service(flags);
    const dests = withDests(svc, specs);
    const ref = referenceTable(dests.map((d) => ({ fold: d.addr.fold, port: d.port, lastWeight: d.lastWeight })));
    const usePort = (flags & SVC_F.SCHED2) !== 0;
    for (const c of clients) {
      const fold = addr(c).fold;
      const port = usePort ? 40000 : 0;
      const slot = hsipRef((port + fold) >>> 0, KEY1) % M;
      const got = svc.scheduler.schedule(svc, pkt(c, 40000), COMMIT);
      assert.equal(got.dest, dests[ref[slot]], `flags ${flags}, client ${c}`);
      assert.equal(got.reason, 'pick');
      assert.equal(svc.scheduler.schedule(svc, pkt(c, 40000), EXPLAIN).detail, `slot ${slot}`);
    }
  }
});

test('an unavailable dest: no fallback gives nothing, mh-fallback rehashes with offsets', () => {
  const specs = [{ ip: '10.0.0.1', weight: 1 }, { ip: '10.0.0.2', weight: 1 }, { ip: '10.0.0.3', weight: 1 }];
  const client = '198.51.100.7';
  const fold = addr(client).fold;
  const probe = (dests: Dest[], bad: Set<Dest>): { dest: Dest | null; slot: number } => {
    // ip_vs_mh_get_fallback from the kernel text: ihash, then (i + ihash) % M as the offset.
    const ref = referenceTable(dests.map((d) => ({ fold: d.addr.fold, port: d.port, lastWeight: d.lastWeight })));
    const ihash = hsipRef(fold, KEY1) % M;
    for (let i = 0; i < M; i++) {
      const s = hsipRef(((i + ihash) % M + fold) >>> 0, KEY1) % M;
      const d = dests[ref[s]];
      if (!bad.has(d)) return { dest: d, slot: s };
    }
    return { dest: null, slot: -1 };
  };
  const plain = service();
  const pd = withDests(plain, specs);
  const first = plain.scheduler.schedule(plain, pkt(client), COMMIT).dest;
  assert.ok(first !== null);
  const fi = pd.indexOf(first);

  const rows: { desc: string; flags: number; mutate: (d: Dest) => void }[] = [
    { desc: 'quiesced (weight 0, last_weight kept)', flags: 0, mutate: (d) => { d.weight = 0; } },
    { desc: 'OVERLOAD', flags: 0, mutate: (d) => { d.flags |= DEST_F.OVERLOAD; } },
    { desc: 'quiesced, with mh-fallback', flags: SVC_F.SCHED1, mutate: (d) => { d.weight = 0; } },
    { desc: 'OVERLOAD, with mh-fallback', flags: SVC_F.SCHED1, mutate: (d) => { d.flags |= DEST_F.OVERLOAD; } },
  ];
  for (const r of rows) {
    const svc = service(r.flags);
    const dests = withDests(svc, specs);
    const victim = dests[fi];
    r.mutate(victim);
    // upd_dest rebuilds, but last_weight keeps the old weight, so the table does not change.
    svc.scheduler.updDest?.(svc, victim);
    const got = svc.scheduler.schedule(svc, pkt(client), COMMIT);
    if (r.flags === 0) {
      assert.deepEqual(got, { dest: null, reason: 'unavailable' }, r.desc);
      continue;
    }
    const want = probe(dests, new Set([victim]));
    assert.equal(got.dest, want.dest, r.desc);
    assert.equal(got.reason, 'fallback', r.desc);
    const ex = svc.scheduler.schedule(svc, pkt(client), EXPLAIN);
    assert.match(ex.detail ?? '', new RegExp(`fallback slot ${want.slot}$`), `${r.desc} (explain)`);
  }
  // Every dest unavailable: fallback walks the whole table and finds nothing.
  const svc = service(SVC_F.SCHED1);
  const dests = withDests(svc, specs);
  for (const d of dests) d.flags |= DEST_F.OVERLOAD;
  assert.deepEqual(svc.scheduler.schedule(svc, pkt(client), COMMIT), { dest: null, reason: 'unavailable' });
});

test('no dests, or only last_weight 0: every lookup finds nothing', () => {
  const svc = service(SVC_F.SCHED1);
  withDests(svc, []);
  assert.deepEqual(svc.scheduler.schedule(svc, pkt('198.51.100.7'), COMMIT), { dest: null, reason: 'no-dest' });
  const zero = service();
  withDests(zero, [{ ip: '10.0.0.1', weight: 0 }]);
  assert.deepEqual(zero.scheduler.schedule(zero, pkt('198.51.100.7'), COMMIT), { dest: null, reason: 'no-dest' });
});

test('hooks: add_dest, del_dest and upd_dest all rebuild', () => {
  const svc = service();
  const dests = withDests(svc, [{ ip: '10.0.0.1', weight: 1 }, { ip: '10.0.0.2', weight: 1 }]);
  const sched = svc.scheduler;
  assert.ok(sched.addDest && sched.delDest && sched.updDest);
  const clients = Array.from({ length: 200 }, (_, i) => addrFromU32(0xc6336400 + i * 131));
  const owner = (): (Dest | null)[] => clients.map((c) => sched.schedule(svc, { caddr: c, cport: 0, vaddr: svc.dests[0].addr, vport: 80 }, COMMIT).dest);
  const added = new Dest(svc, { addr: addr('10.0.0.3'), port: 80, fwd: 'masq', weight: 2, uThreshold: 0, lThreshold: 0 });
  svc.dests.unshift(added);
  sched.addDest?.(svc, added);
  assert.ok(owner().includes(added), 'the new dest receives clients');
  // A weight edit that changes last_weight rebuilds: 10.0.0.3 going 2 -> 1 loses slots.
  const before = mhLookupTable(svc).filter((d) => d === added).length;
  added.weight = 1;
  added.lastWeight = 1;
  sched.updDest?.(svc, added);
  assert.ok(mhLookupTable(svc).filter((d) => d === added).length < before);
  svc.dests.splice(0, 1);
  sched.delDest?.(svc, added, 0);
  assert.ok(!owner().includes(added), 'a deleted dest is gone from the table');
  assert.ok(owner().every((d) => d === dests[0] || d === dests[1]));
});

test('a v6 dest of a v4 service hashes only its first 32-bit word', () => {
  // ip_vs_mh_hashkey folds with svc->af: for AF_INET it reads addr->ip, the first word.
  const svc = service();
  const dests = withDests(svc, [{ ip: '10.0.0.1', weight: 1 }, { ip: '2001:db8::5', weight: 1 }]);
  const firstWord = 0x20010db8;
  const want = referenceTable([
    { fold: dests[0].addr.fold, port: 80, lastWeight: 1 },
    { fold: firstWord, port: 80, lastWeight: 1 },
  ]);
  assert.deepEqual(indices(svc), want);
});

test('a v6 service folds client addresses over all four words', () => {
  const svc = service(0, 6);
  const dests = withDests(svc, [{ ip: '2001:db8::10', weight: 1 }, { ip: '2001:db8::11', weight: 1 }]);
  const ref = referenceTable(dests.map((d) => ({ fold: d.addr.fold, port: d.port, lastWeight: 1 })));
  const client = addr('2001:db8:1:2:3:4:5:6');
  const fold = (0x20010db8 ^ 0x00010002 ^ 0x00030004 ^ 0x00050006) >>> 0;
  assert.equal(client.fold, fold);
  const got = svc.scheduler.schedule(svc, { caddr: client, cport: 0, vaddr: addr('2001:db8::1'), vport: 80 }, COMMIT);
  assert.equal(got.dest, dests[ref[hsipRef(fold, KEY1) % M]]);
});

test('disruption: removing one of N dests moves about 1/N of 10 000 clients', () => {
  for (const n of [10, 20]) {
    const svc = service();
    const specs = Array.from({ length: n }, (_, i) => ({ ip: `10.0.2.${i + 1}`, weight: 1 }));
    withDests(svc, specs);
    const clients = Array.from({ length: 10000 }, (_, i) => addrFromU32((0xc6330000 + i * 7919) >>> 0));
    const lookup = (): (Dest | null)[] => clients.map((c) => svc.scheduler.schedule(svc, { caddr: c, cport: 0, vaddr: addr('192.0.2.1'), vport: 80 }, COMMIT).dest);
    const before = lookup();
    const victim = svc.dests[3];
    svc.dests.splice(3, 1);
    svc.scheduler.delDest?.(svc, victim, 3);
    const after = lookup();
    let changed = 0;
    let others = 0;
    let othersChanged = 0;
    for (let i = 0; i < clients.length; i++) {
      if (before[i] !== after[i]) changed++;
      if (before[i] !== victim) {
        others++;
        if (before[i] !== after[i]) othersChanged++;
      }
    }
    const frac = changed / clients.length;
    assert.ok(frac > 0.5 / n && frac < 2 / n, `N=${n}: ${frac} of clients moved, expected about ${1 / n}`);
    assert.ok(othersChanged / others < 0.05, `N=${n}: ${othersChanged / others} of the unaffected clients moved`);
    assert.ok(after.every((d) => d !== victim), `N=${n}: nobody stays on the removed dest`);
  }
});

test('explain (commit=false) changes nothing and gives the same answer', () => {
  const svc = service(SVC_F.SCHED1 | SVC_F.SCHED2);
  withDests(svc, [{ ip: '10.0.0.1', weight: 1 }, { ip: '10.0.0.2', weight: 3 }]);
  const before = mhLookupTable(svc);
  for (let i = 0; i < 50; i++) {
    const p: SchedPacket = { caddr: addrFromU32(0xcb007100 + i), cport: 1000 + i, vaddr: addr('192.0.2.1'), vport: 80 };
    const a = svc.scheduler.schedule(svc, p, EXPLAIN);
    const b = svc.scheduler.schedule(svc, p, COMMIT);
    assert.equal(a.dest, b.dest);
    assert.equal(a.reason, b.reason);
  }
  assert.deepEqual(mhLookupTable(svc), before);
});
