// A real server (dest) of one virtual service, with the connection accounting and the OVERLOAD
// rules of ip_vs_conn.c (ip_vs_bind_dest / ip_vs_unbind_dest) and ip_vs_ctl.c (__ip_vs_update_dest).
import type { Addr } from './addr.ts';
import { Stats } from './stats.ts';
import type { Service } from './service.ts';
import type { DestProxyProtocol } from './proxy-protocol.ts';

/** Forwarding method. 'fullnat' is a keepvs extension (shown as FullNat); 'local' is the kernel's LOCALNODE. */
export type FwdMethod = 'masq' | 'local' | 'tunnel' | 'route' | 'fullnat';

/** include/uapi/linux/ip_vs.h: IP_VS_CONN_F_FWD_MASK values (fullnat has none in the kernel). */
export const FWD_CODE: Readonly<Record<FwdMethod, number>> = { masq: 0, local: 1, tunnel: 2, route: 3, fullnat: 5 };

export type TunnelType = 'ipip' | 'gue' | 'gre';
export type TunnelCsum = 'nocsum' | 'csum' | 'remcsum';

export interface TunnelOptions {
  readonly type: TunnelType;
  /** GUE destination port; 0 otherwise. */
  readonly port: number;
  readonly csum: TunnelCsum;
}

/** What a user gives for a dest (ipvsadm -a/-e, keepalived real_server, the API). */
export interface DestSpec {
  readonly addr: Addr;
  readonly port: number;
  readonly fwd: FwdMethod;
  readonly weight: number;
  readonly uThreshold: number;
  readonly lThreshold: number;
  readonly tunnel?: TunnelOptions;
  /**
   * keepvs: this dest's own PROXY protocol choice; 'none' turns it off even when the service has
   * one; null or absent = the service's (effectiveProxyProtocol).
   */
  readonly proxyProtocol?: DestProxyProtocol;
}

/** include/uapi/linux/ip_vs.h: dest flags. */
export const DEST_F = { AVAILABLE: 0x1, OVERLOAD: 0x2 } as const;

let nextDestId = 1;

export class Dest {
  readonly addr: Addr;
  readonly port: number;
  /** Unique and increasing in creation order: schedulers may use it as a stable identity. */
  readonly id: number = nextDestId++;
  svc: Service;
  fwd: FwdMethod;
  weight: number;
  /** ip_vs_ctl.c: the latest non-zero weight (kept across a quiesce), used by mh. */
  lastWeight: number;
  uThreshold: number;
  lThreshold: number;
  tunnel: TunnelOptions | undefined;
  /** The dest's own PROXY protocol choice (null = its service's). */
  proxyProtocol: DestProxyProtocol;
  flags: number = DEST_F.AVAILABLE;
  activeConns = 0;
  inactConns = 0;
  persistConns = 0;
  readonly stats = new Stats();

  constructor(svc: Service, spec: DestSpec) {
    this.svc = svc;
    this.addr = spec.addr;
    this.port = spec.port;
    this.fwd = spec.fwd;
    this.weight = spec.weight;
    this.lastWeight = spec.weight;
    this.uThreshold = spec.uThreshold;
    this.lThreshold = spec.lThreshold;
    this.tunnel = spec.tunnel;
    this.proxyProtocol = spec.proxyProtocol ?? null;
  }

  get overloaded(): boolean {
    return (this.flags & DEST_F.OVERLOAD) !== 0;
  }

  get available(): boolean {
    return (this.flags & DEST_F.AVAILABLE) !== 0;
  }
}

/** The spec that would re-create this dest as it is configured now (to undo an edit, to re-apply it). */
export function destSpecOf(d: Dest): DestSpec {
  return {
    addr: d.addr, port: d.port, fwd: d.fwd, weight: d.weight, uThreshold: d.uThreshold, lThreshold: d.lThreshold,
    ...(d.tunnel ? { tunnel: d.tunnel } : {}), proxyProtocol: d.proxyProtocol,
  };
}

/** include/net/ip_vs.h: ip_vs_dest_conn_overhead = (activeconns << 8) + inactconns. */
export function destOverhead(d: Dest): number {
  return d.activeConns * 256 + d.inactConns;
}

/** include/net/ip_vs.h: ip_vs_dest_totalconns (templates excluded); only thresholds use it. */
export function destTotalConns(d: Dest): number {
  return d.activeConns + d.inactConns;
}

function loadChanged(d: Dest): void {
  d.svc.scheduler.loadChanged?.(d);
}

/**
 * A new connection (or template) is bound to the dest. ip_vs_conn.c: ip_vs_bind_dest counts it as
 * inactive (dest->conn_flags carries INACTIVE) or as a persistent template, then sets OVERLOAD when
 * the upper threshold is reached.
 */
export function bindConn(d: Dest, kind: 'inactive' | 'active' | 'template'): void {
  if (kind === 'template') d.persistConns++;
  else if (kind === 'active') d.activeConns++;
  else d.inactConns++;
  if (d.uThreshold !== 0 && destTotalConns(d) >= d.uThreshold) d.flags |= DEST_F.OVERLOAD;
  loadChanged(d);
}

/**
 * A connection (or template) leaves the dest. ip_vs_conn.c: ip_vs_unbind_dest clears OVERLOAD below
 * the lower threshold, or below 3/4 of the upper one when no lower is set, or at once when neither is.
 */
export function unbindConn(d: Dest, kind: 'inactive' | 'active' | 'template'): void {
  if (kind === 'template') d.persistConns--;
  else if (kind === 'active') d.activeConns--;
  else d.inactConns--;
  const total = destTotalConns(d);
  if (d.lThreshold !== 0) {
    if (total < d.lThreshold) d.flags &= ~DEST_F.OVERLOAD;
  } else if (d.uThreshold !== 0) {
    if (total * 4 < d.uThreshold * 3) d.flags &= ~DEST_F.OVERLOAD;
  } else {
    d.flags &= ~DEST_F.OVERLOAD;
  }
  loadChanged(d);
}

/** ip_vs_proto_tcp.c: set_tcp_state moves a conn between the inactive and active counts. */
export function connActivity(d: Dest, becameActive: boolean): void {
  if (becameActive) { d.activeConns++; d.inactConns--; } else { d.activeConns--; d.inactConns++; }
  loadChanged(d);
}
