// The queue path's answering side: each queued packet is the first packet of a new connection to a
// service whose decision needs the core (lc, wlc, sed, nq, lblc, lblcr, fo, ovf, twos, mh,
// thresholds, exact sh, or forced). The core schedules it exactly as IPVS would (director.schedule,
// which also creates the connection entry and counts it), and the verdict carries the chosen dest's
// backend mark; the kernel's settle chain copies it to the ct mark (NAT) or the DR flow map, and
// NAT/routing does the rest. A retransmitted SYN is queued again: it finds the entry the first one
// created and gets the same answer, so decisions are idempotent per 5-tuple.
import type { Director, Flow } from '../../core/director.ts';
import { addrFromBytes } from '../../core/addr.ts';
import type { Protocol } from '../../core/service.ts';
import { backendMark, isBackendMark, MARK_TAG_MASK, QUEUE_TAG } from './marks.ts';
import { destKey } from './model.ts';

export interface QueuedPacket {
  readonly id: number;
  readonly payload: Uint8Array;
  readonly mark: number;
}

/** What the plane needs of an NFQUEUE consumer (sys/nfqueue.ts implements it). */
export interface QueueSource {
  onPackets(handler: (batch: readonly QueuedPacket[]) => void): void;
  onFailure?(handler: (message: string) => void): void;
  verdict(id: number, verdict: number, mark: number | null): void;
  flush(): void;
  close(): Promise<void>;
}

const NF_DROP = 0;
const NF_ACCEPT = 1;
const PROTOCOLS: Readonly<Record<number, Protocol>> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

/**
 * The 5-tuple of an IPv4 or IPv6 packet (TCP/UDP/SCTP all start with source and destination
 * ports). IPv6: the transport header must follow the fixed 40-byte header directly (RFC 8200 §4:
 * a first packet of TCP/UDP/SCTP carries no extension headers in practice; one that does is counted
 * as a bad packet rather than guessed at).
 */
export function flowOfPacket(p: Uint8Array, mark: number): Flow | null {
  const fwmark = ((mark & MARK_TAG_MASK) >>> 0) === QUEUE_TAG || isBackendMark(mark) ? undefined : mark || undefined;
  if (p.length >= 44 && p[0] >> 4 === 6) {
    const protocol = PROTOCOLS[p[6]];
    if (!protocol) return null;
    return {
      protocol,
      caddr: addrFromBytes(p.subarray(8, 24)),
      cport: (p[40] << 8) | p[41],
      vaddr: addrFromBytes(p.subarray(24, 40)),
      vport: (p[42] << 8) | p[43],
      fwmark,
    };
  }
  if (p.length < 20 || p[0] >> 4 !== 4) return null;
  const ihl = (p[0] & 0x0f) * 4;
  const protocol = PROTOCOLS[p[9]];
  if (!protocol || p.length < ihl + 4) return null;
  return {
    protocol,
    caddr: addrFromBytes(p.subarray(12, 16)),
    cport: (p[ihl] << 8) | p[ihl + 1],
    vaddr: addrFromBytes(p.subarray(16, 20)),
    vport: (p[ihl + 2] << 8) | p[ihl + 3],
    fwmark,
  };
}

/** Why the queue path dropped or could not answer a packet (metric labels). */
export type QueueDrop = 'queue-bad-packet' | 'queue-no-service' | 'queue-no-dest' | 'queue-unknown-dest' | 'queue-error';

export class QueueAnswerer {
  readonly #src: QueueSource;
  #director: Director;
  readonly #clock: () => number;
  readonly #idOf: (key: string) => number | undefined;
  readonly #count: (reason: QueueDrop) => void;
  decisions = 0;

  constructor(src: QueueSource, director: Director, clock: () => number,
    idOf: (key: string) => number | undefined, count: (reason: QueueDrop) => void) {
    this.#src = src;
    this.#director = director;
    this.#clock = clock;
    this.#idOf = idOf;
    this.#count = count;
    src.onPackets((batch) => {
      // A bug in one decision must not stop the daemon: the batch's packets that got no verdict
      // are left to the kernel (queue timeout / fail-open), counted.
      try {
        this.answer(batch);
      } catch {
        this.#count('queue-error');
        this.#src.flush();
      }
    });
  }

  setDirector(d: Director): void {
    this.#director = d;
  }

  /** Decide every packet of a batch, then send all verdicts in one write. */
  answer(batch: readonly QueuedPacket[]): void {
    const now = this.#clock();
    for (const p of batch) {
      const mark = this.decide(p, now);
      if (mark === null) this.#src.verdict(p.id, NF_DROP, null);
      else this.#src.verdict(p.id, NF_ACCEPT, mark);
    }
    this.#src.flush();
  }

  /** The backend mark for a queued packet, or null to drop it (counted). */
  decide(p: QueuedPacket, now: number): number | null {
    const flow = flowOfPacket(p.payload, p.mark);
    if (!flow) { this.#count('queue-bad-packet'); return null; }
    const d = this.#director;
    const known = d.lookupConn(flow);
    let dest = known?.dest ?? null;
    if (!dest) {
      const svc = d.findServiceForFlow(flow);
      if (!svc) { this.#count('queue-no-service'); return null; }
      const decision = d.schedule(svc, flow, now);
      this.decisions++;
      if (!decision.dest) { this.#count('queue-no-dest'); return null; }
      dest = decision.dest;
    }
    const id = this.#idOf(destKey(dest.svc, dest));
    if (id === undefined) { this.#count('queue-unknown-dest'); return null; }
    return backendMark(id);
  }

  stats(): Record<string, number> {
    return { 'queue-decisions': this.decisions };
  }

  close(): Promise<void> {
    return this.#src.close();
  }
}
