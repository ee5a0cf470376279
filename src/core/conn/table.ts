// The connection table (net/netfilter/ipvs/ip_vs_conn.c): every IPVS entry — connections and
// persistence templates — keyed for the two lookups the director makes, plus the expiry the kernel
// does with one timer per entry.
//
// Lookups. ip_vs_conn_in_get finds a connection by <protocol, caddr, cport, vaddr, vport>;
// ip_vs_ct_in_get finds a template by the same five fields but only among TEMPLATE entries (client
// network, cport 0, vaddr or the fwmark as an address, vport or 0). Both use one open-addressing hash
// table (linear probing, backward-shift deletion, load <= 1/2) of Conn references with a parallel
// Int32Array of their 32-bit hashes: a probe compares hashes first and touches a Conn only on a
// hash match. The hash is MurmurHash3 (32-bit) over the key words with a per-table seed, standing in
// for the kernel's jhash with its random ip_vs_conn_rnd; IPv6 addresses are hashed whole, not folded,
// so clients cannot collide on purpose through the fold. (A string-keyed Map was measured first:
// ~1 µs per lookup and ~260 bytes per entry at 1 M entries — too slow and too big.)
// There is no reply-direction index (ip_vs_conn_out_get): the data planes reach the entry from the
// flow they already hold. There is no per-dest index either: the kernel itself walks the whole table
// to drop a dest's entries (ip_vs_expire_nodest_conn_flush), and a walk of 1 M entries takes tens of
// milliseconds, against memory on every entry for an index.
//
// Expiry. The kernel arms a timer per entry and mod_timer()s it on every packet. Here an entry sits
// in one slot of a timing wheel (tickMs per slot, `slots` slots) chosen by its deadline when it was
// filed; a caller that pushes the deadline later just writes c.expires (O(1), no work per packet).
// When a slot comes due each entry in it is re-checked: due ones are offered to onExpire, the others
// move to the slot of their current deadline. Each entry is thus looked at about once per deadline
// (plus once per wheel turn for deadlines beyond tickMs*slots), which keeps expiry amortised O(1).
// Moving a deadline EARLIER (a state change to a shorter timeout, ip_vs_conn_expire_now) must go
// through rearm(), which re-files the entry.
import type { Addr } from '../addr.ts';
import { type Conn, type ConnProtocol, CONN_F } from './conn.ts';

export interface ConnTableOptions {
  /** Width of one wheel slot in ms (default 1000). Only affects how often an entry is re-checked. */
  readonly tickMs?: number;
  /** Number of wheel slots (default 4096, i.e. one turn = 68 min at 1 s per slot). */
  readonly slots?: number;
  /** Hash seed (the kernel draws ip_vs_conn_rnd at random; the caller may too). */
  readonly seed?: number;
}

/** Why insert() refused an entry. */
export type ConnInsertRefusal = 'exists' | 'one-packet';

const PROTO_CODE: Readonly<Record<ConnProtocol, number>> = { tcp: 1, udp: 2, sctp: 3, ip: 4 };
const TEMPLATE_CODE = 8;
const MIN_CAPACITY = 1024;

// MurmurHash3 x86_32 (Austin Appleby, public domain): one 32-bit block, then the finaliser.
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function mixAddr(h: number, a: Addr): number {
  if (a.family === 4) return mix(h, a.fold);
  const b = a.bytes;
  for (let i = 0; i < 16; i += 4) h = mix(h, (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);
  return h;
}

function keyHash(seed: number, code: number, caddr: Addr, cport: number, vaddr: Addr, vport: number): number {
  let h = mix(seed, code | (caddr.family << 4) | (vaddr.family << 8));
  h = mixAddr(h, caddr);
  h = mix(h, (cport << 16) | vport);
  h = mixAddr(h, vaddr);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function sameAddr(a: Addr, b: Addr): boolean {
  if (a === b) return true;
  if (a.family !== b.family || a.fold !== b.fold) return false;
  if (a.family === 4) return true; // an IPv4 fold is the address itself
  for (let i = 0; i < 16; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}

function codeOf(c: Conn): number {
  return PROTO_CODE[c.protocol] | ((c.flags & CONN_F.TEMPLATE) !== 0 ? TEMPLATE_CODE : 0);
}

export class ConnTable {
  private readonly seed: number;
  // The hash index: refs[i] is an entry or null, hashes[i] its full 32-bit key hash.
  private refs: (Conn | null)[] = [];
  private hashes = new Int32Array(0);
  private mask = 0;
  private hashed = 0;
  /** Live entries no lookup may find any more (template invalidation), still listed and expired. */
  private readonly unhashed = new Set<Conn>();
  /** ip_vs_conn_no_cport_cnt: lookups retry with cport 0 only while NO_CPORT entries exist. */
  private noCport = 0;

  private readonly tickMs: number;
  private readonly nSlots: number;
  /** Wheel slots 0..nSlots-1, plus slot nSlots: entries that became due during expire(). */
  private readonly wheel: (Conn | null)[][];
  private readonly deferred: number;
  /** c.slot = slot + position * stride. */
  private readonly stride: number;
  private spare: (Conn | null)[] = [];
  /** The earliest tick not yet fully processed; null until the first expire(). */
  private cursor: number | null = null;
  /** The slot being processed by expire() and its detached array (entries become null as they are handled). */
  private procSlot = -1;
  private procArr: (Conn | null)[] | null = null;
  private expiring = false;
  private expireAt = 0;

  constructor(options: ConnTableOptions = {}) {
    this.tickMs = options.tickMs ?? 1000;
    this.nSlots = options.slots ?? 4096;
    this.seed = (options.seed ?? 0x2f6b1d3a) | 0;
    if (!(this.tickMs > 0) || !Number.isInteger(this.nSlots) || this.nSlots < 1) {
      throw new Error('ConnTable: tickMs must be > 0 and slots a positive integer');
    }
    this.deferred = this.nSlots;
    this.stride = this.nSlots + 1;
    this.wheel = Array.from({ length: this.nSlots + 1 }, () => []);
    this.resize(MIN_CAPACITY);
  }

  get size(): number {
    return this.hashed + this.unhashed.size;
  }

  /**
   * Hash an entry (ip_vs_conn_hash), keyed from its own fields, and file it by c.expires. Refused
   * for ONE_PACKET entries (the kernel never hashes them) and when an entry with the same key is
   * already present — the director looks up before it creates. The key fields (protocol, caddr,
   * cport, vaddr, vport, the TEMPLATE flag) must not change while the entry is hashed.
   */
  insert(c: Conn): ConnInsertRefusal | null {
    if ((c.flags & CONN_F.ONE_PACKET) !== 0) return 'one-packet';
    if (this.unhashed.has(c)) return 'exists';
    if ((this.hashed + 1) * 2 > this.refs.length) this.resize(this.refs.length * 2);
    const code = codeOf(c);
    const h = keyHash(this.seed, code, c.caddr, c.cport, c.vaddr, c.vport);
    const refs = this.refs;
    const hashes = this.hashes;
    let i = h & this.mask;
    for (let x = refs[i]; x !== null; i = (i + 1) & this.mask, x = refs[i]) {
      if (x === c || (hashes[i] === h && this.matches(x, code, c.caddr, c.cport, c.vaddr, c.vport))) return 'exists';
    }
    refs[i] = c;
    hashes[i] = h;
    this.hashed++;
    if ((c.flags & CONN_F.NO_CPORT) !== 0) this.noCport++;
    this.file(c);
    return null;
  }

  /**
   * The connection a client packet belongs to (ip_vs_conn_in_get). A lookup with cport 0 only
   * matches NO_CPORT entries; when nothing matches and NO_CPORT entries exist, the lookup is
   * retried with cport 0. Templates are never returned.
   */
  lookup(protocol: ConnProtocol, caddr: Addr, cport: number, vaddr: Addr, vport: number): Conn | undefined {
    const code = PROTO_CODE[protocol];
    let c = this.find(keyHash(this.seed, code, caddr, cport, vaddr, vport), code, caddr, cport, vaddr, vport);
    if (c !== undefined && cport === 0 && (c.flags & CONN_F.NO_CPORT) === 0) c = undefined;
    if (c === undefined && cport !== 0 && this.noCport > 0) {
      c = this.find(keyHash(this.seed, code, caddr, 0, vaddr, vport), code, caddr, 0, vaddr, vport);
      if (c !== undefined && (c.flags & CONN_F.NO_CPORT) === 0) c = undefined;
    }
    return c;
  }

  /**
   * The persistence template for a client network (ip_vs_ct_in_get): `caddr` is the masked client
   * address, `vaddr` the VIP or the fwmark as an address (protocol 'ip'), `vport` the port or 0.
   */
  lookupTemplate(protocol: ConnProtocol, caddr: Addr, vaddr: Addr, vport: number): Conn | undefined {
    const code = PROTO_CODE[protocol] | TEMPLATE_CODE;
    return this.find(keyHash(this.seed, code, caddr, 0, vaddr, vport), code, caddr, 0, vaddr, vport);
  }

  has(c: Conn): boolean {
    return this.indexOf(c) >= 0 || this.unhashed.has(c);
  }

  /** Remove an entry (unhash and stop its timer). Returns false if it was not in the table. */
  remove(c: Conn): boolean {
    if (!this.unindex(c)) return false;
    if (c.slot >= 0) this.detach(c);
    return true;
  }

  /**
   * Keep an entry (listed, counted, expiring) but let no lookup find it again. ip_vs_check_template
   * re-hashes an invalidated template under vport/dport 0xffff for this purpose; the director calls
   * unhash() first and may then change c.vport/c.dport for the listing.
   */
  unhash(c: Conn): boolean {
    const i = this.indexOf(c);
    if (i < 0) return false;
    this.deleteAt(i);
    if ((c.flags & CONN_F.NO_CPORT) !== 0) this.noCport--;
    this.unhashed.add(c);
    return true;
  }

  /**
   * Set an entry's deadline (mod_timer). Pushing it later is free; pulling it earlier re-files the
   * entry so it is not expired late. Always safe to call instead of writing c.expires.
   */
  rearm(c: Conn, expires: number): void {
    const earlier = expires < c.expires;
    c.expires = expires;
    if (earlier && c.slot >= 0 && this.has(c)) {
      this.detach(c);
      this.file(c);
    }
  }

  /**
   * Offer every entry whose deadline is <= now to onExpire, and only those. onExpire returns true
   * to remove the entry, or false after re-arming it (c.expires > now; the director's expire_later
   * for templates that still control entries). onExpire may insert, remove, rearm or unhash any
   * entry; entries that become due during the call (inserted, pulled in, or left due by onExpire)
   * are offered at the next call. Returns how many were removed.
   */
  expire(now: number, onExpire: (c: Conn) => boolean): number {
    if (this.expiring) throw new Error('ConnTable.expire is not re-entrant');
    this.expiring = true;
    this.expireAt = now;
    let removed = 0;
    try {
      const nowTick = Math.floor(now / this.tickMs);
      const last = this.cursor === null ? nowTick : Math.max(nowTick, this.cursor);
      const first = this.cursor === null
        ? last - this.nSlots + 1
        : Math.max(this.cursor, last - this.nSlots + 1);
      this.cursor = last;
      for (let t = first; t <= last; t++) removed += this.processSlot(this.slotOf(t), now, onExpire);
    } finally {
      this.expiring = false;
      const held = this.wheel[this.deferred];
      for (let i = 0; i < held.length; i++) {
        const c = held[i] as Conn;
        c.slot = -1;
        this.file(c);
      }
      held.length = 0;
    }
    return removed;
  }

  /**
   * Every entry (for ipvsadm -L -c and walks such as dropping a dest's entries): hashed ones in
   * hash-table order, as the kernel lists its buckets, then unhashed ones. A snapshot, so removing
   * entries while walking it is safe.
   */
  values(): Conn[] {
    const out = new Array<Conn>(this.size);
    let n = 0;
    for (const c of this.refs) if (c !== null) out[n++] = c;
    for (const c of this.unhashed) out[n++] = c;
    return out;
  }

  [Symbol.iterator](): Iterator<Conn> {
    return this.values()[Symbol.iterator]();
  }

  // ---------------------------------------------------------------- hash index

  private matches(c: Conn, code: number, caddr: Addr, cport: number, vaddr: Addr, vport: number): boolean {
    return c.cport === cport && c.vport === vport && codeOf(c) === code && sameAddr(c.caddr, caddr) && sameAddr(c.vaddr, vaddr);
  }

  private find(h: number, code: number, caddr: Addr, cport: number, vaddr: Addr, vport: number): Conn | undefined {
    const refs = this.refs;
    const hashes = this.hashes;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const c = refs[i];
      if (c === null) return undefined;
      if (hashes[i] === h && this.matches(c, code, caddr, cport, vaddr, vport)) return c;
    }
  }

  private indexOf(c: Conn): number {
    const h = keyHash(this.seed, codeOf(c), c.caddr, c.cport, c.vaddr, c.vport);
    const refs = this.refs;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const x = refs[i];
      if (x === null) return -1;
      if (x === c) return i;
    }
  }

  // Backward-shift deletion keeps every probe chain gap-free without tombstones.
  private deleteAt(i: number): void {
    const refs = this.refs;
    const hashes = this.hashes;
    const mask = this.mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const x = refs[j];
      if (x === null) break;
      const home = hashes[j] & mask;
      // The entry at j may move back to the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        refs[i] = x;
        hashes[i] = hashes[j];
        i = j;
      }
    }
    refs[i] = null;
    this.hashed--;
    if (this.refs.length > MIN_CAPACITY && this.hashed * 8 < this.refs.length) this.resize(this.refs.length / 2);
  }

  private unindex(c: Conn): boolean {
    const i = this.indexOf(c);
    if (i >= 0) {
      this.deleteAt(i);
      if ((c.flags & CONN_F.NO_CPORT) !== 0) this.noCport--;
      return true;
    }
    return this.unhashed.delete(c);
  }

  private resize(capacity: number): void {
    const oldRefs = this.refs;
    const oldHashes = this.hashes;
    const refs = new Array<Conn | null>(capacity).fill(null);
    const hashes = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let k = 0; k < oldRefs.length; k++) {
      const c = oldRefs[k];
      if (c === null) continue;
      const h = oldHashes[k];
      let i = h & mask;
      while (refs[i] !== null) i = (i + 1) & mask;
      refs[i] = c;
      hashes[i] = h;
    }
    this.refs = refs;
    this.hashes = hashes;
    this.mask = mask;
  }

  // ---------------------------------------------------------------- timing wheel

  private slotOf(tick: number): number {
    const s = tick % this.nSlots;
    return s < 0 ? s + this.nSlots : s;
  }

  private file(c: Conn): void {
    let s: number;
    if (this.expiring && c.expires <= this.expireAt) {
      s = this.deferred;
    } else {
      let t = Math.floor(c.expires / this.tickMs);
      if (!Number.isFinite(t)) throw new Error(`ConnTable: expires must be finite (got ${c.expires})`);
      if (this.cursor !== null && t < this.cursor) t = this.cursor;
      s = this.slotOf(t);
    }
    const arr = this.wheel[s];
    c.slot = s + arr.length * this.stride;
    arr.push(c);
  }

  private detach(c: Conn): void {
    const s = c.slot % this.stride;
    const pos = (c.slot - s) / this.stride;
    c.slot = -1;
    if (s === this.procSlot && this.procArr !== null && this.procArr[pos] === c) {
      this.procArr[pos] = null;
      return;
    }
    const arr = this.wheel[s];
    if (arr[pos] !== c) throw new Error('ConnTable: slot bookkeeping corrupted');
    const lastEntry = arr.pop() as Conn;
    if (lastEntry !== c) {
      arr[pos] = lastEntry;
      lastEntry.slot = s + pos * this.stride;
    }
  }

  private processSlot(s: number, now: number, onExpire: (c: Conn) => boolean): number {
    const arr = this.wheel[s];
    if (arr.length === 0) return 0;
    this.wheel[s] = this.spare;
    this.procSlot = s;
    this.procArr = arr;
    let removed = 0;
    try {
      for (let i = 0; i < arr.length; i++) {
        const c = arr[i];
        if (c === null) continue;
        arr[i] = null;
        c.slot = -1;
        if (c.expires > now) {
          this.file(c);
        } else if (onExpire(c)) {
          if (this.unindex(c)) removed++;
          if (c.slot >= 0) this.detach(c);
        } else if (c.slot < 0 && this.has(c)) {
          this.file(c);
        }
      }
    } finally {
      // If onExpire threw, the entries not yet handled go back on the wheel.
      for (let i = 0; i < arr.length; i++) {
        const c = arr[i];
        if (c !== null) { arr[i] = null; c.slot = -1; this.file(c); }
      }
      arr.length = 0;
      this.spare = arr;
      this.procSlot = -1;
      this.procArr = null;
    }
    return removed;
  }
}
