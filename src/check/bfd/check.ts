// BFD_CHECK (keepalived/check/check_bfd.c): a checker that does not probe; it follows a bfd_instance's
// session. keepalived's BFD process writes an event (Up, or Down for any other state) to the checker
// process at start-up and on each notified change (bfd_event.c: bfd_event_send); the checker calls
// update_svr_checker_state for every BFD_CHECK naming the instance whose up state differs, or that has
// not run yet (bfd_check_handle_event). BFD_CHECK has no weight of its own: a bfd_instance's `weight`
// is for VRRP's track_bfd only (check_bfd.c reads just `name` and `alpha`).
import type { CheckerState, Report } from '../state.ts';

/** What the health checker needs from the BFD process (process.ts implements it; tests fake it). */
export interface BfdStatusSource {
  /** Whether the named session is Up; null when no such session runs. */
  isUp(name: string): boolean | null;
  /** Called with each notified change of a session. Returns an unsubscribe function. */
  subscribe(fn: (name: string, up: boolean) => void): () => void;
}

/** One BFD event for one BFD_CHECK: the new state and, when keepalived would call it, the report. */
export function stepBfdCheck(s: CheckerState, up: boolean): { state: CheckerState; report: Report | null } {
  if (up === s.up && s.hasRun) return { state: s, report: null };
  return { state: { ...s, up, hasRun: true }, report: { alive: up, wasUp: s.up, hadRun: s.hasRun } };
}
