// Maglev hashing (net/netfilter/ipvs/ip_vs_mh.c): every dest gets a permutation of the lookup
// table's slots from two hsiphash values of its address and port; dests take turns (weighted by
// last_weight) claiming their next free preferred slot until the table is full. A lookup hashes the
// client address (and, with mh-port, the client port) to one slot. The kernel rebuilds on
// add_dest, del_dest and upd_dest.
import type { Addr, Family } from '../addr.ts';
import type { Dest } from '../dest.ts';
import { SVC_F, type Service } from '../service.ts';
import { hsiphashKey, hsiphashU32 } from '../siphash.ts';
import type { SchedContext, SchedPacket, SchedPick, Scheduler, SchedulerFactory } from './scheduler.ts';
import { weightGcd } from './weight-gcd.ts';

// ip_vs_mh.c: primes[CONFIG_IP_VS_MH_TAB_INDEX - 8] with the default index 12.
const MH_PRIMES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071] as const;
const MH_TAB_INDEX = 12;
/** Lookup table size M. The kernel refuses to build a table for more than M dests (-EINVAL). */
export const MH_TABLE_SIZE: number = MH_PRIMES[MH_TAB_INDEX - 8];
/** IP_VS_MH_TAB_BITS = CONFIG_IP_VS_MH_TAB_INDEX / 2: the weight resolution kept after the shift. */
const MH_TAB_BITS = MH_TAB_INDEX / 2;

// generate_hash_secret: fixed keys, so every director builds the same table for the same dests.
const MH_KEY1 = hsiphashKey(2654435761n, 2654435761n);
const MH_KEY2 = hsiphashKey(2654446892n, 2654446892n);

/** True when the kernel would refuse to (re)build the table for this many dests. */
export function mhTooManyDests(count: number): boolean {
  return count > MH_TABLE_SIZE;
}

// ip_vs_mh_hashkey folds the address with the SERVICE's family: a v6 dest of a v4 service (a
// tunnel dest) contributes only its first 32-bit word; a v4 dest of a v6 service folds to itself.
function foldAs(a: Addr, family: Family): number {
  if (family === 4 && a.family === 6) {
    const b = a.bytes;
    return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  }
  return a.fold;
}

// fls(): 1-based index of the highest set bit, 0 for 0.
function fls(x: number): number {
  return 32 - Math.clz32(x);
}

/**
 * ip_vs_mh_gcd_weight + ip_vs_mh_shift_weight + ip_vs_mh_permutate + ip_vs_mh_populate: the lookup
 * table for the service's current dests (all null when there is no dest with last_weight > 0).
 * Callers check mhTooManyDests first.
 */
export function mhLookupTable(svc: Service): (Dest | null)[] {
  const M = MH_TABLE_SIZE;
  const table = new Array<Dest | null>(M).fill(null);
  const dests = svc.dests;
  const n = dests.length;
  const g = weightGcd(dests, (d) => d.lastWeight);
  let maxW = 0;
  for (const d of dests) if (d.lastWeight > maxW) maxW = d.lastWeight;
  // gcd < 1: no dest, or every last_weight is 0 — the kernel resets the table to empty.
  if (g < 1) return table;
  const shift = fls(Math.trunc(maxW / g)) - MH_TAB_BITS;
  const rshift = shift >= 0 ? shift : 0;

  const perm = new Int32Array(n);
  const skip = new Int32Array(n);
  const turns = new Int32Array(n);
  const family = svc.family;
  for (let i = 0; i < n; i++) {
    const d = dests[i];
    const v = (d.port + foldAs(d.addr, family)) >>> 0;
    perm[i] = hsiphashU32(v, MH_KEY1) % M;
    skip[i] = (hsiphashU32(v, MH_KEY2) % (M - 1)) + 1;
    const lw = d.lastWeight;
    // (lw / gcd) >> rshift, or 1 for any non-zero weight that the shift rounded away.
    turns[i] = (Math.trunc(lw / g) >> rshift) || (lw !== 0 ? 1 : 0);
  }

  // Round after round over the list: each dest with turns >= 1 claims `turns` slots in a row,
  // each time the next free slot along its permutation; stop the moment the table is full.
  const taken = new Uint8Array(M);
  let filled = 0;
  let dt = 0;
  for (;;) {
    for (let i = 0; i < n; ) {
      if (turns[i] < 1) {
        i++;
        continue;
      }
      let c = perm[i];
      while (taken[c] !== 0) {
        c += skip[i];
        if (c >= M) c -= M;
      }
      perm[i] = c;
      taken[c] = 1;
      table[c] = dests[i];
      if (++filled === M) return table;
      if (++dt >= turns[i]) {
        dt = 0;
        i++;
      }
    }
  }
}

// ip_vs_mh.c is_unavailable: weight <= 0 or OVERLOAD (the table never holds a deleted dest).
function unusable(d: Dest): boolean {
  return d.weight <= 0 || d.overloaded;
}

export const createMh: SchedulerFactory = (initial: Service): Scheduler => {
  // init_service fails with -EINVAL above M dests; the director refuses that before calling here
  // (see mhTooManyDests), so an empty table is only a guard.
  let table = mhTooManyDests(initial.dests.length) ? new Array<Dest | null>(MH_TABLE_SIZE).fill(null) : mhLookupTable(initial);
  const rebuild = (svc: Service): void => {
    // ip_vs_mh_reassign returns -EINVAL before touching the table; the caller ignores the error.
    if (mhTooManyDests(svc.dests.length)) return;
    table = mhLookupTable(svc);
  };
  return {
    name: 'mh',
    schedule(svc: Service, pkt: SchedPacket, ctx: SchedContext): SchedPick {
      const M = MH_TABLE_SIZE;
      // ip_vs_mh_get_port: the source port of TCP/UDP/SCTP packets (all the director schedules).
      const port = svc.hasFlag(SVC_F.SCHED2) ? pkt.cport : 0;
      const fold = pkt.caddr.fold;
      // v = offset + ntohs(port) + ntohl(addr_fold), a u32; the lookup uses the first key only.
      const slot = hsiphashU32((port + fold) >>> 0, MH_KEY1) % M;
      const d = table[slot];
      if (d === null) return { dest: null, reason: 'no-dest' };
      if (!unusable(d)) return ctx.commit ? { dest: d, reason: 'pick' } : { dest: d, reason: 'pick', detail: `slot ${slot}` };
      if (svc.hasFlag(SVC_F.SCHED1)) {
        // ip_vs_mh_get_fallback: rehash with offsets (i + ihash) % M until a usable dest.
        for (let off = 0; off < M; off++) {
          const roffset = (off + slot) % M;
          const s = hsiphashU32((roffset + port + fold) >>> 0, MH_KEY1) % M;
          const f = table[s];
          if (f === null) break;
          if (!unusable(f)) {
            return ctx.commit
              ? { dest: f, reason: 'fallback' }
              : { dest: f, reason: 'fallback', detail: `slot ${slot} unavailable, fallback slot ${s}` };
          }
        }
      }
      return ctx.commit ? { dest: null, reason: 'unavailable' } : { dest: null, reason: 'unavailable', detail: `slot ${slot}` };
    },
    addDest: rebuild,
    delDest: rebuild,
    updDest: rebuild,
  };
};
