// rr and wrr against the kernel: net/netfilter/ipvs/ip_vs_rr.c and ip_vs_wrr.c. Expected sequences
// are worked out by hand from those files; a literal linked-list transcription of each (with the
// kernel's list pointer semantics) checks long random runs of adds, deletes, edits and OVERLOAD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dest } from '../../src/core/dest.ts';
import type { Service } from '../../src/core/service.ts';
import type { SchedPick } from '../../src/core/sched/scheduler.ts';
import {
  addDest, delDest, emptyService, makeService, samplePacket, schedContext, seededRandom, setOverloaded, setWeight,
} from './fixtures.ts';

const PKT = samplePacket();
const COMMIT = schedContext();
const EXPLAIN = schedContext({ commit: false });

/** Name the dests A, B, C… in list order. */
function named(svc: Service): Map<Dest, string> {
  return new Map(svc.dests.map((d, i) => [d, String.fromCharCode(65 + i)]));
}

function pick(svc: Service, commit = true): SchedPick {
  return svc.scheduler.schedule(svc, PKT, commit ? COMMIT : EXPLAIN);
}

/** n committed picks as names ('-' for none). */
function picks(svc: Service, names: Map<Dest, string>, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = pick(svc);
    out.push(p.dest ? (names.get(p.dest) ?? '?') : '-');
  }
  return out.join(' ');
}

// ---------------------------------------------------------------------------------------------
// rr

test('rr: hand-worked sequences (ip_vs_rr.c)', async (t) => {
  const rows: { desc: string; weights: number[]; overloaded?: number[]; n: number; want: string }[] = [
    { desc: 'walks the list from the head and wraps', weights: [1, 1, 1], n: 7, want: 'A B C A B C A' },
    { desc: 'weight is ignored except 0', weights: [5, 1, 3], n: 4, want: 'A B C A' },
    { desc: 'skips weight 0 and OVERLOAD', weights: [1, 0, 1, 1], overloaded: [2], n: 4, want: 'A D A D' },
    { desc: 'a single available dest is returned every time', weights: [0, 2, 0], n: 3, want: 'B B B' },
    { desc: 'nothing available', weights: [0, 0], n: 2, want: '- -' },
    { desc: 'empty service', weights: [], n: 1, want: '-' },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const svc = makeService('rr', r.weights);
      for (const i of r.overloaded ?? []) setOverloaded(svc.dests[i], true);
      assert.equal(picks(svc, named(svc), r.n), r.want);
    });
  }
});

test('rr: reason is no-dest when nothing is available', () => {
  const svc = makeService('rr', [0, 1]);
  setOverloaded(svc.dests[1], true);
  assert.deepEqual(pick(svc), { dest: null, reason: 'no-dest' });
  assert.equal(pick(svc, false).reason, 'no-dest');
});

test('rr: list changes around the remembered position (ip_vs_rr_del_dest, list_add_rcu at the head)', async (t) => {
  await t.test('deleting the remembered dest resumes with the dest after it', () => {
    const svc = makeService('rr', [1, 1, 1, 1]);
    const names = named(svc);
    assert.equal(picks(svc, names, 2), 'A B');
    delDest(svc, svc.dests[1]);
    assert.equal(picks(svc, names, 4), 'C D A C');
  });
  await t.test('deleting the remembered first dest falls back to the list head', () => {
    const svc = makeService('rr', [1, 1, 1]);
    const names = named(svc);
    assert.equal(picks(svc, names, 1), 'A');
    delDest(svc, svc.dests[0]);
    assert.equal(picks(svc, names, 3), 'B C B');
  });
  await t.test('deleting the remembered last dest wraps to the start', () => {
    const svc = makeService('rr', [1, 1, 1]);
    const names = named(svc);
    assert.equal(picks(svc, names, 3), 'A B C');
    delDest(svc, svc.dests[2]);
    assert.equal(picks(svc, names, 3), 'A B A');
  });
  await t.test('deleting a dest before the position does not move it', () => {
    const svc = makeService('rr', [1, 1, 1, 1]);
    const names = named(svc);
    assert.equal(picks(svc, names, 3), 'A B C');
    delDest(svc, svc.dests[0]);
    assert.equal(picks(svc, names, 3), 'D B C');
  });
  await t.test('a dest added at the list head does not move the position', () => {
    const svc = makeService('rr', [1, 1, 1]);
    const names = named(svc);
    assert.equal(picks(svc, names, 2), 'A B');
    names.set(addDest(svc, 1), 'X');
    assert.equal(picks(svc, names, 5), 'C X A B C');
  });
  await t.test('a dest added to a service still at the head position is picked first', () => {
    const svc = makeService('rr', [1, 1]);
    const names = named(svc);
    names.set(addDest(svc, 1), 'X');
    assert.equal(picks(svc, names, 3), 'X A B');
  });
  await t.test('the remembered dest is tried last when the others become unavailable', () => {
    const svc = makeService('rr', [1, 1, 1]);
    const names = named(svc);
    assert.equal(picks(svc, names, 2), 'A B');
    setWeight(svc, svc.dests[0], 0);
    setWeight(svc, svc.dests[2], 0);
    assert.equal(picks(svc, names, 2), 'B B');
  });
});

test('rr: explain (commit=false) does not move the position', () => {
  const svc = makeService('rr', [1, 1, 1]);
  const names = named(svc);
  assert.equal(picks(svc, names, 1), 'A');
  for (let i = 0; i < 3; i++) {
    const p = pick(svc, false);
    assert.equal(names.get(p.dest as Dest), 'B');
    assert.equal(p.reason, 'pick');
    assert.ok(p.detail);
  }
  assert.equal(picks(svc, names, 2), 'B C');
});

// ---------------------------------------------------------------------------------------------
// wrr

test('wrr: hand-worked sequences (ip_vs_wrr.c)', async (t) => {
  const rows: { desc: string; weights: number[]; overloaded?: number[]; n: number; want: string }[] = [
    // di=1, mw=4: cw=4 A; cw=3 A B; cw=2 A B C; cw=1 A B C; wrap to 4.
    { desc: '4,3,2 built with the full list', weights: [4, 3, 2], n: 12, want: 'A A B A B C A B C A A B' },
    // di=2, mw=6-1=5: cw=5 A; cw=3 A B; cw=1 (last pass) A B C.
    { desc: 'gcd 2: 6,4,2 keeps the 3:2:1 ratio', weights: [6, 4, 2], n: 12, want: 'A A B A B C A A B A B C' },
    // di=2, mw=3: cw=3 A; cw=1 A B.
    { desc: 'gcd 2: 4,2', weights: [4, 2], n: 6, want: 'A A B A A B' },
    // di=1, mw=2: cw=2 A; cw=1 A B; Z (weight 0) never.
    { desc: 'a weight-0 dest is never chosen', weights: [2, 0, 1], n: 6, want: 'A A C A A C' },
    // A overloaded: cw=4 nothing; cw=3 B; cw=2 B C; cw=1 B C.
    { desc: 'an OVERLOAD dest is skipped', weights: [4, 3, 2], overloaded: [0], n: 6, want: 'B B C B C B' },
    // Equal weights: di=3, mw=1: plain rotation.
    { desc: 'equal weights rotate', weights: [3, 3, 3], n: 4, want: 'A B C A' },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const svc = makeService('wrr', r.weights);
      for (const i of r.overloaded ?? []) setOverloaded(svc.dests[i], true);
      assert.equal(picks(svc, named(svc), r.n), r.want);
    });
  }
});

test('wrr: dests added one at a time (ip_vs_wrr_dest_changed on every add)', () => {
  // Empty: di=1, mw=0, cw=0. Add C(2): di=2, mw=1, cw 0 → mw = 1. Add B(3): di=1, mw=3, cw=1 kept.
  // Add A(4): di=1, mw=4, cw=1 kept. So the first round runs at cw=1: A B C; then the end of the
  // list wraps cw to 4 and the normal rounds follow: A, A B, A B C, A B C.
  const svc = emptyService('wrr');
  const c = addDest(svc, 2);
  const b = addDest(svc, 3);
  const a = addDest(svc, 4);
  const names = new Map<Dest, string>([[a, 'A'], [b, 'B'], [c, 'C']]);
  assert.equal(picks(svc, names, 12), 'A B C A A B A B C A B C');
});

test('wrr: weight edits mid-stream (upd_dest → ip_vs_wrr_dest_changed)', async (t) => {
  await t.test('cw is kept when still in range and the walk restarts at the head', () => {
    // 4,3,2: A A B leaves cw=3, cl=B. C→6: di=1, mw=6, cw=3 kept, cl=head.
    // cw=3: A B C; 2: A B C; 1: A B C; wrap to 6: C; 5: C; 4: A C; 3: A B C.
    const svc = makeService('wrr', [4, 3, 2]);
    const names = named(svc);
    assert.equal(picks(svc, names, 3), 'A A B');
    setWeight(svc, svc.dests[2], 6);
    assert.equal(picks(svc, names, 16), 'A B C A B C A B C C C A C A B C');
  });
  await t.test('a gcd above 1 after the edit rounds cw to a multiple of di plus 1', () => {
    // 4,3: A (cw4), A B (cw3), A (cw2) → cw=2, cl=A. B→2: di=2, mw=3, cw=(2/2)*2+1=3, cl=head.
    // cw=3: A; 1 (last pass): A B; wrap to 3: A; 1: A B.
    const svc = makeService('wrr', [4, 3]);
    const names = named(svc);
    assert.equal(picks(svc, names, 4), 'A A B A');
    setWeight(svc, svc.dests[1], 2);
    assert.equal(picks(svc, names, 6), 'A A B A A B');
  });
  await t.test('cw above the new maximum drops to it', () => {
    // 5,1: cw=5 A, then cw=4 A → cl=A, cw=4. A→2: di=1, mw=2, cw 4 > 2 → 2.
    // cw=2: A; cw=1: A B; wrap to 2: A.
    const svc = makeService('wrr', [5, 1]);
    const names = named(svc);
    assert.equal(picks(svc, names, 2), 'A A');
    setWeight(svc, svc.dests[0], 2);
    assert.equal(picks(svc, names, 4), 'A A B A');
  });
  await t.test('a deleted dest sends the walk back to the head', () => {
    // 2,2,2 (di=2, mw=1): A B; delete C → cl=head: A B A.
    const svc = makeService('wrr', [2, 2, 2]);
    const names = named(svc);
    assert.equal(picks(svc, names, 2), 'A B');
    delDest(svc, svc.dests[2]);
    assert.equal(picks(svc, names, 3), 'A B A');
  });
});

test('wrr: reasons for no dest', async (t) => {
  await t.test('every weight 0 → mw=0 → no-dest', () => {
    const svc = makeService('wrr', [0, 0]);
    assert.deepEqual(pick(svc), { dest: null, reason: 'no-dest' });
  });
  await t.test('empty service → no-dest', () => {
    const svc = emptyService('wrr');
    assert.deepEqual(pick(svc), { dest: null, reason: 'no-dest' });
  });
  await t.test('every weighted dest OVERLOAD → overloaded', () => {
    const svc = makeService('wrr', [1, 1]);
    setOverloaded(svc.dests[0], true);
    setOverloaded(svc.dests[1], true);
    assert.deepEqual(pick(svc), { dest: null, reason: 'overloaded' });
    const explained = pick(svc, false);
    assert.equal(explained.reason, 'overloaded');
    assert.match(explained.detail ?? '', /all destinations are overloaded/);
  });
  await t.test('the only weighted dest OVERLOAD after a pick (the stop logic) → overloaded, then back', () => {
    const svc = makeService('wrr', [1, 0]);
    const names = named(svc);
    assert.equal(picks(svc, names, 1), 'A');
    setOverloaded(svc.dests[0], true);
    assert.equal(pick(svc).reason, 'overloaded');
    setOverloaded(svc.dests[0], false);
    assert.equal(picks(svc, names, 2), 'A A');
  });
});

test('wrr: explain (commit=false) leaves cl and cw alone', () => {
  const svc = makeService('wrr', [4, 3, 2]);
  const names = named(svc);
  assert.equal(picks(svc, names, 2), 'A A');
  for (let i = 0; i < 3; i++) assert.equal(names.get(pick(svc, false).dest as Dest), 'B');
  assert.equal(picks(svc, names, 10), 'B A B C A B C A A B');
});

// ---------------------------------------------------------------------------------------------
// Literal transcriptions with a doubly linked list and a head sentinel, as in the kernel.

interface Node { dest: Dest | null; prev: Node; next: Node }

class KernelList {
  readonly head: Node;
  constructor() {
    const h = { dest: null } as unknown as Node;
    h.prev = h;
    h.next = h;
    this.head = h;
  }
  /** list_add_rcu(&dest->n_list, &svc->destinations). */
  addFront(dest: Dest): Node {
    const n: Node = { dest, prev: this.head, next: this.head.next };
    this.head.next.prev = n;
    this.head.next = n;
    return n;
  }
  /** list_del_rcu: neighbours are relinked, the node keeps its next pointer. */
  unlink(n: Node): void {
    n.prev.next = n.next;
    n.next.prev = n.prev;
  }
  find(dest: Dest): Node {
    for (let n = this.head.next; n !== this.head; n = n.next) if (n.dest === dest) return n;
    throw new Error('not in list');
  }
  *nodes(): Generator<Node> {
    for (let n = this.head.next; n !== this.head; n = n.next) yield n;
  }
}

const usable = (d: Dest, minWeight: number) => !d.overloaded && d.weight >= minWeight;

class RrModel {
  readonly list: KernelList;
  p: Node;
  constructor(list: KernelList) { this.list = list; this.p = list.head; }
  delDest(node: Node): void { if (this.p === node) this.p = node.next.prev; }
  schedule(commit: boolean): Dest | null {
    const last = this.p;
    let dest = this.p;
    let pass = 0;
    do {
      for (dest = dest.next; dest !== this.list.head; dest = dest.next) {
        if (usable(dest.dest as Dest, 1)) {
          if (commit) this.p = dest;
          return dest.dest;
        }
        if (dest === last) return null;
      }
      pass++;
    } while (pass < 2 && this.p !== this.list.head);
    return null;
  }
}

class WrrModel {
  readonly list: KernelList;
  cl: Node; cw = 0; mw = 0; di = 1;
  constructor(list: KernelList) {
    this.list = list;
    this.cl = list.head;
    this.recalc();
    this.cw = this.mw;
  }
  private recalc(): void {
    const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
    let g = 0;
    let m = 0;
    for (const n of this.list.nodes()) {
      const w = (n.dest as Dest).weight;
      if (w > 0) g = g > 0 ? gcd(w, g) : w;
      if (w > m) m = w;
    }
    this.di = g || 1;
    this.mw = m - (this.di - 1);
  }
  changed(): void {
    this.cl = this.list.head;
    this.recalc();
    if (this.cw > this.mw || this.cw === 0) this.cw = this.mw;
    else if (this.di > 1) this.cw = Math.trunc(this.cw / this.di) * this.di + 1;
  }
  schedule(commit: boolean): { dest: Dest | null; reason: string } {
    const saved = { cl: this.cl, cw: this.cw };
    const r = this.run();
    if (!commit) { this.cl = saved.cl; this.cw = saved.cw; }
    return r;
  }
  private run(): { dest: Dest | null; reason: string } {
    const head = this.list.head;
    let dest = this.cl;
    if (this.mw === 0) { this.cl = dest; return { dest: null, reason: 'no-dest' }; }
    const last = dest;
    let lastPass = false;
    let restarted = false;
    let stop: Node | null = null;
    for (;;) {
      for (dest = dest.next; dest !== head; dest = dest.next) {
        if (usable(dest.dest as Dest, this.cw)) { this.cl = dest; return { dest: dest.dest, reason: 'pick' }; }
        if (dest === stop) { this.cl = dest; return { dest: null, reason: 'overloaded' }; }
      }
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        if (lastPass || last === head) { this.cl = dest; return { dest: null, reason: 'overloaded' }; }
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      if (lastPass && restarted && last !== head) stop = last;
    }
  }
}

test('rr and wrr match a linked-list transcription over random adds, deletes, edits and OVERLOAD', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const rnd = seededRandom(seed * 7919);
    const below = (n: number) => rnd() % n;
    const rrSvc = emptyService('rr');
    const wrrSvc = emptyService('wrr');
    const rrList = new KernelList();
    const wrrList = new KernelList();
    const rr = new RrModel(rrList);
    const wrr = new WrrModel(wrrList);
    // The same logical dest in both services: pairs by position in svc.dests.
    for (let step = 0; step < 600; step++) {
      const op = below(20);
      const n = rrSvc.dests.length;
      if (op < 3 || n === 0) {
        const w = below(6) === 0 ? 0 : 1 + below(6);
        rrList.addFront(addDest(rrSvc, w));
        wrrList.addFront(addDest(wrrSvc, w));
        wrr.changed();
      } else if (op < 5 && n > 0) {
        const i = below(n);
        const rd = rrSvc.dests[i];
        const wd = wrrSvc.dests[i];
        const rn = rrList.find(rd);
        const wn = wrrList.find(wd);
        rrList.unlink(rn);
        wrrList.unlink(wn);
        delDest(rrSvc, rd);
        rr.delDest(rn);
        delDest(wrrSvc, wd);
        wrr.changed();
      } else if (op < 7) {
        const i = below(n);
        const w = below(4) === 0 ? 0 : 1 + below(8);
        setWeight(rrSvc, rrSvc.dests[i], w);
        setWeight(wrrSvc, wrrSvc.dests[i], w);
        wrr.changed();
      } else if (op < 9) {
        const i = below(n);
        const on = below(3) !== 0;
        setOverloaded(rrSvc.dests[i], on);
        setOverloaded(wrrSvc.dests[i], on);
      } else {
        const commit = op !== 9;
        const gotRr = pick(rrSvc, commit);
        const wantRr = rr.schedule(commit);
        const idx = (svc: Service, d: Dest | null) => (d === null ? -1 : svc.dests.indexOf(d));
        assert.equal(idx(rrSvc, gotRr.dest), idx(rrSvc, wantRr), `rr seed ${seed} step ${step}`);
        const gotWrr = pick(wrrSvc, commit);
        const wantWrr = wrr.schedule(commit);
        assert.equal(idx(wrrSvc, gotWrr.dest), idx(wrrSvc, wantWrr.dest), `wrr seed ${seed} step ${step}`);
        assert.equal(gotWrr.reason, wantWrr.reason, `wrr reason seed ${seed} step ${step}`);
      }
    }
  }
});
