// Is a received advertisement valid for this instance? keepalived's vrrp_check_packet (vrrp.c) check for
// check, in keepalived's order, so the same packet is refused for the same (counted) reason. Pure.
import { addrEqual, type Addr, type Family } from '../core/addr.ts';
import { verifyAh } from './ah.ts';
import type { DropReason } from './drop-reasons.ts';
import {
  AH_HEADER_LEN, AUTH_TYPE, IPPROTO_AH, IPPROTO_VRRP, VRRP_AUTH_LEN, VRRP_HEADER_LEN, VRRP_TTL, VRRP_TYPE_ADVERT,
  locateVrrp, parseAhHeader, parseVrrpHeader, readAddrs, vrrpChecksumValid, vrrpMessageLength, type VrrpHeader,
} from './packet.ts';

/** A datagram as the transport hands it over. */
export interface ReceivedPacket {
  readonly family: Family;
  /** IPv4: from the IP header on (raw sockets include it). IPv6: the VRRP message only. */
  readonly data: Uint8Array;
  /** Sender address (recvmsg msg_name). */
  readonly src: Addr;
  /** Destination: the IPv4 header's, or IPV6_PKTINFO's; null when unknown. */
  readonly dst: Addr | null;
  /** TTL (IPv4 header) or hop limit (IPV6_HOPLIMIT); null when unknown (keepalived's -1: not checked). */
  readonly ttl: number | null;
}

export interface UnicastPeer {
  readonly addr: Addr;
  readonly minTtl: number;
  readonly maxTtl: number;
}

/**
 * Old unicast VRRPv3 checksum handling (keepalived `old_unicast_checksum`): before 1.3.6 keepalived put
 * 224.0.0.18 in the pseudo-header even for unicast. `auto`: modern, switching to old on the first such
 * advert received; `never`: modern only; `config`/`detected`: old.
 */
export type ChecksumCompat = 'auto' | 'never' | 'config' | 'detected';

/** What the instance expects; derived from its resolved configuration and run-time state. */
export interface ReceiveExpectations {
  readonly family: Family;
  readonly version: 2 | 3;
  readonly authType: number;
  /** 8 bytes (PASS password / AH key). */
  readonly authData: Uint8Array;
  /** Our advert interval in µs (v2 must match exactly). */
  readonly adverIntUs: number;
  /** The advertised virtual addresses (virtual_ipaddress, not the excluded ones). */
  readonly vips: readonly Addr[];
  readonly unicast: boolean;
  readonly peers: readonly UnicastPeer[];
  readonly checkUnicastSrc: boolean;
  /** IPv4 multicast group (vrrp_mcast_group4), used by the old unicast checksum. */
  readonly mcastGroup4: Addr;
  readonly checksumCompat: ChecksumCompat;
  /** Last AH sequence number accepted (anti-replay); 0 at start. */
  readonly ahSeq: number;
}

export interface CheckedAdvert {
  readonly header: VrrpHeader;
  readonly addrs: readonly Addr[];
  readonly src: Addr;
  /** AH: the sequence number now accepted (to store as the new anti-replay floor). */
  readonly ahSeq: number | null;
  /** True when this advert used the pre-1.3.6 unicast checksum and we switched to it. */
  readonly switchedToOldChecksum: boolean;
}

export type CheckResult =
  | { readonly ok: true; readonly advert: CheckedAdvert }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

function drop(reason: DropReason, detail: string): CheckResult {
  return { ok: false, reason, detail };
}

function isMulticast(a: Addr): boolean {
  return a.family === 4 ? (a.bytes[0] & 0xf0) === 0xe0 : a.bytes[0] === 0xff;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** The VRID of a buffer, for dispatch before the full check; null when too short. */
export function peekVrid(family: Family, data: Uint8Array): number | null {
  const loc = locateVrrp(family, data);
  return loc ? data[loc.vrrpOffset + 1] : null;
}

/**
 * Validate one packet. `checkVipAddr`: compare the address list (keepalived skips it in BACKUP for the
 * same master with skip_check_adv_addr).
 */
export function checkAdvert(pkt: ReceivedPacket, exp: ReceiveExpectations, checkVipAddr: boolean): CheckResult {
  const buf = pkt.data;
  const loc = locateVrrp(exp.family, buf);
  if (!loc) return drop('too_short', `${buf.length} bytes`);
  const hd = parseVrrpHeader(buf, loc.vrrpOffset);
  const ip = loc.ip;
  const wantAh = exp.authType === AUTH_TYPE.ah;
  let expected = 0;
  if (ip) {
    const hasAh = ip.protocol === IPPROTO_AH;
    if (hasAh !== wantAh) {
      return drop('ah_mismatch', hasAh ? 'received AH header but auth type not AH' : 'no AH header but auth type is AH');
    }
    expected = ip.ihl + (wantAh ? AH_HEADER_LEN : 0);
  }
  expected += vrrpMessageLength(hd.version, exp.family, hd.naddr);
  if (buf.length !== expected) {
    return drop('length_mismatch', `packet too ${buf.length > expected ? 'long' : 'short'}, length ${buf.length} and expect ${expected}`);
  }
  if (!exp.unicast && pkt.ttl !== null && pkt.ttl !== VRRP_TTL) {
    return drop('ttl_invalid', `invalid TTL/HL. Received ${pkt.ttl} and expect ${VRRP_TTL}`);
  }
  if (hd.version !== exp.version) return drop('version_mismatch', `wrong version. Received ${hd.version} and expect ${exp.version}`);

  let ahSeq: number | null = null;
  if (exp.version === 2) {
    if (hd.authType !== AUTH_TYPE.none && hd.authType !== AUTH_TYPE.pass && hd.authType !== AUTH_TYPE.ah) {
      return drop('auth_type_invalid', `Invalid auth type: ${hd.authType}`);
    }
    if (hd.authType !== exp.authType) return drop('auth_type_mismatch', `received a ${hd.authType} auth, expecting ${exp.authType}!`);
    if (exp.authType === AUTH_TYPE.pass && ip) {
      // The password is the last 8 bytes of the IP packet (vrrp.c: tot_len - sizeof auth_data).
      const end = ip.totalLength;
      if (end < VRRP_AUTH_LEN || end > buf.length || !bytesEqual(buf.subarray(end - VRRP_AUTH_LEN, end), exp.authData)) {
        return drop('auth_pass_invalid', 'received an invalid passwd!');
      }
    } else if (exp.authType === AUTH_TYPE.ah && ip) {
      const ah = parseAhHeader(buf, loc.ahOffset);
      if (ah.nextHeader !== IPPROTO_VRRP) return drop('ah_not_vrrp', `AH next header ${ah.nextHeader}`);
      const verdict = verifyAh(buf, ip.ihl, exp.authData, exp.unicast);
      if (verdict !== 'ok') return drop(verdict === 'icv_invalid' ? 'ah_icv_invalid' : 'ah_spi_invalid', verdict === 'icv_invalid' ? 'IPSEC-AH : invalid IPSEC HMAC-MD5 value' : 'invalid IPSEC SPI value');
      if (!(ah.seq > exp.ahSeq)) return drop('ah_replay', `IPSEC-AH : sequence number ${ah.seq} already processed. Local(${exp.ahSeq})`);
      ahSeq = ah.seq;
    }
    if (exp.adverIntUs !== hd.adverInt * 1_000_000) {
      return drop('interval_mismatch', `advertisement interval mismatch mine=${exp.adverIntUs / 1_000_000} sec rcv'd=${hd.adverInt} sec`);
    }
  }
  if (hd.type !== VRRP_TYPE_ADVERT) return drop('type_invalid', `Invalid packet type. ${hd.type} and expect ${VRRP_TYPE_ADVERT}`);
  if (checkVipAddr && hd.naddr !== exp.vips.length) {
    return drop('addr_count_mismatch', `received an unexpected ip number count ${hd.naddr}, expected ${exp.vips.length}!`);
  }
  if (ip && ip.totalLength !== buf.length) {
    return drop('ip_length_mismatch', `ip_tot_len mismatch against received length. ${ip.totalLength} and received ${buf.length}`);
  }

  const msgStart = loc.vrrpOffset;
  let switched = false;
  if (ip) {
    const msgLen = VRRP_HEADER_LEN + hd.naddr * 4 + (exp.version === 2 ? VRRP_AUTH_LEN : 0);
    const msg = buf.subarray(msgStart, msgStart + msgLen);
    if (exp.version === 3) {
      const oldStyle = exp.checksumCompat === 'config' || exp.checksumCompat === 'detected';
      const dst = oldStyle ? exp.mcastGroup4 : ip.dst;
      if (!vrrpChecksumValid(3, 4, msg, { src: ip.src, dst })) {
        const retry = exp.unicast && exp.checksumCompat === 'auto' && !addrEqual(ip.dst, exp.mcastGroup4)
          && vrrpChecksumValid(3, 4, msg, { src: ip.src, dst: exp.mcastGroup4 });
        if (!retry) return drop('checksum_invalid', 'Invalid VRRPv3 checksum');
        switched = true;
      }
    } else if (!vrrpChecksumValid(2, 4, msg, null)) {
      return drop('checksum_invalid', 'Invalid VRRPv2 checksum');
    }
  } else if (pkt.dst) {
    // IPv6: the kernel already verified it (IPV6_CHECKSUM on the read socket); this repeats the check for
    // packets that did not come through a kernel socket (fakes, replays).
    const msg = buf.subarray(0, vrrpMessageLength(hd.version, 6, hd.naddr));
    if (!vrrpChecksumValid(hd.version, 6, msg, { src: pkt.src, dst: pkt.dst })) return drop('checksum_invalid', `Invalid VRRPv${hd.version} checksum`);
  }

  const dst = ip ? ip.dst : pkt.dst;
  const multicast = dst ? isMulticast(dst) : !exp.unicast;
  if (multicast === exp.unicast) {
    return drop('cast_mismatch', `Expected ${exp.unicast ? 'un' : 'mult'}icast packet but received ${exp.unicast ? 'mult' : 'un'}icast packet`);
  }

  const addrs = readAddrs(exp.family, buf, msgStart + VRRP_HEADER_LEN, hd.naddr);
  const src = ip ? ip.src : pkt.src;
  if (checkVipAddr) {
    for (const vip of exp.vips) {
      if (!addrs.some((a) => addrEqual(a, vip))) {
        return drop('addr_list_mismatch', `ip address associated with VRID ${hd.vrid} not present in MASTER advert: ${vip.text}`);
      }
    }
    if (exp.unicast && exp.checkUnicastSrc) {
      const peer = exp.peers.find((p) => addrEqual(p.addr, pkt.src));
      if (!peer) return drop('unicast_src_not_peer', `unicast source address ${pkt.src.text} not a unicast peer`);
      if (pkt.ttl !== null && (pkt.ttl < peer.minTtl || pkt.ttl > peer.maxTtl)) {
        return drop('unicast_ttl_out_of_range', `TTL/HL ${pkt.ttl} not in range ${peer.minTtl} - ${peer.maxTtl}`);
      }
    }
  }
  return { ok: true, advert: { header: hd, addrs, src, ahSeq, switchedToOldChecksum: switched } };
}
