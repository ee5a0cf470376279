// The IPVS TCP state machine (net/netfilter/ipvs/ip_vs_proto_tcp.c): state names and indexes, default
// timeouts, which states count as active, the event taken from the TCP flags, and the three transition
// tables (INPUT, OUTPUT, INPUT_ONLY). Pure tables and lookups; protocol.ts applies them to an entry.
// The secure_tcp table (tcp_states_dos, used only while the secure_tcp defence sysctl is on) is not
// modelled: keepvs has no such sysctl.
import type { ConnDirection } from './conn.ts';

/** include/net/ip_vs.h: IP_VS_TCP_S_* — the index is what Conn.state holds. */
export const TCP_S = {
  NONE: 0,
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT: 4,
  TIME_WAIT: 5,
  CLOSE: 6,
  CLOSE_WAIT: 7,
  LAST_ACK: 8,
  LISTEN: 9,
  SYNACK: 10,
} as const;
export type TcpState = (typeof TCP_S)[keyof typeof TCP_S];
/** IP_VS_TCP_S_LAST: one past the last real state. */
export const TCP_S_LAST = 11;

/** Names as ipvsadm -L -c and /proc/net/ip_vs_conn print them (tcp_state_name_table). */
export const TCP_STATE_NAMES: readonly string[] = [
  'NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT',
  'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'SYNACK',
];

/** tcp_timeouts[], in seconds, per state index. --set changes only ESTABLISHED and FIN_WAIT. */
export const TCP_DEFAULT_TIMEOUTS_S: readonly number[] = [
  2, // NONE
  15 * 60, // ESTABLISHED
  2 * 60, // SYN_SENT
  60, // SYN_RECV
  2 * 60, // FIN_WAIT
  2 * 60, // TIME_WAIT
  10, // CLOSE
  60, // CLOSE_WAIT
  30, // LAST_ACK
  2 * 60, // LISTEN
  120, // SYNACK
];

// tcp_state_active_table: the kernel counts the pre-established states as active too (a SYN alone
// already makes a conn an ActiveConn), not only ESTABLISHED.
const TCP_ACTIVE: readonly boolean[] = [
  false, true, true, true, false, false, false, false, false, false, true,
];

/** TCP header flag bits (RFC 9293 §3.1), as the data plane hands them over. */
export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

export function tcpStateName(state: number): string {
  if (state >= TCP_S_LAST || state < 0) return 'ERR!';
  return TCP_STATE_NAMES[state];
}

export function tcpStateActive(state: number): boolean {
  return state >= 0 && state < TCP_S_LAST && TCP_ACTIVE[state];
}

/** The row of a transition table a segment selects (tcp_state_idx): RST > SYN > FIN > ACK; -1 = none. */
export function tcpEventIndex(flags: number): -1 | 0 | 1 | 2 | 3 {
  if (flags & TCP_FLAG.RST) return 3;
  if (flags & TCP_FLAG.SYN) return 0;
  if (flags & TCP_FLAG.FIN) return 1;
  if (flags & TCP_FLAG.ACK) return 2;
  return -1;
}

/** Which table a packet uses: the direction, except that input on a NOOUTPUT conn uses INPUT_ONLY. */
export type TcpTable = 'input' | 'output' | 'input-only';

export function tcpTableFor(direction: ConnDirection, noOutput: boolean): TcpTable {
  if (direction === 'output') return 'output';
  return noOutput ? 'input-only' : 'input';
}

const ES = TCP_S.ESTABLISHED, SS = TCP_S.SYN_SENT, SR = TCP_S.SYN_RECV;
const FW = TCP_S.FIN_WAIT, TW = TCP_S.TIME_WAIT, CL = TCP_S.CLOSE, CW = TCP_S.CLOSE_WAIT;
const LA = TCP_S.LAST_ACK, LI = TCP_S.LISTEN;

// tcp_states[]: rows syn, fin, ack, rst; columns are the current state in index order
// (NONE ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN SYNACK).
const TABLES: Readonly<Record<TcpTable, readonly (readonly number[])[]>> = {
  input: [
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
  ],
  output: [
    [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
    [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
    [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
  ],
  'input-only': [
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
  ],
};

/**
 * The state after one segment (set_tcp_state without its side effects). `noOutput` is the conn's
 * NOOUTPUT flag before this packet. A segment with none of RST/SYN/FIN/ACK skips the tables and
 * lands in CLOSE.
 */
export function tcpTransition(state: number, direction: ConnDirection, noOutput: boolean, flags: number): number {
  const idx = tcpEventIndex(flags);
  if (idx < 0) return TCP_S.CLOSE;
  return TABLES[tcpTableFor(direction, noOutput)][idx][state];
}
