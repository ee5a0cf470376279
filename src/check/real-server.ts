// A real server as the health checker sees it: alive iff none of its checkers is down
// (keepalived's num_failed_checkers == 0), an effective weight (configured weight plus what
// MISC_CHECK misc_dynamic and FILE_CHECK add), and whether it is in the IPVS table ("set").
// Pure: functions return the new record and the director commands it implies as events.
//
// The inhibit-versus-remove decision is keepalived's ipvs_cmd (check/ipvswrapper.c): with
// inhibit_on_failure a "remove" becomes an edit to weight 0 and an "add" of a server already in the
// table becomes an edit back to its weight; a failed, inhibited server is first added at weight 0.

/** IPVS_WEIGHT_MAX (keepalived include/ip_vs.h): INT32_MAX. The kernel clamps further. */
export const IPVS_WEIGHT_MAX = 2147483647;

export interface RsState {
  readonly address: string;
  readonly port: number;
  /** Configured weight (keepalived's iweight). */
  readonly weight: number;
  /** iweight + every checker's cur_weight (keepalived's effective_weight, may leave 0..MAX). */
  readonly effectiveWeight: number;
  readonly alive: boolean;
  /** In the IPVS table (possibly at weight 0 when inhibited). */
  readonly set: boolean;
  readonly inhibit: boolean;
  /** Checkers currently down (num_failed_checkers). */
  readonly failedCheckers: number;
}

/** A command for the director. `rs` is keepalived's "[addr]:proto:port" text of the destination. */
export interface DestEvent {
  readonly type: 'dest-add' | 'dest-remove' | 'dest-edit';
  readonly vs: string;
  readonly rs: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly sorry: boolean;
}

/** real_weight(): what IPVS gets for an effective weight. */
export function realWeight(effective: number): number {
  if (effective < 0) return 0;
  if (effective > IPVS_WEIGHT_MAX) return IPVS_WEIGHT_MAX;
  return effective;
}

export function initialRs(address: string, port: number, weight: number, inhibit: boolean, failedCheckers: number): RsState {
  return { address, port, weight, effectiveWeight: weight, alive: false, set: false, inhibit, failedCheckers };
}

export type DestCommand = 'add' | 'remove' | 'edit';

/**
 * keepalived's ipvs_cmd for one destination: returns the new state and the event to publish
 * (null when nothing reaches the director, e.g. removing a server that is not in the table).
 * `forceRemove` clears inhibit for the call, as clear_service_rs does on shutdown.
 */
export function destCommand(
  rs: RsState, cmd: DestCommand, vs: string, rsText: string, sorry: boolean, forceRemove = false,
): { rs: RsState; event: DestEvent | null } {
  const base = { vs, rs: rsText, address: rs.address, port: rs.port, sorry };
  const weight = realWeight(rs.effectiveWeight);
  const inhibit = rs.inhibit && !forceRemove;
  if (cmd === 'remove') {
    if (inhibit) return { rs, event: { type: 'dest-edit', ...base, weight: 0 } };
    if (!rs.set) return { rs, event: null };
    return { rs: { ...rs, set: false }, event: { type: 'dest-remove', ...base, weight } };
  }
  if (cmd === 'add') {
    if (inhibit && rs.set) return { rs, event: { type: 'dest-edit', ...base, weight } };
    if (!rs.set) {
      const w = rs.inhibit && rs.failedCheckers > 0 ? 0 : weight;
      return { rs: { ...rs, set: true }, event: { type: 'dest-add', ...base, weight: w } };
    }
    // Already present without inhibit: keepalived would get EEXIST; the director needs nothing.
    return { rs, event: null };
  }
  return { rs, event: { type: 'dest-edit', ...base, weight } };
}

/**
 * The first half of keepalived's update_svr_checker_state: given a checker report, what happens to
 * the real server. `transition` means perform_svr_state(alive) must run; `notify` means the
 * report only confirmed the initial state of an alpha (or failed) checker, which still runs the
 * notifies (do_rs_notifies) once.
 */
export function checkerReport(
  rs: RsState, report: { alive: boolean; wasUp: boolean; hadRun: boolean }, alpha: boolean,
): { action: 'none' | 'notify' | 'transition'; failedAfter: number } {
  if (report.wasUp === report.alive) {
    const action = !report.hadRun && (alpha || !report.alive) ? 'notify' : 'none';
    return { action, failedAfter: rs.failedCheckers };
  }
  const failedAfter = report.alive ? Math.max(0, rs.failedCheckers - 1) : rs.failedCheckers + 1;
  // Going up: the server comes back only when this was the last failed checker.
  // Going down: only the first failing checker takes the server down.
  const transition = report.alive ? rs.failedCheckers <= 1 : rs.failedCheckers === 0;
  return { action: transition ? 'transition' : 'none', failedAfter };
}
