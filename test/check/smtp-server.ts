// A tiny SMTP server on 127.0.0.1 for tests: answers each command with a scripted code, records
// the transcript and every message body it accepts.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TinySmtp {
  readonly port: number;
  /** Every line the client sent, in order (the DATA body as one entry). */
  readonly received: string[];
  readonly messages: string[];
  close(): Promise<void>;
}

/** `codes`: the reply code per command word (HELO, MAIL, RCPT, DATA, BODY, QUIT); default success. */
export async function tinySmtp(codes: Partial<Record<string, number>> = {}): Promise<TinySmtp> {
  const received: string[] = [];
  const messages: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    sock.setEncoding('latin1');
    // A multi-line greeting, as real servers send, to exercise the continuation rule.
    sock.write('220-tiny.test ESMTP\r\n220 ready\r\n');
    let buf = '';
    let inData = false;
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          const body = buf.slice(0, end + 5);
          buf = buf.slice(end + 5);
          received.push(body);
          messages.push(body);
          inData = false;
          sock.write(`${codes.BODY ?? 250} ok\r\n`);
          continue;
        }
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const line = buf.slice(0, eol);
        buf = buf.slice(eol + 2);
        received.push(line);
        const word = line.split(/[ :]/)[0].toUpperCase();
        const code = codes[word] ?? (word === 'DATA' ? 354 : word === 'QUIT' ? 221 : 250);
        sock.write(`${code} ${word.toLowerCase()}\r\n`);
        if (word === 'DATA' && code === 354) inData = true;
        if (word === 'QUIT') sock.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    messages,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}
