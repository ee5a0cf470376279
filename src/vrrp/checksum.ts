// The Internet checksum (RFC 1071) as VRRP uses it: RFC 3768 §5.3.8 (v2: over the VRRP message only) and
// RFC 5798 §5.2.8 (v3: over a pseudo-header + the message; IPv4 pseudo-header per RFC 768, IPv6 per
// RFC 2460 §8.1). keepalived computes the same in vrrp.c (vrrp_build_vrrp_v2/_v3, vrrp_check_packet).

/** One's-complement sum of 16-bit big-endian words, not folded or complemented; `acc` chains calls. */
export function onesSum(bytes: Uint8Array, acc = 0): number {
  let sum = acc;
  const n = bytes.length & ~1;
  for (let i = 0; i < n; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  // An odd trailing byte is padded with a zero byte on the right (RFC 1071 §4.1).
  if (bytes.length & 1) sum += bytes[bytes.length - 1] << 8;
  // Fold often enough that the JS number never loses precision.
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The 16-bit checksum value to put in a header: the complement of the folded sum. */
export function inetChecksum(bytes: Uint8Array, acc = 0): number {
  return ~onesSum(bytes, acc) & 0xffff;
}

/** Pseudo-header sum for a VRRPv3-over-IPv4 checksum: src, dst, zero, protocol 112, VRRP length. */
export function ipv4PseudoSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  const ph = new Uint8Array(12);
  ph.set(src, 0);
  ph.set(dst, 4);
  ph[9] = protocol;
  ph[10] = length >> 8;
  ph[11] = length & 0xff;
  return onesSum(ph);
}

/** Pseudo-header sum for IPv6 upper-layer checksums (RFC 2460 §8.1): src, dst, 32-bit length, 3 zero bytes, next header. */
export function ipv6PseudoSum(src: Uint8Array, dst: Uint8Array, nextHeader: number, length: number): number {
  const ph = new Uint8Array(40);
  ph.set(src, 0);
  ph.set(dst, 16);
  ph[32] = (length >>> 24) & 0xff;
  ph[33] = (length >>> 16) & 0xff;
  ph[34] = (length >>> 8) & 0xff;
  ph[35] = length & 0xff;
  ph[39] = nextHeader;
  return onesSum(ph);
}
