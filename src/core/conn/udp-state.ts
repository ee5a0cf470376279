// The IPVS UDP "state machine" (net/netfilter/ipvs/ip_vs_proto_udp.c): one state, NORMAL, named "UDP",
// whose timeout every packet re-arms. UDP never moves a conn to active, so UDP conns stay counted
// in InActConn for their whole life (the dest's conn_flags always carry INACTIVE).

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
