// What the proxy plane's TCP and UDP halves share: the director they ask, the clock every director
// call is stamped with, the drop counters, the PROXY-protocol choices and the read-buffer pool.
import type { Director } from '../../core/director.ts';
import type { Dest } from '../../core/dest.ts';
import type { Addr } from '../../core/addr.ts';
import type { ProxyProtocolVersion } from './proxy-protocol.ts';
import type { TcpSession } from './tcp-session.ts';

/** The part of the Director the plane uses (a fake in unit tests implements just this). */
export type PlaneDirector = Pick<Director,
  'services' | 'findServiceForFlow' | 'lookupConn' | 'schedule' | 'stateEvent' | 'account' | 'expireNow' | 'tick' | 'timeouts'>;

/**
 * Why the plane refused, reset or gave up a connection (or dropped a datagram): a metric label each.
 * - no-service / no-dest / not-scheduled: the director had nothing for the flow (kernel: ICMP port
 *   unreachable; a user-space TCP listener has already accepted, so the client gets a reset);
 * - dest-unavailable: the flow's entry still points at a deleted dest (kernel: packet dropped);
 * - rs-refused / rs-timeout / rs-error: connecting to the real server failed;
 * - rs-reset / client-reset / client-error: a side reset or failed mid-connection;
 * - idle-timeout: the entry's state timeout ran out (ESTABLISHED 900 s, --set …);
 * - dest-closed: closeDest() closed it; stopped: stop()'s grace ran out; stopping: arrived during stop;
 * - accept-error: accept(2) failed (e.g. EMFILE); client-gone: the client left before it was scheduled;
 * - udp-send-error / udp-rs-error / udp-backlog: a datagram could not be passed on.
 */
export type DropReason =
  | 'no-service' | 'no-dest' | 'not-scheduled' | 'dest-unavailable'
  | 'rs-refused' | 'rs-timeout' | 'rs-error' | 'rs-reset'
  | 'client-reset' | 'client-error' | 'client-gone'
  | 'idle-timeout' | 'dest-closed' | 'stopped' | 'stopping' | 'accept-error'
  | 'udp-send-error' | 'udp-rs-error' | 'udp-backlog';

export interface PlaneContext {
  director: PlaneDirector | null;
  /** Milliseconds on the clock the director's deadlines use. */
  readonly clock: () => number;
  readonly drops: Record<string, number>;
  readonly connectTimeoutMs: number;
  readonly buffers: BufferPool;
  /** Every TCP session with at least one socket still open. */
  readonly tcpSessions: Set<TcpSession>;
  /** Set by stop(): new flows are refused. */
  stopping: boolean;
  drop(reason: DropReason): void;
  /** The PROXY header version to send to this dest for this service, or null. */
  proxyProtocolFor(svcId: string, dest: Dest): ProxyProtocolVersion | null;
  /** A parsed client address (cached: the same clients come back). */
  addrOf(text: string): Addr | null;
}

/**
 * Read buffers for `onread` sockets: the kernel reads straight into memory that is reused chunk after
 * chunk, so nothing is allocated per chunk. A buffer goes back to the pool only after its socket and
 * the socket it was written to are both closed (a pending write may still point into it until then).
 *
 * Two sizes. `take()` gives a full buffer (`size`, 16 KiB by default, HAProxy's bufsize). The fast
 * engine starts each socket on a small one instead (`takeSmall()`, `smallSize`, 1 KiB by default)
 * and moves it to a full one the first time a read fills it (tcp-handles.ts; the cost is one more
 * read(2) for such a side, once): many connections never carry a burst that big (a request, a
 * short answer), and two small buffers cost an idle connection half a page where two full ones
 * cost at least two pages once anything was read (measured: 48 against 106 MiB per 10 000 idle
 * connections; HAProxy holds no buffer at all while nothing is in flight). Small buffers are carved from 64 KiB slabs so they
 * share pages and carry no allocation header each; a slab is freed by the GC once none of its
 * buffers is referenced any more.
 */
export class BufferPool {
  readonly size: number;
  readonly smallSize: number;
  readonly #free: Buffer[] = [];
  readonly #freeSmall: Buffer[] = [];
  readonly #max: number;
  readonly #maxSmall: number;
  #slab: Buffer | null = null;
  #slabUsed = 0;

  constructor(size: number, maxFree: number, smallSize: number = Math.min(size, 1024), maxFreeSmall: number = 4 * maxFree) {
    this.size = size;
    this.smallSize = Math.min(smallSize, size);
    this.#max = maxFree;
    this.#maxSmall = maxFreeSmall;
  }

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  takeSmall(): Buffer {
    const b = this.#freeSmall.pop();
    if (b !== undefined) return b;
    const n = this.smallSize;
    if (n === this.size) return this.take();
    let slab = this.#slab;
    if (slab === null || this.#slabUsed + n > slab.length) {
      slab = Buffer.allocUnsafeSlow(Math.max(n, SLAB_BYTES));
      this.#slab = slab;
      this.#slabUsed = 0;
    }
    const off = this.#slabUsed;
    this.#slabUsed = off + n;
    return slab.subarray(off, off + n);
  }

  give(b: Buffer): void {
    if (b.length === this.size) {
      if (this.#free.length < this.#max) this.#free.push(b);
    } else if (this.#freeSmall.length < this.#maxSmall) {
      this.#freeSmall.push(b);
    }
  }

  get free(): number {
    return this.#free.length;
  }

  get freeSmall(): number {
    return this.#freeSmall.length;
  }
}

const SLAB_BYTES = 65536;
