// The IPVS SCTP state machine (net/netfilter/ipvs/ip_vs_proto_sctp.c): states as seen from the real
// server, the event taken from the first chunk of a packet, and one transition table per direction
// (INPUT, OUTPUT, INPUT_ONLY). Only ESTABLISHED counts as active. Pure tables and lookups;
// protocol.ts applies them to an entry.
import type { ConnDirection } from './conn.ts';

/** include/net/ip_vs.h: enum ip_vs_sctp_states. */
export const SCTP_S = {
  NONE: 0,
  INIT1: 1,
  INIT: 2,
  COOKIE_SENT: 3,
  COOKIE_REPLIED: 4,
  COOKIE_WAIT: 5,
  COOKIE: 6,
  COOKIE_ECHOED: 7,
  ESTABLISHED: 8,
  SHUTDOWN_SENT: 9,
  SHUTDOWN_RECEIVED: 10,
  SHUTDOWN_ACK_SENT: 11,
  REJECTED: 12,
  CLOSED: 13,
} as const;
export const SCTP_S_LAST = 14;

/** sctp_state_name_table: the short names listings print. */
export const SCTP_STATE_NAMES: readonly string[] = [
  'NONE', 'INIT1', 'INIT', 'C-SENT', 'C-REPLIED', 'C-WAIT', 'COOKIE', 'C-ECHOED',
  'ESTABLISHED', 'S-SENT', 'S-RECEIVED', 'S-ACK-SENT', 'REJECTED', 'CLOSED',
];

// IP_VS_SCTP_MAX_RTO: the longest RTO (60 s) plus one second.
const MAX_RTO = 61;
/** sctp_timeouts[], in seconds. INIT1 and REJECTED are short so dropped or refused INITs go quickly. */
export const SCTP_DEFAULT_TIMEOUTS_S: readonly number[] = [
  2, 4, MAX_RTO, MAX_RTO, MAX_RTO, MAX_RTO, MAX_RTO, MAX_RTO,
  15 * 60, MAX_RTO, MAX_RTO, MAX_RTO, 4, MAX_RTO,
];

/** enum ipvs_sctp_event_t: the table row a packet selects. */
export const SCTP_EVENT = {
  DATA: 0,
  INIT: 1,
  INIT_ACK: 2,
  COOKIE_ECHO: 3,
  COOKIE_ACK: 4,
  SHUTDOWN: 5,
  SHUTDOWN_ACK: 6,
  SHUTDOWN_COMPLETE: 7,
  ERROR: 8,
  ABORT: 9,
} as const;
export type SctpEvent = (typeof SCTP_EVENT)[keyof typeof SCTP_EVENT];

/** RFC 9260 §3.2 chunk type numbers the table distinguishes. */
export const SCTP_CHUNK = {
  DATA: 0, INIT: 1, INIT_ACK: 2, SACK: 3, HEARTBEAT: 4, HEARTBEAT_ACK: 5, ABORT: 6, SHUTDOWN: 7,
  SHUTDOWN_ACK: 8, ERROR: 9, COOKIE_ECHO: 10, COOKIE_ACK: 11, ECNE: 12, CWR: 13, SHUTDOWN_COMPLETE: 14,
} as const;

// sctp_events[]: chunk types 0..14; any other type (FORWARD-TSN, AUTH, ASCONF, ...) counts as DATA.
const E = SCTP_EVENT;
const EVENT_OF_CHUNK: readonly SctpEvent[] = [
  E.DATA, E.INIT, E.INIT_ACK, E.DATA, E.DATA, E.DATA, E.ABORT, E.SHUTDOWN,
  E.SHUTDOWN_ACK, E.ERROR, E.COOKIE_ECHO, E.COOKIE_ACK, E.DATA, E.DATA, E.SHUTDOWN_COMPLETE,
];

/**
 * The event of a packet (set_sctp_state): its first chunk, except that a COOKIE ECHO or COOKIE ACK
 * followed by an ABORT chunk counts as ABORT. `nextChunkType` is the type of the chunk right after
 * the first one, when the packet has one.
 */
export function sctpEvent(firstChunkType: number, nextChunkType?: number): SctpEvent {
  let type = firstChunkType;
  if ((type === SCTP_CHUNK.COOKIE_ECHO || type === SCTP_CHUNK.COOKIE_ACK) && nextChunkType === SCTP_CHUNK.ABORT) {
    type = SCTP_CHUNK.ABORT;
  }
  return type >= 0 && type < EVENT_OF_CHUNK.length ? EVENT_OF_CHUNK[type] : E.DATA;
}

export function sctpStateName(state: number): string {
  if (state >= SCTP_S_LAST || state < 0) return 'ERR!';
  return SCTP_STATE_NAMES[state];
}

export function sctpStateActive(state: number): boolean {
  return state === SCTP_S.ESTABLISHED;
}

const I1 = SCTP_S.INIT1, IN = SCTP_S.INIT, CS = SCTP_S.COOKIE_SENT;
const CR = SCTP_S.COOKIE_REPLIED, CW = SCTP_S.COOKIE_WAIT, CO = SCTP_S.COOKIE, CE = SCTP_S.COOKIE_ECHOED;
const ES = SCTP_S.ESTABLISHED, SS = SCTP_S.SHUTDOWN_SENT, SR = SCTP_S.SHUTDOWN_RECEIVED;
const SA = SCTP_S.SHUTDOWN_ACK_SENT, RJ = SCTP_S.REJECTED, CL = SCTP_S.CLOSED;

type SctpTable = 'input' | 'output' | 'input-only';

// sctp_states[direction][event][state]; rows in SCTP_EVENT order (data, init, init-ack, cookie-echo,
// cookie-ack, shutdown, shutdown-ack, shutdown-complete, error, abort); columns in state index order.
const TABLES: Readonly<Record<SctpTable, readonly (readonly number[])[]>> = {
  input: [
    [ES, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [I1, IN, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, IN, IN],
    [CW, CW, CW, CS, CR, CO, CO, CE, ES, SS, SR, SA, RJ, CL],
    [CR, IN, IN, CR, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [ES, I1, IN, CS, CR, CW, CO, ES, ES, SS, SR, SA, RJ, CL],
    [SR, I1, IN, CS, CR, CW, CO, CE, SR, SS, SR, SA, RJ, CL],
    [CL, IN, IN, CS, CR, CW, CO, CE, ES, CL, SR, CL, RJ, CL],
    [CL, CL, CL, CS, CR, CW, CO, CE, ES, SS, SR, CL, RJ, CL],
    [CL, I1, IN, CS, CR, CW, CO, CL, ES, SS, SR, SA, RJ, CL],
    [CL, CL, CL, CL, CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL],
  ],
  output: [
    [ES, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [CW, CW, CW, CW, CW, CW, CW, CW, ES, CW, CW, CW, CW, CW],
    [CS, CS, CS, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [CE, CE, CE, CE, CE, CE, CE, CE, ES, SS, SR, SA, RJ, CL],
    [ES, ES, ES, ES, ES, ES, ES, ES, ES, SS, SR, SA, RJ, CL],
    [SS, SS, SS, SS, SS, SS, SS, SS, SS, SS, SR, SA, RJ, CL],
    [SA, SA, SA, SA, SA, CW, CO, CE, ES, SA, SA, SA, RJ, CL],
    [CL, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [CL, CL, CL, CL, CL, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL],
  ],
  'input-only': [
    [ES, I1, IN, CS, CR, ES, CO, CE, ES, SS, SR, SA, RJ, CL],
    [I1, IN, IN, IN, IN, IN, CO, CE, ES, SS, SR, SA, IN, IN],
    [CE, CE, CE, CE, CE, CE, CO, CE, ES, SS, SR, SA, RJ, CL],
    [ES, ES, ES, ES, ES, ES, CO, CE, ES, SS, SR, SA, RJ, CL],
    [ES, I1, IN, ES, ES, CW, ES, ES, ES, SS, SR, SA, RJ, CL],
    [SR, I1, IN, CS, CR, CW, CO, CE, SR, SS, SR, SA, RJ, CL],
    [CL, IN, IN, CS, CR, CW, CO, CE, CL, CL, SR, CL, RJ, CL],
    [CL, CL, CL, CL, CL, CW, CO, CE, ES, SS, CL, CL, RJ, CL],
    [CL, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [CL, CL, CL, CL, CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL],
  ],
};

/** The state after one packet; `noOutput` is the conn's NOOUTPUT flag before it (as for TCP). */
export function sctpTransition(state: number, direction: ConnDirection, noOutput: boolean, event: SctpEvent): number {
  const table: SctpTable = direction === 'output' ? 'output' : noOutput ? 'input-only' : 'input';
  return TABLES[table][event][state];
}
