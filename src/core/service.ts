// A virtual service: (protocol, VIP, port) or (fwmark, family), its options and its dests in the
// kernel's list order (ip_vs_ctl.c: a new dest is list_add_rcu'd right after the head, so the
// newest dest comes first; every tie-break and table layout depends on it).
import { type Addr, type Family, endpointText } from './addr.ts';
import type { Dest } from './dest.ts';
import { Stats } from './stats.ts';
import type { Scheduler, SchedulerName } from './sched/scheduler.ts';
import type { ProxyProtocolVersion } from './proxy-protocol.ts';

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** IANA protocol numbers: ipvsadm sorts services by them (TCP 6 < UDP 17 < SCTP 132). */
export const PROTOCOL_NUMBER: Readonly<Record<Protocol, number>> = { tcp: 6, udp: 17, sctp: 132 };

export type ServiceKey =
  | { readonly kind: 'addr'; readonly protocol: Protocol; readonly vip: Addr; readonly port: number }
  | { readonly kind: 'fwmark'; readonly fwmark: number; readonly family: Family };

/** include/uapi/linux/ip_vs.h: service flags. */
export const SVC_F = {
  PERSISTENT: 0x1,
  HASHED: 0x2,
  ONEPACKET: 0x4,
  SCHED1: 0x8,
  SCHED2: 0x10,
  SCHED3: 0x20,
} as const;

/** libipvs.h: IPVS_SVC_PERSISTENT_TIMEOUT (6*60) — the code's default, not the man page's 300. */
export const DEFAULT_PERSISTENT_TIMEOUT = 360;
/** ipvsadm.c: MAX_TIMEOUT, 31 days. */
export const MAX_TIMEOUT = 86400 * 31;

export interface ServiceOptions {
  readonly scheduler: SchedulerName;
  /** SVC_F bits: PERSISTENT, ONEPACKET, SCHED1..3. */
  readonly flags: number;
  /** Persistence timeout in seconds (used when PERSISTENT is set). */
  readonly timeout: number;
  /** Persistence granularity: IPv4 netmask as a host-order u32, or an IPv6 prefix length. */
  readonly netmask: number;
  /** Persistence engine ('sip') or null. */
  readonly pe: string | null;
  /**
   * keepvs: the PROXY protocol header sent to this service's real servers by default (a dest may
   * choose otherwise, see Dest.proxyProtocol); null or absent = none.
   */
  readonly proxyProtocol?: ProxyProtocolVersion | null;
  /**
   * keepvs: the exact path — a kernel data plane (nft) sends every new connection's first packet to
   * the core even when the scheduler could run in the kernel. The proxy plane decides every
   * connection in the core anyway and ignores it. Absent = false.
   */
  readonly exactPath?: boolean;
}

export function serviceFamily(key: ServiceKey): Family {
  return key.kind === 'addr' ? key.vip.family : key.family;
}

/** A stable map key for a service. */
export function serviceKeyId(key: ServiceKey): string {
  return key.kind === 'addr'
    ? `${key.protocol}|${key.vip.text}|${key.port}`
    : `fwm|${key.fwmark}|${key.family}`;
}

/** How ipvsadm -n names a service: "TCP  10.0.0.1:80" / "FWM  1" (without the padding rules). */
export function serviceKeyText(key: ServiceKey): string {
  return key.kind === 'addr'
    ? `${key.protocol.toUpperCase()} ${endpointText(key.vip, key.port)}`
    : `FWM ${key.fwmark}${key.family === 6 ? ' IPv6' : ''}`;
}

/** The dest identity inside a service: (RIP, port). */
export function destKeyId(addr: Addr, port: number): string {
  return `${addr.text}|${port}`;
}

export class Service {
  readonly key: ServiceKey;
  readonly id: string;
  options: ServiceOptions;
  /** Kernel list order: index 0 is the list head (the newest dest). */
  dests: Dest[] = [];
  /** (RIP, port) -> dest, so add/edit/delete stay O(1) at 10 000 dests. */
  readonly destIndex = new Map<string, Dest>();
  scheduler!: Scheduler;
  readonly stats = new Stats();

  constructor(key: ServiceKey, options: ServiceOptions) {
    this.key = key;
    this.id = serviceKeyId(key);
    this.options = options;
  }

  get family(): Family {
    return serviceFamily(this.key);
  }

  /** The service port; 0 for fwmark services (svc->port is 0 there). */
  get port(): number {
    return this.key.kind === 'addr' ? this.key.port : 0;
  }

  get fwmark(): number {
    return this.key.kind === 'fwmark' ? this.key.fwmark : 0;
  }

  get persistent(): boolean {
    return (this.options.flags & SVC_F.PERSISTENT) !== 0;
  }

  get onePacket(): boolean {
    return (this.options.flags & SVC_F.ONEPACKET) !== 0;
  }

  hasFlag(flag: number): boolean {
    return (this.options.flags & flag) !== 0;
  }

  findDest(addr: Addr, port: number): Dest | undefined {
    return this.destIndex.get(destKeyId(addr, port));
  }
}
