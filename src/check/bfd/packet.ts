// BFD control packets (RFC 5880 §4.1), pure: encode, decode, and the reception checks of §6.8.6 as
// keepalived 2.2.7 applies them (keepalived/bfd/bfd.c: bfd_build_packet, bfd_check_packet). Every
// refusal has a named reason that the BFD process counts.
//
//  0                   1                   2                   3
//  |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//  |                       My Discriminator                        |
//  |                      Your Discriminator                       |
//  |                    Desired Min TX Interval (µs)               |
//  |                   Required Min RX Interval (µs)               |
//  |                 Required Min Echo RX Interval (µs)            |
//
// keepalived has no authentication, no echo function and no demand mode of its own, and we follow:
// the A bit is refused once the session is known (see process.ts), echo interval 0, D never set.

export const BFD_VERSION = 1;
/** The mandatory part of a control packet; keepalived sends exactly this (no auth section). */
export const BFD_PACKET_LENGTH = 24;

/** bfd.SessionState values on the wire (RFC 5880 §4.1 "Sta"). */
export const BFD_STATES = ['AdminDown', 'Down', 'Init', 'Up'] as const;
export type BfdState = (typeof BFD_STATES)[number];

/** Diagnostic codes (RFC 5880 §4.1); keepalived accepts 0-8 and refuses the rest. */
export const BFD_DIAGS = [
  'No Diagnostic', 'Control Detection Time Expired', 'Echo Function Failed', 'Neighbor Signaled Session Down',
  'Forwarding Plane Reset', 'Path Down', 'Concatenated Path Down', 'Administratively Down', 'Reverse Concatenated Path Down',
] as const;
export const DIAG = {
  none: 0, expired: 1, echoFailed: 2, neighborDown: 3, forwardingReset: 4, pathDown: 5, concatPathDown: 6, adminDown: 7,
  reverseConcatPathDown: 8,
} as const;

export interface BfdPacket {
  readonly version: number;
  readonly diag: number;
  readonly state: BfdState;
  readonly poll: boolean;
  readonly final: boolean;
  /** C: control plane independent. */
  readonly cpi: boolean;
  /** A: authentication present. */
  readonly auth: boolean;
  /** D: demand mode. */
  readonly demand: boolean;
  /** M: multipoint (reserved, must be 0). */
  readonly multipoint: boolean;
  readonly detectMult: number;
  readonly length: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  /** Microseconds. */
  readonly desiredMinTxUs: number;
  readonly requiredMinRxUs: number;
  readonly requiredMinEchoRxUs: number;
}

/**
 * Why a received datagram is not a usable control packet, in keepalived's order of checks
 * (bfd.c: bfd_check_packet). keepalived refuses a Length field that differs from the datagram size
 * (RFC 5880 only requires it not to exceed it) and a packet with both P and F (RFC 5880 §6.5 says a
 * system must never send one).
 */
export const BFD_DROP_REASONS = {
  'too-short': 'shorter than the 24-byte mandatory section (RFC 5880 §6.8.6)',
  'length-mismatch': 'the Length field differs from the datagram size (keepalived bfd_check_packet)',
  'bad-version': 'version is not 1 (RFC 5880 §6.8.6)',
  'zero-detect-mult': 'Detect Mult is zero (RFC 5880 §6.8.6)',
  multipoint: 'the Multipoint bit is set (RFC 5880 §6.8.6)',
  'zero-my-discriminator': 'My Discriminator is zero (RFC 5880 §6.8.6)',
  'zero-your-discriminator': 'Your Discriminator is zero and State is neither Down nor AdminDown (RFC 5880 §6.8.6)',
  'poll-and-final': 'both Poll and Final are set (keepalived bfd_check_packet)',
  'bad-diag': 'diagnostic code above 8 (keepalived bfd_check_packet)',
  // Checks that need the session (process.ts):
  'no-session': 'no session has Your Discriminator, or none for the source address (RFC 5880 §6.8.6)',
  ttl: 'TTL/hop limit below ttl - max_hops (RFC 5881 §5 GTSM, keepalived bfd_check_packet_ttl)',
  auth: 'the A bit is set but no authentication is configured (RFC 5880 §6.8.6)',
  'admin-down': 'the session is AdminDown (RFC 5880 §6.8.6)',
  truncated: 'the datagram did not fit the receive buffer',
} as const;
export type BfdDropReason = keyof typeof BFD_DROP_REASONS;

export type DecodeResult = { readonly ok: true; readonly packet: BfdPacket } | { readonly ok: false; readonly reason: BfdDropReason };

export function encodeBfd(p: Omit<BfdPacket, 'version' | 'length'> & { version?: number; length?: number }): Uint8Array {
  const b = new Uint8Array(BFD_PACKET_LENGTH);
  const v = new DataView(b.buffer);
  b[0] = (((p.version ?? BFD_VERSION) & 0x7) << 5) | (p.diag & 0x1f);
  b[1] = (BFD_STATES.indexOf(p.state) << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0) | (p.cpi ? 0x08 : 0)
    | (p.auth ? 0x04 : 0) | (p.demand ? 0x02 : 0) | (p.multipoint ? 0x01 : 0);
  b[2] = p.detectMult & 0xff;
  b[3] = p.length ?? BFD_PACKET_LENGTH;
  v.setUint32(4, p.myDiscriminator >>> 0);
  v.setUint32(8, p.yourDiscriminator >>> 0);
  v.setUint32(12, p.desiredMinTxUs >>> 0);
  v.setUint32(16, p.requiredMinRxUs >>> 0);
  v.setUint32(20, p.requiredMinEchoRxUs >>> 0);
  return b;
}

/** Read the fields without judging them (for tests and dumps); null when shorter than 24 bytes. */
export function parseBfd(b: Uint8Array): BfdPacket | null {
  if (b.length < BFD_PACKET_LENGTH) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    version: b[0] >> 5,
    diag: b[0] & 0x1f,
    state: BFD_STATES[b[1] >> 6],
    poll: (b[1] & 0x20) !== 0,
    final: (b[1] & 0x10) !== 0,
    cpi: (b[1] & 0x08) !== 0,
    auth: (b[1] & 0x04) !== 0,
    demand: (b[1] & 0x02) !== 0,
    multipoint: (b[1] & 0x01) !== 0,
    detectMult: b[2],
    length: b[3],
    myDiscriminator: v.getUint32(4),
    yourDiscriminator: v.getUint32(8),
    desiredMinTxUs: v.getUint32(12),
    requiredMinRxUs: v.getUint32(16),
    requiredMinEchoRxUs: v.getUint32(20),
  };
}

/** Parse and apply the session-independent reception checks. */
export function decodeBfd(b: Uint8Array): DecodeResult {
  const p = parseBfd(b);
  if (!p) return { ok: false, reason: 'too-short' };
  if (p.length !== b.length) return { ok: false, reason: 'length-mismatch' };
  if (p.version !== BFD_VERSION) return { ok: false, reason: 'bad-version' };
  if (p.detectMult === 0) return { ok: false, reason: 'zero-detect-mult' };
  if (p.multipoint) return { ok: false, reason: 'multipoint' };
  if (p.myDiscriminator === 0) return { ok: false, reason: 'zero-my-discriminator' };
  if (p.yourDiscriminator === 0 && p.state !== 'Down' && p.state !== 'AdminDown') return { ok: false, reason: 'zero-your-discriminator' };
  if (p.poll && p.final) return { ok: false, reason: 'poll-and-final' };
  if (p.diag >= BFD_DIAGS.length) return { ok: false, reason: 'bad-diag' };
  return { ok: true, packet: p };
}

/** One line for logs and tests: "Up P mult 3 my 0x1e757ba8 your 0x6778a608 tx 100000 rx 100000". */
export function formatBfd(p: BfdPacket): string {
  const flags = [p.poll && 'P', p.final && 'F', p.cpi && 'C', p.auth && 'A', p.demand && 'D', p.multipoint && 'M'].filter(Boolean).join('');
  const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
  return `${p.state}${flags ? ` ${flags}` : ''} diag ${p.diag} mult ${p.detectMult} my ${hex(p.myDiscriminator)} your ${hex(p.yourDiscriminator)}`
    + ` tx ${p.desiredMinTxUs} rx ${p.requiredMinRxUs} echo ${p.requiredMinEchoRxUs}`;
}
