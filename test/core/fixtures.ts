// Small builders for core tests and benchmarks: a service with dests in kernel list order, and the
// add / delete / edit / load moves the director makes, calling the scheduler hooks the same way.
import { addr, type Addr } from '../../src/core/addr.ts';
import { DEST_F, Dest, type DestSpec } from '../../src/core/dest.ts';
import { Service, destKeyId, type ServiceKey, type ServiceOptions } from '../../src/core/service.ts';
import { SCHEDULERS } from '../../src/core/sched/index.ts';
import type { SchedContext, SchedPacket, SchedulerName } from '../../src/core/sched/scheduler.ts';

export interface ServiceFixtureOptions {
  readonly key?: ServiceKey;
  /** SVC_F bits. */
  readonly flags?: number;
  readonly port?: number;
}

let nextRip = 1;

/** A fresh real-server address 10.x.y.z, unique within the process. */
export function nextRealServerAddr(): Addr {
  const i = nextRip++;
  return addr(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
}

export function destSpec(weight: number, overrides: Partial<DestSpec> = {}): DestSpec {
  return {
    addr: overrides.addr ?? nextRealServerAddr(),
    port: overrides.port ?? 80,
    fwd: overrides.fwd ?? 'masq',
    weight,
    uThreshold: overrides.uThreshold ?? 0,
    lThreshold: overrides.lThreshold ?? 0,
    ...(overrides.tunnel ? { tunnel: overrides.tunnel } : {}),
  };
}

/**
 * A service whose dests have the given weights in kernel list order (weights[0] = list head), with
 * the scheduler built over the full list (init_service), as when the scheduler is set last.
 */
export function makeService(sched: SchedulerName, weights: readonly number[], opts: ServiceFixtureOptions = {}): Service {
  const svc = emptyService(sched, opts);
  for (const w of weights) {
    const d = new Dest(svc, destSpec(w, { port: opts.port ?? 80 }));
    svc.dests.push(d);
    svc.destIndex.set(destKeyId(d.addr, d.port), d);
  }
  svc.scheduler = SCHEDULERS[sched](svc);
  return svc;
}

/** A service with no dests and its scheduler initialised (dests then come through addDest). */
export function emptyService(sched: SchedulerName, opts: ServiceFixtureOptions = {}): Service {
  const key: ServiceKey = opts.key ?? { kind: 'addr', protocol: 'tcp', vip: addr('192.0.2.1'), port: opts.port ?? 80 };
  const options: ServiceOptions = { scheduler: sched, flags: opts.flags ?? 0, timeout: 360, netmask: 0xffffffff, pe: null };
  const svc = new Service(key, options);
  svc.scheduler = SCHEDULERS[sched](svc);
  return svc;
}

/** The director's add: link at the list head, then the add_dest hook. */
export function addDest(svc: Service, weight: number, overrides: Partial<DestSpec> = {}): Dest {
  const d = new Dest(svc, destSpec(weight, overrides));
  svc.dests.unshift(d);
  svc.destIndex.set(destKeyId(d.addr, d.port), d);
  svc.scheduler.addDest?.(svc, d);
  return d;
}

/** The director's delete: unlink, then the del_dest hook with the old index. */
export function delDest(svc: Service, dest: Dest): void {
  const index = svc.dests.indexOf(dest);
  if (index < 0) throw new Error('dest not in service');
  svc.dests.splice(index, 1);
  svc.destIndex.delete(destKeyId(dest.addr, dest.port));
  svc.scheduler.delDest?.(svc, dest, index);
}

/**
 * The director's edit of a weight: upd_dest when the scheduler has the hook, otherwise loadChanged so
 * an index can refresh. ip_vs_ctl.c keeps last_weight at the latest non-zero weight.
 */
export function setWeight(svc: Service, dest: Dest, weight: number): void {
  dest.weight = weight;
  if (weight !== 0) dest.lastWeight = weight;
  if (svc.scheduler.updDest) svc.scheduler.updDest(svc, dest);
  else svc.scheduler.loadChanged?.(dest);
}

/** Set the counts directly (as a state snapshot would) and tell the scheduler. */
export function setLoad(dest: Dest, active: number, inactive: number): void {
  dest.activeConns = active;
  dest.inactConns = inactive;
  dest.svc.scheduler.loadChanged?.(dest);
}

export function setOverloaded(dest: Dest, on: boolean): void {
  if (on) dest.flags |= DEST_F.OVERLOAD;
  else dest.flags &= ~DEST_F.OVERLOAD;
  dest.svc.scheduler.loadChanged?.(dest);
}

/** Deterministic u32 generator (xorshift32); seed must be non-zero. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** A context for decisions; commit=false is the explain mode. */
export function schedContext(opts: { commit?: boolean; random?: () => number; now?: number } = {}): SchedContext {
  return { now: opts.now ?? 0, random: opts.random ?? seededRandom(1), commit: opts.commit ?? true };
}

const CLIENT = addr('198.51.100.7');
const VIP = addr('192.0.2.1');

/** A packet for schedulers that ignore the packet (or a fixed one for those that hash it). */
export function samplePacket(caddr: Addr = CLIENT, cport = 40000, vaddr: Addr = VIP, vport = 80): SchedPacket {
  return { caddr, cport, vaddr, vport };
}
