// vrrp_track_process: how many processes match, and when that counts as up, as keepalived 2.2.7
// decides it (keepalived/core/track_process.c: read_procs, check_params, check_process_fork,
// check_process_termination and their quorum timers; vrrp_parser.c for the defaults). Pure; the
// runtime (vrrp-process.ts) feeds it /proc snapshots on a timer (src/sys/proc-scan.ts).
//  * A process matches by its command name (/proc/PID/stat's comm, 15 bytes) or, with full_command
//    (implied by parameters or param_match), by argv[0] exactly.
//  * Parameters: `exact` — the arguments are exactly the configured ones; `partial` — they begin with
//    the configured ones, whole words; `initial` — the same, but the last configured one need only be
//    a prefix of the corresponding argument.
//  * The tracker is up while quorum <= count <= quorum_max. Gaining quorum waits fork_delay, losing
//    it waits terminate_delay; a change back before the delay runs out cancels it.
import type { ProcessEntry } from '../sys/proc-scan.ts';

export interface ResolvedTrackProcess {
  readonly name: string;
  readonly process: string;
  readonly params: readonly string[];
  readonly paramMatch: 'exact' | 'initial' | 'partial' | null;
  readonly weight: number;
  readonly reverse: boolean;
  readonly quorum: number;
  /** Infinity when not configured. */
  readonly quorumMax: number;
  readonly forkDelayUs: number;
  readonly terminateDelayUs: number;
  readonly fullCommand: boolean;
}

function paramsMatch(t: ResolvedTrackProcess, args: readonly string[]): boolean {
  const want = t.params;
  if (t.paramMatch === 'exact') return args.length === want.length && want.every((w, i) => args[i] === w);
  if (args.length < want.length) return false;
  if (t.paramMatch === 'partial') return want.every((w, i) => args[i] === w);
  // initial: every configured argument but the last whole, the last a prefix.
  return want.every((w, i) => (i === want.length - 1 ? args[i].startsWith(w) : args[i] === w));
}

export function processMatches(t: ResolvedTrackProcess, p: ProcessEntry): boolean {
  const name = t.fullCommand ? p.argv[0] : p.comm;
  if (name !== t.process) return false;
  return t.paramMatch === null || paramsMatch(t, p.argv.slice(1));
}

export function countMatches(t: ResolvedTrackProcess, procs: readonly ProcessEntry[]): number {
  let n = 0;
  for (const p of procs) if (processMatches(t, p)) n++;
  return n;
}

export interface ProcessTrackerState {
  /** keepalived have_quorum. */
  readonly up: boolean;
  readonly count: number;
  /** A pending change (fork_delay / terminate_delay) takes effect at this time (µs); null = none. */
  readonly changeAt: number | null;
}

const inQuorum = (t: ResolvedTrackProcess, n: number): boolean => n >= t.quorum && n <= t.quorumMax;

/** At start keepalived counts the processes once and takes the verdict without delays. */
export function initialProcessTracker(t: ResolvedTrackProcess, count: number): ProcessTrackerState {
  return { up: inQuorum(t, count), count, changeAt: null };
}

/** A new count at `now`, or a timer at `now` (same count): the next state. */
export function stepProcessTracker(t: ResolvedTrackProcess, s: ProcessTrackerState, count: number, now: number): ProcessTrackerState {
  const want = inQuorum(t, count);
  if (want === s.up) return { up: s.up, count, changeAt: null };
  if (s.changeAt !== null) return now >= s.changeAt ? { up: want, count, changeAt: null } : { ...s, count };
  const delay = want ? t.forkDelayUs : t.terminateDelayUs;
  if (delay === 0) return { up: want, count, changeAt: null };
  return { up: s.up, count, changeAt: now + delay };
}
