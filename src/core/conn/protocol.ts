// Per-protocol dispatch for connection entries (net/netfilter/ipvs/ip_vs_proto.c and ip_vs_core.c:
// ip_vs_set_state): which state machine a packet drives, which states count as active, and the
// state name an entry is listed with. The tables themselves live in tcp-state.ts, sctp-state.ts
// and udp-state.ts.
import { type Conn, type ConnDirection, type ConnProtocol, CONN_F } from './conn.ts';
import { connActivity } from '../dest.ts';
import { TCP_FLAG, TCP_S, tcpStateActive, tcpStateName, tcpTransition } from './tcp-state.ts';
import { SCTP_S, type SctpEvent, sctpEvent, sctpStateActive, sctpStateName, sctpTransition } from './sctp-state.ts';
import { UDP_S, udpStateName } from './udp-state.ts';
import type { Timeouts } from './timeouts.ts';

/** The TCP flags of a segment the state machine reads (the others do not matter to it). */
export interface TcpFlags {
  readonly syn?: boolean;
  readonly fin?: boolean;
  readonly ack?: boolean;
  readonly rst?: boolean;
}

/**
 * What the state machines read from one packet: TCP flags for TCP; for SCTP the type of the first
 * chunk and of the chunk after it (absent = DATA). UDP reads nothing.
 */
export interface ConnPacket extends TcpFlags {
  readonly sctpChunk?: number;
  readonly sctpNextChunk?: number;
}

export function tcpFlagBits(f: TcpFlags): number {
  return (f.syn ? TCP_FLAG.SYN : 0) | (f.fin ? TCP_FLAG.FIN : 0) | (f.ack ? TCP_FLAG.ACK : 0) | (f.rst ? TCP_FLAG.RST : 0);
}

function sctpEventOf(p: ConnPacket): SctpEvent {
  return p.sctpChunk === undefined ? sctpEvent(0) : sctpEvent(p.sctpChunk, p.sctpNextChunk);
}

/** ip_vs_conn.c: ip_vs_conn_new starts every entry in state 0 (TCP/SCTP NONE, UDP NORMAL). */
export function connInitialState(_protocol: ConnProtocol): number {
  return 0;
}

/** Whether an entry in this state counts in ActiveConn (TCP: ES, SYN_SENT, SYN_RECV, SYNACK; SCTP: ES; UDP never). */
export function isActiveState(protocol: ConnProtocol, state: number): boolean {
  switch (protocol) {
    case 'tcp': return tcpStateActive(state);
    case 'sctp': return sctpStateActive(state);
    default: return false;
  }
}

/**
 * The state and timeout one packet would give an entry, changing nothing. NOOUTPUT is read from
 * c.flags as it is before the packet (an OUTPUT packet uses the OUTPUT table either way).
 */
export function connTransition(
  c: Conn,
  direction: ConnDirection,
  packet: ConnPacket,
  timeouts: Timeouts,
): { readonly state: number; readonly timeoutMs: number } {
  const noOutput = (c.flags & CONN_F.NOOUTPUT) !== 0;
  switch (c.protocol) {
    case 'tcp': {
      const state = tcpTransition(c.state, direction, noOutput, tcpFlagBits(packet));
      return { state, timeoutMs: timeouts.tcp[state] };
    }
    case 'sctp': {
      const state = sctpTransition(c.state, direction, noOutput, sctpEventOf(packet));
      return { state, timeoutMs: timeouts.sctp[state] };
    }
    case 'udp':
      return { state: c.state, timeoutMs: timeouts.udp[UDP_S.NORMAL] };
    default:
      return { state: c.state, timeoutMs: c.timeout };
  }
}

/** What one packet did to an entry's state (for logs and the director's bookkeeping). */
export interface StateChange {
  readonly from: number;
  readonly to: number;
}

/**
 * One packet on an entry, with every side effect the kernel's state_transition has (ip_vs_core.c:
 * ip_vs_set_state → set_tcp_state / set_sctp_state / udp_state_transition):
 * - TCP, SCTP: the first OUTPUT packet clears NOOUTPUT; before that, input uses the INPUT_ONLY table;
 * - TCP, SCTP: on a state change, the INACTIVE flag and the dest's active/inactive counts follow the
 *   new state (only while bound to a dest), and entering ESTABLISHED assures the controlling template;
 * - UDP: a reply (OUTPUT) assures the template; the state stays NORMAL;
 * - c.timeout becomes the new state's timeout.
 * Templates and fwmark ('ip') entries have no state machine and are left alone. The caller then
 * re-arms the entry with ConnTable.rearm(c, now + c.timeout) (ip_vs_conn_put).
 */
export function setConnState(c: Conn, direction: ConnDirection, packet: ConnPacket, timeouts: Timeouts): StateChange {
  const from = c.state;
  if ((c.flags & CONN_F.TEMPLATE) !== 0) return { from, to: from };
  if (c.protocol === 'udp') {
    c.timeout = timeouts.udp[UDP_S.NORMAL];
    if (direction === 'output') assureControl(c);
    return { from, to: from };
  }
  if (c.protocol !== 'tcp' && c.protocol !== 'sctp') return { from, to: from };
  let noOutput = (c.flags & CONN_F.NOOUTPUT) !== 0;
  if (noOutput && direction === 'output') {
    c.flags &= ~CONN_F.NOOUTPUT;
    noOutput = false;
  }
  const isTcp = c.protocol === 'tcp';
  const to = isTcp
    ? tcpTransition(from, direction, noOutput, tcpFlagBits(packet))
    : sctpTransition(from, direction, noOutput, sctpEventOf(packet));
  if (to !== from) {
    applyActivity(c, isTcp ? tcpStateActive(to) : sctpStateActive(to));
    if (to === (isTcp ? TCP_S.ESTABLISHED : SCTP_S.ESTABLISHED)) assureControl(c);
  }
  c.state = to;
  c.timeout = (isTcp ? timeouts.tcp : timeouts.sctp)[to];
  return { from, to };
}

// set_tcp_state / set_sctp_state: the INACTIVE flag and the dest's counts move together, and only
// while the entry is bound to a dest.
function applyActivity(c: Conn, active: boolean): void {
  const d = c.dest;
  if (!d) return;
  const inactive = (c.flags & CONN_F.INACTIVE) !== 0;
  if (!inactive && !active) {
    c.flags |= CONN_F.INACTIVE;
    connActivity(d, false);
  } else if (inactive && active) {
    c.flags &= ~CONN_F.INACTIVE;
    connActivity(d, true);
  }
}

// include/net/ip_vs.h: ip_vs_control_assure_ct — the controlling template gets IP_VS_CTPL_S_ASSURED
// (state bit 0, listed as "ASSURED").
function assureControl(c: Conn): void {
  const ct = c.control;
  if (ct && (ct.flags & CONN_F.TEMPLATE) !== 0) ct.state |= 1;
}

// ip_vs_proto.c: ip_vs_ctpl_state_name_table — templates have their own state space (bit 0 = ASSURED).
const TEMPLATE_STATE_NAMES: readonly string[] = ['NONE', 'ASSURED'];

/** The State column of ipvsadm -L -c and /proc/net/ip_vs_conn (ip_vs_proto.c: ip_vs_state_name). */
export function connStateName(c: Conn): string {
  if ((c.flags & CONN_F.TEMPLATE) !== 0) {
    return c.state >= 0 && c.state < TEMPLATE_STATE_NAMES.length ? TEMPLATE_STATE_NAMES[c.state] : 'ERR!';
  }
  switch (c.protocol) {
    case 'tcp': return tcpStateName(c.state);
    case 'udp': return udpStateName(c.state);
    case 'sctp': return sctpStateName(c.state);
    default: return 'NONE';
  }
}
