// The checkers and the director, glued: the HealthChecker (src/check/) decides which real servers
// belong in the table and with what weight, as keepalived's checker process does (alpha,
// inhibit_on_failure, quorum and the sorry server included); this file carries its decisions to the
// director (addDest / editDest / deleteDest) and brings the plane along (plane.sync). No checker
// logic lives here: the events say what to do, this only finds the services they are about.
//
// One keepalived virtual server can be several services (a virtual_server_group expands to each of
// its addresses and fwmarks); an event for it applies to every one of them.
import type { Director } from '../core/director.ts';
import type { DestSpec } from '../core/dest.ts';
import { serviceKeyText } from '../core/service.ts';
import type { DataPlane } from '../dataplane/dataplane.ts';
import type { KeepalivedConfig, ScriptSpec, VirtualServer } from '../config/keepalived/model.ts';
import type { SourcePos } from '../config/keepalived/diagnostics.ts';
import type { PlannedService } from '../config/keepalived/lvs.ts';
import type { HealthChecker, HealthEvent, HealthSnapshot } from '../check/health-checker.ts';
import type { VirtualServerSpec } from '../check/spec.ts';
import { formatVsIdentity } from '../check/spec.ts';
import { type SkippedChecker, virtualServerSpec, vsIdentity } from '../check/from-keepalived.ts';
import {
  type ScriptCheck, type ScriptIdentity, type UserLookup, checkScriptSecurity, defaultScriptUser, lookupScriptUser,
} from '../sys/exec.ts';
import type { AcceptedPlan, DesiredService, DesiredState } from './reload.ts';
import type { Logger } from './log.ts';

/** keepalived's FMT_VS name of a virtual server: how the checker names it in its events. */
export function vsName(v: VirtualServer): string {
  return formatVsIdentity(vsIdentity(v));
}

/**
 * The checker specs for the accepted virtual servers, one per name (a second virtual server with
 * the same identity produced no service, so it has no checkers either).
 */
export function checkerSpecs(config: KeepalivedConfig, accepted: AcceptedPlan): { specs: VirtualServerSpec[]; skipped: SkippedChecker[] } {
  const skipped: SkippedChecker[] = [];
  const seen = new Set<string>();
  const specs: VirtualServerSpec[] = [];
  for (const v of accepted.virtualServers) {
    const name = vsName(v);
    if (seen.has(name)) continue;
    seen.add(name);
    specs.push(virtualServerSpec(config, v, skipped));
  }
  return { specs, skipped };
}

/** A script the checkers could not run, at its place in the file. */
export interface ScriptProblem {
  readonly at: SourcePos;
  readonly code: 'SCRIPT_NOT_FOUND' | 'SCRIPT_NOT_EXECUTABLE' | 'SCRIPT_INSECURE' | 'SCRIPT_USER_UNKNOWN';
  readonly message: string;
}

export interface ScriptCheckOptions {
  readonly scriptSecurity: boolean;
  readonly scriptUser?: { readonly user: string; readonly group?: string };
  readonly lookupUser?: UserLookup;
  readonly checkScript?: (argv0: string, identity: ScriptIdentity, scriptSecurity: boolean) => ScriptCheck;
}

/**
 * Every script the checkers of the accepted virtual servers would run (MISC_CHECK, notify_up/down,
 * quorum_up/down), judged as the checker process judges it before running it (sys/exec.ts, after
 * keepalived's check_script_secure). keepalived drops such a MISC_CHECK (its real server then has
 * one checker less, maybe none: always up) and skips such a notify; keepvs refuses the file instead,
 * naming the script's place, so a typo cannot silently turn a health check off.
 */
export function scriptProblems(accepted: AcceptedPlan, o: ScriptCheckOptions): ScriptProblem[] {
  const lookup = o.lookupUser ?? lookupScriptUser;
  const judge = o.checkScript ?? checkScriptSecurity;
  const out: ScriptProblem[] = [];
  const seen = new Set<ScriptSpec>();
  const one = (s: ScriptSpec | null, what: string): void => {
    if (!s || seen.has(s)) return;
    seen.add(s);
    const u = s.user !== null ? { user: s.user, group: s.group ?? undefined } : o.scriptUser;
    const identity = u ? lookup(u.user, u.group) : defaultScriptUser(o.scriptSecurity, lookup);
    if (!identity) {
      out.push({ at: s.at, code: 'SCRIPT_USER_UNKNOWN', message: `${what} ${s.args[0]}: script user ${u ? u.user : 'keepalived_script'} does not exist` });
      return;
    }
    const v = judge(s.args[0] ?? '', identity, o.scriptSecurity);
    if (v.verdict === 'not-found') out.push({ at: s.at, code: 'SCRIPT_NOT_FOUND', message: `${what} ${s.args[0]}: ${v.reason}` });
    else if (v.verdict === 'not-executable') out.push({ at: s.at, code: 'SCRIPT_NOT_EXECUTABLE', message: `${what} ${s.args[0]}: ${v.reason}` });
    else if (v.verdict === 'disabled') out.push({ at: s.at, code: 'SCRIPT_INSECURE', message: `${what} ${s.args[0]}: ${v.reason} (enable_script_security refuses to run it)` });
  };
  for (const v of accepted.virtualServers) {
    one(v.quorumUp, 'quorum_up');
    one(v.quorumDown, 'quorum_down');
    for (const r of v.realServers) {
      one(r.notifyUp, 'notify_up');
      one(r.notifyDown, 'notify_down');
      for (const c of r.checkers) if (c.type === 'MISC_CHECK') one(c.script, 'MISC_CHECK misc_path');
    }
  }
  return out;
}

/**
 * The director the checkers want: every accepted service with its options, and as dests the real
 * servers (then the sorry server) the checker has put in the table, at the weight it gave them.
 * Real servers pair with the checker's by position: both come from the same real_server list.
 */
export function desiredState(accepted: AcceptedPlan, snap: HealthSnapshot): DesiredState {
  const byName = new Map(snap.virtualServers.map((v) => [v.name, v]));
  return accepted.services.map((s): DesiredService => {
    const hv = byName.get(vsName(s.virtualServer));
    const dests: DestSpec[] = [];
    const seen = new Set<string>();
    s.realServers.forEach((p, i) => {
      const h = hv?.realServers[i];
      if (!h || h.address !== p.realServer.addr.text || h.ipvsWeight === null) return;
      dests.push({ ...p.dest, weight: h.ipvsWeight });
      seen.add(`${p.dest.addr.text}|${p.dest.port}`);
    });
    // A sorry server that is also a real server is already there (check_data.c: s_svr_duplicates_rs).
    if (s.sorry && hv?.sorry && hv.sorry.ipvsWeight !== null && !seen.has(`${s.sorry.addr.text}|${s.sorry.port}`)) {
      dests.push({ ...s.sorry, weight: hv.sorry.ipvsWeight });
    }
    return { key: s.key, options: s.options, dests };
  });
}

export interface HealthGlueDeps {
  readonly director: Director;
  readonly plane: DataPlane;
  readonly log: Logger;
  /** The director's clock (ms). */
  readonly now: () => number;
  readonly checker: HealthChecker;
  readonly accepted: AcceptedPlan;
}

/** Applies a HealthChecker's director events as they come; attach() after the initial reconcile. */
export class HealthGlue {
  readonly #d: HealthGlueDeps;
  readonly #byName = new Map<string, PlannedService[]>();
  /** Per service: its real servers' dests by the checker's "address|port" (the model's port). */
  readonly #rsDest = new Map<PlannedService, Map<string, DestSpec>>();
  #unsubscribe: (() => void) | null = null;
  #syncQueued = false;
  /** Events that could not be applied (for tests and the log). */
  failures = 0;

  constructor(deps: HealthGlueDeps) {
    this.#d = deps;
    for (const s of deps.accepted.services) {
      const name = vsName(s.virtualServer);
      const list = this.#byName.get(name);
      if (list) list.push(s);
      else this.#byName.set(name, [s]);
      this.#rsDest.set(s, new Map(s.realServers.map((p) => [`${p.realServer.addr.text}|${p.realServer.port}`, p.dest])));
    }
  }

  attach(): void {
    this.#unsubscribe ??= this.#d.checker.subscribe((ev) => this.#on(ev));
  }

  /** Stop following the checker (a reload hands over to the next glue; a stop leaves the director be). */
  detach(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  #on(ev: HealthEvent): void {
    const log = this.#d.log;
    switch (ev.type) {
      case 'dest-add':
      case 'dest-edit':
      case 'dest-remove':
        this.#dest(ev);
        return;
      case 'quorum-up':
      case 'quorum-down': {
        // ipwrapper.c: update_quorum_state's messages.
        const up = ev.type === 'quorum-up';
        const what = ev.init ? (up ? 'Starting with quorum up' : 'Starting with quorum down') : up ? 'Gained quorum' : 'Lost quorum';
        log.info(`${what} ${ev.threshold} ${up ? '<=' : '>'} ${ev.weightSum} for VS ${ev.vs}`);
        return;
      }
      case 'rs-weight':
        log.info(`Changing weight from ${ev.from} to ${ev.to} for service ${ev.rs} of VS ${ev.vs}`);
        return;
      default:
        return;
    }
  }

  #dest(ev: Extract<HealthEvent, { type: 'dest-add' | 'dest-edit' | 'dest-remove' }>): void {
    const { director, log, now } = this.#d;
    const services = this.#byName.get(ev.vs) ?? [];
    const who = ev.sorry ? 'sorry server' : 'service';
    // keepalived's wording (ipwrapper.c: perform_svr_state, update_quorum_state).
    if (ev.type === 'dest-add') log.info(`Adding ${who} ${ev.rs} to VS ${ev.vs}${ev.weight === 0 ? ' (weight 0)' : ''}`);
    else if (ev.type === 'dest-remove') log.info(`Removing ${who} ${ev.rs} from VS ${ev.vs}`);
    else log.info(`${ev.weight === 0 ? 'Disabling' : 'Enabling'} ${who} ${ev.rs} of VS ${ev.vs}${ev.weight === 0 ? '' : ` (weight ${ev.weight})`}`);
    for (const s of services) {
      const spec = ev.sorry ? s.sorry : this.#rsDest.get(s)?.get(`${ev.address}|${ev.port}`);
      if (!spec) continue;
      const dest: DestSpec = { ...spec, weight: ev.weight };
      let r;
      if (ev.type === 'dest-remove') {
        r = director.deleteDest(s.key, dest.addr, dest.port, now());
        if (!r.ok && r.error.code === 'DEST_NOT_FOUND') continue;
      } else {
        r = ev.type === 'dest-add' ? director.addDest(s.key, dest) : director.editDest(s.key, dest);
        // Idempotent: the dest may already be there (or gone) after a hand edit with keepvsadm.
        if (!r.ok && r.error.code === 'DEST_EXISTS') r = director.editDest(s.key, dest);
        else if (!r.ok && r.error.code === 'DEST_NOT_FOUND') r = director.addDest(s.key, dest);
      }
      if (!r.ok) {
        this.failures++;
        log.error(`${ev.type} ${ev.rs} on ${serviceKeyText(s.key)} failed: ${r.error.code}: ${r.error.message}`);
      }
    }
    this.#sync();
  }

  /** One plane.sync for a burst of events (a quorum change moves every server at once). */
  #sync(): void {
    if (this.#syncQueued) return;
    this.#syncQueued = true;
    queueMicrotask(() => {
      this.#syncQueued = false;
      this.#d.plane.sync(this.#d.director).catch((e: unknown) => {
        this.#d.log.error(`data plane: ${(e as Error).message}`);
      });
    });
  }
}
