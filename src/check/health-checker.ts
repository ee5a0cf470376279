// The health checker: keepalived's checker process for a set of virtual servers, on one event
// loop. It schedules every checker (staggered by warmup, capped in concurrency), steps each
// checker's pure state machine (state.ts) with the results, folds them into real server and
// quorum state (quorum.ts) and publishes what changed as events. It never touches the director:
// the daemon applies `dest-*` events to it. Notify scripts and the LVS notify FIFO are run here,
// as keepalived's checker process runs them.
import type { CheckResult, CheckCode } from './result.ts';
import { CheckCancel } from './cancel.ts';
import { checkResult } from './result.ts';
import type {
  CheckerSpec, NotifyScriptSpec, ResolvedChecker, ResolvedVirtualServer, SpecProblem, VirtualServerSpec,
} from './spec.ts';
import { formatVsIdentity, resolveVirtualServer } from './spec.ts';
import {
  type CheckerState, type MachineConfig, type Outcome, type Report, type WeightChange,
  FILE_FAULT, firstCheckAt, initialState, step, stepFile,
} from './state.ts';
import {
  type DirectorEvent, type RsReload, type VsState, applyCheckerReport, applyWeightShare, initVs, reloadVs, rsText, shutdownVs,
  type LvsFlushOnStop, dropOnReload,
} from './quorum.ts';
import { type RsState, initialRs, realWeight } from './real-server.ts';
import { type CarriedVs, type HealthCarry, compareKey, migrateRs } from './carry.ts';
import { fifoBytes, fifoLine, scriptFor, STOPPING_SCRIPT_TIMEOUT_MS } from './notify.ts';
import { Scheduler, coalescedClock, type SchedulerClock, CHECK_TIMER_SLACK_MS, DEFAULT_CONCURRENCY } from './scheduler.ts';
import * as tcp from './tcp.ts';
import * as http from './http.ts';
import * as misc from './misc.ts';
import * as dns from './dns.ts';
import * as smtp from './smtp.ts';
import * as udp from './udp.ts';
import * as ping from './ping.ts';
import { readTrackFile, trackStatus, watchTrackFile, type TrackFileWatcher } from './file.ts';
import { type BfdStatusSource, stepBfdCheck } from './bfd/check.ts';
import {
  type ScriptIdentity, type ScriptRunner, type ScriptCheck, type UserLookup,
  createScriptRunner, checkScriptSecurity, defaultScriptUser, lookupScriptUser,
} from '../sys/exec.ts';
import { type Pinger, createPinger } from '../sys/ping-socket.ts';
import { type ProbeClose, type TcpConnector, createTcpConnector } from '../sys/tcp-connect.ts';

/** How one attempt is made; tests and benchmarks replace these. */
export interface Probes {
  tcp: typeof tcp.check;
  http: typeof http.check;
  misc: typeof misc.check;
  dns: typeof dns.check;
  smtp: typeof smtp.check;
  udp: typeof udp.check;
  ping: typeof ping.check;
}

export const defaultProbes: Probes = {
  tcp: tcp.check, http: http.check, misc: misc.check, dns: dns.check, smtp: smtp.check, udp: udp.check, ping: ping.check,
};

export interface TrackFiles {
  read(path: string): number | null;
  watch(path: string, onChange: () => void): TrackFileWatcher;
}

export interface HealthCheckerOptions {
  readonly virtualServers: readonly VirtualServerSpec[];
  readonly clock?: SchedulerClock;
  /** Uniform [0, 1); staggers first checks over warmup. */
  readonly random?: () => number;
  readonly concurrency?: number;
  readonly probes?: Partial<Probes>;
  readonly runner?: ScriptRunner;
  readonly pinger?: Pinger;
  /** TCP_CHECK connects and plain HTTP_GET exchanges: default a koffi/epoll connector; null forces Node's net. */
  readonly tcpConnector?: TcpConnector | null;
  /**
   * How the default connector ends TCP_CHECK and HTTP_GET connections: 'reset' (default, an RST,
   * no TIME_WAIT, sockets reused) or 'graceful' (keepalived's close: a FIN). See src/sys/tcp-connect.ts.
   */
  readonly probeClose?: ProbeClose;
  /**
   * Makes the connector for one close mode (default createTcpConnector). A checker's own
   * `probe_close` (spec) overrides probeClose, so a checker holds up to one connector per mode.
   */
  readonly createConnector?: (opts: { readonly close: ProbeClose }) => TcpConnector | null;
  readonly files?: TrackFiles;
  /** global_defs enable_script_security. */
  readonly scriptSecurity?: boolean;
  /** global_defs script_user; default keepalived_script, else ourselves. */
  readonly scriptUser?: { readonly user: string; readonly group?: string };
  readonly lookupUser?: UserLookup;
  readonly checkScript?: (argv0: string, identity: ScriptIdentity, scriptSecurity: boolean) => ScriptCheck;
  /** Writes LVS notify FIFO lines (keepalived's bytes, NUL included). */
  readonly fifo?: { write(bytes: Uint8Array): void };
  readonly log?: (message: string) => void;
  /**
   * A reload: the state of the checker this one replaces (its carry()). Kept virtual servers, real
   * servers and checkers take it over (carry.ts) instead of starting afresh.
   */
  readonly carry?: HealthCarry;
  /** BFD_CHECK: the BFD process's sessions (src/check/bfd/process.ts); without it a BFD_CHECK stays down. */
  readonly bfd?: BfdStatusSource;
  /** global_defs lvs_flush_on_stop: which notifies a stop (and a reload's dropped virtual server) runs. */
  readonly lvsFlushOnStop?: LvsFlushOnStop;
  /**
   * ha_suspend: whether an address is configured on this host now (the daemon: sys/local-address.ts).
   * Without it every virtual server counts as present.
   */
  readonly isLocalAddress?: (address: string) => boolean;
}

/** A checker changed state (for logs and metrics; the director events follow separately). */
export interface CheckerEvent {
  readonly type: 'checker';
  readonly vs: string;
  readonly rs: string;
  readonly checker: string;
  readonly up: boolean;
  readonly result: CheckResult | null;
  /** For smtp_alert's mail (smtp-alert.ts): the checker's type, its real server, alive before and after. */
  readonly checkerType?: CheckerSpec['type'];
  readonly address?: string;
  readonly port?: number;
  readonly rsWasAlive?: boolean;
  readonly rsAlive?: boolean;
}

export type HealthEvent = DirectorEvent | CheckerEvent;

export interface CheckerSnapshot {
  readonly name: string;
  readonly type: CheckerSpec['type'];
  readonly up: boolean;
  readonly hasRun: boolean;
  readonly retryIt: number;
  readonly last: CheckResult | null;
  readonly nextAt: number | null;
}

export interface HealthSnapshot {
  readonly virtualServers: ReadonlyArray<{
    readonly name: string;
    readonly quorumUp: boolean;
    readonly sorry: {
      readonly address: string; readonly port: number; readonly active: boolean;
      /** The weight it has in the table (1 serving, 0 inhibited), null when it is not in the table. */
      readonly ipvsWeight: number | null;
    } | null;
    readonly realServers: ReadonlyArray<{
      readonly address: string;
      readonly port: number;
      readonly alive: boolean;
      readonly weight: number;
      readonly effectiveWeight: number;
      readonly inIpvs: boolean;
      /** The weight it has in the table (0 while inhibited or while the sorry server serves), null when it is not in the table. */
      readonly ipvsWeight: number | null;
      readonly checkers: readonly CheckerSnapshot[];
    }>;
  }>;
}

interface CheckerRun {
  readonly id: number;
  readonly vs: number;
  readonly rs: number;
  readonly checker: ResolvedChecker;
  readonly cfg: MachineConfig;
  state: CheckerState;
  last: CheckResult | null;
  nextAt: number | null;
  /** The scheduled task, made once (no closure per check). */
  task: () => Promise<void>;
  /** A reload carried this checker over: when it was next due (null: never scheduled). */
  carriedAt?: number | null;
  identity?: ScriptIdentity;
  /** FILE_CHECK: current status (share or FILE_FAULT) and its watcher. */
  fileStatus?: number;
  watcher?: TrackFileWatcher;
}

function familyOf(c: CheckerSpec): MachineConfig['family'] {
  if (c.type === 'HTTP_GET' || c.type === 'SSL_GET') return 'http';
  if (c.type === 'MISC_CHECK') return 'misc';
  return 'simple';
}

/**
 * The weight a real server has in the table, from the commands quorum.ts gave (real-server.ts:
 * destCommand): its real weight while alive and the pool serves; 0 while it stays in the table
 * inhibited (failed, or the sorry server serving); null when it is not in the table.
 */
function ipvsWeight(vs: VsState, rs: RsState): number | null {
  if (!rs.set) return null;
  const serving = vs.quorumUp || !vs.sorry || !vs.sorry.alive;
  return rs.alive && serving ? realWeight(rs.effectiveWeight) : 0;
}

function outcomeOf(r: CheckResult): Outcome | null {
  if (r.code === 'ABORTED') return null;
  if (r.code === 'SOCKERR') return { kind: 'skip' };
  return r.ok ? { kind: 'success', exitCode: r.exitCode } : { kind: 'failure', exitCode: r.exitCode };
}

export class HealthChecker {
  readonly problems: SpecProblem[] = [];
  readonly #opts: HealthCheckerOptions;
  readonly #clock: SchedulerClock;
  readonly #random: () => number;
  readonly #probes: Probes;
  readonly #scheduler: Scheduler;
  readonly #resolved: ResolvedVirtualServer[] = [];
  readonly #vs: VsState[] = [];
  readonly #runs: CheckerRun[] = [];
  readonly #listeners = new Set<(ev: HealthEvent) => void>();
  readonly #codes = new Map<CheckCode, number>();
  #checks = 0;
  #runner: ScriptRunner | null = null;
  #pinger: Pinger | null = null;
  /** One connector per close mode in use (tcpConnector, when given, serves every mode). */
  readonly #connectors = new Map<ProbeClose, TcpConnector | null>();
  #scriptIds = new Map<NotifyScriptSpec, ScriptIdentity | null>();
  #started = false;
  #stopped = false;
  /** ha_suspend: virtual servers (by index) whose checkers are suspended while their address is away. */
  readonly #suspended = new Set<number>();
  /** One signal for every check in flight: stop() aborts them all (see cancel.ts). */
  readonly #abort = new CheckCancel();
  #bfdUnsubscribe: (() => void) | null = null;

  constructor(opts: HealthCheckerOptions) {
    this.#opts = opts;
    // The real clock coalesces the checkers' timers (scheduler.ts: coalescedClock); an injected one is exact.
    this.#clock = opts.clock ?? coalescedClock(CHECK_TIMER_SLACK_MS);
    this.#random = opts.random ?? Math.random;
    this.#probes = { ...defaultProbes, ...opts.probes };
    this.#scheduler = new Scheduler(this.#clock, opts.concurrency ?? DEFAULT_CONCURRENCY);
    for (const spec of opts.virtualServers) {
      const { vs, problems } = resolveVirtualServer(spec);
      this.problems.push(...problems);
      this.#resolved.push(vs);
    }
  }

  subscribe(fn: (ev: HealthEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Build the pools, publish the start-up events and schedule every checker. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const now = this.#clock.now();
    this.#resolved.forEach((rvs, vi) => {
      const name = formatVsIdentity(rvs.id);
      const carried = this.#opts.carry?.get(name);
      const carriedRs = new Map(carried?.rs.map((o) => [`${o.address}|${o.port}`, o]));
      const reload: RsReload[] = [];
      const rsStates = rvs.realServers.map((rs, ri) => {
        const runs: CheckerRun[] = [];
        for (const c of rs.checkers) {
          const run = this.#makeRun(vi, ri, c, name, rsText(rs.address, rvs.id.protocol, rs.port));
          if (run) runs.push(run);
        }
        const old = carriedRs.get(`${rs.address}|${rs.port}`);
        if (old) return this.#migrate(rs, runs, old, reload);
        let failed = 0;
        let effective = rs.weight;
        for (const run of runs) {
          if (!run.state.up) failed++;
          effective += run.state.curWeight;
        }
        reload.push({ reloaded: false, action: 'none', effectiveWeight: effective });
        const r = initialRs(rs.address, rs.port, rs.weight, rs.inhibit, failed);
        return { ...r, effectiveWeight: effective };
      });
      const common = {
        name, protocol: rvs.id.protocol, quorum: rvs.quorum, hysteresis: rvs.hysteresis, omega: rvs.omega,
        sorry: rvs.sorry, rs: rsStates,
      };
      const init = carried ? reloadVs({ ...common, quorumUp: carried.quorumUp, oldSorry: carried.sorry, reload }) : initVs(common);
      this.#vs[vi] = init.vs;
      this.#publish(vi, init.events);
    });
    this.#startBfd();
    this.#haSuspend(true);
    for (const run of this.#runs) {
      if (run.checker.spec.type === 'FILE_CHECK' || run.checker.spec.type === 'BFD_CHECK') continue;
      const at = run.carriedAt ?? firstCheckAt(run.checker.timing, now, this.#random());
      this.#schedule(run, Math.max(at, now));
    }
  }

  /** A real server the reload keeps: its checkers take over the old ones' state (carry.ts). */
  #migrate(rs: ResolvedVirtualServer['realServers'][number], runs: CheckerRun[], old: CarriedVs['rs'][number], reload: RsReload[]): RsState {
    const m = migrateRs(runs.map((r) => ({
      type: r.checker.spec.type, key: compareKey(r.checker.spec), timing: r.checker.timing, state: r.state, dynamic: r.cfg.dynamic ?? false,
    })), old, { inhibit: rs.inhibit, baseWeight: rs.weight });
    let effective = rs.weight;
    runs.forEach((r, k) => {
      r.state = m.checkers[k].state;
      const from = m.checkers[k].from;
      if (from) {
        r.last = from.last;
        r.carriedAt = from.nextAt;
      }
      effective += r.state.curWeight;
    });
    reload.push({ reloaded: true, action: m.action, effectiveWeight: effective });
    return {
      address: rs.address, port: rs.port, weight: rs.weight, effectiveWeight: old.effectiveWeight, alive: old.alive, set: old.set,
      inhibit: rs.inhibit, failedCheckers: m.failedCheckers,
    };
  }

  /**
   * What a reload hands to the next HealthChecker (its `carry` option): every virtual server's
   * quorum and sorry state, every real server's, and every checker's state and due time.
   */
  carry(): HealthCarry {
    const out = new Map<string, CarriedVs>();
    const byRs = this.#runsByRs();
    this.#vs.forEach((vs, vi) => {
      if (out.has(vs.name)) return;
      out.set(vs.name, {
        quorumUp: vs.quorumUp,
        sorry: vs.sorry,
        rs: vs.rs.map((r, ri) => ({
          address: r.address, port: r.port, alive: r.alive, set: r.set, effectiveWeight: r.effectiveWeight,
          checkers: (byRs.get(`${vi}:${ri}`) ?? []).map((x) => ({
            type: x.checker.spec.type, key: compareKey(x.checker.spec), state: x.state, nextAt: x.nextAt, last: x.last,
          })),
        })),
      });
    });
    return out;
  }

  /**
   * Stop checking without the shutdown sequence (no removals, no omega notifies): a reload has
   * taken this checker's state (carry()) and the next one carries on.
   */
  retire(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#scheduler.stop();
    this.#abort.abort();
    this.#bfdUnsubscribe?.();
    for (const run of this.#runs) run.watcher?.close();
    this.#pinger?.close();
    for (const c of new Set(this.#connectors.values())) c?.close();
  }

  /**
   * ha_suspend (check_api.c: update_checker_activity, register_checkers_thread): a virtual server
   * with ha_suspend checks its real servers only while its address is on this host — a VRRP
   * backup does not probe. A suspended checker keeps its state and only comes round again every
   * delay_loop. Call when addresses may have changed (the daemon polls).
   */
  addressesChanged(): void {
    if (this.#started && !this.#stopped) this.#haSuspend(false);
  }

  #haSuspend(initial: boolean): void {
    const local = this.#opts.isLocalAddress;
    if (!local) return;
    this.#resolved.forEach((rvs, vi) => {
      if (!rvs.haSuspend || rvs.id.kind === 'fwmark') return;
      // A group is active while any of its addresses is here (keepalived counts them:
      // ha_suspend_addr_count; see from-keepalived.ts: groupAddresses for which are watched).
      const enable = rvs.haSuspendAddresses.some(local);
      if (enable === !this.#suspended.has(vi) && !initial) return;
      if (enable) this.#suspended.delete(vi);
      else this.#suspended.add(vi);
      if (initial && enable) return;
      const vsName = formatVsIdentity(rvs.id);
      for (const run of this.#runs) {
        if (run.vs !== vi) continue;
        const rs = rvs.realServers[run.rs];
        const what = initial ? 'Deactivating' : enable ? 'Activating' : 'Suspending';
        this.#log(`${what} healthchecker for service ${rsText(rs.address, rvs.id.protocol, rs.port)} for VS ${vsName}`);
      }
    });
  }

  /**
   * Every virtual server's name with its real servers' "address|port": what a reload keeps
   * (keepalived's vs_exist / rs_exist match on the same identities).
   */
  members(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const rvs of this.#resolved) {
      const name = formatVsIdentity(rvs.id);
      const set = out.get(name) ?? new Set<string>();
      for (const rs of rvs.realServers) set.add(`${rs.address}|${rs.port}`);
      out.set(name, set);
    }
    return out;
  }

  /**
   * A reload, on the checker being replaced (after its carry() was taken): what the new file no
   * longer has leaves with keepalived's notifies — notify_down and the FIFO line for a dropped
   * server that was alive, quorum_down when the live weight left falls short (quorum.ts:
   * dropOnReload). `keep` is the new checker's members().
   */
  dropForReload(keep: ReadonlyMap<string, ReadonlySet<string>>, flushOnStop: LvsFlushOnStop = 'no'): void {
    if (!this.#started || this.#stopped) return;
    const done = new Set<string>();
    this.#vs.forEach((vs, vi) => {
      if (done.has(vs.name)) return;
      done.add(vs.name);
      const kept = keep.get(vs.name);
      if (!kept) this.#log(`Removing Virtual Server ${vs.name}`);
      const drop = vs.rs.map((r) => !kept || !kept.has(`${r.address}|${r.port}`));
      if (kept) for (const [i, r] of vs.rs.entries()) if (drop[i]) this.#log(`service ${rsText(r.address, vs.protocol, r.port)} no longer exist`);
      if (kept && !drop.includes(true)) return;
      // clear_service_rs's line, for each dropped server that is in the table.
      for (const [i, r] of vs.rs.entries()) {
        if (drop[i] && r.set && (kept || flushOnStop === 'no')) this.#log(`Removing ${r.inhibit && !r.alive ? '(inhibited) ' : ''}service ${rsText(r.address, vs.protocol, r.port)} from VS ${vs.name}`);
      }
      const st = dropOnReload(vs, drop, !kept, flushOnStop);
      this.#vs[vi] = st.vs;
      this.#publish(vi, st.events);
    });
  }

  /** Stop checking; with omega, run the down notifies as keepalived does on shutdown. */
  stop(): void {
    if (!this.#started || this.#stopped) return;
    this.#stopped = true;
    this.#scheduler.stop();
    this.#abort.abort();
    this.#bfdUnsubscribe?.();
    for (const run of this.#runs) run.watcher?.close();
    this.#vs.forEach((vs, vi) => {
      const s = shutdownVs(vs, this.#opts.lvsFlushOnStop);
      this.#vs[vi] = s.vs;
      this.#publish(vi, s.events);
    });
    this.#pinger?.close();
    for (const c of new Set(this.#connectors.values())) c?.close();
  }

  snapshot(): HealthSnapshot {
    const byRs = this.#runsByRs();
    return {
      virtualServers: this.#vs.map((vs, vi) => ({
        name: vs.name,
        quorumUp: vs.quorumUp,
        sorry: vs.sorry ? {
          address: vs.sorry.address, port: vs.sorry.port, active: vs.sorry.alive, ipvsWeight: vs.sorry.set ? (vs.sorry.alive ? 1 : 0) : null,
        } : null,
        realServers: vs.rs.map((rs, ri) => ({
          address: rs.address, port: rs.port, alive: rs.alive, weight: rs.weight, effectiveWeight: rs.effectiveWeight, inIpvs: rs.set,
          ipvsWeight: ipvsWeight(vs, rs),
          checkers: (byRs.get(`${vi}:${ri}`) ?? []).map((r) => ({
            name: r.checker.name, type: r.checker.spec.type, up: r.state.up, hasRun: r.state.hasRun, retryIt: r.state.retryIt,
            last: r.last, nextAt: r.nextAt,
          })),
        })),
      })),
    };
  }

  /** Attempts made and their result codes (for metrics: every failure has a named reason). */
  stats(): { checks: number; byCode: Readonly<Record<string, number>>; scheduler: ReturnType<Scheduler['stats']> } {
    return { checks: this.#checks, byCode: Object.fromEntries(this.#codes), scheduler: this.#scheduler.stats() };
  }

  // ---- internals ----------------------------------------------------------------------

  /** Checker runs by "vs:rs" index, so a snapshot of 10 000 servers is not 10 000 scans. */
  #runsByRs(): Map<string, CheckerRun[]> {
    const m = new Map<string, CheckerRun[]>();
    for (const r of this.#runs) {
      const k = `${r.vs}:${r.rs}`;
      const list = m.get(k);
      if (list) list.push(r);
      else m.set(k, [r]);
    }
    return m;
  }

  #log(message: string): void {
    this.#opts.log?.(message);
  }

  #runnerOnce(): ScriptRunner {
    return (this.#runner ??= this.#opts.runner ?? createScriptRunner());
  }

  /** The connector for a checker: its own probe_close, else the checker-wide probeClose, else 'reset'. */
  #connectorFor(spec: { readonly probe_close?: ProbeClose }): TcpConnector | null {
    const close = spec.probe_close ?? this.#opts.probeClose ?? 'reset';
    if (this.#connectors.has(close)) return this.#connectors.get(close)!;
    const made = this.#opts.tcpConnector !== undefined ? this.#opts.tcpConnector : (this.#opts.createConnector ?? createTcpConnector)({ close });
    // An injected connector is one object for every mode: keep it once so close() runs once.
    if (this.#opts.tcpConnector !== undefined) for (const m of ['reset', 'graceful'] as const) this.#connectors.set(m, made);
    else this.#connectors.set(close, made);
    return made;
  }

  #pingerOnce(): Pinger {
    return (this.#pinger ??= this.#opts.pinger ?? createPinger());
  }

  /** The identity a script runs as, after keepalived's security checks; null: do not run it. */
  #scriptIdentity(script: NotifyScriptSpec, where: string): ScriptIdentity | null {
    if (this.#scriptIds.has(script)) return this.#scriptIds.get(script)!;
    const security = this.#opts.scriptSecurity ?? false;
    const lookup = this.#opts.lookupUser ?? lookupScriptUser;
    const user = script.user ?? this.#opts.scriptUser;
    const identity = user ? lookup(user.user, user.group) : defaultScriptUser(security, lookup);
    let result: ScriptIdentity | null = identity;
    if (!identity) {
      this.problems.push({ code: 'CHECK_BAD_VALUE', message: `script user ${user ? user.user : 'keepalived_script'} does not exist`, where });
    } else {
      const verdict = (this.#opts.checkScript ?? checkScriptSecurity)(script.argv[0] ?? '', identity, security);
      if (verdict.verdict !== 'ok') {
        this.problems.push({ code: 'CHECK_BAD_VALUE', message: `script ${script.argv[0]}: ${verdict.verdict}: ${verdict.reason}`, where });
        if (verdict.verdict !== 'insecure') result = null;
      }
    }
    this.#scriptIds.set(script, result);
    return result;
  }

  #makeRun(vi: number, ri: number, checker: ResolvedChecker, vsName: string, rsName: string): CheckerRun | null {
    const spec = checker.spec;
    const where = `${vsName} ${rsName} ${checker.name}`;
    let identity: ScriptIdentity | undefined;
    if (spec.type === 'MISC_CHECK') {
      // check_misc.c: check_misc_script_security removes insecure/unfound scripts' checkers.
      const id = this.#scriptIdentity({ argv: spec.misc_path, user: spec.user }, where);
      if (!id) return null;
      identity = id;
    }
    const cfg: MachineConfig = {
      family: familyOf(spec),
      timing: checker.timing,
      urlCount: spec.type === 'HTTP_GET' || spec.type === 'SSL_GET' ? spec.url.filter((u) => u.path).length : undefined,
      fastRecovery: spec.type === 'HTTP_GET' || spec.type === 'SSL_GET' ? spec.fast_recovery ?? false : undefined,
      dynamic: spec.type === 'MISC_CHECK' ? spec.misc_dynamic ?? false : undefined,
      baseWeight: this.#resolved[vi].realServers[ri].weight,
    };
    const run: CheckerRun = {
      id: this.#runs.length, vs: vi, rs: ri, checker, cfg, state: initialState(checker.timing), last: null, nextAt: null, identity,
      task: () => Promise.resolve(),
    };
    run.task = () => this.#attempt(run);
    if (spec.type === 'FILE_CHECK') {
      const files = this.#opts.files ?? { read: readTrackFile, watch: watchTrackFile };
      const weight = spec.weight ?? spec.track_file.weight ?? 1;
      const reverse = spec.weight !== undefined ? spec.reverse ?? false : spec.track_file.reverse ?? false;
      const value = files.read(spec.track_file.file) ?? 0;
      const status = trackStatus(value, weight, reverse);
      run.fileStatus = status;
      run.state = { ...run.state, up: status !== FILE_FAULT, hasRun: true, curWeight: status === FILE_FAULT ? 0 : status };
      run.watcher = files.watch(spec.track_file.file, () => this.#fileChanged(run, files, weight, reverse));
    }
    this.#runs.push(run);
    return run;
  }

  #fileChanged(run: CheckerRun, files: TrackFiles, weight: number, reverse: boolean): void {
    if (this.#stopped) return;
    const value = files.read((run.checker.spec as { track_file: { file: string } }).track_file.file);
    if (value === null) return;
    const next = trackStatus(value, weight, reverse);
    const prev = run.fileStatus ?? 0;
    run.fileStatus = next;
    const before = run.state.curWeight;
    const r = stepFile(run.state, prev, next);
    run.state = r.state;
    this.#apply(run, r.report, r.weight, null, before);
  }

  /**
   * BFD_CHECK: keepalived's BFD process reports every instance's state when it starts, then each
   * notified change (check_bfd.c: bfd_check_handle_event); a session that does not exist is down.
   */
  #startBfd(): void {
    const runs = this.#runs.filter((r) => r.checker.spec.type === 'BFD_CHECK');
    if (runs.length === 0) return;
    const source = this.#opts.bfd;
    const feed = (name: string, up: boolean) => {
      if (this.#stopped) return;
      for (const run of runs) {
        if ((run.checker.spec as { name: string }).name !== name) continue;
        const before = run.state.curWeight;
        const r = stepBfdCheck(run.state, up);
        run.state = r.state;
        if (r.report) this.#apply(run, r.report, null, checkResult(up, up ? 'L4OK' : 'L4TOUT', `BFD ${name} is ${up ? 'Up' : 'Down'}`, performance.now()), before);
      }
    };
    if (source) this.#bfdUnsubscribe = source.subscribe(feed);
    for (const name of new Set(runs.map((r) => (r.checker.spec as { name: string }).name))) feed(name, source?.isUp(name) ?? false);
  }

  /** Test hook: re-read every FILE_CHECK now (as an inotify event would). */
  pollFiles(): void {
    const files = this.#opts.files ?? { read: readTrackFile, watch: watchTrackFile };
    for (const run of this.#runs) {
      const spec = run.checker.spec;
      if (spec.type !== 'FILE_CHECK') continue;
      const weight = spec.weight ?? spec.track_file.weight ?? 1;
      const reverse = spec.weight !== undefined ? spec.reverse ?? false : spec.track_file.reverse ?? false;
      this.#fileChanged(run, files, weight, reverse);
    }
  }

  #schedule(run: CheckerRun, at: number): void {
    run.nextAt = at;
    this.#scheduler.schedule(run.id, at, run.task);
  }

  async #attempt(run: CheckerRun): Promise<void> {
    if (this.#stopped) return;
    if (this.#suspended.has(run.vs)) return this.#schedule(run, this.#clock.now() + run.cfg.timing.delayLoopMs);
    const startedAt = this.#clock.now();
    let result: CheckResult;
    try {
      result = await this.#probe(run, this.#abort);
    } catch (e) {
      result = checkResult(false, 'SOCKERR', `checker error: ${(e as Error).message}`, performance.now());
    }
    if (this.#stopped) return;
    this.#checks++;
    this.#codes.set(result.code, (this.#codes.get(result.code) ?? 0) + 1);
    run.last = result;
    const outcome = outcomeOf(result);
    const now = this.#clock.now();
    if (!outcome) {
      this.#schedule(run, now + run.cfg.timing.delayLoopMs);
      return;
    }
    const before = run.state.curWeight;
    const s = step(run.cfg, run.state, outcome, now, startedAt);
    run.state = s.state;
    this.#apply(run, s.report, s.weight, result, before);
    this.#schedule(run, s.nextAt);
  }

  #probe(run: CheckerRun, signal: CheckCancel): Promise<CheckResult> {
    const c = run.checker;
    const spec = c.spec;
    const p = this.#probes;
    switch (spec.type) {
      case 'TCP_CHECK': return p.tcp(spec, c.target!, signal, this.#connectorFor(spec));
      case 'HTTP_GET':
      case 'SSL_GET':
        return p.http(spec, c.target!, signal, {
          urlIndex: run.state.urlIndex, rsVirtualhost: c.rsVirtualhost, vsVirtualhost: c.vsVirtualhost, connector: this.#connectorFor(spec),
        });
      case 'MISC_CHECK':
        return p.misc(spec, signal, { runner: this.#runnerOnce(), identity: run.identity, timeoutMs: c.miscTimeoutMs ?? c.timing.delayLoopMs });
      case 'DNS_CHECK': return p.dns(spec, c.target!, signal);
      case 'SMTP_CHECK': return p.smtp(spec, c.target!, signal);
      case 'UDP_CHECK': return p.udp(spec, c.target!, signal);
      case 'PING_CHECK': return p.ping(spec, c.target!, signal, this.#pingerOnce());
      case 'FILE_CHECK': return Promise.resolve(checkResult(true, 'L7OK', 'file', performance.now()));
      case 'BFD_CHECK': return Promise.resolve(checkResult(true, 'L7OK', 'bfd', performance.now()));
    }
  }

  /** Fold a step into the pool: weight share (before/after as keepalived orders it), then the report. */
  #apply(run: CheckerRun, report: Report | null, weight: WeightChange | null, result: CheckResult | null, fromCur: number): void {
    if (!report && !weight) return;
    const vi = run.vs;
    const ri = run.rs;
    const events: DirectorEvent[] = [];
    const share = (w: WeightChange, fromCur: number) => {
      const st = applyWeightShare(this.#vs[vi], ri, fromCur, w.curWeight, w.silent);
      this.#vs[vi] = st.vs;
      events.push(...st.events);
    };
    if (weight && weight.order === 'before') share(weight, fromCur);
    if (report) {
      const rsWasAlive = this.#vs[vi].rs[ri].alive;
      const st = applyCheckerReport(this.#vs[vi], ri, report, run.checker.timing.alpha);
      this.#vs[vi] = st.vs;
      events.push(...st.events);
      if (report.wasUp !== report.alive) {
        const vsName = this.#vs[vi].name;
        const rs = this.#vs[vi].rs[ri];
        this.#emit({
          type: 'checker', vs: vsName, rs: rsText(rs.address, this.#resolved[vi].id.protocol, rs.port), checker: run.checker.name, up: report.alive, result,
          checkerType: run.checker.spec.type, address: rs.address, port: rs.port, rsWasAlive, rsAlive: rs.alive,
        });
        this.#log(`${run.checker.spec.type} on ${rsText(rs.address, this.#resolved[vi].id.protocol, rs.port)} of ${vsName} ${report.alive ? 'succeeded' : 'failed'}${result ? `: ${result.code} ${result.message}` : ''}`);
      }
    }
    if (weight && weight.order === 'after') share(weight, fromCur);
    this.#publish(vi, events);
  }

  #publish(vi: number, events: readonly DirectorEvent[]): void {
    for (const ev of events) {
      this.#emit(ev);
      this.#notify(vi, ev);
    }
  }

  #emit(ev: HealthEvent): void {
    for (const fn of this.#listeners) {
      try {
        fn(ev);
      } catch (e) {
        this.#log(`health event listener failed: ${(e as Error).message}`);
      }
    }
  }

  #notify(vi: number, ev: DirectorEvent): void {
    const line = fifoLine(ev);
    if (line && this.#opts.fifo) this.#opts.fifo.write(fifoBytes(line));
    const rvs = this.#resolved[vi];
    let rsScripts;
    if (ev.type === 'rs-up' || ev.type === 'rs-down') {
      rsScripts = rvs.realServers.find((r) => r.address === ev.address && r.port === ev.port);
    }
    const script = scriptFor(ev, rsScripts, rvs);
    if (!script) return;
    const id = this.#scriptIdentity(script, `${rvs ? formatVsIdentity(rvs.id) : ''} ${ev.type}`);
    if (!id) return;
    const stopping = 'stopping' in ev && ev.stopping;
    void this.#runnerOnce().run({ argv: script.argv, identity: id, timeoutMs: stopping ? STOPPING_SCRIPT_TIMEOUT_MS : 0 }).catch(() => {});
  }
}
