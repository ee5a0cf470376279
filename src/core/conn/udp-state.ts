// The IPVS UDP "state machine" (net/netfilter/ipvs/ip_vs_proto_udp.c): one state, NORMAL, named "UDP",
// whose timeout every packet re-arms. UDP never moves a conn to active, so UDP conns stay counted
// in InActConn for their whole life (the dest's conn_flags always carry INACTIVE).
import type { Conn, ConnDirection } from './conn.ts';
import { assureControl } from './tcp-state.ts';

/** include/net/ip_vs.h: IP_VS_UDP_S_NORMAL. */
export const UDP_S = { NORMAL: 0 } as const;
export const UDP_S_LAST = 1;

export const UDP_STATE_NAMES: readonly string[] = ['UDP'];

/** udp_timeouts[], in seconds: 5 minutes; --set's third value changes it. */
export const UDP_DEFAULT_TIMEOUTS_S: readonly number[] = [5 * 60];

export function udpStateName(state: number): string {
  if (state >= UDP_S_LAST || state < 0) return 'ERR!';
  return UDP_STATE_NAMES[state];
}

/**
 * One datagram (udp_state_transition): the timeout is reset to NORMAL's; a reply (OUTPUT) assures the
 * controlling persistence template. NOOUTPUT is left alone, unlike TCP and SCTP.
 */
export function setUdpState(c: Conn, direction: ConnDirection, timeoutsMs: readonly number[]): void {
  c.timeout = timeoutsMs[UDP_S.NORMAL];
  if (direction === 'output') assureControl(c);
}
