// Sending whole Ethernet frames (gratuitous ARP, unsolicited NA) on an interface: an AF_PACKET
// SOCK_RAW socket with protocol 0, which receives nothing, and sendto() with a sockaddr_ll naming the
// interface index (keepalived vrrp_arp.c send_arp, vrrp_ndisc.c ndisc_send_na). Needs CAP_NET_RAW.
import { AF_PACKET, SysError, errno, libc } from './raw-socket.ts';

const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;

export interface FrameSender {
  /** Send one frame on the interface with this index; throws SysError. */
  send(ifindex: number, frame: Uint8Array): void;
  close(): void;
}

export function openFrameSender(): FrameSender {
  const L = libc();
  const fd = Number(L.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd < 0) throw new SysError('socket(AF_PACKET)', errno());
  let closed = false;
  return {
    send(ifindex, frame) {
      if (closed) throw new SysError('sendto', 9, 'frame sender closed');
      // struct sockaddr_ll { u16 family; be16 protocol; int ifindex; u16 hatype; u8 pkttype; u8 halen; u8 addr[8]; }
      const sll = Buffer.alloc(20);
      sll.writeUInt16LE(AF_PACKET, 0);
      sll.writeUInt16BE((frame[12] << 8) | frame[13], 2);
      sll.writeInt32LE(ifindex, 4);
      sll.writeUInt16LE(1, 8); // ARPHRD_ETHER
      sll[11] = 6;
      sll.set(frame.subarray(0, 6), 12);
      const n = Number(L.sendto(fd, frame, frame.length, 0, sll, sll.length));
      if (n < 0) throw new SysError('sendto(AF_PACKET)', errno(), `ifindex ${ifindex}`);
    },
    close() {
      if (closed) return;
      closed = true;
      L.close(fd);
    },
  };
}
