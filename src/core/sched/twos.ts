// Power of two choices: ip_vs_twos.c. total = the sum of the weights of the dests that are not
// OVERLOAD and have weight > 0 (none → no dest); two figures r1, r2 = get_random_u32_below(total +
// 1), drawn in that order; a walk over those dests subtracts each weight from both and takes, for
// each, the first dest where it reaches <= 0 (so 0 takes the first such dest). Then choice 2 wins
// only if weight2 * overhead1 > weight1 * overhead2, computed in the kernel's 32-bit int (the
// products wrap, e.g. weight 65535 with 129 active conns). The walk is a search in a
// WeightPrefixIndex; the random figures come from ctx.random exactly as the kernel draws them.
import type { Dest } from '../dest.ts';
import type { SchedPick, SchedulerFactory } from './scheduler.ts';
import { indexHooks } from './list-order-index.ts';
import { WeightPrefixIndex } from './weight-prefix-index.ts';
import { connOverhead } from './wlc.ts';

const NO_DEST: SchedPick = Object.freeze({ dest: null, reason: 'no-dest' });

/** High 32 bits of the 64-bit product of two u32 values, exactly. */
function mulHigh32(a: number, b: number): number {
  const x = a * (b >>> 16);
  const y = a * (b & 0xffff);
  return Math.floor((x + Math.floor(y / 65536)) / 65536);
}

/**
 * drivers/char/random.c: __get_random_u32_below(ceil) — Lemire's multiply-shift, drawing again
 * while the low half of ceil * rand is below 2^32 mod ceil; ceil 0 returns the draw itself.
 */
export function randomBelow(ceil: number, random: () => number): number {
  let rand = random() >>> 0;
  if (ceil === 0) return rand;
  let low = Math.imul(ceil, rand) >>> 0;
  if (low < ceil) {
    const bound = 4294967296 % ceil;
    while (low < bound) {
      rand = random() >>> 0;
      low = Math.imul(ceil, rand) >>> 0;
    }
  }
  return mulHigh32(ceil, rand);
}

const eligible = (d: Dest): boolean => !d.overloaded && d.weight > 0;

/** Above this weight sum the kernel's `int total_weight + 1` wraps. */
const INT_MAX = 0x7fffffff;

/**
 * ip_vs_twos.c step by step in 32-bit int arithmetic, for eligible weight sums of INT_MAX or more
 * (32 768 dests at ipvsadm's 65535, or netlink weights up to INT_MAX): the kernel's total, figures
 * and running subtraction wrap there, which a prefix-sum search cannot follow.
 */
function twosWalk(list: readonly Dest[], random: () => number): Dest | null {
  let total = 0;
  let c1: Dest | null = null;
  for (const d of list) {
    if (eligible(d)) {
      total = (total + d.weight) | 0;
      c1 = d;
    }
  }
  if (c1 === null) return null;
  total = (total + 1) | 0;
  let r1 = randomBelow(total >>> 0, random) | 0;
  let r2 = randomBelow(total >>> 0, random) | 0;
  let c2: Dest | null = null;
  let w1 = -1;
  let w2 = -1;
  let oh1 = 0;
  let oh2 = 0;
  for (const d of list) {
    if (!eligible(d)) continue;
    r1 = (r1 - d.weight) | 0;
    r2 = (r2 - d.weight) | 0;
    if (r1 <= 0 && w1 === -1) { c1 = d; w1 = d.weight; oh1 = connOverhead(d); }
    if (r2 <= 0 && w2 === -1) { c2 = d; w2 = d.weight; oh2 = connOverhead(d); }
    if (w1 !== -1 && w2 !== -1) break;
  }
  // A figure the walk never brought to <= 0 leaves choice1 at the first loop's last eligible dest,
  // weight1 at -1 and overhead1 at 0, exactly as the kernel's initialisers do.
  return c2 !== null && Math.imul(w2, oh1) > Math.imul(w1, oh2) ? c2 : c1;
}

export const createTwos: SchedulerFactory = (svc) => {
  const index = new WeightPrefixIndex(eligible, svc.dests);
  return {
    name: 'twos',
    schedule(s, _pkt, ctx) {
      index.sync(s.dests);
      const total = index.total;
      if (total === 0) {
        return ctx.commit ? NO_DEST : { dest: null, reason: 'no-dest', detail: 'no destination available' };
      }
      if (total >= INT_MAX) {
        const dest = twosWalk(s.dests, ctx.random);
        return ctx.commit ? { dest, reason: 'pick' } : { dest, reason: 'pick', detail: 'weight sum past INT_MAX: kernel walk' };
      }
      const r1 = randomBelow(total + 1, ctx.random);
      const r2 = randomBelow(total + 1, ctx.random);
      const p1 = index.find(r1 > 0 ? r1 : 1);
      const p2 = index.find(r2 > 0 ? r2 : 1);
      const d1 = index.destAt(p1) as Dest;
      const d2 = index.destAt(p2) as Dest;
      const w1 = index.weightAt(p1);
      const w2 = index.weightAt(p2);
      const oh1 = connOverhead(d1);
      const oh2 = connOverhead(d2);
      const dest = Math.imul(w2, oh1) > Math.imul(w1, oh2) ? d2 : d1;
      if (ctx.commit) return { dest, reason: 'pick' };
      return {
        dest,
        reason: 'pick',
        detail: `figures ${r1}, ${r2} below ${total + 1}: overhead ${oh1} / weight ${w1} vs overhead ${oh2} / weight ${w2}`,
      };
    },
    ...indexHooks(index),
  };
};
