// Locality-based least-connection (net/netfilter/ipvs/ip_vs_lblc.c): remember one dest per packet
// destination address; keep using it while it is available, has weight and is not overloaded
// (see localityOverloaded), otherwise pick by weighted least-connection and remember that one.
// The kernel registers no dest hooks: an entry keeps its dest even after the dest is deleted; a
// deleted dest has AVAILABLE cleared, so the entry is simply re-picked. (The kernel keeps a
// deleted dest in its trash while entries hold it and revives the same dest on a re-add, which
// makes such entries valid again.)
import type { Dest } from '../dest.ts';
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

export interface LblcOptions {
  /** sysctl net.ipv4.vs.lblc_expiration in ms (default 24 h): idle time before a full GC pass drops an entry. */
  readonly expirationMs?: ExpirationSetting;
}

interface LblcEntry extends LocalityEntry {
  readonly dest: Dest;
}

/** An lblc scheduler plus read-only views of its table for explain and tests. */
export interface LblcScheduler extends Scheduler {
  /** The dest and last use recorded for a destination address (by Addr.text). */
  entry(addrText: string): { readonly dest: Dest; readonly lastuse: number } | undefined;
  /** Number of entries in the table. */
  readonly size: number;
  /** The kernel's tbl->entries counter (drifts above size, see locality.ts). */
  readonly counted: number;
}

export function lblcFactory(options: LblcOptions = {}): (svc: Service) => LblcScheduler {
  const expirationSetting = options.expirationMs ?? DEFAULT_EXPIRATION_MS;
  const expiration = (): number => readExpiration(expirationSetting);
  return (): LblcScheduler => {
    const table = new LocalityTable<LblcEntry>();
    return {
      name: 'lblc',
      schedule(svc: Service, pkt: SchedPacket, ctx: SchedContext): SchedPick {
        const key = pkt.vaddr.text;
        const en = table.get(key);
        if (en !== undefined) {
          if (ctx.commit) en.lastuse = ctx.now;
          const d = en.dest;
          if (d.available && d.weight > 0 && !localityOverloaded(d, svc)) {
            return ctx.commit ? { dest: d, reason: 'table-hit' } : { dest: d, reason: 'table-hit', detail: `bucket ${en.bucket}` };
          }
        }
        const d = localityWlc(svc);
        if (d === null) return { dest: null, reason: 'no-dest' };
        if (!ctx.commit) {
          const what = en === undefined ? 'new entry' : en.dest === d ? 'entry kept' : 'entry replaced';
          return { dest: d, reason: 'pick', detail: `bucket ${localityBucket(pkt.vaddr.fold)}, ${what}` };
        }
        if (!table.dead) {
          // ip_vs_lblc_new: keep an entry that already names this dest; otherwise unlink the old
          // entry WITHOUT decrementing tbl->entries (a kernel quirk) and hash a fresh one.
          if (en === undefined || en.dest !== d) {
            if (en !== undefined) table.unlink(en);
            table.add({ key, bucket: localityBucket(pkt.vaddr.fold), lastuse: ctx.now, dest: d });
          }
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
        return e === undefined ? undefined : { dest: e.dest, lastuse: e.lastuse };
      },
      get size(): number {
        return table.byKey.size;
      },
      get counted(): number {
        return table.counted;
      },
    };
  };
}

export const createLblc: SchedulerFactory = lblcFactory();
