// What the nft plane loads, as plain data: the director's services turned into the few things an
// nftables ruleset needs (match, forwarding mode, scheduling path, the slot table of an in-kernel
// scheduler, backends with their marks). buildModel is pure; render.ts turns the model into text.
//
// Scheduling path per service (DESIGN.md "Per data plane"):
// - 'kernel': the scheduler needs no per-connection state, so nftables decides alone —
//   rr (numgen over the available dests in list order), wrr (numgen over one cycle of the core's own
//   wrr sequence), sh / dh (jhash of the client / destination address into the kernel's 256-bucket
//   table layout; the hash is jhash, not IPVS's hash_32, so a client may land on a different — but
//   always the same — dest than under IPVS), and persistence on top of any of them (a dynamic
//   timeout map keyed by the client network).
// - 'queue': anything else (lc, wlc, sed, nq, lblc, lblcr, fo, ovf, twos, mh, sh/mh flags,
//   thresholds, one-packet scheduling) or a service forced to the exact path: the first packet of
//   each new connection goes through NFQUEUE to the core, which answers with the dest's mark.
import type { Director } from '../../core/director.ts';
import type { Dest, FwdMethod } from '../../core/dest.ts';
import { SVC_F, type Service, type Protocol, destKeyId } from '../../core/service.ts';
import { addrFromBytes, addrFromU32 } from '../../core/addr.ts';
import { createWrr } from '../../core/sched/wrr.ts';
import { shBuckets, SH_TAB_SIZE } from '../../core/sched/sh.ts';
import { backendMark, queueMark, type BackendIds } from './marks.ts';

export type SchedPath = 'kernel' | 'queue';
/** 'nat' = DNAT (masq and fullnat dests), 'dr' = direct routing (notrack + flow map + fwmark routing). */
export type NftMode = 'nat' | 'dr';

export interface NftBackend {
  readonly mark: number;
  readonly addr: string;
  /** 0 = keep the client's destination port (fwmark and port-zero services). */
  readonly port: number;
  readonly fwd: FwdMethod;
  readonly weight: number;
}

export type NftMatch =
  | { readonly kind: 'addr'; readonly protocol: Protocol; readonly vip: string; readonly port: number }
  | { readonly kind: 'fwmark'; readonly fwmark: number };

/** An in-kernel scheduler: a key expression and a table of marks indexed by it. */
export interface KernelSched {
  readonly kind: 'numgen' | 'hash-src' | 'hash-dst';
  /** Table size: numgen/jhash run modulo this. */
  readonly modulus: number;
  /** slot -> backend mark; slots missing here have no dest (the kernel's "unavailable"). */
  readonly slots: readonly (readonly [number, number])[];
}

export interface NftService {
  readonly family: 4 | 6;
  /** Object-name stem, stable for the service's life: s1, s2, … */
  readonly name: string;
  /** The director's service id (serviceKeyId). */
  readonly id: string;
  readonly index: number;
  /** ipvsadm's name for it, for comments. */
  readonly title: string;
  readonly match: NftMatch;
  readonly mode: NftMode;
  readonly path: SchedPath;
  /** For the queue path: the mark that sends the packet to the queue. */
  readonly queueMark: number;
  /** Kernel path (and the queue path's fail-open fallback): the slot table. */
  readonly sched: KernelSched;
  readonly persistence: { readonly timeoutS: number; readonly netmask: string } | null;
  /** Every dest of the service, quiesced ones too (a template may still point at them). */
  readonly backends: readonly NftBackend[];
  /**
   * One-packet scheduling (-o) in the kernel: every UDP datagram is scheduled on its own, untracked
   * (NAT: stateless rewrite of the destination, and of the replies' source back to VIP:port).
   */
  readonly onePacket: boolean;
}

export interface NftModel {
  /** nftables table name (family ip for IPv4 services, ip6 for IPv6 ones: one model per family). */
  readonly table: string;
  /** The address family of every service in the model. */
  readonly family: 4 | 6;
  /** NFQUEUE number the queue-path services use; null when none does. */
  readonly queueNum: number;
  /** What a queued packet becomes when the consumer is not there or the queue is full. */
  readonly queueFailure: 'fallback' | 'drop';
  /** FULLNAT source: null = masquerade (the address of the interface towards the RS, the DIP); else an address, an a-b range, or a comma-separated list of them (flags.ts). */
  readonly fullnatSource: string | null;
  /** DR flow-map entry lifetime (no conntrack for DR): seconds since the flow's last packet. */
  readonly drFlowTimeoutS: number;
  readonly services: readonly NftService[];
}

export interface ModelOptions {
  readonly table: string;
  readonly queueNum: number;
  readonly queueFailure: 'fallback' | 'drop';
  readonly fullnatSource: string | null;
  readonly drFlowTimeoutS: number;
  /** Services (by id) whose user asked for the core's exact decision. */
  readonly forceQueue: ReadonlySet<string> | 'all';
  /** Backend keys whose ids must stay allocated although their dest is gone (lingering DR flows). */
  readonly keepIds?: ReadonlySet<string>;
  /** Which family's services this model holds (default 4). */
  readonly family?: 4 | 6;
  /**
   * Ids of the other family's services and dests, kept allocated: both families share one id space
   * (marks are per host, not per table), so only the caller that sees both may release ids.
   */
  readonly otherFamilyIds?: { readonly services: ReadonlySet<string>; readonly backends: ReadonlySet<string> };
}

/** Why a service cannot be scheduled in the kernel, or null when it can. */
export function queueReason(svc: Service, forced: boolean): string | null {
  if (forced) return 'forced to the exact path';
  // keepvsadm -A/-E --exact-path (ServiceOptions.exactPath).
  if (svc.options.exactPath === true) return 'the service asks for the exact path (--exact-path)';
  const o = svc.options;
  switch (o.scheduler) {
    case 'rr': case 'wrr': case 'dh': break;
    case 'sh':
      if (o.flags & (SVC_F.SCHED1 | SVC_F.SCHED2)) return 'sh-fallback/sh-port need the exact sh';
      break;
    default: return `scheduler ${o.scheduler} needs per-connection state`;
  }
  if (svc.onePacket && !onePacketInKernel(svc)) return 'one-packet scheduling of a FULLNAT, port-zero or firewall-mark service';
  for (const d of svc.dests) if (d.uThreshold !== 0 || d.lThreshold !== 0) return 'connection thresholds';
  return null;
}

/**
 * Whether one-packet scheduling (-o) can run in the kernel: a UDP VIP:port service whose dests are
 * NAT or DR. IPVS (ip_vs_core.c, IP_VS_CONN_F_ONE_PACKET) schedules each datagram and keeps no
 * connection; nftables does the same without conntrack: `notrack`, then per datagram the slot
 * table (NAT: `ip daddr set` / `udp dport set` from the chosen dest's mark; DR: the fwmark route).
 * FULLNAT would need a per-client source mapping (conntrack's job), so it takes the queue path,
 * decided per flow.
 */
export function onePacketInKernel(svc: Service): boolean {
  const k = svc.key;
  if (k.kind !== 'addr' || k.protocol !== 'udp' || k.port === 0) return false;
  return svc.dests.every((d) => d.fwd === 'masq' || d.fwd === 'route');
}

export function destKey(svc: Service, d: Dest): string {
  return `${svc.id}#${destKeyId(d.addr, d.port)}`;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The longest numgen table emitted for wrr; longer cycles are scaled down proportionally. */
export const MAX_WRR_SLOTS = 1024;

/**
 * One cycle of weighted round-robin, exactly as the core's wrr (ip_vs_wrr.c) picks from a fresh
 * state, as indices into `weights`. A cycle is sum(weight/gcd) picks; past MAX_WRR_SLOTS the
 * weights are scaled down (each positive weight keeps at least one slot).
 */
export function wrrCycle(weights: readonly number[]): number[] {
  const pos = weights.filter((w) => w > 0);
  if (pos.length === 0) return [];
  const g = pos.reduce(gcd);
  let ws = weights.map((w) => (w > 0 ? w / g : 0));
  let total = ws.reduce((a, b) => a + b, 0);
  if (total > MAX_WRR_SLOTS) {
    const f = MAX_WRR_SLOTS / total;
    ws = ws.map((w) => (w > 0 ? Math.max(1, Math.floor(w * f)) : 0));
    const g2 = ws.filter((w) => w > 0).reduce(gcd);
    ws = ws.map((w) => w / g2);
    total = ws.reduce((a, b) => a + b, 0);
  }
  // The core's scheduler over stand-in dests, built the way a service is: created empty, then the
  // dests added oldest first (svc.dests is newest first), so the cycle starts where the kernel's
  // does for a freshly configured service.
  const dests = ws.map((weight, i) => ({ weight, overloaded: false, i }));
  const live: typeof dests = [];
  const svc = { dests: live } as unknown as Service;
  const wrr = createWrr(svc);
  for (let j = dests.length - 1; j >= 0; j--) {
    live.unshift(dests[j]);
    wrr.addDest?.(svc, live[0] as unknown as Dest);
  }
  const out: number[] = [];
  const ctx = { now: 0, random: () => 0, commit: true };
  for (let k = 0; k < total; k++) {
    const p = wrr.schedule(svc, { caddr: addrFromU32(0), cport: 0, vaddr: addrFromU32(0), vport: 0 }, ctx);
    if (!p.dest) break;
    out.push((p.dest as unknown as { i: number }).i);
  }
  return out;
}

function kernelSched(svc: Service, marks: readonly number[]): KernelSched {
  const dests = svc.dests;
  switch (svc.options.scheduler) {
    case 'wrr': {
      const cycle = wrrCycle(dests.map((d) => d.weight));
      return { kind: 'numgen', modulus: cycle.length, slots: cycle.map((di, slot) => [slot, marks[di]] as const) };
    }
    case 'sh': case 'dh': {
      // The kernel's bucket layout (ip_vs_sh_reassign; dh fills its table the same way for weight
      // > 0 dests); a bucket holding a quiesced dest has no entry, which drops like "unavailable".
      const buckets = shBuckets(dests);
      const slots: (readonly [number, number])[] = [];
      for (let b = 0; b < SH_TAB_SIZE; b++) {
        const d = buckets[b];
        if (d !== null && d.weight > 0) slots.push([b, marks[dests.indexOf(d)]]);
      }
      return { kind: svc.options.scheduler === 'sh' ? 'hash-src' : 'hash-dst', modulus: SH_TAB_SIZE, slots };
    }
    default: {
      // rr (and the queue path's fail-open fallback): the available dests in list order, which is
      // the order ip_vs_rr.c walks from the list head.
      const avail: number[] = [];
      dests.forEach((d, i) => { if (d.weight > 0) avail.push(marks[i]); });
      return { kind: 'numgen', modulus: avail.length, slots: avail.map((m, slot) => [slot, m] as const) };
    }
  }
}

/** The persistence mask as an address: IPv4 keeps its netmask; IPv6 has a prefix length (ip_vs_ctl.c). */
function persistMask(svc: Service): string {
  if (svc.family === 4) return addrFromU32(svc.options.netmask).text;
  const bytes = new Uint8Array(16);
  const len = svc.options.netmask;
  for (let i = 0; i < 16; i++) bytes[i] = len >= (i + 1) * 8 ? 0xff : len <= i * 8 ? 0 : (0xff << (8 - (len - i * 8))) & 0xff;
  return addrFromBytes(bytes).text;
}

function modeOf(svc: Service): NftMode {
  return svc.dests.some((d) => d.fwd === 'route' || d.fwd === 'tunnel') ? 'dr' : 'nat';
}

/**
 * The model for the director's current services of one family. Ids come from the plane's
 * allocators (stable across calls), shared by both families.
 */
export function buildModel(director: Pick<Director, 'services'>, ids: { services: BackendIds; backends: BackendIds }, opts: ModelOptions): NftModel {
  const family = opts.family ?? 4;
  const services: NftService[] = [];
  const liveSvc = new Set<string>(opts.otherFamilyIds?.services ?? []);
  const liveDest = new Set<string>(opts.otherFamilyIds?.backends ?? []);
  for (const svc of director.services()) {
    if (svc.family !== family) continue;
    liveSvc.add(svc.id);
    const index = ids.services.take(svc.id);
    const marks = svc.dests.map((d) => {
      const k = destKey(svc, d);
      liveDest.add(k);
      return backendMark(ids.backends.take(k));
    });
    // Forced by the daemon (--nft-exact-all) or the plane's API; the service's own --exact-path is queueReason's.
    const forced = opts.forceQueue === 'all' || opts.forceQueue.has(svc.id);
    const path: SchedPath = queueReason(svc, forced) === null ? 'kernel' : 'queue';
    const k = svc.key;
    const match: NftMatch = k.kind === 'addr'
      ? { kind: 'addr', protocol: k.protocol, vip: k.vip.text, port: k.port }
      : { kind: 'fwmark', fwmark: k.fwmark };
    const sched = path === 'kernel'
      ? kernelSched(svc, marks)
      : kernelSched({ ...svc, options: { ...svc.options, scheduler: 'rr' }, dests: svc.dests } as Service, marks);
    services.push({
      family, name: `s${index}`, id: svc.id, index,
      title: k.kind === 'addr' ? `${k.protocol.toUpperCase()} ${k.vip.text}:${k.port}` : `FWM ${k.fwmark}`,
      match, mode: modeOf(svc), path, queueMark: queueMark(index), sched,
      persistence: svc.persistent ? { timeoutS: svc.options.timeout, netmask: persistMask(svc) } : null,
      backends: svc.dests.map((d, i) => ({ mark: marks[i], addr: d.addr.text, port: d.port, fwd: d.fwd, weight: d.weight })),
      onePacket: path === 'kernel' && svc.onePacket && onePacketInKernel(svc),
    });
  }
  ids.services.retain(liveSvc);
  for (const k of opts.keepIds ?? []) liveDest.add(k);
  ids.backends.retain(liveDest);
  return {
    table: opts.table, family, queueNum: opts.queueNum, queueFailure: opts.queueFailure,
    fullnatSource: opts.fullnatSource, drFlowTimeoutS: opts.drFlowTimeoutS, services,
  };
}
