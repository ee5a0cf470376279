// What a SIGHUP reload keeps, as keepalived 2.2.7 decides it (vrrp_daemon.c sigreload_vrrp /
// reload_vrrp_thread, vrrp.c vrrp_exist / clear_diff_vrrp / restore_vrrp_state / clear_diff_script,
// vrrp_complete_init's reload branch, vrrp_scheduler.c vrrp_init_state). Pure: the runtime
// (vrrp-process.ts) performs what these functions decide.
//  * An instance is "the same" across a reload when its VRID, family and interface match, it is
//    unicast in both or in neither, and (unicast) its source address or (multicast) its group is
//    unchanged; its name and everything else may change.
//  * A kept instance keeps its state (MASTER stays MASTER without a new election), counters, AH sequence
//    number and installed addresses; a MASTER removes the addresses, routes and rules the new file no
//    longer has and adds the new ones (with a gratuitous ARP / NA round when it added any).
//  * A vrrp_script kept by name keeps its verdict, its counter moved into the new rise/fall range.
import type { Vip } from './vip.ts';
import { vipAddArgs, vipDev } from './vip.ts';
import type { ResolvedInstance, ResolvedScript } from './config.ts';
import type { InstanceState } from './fsm.ts';
import type { ScriptCounter } from './tracking.ts';

/** keepalived vrrp_exist: the new instance that continues `old`, or null. */
export function matchInstance(old: ResolvedInstance, next: readonly ResolvedInstance[]): ResolvedInstance | null {
  for (const n of next) {
    if (n.vrid !== old.vrid || n.family !== old.family || n.interface !== old.interface) continue;
    // keepalived compares the instance's interface, which is the vmac with use_vmac: switching it on or
    // off, or renaming it, makes another instance.
    if ((n.vmac?.name ?? null) !== (old.vmac?.name ?? null)) continue;
    if (n.unicast !== old.unicast) continue;
    if (n.unicast) {
      if ((n.srcAddr?.text ?? null) !== (old.srcAddr?.text ?? null)) continue;
      return n;
    }
    // keepalived stops at the first VRID/interface match: a different group means "no match".
    return n.mcastDst.text === old.mcastDst.text ? n : null;
  }
  return null;
}

/** One address's identity for the diff: its full `ip addr add` arguments (label, scope, brd...). */
export function vipKey(v: Vip, iface: string | null): string | null {
  const dev = vipDev(v, iface);
  return dev ? vipAddArgs(v, dev).join(' ') : null;
}

export interface AddressDiff {
  /** Old addresses the new configuration does not have (removed from a MASTER). */
  readonly removedVips: readonly Vip[];
  readonly removedRoutes: readonly (readonly string[])[];
  readonly removedRules: readonly (readonly string[])[];
  /** The new configuration has an address the old one did not (a MASTER adds it and sends GARPs). */
  readonly added: boolean;
}

/** clear_diff_vrrp_vip / _vroutes / _vrules plus restore_vrrp_state's "added" verdict. */
export function addressDiff(old: ResolvedInstance, next: ResolvedInstance): AddressDiff {
  const keys = (c: ResolvedInstance) => new Set([...c.vips, ...c.evips].map((v) => vipKey(v, c.interface)));
  const oldKeys = keys(old);
  const newKeys = keys(next);
  const line = (r: readonly string[]) => r.join(' ');
  const newRoutes = new Set(next.routes.map(line));
  const newRules = new Set(next.rules.map(line));
  return {
    removedVips: [...old.vips, ...old.evips].filter((v) => !newKeys.has(vipKey(v, old.interface))),
    removedRoutes: old.routes.filter((r) => !newRoutes.has(line(r))),
    removedRules: old.rules.filter((r) => !newRules.has(line(r))),
    added: [...newKeys].some((k) => !oldKeys.has(k)),
  };
}

/**
 * Whether a kept instance continues in its old state: it was MASTER or BACKUP, and the new
 * configuration finds no fault and no weight-0 script still to report (vrrp_complete_init: "if we
 * have detected a fault, don't override it"). Otherwise it starts afresh, as a new instance does.
 */
export function keepsState(old: InstanceState, fresh: InstanceState): boolean {
  return (old.state === 'MASTER' || old.state === 'BACKUP') && fresh.state !== 'FAULT' && fresh.faults === 0 && fresh.initPending === 0;
}

/**
 * The state a kept instance continues with (keepsState true): `fresh` is initialState() for the new
 * configuration (its priorities, timers, trackers); from `old` come the state, the installed
 * addresses, the AH counter and the current master. A MASTER sends its next advert at once
 * (vrrp_init_instance_sands with reload_master); a BACKUP restarts its Master_Down timer.
 */
export function reloadedState(old: InstanceState, fresh: InstanceState, now: number, garpRefreshUs: number): InstanceState {
  const master = old.state === 'MASTER';
  return {
    ...fresh,
    state: old.state,
    wantState: master ? 'MASTER' : 'BACKUP',
    vipSet: old.vipSet,
    ahSeq: old.ahSeq,
    masterAddr: old.masterAddr,
    masterPriority: old.masterPriority,
    checksumCompat: old.checksumCompat,
    notifiesSent: old.notifiesSent,
    sands: master ? now : now + fresh.msDownTimerUs,
    garpRefreshAt: master && garpRefreshUs > 0 ? old.garpRefreshAt ?? now + garpRefreshUs : null,
  };
}

/**
 * clear_diff_script: a script kept by name keeps its verdict. Never run yet: it starts over. Failing:
 * as many successes short of `rise` as before (0 stays 0). Succeeding: fully up stays fully up,
 * otherwise as many failures short of `fall` as before.
 */
export function carryScriptCounter(oldCfg: ResolvedScript, old: ScriptCounter, next: ResolvedScript): { counter: ScriptCounter; verdict: 'successful' | 'unsuccessful' | null } {
  if (old.initState === 'init') return { counter: { result: next.rise - 1, initState: 'init' }, verdict: null };
  const top = next.rise + next.fall - 1;
  if (old.result < oldCfg.rise) {
    const result = old.result === 0 ? 0 : Math.max(0, next.rise - (oldCfg.rise - old.result));
    return { counter: { result, initState: 'done' }, verdict: 'unsuccessful' };
  }
  const result = old.result === oldCfg.rise + oldCfg.fall - 1 ? top : Math.min(top, next.rise + (old.result - oldCfg.rise));
  return { counter: { result, initState: 'done' }, verdict: 'successful' };
}
