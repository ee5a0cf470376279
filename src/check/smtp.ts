// SMTP_CHECK (keepalived/check/check_smtp.c: smtp_engine_thread): connect, read the greeting line
// and require status 220, send "HELO <helo_name>\r\n" and require 250, send "QUIT\r\n" and read one
// more line (any). A status is three digits followed by a space or the end of the line. Each wait
// (connect, each line) is bounded by connect_timeout. host{} blocks were expanded into separate
// checkers by resolveVirtualServer, as keepalived does.
import net from 'node:net';
import type { CheckTarget, SmtpCheckSpec } from './spec.ts';
import { KEEPALIVED_DEFAULTS } from './spec.ts';
import { type CheckResult, checkResult } from './result.ts';
import type { CheckSignal } from './cancel.ts';
import { connectFailure } from './connect.ts';
import { boundTarget, needsBoundSocket } from './bound.ts';
import { boundTcpConnect } from '../sys/bound-socket.ts';

/** smtp_get_status: 3 digits then a space or the end of the line ("220\r" is not a status, as in keepalived), else -1. */
export function smtpStatus(line: string): number {
  const m = /^(\d+)/.exec(line);
  if (!m || m[1].length !== 3) return -1;
  const rest = line[3];
  if (rest !== undefined && rest !== ' ') return -1;
  return Number(m[1]);
}

export function check(spec: SmtpCheckSpec, target: CheckTarget, signal?: CheckSignal): Promise<CheckResult> {
  const started = performance.now();
  const helo = spec.helo_name ?? KEEPALIVED_DEFAULTS.helo_name;
  return new Promise((resolve) => {
    let done = false;
    let state: 'connect' | 'banner' | 'helo' | 'quit' = 'connect';
    let buf = '';
    // fwmark / bind_if need socket options net.connect cannot set (src/sys/bound-socket.ts).
    const sock = needsBoundSocket(target)
      ? boundTcpConnect(boundTarget(target))
      : net.connect({ host: target.address, port: target.port, family: target.family, localAddress: target.bindto, localPort: target.bindPort });
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(r);
    };
    let timer = setTimeout(() => onTimeout(), target.connectTimeoutMs);
    const rearm = () => { clearTimeout(timer); timer = setTimeout(() => onTimeout(), target.connectTimeoutMs); };
    const onTimeout = () => finish(state === 'connect'
      ? checkResult(false, 'L4TOUT', `connect timeout after ${target.connectTimeoutMs} ms`, started)
      : checkResult(false, 'L7TOUT', `read timeout (${state})`, started));
    const onAbort = () => finish(checkResult(false, 'ABORTED', 'aborted', started));
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('error', (e: NodeJS.ErrnoException) => finish(state === 'connect' ? connectFailure(e, started) : checkResult(false, 'L7RSP', `${state}: ${e.code ?? e.message}`, started)));
    sock.once('end', () => finish(checkResult(false, 'L7RSP', `connection closed while waiting for ${state}`, started)));
    sock.once('connect', () => { state = 'banner'; rearm(); });
    sock.setEncoding('latin1');
    sock.on('data', (chunk: string) => {
      rearm();
      buf += chunk;
      let nl: number;
      while (!done && (nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = '';
        if (state === 'banner') {
          if (smtpStatus(line) !== 220) return finish(checkResult(false, 'L7STS', `bad greeting banner: ${line.trim()}`, started));
          state = 'helo';
          sock.write(`HELO ${helo}\r\n`);
        } else if (state === 'helo') {
          if (smtpStatus(line) !== 250) return finish(checkResult(false, 'L7STS', `bad HELO response: ${line.trim()}`, started));
          state = 'quit';
          sock.write('QUIT\r\n');
        } else {
          return finish(checkResult(true, 'L7OK', 'greeting 220, HELO 250', started));
        }
      }
    });
  });
}
