// Round-robin: ip_vs_rr.c. The scheduler remembers the list element it picked last (initially the
// list head itself) and walks on from the element after it, wrapping once, to the first dest that
// is not OVERLOAD and has weight > 0. The kernel keeps a list pointer; here it is an index into
// svc.dests, so addDest (an insert at index 0) shifts it, and delDest of the remembered dest moves
// it to that dest's predecessor (or the head) as ip_vs_rr_del_dest does, so the walk resumes with
// the dest that followed the deleted one.
import type { Dest } from '../dest.ts';
import type { SchedPick, SchedulerFactory } from './scheduler.ts';

const NO_DEST: SchedPick = Object.freeze({ dest: null, reason: 'no-dest' });
const NO_DEST_EXPLAINED: SchedPick = Object.freeze({
  dest: null,
  reason: 'no-dest',
  detail: 'no destination available',
});

export const createRr: SchedulerFactory = () => {
  /** Index of the last pick in svc.dests; -1 = the list head (ip_vs_rr_init_svc). */
  let pos = -1;
  /** The dest at `pos`, to notice a list changed without the hooks. */
  let posDest: Dest | null = null;

  function locate(list: readonly Dest[]): number {
    if (pos >= list.length || (pos >= 0 && list[pos] !== posDest)) {
      pos = posDest === null ? -1 : list.indexOf(posDest);
      if (pos < 0) posDest = null;
    }
    return pos;
  }

  return {
    name: 'rr',
    schedule(svc, _pkt, ctx) {
      const list = svc.dests;
      const n = list.length;
      let i = locate(list);
      // From the head: one pass over the list; from a dest: the rest of the list, then the
      // start of it up to and including that dest.
      for (let k = 0; k < n; k++) {
        if (++i === n) i = 0;
        const d = list[i];
        if (!d.overloaded && d.weight > 0) {
          if (!ctx.commit) {
            const from = pos < 0 ? 'the list head' : `position ${pos}`;
            return { dest: d, reason: 'pick', detail: `first available after ${from}: position ${i} of ${n}` };
          }
          pos = i;
          posDest = d;
          return { dest: d, reason: 'pick' };
        }
      }
      return ctx.commit ? NO_DEST : NO_DEST_EXPLAINED;
    },
    addDest() {
      if (pos >= 0) pos++;
    },
    delDest(svc, dest, index) {
      if (dest === posDest) {
        pos = index - 1;
        posDest = pos >= 0 ? svc.dests[pos] : null;
      } else if (pos >= 0 && index < pos) {
        pos--;
      }
    },
  };
};
