// A tournament tree over dest positions in list order that gives, in O(1) per decision and O(log n)
// per change, the dest the kernel's linear walk would return for lc, wlc, sed, nq, fo and ovf.
//
// Each of those walks keeps a "best so far" and replaces it only when a later dest is strictly
// better; the order it compares by is a total preorder, so the walk returns the first dest (in list
// order) of the minimal class. A tree node keeps the winner of its range, the left (earlier) child
// winning ties, so the root is exactly that dest. Where a kernel comparison stops being a preorder
// (wlc/sed when a 32-bit overhead wraps negative on a weight-0 dest) the rule says so and the
// scheduler falls back to the kernel's own walk.
import type { Dest } from '../dest.ts';
import type { Service } from '../service.ts';
import type { SchedPick, Scheduler, SchedulerName } from './scheduler.ts';
import { ListOrderIndex, indexHooks } from './list-order-index.ts';

/**
 * How a rule orders dests:
 * - 'load': smaller load wins (lc).
 * - 'load-per-weight': smaller load/weight wins, compared as load(L)*w(D) > load(D)*w(L) (wlc, sed).
 * - 'idle-first': the first idle dest wins outright, else as 'load-per-weight' (nq).
 * - 'weight': larger weight wins (fo, ovf).
 */
export type LeastLoadOrder = 'load' | 'load-per-weight' | 'idle-first' | 'weight';

export interface LeastLoadRule {
  readonly order: LeastLoadOrder;
  /** The kernel walk may choose this dest at all (it is not skipped). */
  eligible(d: Dest): boolean;
  /** The walk's load figure, with the kernel's integer type applied. */
  load(d: Dest): number;
  /** 'idle-first' only: the dest is returned at once by the walk. */
  idle?(d: Dest): boolean;
  /**
   * True when the dest breaks the preorder (see the top of this file); while any dest does,
   * schedule() uses scan() instead of the tree.
   */
  irregular?(d: Dest): boolean;
  /** The kernel's linear walk, for irregular states. */
  scan?(list: readonly Dest[]): Dest | null;
  /** Explain text for a chosen dest. */
  describe(d: Dest): string;
}

const SAFE = 2 ** 53;

/** LeastLoadOrder as small integers for the hot comparison. */
const ORDER_CODE: Readonly<Record<LeastLoadOrder, number>> = { load: 0, 'load-per-weight': 1, 'idle-first': 2, weight: 3 };

/**
 * The kernels' `(__s64)loh * w(D) > (__s64)doh * w(L)`: is D strictly better than L? Exact even when
 * a product passes 2^53 (weights up to INT_MAX are accepted by the kernel).
 */
export function loadPerWeightBeats(loh: number, wl: number, doh: number, wd: number): boolean {
  const x = loh * wd;
  const y = doh * wl;
  if (x < SAFE && x > -SAFE && y < SAFE && y > -SAFE) return x > y;
  return BigInt(loh) * BigInt(wd) > BigInt(doh) * BigInt(wl);
}

export class LeastLoadIndex extends ListOrderIndex {
  readonly rule: LeastLoadRule;
  // The rule's parts copied into fields of one class shape, so every scheduler's index is read
  // the same way (rule objects differ in shape from file to file).
  private readonly order: number;
  private readonly eligible: (d: Dest) => boolean;
  private readonly loadOf: (d: Dest) => number;
  private readonly idleOf: ((d: Dest) => boolean) | null;
  private readonly irregularOf: ((d: Dest) => boolean) | null;
  /**
   * Node arrays: 1 is the root, cap + pos the leaf of a position. Each node holds its range's
   * winning position (-1: none) and a copy of that winner's key, so a level compares two adjacent
   * nodes instead of reaching into per-position arrays.
   */
  private win = new Int32Array(2);
  private load = new Float64Array(2);
  private weight = new Float64Array(2);
  private idle = new Uint8Array(2);
  /** Per position: the dest breaks the preorder. */
  private odd = new Uint8Array(1);
  private oddCount = 0;

  constructor(rule: LeastLoadRule, list: readonly Dest[]) {
    super();
    this.rule = rule;
    this.order = ORDER_CODE[rule.order];
    this.eligible = rule.eligible;
    this.loadOf = rule.load;
    this.idleOf = rule.idle ?? null;
    this.irregularOf = rule.irregular ?? null;
    this.rebuild(list);
  }

  /** The dest the kernel walk returns, or null; valid while irregular is 0. */
  best(): Dest | null {
    const w = this.win[1];
    return w < 0 ? null : this.byPos[w];
  }

  /** How many dests currently break the preorder. */
  get irregular(): number {
    return this.oddCount;
  }

  protected reset(): void {
    const cap = this.cap;
    this.win = new Int32Array(2 * cap).fill(-1);
    this.load = new Float64Array(2 * cap);
    this.weight = new Float64Array(2 * cap);
    this.idle = new Uint8Array(2 * cap);
    this.odd = new Uint8Array(cap);
    this.oddCount = 0;
    for (let pos = this.first; pos < cap; pos++) this.setLeaf(pos);
    for (let i = cap - 1; i >= 1; i--) this.combine(i);
  }

  protected update(pos: number): void {
    if (!this.setLeaf(pos)) return;
    const win = this.win;
    for (let i = (this.cap + pos) >> 1; i >= 1; i >>= 1) {
      const before = win[i];
      this.combine(i);
      // Only pos's key changed: a node still won by another position looks the same from above.
      if (win[i] === before && before !== pos) return;
    }
  }

  /** Refresh the leaf at pos; false when nothing the comparisons read has changed. */
  private setLeaf(pos: number): boolean {
    const d = this.byPos[pos];
    const leaf = this.cap + pos;
    const wasEligible = this.win[leaf] === pos;
    let changed = false;
    if (d !== null && this.eligible(d)) {
      const load = this.loadOf(d);
      const weight = d.weight;
      const idle = this.idleOf !== null && this.idleOf(d) ? 1 : 0;
      if (!wasEligible || this.load[leaf] !== load || this.weight[leaf] !== weight || this.idle[leaf] !== idle) {
        changed = true;
        this.win[leaf] = pos;
        this.load[leaf] = load;
        this.weight[leaf] = weight;
        this.idle[leaf] = idle;
      }
    } else if (wasEligible) {
      changed = true;
      this.win[leaf] = -1;
    }
    const odd = d !== null && this.irregularOf !== null && this.irregularOf(d) ? 1 : 0;
    if (this.odd[pos] !== odd) {
      this.oddCount += odd === 1 ? 1 : -1;
      this.odd[pos] = odd;
    }
    return changed;
  }

  /** Node i takes the winner of its two children; the left (earlier) child keeps ties. */
  private combine(i: number): void {
    const win = this.win;
    const l = 2 * i;
    const r = l + 1;
    let c: number;
    if (win[l] < 0) c = r;
    else if (win[r] < 0) c = l;
    else c = this.rightBeats(l, r) ? r : l;
    win[i] = win[c];
    this.load[i] = this.load[c];
    this.weight[i] = this.weight[c];
    this.idle[i] = this.idle[c];
  }

  /** Would the kernel walk, holding the winner of node a, replace it by the winner of node b? */
  private rightBeats(a: number, b: number): boolean {
    const load = this.load;
    const weight = this.weight;
    switch (this.order) {
      case 0: // load
        return load[b] < load[a];
      case 1: // load-per-weight
        return loadPerWeightBeats(load[a], weight[a], load[b], weight[b]);
      case 2: // idle-first
        if (this.idle[a] === 1) return false;
        if (this.idle[b] === 1) return true;
        return loadPerWeightBeats(load[a], weight[a], load[b], weight[b]);
      default: // weight
        return weight[b] > weight[a];
    }
  }
}

const NO_DEST: SchedPick = Object.freeze({ dest: null, reason: 'no-dest' });
const NO_DEST_EXPLAINED: SchedPick = Object.freeze({
  dest: null,
  reason: 'no-dest',
  detail: 'no destination available',
});

/**
 * A scheduler whose kernel module is a single list walk with no hooks: the index follows the list
 * through addDest/delDest and every weight, flag or count change through loadChanged.
 */
export function leastLoadScheduler(name: SchedulerName, rule: LeastLoadRule, svc: Service): Scheduler {
  const index = new LeastLoadIndex(rule, svc.dests);
  return {
    name,
    schedule(s, _pkt, ctx) {
      index.sync(s.dests);
      const dest = index.irregular > 0 && rule.scan !== undefined ? rule.scan(s.dests) : index.best();
      if (dest === null) return ctx.commit ? NO_DEST : NO_DEST_EXPLAINED;
      return ctx.commit ? { dest, reason: 'pick' } : { dest, reason: 'pick', detail: rule.describe(dest) };
    },
    ...indexHooks(index),
  };
}
