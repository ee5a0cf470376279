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

// IPv6 extension headers walked to reach the transport header, as the kernel's ipv6_find_hdr
// (net/ipv6/exthdrs_core.c) walks them: hop-by-hop, routing, fragment, destination options and AH.
// ESP (50) is not walked (what follows is encrypted), nor is No Next Header (59).
const IPV6_HOPOPTS = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_AUTH = 51;
const IPV6_DSTOPTS = 60;
/** The kernel's cap on extension headers walked (include/net/ipv6.h: IP6_MAX_EXT_HDRS_CNT). */
const IPV6_MAX_EXT_HDRS = 12;

/** Where a packet's transport header starts, or why there is none to read. */
export type TransportHeader =
  | { readonly ok: true; readonly protocol: number; readonly offset: number }
  | { readonly ok: false; readonly reason: 'queue-bad-packet' | 'queue-non-first-fragment' };

/**
 * Walk an IPv6 packet's extension header chain from the fixed 40-byte header to the first header
 * that is not an extension header (RFC 8200 §4). Lengths: hop-by-hop, routing and destination
 * options count 8-octet units beyond the first 8 ((len + 1) * 8, RFC 8200 §4.3-4.6); the fragment
 * header is always 8 bytes; AH counts 4-octet units minus 2 ((len + 2) * 4, RFC 4302 §2.2). A
 * fragment header with a non-zero offset marks a non-first fragment: the transport header is in
 * the first fragment, not here. A header running past the packet, or more than the kernel's cap
 * of headers, is a bad packet.
 */
export function ipv6TransportHeader(p: Uint8Array): TransportHeader {
  let next = p[6];
  let offset = 40;
  for (let walked = 0; ; walked++) {
    if (next !== IPV6_HOPOPTS && next !== IPV6_ROUTING && next !== IPV6_FRAGMENT && next !== IPV6_AUTH && next !== IPV6_DSTOPTS) {
      return { ok: true, protocol: next, offset };
    }
    if (walked >= IPV6_MAX_EXT_HDRS || p.length < offset + 8) return { ok: false, reason: 'queue-bad-packet' };
    let len: number;
    if (next === IPV6_FRAGMENT) {
      // RFC 8200 §4.5: the offset is the top 13 bits of bytes 2-3 (the low 3 bits are flags).
      if ((((p[offset + 2] << 8) | p[offset + 3]) & ~0x7) !== 0) return { ok: false, reason: 'queue-non-first-fragment' };
      len = 8;
    } else if (next === IPV6_AUTH) {
      len = (p[offset + 1] + 2) * 4;
    } else {
      len = (p[offset + 1] + 1) * 8;
    }
    next = p[offset];
    offset += len;
  }
}

/** A queued packet's flow, or the named reason it has none. */
export type PacketFlow = { readonly ok: true; readonly flow: Flow } | { readonly ok: false; readonly reason: QueueDrop };

/**
 * The 5-tuple of an IPv4 or IPv6 packet (TCP/UDP/SCTP all start with source and destination
 * ports). IPv6: the extension header chain is walked to the transport header
 * (ipv6TransportHeader). A non-first fragment (IPv4 or IPv6) carries no ports and is counted by
 * its own reason; conntrack reassembles before the queue hook, so one seen here is unusual.
 */
export function packetFlow(p: Uint8Array, mark: number): PacketFlow {
  const bad: PacketFlow = { ok: false, reason: 'queue-bad-packet' };
  const fwmark = ((mark & MARK_TAG_MASK) >>> 0) === QUEUE_TAG || isBackendMark(mark) ? undefined : mark || undefined;
  if (p.length >= 40 && p[0] >> 4 === 6) {
    const t = ipv6TransportHeader(p);
    if (!t.ok) return { ok: false, reason: t.reason };
    const protocol = PROTOCOLS[t.protocol];
    const o = t.offset;
    if (!protocol || p.length < o + 4) return bad;
    return {
      ok: true,
      flow: {
        protocol,
        caddr: addrFromBytes(p.subarray(8, 24)),
        cport: (p[o] << 8) | p[o + 1],
        vaddr: addrFromBytes(p.subarray(24, 40)),
        vport: (p[o + 2] << 8) | p[o + 3],
        fwmark,
      },
    };
  }
  if (p.length < 20 || p[0] >> 4 !== 4) return bad;
  const ihl = (p[0] & 0x0f) * 4;
  const protocol = PROTOCOLS[p[9]];
  if (!protocol || ihl < 20 || p.length < ihl + 4) return bad;
  // RFC 791: a non-zero fragment offset (the low 13 bits of bytes 6-7) means no transport header.
  if ((((p[6] << 8) | p[7]) & 0x1fff) !== 0) return { ok: false, reason: 'queue-non-first-fragment' };
  return {
    ok: true,
    flow: {
      protocol,
      caddr: addrFromBytes(p.subarray(12, 16)),
      cport: (p[ihl] << 8) | p[ihl + 1],
      vaddr: addrFromBytes(p.subarray(16, 20)),
      vport: (p[ihl + 2] << 8) | p[ihl + 3],
      fwmark,
    },
  };
}

/** packetFlow's flow, or null whatever the reason. */
export function flowOfPacket(p: Uint8Array, mark: number): Flow | null {
  const r = packetFlow(p, mark);
  return r.ok ? r.flow : null;
}

/** Why the queue path dropped or could not answer a packet (metric labels). */
export type QueueDrop = 'queue-bad-packet' | 'queue-non-first-fragment' | 'queue-no-service' | 'queue-no-dest' | 'queue-unknown-dest' | 'queue-error';

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
    const parsed = packetFlow(p.payload, p.mark);
    if (!parsed.ok) { this.#count(parsed.reason); return null; }
    const flow = parsed.flow;
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
