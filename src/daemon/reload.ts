// Reconciling the director with a keepalived.conf: parse -> validate -> diff -> apply (DESIGN.md,
// "daemon/"). This file holds the two halves that need no I/O:
//  - validate: which virtual servers the running data plane and the core can serve at all
//    (acceptPlan). One the plane refuses (lb_kind DR on the proxy plane, a fwmark service, ...) is
//    skipped with a diagnostic naming its file:line; the rest runs.
//  - diff: the desired director (services, and the dests with the weights the checkers give them)
//    before and after, keyed as Seesaw's engine and keepalived's clear_diff_services key them — a
//    service by its key (protocol, VIP, port / fwmark, family), a dest by (RIP, port) inside it —
//    into the fewest operations: an unchanged service or dest gets none, so it keeps its
//    connections and counters; an identical file gives no operations at all.
// config.ts drives the whole sequence; health.ts computes the desired dests from the checkers.
import { Service, serviceKeyId, serviceKeyText, destKeyId, type ServiceKey, type ServiceOptions } from '../core/service.ts';
import { endpointText, type Addr } from '../core/addr.ts';
import type { DestSpec } from '../core/dest.ts';
import type { CoreError } from '../core/errors.ts';
import type { Result } from '../core/result.ts';
import { type Director, validateDest, validateService } from '../core/director.ts';
import type { DataPlane } from '../dataplane/dataplane.ts';
import type { SourcePos } from '../config/keepalived/diagnostics.ts';
import type { DirectorPlan, PlannedService } from '../config/keepalived/lvs.ts';
import type { VirtualServer } from '../config/keepalived/model.ts';

// ---------------------------------------------------------------- validate

/** A virtual server left out because it cannot run here; `code` is the plane's or the core's. */
export interface SkippedVirtualServer {
  readonly at: SourcePos;
  readonly virtualServer: VirtualServer;
  readonly code: string;
  readonly message: string;
}

/** The services keepvs will program, and the virtual servers they come from (configuration order). */
export interface AcceptedPlan {
  readonly services: readonly PlannedService[];
  readonly virtualServers: readonly VirtualServer[];
}

function vsWords(v: VirtualServer): string {
  const t = v.target;
  if (t.kind === 'addr') return `virtual_server ${t.addr.text} ${t.port}`;
  if (t.kind === 'fwmark') return `virtual_server fwmark ${t.fwmark}`;
  return `virtual_server group ${t.name}`;
}

/**
 * Every service of a virtual server must pass the core's checks and the plane's, and so must each
 * real server and the sorry server; the first refusal skips the whole virtual server.
 */
export function acceptPlan(plan: DirectorPlan, plane: Pick<DataPlane, 'checkService' | 'checkDest'>): { accepted: AcceptedPlan; skipped: SkippedVirtualServer[] } {
  const byVs = new Map<VirtualServer, PlannedService[]>();
  for (const s of plan.services) {
    const list = byVs.get(s.virtualServer);
    if (list) list.push(s);
    else byVs.set(s.virtualServer, [s]);
  }
  const services: PlannedService[] = [];
  const virtualServers: VirtualServer[] = [];
  const skipped: SkippedVirtualServer[] = [];
  for (const [v, list] of byVs) {
    const refusal = refuse(v, list, plane);
    if (refusal) {
      skipped.push(refusal);
      continue;
    }
    virtualServers.push(v);
    services.push(...list);
  }
  return { accepted: { services, virtualServers }, skipped };
}

function refuse(v: VirtualServer, list: readonly PlannedService[], plane: Pick<DataPlane, 'checkService' | 'checkDest'>): SkippedVirtualServer | null {
  const skip = (at: SourcePos, code: string, why: string): SkippedVirtualServer => ({
    at, virtualServer: v, code, message: `${vsWords(v)} is skipped: ${why}`,
  });
  for (const s of list) {
    const name = serviceKeyText(s.key);
    const valid = validateService(s.key, s.options);
    if (!valid.ok) return skip(v.at, valid.error.code, `${name}: ${valid.error.message}`);
    const svcCheck = plane.checkService(s.key, s.options);
    if (!svcCheck.ok) return skip(v.at, svcCheck.error.code, `${name}: ${svcCheck.error.message}`);
    const svc = new Service(s.key, s.options);
    const dests: { at: SourcePos; spec: DestSpec; what: string }[] = s.realServers.map((p) => ({
      at: p.realServer.at, spec: p.dest, what: `real_server ${endpointText(p.dest.addr, p.dest.port)}`,
    }));
    if (s.sorry && v.sorryServer) dests.push({ at: v.sorryServer.at, spec: s.sorry, what: `sorry_server ${endpointText(s.sorry.addr, s.sorry.port)}` });
    for (const d of dests) {
      const dv = validateDest(svc, d.spec);
      if (!dv.ok) return skip(d.at, dv.error.code, `${d.what}: ${dv.error.message}`);
      const dc = plane.checkDest(svc, d.spec);
      if (!dc.ok) return skip(d.at, dc.error.code, `${d.what}: ${dc.error.message}`);
    }
  }
  return null;
}

// ---------------------------------------------------------------- diff

/** One service as the director should have it; `dests` in configuration order, weights as programmed. */
export interface DesiredService {
  readonly key: ServiceKey;
  readonly options: ServiceOptions;
  readonly dests: readonly DestSpec[];
}

export type DesiredState = readonly DesiredService[];

export type ReloadOp =
  | { readonly op: 'add-service'; readonly key: ServiceKey; readonly options: ServiceOptions }
  | { readonly op: 'edit-service'; readonly key: ServiceKey; readonly options: ServiceOptions }
  | { readonly op: 'delete-service'; readonly key: ServiceKey }
  | { readonly op: 'add-dest'; readonly key: ServiceKey; readonly dest: DestSpec }
  | { readonly op: 'edit-dest'; readonly key: ServiceKey; readonly dest: DestSpec }
  | { readonly op: 'delete-dest'; readonly key: ServiceKey; readonly addr: Addr; readonly port: number };

function sameOptions(a: ServiceOptions, b: ServiceOptions): boolean {
  return a.scheduler === b.scheduler && a.flags === b.flags && a.timeout === b.timeout && a.netmask === b.netmask
    && a.pe === b.pe && (a.proxyProtocol ?? null) === (b.proxyProtocol ?? null);
}

function sameDest(a: DestSpec, b: DestSpec): boolean {
  const ta = a.tunnel;
  const tb = b.tunnel;
  const sameTunnel = !ta || !tb ? !ta === !tb : ta.type === tb.type && ta.port === tb.port && ta.csum === tb.csum;
  return a.fwd === b.fwd && a.weight === b.weight && a.uThreshold === b.uThreshold && a.lThreshold === b.lThreshold
    && sameTunnel && (a.proxyProtocol ?? null) === (b.proxyProtocol ?? null);
}

/**
 * The operations that turn `current` into `next`, in a safe order: services that go are deleted
 * first; then each kept service is edited (options), loses its old dests, has its changed dests
 * edited and gets its new ones (in configuration order, as keepalived adds them); new services come
 * last with their dests. Pure.
 */
export function diffDesired(current: DesiredState, next: DesiredState): ReloadOp[] {
  const ops: ReloadOp[] = [];
  const cur = new Map(current.map((s) => [serviceKeyId(s.key), s]));
  const nxt = new Map(next.map((s) => [serviceKeyId(s.key), s]));
  for (const [id, s] of cur) if (!nxt.has(id)) ops.push({ op: 'delete-service', key: s.key });
  const added: DesiredService[] = [];
  for (const [id, s] of nxt) {
    const old = cur.get(id);
    if (!old) {
      added.push(s);
      continue;
    }
    if (!sameOptions(old.options, s.options)) ops.push({ op: 'edit-service', key: s.key, options: s.options });
    const was = new Map(old.dests.map((d) => [destKeyId(d.addr, d.port), d]));
    const will = new Map(s.dests.map((d) => [destKeyId(d.addr, d.port), d]));
    for (const [k, d] of was) if (!will.has(k)) ops.push({ op: 'delete-dest', key: s.key, addr: d.addr, port: d.port });
    for (const [k, d] of will) {
      const o = was.get(k);
      if (o && !sameDest(o, d)) ops.push({ op: 'edit-dest', key: s.key, dest: d });
    }
    for (const [k, d] of will) if (!was.has(k)) ops.push({ op: 'add-dest', key: s.key, dest: d });
  }
  for (const s of added) {
    ops.push({ op: 'add-service', key: s.key, options: s.options });
    for (const d of s.dests) ops.push({ op: 'add-dest', key: s.key, dest: d });
  }
  return ops;
}

/** "add-dest TCP 127.0.0.1:8080 -> 127.0.0.1:8081 (masq, weight 1)", for the log. */
export function opText(op: ReloadOp): string {
  const svc = serviceKeyText(op.key);
  switch (op.op) {
    case 'add-service':
    case 'edit-service':
      return `${op.op} ${svc} (${op.options.scheduler})`;
    case 'delete-service':
      return `${op.op} ${svc}`;
    case 'add-dest':
    case 'edit-dest':
      return `${op.op} ${svc} -> ${endpointText(op.dest.addr, op.dest.port)} (${op.dest.fwd}, weight ${op.dest.weight})`;
    case 'delete-dest':
      return `${op.op} ${svc} -> ${endpointText(op.addr, op.port)}`;
  }
}

export interface ApplyFailure {
  readonly op: ReloadOp;
  readonly error: CoreError;
}

/**
 * Run the operations on the director, each on its own: one that fails (the user removed the service
 * with keepvsadm meanwhile, say) is reported and the rest still run. A dest to add that is already
 * there (added by hand) is edited instead; one to delete that is gone already is not a failure.
 */
export function applyOps(director: Director, ops: readonly ReloadOp[], now: number): ApplyFailure[] {
  const failures: ApplyFailure[] = [];
  for (const op of ops) {
    let r: Result<unknown, CoreError>;
    switch (op.op) {
      case 'add-service': r = director.addService(op.key, op.options); break;
      case 'edit-service': r = director.editService(op.key, op.options); break;
      case 'delete-service': r = director.deleteService(op.key, now); break;
      case 'add-dest':
        r = director.addDest(op.key, op.dest);
        if (!r.ok && r.error.code === 'DEST_EXISTS') r = director.editDest(op.key, op.dest);
        break;
      case 'edit-dest': r = director.editDest(op.key, op.dest); break;
      case 'delete-dest':
        r = director.deleteDest(op.key, op.addr, op.port, now);
        if (!r.ok && r.error.code === 'DEST_NOT_FOUND') continue;
        break;
    }
    if (!r.ok) failures.push({ op, error: r.error });
  }
  return failures;
}
