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

/**
 * VRRP's view of the addresses (Addr.text), for a director whose VIPs move between directors
 * (docs/vrrp.md, "Serving a VIP only while MASTER"). keepalived leaves its IPVS services loaded on
 * both directors and lets the address decide where traffic lands; a user-space listener cannot bind
 * an address the host does not have, so a plane serves a service on a managed address only while it
 * is held.
 */
export interface HeldAddresses {
  /** Every virtual_ipaddress / virtual_ipaddress_excluded of the running vrrp_instances. */
  readonly managed: ReadonlySet<string>;
  /** Those an instance in MASTER state has added to an interface. */
  readonly held: ReadonlySet<string>;
}

/** Whether a service on `vip` is served: always, unless VRRP manages the address and does not hold it now. */
export function vipServed(addrs: HeldAddresses | null, vip: string): boolean {
  return addrs === null || !addrs.managed.has(vip) || addrs.held.has(vip);
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
  /**
   * VRRP: record which addresses are managed and held; the next sync() opens the listeners (loads
   * the rules) of services whose VIP became held and closes those whose VIP was released (stop
   * accepting; open connections finish, as for a deleted service). Optional: a plane without it
   * serves every service at all times.
   */
  setHeldAddresses?(addrs: HeldAddresses): void;
}
