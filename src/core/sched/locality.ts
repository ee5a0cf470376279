// What lblc and lblcr share (net/netfilter/ipvs/ip_vs_lblc.c, ip_vs_lblcr.c): a per-service table
// keyed by the packet's destination address, hashed into 1024 buckets with hash_32(fold, 10); a
// garbage collector run every 60 s by a kernel timer; the weighted least-connection fallback; and
// the "overloaded while someone else is under half load" test. The two files carry identical
// copies of these in the kernel.
import type { Dest } from '../dest.ts';
import { destOverhead } from '../dest.ts';
import type { Service } from '../service.ts';
import { hash32 } from './hash.ts';

/** CONFIG_IP_VS_LBLC_TAB_BITS / CONFIG_IP_VS_LBLCR_TAB_BITS default. */
export const LOCALITY_TAB_BITS = 10;
export const LOCALITY_TAB_SIZE = 1 << LOCALITY_TAB_BITS;
const LOCALITY_TAB_MASK = LOCALITY_TAB_SIZE - 1;
/** tbl->max_size: above this many (counted) entries the periodic GC starts evicting idle ones. */
export const LOCALITY_MAX_SIZE = LOCALITY_TAB_SIZE * 16;
/** CHECK_EXPIRE_INTERVAL: the GC timer period. */
export const CHECK_EXPIRE_INTERVAL_MS = 60 * 1000;
/** ENTRY_TIMEOUT: idle time after which a size-bounded GC pass may drop an entry. */
export const ENTRY_TIMEOUT_MS = 6 * 60 * 1000;
/** DEFAULT_EXPIRATION: default of the lblc_expiration / lblcr_expiration sysctls. */
export const DEFAULT_EXPIRATION_MS = 24 * 60 * 60 * 1000;
/** COUNT_FOR_FULL_EXPIRATION: every 30th GC run is a full expiry pass. */
export const COUNT_FOR_FULL_EXPIRATION = 30;

/** A sysctl value in ms, fixed or read live (the kernel reads it at every use). */
export type ExpirationSetting = number | (() => number);

export function readExpiration(e: ExpirationSetting): number {
  return typeof e === 'number' ? e : e();
}

/** ip_vs_lblc_hashkey / ip_vs_lblcr_hashkey. */
export function localityBucket(fold: number): number {
  return hash32(fold, LOCALITY_TAB_BITS);
}

/**
 * __ip_vs_lblc_schedule / __ip_vs_lblcr_schedule: the first dest (list order) that is not OVERLOAD
 * and has weight > 0 starts as least; every later non-OVERLOAD dest replaces it when
 * loh * w(d) > doh * w(least). Weight-0 dests are not skipped in the second loop but can never win.
 */
export function localityWlc(svc: Service): Dest | null {
  const dests = svc.dests;
  const n = dests.length;
  let i = 0;
  let least: Dest | null = null;
  for (; i < n; i++) {
    const d = dests[i];
    if (d.overloaded) continue;
    if (d.weight > 0) {
      least = d;
      break;
    }
  }
  if (least === null) return null;
  let loh = destOverhead(least);
  for (i++; i < n; i++) {
    const d = dests[i];
    if (d.overloaded) continue;
    const doh = destOverhead(d);
    if (loh * d.weight > doh * least.weight) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/**
 * is_overloaded (lblc and lblcr): the dest has more active conns than its weight AND some dest of
 * the service (any, even weight 0 or OVERLOAD) is under half load (active * 2 < weight).
 */
export function localityOverloaded(dest: Dest, svc: Service): boolean {
  if (dest.activeConns <= dest.weight) return false;
  for (const d of svc.dests) {
    if (d.activeConns * 2 < d.weight) return true;
  }
  return false;
}

/** What both tables store per destination address. */
export interface LocalityEntry {
  /** The destination address as text (the table key). */
  readonly key: string;
  readonly bucket: number;
  /** ms; refreshed by every lookup that finds the entry. */
  lastuse: number;
}

/**
 * The hash table plus the GC timer state. Entries are found by key through a Map; bucket
 * membership is kept as well because the size-bounded GC walks buckets from a rover and stops
 * after the bucket in which it met its goal, so which entries go depends on the buckets.
 * `counted` mirrors the kernel's atomic tbl->entries, which is not always the number of entries
 * (lblc's replace path drops an entry without decrementing it).
 */
export class LocalityTable<E extends LocalityEntry> {
  readonly byKey = new Map<string, E>();
  private readonly buckets: (Set<E> | undefined)[] = new Array<Set<E> | undefined>(LOCALITY_TAB_SIZE);
  counted = 0;
  private rover = 0;
  private counter = 1;
  /** When the GC timer fires next (ms); undefined until the first tick arms it. */
  nextRun: number | undefined;
  /** Set by done(): a flushed table takes no new entries. */
  dead = false;

  get(key: string): E | undefined {
    return this.byKey.get(key);
  }

  /** hlist_add_head + atomic_inc(&tbl->entries). */
  add(e: E): void {
    this.byKey.set(e.key, e);
    let b = this.buckets[e.bucket];
    if (b === undefined) {
      b = new Set<E>();
      this.buckets[e.bucket] = b;
    }
    b.add(e);
    this.counted++;
  }

  /** hlist_del: the entry leaves the table; the caller decides whether the count drops. */
  unlink(e: E): void {
    this.byKey.delete(e.key);
    this.buckets[e.bucket]?.delete(e);
  }

  /** done_service: flush everything and refuse new entries. */
  flush(): void {
    this.byKey.clear();
    this.buckets.fill(undefined);
    this.counted = 0;
    this.dead = true;
  }

  /**
   * Run the GC timer for every period that has elapsed by `now`. The kernel arms the timer at
   * init_service; here the first tick arms it (60 s later), so the director should tick once
   * right after creating the scheduler. Each run uses its own due time as "now".
   */
  tick(now: number, expiration: () => number): void {
    if (this.dead) return;
    if (this.nextRun === undefined) {
      this.nextRun = now + CHECK_EXPIRE_INTERVAL_MS;
      return;
    }
    while (now >= this.nextRun) {
      this.checkExpire(this.nextRun, expiration);
      this.nextRun += CHECK_EXPIRE_INTERVAL_MS;
    }
  }

  /** ip_vs_lblc_check_expire / ip_vs_lblcr_check_expire. */
  private checkExpire(now: number, expiration: () => number): void {
    if (this.counter % COUNT_FOR_FULL_EXPIRATION === 0) {
      // Full check: every bucket, drop entries idle for at least the sysctl expiration. The walk
      // covers all 1024 buckets starting after the rover, so the rover ends where it started.
      const exp = expiration();
      for (const b of this.buckets) {
        if (b === undefined) continue;
        for (const e of b) {
          if (now < e.lastuse + exp) continue;
          this.unlink(e);
          this.counted--;
        }
      }
      this.counter = 1;
      return;
    }
    if (this.counted <= LOCALITY_MAX_SIZE) {
      this.counter++;
      return;
    }
    // Size-bounded pass: from the bucket after the rover, drop entries idle >= ENTRY_TIMEOUT,
    // a whole bucket at a time, until the goal is met.
    let goal = Math.trunc(((this.counted - LOCALITY_MAX_SIZE) * 4) / 3);
    if (goal > LOCALITY_MAX_SIZE / 2) goal = LOCALITY_MAX_SIZE / 2;
    let j = this.rover;
    for (let i = 0; i < LOCALITY_TAB_SIZE; i++) {
      j = (j + 1) & LOCALITY_TAB_MASK;
      const b = this.buckets[j];
      if (b !== undefined) {
        for (const e of b) {
          if (now < e.lastuse + ENTRY_TIMEOUT_MS) continue;
          this.unlink(e);
          this.counted--;
          goal--;
        }
      }
      if (goal <= 0) break;
    }
    this.rover = j;
  }
}
