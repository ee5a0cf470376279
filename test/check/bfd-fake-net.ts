// An in-memory network for BFD processes under test: each host has an address; senders deliver to
// the neighbour's receiver one millisecond later on the injected clock; links can be cut.
import type { BfdDatagram, BfdNet, BfdSender, BfdSenderOptions } from '../../src/sys/bfd-socket.ts';
import type { ManualClock } from './fake-clock.ts';

export class FakeWire {
  readonly clock: ManualClock;
  readonly receivers = new Map<string, (d: BfdDatagram) => void>();
  /** Pairs "a|b" whose link is down (both directions). */
  readonly cut = new Set<string>();
  /** TTL the wire delivers with (a router would lower it). */
  ttl = 255;
  delivered = 0;

  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  setLink(a: string, b: string, up: boolean): void {
    for (const k of [`${a}|${b}`, `${b}|${a}`]) {
      if (up) this.cut.delete(k);
      else this.cut.add(k);
    }
  }

  /** Hand `data` to `to` as if it came from `from`. */
  inject(from: string, to: string, data: Uint8Array, ttl: number | null = this.ttl): void {
    this.receivers.get(to)?.({ data, src: from, dst: to, ttl, truncated: false });
  }

  host(address: string, failSender = false): BfdNet & { opened: BfdSenderOptions[] } {
    const opened: BfdSenderOptions[] = [];
    return {
      opened,
      openReceiver: (_family, _port, onDatagram) => {
        this.receivers.set(address, onDatagram);
        return { close: async () => { this.receivers.delete(address); } };
      },
      openSender: async (o): Promise<BfdSender> => {
        if (failSender) throw new Error('EADDRNOTAVAIL');
        opened.push(o);
        let closed = false;
        const from = o.source ?? address;
        return {
          localPort: 49152,
          send: async (data) => {
            if (closed) return false;
            if (!this.cut.has(`${from}|${o.neighbor}`)) {
              const copy = data.slice();
              const ttl = o.ttl;
              this.clock.setTimer(() => {
                if (this.cut.has(`${from}|${o.neighbor}`)) return;
                this.delivered++;
                this.inject(from, o.neighbor, copy, Math.min(ttl, this.ttl));
              }, 1);
            }
            return true;
          },
          close: () => { closed = true; },
        };
      },
    };
  }
}
