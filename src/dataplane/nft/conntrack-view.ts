// The connection view of the nft plane: the kernel's conntrack entries carrying a keepvs backend
// mark, mirrored into the director's connection table, so ActiveConn/InActConn, `-L -n -c`,
// --stats and the rate estimator read the same model whatever forwards the packets. Refreshed from a
// dump once a second (conntrack -L --mark 0x6b000000/0xff000000):
// - an entry the director lacks (in-kernel scheduling) is added, bound to its dest like a new IPVS
//   connection; one it has (queue path: director.schedule made it) is updated;
// - conntrack's TCP state maps onto IPVS's (below), moving the dest's active/inactive counts;
// - the entry's remaining conntrack timeout becomes its expiry (conntrack's own timeouts rule the
//   kernel; `--set` maps onto them only through the nf_conntrack_tcp_timeout_* sysctls);
// - packet/byte counters (nf_conntrack_acct=1) are added to the conn, dest and service stats;
// - an entry that left conntrack leaves the director.
import type { Director, Flow } from '../../core/director.ts';
import { type Dest, bindConn } from '../../core/dest.ts';
import { type Conn, CONN_F } from '../../core/conn/conn.ts';
import { TCP_S } from '../../core/conn/tcp-state.ts';
import { isActiveState } from '../../core/conn/protocol.ts';
import { connActivity } from '../../core/dest.ts';
import { parseAddr } from '../../core/addr.ts';
import type { Protocol } from '../../core/service.ts';
import type { ConntrackEntry } from '../../sys/conntrack.ts';
import { BACKEND_TAG, MARK_TAG_MASK, isBackendMark, markId } from './marks.ts';

export interface ConntrackSource {
  /** conntrack -L -f FAMILY --mark MARK/MASK (family ipv4 when absent). */
  dump(mark: number, mask: number, family?: 'ipv4' | 'ipv6'): Promise<ConntrackEntry[]>;
}

/** DR flow maps to read along with conntrack: (map JSON reader, protocol, VIP, port) per DR service. */
export interface FlowMapSource {
  readonly list: () => Promise<string>;
  readonly protocol: string;
  readonly vip: string;
  readonly vport: number;
}

/**
 * conntrack TCP state -> IPVS TCP state. conntrack's SYN_SENT (client SYN seen) is IPVS's SYN_RECV
 * (ip_vs_proto_tcp.c: the director's INPUT table moves NONE -> SR on a SYN); conntrack's SYN_RECV
 * (the RS's SYN-ACK seen) is still SR for IPVS; the rest share names.
 */
export const CT_TCP_STATE: Readonly<Record<string, number>> = {
  SYN_SENT: TCP_S.SYN_RECV, SYN_SENT2: TCP_S.SYN_RECV, SYN_RECV: TCP_S.SYN_RECV,
  ESTABLISHED: TCP_S.ESTABLISHED, FIN_WAIT: TCP_S.FIN_WAIT, CLOSE_WAIT: TCP_S.CLOSE_WAIT,
  LAST_ACK: TCP_S.LAST_ACK, TIME_WAIT: TCP_S.TIME_WAIT, CLOSE: TCP_S.CLOSE, NONE: TCP_S.NONE,
};

interface Seen {
  inPkts: number;
  inBytes: number;
  outPkts: number;
  outBytes: number;
  gen: number;
}

export class ConntrackView {
  readonly #src: ConntrackSource;
  readonly #destOf: (key: string) => Dest | undefined;
  #keys: Map<number, string> = new Map();
  readonly #seen = new Map<Conn, Seen>();
  #gen = 0;
  openConnections = 0;
  /**
   * NAT dests whose connections never see a reply (conntrack SYN_SENT only): the usual cause is a
   * real server whose default gateway is not the director (LVS-NAT needs replies to come back
   * through it). Key -> count of unanswered entries in the last dump.
   */
  readonly unanswered = new Map<Dest, number>();

  constructor(src: ConntrackSource, destOf: (key: string) => Dest | undefined) {
    this.#src = src;
    this.#destOf = destOf;
  }

  /** Backend id -> "service id#dest id" (the plane's allocation). */
  setKeys(keys: Map<number, string>): void {
    this.#keys = keys;
  }

  /** `ipv6`: also dump IPv6 conntrack (the plane has IPv6 services). */
  async refresh(director: Director, now: number, flows: readonly FlowMapSource[] = [], ipv6 = false): Promise<void> {
    let entries: ConntrackEntry[];
    try {
      entries = await this.#src.dump(BACKEND_TAG, MARK_TAG_MASK);
      if (ipv6) entries.push(...await this.#src.dump(BACKEND_TAG, MARK_TAG_MASK, 'ipv6'));
    } catch {
      return;
    }
    for (const f of flows) entries.push(...flowMapEntries(await f.list(), f.protocol, f.vip, f.vport));
    this.apply(director, entries, now);
  }

  /** Mirror one dump (pure with respect to time: `now` is given). */
  apply(director: Director, entries: readonly ConntrackEntry[], now: number): void {
    const gen = ++this.#gen;
    let open = 0;
    const answered = new Set<Dest>();
    this.unanswered.clear();
    for (const e of entries) {
      if (!isBackendMark(e.mark)) continue;
      const key = this.#keys.get(markId(e.mark));
      const dest = key === undefined ? undefined : this.#destOf(key);
      if (!dest) continue;
      // A mark outlives its owner across a restart (ids restart at 1): an entry whose real server
      // is not this dest's belongs to an older configuration and is not shown.
      if ((dest.fwd === 'masq' || dest.fwd === 'fullnat') && e.reply.src !== dest.addr.text) continue;
      if (dest.svc.key.kind === 'addr' && e.orig.dst !== dest.svc.key.vip.text) continue;
      if (dest.fwd === 'masq' && e.protocol === 'tcp') {
        if (e.state === 'SYN_SENT') this.unanswered.set(dest, (this.unanswered.get(dest) ?? 0) + 1);
        else answered.add(dest);
      }
      const protocol = e.protocol as Protocol;
      if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') continue;
      const caddr = parseAddr(e.orig.src);
      const vaddr = parseAddr(e.orig.dst);
      if (!caddr.ok || !vaddr.ok) continue;
      const flow: Flow = { protocol, caddr: caddr.value, cport: e.orig.sport, vaddr: vaddr.value, vport: e.orig.dport };
      let c: Conn | null | undefined = director.lookupConn(flow);
      if (!c) c = this.#adopt(director, flow, dest, e, now);
      if (!c) continue;
      open++;
      this.#state(c, e);
      c.timeout = e.timeout * 1000;
      director.conns.rearm(c, now + c.timeout);
      const s = this.#seen.get(c) ?? { inPkts: 0, inBytes: 0, outPkts: 0, outBytes: 0, gen };
      const dIn = e.orig.packets - s.inPkts;
      const dInB = e.orig.bytes - s.inBytes;
      const dOut = e.reply.packets - s.outPkts;
      const dOutB = e.reply.bytes - s.outBytes;
      if (dIn > 0 || dInB > 0) director.account(c, 'input', Math.max(0, dIn), Math.max(0, dInB), now);
      if (dOut > 0 || dOutB > 0) director.account(c, 'output', Math.max(0, dOut), Math.max(0, dOutB), now);
      this.#seen.set(c, { inPkts: e.orig.packets, inBytes: e.orig.bytes, outPkts: e.reply.packets, outBytes: e.reply.bytes, gen });
    }
    for (const d of answered) this.unanswered.delete(d);
    // Gone from conntrack: gone from the director.
    for (const [c, s] of this.#seen) {
      if (s.gen === gen) continue;
      this.#seen.delete(c);
      director.expireNow(c);
    }
    this.openConnections = open;
  }

  #adopt(director: Director, flow: Flow, dest: Dest, e: ConntrackEntry, now: number): Conn | null {
    const noOutput = dest.fwd !== 'masq' && dest.fwd !== 'fullnat';
    const reply = parseAddr(e.reply.src);
    const conn: Conn = {
      protocol: flow.protocol, caddr: flow.caddr, cport: flow.cport, vaddr: flow.vaddr, vport: flow.vport,
      daddr: reply.ok ? reply.value : dest.addr, dport: e.reply.sport || dest.port, dest,
      flags: CONN_F.INACTIVE | (noOutput ? CONN_F.NOOUTPUT : 0), state: TCP_S.NONE,
      timeout: e.timeout * 1000, expires: now + e.timeout * 1000, control: null, nControl: 0,
      inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, slot: -1,
    };
    if (director.conns.insert(conn) !== null) return null;
    // ip_vs_bind_dest: a new entry counts as inactive until its state says otherwise; it counts as
    // a connection of the dest and the service (ip_vs_conn_stats).
    bindConn(dest, 'inactive');
    dest.stats.counters.conns++;
    dest.svc.stats.counters.conns++;
    director.totals.counters.conns++;
    return conn;
  }

  #state(c: Conn, e: ConntrackEntry): void {
    if (c.protocol !== 'tcp') return;
    const to = CT_TCP_STATE[e.state] ?? c.state;
    if (to === c.state) return;
    const active = isActiveState('tcp', to);
    const inactive = (c.flags & CONN_F.INACTIVE) !== 0;
    if (c.dest && inactive && active) { c.flags &= ~CONN_F.INACTIVE; connActivity(c.dest, true); }
    else if (c.dest && !inactive && !active) { c.flags |= CONN_F.INACTIVE; connActivity(c.dest, false); }
    c.state = to;
  }
}

/**
 * DR connections have no conntrack entry (notrack): the flow map `flows_sN` is their table. Its
 * `nft -j list map` output becomes conntrack-shaped entries — one ESTABLISHED entry per flow (the
 * director sees only the client's side, so it cannot tell the TCP state), expiring when the flow
 * map entry does.
 */
export function flowMapEntries(json: string, protocol: string, vip: string, vport: number): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  let doc: { nftables?: { map?: { elem?: unknown[] }; set?: { elem?: unknown[] } }[] };
  try {
    doc = JSON.parse(json) as typeof doc;
  } catch {
    return out;
  }
  for (const o of doc.nftables ?? []) {
    // IPv4: the flow map, saddr . sport : mark. IPv6: the conns set, sport . saddr . mark
    // (render.ts: flowKey explains why IPv6 keeps a separate exact record).
    const elems: [{ elem?: { val?: { concat?: unknown[] }; expires?: number } }, number][] = [];
    for (const e of o.map?.elem ?? []) if (Array.isArray(e) && e.length === 2) elems.push(e as (typeof elems)[number]);
    for (const e of o.set?.elem ?? []) {
      const c = (e as { elem?: { val?: { concat?: unknown[] } } }).elem?.val?.concat;
      if (Array.isArray(c) && c.length === 3) elems.push([{ ...(e as object), elem: { ...(e as { elem: object }).elem, val: { concat: c.slice(0, 2) } } }, Number(c[2])]);
    }
    for (const [k, mark] of elems) {
      const c = k.elem?.val?.concat as (string | number)[] | undefined;
      if (!c || c.length !== 2) continue;
      const [src, port] = typeof c[0] === 'string' ? [c[0], Number(c[1])] : [String(c[1]), Number(c[0])];
      const tuple = { src, dst: vip, sport: port, dport: vport, packets: 0, bytes: 0 };
      out.push({
        protocol, timeout: k.elem?.expires ?? 0, state: protocol === 'tcp' ? 'ESTABLISHED' : '',
        orig: tuple, reply: { src: vip, dst: src, sport: vport, dport: port, packets: 0, bytes: 0 },
        mark: Number(mark) >>> 0, assured: true,
      });
    }
  }
  return out;
}
