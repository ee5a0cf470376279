// Weighted round-robin: ip_vs_wrr.c. State (the kernel's ip_vs_wrr_mark): cl = the list element of
// the last pick (or the head), cw = the weight a dest needs now, mw = the highest weight minus
// (di - 1), di = the gcd of the positive weights. Each pick walks on from cl to the first dest that
// is not OVERLOAD with weight >= cw; at the end of the list cw drops by di and wraps to mw. The
// reduced mw makes the last pass of a round ask for weight >= 1, and the "stop"/last-pass logic
// ends the search with "all destinations are overloaded" once every dest was tried at that level.
// Any add, delete or edit (add_dest, del_dest, upd_dest = ip_vs_wrr_dest_changed) sends cl back to
// the head and recomputes di and mw, keeping cw unless it is now out of range.
import type { Dest } from '../dest.ts';
import type { SchedPick, SchedulerFactory } from './scheduler.ts';
import type { Service } from '../service.ts';
import { weightGcd } from './weight-gcd.ts';

const NO_DEST: SchedPick = Object.freeze({ dest: null, reason: 'no-dest' });
const OVERLOADED: SchedPick = Object.freeze({ dest: null, reason: 'overloaded' });
/** Index value meaning "the list head" (not a dest). */
const HEAD = -1;
/** `stop` not set. */
const NONE = -2;

/** ip_vs_wrr_gcd_weight: gcd of the weights > 0, 1 when there are none. */
function gcdWeight(list: readonly Dest[]): number {
  return weightGcd(list, (d) => d.weight) || 1;
}

/** ip_vs_wrr_max_weight: over every dest, OVERLOAD or not. */
function maxWeight(list: readonly Dest[]): number {
  let m = 0;
  for (const d of list) if (d.weight > m) m = d.weight;
  return m;
}

export const createWrr: SchedulerFactory = (svc) => {
  let cl = HEAD;
  let di = gcdWeight(svc.dests);
  let mw = maxWeight(svc.dests) - (di - 1);
  let cw = mw;

  function destChanged(s: Service): void {
    cl = HEAD;
    di = gcdWeight(s.dests);
    mw = maxWeight(s.dests) - (di - 1);
    if (cw > mw || cw === 0) cw = mw;
    else if (di > 1) cw = Math.trunc(cw / di) * di + 1;
  }

  return {
    name: 'wrr',
    schedule(s, _pkt, ctx) {
      const list = s.dests;
      const n = list.length;
      let dest = cl < n ? cl : HEAD;
      let w = cw;
      if (mw === 0) {
        if (ctx.commit) cl = dest;
        return ctx.commit ? NO_DEST : { dest: null, reason: 'no-dest', detail: 'no destination available' };
      }
      const last = dest;
      let lastPass = false;
      let restarted = false;
      let stop = NONE;
      let found: Dest | null = null;
      search: for (;;) {
        for (dest++; dest < n; dest++) {
          const d = list[dest];
          if (!d.overloaded && d.weight >= w) {
            found = d;
            break search;
          }
          if (dest === stop) break search;
        }
        dest = HEAD;
        w -= di;
        if (w <= 0) {
          w = mw;
          if (lastPass || last === HEAD) break search;
          restarted = true;
        }
        lastPass = w <= di;
        if (lastPass && restarted && last !== HEAD) stop = last;
      }
      if (ctx.commit) {
        cl = dest;
        cw = w;
        return found === null ? OVERLOADED : { dest: found, reason: 'pick' };
      }
      return found === null
        ? { dest: null, reason: 'overloaded', detail: 'no destination available: all destinations are overloaded' }
        : { dest: found, reason: 'pick', detail: `weight ${found.weight} >= current weight ${w} (max ${mw}, step ${di})` };
    },
    addDest: destChanged,
    delDest: destChanged,
    updDest: destChanged,
  };
};
