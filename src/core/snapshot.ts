// Plain, JSON-ready views of the director for the API, keepvsadm, metrics and dumps. Everything a
// listing prints comes from here, so ipvsadm's text can be produced far from the live objects.
import type { Counters, Rates } from './stats.ts';
import type { FwdMethod, TunnelOptions } from './dest.ts';
import type { Protocol } from './service.ts';
import type { ConnProtocol } from './conn/conn.ts';

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
