// The Ethernet frames a new MASTER sends for its addresses, byte for byte as keepalived builds them
// (vrrp_arp.c send_gratuitous_arp_immediate, vrrp_ndisc.c ndisc_send_unsolicited_na_immediate):
//  * IPv4: an ARP *request* to the broadcast address, sender = target = the VIP, target MAC
//    ff:ff:ff:ff:ff:ff (not zeros), from the interface's real MAC (samples/vrrp/garp-takeover.txt);
//  * IPv6: an unsolicited Neighbour Advertisement (RFC 4861 §7.2.6) from the VIP to ff02::1
//    (Ethernet 33:33:00:00:00:01), hop limit 255, Override set, Router set when the interface forwards,
//    with a target link-layer address option.
import type { Addr } from '../core/addr.ts';
import { inetChecksum, ipv6PseudoSum } from './checksum.ts';

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const IPPROTO_ICMPV6 = 58;
const ND_NEIGHBOR_ADVERT = 136;
const ND_OPT_TARGET_LINKADDR = 2;
const ALL_NODES = new Uint8Array([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

export function garpFrame(mac: Uint8Array, vip: Addr): Uint8Array {
  if (vip.family !== 4) throw new Error('gratuitous ARP is for IPv4 addresses');
  const f = new Uint8Array(42);
  f.set(BROADCAST, 0);
  f.set(mac, 6);
  f[12] = 0x08; f[13] = 0x06; // ETHERTYPE_ARP
  f[14] = 0x00; f[15] = 0x01; // ARPHRD_ETHER
  f[16] = 0x08; f[17] = 0x00; // ETHERTYPE_IP
  f[18] = 6;
  f[19] = 4;
  f[20] = 0x00; f[21] = 0x01; // ARPOP_REQUEST
  f.set(mac, 22);
  f.set(vip.bytes, 28);
  f.set(BROADCAST, 32);
  f.set(vip.bytes, 38);
  return f;
}

export function unsolicitedNaFrame(mac: Uint8Array, vip: Addr, router: boolean): Uint8Array {
  if (vip.family !== 6) throw new Error('neighbour advertisements are for IPv6 addresses');
  const icmpLen = 24 + 8; // NA header + target (24) and one 8-byte option
  const f = new Uint8Array(14 + 40 + icmpLen);
  f.set([0x33, 0x33, 0, 0, 0, 1], 0);
  f.set(mac, 6);
  f[12] = 0x86; f[13] = 0xdd;
  const ip = 14;
  f[ip] = 0x60;
  f[ip + 4] = icmpLen >> 8;
  f[ip + 5] = icmpLen & 0xff;
  f[ip + 6] = IPPROTO_ICMPV6;
  f[ip + 7] = 255; // NDISC_HOPLIMIT (RFC 4861 §7.1.2)
  f.set(vip.bytes, ip + 8);
  f.set(ALL_NODES, ip + 24);
  const icmp = ip + 40;
  f[icmp] = ND_NEIGHBOR_ADVERT;
  f[icmp + 4] = (router ? 0x80 : 0) | 0x20; // R, O (never S: unsolicited)
  f.set(vip.bytes, icmp + 8);
  f[icmp + 24] = ND_OPT_TARGET_LINKADDR;
  f[icmp + 25] = 1;
  f.set(mac, icmp + 26);
  const sum = inetChecksum(f.subarray(icmp), ipv6PseudoSum(vip.bytes, ALL_NODES, IPPROTO_ICMPV6, icmpLen));
  f[icmp + 2] = sum >> 8;
  f[icmp + 3] = sum & 0xff;
  return f;
}

/** The frame for any virtual address. */
export function announceFrame(mac: Uint8Array, vip: Addr, router: boolean): Uint8Array {
  return vip.family === 4 ? garpFrame(mac, vip) : unsolicitedNaFrame(mac, vip, router);
}
