// One IPVS connection entry (include/net/ip_vs.h: struct ip_vs_conn), including persistence
// templates, which the kernel keeps in the same table with the TEMPLATE flag.
import type { Addr } from '../addr.ts';
import type { Dest } from '../dest.ts';

/** IPVS protocol of an entry; 'ip' is the protocol of fwmark persistence templates (shown as "IP"). */
export type ConnProtocol = 'tcp' | 'udp' | 'sctp' | 'ip';

/** include/uapi/linux/ip_vs.h: connection flags that the model uses. */
export const CONN_F = {
  NOOUTPUT: 0x80,
  INACTIVE: 0x100,
  NO_CPORT: 0x800,
  TEMPLATE: 0x1000,
  ONE_PACKET: 0x2000,
} as const;

/** Which way a packet travels (ip_vs_proto_tcp.c: state_off INPUT / OUTPUT / INPUT_ONLY). */
export type ConnDirection = 'input' | 'output';

export interface Conn {
  readonly protocol: ConnProtocol;
  /** Client address and port (template: masked client network, port 0). */
  readonly caddr: Addr;
  readonly cport: number;
  /** Virtual address and port (fwmark template: the mark as an IPv4 address, port 0). */
  readonly vaddr: Addr;
  vport: number;
  /** Real server address and port. */
  readonly daddr: Addr;
  dport: number;
  /** The dest this entry is bound to; null once unbound. */
  dest: Dest | null;
  /** CONN_F bits. */
  flags: number;
  /** State index into the protocol's state table (TCP: ip_vs_proto_tcp.c order; UDP/'ip': 0). */
  state: number;
  /** Current timeout in ms; every packet re-arms the entry for this long. */
  timeout: number;
  /** Absolute expiry time in ms on the caller's clock. */
  expires: number;
  /** The persistence template that controls this entry (ip_vs_control_add), if any. */
  control: Conn | null;
  /** How many entries this template controls (cp->n_control). */
  nControl: number;
  /** Packets and bytes seen on this entry, both directions. */
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
  /** Position bookkeeping owned by the connection table; do not touch. */
  slot: number;
}

export function isTemplate(c: Conn): boolean {
  return (c.flags & CONN_F.TEMPLATE) !== 0;
}
