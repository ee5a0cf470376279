// Source hashing (net/netfilter/ipvs/ip_vs_sh.c): a 256-bucket table filled from the dest list
// with weights, looked up by a hash of the client address (and, with sh-port, the client port).
// The kernel rebuilds the table on add_dest, del_dest and upd_dest.
import type { Dest } from '../dest.ts';
import { SVC_F, type Service } from '../service.ts';
import { hash32 } from './hash.ts';
import type { SchedContext, SchedPacket, SchedPick, Scheduler, SchedulerFactory } from './scheduler.ts';

/** CONFIG_IP_VS_SH_TAB_BITS default. */
export const SH_TAB_BITS = 8;
export const SH_TAB_SIZE = 1 << SH_TAB_BITS;
const SH_TAB_MASK = SH_TAB_SIZE - 1;

/**
 * ip_vs_sh_reassign: walk the buckets in order, putting the current dest in each and moving to the
 * next dest (wrapping) once it has filled `weight` buckets. The test is `++count >= weight`, so a
 * weight-0 dest still gets one bucket. The weight is read at rebuild time.
 */
export function shBuckets(dests: readonly Dest[]): (Dest | null)[] {
  const table = new Array<Dest | null>(SH_TAB_SIZE).fill(null);
  const n = dests.length;
  if (n === 0) return table;
  let i = 0;
  let count = 0;
  for (let b = 0; b < SH_TAB_SIZE; b++) {
    const d = dests[i];
    table[b] = d;
    if (++count >= d.weight) {
      count = 0;
      i = i + 1 === n ? 0 : i + 1;
    }
  }
  return table;
}

// ip_vs_sh.c is_unavailable: weight <= 0 or OVERLOAD. The AVAILABLE flag is not looked at: the
// table is rebuilt on del_dest, so it never holds a deleted dest.
function unusable(d: Dest): boolean {
  return d.weight <= 0 || d.overloaded;
}

export const createSh: SchedulerFactory = (initial: Service): Scheduler => {
  let table = shBuckets(initial.dests);
  const rebuild = (svc: Service): void => {
    table = shBuckets(svc.dests);
  };
  return {
    name: 'sh',
    schedule(svc: Service, pkt: SchedPacket, ctx: SchedContext): SchedPick {
      // ip_vs_sh_get_port takes the source port for TCP, UDP and SCTP packets and 0 for anything
      // else; every packet the director schedules is one of those three, so the port counts.
      const port = svc.hasFlag(SVC_F.SCHED2) ? pkt.cport : 0;
      // ip_vs_sh_hashkey: (offset + hash_32(ntohs(port) + ntohl(addr_fold), 8)) & 255, u32 sum.
      const h = hash32((port + pkt.caddr.fold) >>> 0, SH_TAB_BITS);
      const d = table[h];
      if (d === null) return { dest: null, reason: 'no-dest' };
      if (!unusable(d)) return ctx.commit ? { dest: d, reason: 'pick' } : { dest: d, reason: 'pick', detail: `bucket ${h}` };
      if (svc.hasFlag(SVC_F.SCHED1)) {
        // ip_vs_sh_get_fallback: roffset = (offset + ihash) % 256 is fed back in as the offset of
        // the hash key, so the probe reads bucket (roffset + ihash) & 255, starting at 2*ihash.
        for (let off = 0; off < SH_TAB_SIZE; off++) {
          const b = (((off + h) & SH_TAB_MASK) + h) & SH_TAB_MASK;
          const f = table[b];
          if (f === null) break;
          if (!unusable(f)) {
            return ctx.commit
              ? { dest: f, reason: 'fallback' }
              : { dest: f, reason: 'fallback', detail: `bucket ${h} unavailable, fallback bucket ${b}` };
          }
        }
      }
      return ctx.commit ? { dest: null, reason: 'unavailable' } : { dest: null, reason: 'unavailable', detail: `bucket ${h}` };
    },
    addDest: rebuild,
    delDest: rebuild,
    updDest: rebuild,
  };
};
