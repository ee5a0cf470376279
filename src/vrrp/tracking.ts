// Tracking: what interfaces, vrrp_scripts and track_files do to an instance's priority and FAULT state,
// as a pure function of their current status (keepalived vrrp_track.c: initialise_*_tracking_priorities,
// process_script_update_priority, vrrp_set_effective_priority; vrrp_scheduler.c vrrp_script_child_thread
// for the rise/fall counter). keepalived adds and subtracts deltas on each change; the sum it reaches is
// this function of the statuses, so recomputing it gives the same total.
import type { ResolvedInstance, ResolvedScript, ResolvedSyncGroup, ResolvedTrack, ResolvedTrackFile } from './config.ts';
import type { TrackingTotals } from './fsm.ts';

/** 'disabled': refused by the script checks (script_user, enable_script_security); it does not count at all. */
export type ScriptStatus = 'unknown' | 'ok' | 'fail' | 'disabled';

/** What every tracked object reports right now. */
export interface TrackerStatuses {
  /** Interface name → up (IFF_UP and IFF_RUNNING). Missing = down. */
  readonly interfaces: ReadonlyMap<string, boolean>;
  readonly scripts: ReadonlyMap<string, ScriptStatus>;
  /** track_file name → the integer read from the file. */
  readonly files: ReadonlyMap<string, number>;
  /** vrrp_track_process name → has quorum (track-process.ts). Missing = no quorum. */
  readonly processes?: ReadonlyMap<string, boolean>;
}

/** Contribution of one weighted up/down tracker (the same rule for interfaces and scripts). */
function weighted(t: ResolvedTrack, up: boolean): number {
  if (t.weight > 0) return up ? t.weight * t.multiplier : 0;
  return up ? 0 : t.weight * t.multiplier;
}

/** The trackers that apply to an instance: its own plus its sync group's, and its interface (unless dont_track_primary). */
export function trackersOf(inst: ResolvedInstance, group: ResolvedSyncGroup | null): { interfaces: ResolvedTrack[]; scripts: ResolvedTrack[]; files: ResolvedTrack[]; processes: ResolvedTrack[] } {
  const interfaces = [...inst.trackInterfaces, ...(group?.trackInterfaces ?? [])];
  if (inst.interface && !inst.dontTrackPrimary && !interfaces.some((t) => t.name === inst.interface && t.weight === 0)) {
    interfaces.push({ name: inst.interface, weight: 0, multiplier: 1 });
  }
  return {
    interfaces, scripts: [...inst.trackScripts, ...(group?.trackScripts ?? [])], files: [...inst.trackFiles, ...(group?.trackFiles ?? [])],
    processes: [...inst.trackProcesses, ...(group?.trackProcesses ?? [])],
  };
}

export function trackingTotals(inst: ResolvedInstance, group: ResolvedSyncGroup | null, st: TrackerStatuses): TrackingTotals {
  const t = trackersOf(inst, group);
  let total = inst.basePriority;
  let faults = 0;
  let initPending = 0;
  const owner = inst.basePriority === 255;
  for (const i of t.interfaces) {
    const up = st.interfaces.get(i.name) ?? false;
    if (i.weight === 0) {
      if (up !== (i.multiplier === 1)) faults++;
    } else if (!owner) total += weighted(i, up);
  }
  for (const s of t.scripts) {
    const status = st.scripts.get(s.name) ?? 'unknown';
    if (status === 'disabled') continue;
    if (s.weight === 0) {
      if (status === 'unknown') initPending++;
      else if ((status === 'ok') !== (s.multiplier === 1)) faults++;
    } else if (!owner && status !== 'unknown') {
      total += weighted(s, status === 'ok');
    }
  }
  // vrrp_track.c process_update_track_process_status: the same up/down rule as an interface.
  for (const p of t.processes) {
    const up = st.processes?.get(p.name) ?? false;
    if (p.weight === 0) {
      if (up !== (p.multiplier === 1)) faults++;
    } else if (!owner) total += weighted(p, up);
  }
  for (const f of t.files) {
    const value = st.files.get(f.name) ?? 0;
    const status = f.weight === 0
      ? ((value !== 0) === (f.multiplier === 1) ? -254 : 0)
      : value * f.weight * f.multiplier;
    if (status <= -254) faults++;
    else if (!owner) total += Math.min(status, 253);
  }
  return { totalPriority: total, faults, initPending };
}

// ---------------------------------------------------------------------------------------------- scripts

/** keepalived's vrrp_script result counter: `result` in 0..rise+fall-1, OK when result >= rise. */
export interface ScriptCounter {
  readonly result: number;
  /** 'init': never run (one success is enough); 'done' after the first result. */
  readonly initState: 'init' | 'failed' | 'done';
}

export function initialScriptCounter(s: ResolvedScript): ScriptCounter {
  return s.initFail ? { result: 0, initState: 'failed' } : { result: s.rise - 1, initState: 'init' };
}

export function scriptStatus(s: ResolvedScript, c: ScriptCounter): ScriptStatus {
  if (c.initState === 'init') return 'unknown';
  return c.result >= s.rise ? 'ok' : 'fail';
}

/**
 * Apply one run's outcome (exit 0 = success; anything else, a signal or a timeout = failure). From fully
 * OK, `fall` consecutive failures make it FAIL; from FAIL, `rise` consecutive successes make it OK.
 */
export function scriptOutcome(s: ResolvedScript, c: ScriptCounter, success: boolean): ScriptCounter {
  const top = s.rise + s.fall - 1;
  let result = c.result;
  if (success) {
    if (result < s.rise - 1) result++;
    else if (result !== top) result = top;
  } else if (result > s.rise) {
    result--;
  } else {
    result = 0;
  }
  return { result, initState: 'done' };
}

export type { ResolvedTrackFile };
