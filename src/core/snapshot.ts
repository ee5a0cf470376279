// Plain, JSON-ready views of the director for the API, keepvsadm, metrics and dumps. Everything a
// listing prints comes from here, so ipvsadm's text can be produced far from the live objects.
import type { Counters, Rates, Stats } from './stats.ts';
import type { Dest, FwdMethod, TunnelOptions } from './dest.ts';
import type { Protocol, Service } from './service.ts';
import { type Conn, type ConnProtocol, CONN_F } from './conn/conn.ts';
import type { Director } from './director.ts';
import { connStateName } from './conn/protocol.ts';
import { readRates } from './estimator.ts';
import { addrFromU32 } from './addr.ts';
import { type DestProxyProtocol, type ProxyProtocolVersion, effectiveProxyProtocol } from './proxy-protocol.ts';

export interface StatsSnapshot {
  readonly counters: Counters;
  readonly rates: Rates;
}

export interface DestSnapshot {
  /** Numeric address text (no brackets). */
  readonly addr: string;
  readonly family: 4 | 6;
  readonly port: number;
  readonly fwd: FwdMethod;
  readonly weight: number;
  readonly uThreshold: number;
  readonly lThreshold: number;
  readonly activeConns: number;
  readonly inactConns: number;
  readonly persistConns: number;
  readonly overloaded: boolean;
  readonly tunnel: TunnelOptions | null;
  /** keepvs: the dest's own PROXY protocol choice ('none' = off; null = its service's). */
  readonly proxyProtocol?: DestProxyProtocol;
  /** keepvs: the PROXY protocol header this dest's connections get (null = none). */
  readonly effectiveProxyProtocol?: ProxyProtocolVersion | null;
  readonly stats: StatsSnapshot;
}

export interface ServiceSnapshot {
  /** 'addr' services have protocol/vip/port; 'fwmark' services have fwmark (port 0). */
  readonly kind: 'addr' | 'fwmark';
  readonly protocol: Protocol | null;
  readonly vip: string | null;
  readonly port: number;
  readonly fwmark: number;
  readonly family: 4 | 6;
  readonly scheduler: string;
  /** SVC_F bits (PERSISTENT 0x1, ONEPACKET 0x4, SCHED1..3 0x8/0x10/0x20). */
  readonly flags: number;
  /** Persistence timeout in seconds (meaningful when flags has PERSISTENT). */
  readonly timeout: number;
  /** IPv4: dotted netmask text; IPv6: prefix length as text. */
  readonly netmask: string;
  readonly pe: string | null;
  /** keepvs: the PROXY protocol default of the service's dests (null = none). */
  readonly proxyProtocol?: ProxyProtocolVersion | null;
  /** keepvs: the exact (core-decided) path is forced on a kernel data plane (ServiceOptions.exactPath); present only when true. */
  readonly exactPath?: boolean;
  readonly stats: StatsSnapshot;
  /** Kernel list order (newest first). */
  readonly dests: readonly DestSnapshot[];
}

export interface ConnSnapshot {
  readonly protocol: ConnProtocol;
  readonly family: 4 | 6;
  readonly caddr: string;
  readonly cport: number;
  readonly vaddr: string;
  readonly vport: number;
  readonly daddr: string;
  readonly dport: number;
  /** IPVS state name: ESTABLISHED, SYN_RECV, …, UDP, NONE (templates). */
  readonly state: string;
  /** Milliseconds until expiry. */
  readonly expiresInMs: number;
  readonly template: boolean;
  readonly inPkts: number;
  readonly outPkts: number;
  readonly inBytes: number;
  readonly outBytes: number;
}

export interface TimeoutsSnapshot {
  readonly tcp: number;
  readonly tcpfin: number;
  readonly udp: number;
}

export interface InfoSnapshot {
  /** IP_VS_VERSION_CODE as "1.2.1". */
  readonly ipvsVersion: string;
  /** Connection table size shown in the banner (size=4096). */
  readonly connTableSize: number;
  readonly keepvsVersion: string;
  readonly dataplane: string;
}

// ---------------------------------------------------------------- builders


function statsSnapshot(s: Stats): StatsSnapshot {
  return { counters: { ...s.counters }, rates: readRates(s) };
}

export function destSnapshot(d: Dest): DestSnapshot {
  return {
    addr: d.addr.text, family: d.addr.family, port: d.port, fwd: d.fwd, weight: d.weight,
    uThreshold: d.uThreshold, lThreshold: d.lThreshold, activeConns: d.activeConns, inactConns: d.inactConns,
    persistConns: d.persistConns, overloaded: d.overloaded, tunnel: d.tunnel ?? null,
    proxyProtocol: d.proxyProtocol, effectiveProxyProtocol: effectiveProxyProtocol(d.proxyProtocol, d.svc.options.proxyProtocol),
    stats: statsSnapshot(d.stats),
  };
}

export function serviceSnapshot(svc: Service): ServiceSnapshot {
  const k = svc.key;
  const o = svc.options;
  return {
    kind: k.kind,
    protocol: k.kind === 'addr' ? k.protocol : null,
    vip: k.kind === 'addr' ? k.vip.text : null,
    port: svc.port,
    fwmark: svc.fwmark,
    family: svc.family,
    scheduler: o.scheduler,
    flags: o.flags,
    timeout: o.timeout,
    netmask: svc.family === 4 ? addrFromU32(o.netmask).text : String(o.netmask),
    pe: o.pe,
    proxyProtocol: o.proxyProtocol ?? null,
    ...(o.exactPath === true ? { exactPath: true } : {}),
    stats: statsSnapshot(svc.stats),
    dests: svc.dests.map(destSnapshot),
  };
}

export function connSnapshot(c: Conn, now: number): ConnSnapshot {
  return {
    protocol: c.protocol, family: c.caddr.family,
    caddr: c.caddr.text, cport: c.cport, vaddr: c.vaddr.text, vport: c.vport, daddr: c.daddr.text, dport: c.dport,
    state: connStateName(c), expiresInMs: Math.max(0, c.expires - now), template: (c.flags & CONN_F.TEMPLATE) !== 0,
    inPkts: c.inPkts, outPkts: c.outPkts, inBytes: c.inBytes, outBytes: c.outBytes,
  };
}

export function servicesSnapshot(d: Director): ServiceSnapshot[] {
  return d.services().map(serviceSnapshot);
}

export function connectionsSnapshot(d: Director, now: number): ConnSnapshot[] {
  const out: ConnSnapshot[] = [];
  for (const c of d.conns.values()) out.push(connSnapshot(c, now));
  return out;
}
