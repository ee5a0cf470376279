// The one interface the daemon drives, whatever forwards the packets (DESIGN.md, "dataplane/").
// A plane reads the director's services itself (the director is the desired state) and asks the
// director for every scheduling decision; it never schedules on its own.
import type { Director } from '../core/director.ts';
import type { DestSpec, FwdMethod } from '../core/dest.ts';
import type { Protocol, ServiceKey, ServiceOptions } from '../core/service.ts';
import type { Dest } from '../core/dest.ts';
import type { Service } from '../core/service.ts';

export type DataPlaneName = 'proxy' | 'nft';

export interface Capabilities {
  readonly name: DataPlaneName;
  readonly fwd: readonly FwdMethod[];
  readonly protocols: readonly Protocol[];
  readonly fwmark: boolean;
  /** Needs root / CAP_NET_ADMIN. */
  readonly privileged: boolean;
}

/** A refusal by the plane: the change is not made and the caller gets this error. */
export interface DataPlaneError {
  readonly code: 'UNSUPPORTED_FWD' | 'UNSUPPORTED_PROTOCOL' | 'UNSUPPORTED_FWMARK' | 'BIND_FAILED' | 'PLANE_ERROR';
  readonly message: string;
  readonly context: Readonly<Record<string, unknown>>;
}

export type Check = { readonly ok: true } | { readonly ok: false; readonly error: DataPlaneError };

export interface DataPlaneStats {
  /** Connections the plane refused or reset, by reason (metric label). */
  readonly drops: Readonly<Record<string, number>>;
  readonly openConnections: number;
}

export interface DataPlane {
  readonly capabilities: Capabilities;
  /** Before the director accepts a service: can this plane serve it? */
  checkService(key: ServiceKey, options: ServiceOptions): Check;
  /** Before the director accepts a dest: can this plane forward to it that way? */
  checkDest(svc: Service, spec: DestSpec): Check;
  /**
   * Reconcile with the director's current services (open/close listeners, load rules). Called after
   * every change. Rejects only when a listener cannot be opened; the error names the address.
   */
  sync(director: Director): Promise<void>;
  /** A dest was deleted or quiesced: with close=true its open connections are closed now. */
  closeDest(dest: Dest): void;
  /** Graceful stop: stop accepting, let open connections finish within graceMs, then close them. */
  stop(graceMs: number): Promise<void>;
  stats(): DataPlaneStats;
}
