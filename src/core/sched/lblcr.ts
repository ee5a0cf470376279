// Locality-based least-connection with replication (net/netfilter/ipvs/ip_vs_lblcr.c): remember a
// SET of dests per packet destination address. Use the set's weighted-least-loaded member unless
// it is overloaded (see localityOverloaded); then pick by weighted least-connection over the whole
// service and add that dest to the set. A set with more than one member that has not changed for
// lblcr_expiration loses its most loaded member. No dest hooks: members keep pointing at deleted
// dests (AVAILABLE cleared, so the min pick skips them) until expiry or GC removes them.
import type { Dest } from '../dest.ts';
import { destOverhead } from '../dest.ts';
import type { Service } from '../service.ts';
import {
  DEFAULT_EXPIRATION_MS,
  type ExpirationSetting,
  type LocalityEntry,
  LocalityTable,
  localityBucket,
  localityOverloaded,
  localityWlc,
  readExpiration,
} from './locality.ts';
import type { SchedContext, SchedPacket, SchedPick, Scheduler, SchedulerFactory } from './scheduler.ts';

export interface LblcrOptions {
  /**
   * sysctl net.ipv4.vs.lblcr_expiration in ms (default 24 h): both how long a multi-member set
   * must stay unchanged before it sheds its most loaded member, and the idle time before a full
   * GC pass drops an entry.
   */
  readonly expirationMs?: ExpirationSetting;
}

interface LblcrEntry extends LocalityEntry {
  /** Set members, newest first (list_add_rcu puts a new member at the head). */
  readonly set: Dest[];
  /** ms of the last insert or erase. */
  lastmod: number;
}

/** An lblcr scheduler plus read-only views of its table for explain and tests. */
export interface LblcrScheduler extends Scheduler {
  /** The dest set (newest first) and times recorded for a destination address (by Addr.text). */
  entry(addrText: string): { readonly set: readonly Dest[]; readonly lastuse: number; readonly lastmod: number } | undefined;
  readonly size: number;
}

/**
 * ip_vs_dest_set_min: the first member that is not OVERLOAD, has weight > 0 and is AVAILABLE
 * starts; a later non-OVERLOAD member replaces it when loh * w(d) > doh * w(least) and it is
 * AVAILABLE.
 */
function setMin(set: readonly Dest[]): Dest | null {
  let i = 0;
  let least: Dest | null = null;
  for (; i < set.length; i++) {
    const d = set[i];
    if (d.overloaded) continue;
    if (d.weight > 0 && d.available) {
      least = d;
      break;
    }
  }
  if (least === null) return null;
  let loh = destOverhead(least);
  for (i++; i < set.length; i++) {
    const d = set[i];
    if (d.overloaded) continue;
    const doh = destOverhead(d);
    if (loh * d.weight > doh * least.weight && d.available) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/**
 * ip_vs_dest_set_max: the first member with weight > 0 starts (OVERLOAD and AVAILABLE are not
 * looked at); a later member with weight > 0 replaces it when moh * w(d) < doh * w(most).
 */
function setMax(set: readonly Dest[]): Dest | null {
  let i = 0;
  let most: Dest | null = null;
  for (; i < set.length; i++) {
    if (set[i].weight > 0) {
      most = set[i];
      break;
    }
  }
  if (most === null) return null;
  let moh = destOverhead(most);
  for (i++; i < set.length; i++) {
    const d = set[i];
    const doh = destOverhead(d);
    if (moh * d.weight < doh * most.weight && d.weight > 0) {
      most = d;
      moh = doh;
    }
  }
  return most;
}

export function lblcrFactory(options: LblcrOptions = {}): (svc: Service) => LblcrScheduler {
  const expirationSetting = options.expirationMs ?? DEFAULT_EXPIRATION_MS;
  const expiration = (): number => readExpiration(expirationSetting);
  return (): LblcrScheduler => {
    const table = new LocalityTable<LblcrEntry>();
    return {
      name: 'lblcr',
      schedule(svc: Service, pkt: SchedPacket, ctx: SchedContext): SchedPick {
        const key = pkt.vaddr.text;
        const en = table.get(key);
        if (en !== undefined) {
          if (ctx.commit) en.lastuse = ctx.now;
          const min = setMin(en.set);
          // The shrink happens before the overload test and may remove the very member that is
          // about to be returned (min and max coincide when loads tie); it is still used now.
          let shed: Dest | null = null;
          if (en.set.length > 1 && ctx.now > en.lastmod + expiration()) {
            shed = setMax(en.set);
            if (shed !== null && ctx.commit) {
              en.set.splice(en.set.indexOf(shed), 1);
              en.lastmod = ctx.now;
            }
          }
          const note = shed === null ? '' : `, shed ${shed.addr.text}:${shed.port}`;
          if (min !== null && !localityOverloaded(min, svc)) {
            return ctx.commit ? { dest: min, reason: 'table-hit' } : { dest: min, reason: 'table-hit', detail: `bucket ${en.bucket}${note}` };
          }
          const d = localityWlc(svc);
          if (d === null) return { dest: null, reason: 'no-dest' };
          if (!ctx.commit) return { dest: d, reason: 'pick', detail: `bucket ${en.bucket}, added to set${note}` };
          // ip_vs_dest_set_insert with check: a member already present is not re-added and
          // lastmod is left alone.
          if (!table.dead && !en.set.includes(d)) {
            en.set.unshift(d);
            en.lastmod = ctx.now;
          }
          return { dest: d, reason: 'pick' };
        }
        const d = localityWlc(svc);
        if (d === null) return { dest: null, reason: 'no-dest' };
        if (!ctx.commit) return { dest: d, reason: 'pick', detail: `bucket ${localityBucket(pkt.vaddr.fold)}, new entry` };
        if (!table.dead) {
          table.add({ key, bucket: localityBucket(pkt.vaddr.fold), lastuse: ctx.now, set: [d], lastmod: ctx.now });
        }
        return { dest: d, reason: 'pick' };
      },
      tick(_svc: Service, now: number): void {
        table.tick(now, expiration);
      },
      done(): void {
        table.flush();
      },
      entry(addrText: string) {
        const e = table.get(addrText);
        return e === undefined ? undefined : { set: e.set.slice(), lastuse: e.lastuse, lastmod: e.lastmod };
      },
      get size(): number {
        return table.byKey.size;
      },
    };
  };
}

export const createLblcr: SchedulerFactory = lblcrFactory();
