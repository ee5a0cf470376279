// A FrameSender for tests: keeps every frame with its interface index.
import type { FrameSender } from '../garp.ts';

export class FakeFrameSender implements FrameSender {
  readonly sent: { ifindex: number; frame: Uint8Array }[] = [];
  closed = false;

  send(ifindex: number, frame: Uint8Array): void {
    if (this.closed) throw new Error('closed');
    this.sent.push({ ifindex, frame: Uint8Array.from(frame) });
  }

  close(): void {
    this.closed = true;
  }
}
