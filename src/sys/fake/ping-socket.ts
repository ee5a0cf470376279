// A Pinger for tests: answers per address from a table (default: reply).
import type { PingAnswer, Pinger } from '../ping-socket.ts';

export class FakePinger implements Pinger {
  readonly answers = new Map<string, PingAnswer>();
  readonly pinged: string[] = [];

  mode(): 'dgram' {
    return 'dgram';
  }

  async ping(address: string): Promise<PingAnswer> {
    this.pinged.push(address);
    return this.answers.get(address) ?? { verdict: 'reply', message: `echo reply from ${address}` };
  }

  close(): void {}
}
