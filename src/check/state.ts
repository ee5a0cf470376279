// The per-checker state machine, pure: (state, outcome, now) → (state, report, next check time).
// It reproduces when keepalived calls update_svr_checker_state(UP|DOWN) and how it spaces attempts:
//
// - TCP_CHECK, UDP_CHECK, PING_CHECK, DNS_CHECK, SMTP_CHECK ("simple"; check_tcp.c: tcp_epilog,
//   check_udp.c: udp_epilog, check_ping.c: icmp_epilog, check_dns.c: dns_final,
//   check_smtp.c: smtp_final — five spellings of one rule):
//   success → retry_it = 0; if the checker is down (or has never run) report UP; next after delay_loop.
//   failure while up (or never run) with retry_it >= retry → retry_it = 0, report DOWN, next after
//   delay_loop; failure while up with retries left → retry_it++, next after delay_before_retry;
//   failure while down → nothing, next after delay_loop. At start-up retry_it = retry
//   (check_data.c), so the first failure marks the checker down at once; afterwards an up checker
//   needs retry+1 failed attempts in a row. (keepalived ≤ 2.3.2's TCP_CHECK also spaced failures
//   of a *down* checker by delay_before_retry; upstream fixed that in 77dad708, which we follow.)
// - MISC_CHECK (check_misc.c: misc_check_child_thread): the same decisions, but the next run is
//   timed from the start of the previous one (last_ran), and misc_dynamic exit codes set a weight.
// - HTTP_GET / SSL_GET (check_http.c: epilog, timeout_epilog): one URL per attempt, in order; after
//   the last URL of a clean pass the checker is reported UP if it was down. A failing URL is retried
//   after delay_before_retry until retry_it > retry, then DOWN is reported and only that URL is
//   polled (every max(delay_before_retry, delay_loop)); once it passes, every URL is checked again
//   and the pass that completes brings the checker UP — so coming back takes two good answers with
//   one URL. fast_recovery skips the waits while recovering.
//
// keepvs extension (docs/checkers.md): `rise N` — a down checker needs N successful checks in a row
// (N clean passes for HTTP) before UP is reported; `fall N` — an up checker is reported DOWN only
// after N failed checks in a row, each of which already used its retries. rise 1 / fall 1 (the
// defaults) are keepalived exactly. At start-up the first failure still marks down at once.
import type { CheckerTiming } from './spec.ts';

export type CheckerFamily = 'simple' | 'http' | 'misc';

export interface MachineConfig {
  readonly family: CheckerFamily;
  readonly timing: CheckerTiming;
  /** HTTP_GET/SSL_GET: number of url blocks. */
  readonly urlCount?: number;
  readonly fastRecovery?: boolean;
  /** MISC_CHECK: misc_dynamic set. */
  readonly dynamic?: boolean;
  /** MISC_CHECK: the real server's configured weight (iweight); a dynamic share is relative to it. */
  readonly baseWeight?: number;
}

export interface CheckerState {
  /** keepalived's is_up. */
  readonly up: boolean;
  /** keepalived's has_run. */
  readonly hasRun: boolean;
  /** keepalived's retry_it. */
  readonly retryIt: number;
  /** keepvs rise/fall counters. */
  readonly riseCount: number;
  readonly fallCount: number;
  /** HTTP: the url the next attempt checks (url_it), and the url that failed (failed_url). */
  readonly urlIndex: number;
  readonly failedUrl: number | null;
  /** MISC_CHECK: last_exit_code, and the weight this checker adds to the real server (cur_weight). */
  readonly lastExitCode: number;
  readonly curWeight: number;
}

/** One attempt's outcome as the state machine sees it. `skip`: keepalived reschedules without counting (socket/bind failure). */
export type Outcome =
  | { readonly kind: 'success'; readonly exitCode?: number }
  | { readonly kind: 'failure'; readonly exitCode?: number }
  | { readonly kind: 'skip' };

/** A call of keepalived's update_svr_checker_state(alive, checker), with the checker's flags before it. */
export interface Report {
  readonly alive: boolean;
  readonly wasUp: boolean;
  readonly hadRun: boolean;
}

/** A change of the checker's contribution to its real server's weight (MISC_CHECK misc_dynamic). */
export interface WeightChange {
  readonly curWeight: number;
  /** true: keepalived changes effective_weight without telling IPVS (the RS is being removed). */
  readonly silent: boolean;
  /** Applied before (misc success) or after (misc failure) the report. */
  readonly order: 'before' | 'after';
}

export interface Step {
  readonly state: CheckerState;
  readonly report: Report | null;
  readonly weight: WeightChange | null;
  /** When the next attempt starts (ms on the caller's clock). */
  readonly nextAt: number;
}

/** keepalived's state at start-up (not a reload): up unless alpha, retry_it = retry ("one failure is enough initially"). */
export function initialState(timing: CheckerTiming): CheckerState {
  return {
    up: !timing.alpha,
    hasRun: false,
    retryIt: timing.retry,
    riseCount: 0,
    fallCount: 0,
    urlIndex: 0,
    failedUrl: null,
    lastExitCode: 0,
    curWeight: 0,
  };
}

/**
 * When a checker first runs: BOOTSTRAP_DELAY (1 s) plus warmup × random (check_api.c:
 * register_checkers_thread; `random` is a number in [0, 1]), which staggers the first checks.
 */
export function firstCheckAt(timing: CheckerTiming, now: number, random: number): number {
  const warmup = timing.warmupMs > 0 ? Math.floor(timing.warmupMs * random) : 0;
  return now + 1000 + warmup;
}

export function step(cfg: MachineConfig, s: CheckerState, outcome: Outcome, now: number, startedAt: number = now): Step {
  switch (cfg.family) {
    case 'simple': return stepSimple(cfg.timing, s, outcome, now);
    case 'misc': return stepMisc(cfg, s, outcome, now, startedAt);
    case 'http': return stepHttp(cfg, s, outcome, now);
  }
}

function upReport(t: CheckerTiming, s: CheckerState): { s: CheckerState; report: Report | null } {
  // keepvs rise: count successes while down before reporting UP.
  if (!s.up && t.rise > 1 && s.riseCount + 1 < t.rise) {
    return { s: { ...s, riseCount: s.riseCount + 1 }, report: null };
  }
  return { s: { ...s, up: true, riseCount: 0 }, report: { alive: true, wasUp: s.up, hadRun: s.hasRun } };
}

function downReport(t: CheckerTiming, s: CheckerState, hadRun: boolean): { s: CheckerState; report: Report | null } {
  // keepvs fall: an up checker that has run needs `fall` failed checks; at start-up one is enough.
  if (s.up && hadRun && t.fall > 1 && s.fallCount + 1 < t.fall) {
    return { s: { ...s, fallCount: s.fallCount + 1 }, report: null };
  }
  return { s: { ...s, up: false, fallCount: 0 }, report: { alive: false, wasUp: s.up, hadRun } };
}

function stepSimple(t: CheckerTiming, s: CheckerState, outcome: Outcome, now: number): Step {
  if (outcome.kind === 'skip') return { state: s, report: null, weight: null, nextAt: now + t.delayLoopMs };
  let delay = t.delayLoopMs;
  let report: Report | null = null;
  let next: CheckerState;
  if (outcome.kind === 'success') {
    next = { ...s, retryIt: 0, fallCount: 0 };
    if (!s.up || !s.hasRun) ({ s: next, report } = upReport(t, next));
  } else if ((s.up || !s.hasRun) && s.retryIt >= t.retry) {
    ({ s: next, report } = downReport(t, { ...s, retryIt: 0, riseCount: 0 }, s.hasRun));
  } else if (s.up) {
    next = { ...s, retryIt: s.retryIt + 1, riseCount: 0 };
    delay = t.delayBeforeRetryMs;
  } else {
    next = { ...s, riseCount: 0 };
  }
  return { state: { ...next, hasRun: true }, report, weight: null, nextAt: now + delay };
}

function stepMisc(cfg: MachineConfig, s: CheckerState, outcome: Outcome, now: number, startedAt: number): Step {
  const t = cfg.timing;
  if (outcome.kind === 'skip') return { state: s, report: null, weight: null, nextAt: now + t.delayLoopMs };
  let report: Report | null = null;
  let weight: WeightChange | null = null;
  let next: CheckerState = s;
  const code = outcome.exitCode ?? (outcome.kind === 'success' ? 0 : 1);
  if (outcome.kind === 'success') {
    // misc_dynamic: status 2..255 sets the RS weight to status-2; the checker's share is the
    // difference from the configured weight, which the real server layer adds (cur_weight).
    if (code !== s.lastExitCode) {
      weight = { curWeight: code ? code - 2 - (cfg.baseWeight ?? 0) : 0, silent: false, order: 'before' };
      next = { ...next, lastExitCode: code };
    }
    if (!s.up || !s.hasRun) ({ s: next, report } = upReport(t, next));
    next = { ...next, retryIt: 0, fallCount: 0 };
  } else if (s.up || !s.hasRun) {
    next = { ...next, riseCount: 0 };
    if (s.retryIt < t.retry) {
      next = { ...next, retryIt: s.retryIt + 1 };
    } else {
      ({ s: next, report } = downReport(t, { ...next, retryIt: 0 }, s.hasRun));
      if (report) {
        // The failed script's weight share is dropped silently before the RS goes (check_misc.c).
        next = { ...next, lastExitCode: code };
        if (s.curWeight !== 0) weight = { curWeight: 0, silent: true, order: 'before' };
      }
    }
  } else {
    next = { ...next, lastExitCode: code, riseCount: 0 };
  }
  if (weight) next = { ...next, curWeight: weight.curWeight };
  // Next run is timed from the start of this one (last_ran), at least "now".
  const at = startedAt + (next.retryIt ? t.delayBeforeRetryMs : t.delayLoopMs);
  return { state: { ...next, hasRun: true }, report, weight, nextAt: Math.max(at, now) };
}

function stepHttp(cfg: MachineConfig, s: CheckerState, outcome: Outcome, now: number): Step {
  const t = cfg.timing;
  const urls = Math.max(1, cfg.urlCount ?? 1);
  if (outcome.kind === 'skip') return { state: s, report: null, weight: null, nextAt: now + t.delayLoopMs };
  let report: Report | null = null;
  let next: CheckerState;
  let method: 'new' | 'retry' | 'failed';
  if (outcome.kind === 'success') {
    method = 'new';
    const after = s.urlIndex + 1;
    next = { ...s, retryIt: 0, fallCount: 0 };
    if (after >= urls && s.failedUrl === null) {
      // A clean pass over every URL.
      if (!s.up || !s.hasRun) ({ s: next, report } = upReport(t, next));
      next = { ...next, hasRun: true, urlIndex: 0, retryIt: 0 };
    } else if (s.failedUrl !== null) {
      // The failed URL passes: check all of them again from the first.
      next = { ...next, failedUrl: null, urlIndex: 0, retryIt: 0 };
    } else {
      next = { ...next, urlIndex: after };
    }
  } else if (s.up || !s.hasRun) {
    // timeout_epilog marks has_run before the retry epilog, so an alpha checker's first failure
    // reports nothing (it is already down).
    const hadRun = s.hasRun;
    method = 'retry';
    next = { ...s, hasRun: true, retryIt: s.retryIt + 1, riseCount: 0 };
    if (next.retryIt > t.retry) {
      if (next.up) {
        const d = downReport(t, next, hadRun);
        next = d.s;
        report = d.report;
        if (!report) next = { ...next, retryIt: 0 };
      }
      if (report || !s.up) next = { ...next, failedUrl: next.urlIndex };
    }
  } else {
    method = 'failed';
    next = { ...s, riseCount: 0 };
  }
  let delay: number;
  if (method === 'new') {
    delay = t.delayLoopMs;
    if (!next.hasRun) next = { ...next, retryIt: t.retry };
  } else if (next.failedUrl !== null) {
    delay = Math.max(t.delayBeforeRetryMs, t.delayLoopMs);
  } else if (method === 'retry' && next.retryIt === 0) {
    // keepvs fall: a failed check that did not bring the checker down waits a normal delay_loop.
    delay = t.delayLoopMs;
  } else {
    delay = t.delayBeforeRetryMs;
  }
  if (cfg.fastRecovery && (!next.hasRun || (!next.up && next.failedUrl === null))) delay = 0;
  return { state: next, report, weight: null, nextAt: now + delay };
}

/** FILE_CHECK's status value meaning "down" (IPVS_WEIGHT_FAULT). */
export const FILE_FAULT = -2147483648;

/**
 * FILE_CHECK (trackers/track_file.c: process_update_checker_track_file_status): the status moved
 * from `prev` to `next` (each FILE_FAULT or a weight share). Entering fault reports DOWN and then
 * drops the share silently; leaving fault adds the new share silently and reports UP; otherwise
 * the share changes through a normal weight update.
 */
export function stepFile(s: CheckerState, prev: number, next: number): { state: CheckerState; report: Report | null; weight: WeightChange | null } {
  if (prev === next) return { state: s, report: null, weight: null };
  if (next === FILE_FAULT) {
    return {
      state: { ...s, up: false, curWeight: 0 },
      report: { alive: false, wasUp: s.up, hadRun: true },
      weight: s.curWeight !== 0 ? { curWeight: 0, silent: true, order: 'after' } : null,
    };
  }
  if (prev === FILE_FAULT) {
    return {
      state: { ...s, up: true, curWeight: next },
      report: { alive: true, wasUp: s.up, hadRun: true },
      weight: next !== 0 ? { curWeight: next, silent: true, order: 'before' } : null,
    };
  }
  return { state: { ...s, curWeight: next }, report: null, weight: { curWeight: next, silent: false, order: 'before' } };
}
