// TCP_CHECK (keepalived/check/check_tcp.c): success when connect() completes within
// connect_timeout. By default the connection then ends with an RST rather than a FIN, as HAProxy's
// checks do: no data was exchanged, and 10 000 checks a second would otherwise leave 600 000
// TIME_WAIT sockets on the director; the connector also reuses the socket (src/sys/tcp-connect.ts).
// keepalived closes normally (a FIN): the health checker's probeClose 'graceful' does the same. The
// verdict is identical either way; only what the real server's application sees differs (ECONNRESET
// instead of end of file). The net fallback below (no koffi) always resets.
import net from 'node:net';
import type { CheckTarget, TcpCheckSpec } from './spec.ts';
import { type CheckResult, checkResult } from './result.ts';
import type { CheckSignal } from './cancel.ts';
import { connectFailure, unsupportedOption } from './connect.ts';
import type { TcpConnector } from '../sys/tcp-connect.ts';

/**
 * With a connector (src/sys/tcp-connect.ts, the health checker's default) the connect is a bare
 * socket through koffi, which also honours bind_if and fwmark; without one, Node's net.
 */
export function check(_spec: TcpCheckSpec, target: CheckTarget, signal?: CheckSignal, connector?: TcpConnector | null): Promise<CheckResult> {
  const started = performance.now();
  if (connector) return viaConnector(connector, target, signal, started);
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

const OK_STATUS = 'connected';

function viaConnector(connector: TcpConnector, target: CheckTarget, signal: CheckSignal | undefined, started: number): Promise<CheckResult> {
  return connector.connect(target, signal).then((a) => {
    switch (a.verdict) {
      case 'connected': return checkResult(true, 'L4OK', OK_STATUS, started);
      case 'timeout': return checkResult(false, 'L4TOUT', `connect timeout after ${target.connectTimeoutMs} ms`, started);
      case 'refused': return checkResult(false, 'L4CON', a.detail, started);
      case 'aborted': return checkResult(false, 'ABORTED', a.detail, started);
      default: return checkResult(false, 'SOCKERR', `socket setup: ${a.detail}`, started);
    }
  });
}
