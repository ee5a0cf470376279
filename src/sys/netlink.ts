// Interface and address changes from the kernel: a NETLINK_ROUTE socket subscribed to RTMGRP_LINK and
// the IPv4/IPv6 address groups, read by the shared reader thread. keepalived learns link state the same
// way (vrrp_netlink.c / keepalived_netlink.c) and puts an instance in FAULT the moment its interface
// loses IFF_UP or IFF_RUNNING, which is what makes link-down failover immediate on the other side.
import { AF_NETLINK, SysError, errno, libc, readDatagrams } from './raw-socket.ts';

const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const RTMGRP_LINK = 0x1;
const RTMGRP_IPV4_IFADDR = 0x10;
const RTMGRP_IPV6_IFADDR = 0x100;
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;

export type NetlinkEvent =
  | { readonly kind: 'link'; readonly index: number; readonly name: string | null; readonly up: boolean; readonly deleted: boolean; readonly mac: Uint8Array | null }
  | { readonly kind: 'addr'; readonly index: number; readonly family: number; readonly address: Uint8Array | null; readonly prefixlen: number; readonly deleted: boolean };

function attrs(b: Uint8Array, start: number, end: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let o = start; o + 4 <= end;) {
    const len = dv.getUint16(o, true);
    const type = dv.getUint16(o + 2, true) & 0x3fff;
    if (len < 4 || o + len > end) break;
    out.set(type, b.subarray(o + 4, o + len));
    o += (len + 3) & ~3;
  }
  return out;
}

/** Parse one netlink datagram (several messages) into link/address events. Pure. */
export function parseNetlink(b: Uint8Array): NetlinkEvent[] {
  const out: NetlinkEvent[] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let o = 0; o + 16 <= b.length;) {
    const len = dv.getUint32(o, true);
    const type = dv.getUint16(o + 4, true);
    if (len < 16 || o + len > b.length) break;
    if ((type === RTM_NEWLINK || type === RTM_DELLINK) && len >= 32) {
      const index = dv.getInt32(o + 20, true);
      const flags = dv.getUint32(o + 24, true);
      const a = attrs(b, o + 32, o + len);
      const nameBytes = a.get(IFLA_IFNAME);
      const name = nameBytes ? new TextDecoder().decode(nameBytes).replace(/\0.*$/s, '') : null;
      const mac = a.get(IFLA_ADDRESS);
      out.push({
        kind: 'link', index, name, deleted: type === RTM_DELLINK,
        up: type === RTM_NEWLINK && (flags & (IFF_UP | IFF_RUNNING)) === (IFF_UP | IFF_RUNNING),
        mac: mac && mac.length === 6 ? Uint8Array.from(mac) : null,
      });
    } else if ((type === RTM_NEWADDR || type === RTM_DELADDR) && len >= 24) {
      const family = b[o + 16];
      const prefixlen = b[o + 17];
      const index = dv.getUint32(o + 20, true);
      const a = attrs(b, o + 24, o + len);
      const addr = a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS) ?? null;
      out.push({ kind: 'addr', index, family: family === 2 ? 4 : 6, address: addr ? Uint8Array.from(addr) : null, prefixlen, deleted: type === RTM_DELADDR });
    }
    o += (len + 3) & ~3;
  }
  return out;
}

export interface LinkMonitor {
  close(): Promise<void>;
}

/** Subscribe to link and address changes; `onEvents` gets each datagram's events. */
export function openLinkMonitor(onEvents: (events: NetlinkEvent[]) => void): LinkMonitor {
  const L = libc();
  const fd = Number(L.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (fd < 0) throw new SysError('socket(AF_NETLINK)', errno());
  // struct sockaddr_nl { u16 family; u16 pad; u32 pid; u32 groups; }
  const sa = Buffer.alloc(12);
  sa.writeUInt16LE(AF_NETLINK, 0);
  sa.writeUInt32LE(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR, 8);
  if (Number(L.bind(fd, sa, sa.length)) < 0) {
    const e = errno();
    L.close(fd);
    throw new SysError('bind(AF_NETLINK)', e);
  }
  const stop = readDatagrams(fd, 'netlink', (d) => {
    const ev = parseNetlink(d.data);
    if (ev.length) onEvents(ev);
  });
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      await stop();
      L.close(fd);
    },
  };
}
