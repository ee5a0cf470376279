// The director: the virtual service table, the rules of ipvsadm and the kernel for changing it,
// and the decision IPVS makes for each new connection (ip_vs_core.c: ip_vs_schedule and
// ip_vs_sched_persist), with persistence templates and the connection table. Pure: every call
// that depends on time takes `now` in milliseconds.
import { type Addr, type Family, addrFromU32, addrFromBytes, maskAddr, endpointText } from './addr.ts';
import { type Result, ok, err } from './result.ts';
import { type CoreError, coreError } from './errors.ts';
import { Dest, type DestSpec, type FwdMethod, DEST_F, bindConn, unbindConn } from './dest.ts';
import { Stats } from './stats.ts';
import {
  Service, type ServiceKey, type ServiceOptions, type Protocol, SVC_F, MAX_TIMEOUT,
  serviceKeyId, destKeyId, serviceFamily,
} from './service.ts';
import { SCHEDULERS, isSchedulerName } from './sched/index.ts';
import { MH_TABLE_SIZE, mhTooManyDests } from './sched/mh.ts';
import type { SchedPacket, SchedReason } from './sched/scheduler.ts';
import { type Conn, type ConnDirection, CONN_F } from './conn/conn.ts';
import { ConnTable } from './conn/table.ts';
import { Timeouts, CONN_EXPIRE_LATER_MS, CONN_NEW_TIMEOUT_MS } from './conn/timeouts.ts';
import { connInitialState, setConnState, type ConnPacket } from './conn/protocol.ts';
import { estimatorTick, ESTIMATOR_PERIOD_MS } from './estimator.ts';
import { type RandomSource, xorshift128 } from './random.ts';
import { proxyProtocolProblem } from './proxy-protocol.ts';

/** A new flow as the data plane sees it: the packet's 5-tuple (and its firewall mark, if any). */
export interface Flow {
  readonly protocol: Protocol;
  readonly caddr: Addr;
  readonly cport: number;
  readonly vaddr: Addr;
  readonly vport: number;
  readonly fwmark?: number;
}

/**
 * How the dest was chosen:
 * - 'template': an existing persistence template pinned the client to its dest;
 * - 'scheduler': the scheduler picked (see schedReason);
 * - 'no-dest': the scheduler found nothing (kernel: ICMP port unreachable + drop);
 * - 'not-scheduled': a non-persistent port-zero service never schedules (ip_vs_schedule).
 */
export type DecisionReason = 'template' | 'scheduler' | 'no-dest' | 'not-scheduled';

export interface Decision {
  readonly reason: DecisionReason;
  readonly dest: Dest | null;
  /** The dest port the conn goes to (dest.port, or the client's vport when dest.port is 0). */
  readonly dport: number;
  readonly schedReason?: SchedReason;
  readonly detail?: string;
  /** The persistence template used or created (persistent services only). */
  readonly template: Conn | null;
  /** The conn created; null for 'no-dest'/'not-scheduled' and for explain. */
  readonly conn: Conn | null;
}

export interface Explanation {
  readonly service: string;
  readonly reason: DecisionReason;
  readonly dest: string | null;
  readonly schedReason?: SchedReason;
  readonly detail?: string;
  readonly template?: { readonly client: string; readonly dest: string; readonly expiresInMs: number; readonly valid: boolean };
  readonly text: string;
}

export interface DirectorOptions {
  /** sysctl expire_quiescent_template (default 0: a template to a weight-0 dest is still honoured). */
  readonly expireQuiescentTemplate?: boolean;
  /** Random source for twos; seeded for tests. */
  readonly random?: RandomSource;
  readonly seed?: number;
  /** Seed of the connection table's hash (the kernel draws ip_vs_conn_rnd at random: pass one). */
  readonly hashSeed?: number;
}

/** Rejections the director counts (a metric label each). */
export type DirectorDrop = 'no-dest' | 'not-scheduled' | 'no-service';

/** ip_vs_ctl.c: IP_VS_DEST_TRASH_PERIOD; a deleted dest with no conns is forgotten after it. */
const DEST_TRASH_PERIOD_MS = 120_000;

export class Director {
  readonly #services = new Map<string, Service>();
  /** Deleted dests kept while conns still point at them; re-adding revives them (ip_vs_trash_get_dest). */
  readonly #trash = new Map<string, { dest: Dest; svcId: string; idleSince: number }>();
  readonly conns: ConnTable;
  readonly timeouts = new Timeouts();
  readonly #random: RandomSource;
  readonly expireQuiescentTemplate: boolean;
  #lastEstimate = Number.NaN;
  readonly drops: Record<DirectorDrop, number> = { 'no-dest': 0, 'not-scheduled': 0, 'no-service': 0 };
  /** Totals over every service ever (ip_vs_ctl.c: ipvs->tot_stats); deleting a service keeps them. */
  readonly totals = new Stats();

  constructor(opts: DirectorOptions = {}) {
    this.#random = opts.random ?? xorshift128(opts.seed ?? 1);
    this.conns = new ConnTable({ seed: opts.hashSeed });
    this.expireQuiescentTemplate = opts.expireQuiescentTemplate ?? false;
  }

  // ---------------------------------------------------------------- the service table

  /** Services in creation order (the kernel lists its hash table; ipvsadm sorts unless --nosort). */
  services(): Service[] {
    return [...this.#services.values()];
  }

  getService(key: ServiceKey): Service | undefined {
    return this.#services.get(serviceKeyId(key));
  }

  /**
   * ip_vs_core.c/ip_vs_ctl.c: ip_vs_service_find — the fwmark table first, then the exact
   * <protocol, VIP, port>, then the port-zero catch-all of that VIP.
   */
  findServiceForFlow(flow: Flow): Service | undefined {
    const family = flow.vaddr.family;
    if (flow.fwmark) {
      const s = this.#services.get(serviceKeyId({ kind: 'fwmark', fwmark: flow.fwmark, family }));
      if (s) return s;
    }
    const exact = this.#services.get(serviceKeyId({ kind: 'addr', protocol: flow.protocol, vip: flow.vaddr, port: flow.vport }));
    if (exact) return exact;
    return this.#services.get(serviceKeyId({ kind: 'addr', protocol: flow.protocol, vip: flow.vaddr, port: 0 }));
  }

  addService(key: ServiceKey, options: ServiceOptions): Result<Service, CoreError> {
    const v = validateService(key, options);
    if (!v.ok) return v;
    const id = serviceKeyId(key);
    if (this.#services.has(id)) return err(coreError('SERVICE_EXISTS', undefined, { service: id }));
    const svc = new Service(key, options);
    svc.scheduler = SCHEDULERS[options.scheduler](svc);
    this.#services.set(id, svc);
    return ok(svc);
  }

  /**
   * ip_vs_ctl.c: ip_vs_edit_service replaces flags, timeout and netmask; the scheduler is only
   * re-bound (fresh state built from the current list) when its name changes.
   */
  editService(key: ServiceKey, options: ServiceOptions): Result<Service, CoreError> {
    const v = validateService(key, options);
    if (!v.ok) return v;
    const svc = this.#services.get(serviceKeyId(key));
    if (!svc) return err(coreError('SERVICE_NOT_FOUND', undefined, { service: serviceKeyId(key) }));
    const old = svc.options.scheduler;
    // ip_vs_mh.c: binding mh to a service with more dests than table slots fails with EINVAL and
    // the service keeps its old scheduler and options.
    if (options.scheduler === 'mh' && old !== 'mh' && mhTooManyDests(svc.dests.length)) {
      return err(coreError('TOO_MANY_DESTS', undefined, { dests: svc.dests.length, max: MH_TABLE_SIZE }));
    }
    svc.options = options;
    if (options.scheduler !== old) {
      svc.scheduler.done?.(svc);
      svc.scheduler = SCHEDULERS[options.scheduler](svc);
    }
    return ok(svc);
  }

  deleteService(key: ServiceKey, now = 0): Result<void, CoreError> {
    const id = serviceKeyId(key);
    const svc = this.#services.get(id);
    if (!svc) return err(coreError('SERVICE_NOT_FOUND', undefined, { service: id }));
    this.#unlinkService(svc, now);
    return ok(undefined);
  }

  /** ipvsadm -C. */
  clear(now = 0): void {
    for (const svc of [...this.#services.values()]) this.#unlinkService(svc, now);
  }

  #unlinkService(svc: Service, now: number): void {
    // __ip_vs_del_service: the scheduler is unbound first, then every dest is unlinked without
    // calling del_dest and moved to the trash, where live conns keep it.
    svc.scheduler.done?.(svc);
    for (const d of svc.dests) this.#trashDest(svc, d, now);
    svc.dests = [];
    svc.destIndex.clear();
    this.#services.delete(svc.id);
  }

  // ---------------------------------------------------------------- dests

  addDest(key: ServiceKey, spec: DestSpec): Result<Dest, CoreError> {
    const svc = this.#services.get(serviceKeyId(key));
    if (!svc) return err(coreError('SERVICE_NOT_FOUND', 'Service not defined', { service: serviceKeyId(key) }));
    const fixed = validateDest(svc, spec);
    if (!fixed.ok) return fixed;
    const s = fixed.value;
    if (svc.findDest(s.addr, s.port)) {
      return err(coreError('DEST_EXISTS', undefined, { dest: endpointText(s.addr, s.port) }));
    }
    const trashKey = `${svc.id}#${destKeyId(s.addr, s.port)}`;
    const trashed = this.#trash.get(trashKey);
    let dest: Dest;
    if (trashed) {
      // ip_vs_trash_get_dest: the same dest comes back with its conns and counters.
      this.#trash.delete(trashKey);
      dest = trashed.dest;
      dest.svc = svc;
      applyDestSpec(dest, s, true);
    } else {
      dest = new Dest(svc, s);
    }
    dest.flags |= DEST_F.AVAILABLE;
    svc.dests.unshift(dest);
    svc.destIndex.set(destKeyId(dest.addr, dest.port), dest);
    svc.scheduler.addDest?.(svc, dest);
    svc.scheduler.loadChanged?.(dest);
    return ok(dest);
  }

  editDest(key: ServiceKey, spec: DestSpec): Result<Dest, CoreError> {
    const svc = this.#services.get(serviceKeyId(key));
    if (!svc) return err(coreError('SERVICE_NOT_FOUND', 'Service not defined', { service: serviceKeyId(key) }));
    const fixed = validateDest(svc, spec);
    if (!fixed.ok) return fixed;
    const s = fixed.value;
    const dest = svc.findDest(s.addr, s.port);
    if (!dest) return err(coreError('DEST_NOT_FOUND', undefined, { dest: endpointText(s.addr, s.port) }));
    applyDestSpec(dest, s, false);
    svc.scheduler.updDest?.(svc, dest);
    svc.scheduler.loadChanged?.(dest);
    return ok(dest);
  }

  deleteDest(key: ServiceKey, addr: Addr, port: number, now = 0): Result<void, CoreError> {
    const svc = this.#services.get(serviceKeyId(key));
    if (!svc) return err(coreError('SERVICE_NOT_FOUND', 'Service not defined', { service: serviceKeyId(key) }));
    const dest = svc.findDest(addr, port);
    if (!dest) return err(coreError('DEST_NOT_FOUND', undefined, { dest: endpointText(addr, port) }));
    const index = svc.dests.indexOf(dest);
    svc.dests.splice(index, 1);
    svc.destIndex.delete(destKeyId(dest.addr, dest.port));
    svc.scheduler.delDest?.(svc, dest, index);
    this.#trashDest(svc, dest, now);
    return ok(undefined);
  }

  #trashDest(svc: Service, dest: Dest, now: number): void {
    dest.flags &= ~DEST_F.AVAILABLE;
    this.#trash.set(`${svc.id}#${destKeyId(dest.addr, dest.port)}`, { dest, svcId: svc.id, idleSince: now });
  }

  /** ipvsadm -Z: one service, or every service (ip_vs_zero_service / ip_vs_zero_all). */
  zero(key?: ServiceKey): Result<void, CoreError> {
    const list = key ? [this.#services.get(serviceKeyId(key))] : [...this.#services.values()];
    if (key && !list[0]) return err(coreError('SERVICE_NOT_FOUND', undefined, { service: serviceKeyId(key) }));
    if (!key) this.totals.zero();
    for (const svc of list) {
      if (!svc) continue;
      svc.stats.zero();
      for (const d of svc.dests) d.stats.zero();
    }
    return ok(undefined);
  }

  // ---------------------------------------------------------------- scheduling

  /** An existing conn for this 5-tuple, if any (a packet of a known flow is never rescheduled). */
  lookupConn(flow: Flow): Conn | undefined {
    return this.conns.lookup(flow.protocol, flow.caddr, flow.cport, flow.vaddr, flow.vport);
  }

  /**
   * A new flow arrives for `svc`: choose the dest (persistence template or scheduler), create the
   * conn bound to it and count it. ip_vs_core.c: ip_vs_schedule / ip_vs_sched_persist.
   */
  schedule(svc: Service, flow: Flow, now: number): Decision {
    const d = this.#decide(svc, flow, now, true);
    if (!d.dest) {
      this.drops[d.reason === 'not-scheduled' ? 'not-scheduled' : 'no-dest']++;
      return d;
    }
    const onePacket = svc.onePacket && flow.protocol === 'udp';
    const conn = this.#newConn(flow.protocol, flow.caddr, flow.cport, flow.vaddr, flow.vport, d.dest, d.dport,
      onePacket ? CONN_F.ONE_PACKET : 0, now);
    if (d.template) {
      conn.control = d.template;
      d.template.nControl++;
    }
    // ip_vs_conn_stats: a new conn counts for the dest and the service.
    d.dest.stats.counters.conns++;
    svc.stats.counters.conns++;
    this.totals.counters.conns++;
    // ip_vs_core.c: one-packet conns are never hashed; the data plane counts the datagram and
    // frees the entry right after transmit with expireNow().
    if (!onePacket) this.conns.insert(conn);
    return { ...d, conn };
  }

  /** Which dest a new flow would get and why, changing nothing. */
  explain(svc: Service, flow: Flow, now: number): Explanation {
    const d = this.#decide(svc, flow, now, false);
    const destText = d.dest ? endpointText(d.dest.addr, d.dport) : null;
    const t = d.template;
    const template = t ? {
      client: endpointText(t.caddr, t.cport),
      dest: endpointText(t.daddr, t.dport),
      expiresInMs: Math.max(0, t.expires - now),
      valid: d.reason === 'template',
    } : undefined;
    let text: string;
    switch (d.reason) {
      case 'template': text = `persistence template ${template!.client} -> ${destText} (expires in ${Math.ceil(template!.expiresInMs / 1000)} s)`; break;
      case 'scheduler': text = `${svc.options.scheduler} picked ${destText}${d.schedReason && d.schedReason !== 'pick' ? ` (${d.schedReason})` : ''}${d.detail ? `: ${d.detail}` : ''}`; break;
      case 'not-scheduled': text = 'port-zero service without persistence: not scheduled'; break;
      default: text = `no destination available${d.schedReason && d.schedReason !== 'no-dest' ? ` (${d.schedReason})` : ''}${d.detail ? `: ${d.detail}` : ''}`;
    }
    return {
      service: serviceKeyIdText(svc), reason: d.reason, dest: destText, schedReason: d.schedReason,
      detail: d.detail, template, text,
    };
  }

  #decide(svc: Service, flow: Flow, now: number, commit: boolean): Decision {
    const pkt: SchedPacket = { caddr: flow.caddr, cport: flow.cport, vaddr: flow.vaddr, vport: flow.vport };
    const random = commit ? this.#random : this.#random.clone();
    const ctx = { now, random: () => random.next(), commit };
    const none = (reason: DecisionReason, schedReason?: SchedReason, detail?: string, template: Conn | null = null): Decision =>
      ({ reason, dest: null, dport: 0, schedReason, detail, template, conn: null });

    if (!svc.persistent) {
      if (svc.key.kind === 'addr' && flow.vport !== svc.port) return none('not-scheduled');
      const pick = svc.scheduler.schedule(svc, pkt, ctx);
      if (!pick.dest) return none('no-dest', pick.reason, pick.detail);
      return {
        reason: 'scheduler', dest: pick.dest, dport: pick.dest.port || flow.vport,
        schedReason: pick.reason, detail: pick.detail, template: null, conn: null,
      };
    }

    // ip_vs_sched_persist: the template key masks the client address and drops the client port.
    const tk = templateKey(svc, flow);
    let ct = this.conns.lookupTemplate(tk.protocol, tk.caddr, tk.vaddr, tk.vport) ?? null;
    let reason: DecisionReason = 'template';
    let schedReason: SchedReason | undefined;
    let detail: string | undefined;
    let dest: Dest;
    if (!ct || !this.#checkTemplate(ct, commit)) {
      const stale = ct;
      const pick = svc.scheduler.schedule(svc, pkt, ctx);
      if (!pick.dest) return none('no-dest', pick.reason, pick.detail, stale);
      dest = pick.dest;
      reason = 'scheduler';
      schedReason = pick.reason;
      detail = pick.detail;
      const dport = flow.vport === svc.port && svc.port !== FTP_PORT ? dest.port : 0;
      if (commit) {
        ct = this.#newConn(tk.protocol, tk.caddr, 0, tk.vaddr, tk.vport, dest, dport, CONN_F.TEMPLATE, now);
        // ip_vs_sched_persist: ct->timeout = svc->timeout.
        ct.timeout = svc.options.timeout * 1000;
        this.conns.insert(ct);
        this.conns.rearm(ct, now + ct.timeout);
      } else {
        ct = null;
      }
    } else {
      dest = ct.dest!;
      if (commit) this.conns.rearm(ct, now + ct.timeout); // ip_vs_conn_put re-arms the template
    }
    const dport = flow.vport === svc.port && dest.port ? dest.port : flow.vport;
    return { reason, dest, dport, schedReason, detail, template: ct, conn: null };
  }

  /**
   * ip_vs_conn.c: ip_vs_check_template — a template is void when its dest was removed, or when the
   * dest is quiesced and expire_quiescent_template is set. A void template is re-keyed with ports
   * 0xffff so it can never match again and left to expire.
   */
  #checkTemplate(ct: Conn, commit: boolean): boolean {
    const d = ct.dest;
    const valid = d !== null && d.available && !(this.expireQuiescentTemplate && d.weight === 0);
    if (!valid && commit && ct.vport !== 0xffff) {
      this.conns.unhash(ct);
      ct.vport = 0xffff;
      ct.dport = 0xffff;
    }
    return valid;
  }

  #newConn(protocol: Conn['protocol'], caddr: Addr, cport: number, vaddr: Addr, vport: number,
    dest: Dest, dport: number, flags: number, now: number): Conn {
    // ip_vs_bind_dest: the conn inherits dest->conn_flags (INACTIVE, and NOOUTPUT unless NAT).
    let f = flags | CONN_F.INACTIVE;
    if (dest.fwd !== 'masq' && dest.fwd !== 'fullnat') f |= CONN_F.NOOUTPUT;
    const conn: Conn = {
      protocol, caddr, cport, vaddr, vport, daddr: dest.addr, dport, dest, flags: f,
      state: connInitialState(protocol), timeout: CONN_NEW_TIMEOUT_MS, expires: now + CONN_NEW_TIMEOUT_MS,
      control: null, nControl: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, slot: -1,
    };
    bindConn(dest, (flags & CONN_F.TEMPLATE) ? 'template' : 'inactive');
    return conn;
  }

  /** Unbind from the dest and the controlling template (ip_vs_conn_expire's final part). */
  #releaseConn(c: Conn): void {
    if (c.control) {
      c.control.nControl--;
      c.control = null;
    }
    const d = c.dest;
    if (d) {
      const kind = (c.flags & CONN_F.TEMPLATE) ? 'template' : (c.flags & CONN_F.INACTIVE) ? 'inactive' : 'active';
      unbindConn(d, kind);
      c.dest = null;
    }
  }

  // ---------------------------------------------------------------- packets and time

  /**
   * A packet (or, for the proxy plane, an equivalent socket event) on a conn: drive the protocol
   * state machine, move the conn between the active and inactive counts, re-arm its timer.
   * ip_vs_proto_tcp.c: set_tcp_state; ip_vs_conn.c: ip_vs_conn_put.
   */
  stateEvent(c: Conn, direction: ConnDirection, packet: ConnPacket, now: number): void {
    setConnState(c, direction, packet, this.timeouts);
    this.conns.rearm(c, now + c.timeout);
  }

  /** Count packets and bytes on a conn, its dest and its service (ip_vs_in_stats / ip_vs_out_stats). */
  account(c: Conn, direction: ConnDirection, pkts: number, bytes: number, now: number): void {
    const d = c.dest;
    const t = this.totals.counters;
    if (direction === 'input') {
      c.inPkts += pkts; c.inBytes += bytes; t.inpkts += pkts; t.inbytes += bytes;
      if (d) { d.stats.counters.inpkts += pkts; d.stats.counters.inbytes += bytes; d.svc.stats.counters.inpkts += pkts; d.svc.stats.counters.inbytes += bytes; }
    } else {
      c.outPkts += pkts; c.outBytes += bytes; t.outpkts += pkts; t.outbytes += bytes;
      if (d) { d.stats.counters.outpkts += pkts; d.stats.counters.outbytes += bytes; d.svc.stats.counters.outpkts += pkts; d.svc.stats.counters.outbytes += bytes; }
    }
    this.conns.rearm(c, now + c.timeout);
  }

  /** Drop a conn at once (the data plane closed it for good, e.g. a reset it sent itself). */
  expireNow(c: Conn): void {
    if (this.conns.has(c)) this.conns.remove(c);
    this.#releaseConn(c);
  }

  /**
   * Advance time: expire conns and templates, sample the rate estimators every 2 s, and let
   * schedulers with tables (lblc, lblcr) collect garbage. Call at least once a second.
   */
  tick(now: number): void {
    this.conns.expire(now, (c) => {
      if (c.nControl > 0) {
        // ip_vs_conn_expire: expire_later — still controls conns: 60 s more, and that timeout sticks.
        c.timeout = CONN_EXPIRE_LATER_MS;
        c.expires = now + c.timeout;
        return false;
      }
      this.#releaseConn(c);
      return true;
    });
    if (Number.isNaN(this.#lastEstimate)) this.#lastEstimate = now;
    while (now - this.#lastEstimate >= ESTIMATOR_PERIOD_MS) {
      this.#lastEstimate += ESTIMATOR_PERIOD_MS;
      estimatorTick(this.totals);
      for (const svc of this.#services.values()) {
        estimatorTick(svc.stats);
        for (const d of svc.dests) estimatorTick(d.stats);
      }
    }
    for (const svc of this.#services.values()) svc.scheduler.tick?.(svc, now);
    for (const [k, t] of this.#trash) {
      const d = t.dest;
      if (d.activeConns + d.inactConns + d.persistConns > 0) t.idleSince = now;
      else if (now - t.idleSince >= DEST_TRASH_PERIOD_MS) this.#trash.delete(k);
    }
  }
}

const FTP_PORT = 21;

function serviceKeyIdText(svc: Service): string {
  const k = svc.key;
  return k.kind === 'addr' ? `${k.protocol.toUpperCase()} ${endpointText(k.vip, k.port)}` : `FWM ${k.fwmark}${k.family === 6 ? ' IPv6' : ''}`;
}

/** ip_vs_core.c: ip_vs_sched_persist's template parameters. */
function templateKey(svc: Service, flow: Flow): { protocol: Conn['protocol']; caddr: Addr; vaddr: Addr; vport: number } {
  const snet = maskAddr(flow.caddr, svc.options.netmask);
  if (flow.vport === svc.port && svc.key.kind === 'addr') {
    // PPC template <proto, cnet, 0, VIP, vport>; the FTP service keeps vport 0 so data conns match.
    return { protocol: flow.protocol, caddr: snet, vaddr: flow.vaddr, vport: svc.port !== FTP_PORT ? flow.vport : 0 };
  }
  if (svc.key.kind === 'fwmark') {
    // FWM template <IPPROTO_IP, cnet, 0, fwmark as an address, 0>.
    return { protocol: 'ip', caddr: snet, vaddr: fwmarkAddr(svc.key.fwmark, svc.family), vport: 0 };
  }
  // Port-zero (PCC) template <proto, cnet, 0, VIP, 0>: every port of the VIP sticks together.
  return { protocol: flow.protocol, caddr: snet, vaddr: flow.vaddr, vport: 0 };
}

/** ip_vs_core.c: the fwmark stands in for the address as htonl(mark) (IPv6: in the first word). */
function fwmarkAddr(mark: number, family: Family): Addr {
  const a = addrFromU32(mark);
  if (family === 4) return a;
  const b = new Uint8Array(16);
  b.set(a.bytes, 0);
  return addrFromBytes(b);
}

// ---------------------------------------------------------------- validation

/** The rules ipvsadm and the kernel apply to a service (ipvsadm.c, ip_vs_ctl.c). */
export function validateService(key: ServiceKey, o: ServiceOptions): Result<void, CoreError> {
  if (key.kind === 'addr') {
    if (!Number.isInteger(key.port) || key.port < 0 || key.port > 65535) return err(coreError('PORT_INVALID', undefined, { port: key.port }));
    if (key.protocol !== 'tcp' && key.protocol !== 'udp' && key.protocol !== 'sctp') return err(coreError('PROTOCOL_INVALID'));
  } else if (!Number.isInteger(key.fwmark) || key.fwmark < 1 || key.fwmark > 0xffffffff) {
    return err(coreError('FWMARK_INVALID', undefined, { fwmark: key.fwmark }));
  }
  if (!isSchedulerName(o.scheduler)) return err(coreError('SCHEDULER_NOT_FOUND', undefined, { scheduler: o.scheduler }));
  // keepvs has no persistence engine modules yet: the kernel answers ENOENT without ip_vs_pe_sip.
  if (o.pe !== null && o.pe !== '') return err(coreError('PE_NOT_FOUND', undefined, { pe: o.pe }));
  const persistent = (o.flags & SVC_F.PERSISTENT) !== 0;
  if (key.kind === 'addr' && key.port === 0 && !persistent) return err(coreError('ZERO_PORT_NON_PERSISTENT'));
  if ((o.flags & SVC_F.ONEPACKET) && key.kind === 'addr' && key.protocol !== 'udp') return err(coreError('ONE_PACKET_NOT_UDP'));
  if (persistent && (!Number.isInteger(o.timeout) || o.timeout < 1 || o.timeout > MAX_TIMEOUT)) {
    return err(coreError('TIMEOUT_INVALID', undefined, { timeout: o.timeout }));
  }
  // keepvs: the PROXY protocol has no kernel counterpart (src/core/proxy-protocol.ts).
  const pp = proxyProtocolProblem(o.proxyProtocol, key.kind === 'addr' ? key.protocol : null, false);
  if (pp !== null) return err(coreError('PROXY_PROTOCOL_INVALID', pp, { proxyProtocol: o.proxyProtocol }));
  const family = serviceFamily(key);
  if (family === 6 ? !(Number.isInteger(o.netmask) && o.netmask >= 1 && o.netmask <= 128)
    : !(Number.isInteger(o.netmask) && o.netmask >= 0 && o.netmask <= 0xffffffff)) {
    return err(coreError('NETMASK_INVALID', undefined, { netmask: o.netmask }));
  }
  return ok(undefined);
}

/** ipvsadm.c: for DR and tunnel on a non-fwmark service the dest port is forced to the service port. */
function forcedDestPort(svc: Service, fwd: FwdMethod, port: number): number {
  return svc.key.kind === 'addr' && (fwd === 'route' || fwd === 'tunnel') ? svc.port : port;
}

/** The rules ipvsadm and the kernel apply to a dest; returns the spec with DR/TUN port forcing applied. */
export function validateDest(svc: Service, spec: DestSpec): Result<DestSpec, CoreError> {
  if (!Number.isInteger(spec.weight) || spec.weight < 0 || spec.weight > 65535) return err(coreError('WEIGHT_RANGE', undefined, { weight: spec.weight }));
  for (const [name, v] of [['uThreshold', spec.uThreshold], ['lThreshold', spec.lThreshold]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) return err(coreError('THRESHOLD_RANGE', undefined, { [name]: v }));
  }
  if (spec.lThreshold > spec.uThreshold) return err(coreError('LOWER_ABOVE_UPPER', undefined, { lThreshold: spec.lThreshold, uThreshold: spec.uThreshold }));
  if (!Number.isInteger(spec.port) || spec.port < 0 || spec.port > 65535) return err(coreError('PORT_INVALID', undefined, { port: spec.port }));
  if (spec.addr.family !== svc.family && spec.fwd !== 'tunnel') return err(coreError('FAMILY_MISMATCH'));
  if (spec.tunnel && spec.tunnel.type === 'gue' && spec.tunnel.port === 0) return err(coreError('TUNNEL_INVALID', 'tunnel port is zero'));
  const pp = proxyProtocolProblem(spec.proxyProtocol, svc.key.kind === 'addr' ? svc.key.protocol : null, true);
  if (pp !== null) return err(coreError('PROXY_PROTOCOL_INVALID', pp, { proxyProtocol: spec.proxyProtocol }));
  const port = forcedDestPort(svc, spec.fwd, spec.port);
  return ok(port === spec.port ? spec : { ...spec, port });
}

/** ip_vs_ctl.c: __ip_vs_update_dest. */
function applyDestSpec(d: Dest, s: DestSpec, add: boolean): void {
  if (add || s.weight !== 0) d.lastWeight = s.weight;
  d.weight = s.weight;
  d.fwd = s.fwd;
  d.tunnel = s.tunnel;
  // keepvs: like every other field of an edit, an absent choice is the default (inherit).
  d.proxyProtocol = s.proxyProtocol ?? null;
  if (s.uThreshold === 0 || s.uThreshold > d.uThreshold) d.flags &= ~DEST_F.OVERLOAD;
  d.uThreshold = s.uThreshold;
  d.lThreshold = s.lThreshold;
}

