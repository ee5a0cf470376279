// A virtual server's pool as keepalived's checker process manages it (keepalived/check/ipwrapper.c):
// real servers enter and leave IPVS as their checkers report, a quorum on the sum of live weights
// with hysteresis decides whether the pool serves or the sorry server stands in, and each change
// yields notify events (notify_up/notify_down, quorum_up/quorum_down, the LVS notify FIFO).
// Pure: every function takes a VsState and returns a new one with the events, in keepalived's order.
//
// Quorum (update_quorum_state): sum = Σ real_weight(effective_weight) of alive servers;
// threshold = quorum − hysteresis while the quorum is up, quorum + hysteresis while it is down.
// Gained when down and sum ≥ threshold: the sorry server leaves, alive servers are re-added,
// quorum_up runs. Lost when up and (sum = 0 or sum < threshold): alive servers leave, the sorry
// server comes in, quorum_down runs. A server that changes state while the sorry server serves is
// not touched in IPVS (perform_svr_state) — it is added back when the quorum returns.
import { type DestEvent, type RsState, destCommand, realWeight, checkerReport } from './real-server.ts';

export interface SorryState {
  readonly address: string;
  readonly port: number;
  readonly inhibit: boolean;
  readonly alive: boolean;
  readonly set: boolean;
}

export interface VsState {
  /** keepalived's FMT_VS text, e.g. "[192.168.201.15]:tcp:80". */
  readonly name: string;
  /** Protocol word used in real server texts ("tcp", "udp", "sctp"). */
  readonly protocol: string;
  readonly quorum: number;
  readonly hysteresis: number;
  readonly omega: boolean;
  readonly quorumUp: boolean;
  readonly sorry: SorryState | null;
  readonly rs: readonly RsState[];
}

export interface RsNotifyEvent {
  readonly type: 'rs-up' | 'rs-down';
  readonly vs: string;
  readonly rs: string;
  readonly address: string;
  readonly port: number;
  /** Shutdown notifies (omega): keepalived gives such scripts one second. */
  readonly stopping: boolean;
  /**
   * The server left the configuration (a reload dropped it, or stopped: clear_service_rs); for
   * smtp_alert's "=> Removing <=" / "=> Shutting down <=" mail. Absent otherwise.
   */
  readonly removed?: boolean;
}

export interface QuorumEvent {
  readonly type: 'quorum-up' | 'quorum-down';
  readonly vs: string;
  readonly weightSum: number;
  readonly threshold: number;
  /** The virtual server's quorum and hysteresis (smtp_alert's body quotes them). */
  readonly quorum: number;
  readonly hysteresis: number;
  /** Decided while the virtual server was being set up ("Starting with quorum up/down"). */
  readonly init: boolean;
  readonly stopping: boolean;
}

export interface WeightEvent {
  readonly type: 'rs-weight';
  readonly vs: string;
  readonly rs: string;
  readonly address: string;
  readonly port: number;
  readonly from: number;
  readonly to: number;
}

export type DirectorEvent = DestEvent | RsNotifyEvent | QuorumEvent | WeightEvent;

export interface VsStep {
  readonly vs: VsState;
  readonly events: readonly DirectorEvent[];
}

/** keepalived's inet_sockaddrtotrio: "[addr]:proto:port" (brackets for both families). */
export function rsText(address: string, protocol: string, port: number): string {
  return `[${address}]:${protocol}:${port}`;
}

/** weigh_live_realservers. */
export function weighLive(rs: readonly RsState[]): number {
  let sum = 0;
  for (const r of rs) if (r.alive) sum += realWeight(r.effectiveWeight);
  return sum;
}

/** Working copy used inside one operation; callers only ever see the frozen result. */
class Work {
  vs: VsState;
  rs: RsState[];
  sorry: SorryState | null;
  quorumUp: boolean;
  events: DirectorEvent[] = [];

  constructor(vs: VsState) {
    this.vs = vs;
    this.rs = vs.rs.slice();
    this.sorry = vs.sorry;
    this.quorumUp = vs.quorumUp;
  }

  done(): VsStep {
    return { vs: { ...this.vs, rs: this.rs, sorry: this.sorry, quorumUp: this.quorumUp }, events: this.events };
  }

  text(r: { address: string; port: number }): string {
    return rsText(r.address, this.vs.protocol, r.port);
  }

  cmd(i: number, cmd: 'add' | 'remove' | 'edit', force = false): void {
    const r = destCommand(this.rs[i], cmd, this.vs.name, this.text(this.rs[i]), false, force);
    this.rs[i] = r.rs;
    if (r.event) this.events.push(r.event);
  }

  sorryCmd(cmd: 'add' | 'remove', force = false): void {
    const s = this.sorry;
    if (!s) return;
    const as: RsState = { address: s.address, port: s.port, weight: 1, effectiveWeight: 1, alive: s.alive, set: s.set, inhibit: s.inhibit, failedCheckers: 0 };
    const r = destCommand(as, cmd, this.vs.name, this.text(s), true, force);
    this.sorry = { ...s, set: r.rs.set };
    if (r.event) this.events.push(r.event);
  }

  notifyRs(i: number, stopping: boolean, removed = false): void {
    const r = this.rs[i];
    const ev: RsNotifyEvent = { type: r.alive ? 'rs-up' : 'rs-down', vs: this.vs.name, rs: this.text(r), address: r.address, port: r.port, stopping };
    this.events.push(removed ? { ...ev, removed } : ev);
  }

  notifyVs(init: boolean, threshold: number, weightSum: number, stopping: boolean): void {
    // do_vs_notifies: when stopping, only omega runs the scripts and the FIFO line.
    if (stopping && !this.vs.omega) return;
    this.events.push({
      type: this.quorumUp ? 'quorum-up' : 'quorum-down', vs: this.vs.name, weightSum, threshold, init, stopping,
      quorum: this.vs.quorum, hysteresis: this.vs.hysteresis,
    });
  }

  /** perform_quorum_state: add or remove every alive server. */
  quorumPool(add: boolean): void {
    for (let i = 0; i < this.rs.length; i++) if (this.rs[i].alive) this.cmd(i, add ? 'add' : 'remove');
  }

  updateQuorum(init: boolean): void {
    const sum = weighLive(this.rs);
    const { quorum, hysteresis } = this.vs;
    const threshold = quorum + (this.quorumUp ? -1 : 1) * hysteresis;
    if (!this.quorumUp && sum >= threshold) {
      this.quorumUp = true;
      if (this.sorry && this.sorry.alive) {
        this.sorryCmd('remove');
        this.sorry = { ...this.sorry, alive: false };
        this.quorumPool(true);
      }
      this.notifyVs(init, threshold, sum, false);
    } else if ((this.quorumUp && (sum === 0 || sum < threshold)) || (init && !this.quorumUp && this.sorry && !this.sorry.alive)) {
      this.quorumUp = false;
      if (this.sorry && !this.sorry.alive) {
        this.quorumPool(false);
        this.sorryCmd('add');
        this.sorry = { ...this.sorry, alive: true };
      }
      this.notifyVs(init, threshold, sum, false);
    }
  }

  /** perform_svr_state. */
  svrState(i: number, alive: boolean): void {
    if (this.rs[i].alive === alive) return;
    if (this.quorumUp || !this.sorry || !this.sorry.alive) this.cmd(i, alive ? 'add' : 'remove');
    this.rs[i] = { ...this.rs[i], alive };
    this.notifyRs(i, false);
    this.updateQuorum(false);
  }

  /** update_svr_wgt. */
  setWeight(i: number, effective: number, updateQuorum: boolean): void {
    const r = this.rs[i];
    const from = realWeight(r.effectiveWeight);
    const to = realWeight(effective);
    this.rs[i] = { ...r, effectiveWeight: effective };
    if (from === to) return;
    this.events.push({ type: 'rs-weight', vs: this.vs.name, rs: this.text(r), address: r.address, port: r.port, from, to });
    if (r.set && r.alive && (this.quorumUp || !this.sorry || !this.sorry.alive)) this.cmd(i, 'edit');
    if (updateQuorum) this.updateQuorum(false);
  }
}

export interface VsInit {
  readonly name: string;
  readonly protocol: string;
  readonly quorum: number;
  readonly hysteresis: number;
  readonly omega: boolean;
  readonly sorry?: { readonly address: string; readonly port: number; readonly inhibit: boolean };
  readonly rs: readonly RsState[];
}

/**
 * Start-up (init_service_vs at first start, not a reload): servers whose checkers are all up are
 * added and marked alive; inhibited servers are added even when failed (at weight 0). The quorum
 * starts down (set_quorum_states runs before any server is alive), so a met quorum is "gained"
 * here and quorum_up runs; an unmet one with a sorry server brings the sorry server in and runs
 * quorum_down. An inhibited sorry server is finally added at weight 0.
 */
export function initVs(init: VsInit): VsStep {
  const vs: VsState = {
    name: init.name, protocol: init.protocol, quorum: init.quorum, hysteresis: init.hysteresis, omega: init.omega,
    quorumUp: weighLive(init.rs) >= init.quorum + init.hysteresis,
    sorry: init.sorry ? { ...init.sorry, alive: false, set: false } : null,
    rs: init.rs,
  };
  const w = new Work(vs);
  for (let i = 0; i < w.rs.length; i++) {
    const r = w.rs[i];
    if ((r.failedCheckers === 0 && !r.alive) || (r.inhibit && !r.set)) {
      w.cmd(i, 'add');
      if (r.failedCheckers === 0) w.rs[i] = { ...w.rs[i], alive: true };
    }
  }
  w.updateQuorum(true);
  if (w.sorry && w.sorry.inhibit && !w.sorry.set) {
    w.sorry = { ...w.sorry, set: true };
    w.events.push({ type: 'dest-add', vs: vs.name, rs: w.text(w.sorry), address: w.sorry.address, port: w.sorry.port, weight: 0, sorry: true });
  }
  return w.done();
}

/** update_svr_checker_state for checker `report` of real server `i`. */
export function applyCheckerReport(
  vs: VsState, i: number, report: { alive: boolean; wasUp: boolean; hadRun: boolean }, alpha: boolean,
): VsStep {
  const w = new Work(vs);
  const r = checkerReport(w.rs[i], report, alpha);
  if (r.action === 'notify') w.notifyRs(i, false);
  if (r.action === 'transition') w.svrState(i, report.alive);
  w.rs[i] = { ...w.rs[i], failedCheckers: r.failedAfter };
  return w.done();
}

/**
 * A checker's weight share changed from `fromCur` to `toCur` (misc_dynamic, FILE_CHECK). `silent`:
 * keepalived adjusts effective_weight without an IPVS edit or quorum update (the server is going).
 */
export function applyWeightShare(vs: VsState, i: number, fromCur: number, toCur: number, silent: boolean): VsStep {
  const w = new Work(vs);
  const effective = w.rs[i].effectiveWeight - fromCur + toCur;
  if (silent) w.rs[i] = { ...w.rs[i], effectiveWeight: effective };
  else w.setWeight(i, effective, true);
  return w.done();
}

/**
 * Shutdown (clear_services): without lvs_flush_on_stop (clear_service_vs, stopping) the sorry
 * server and every server in the table are removed (inhibit is overridden); with omega, alive
 * servers run their notify_down and the virtual server its quorum_down, as keepalived does "all
 * the way down". With lvs_flush_on_stop ALL or VS the table is flushed (or the service deleted)
 * whole: no real server gets a notify, only the quorum_down of an omega virtual server runs.
 */
export function shutdownVs(vs: VsState, flushOnStop: LvsFlushOnStop = 'no'): VsStep {
  const w = new Work(vs);
  if (flushOnStop !== 'no') {
    updateVsNotifies(w, true);
    if (w.sorry && w.sorry.set) w.sorry = { ...w.sorry, alive: false };
    return w.done();
  }
  if (w.sorry && w.sorry.set) {
    w.sorryCmd('remove', true);
    w.sorry = { ...w.sorry, alive: false };
  }
  for (let i = 0; i < w.rs.length; i++) {
    if (!w.rs[i].set) continue;
    w.cmd(i, 'remove', true);
    if (!w.rs[i].alive) continue;
    w.rs[i] = { ...w.rs[i], alive: false };
    if (vs.omega) w.notifyRs(i, true, true);
  }
  // update_vs_notifies(stopping): the quorum is declared down.
  updateVsNotifies(w, true);
  return w.done();
}

/** global_defs lvs_flush_on_stop: 'no' (not set), 'full' (ALL), 'vs' (VS). */
export type LvsFlushOnStop = 'no' | 'full' | 'vs';

/**
 * What a reload does to the old virtual server for what the new file no longer has
 * (ipwrapper.c: clear_diff_services, clear_diff_rs, clear_service_vs and clear_service_rs with
 * stopping false). `drop[i]` marks the real servers that are gone; `whole` the virtual server
 * itself (then every real server goes, and its sorry server leaves the table first).
 *
 * A dropped server that was in the table leaves it (inhibit_on_failure is overridden); only one
 * that was also alive is then marked down and gets the down notifies: notify_down and the FIFO's
 * "RS … DOWN" line (do_rs_notifies, not stopping, so omega plays no part). One that was not in the
 * table (failed, or pushed out by the sorry server) gets nothing. Then, once for the virtual server
 * (update_vs_notifies): if its quorum was up and the live weight left is 0 or below
 * quorum − hysteresis, the quorum is declared down and quorum_down and the "VS … DOWN" line run —
 * without bringing in the sorry server ("the regression is intended" upstream). keepalived copied
 * the quorum state to the new virtual server before this, so a kept one re-evaluates it at its
 * start (reloadVs) from the state it had before the drop.
 *
 * With lvs_flush_on_stop set, a dropped virtual server (clear_service_vs) skips its real servers
 * altogether: only the quorum test runs, on the unchanged live weight.
 */
export function dropOnReload(vs: VsState, drop: readonly boolean[], whole: boolean, flushOnStop: LvsFlushOnStop = 'no'): VsStep {
  const w = new Work(vs);
  if (whole && flushOnStop !== 'no') {
    updateVsNotifies(w, false);
    if (w.sorry && w.sorry.set) w.sorry = { ...w.sorry, alive: false };
    return w.done();
  }
  if (whole && w.sorry && w.sorry.set) {
    w.sorryCmd('remove', true);
    w.sorry = { ...w.sorry, alive: false };
  }
  for (let i = 0; i < w.rs.length; i++) {
    if (!whole && !drop[i]) continue;
    if (!w.rs[i].set) continue;
    w.cmd(i, 'remove', true);
    if (!w.rs[i].alive) continue;
    w.rs[i] = { ...w.rs[i], alive: false };
    w.notifyRs(i, false, true);
  }
  updateVsNotifies(w, false);
  return w.done();
}

/** update_vs_notifies: the quorum test of a virtual server losing servers for good (no sorry server swap). */
function updateVsNotifies(w: Work, stopping: boolean): void {
  const threshold = w.vs.quorum - w.vs.hysteresis;
  const sum = weighLive(w.rs);
  if (stopping || (w.quorumUp && (sum === 0 || sum < threshold))) {
    w.quorumUp = false;
    w.notifyVs(false, threshold, sum, stopping);
  }
}

/** A real server of a kept virtual server, as a reload finds it (carry.ts: migrateRs). */
export interface RsReload {
  /** In the old configuration too: its `rs` entry carries the old alive, set and effective weight. */
  readonly reloaded: boolean;
  /** migrate_checkers' verdict for a reloaded server ('none' for a new one). */
  readonly action: 'up' | 'fail' | 'none';
  /** The configured weight plus the checkers' shares after the migration (set_effective_weights). */
  readonly effectiveWeight: number;
}

export interface VsReloadInit extends VsInit {
  /** The old virtual server's quorum state (clear_diff_services copies quorum_state_up). */
  readonly quorumUp: boolean;
  /** The old sorry server and whether it was alive / in the table. */
  readonly oldSorry: SorryState | null;
  /** One per `rs`. */
  readonly reload: readonly RsReload[];
}

/**
 * A virtual server that a reload keeps (ipwrapper.c: clear_diff_services for it, then
 * init_service_vs): the sorry server is carried when unchanged, else the old one leaves (and alive
 * servers come back if there is no sorry server any more: clear_diff_s_srv); each kept server gets
 * migrate_checkers' outcome; kept servers whose effective weight changed are edited, new ones are
 * added as at start-up; the quorum is re-evaluated from the carried state ("init"), and an
 * inhibited sorry server is put in at weight 0. keepalived carries the sorry server after the real
 * servers; doing it first keeps a server that comes up during the migration from leaving the old
 * sorry server in the pool beside it.
 */
export function reloadVs(init: VsReloadInit): VsStep {
  const vs: VsState = {
    name: init.name, protocol: init.protocol, quorum: init.quorum, hysteresis: init.hysteresis, omega: init.omega,
    quorumUp: init.quorumUp, sorry: init.sorry ? { ...init.sorry, alive: false, set: false } : null, rs: init.rs,
  };
  const w = new Work(vs);
  const old = init.oldSorry;
  if (old) {
    const cfg = init.sorry;
    const same = !!cfg && cfg.address === old.address && cfg.port === old.port;
    if (same) w.sorry = { ...cfg, alive: old.alive, set: old.set };
    if (!same || old.inhibit !== cfg!.inhibit && !old.alive) {
      const kept = w.sorry;
      if (old.set) {
        w.sorry = old;
        w.sorryCmd('remove', true);
        w.sorry = kept && same ? { ...kept, set: false } : kept;
      }
      if (old.alive && !cfg) w.quorumPool(true);
    }
  }
  for (let i = 0; i < w.rs.length; i++) {
    const r = init.reload[i];
    if (!r.reloaded) continue;
    if (r.action === 'up') w.svrState(i, true);
    else if (r.action === 'fail') {
      w.cmd(i, w.rs[i].inhibit ? 'add' : 'remove', !w.rs[i].inhibit);
      w.rs[i] = { ...w.rs[i], alive: false };
    }
  }
  for (let i = 0; i < w.rs.length; i++) {
    const r = w.rs[i];
    if (init.reload[i].reloaded) {
      if (init.reload[i].effectiveWeight !== r.effectiveWeight) w.setWeight(i, init.reload[i].effectiveWeight, false);
      continue;
    }
    if ((r.failedCheckers === 0 && !r.alive) || (r.inhibit && !r.set)) {
      w.cmd(i, 'add');
      if (r.failedCheckers === 0) w.rs[i] = { ...w.rs[i], alive: true };
    }
  }
  w.updateQuorum(true);
  if (w.sorry && w.sorry.inhibit && !w.sorry.set) {
    w.sorry = { ...w.sorry, set: true };
    w.events.push({ type: 'dest-add', vs: vs.name, rs: w.text(w.sorry), address: w.sorry.address, port: w.sorry.port, weight: 0, sorry: true });
  }
  return w.done();
}
