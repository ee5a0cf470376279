// The scheduler contract: the hooks of struct ip_vs_scheduler (include/net/ip_vs.h) plus what a
// sub-linear pick needs. Every scheduler lives in its own file under core/sched/ and is registered
// by its ipvsadm -s name in core/sched/index.ts.
import type { Addr } from '../addr.ts';
import type { Dest } from '../dest.ts';
import type { Service } from '../service.ts';

export const SCHEDULER_NAMES = [
  'rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos',
] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** The packet fields a scheduler may look at (kernel: struct ip_vs_iphdr saddr/daddr + ports). */
export interface SchedPacket {
  /** Source address: the client (CIP). sh and mh hash it. */
  readonly caddr: Addr;
  readonly cport: number;
  /** Destination address of the packet: the VIP (for fwmark services, whatever was marked). dh, lblc, lblcr hash it. */
  readonly vaddr: Addr;
  readonly vport: number;
}

export interface SchedContext {
  /** Milliseconds, from the caller's clock. */
  readonly now: number;
  /** Uniform random u32 (twos uses get_random_u32 in the kernel); injected so tests are exact. */
  readonly random: () => number;
  /**
   * false = explain: compute the decision without changing any scheduler state (rr position, wrr
   * current weight, lblc tables, random draws still happen on a copy).
   */
  readonly commit: boolean;
}

/**
 * Why a scheduler returned what it did; counted and shown by explain.
 * - 'pick': the scheduler's normal rule chose the dest.
 * - 'fallback': sh/mh fallback probing found another dest because the hashed one was unavailable.
 * - 'table-hit': lblc/lblcr reused the dest recorded for this destination address.
 * - 'no-dest': nothing available (kernel: "no destination available").
 * - 'overloaded': wrr found every dest overloaded ("all destinations are overloaded").
 * - 'unavailable': dh/sh/mh hashed to a dest that is weight 0 or OVERLOAD and there is no fallback.
 */
export type SchedReason = 'pick' | 'fallback' | 'table-hit' | 'no-dest' | 'overloaded' | 'unavailable';

export interface SchedPick {
  readonly dest: Dest | null;
  readonly reason: SchedReason;
  /** Human detail for explain, e.g. "bucket 17" or "overhead 512/weight 2". */
  readonly detail?: string;
}

export interface Scheduler {
  readonly name: SchedulerName;
  /** ip_vs_scheduler.schedule. svc.dests is in kernel list order (index 0 = list head = newest). */
  schedule(svc: Service, pkt: SchedPacket, ctx: SchedContext): SchedPick;
  /** add_dest hook: called after the dest was inserted at svc.dests[0]. */
  addDest?(svc: Service, dest: Dest): void;
  /** del_dest hook: called after the dest was removed from svc.dests; index = where it was. */
  delDest?(svc: Service, dest: Dest, index: number): void;
  /** upd_dest hook: called after an edit changed the dest's weight, thresholds or method. */
  updDest?(svc: Service, dest: Dest): void;
  /**
   * Not a kernel hook: the dest's activeConns/inactConns or OVERLOAD flag changed. Schedulers that
   * keep an index to avoid the kernel's O(n) scan update it here; the choice stays the scan's.
   */
  loadChanged?(dest: Dest): void;
  /** Periodic housekeeping (lblc/lblcr table expiry); now in ms. */
  tick?(svc: Service, now: number): void;
  /** done_service hook: the service is deleted or switches scheduler. */
  done?(svc: Service): void;
}

/** init_service: build the scheduler's state from the service's current dest list. */
export type SchedulerFactory = (svc: Service) => Scheduler;
