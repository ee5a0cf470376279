// An in-memory Ethernet segment for raw VRRP sockets, driven by a FakeClock: what one host sends reaches
// every other host's matching socket `latencyUs` later, like the kernel would deliver it (a socket
// bound to a multicast group gets packets to that group; one bound to a unicast address gets packets
// to that address; IPv6 gets the checksum the kernel would compute, IPV6_CHECKSUM offset 6). Hosts can
// be cut off (link down, crash) and packets can be injected (forgeries, floods).
import { type Datagram, type RawSocketOptions, type VrrpSocket, addrBytes } from '../raw-socket.ts';
import type { FakeClock } from './clock.ts';

function sum16(b: Uint8Array, acc: number): number {
  let s = acc;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i] << 8) | b[i + 1];
  if (b.length & 1) s += b[b.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** What the kernel does with IPV6_CHECKSUM 6 on send. */
function ipv6Checksum(src: Uint8Array, dst: Uint8Array, proto: number, msg: Uint8Array): Uint8Array {
  const out = Uint8Array.from(msg);
  out[6] = 0;
  out[7] = 0;
  const ph = new Uint8Array(40);
  ph.set(src, 0);
  ph.set(dst, 16);
  ph[35] = msg.length & 0xff;
  ph[34] = (msg.length >> 8) & 0xff;
  ph[39] = proto;
  const c = ~sum16(out, sum16(ph, 0)) & 0xffff;
  out[6] = c >> 8;
  out[7] = c & 0xff;
  return out;
}

interface Endpoint {
  readonly host: FakeLanHost;
  readonly o: RawSocketOptions;
  readonly cb: (d: Datagram) => void;
  open: boolean;
}

export interface SentPacket {
  readonly from: string;
  readonly dst: string;
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly atUs: number;
}

export class FakeLanHost {
  readonly name: string;
  readonly lan: FakeLan;
  /** Addresses this host holds (first = primary); tests add VIPs here through the fake ip runner. */
  addrs: () => string[];
  /** False = cable pulled / crashed: nothing in, nothing out. */
  connected = true;

  constructor(lan: FakeLan, name: string, addrs: () => string[]) {
    this.lan = lan;
    this.name = name;
    this.addrs = addrs;
  }

  openVrrpSocket(o: RawSocketOptions, cb: (d: Datagram) => void): VrrpSocket {
    const ep: Endpoint = { host: this, o, cb, open: true };
    this.lan.endpoints.push(ep);
    return {
      send: (packet, dst) => {
        if (!ep.open) throw new Error('socket closed');
        this.lan.transmit(ep, packet, dst);
      },
      close: async () => {
        ep.open = false;
      },
    };
  }
}

export class FakeLan {
  readonly clock: FakeClock;
  readonly latencyUs: number;
  readonly endpoints: Endpoint[] = [];
  readonly sent: SentPacket[] = [];

  constructor(clock: FakeClock, latencyUs = 200) {
    this.clock = clock;
    this.latencyUs = latencyUs;
  }

  host(name: string, addrs: () => string[]): FakeLanHost {
    return new FakeLanHost(this, name, addrs);
  }

  private source(ep: Endpoint): string {
    const fam = ep.o.family;
    return ep.o.localAddress ?? ep.host.addrs().find((a) => (fam === 4 ? !a.includes(':') : a.startsWith('fe80'))) ?? (fam === 4 ? '0.0.0.0' : '::');
  }

  transmit(from: Endpoint, packet: Uint8Array, dst: string): void {
    if (!from.host.connected) throw new Error('ENETDOWN');
    const family = from.o.family;
    const src = family === 4 ? `${packet[12]}.${packet[13]}.${packet[14]}.${packet[15]}` : this.source(from);
    const bytes = family === 4 ? Uint8Array.from(packet) : ipv6Checksum(addrBytes(src), addrBytes(dst), from.o.protocol, packet);
    this.sent.push({ from: from.host.name, dst, family, bytes, atUs: this.clock.now() });
    this.deliver(from.host, family, from.o.protocol, src, dst, bytes, 255);
  }

  /** Put a datagram on the wire as if `srcText` sent it (forgeries, floods). */
  inject(family: 4 | 6, protocol: number, srcText: string, dst: string, bytes: Uint8Array, hopLimit = 255): void {
    this.deliver(null, family, protocol, srcText, dst, bytes, hopLimit);
  }

  private deliver(from: FakeLanHost | null, family: 4 | 6, protocol: number, src: string, dst: string, bytes: Uint8Array, hop: number): void {
    const at = this.clock.now() + this.latencyUs;
    for (const ep of this.endpoints) {
      if (!ep.open || ep.host === from || ep.o.family !== family || ep.o.protocol !== protocol) continue;
      const o = ep.o;
      const match = o.multicastGroup ? o.multicastGroup === dst : o.localAddress ? o.localAddress === dst : ep.host.addrs().includes(dst);
      if (!match) continue;
      this.clock.setTimer(at, () => {
        if (!ep.open || !ep.host.connected) return;
        ep.cb({
          data: Uint8Array.from(bytes),
          src: addrBytes(src),
          dst: family === 6 ? addrBytes(dst) : null,
          hopLimit: family === 6 ? hop : null,
          truncated: false,
        });
      });
    }
  }
}
