// What one HealthChecker hands to the next on a reload, and how a kept real server takes it over
// (keepalived/check/ipwrapper.c: clear_diff_rs and migrate_checkers, as of upstream 2026). Pure.
//
// A virtual server is kept when its identity (FMT_VS) is the same; a real server when its address
// and port are (rs_iseq); a checker when its type and its checking parameters are — connection,
// URLs, script, query, not its timing (each checker's compare function). A kept real server keeps
// alive/set/effective weight; a kept checker keeps is_up, has_run, a retry count fitted to the new
// retry, HTTP's failed url and MISC_CHECK's last exit code / misc_dynamic share; keepvs also keeps
// its rise/fall counts, its last result and when it is next due (keepalived restarts every timer,
// so a reload postpones every check; keepvs does not). FILE_CHECK has no compare and starts afresh.
import type { CheckResult } from './result.ts';
import type { CheckerSpec, CheckerTiming } from './spec.ts';
import type { CheckerState } from './state.ts';
import type { SorryState } from './quorum.ts';

export interface CarriedChecker {
  readonly type: CheckerSpec['type'];
  /** compareKey(spec): equal keys mean keepalived's compare would call them the same checker. */
  readonly key: string;
  readonly state: CheckerState;
  readonly nextAt: number | null;
  readonly last: CheckResult | null;
}

export interface CarriedRs {
  readonly address: string;
  readonly port: number;
  readonly alive: boolean;
  readonly set: boolean;
  readonly effectiveWeight: number;
  readonly checkers: readonly CarriedChecker[];
}

export interface CarriedVs {
  readonly quorumUp: boolean;
  readonly sorry: SorryState | null;
  readonly rs: readonly CarriedRs[];
}

/** Keyed by the virtual server's name (formatVsIdentity). */
export type HealthCarry = ReadonlyMap<string, CarriedVs>;

/** Keys keepalived's compare functions do not look at: timing, and MISC_CHECK's misc_timeout (compare_misc_check). */
const TIMING_KEYS = new Set(['retry', 'delay_before_retry', 'warmup', 'delay_loop', 'alpha', 'log_all_failures', 'rise', 'fall', 'misc_timeout']);

function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => [k, stable(o[k])]));
  }
  return v;
}

/** What keepalived's per-type compare looks at: everything but the timing keys. */
export function compareKey(spec: CheckerSpec): string {
  const rest = Object.fromEntries(Object.entries(spec).filter(([k]) => !TIMING_KEYS.has(k)));
  return JSON.stringify(stable(rest));
}

export interface NewChecker {
  readonly type: CheckerSpec['type'];
  readonly key: string;
  readonly timing: CheckerTiming;
  /** The state it would start with (initialState, or FILE_CHECK's read). */
  readonly state: CheckerState;
  readonly dynamic: boolean;
}

export interface MigratedRs {
  readonly checkers: ReadonlyArray<{ readonly state: CheckerState; readonly from: CarriedChecker | null }>;
  /** num_failed_checkers after the migration. */
  readonly failedCheckers: number;
  /**
   * What migrate_checkers then does to the server: 'up' runs perform_svr_state(UP); 'fail' puts a
   * failed server in the state its inhibit says (added at weight 0, or removed); 'none' leaves it.
   */
  readonly action: 'up' | 'fail' | 'none';
}

/**
 * migrate_checkers for one kept real server. `baseWeight` is the new configured weight (iweight),
 * which a carried misc_dynamic share is relative to.
 */
export function migrateRs(
  news: readonly NewChecker[], old: CarriedRs, rs: { readonly inhibit: boolean; readonly baseWeight: number },
): MigratedRs {
  // A new checker starts up with retry_it 0 (queue_checker); start-up's alpha handling does not run on a reload.
  const out = news.map((n) => {
    const fresh: CheckerState = n.type === 'FILE_CHECK' ? n.state : { ...n.state, up: true, retryIt: 0 };
    if (n.type === 'FILE_CHECK') return { state: fresh, from: null };
    const o = old.checkers.find((c) => c.type === n.type && c.key === n.key);
    if (!o) return { state: fresh, from: null };
    let s: CheckerState = { ...fresh, hasRun: o.state.hasRun, riseCount: o.state.riseCount, fallCount: o.state.fallCount };
    if (o.state.hasRun) s = { ...s, up: o.state.up };
    // Enough retries already for the new retry value: one more failure takes it down.
    const retryIt = !s.up ? n.timing.retry + 1 : o.state.retryIt >= n.timing.retry ? n.timing.retry : o.state.retryIt;
    s = { ...s, retryIt };
    // check_http.c: migrate_http_check keeps the failed url of a down checker.
    if (!s.up && o.state.failedUrl !== null) s = { ...s, failedUrl: o.state.failedUrl, urlIndex: o.state.failedUrl };
    // check_misc.c: migrate_misc_check keeps the last exit code and rebuilds the dynamic share.
    if (n.type === 'MISC_CHECK') {
      const code = o.state.lastExitCode;
      s = { ...s, lastExitCode: code };
      if (n.dynamic && code !== 1) s = { ...s, curWeight: code - (code ? 2 : 0) - rs.baseWeight };
    }
    return { state: s, from: o };
  });
  // FILE_CHECK's state is read at once (has_run), so a file in fault counts as failed here.
  let failed = 0;
  let anyRun = false;
  for (const c of out) {
    if (c.state.hasRun && !c.state.up) failed++;
    if (c.state.hasRun) anyRun = true;
  }
  // A failed (or never checked and not alive) server: checkers that have not run start from
  // scratch — alpha ones down, and one failure is enough.
  if (failed > 0 || (!old.alive && !anyRun)) {
    news.forEach((n, i) => {
      const c = out[i];
      if (c.state.hasRun || n.type === 'FILE_CHECK') return;
      let s: CheckerState = { ...c.state, retryIt: n.timing.retry };
      if (n.timing.alpha && s.up) {
        s = { ...s, up: false };
        failed++;
      }
      out[i] = { ...c, state: s };
    });
  }
  const action = failed === 0 && !old.alive ? 'up' : failed > 0 && old.set !== rs.inhibit ? 'fail' : 'none';
  return { checkers: out, failedCheckers: failed, action };
}
