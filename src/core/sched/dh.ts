// Destination hashing (net/netfilter/ipvs/ip_vs_dh.c): a 256-bucket table filled round-robin from
// the dest list (weights ignored), looked up by a hash of the packet's destination address. The
// kernel registers add_dest and del_dest only: editing a dest does not rebuild the table (the table
// does not depend on weights, so nothing is lost).
import type { Dest } from '../dest.ts';
import type { Service } from '../service.ts';
import { hash32 } from './hash.ts';
import type { SchedContext, SchedPacket, SchedPick, Scheduler, SchedulerFactory } from './scheduler.ts';

/** CONFIG_IP_VS_DH_TAB_BITS default. */
export const DH_TAB_BITS = 8;
export const DH_TAB_SIZE = 1 << DH_TAB_BITS;

/** ip_vs_dh_reassign: bucket i holds the (i mod n)-th dest of the list. */
export function dhBuckets(dests: readonly Dest[]): (Dest | null)[] {
  const table = new Array<Dest | null>(DH_TAB_SIZE).fill(null);
  const n = dests.length;
  if (n === 0) return table;
  for (let b = 0; b < DH_TAB_SIZE; b++) table[b] = dests[b % n];
  return table;
}

export const createDh: SchedulerFactory = (initial: Service): Scheduler => {
  let table = dhBuckets(initial.dests);
  const rebuild = (svc: Service): void => {
    table = dhBuckets(svc.dests);
  };
  return {
    name: 'dh',
    schedule(_svc: Service, pkt: SchedPacket, ctx: SchedContext): SchedPick {
      const h = hash32(pkt.vaddr.fold, DH_TAB_BITS);
      const d = table[h];
      if (d === null) return { dest: null, reason: 'no-dest' };
      // ip_vs_dh_schedule: no fallback; AVAILABLE, weight > 0 and !OVERLOAD or nothing.
      if (!d.available || d.weight <= 0 || d.overloaded) {
        return ctx.commit ? { dest: null, reason: 'unavailable' } : { dest: null, reason: 'unavailable', detail: `bucket ${h}` };
      }
      return ctx.commit ? { dest: d, reason: 'pick' } : { dest: d, reason: 'pick', detail: `bucket ${h}` };
    },
    addDest: rebuild,
    delDest: rebuild,
  };
};
