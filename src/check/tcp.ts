// TCP_CHECK (keepalived/check/check_tcp.c): success when connect() completes within
// connect_timeout. The socket is then closed with an RST (SO_LINGER 0) rather than a FIN, as
// HAProxy's checks do: no data was exchanged, and 10 000 checks a second would otherwise leave
// 600 000 TIME_WAIT sockets on the director. keepalived closes normally; the verdict is the same.
import net from 'node:net';
import type { CheckTarget, TcpCheckSpec } from './spec.ts';
import { type CheckResult, checkResult } from './result.ts';
import { connectFailure, unsupportedOption } from './connect.ts';

export function check(_spec: TcpCheckSpec, target: CheckTarget, signal?: AbortSignal): Promise<CheckResult> {
  const started = performance.now();
  const unsupported = unsupportedOption(target, started);
  if (unsupported) return Promise.resolve(unsupported);
  return new Promise((resolve) => {
    let done = false;
    const sock = net.connect({
      host: target.address, port: target.port, family: target.family,
      localAddress: target.bindto, localPort: target.bindPort, noDelay: false,
    });
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const timer = setTimeout(() => {
      sock.destroy();
      finish(checkResult(false, 'L4TOUT', `connect timeout after ${target.connectTimeoutMs} ms`, started));
    }, target.connectTimeoutMs);
    const onAbort = () => {
      sock.destroy();
      finish(checkResult(false, 'ABORTED', 'aborted', started));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => {
      sock.resetAndDestroy();
      finish(checkResult(true, 'L4OK', 'connected', started));
    });
    sock.once('error', (e: NodeJS.ErrnoException) => finish(connectFailure(e, started)));
  });
}
