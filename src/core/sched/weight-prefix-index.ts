// Running weight totals over dest positions in list order (a Fenwick tree), so the twos walk —
// "subtract each eligible dest's weight until the remainder is <= 0" — is a O(log n) search for
// the first position whose running total reaches the random figure.
import type { Dest } from '../dest.ts';
import { ListOrderIndex } from './list-order-index.ts';

export class WeightPrefixIndex extends ListOrderIndex {
  private readonly eligible: (d: Dest) => boolean;
  /** The weight counted at each position (0 when the dest is skipped by the walk). */
  private w = new Float64Array(1);
  /** 1-based Fenwick tree over w. */
  private fen = new Float64Array(2);
  private sum = 0;

  constructor(eligible: (d: Dest) => boolean, list: readonly Dest[]) {
    super();
    this.eligible = eligible;
    this.rebuild(list);
  }

  /** Sum of the counted weights. */
  get total(): number {
    return this.sum;
  }

  /** Weight counted for the dest at `pos`. */
  weightAt(pos: number): number {
    return this.w[pos];
  }

  destAt(pos: number): Dest | null {
    return this.byPos[pos];
  }

  /** First position (list order) whose running total is >= t; 1 <= t <= total. */
  find(t: number): number {
    const fen = this.fen;
    const cap = this.cap;
    let idx = 0;
    let rem = t;
    for (let step = cap; step > 0; step >>= 1) {
      const next = idx + step;
      if (next <= cap && fen[next] < rem) {
        idx = next;
        rem -= fen[next];
      }
    }
    return idx;
  }

  private counted(pos: number): number {
    const d = this.byPos[pos];
    return d !== null && this.eligible(d) ? d.weight : 0;
  }

  protected reset(): void {
    const cap = this.cap;
    this.w = new Float64Array(cap);
    this.fen = new Float64Array(cap + 1);
    let sum = 0;
    for (let pos = this.first; pos < cap; pos++) {
      const v = this.counted(pos);
      this.w[pos] = v;
      sum += v;
      this.fen[pos + 1] += v;
    }
    for (let i = 1; i <= cap; i++) {
      const parent = i + (i & -i);
      if (parent <= cap) this.fen[parent] += this.fen[i];
    }
    this.sum = sum;
  }

  protected update(pos: number): void {
    const v = this.counted(pos);
    const delta = v - this.w[pos];
    if (delta === 0) return;
    this.w[pos] = v;
    this.sum += delta;
    const fen = this.fen;
    const cap = this.cap;
    for (let i = pos + 1; i <= cap; i += i & -i) fen[i] += delta;
  }
}
