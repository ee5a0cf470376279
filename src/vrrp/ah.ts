// VRRPv2 `auth_type AH`: an IPsec Authentication Header (RFC 2402) between the IPv4 header and the VRRP
// message, with an HMAC-MD5-96 ICV keyed by the 8 `auth_pass` bytes (RFC 2403). This is keepalived's
// own scheme (vrrp.c vrrp_build_ipsecah / vrrp_update_pkt / vrrp_in_chk_ipsecah, vrrp_ipsecah.c): the SPI
// is the sender's IPv4 address, the sequence number starts at 1 and rises with every advert, and the
// ICV covers the IP header with its mutable fields zeroed (TOS, fragment word, header checksum, and the
// TTL when unicast) followed by the AH header (ICV zeroed) and the VRRP message.
import { createHmac } from 'node:crypto';
import { AH_HEADER_LEN, IPPROTO_AH, IPPROTO_VRRP, IPV4_HEADER_LEN, encodeIpv4, type Ipv4Spec } from './packet.ts';

/** RFC 2402 §2.2: payload length in 32-bit words minus 2, for a 96-bit ICV. */
const AH_PAYLOAD_LEN = 4;
/** HMAC-MD5-96 (RFC 2403 §2). */
const ICV_LEN = 12;

function icv(key: Uint8Array, covered: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('md5', key).update(covered).digest().subarray(0, ICV_LEN));
}

/** The bytes the ICV covers: a copy of header+AH+payload with the mutable fields cleared. */
function covered(packet: Uint8Array, ihl: number, unicast: boolean): Uint8Array {
  const c = Uint8Array.from(packet);
  c[1] = 0; // TOS
  c[6] = 0; // flags + fragment offset
  c[7] = 0;
  c[10] = 0; // header checksum
  c[11] = 0;
  if (unicast) c[8] = 0; // TTL may change on a routed unicast path
  c.fill(0, ihl + 12, ihl + 12 + ICV_LEN);
  return c;
}

/**
 * A complete IPv4 packet: header (protocol 51) + AH + VRRP message. `key` is the 8-byte auth data;
 * `seq` the sequence number for this advert.
 */
export function encodeAhPacket(ip: Omit<Ipv4Spec, 'protocol'>, seq: number, key: Uint8Array, vrrp: Uint8Array, unicast: boolean): Uint8Array {
  const ah = new Uint8Array(AH_HEADER_LEN + vrrp.length);
  ah[0] = IPPROTO_VRRP;
  ah[1] = AH_PAYLOAD_LEN;
  ah.set(ip.src.bytes, 4); // SPI = source address (keepalived's choice for multicast SAs)
  ah[8] = (seq >>> 24) & 0xff;
  ah[9] = (seq >>> 16) & 0xff;
  ah[10] = (seq >>> 8) & 0xff;
  ah[11] = seq & 0xff;
  ah.set(vrrp, AH_HEADER_LEN);
  const packet = encodeIpv4({ ...ip, protocol: IPPROTO_AH }, ah);
  packet.set(icv(key, covered(packet, IPV4_HEADER_LEN, unicast)), IPV4_HEADER_LEN + 12);
  return packet;
}

export type AhVerdict = 'ok' | 'icv_invalid' | 'spi_invalid';

/** Check the ICV and SPI of a received AH packet (`packet` from the IPv4 header to the end). */
export function verifyAh(packet: Uint8Array, ihl: number, key: Uint8Array, unicast: boolean): AhVerdict {
  const got = packet.subarray(ihl + 12, ihl + 12 + ICV_LEN);
  const want = icv(key, covered(packet, ihl, unicast));
  let diff = 0;
  for (let i = 0; i < ICV_LEN; i++) diff |= got[i] ^ want[i];
  if (diff !== 0) return 'icv_invalid';
  for (let i = 0; i < 4; i++) if (packet[ihl + 4 + i] !== packet[12 + i]) return 'spi_invalid';
  return 'ok';
}
