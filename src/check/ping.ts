// PING_CHECK (keepalived/check/check_ping.c): one ICMP (IPv4) or ICMPv6 echo request; success is
// the matching echo reply within connect_timeout. The sockets live in src/sys/ping-socket.ts.
import type { CheckTarget, PingCheckSpec } from './spec.ts';
import { type CheckResult, checkResult } from './result.ts';
import type { CheckSignal } from './cancel.ts';
import type { Pinger } from '../sys/ping-socket.ts';

export async function check(_spec: PingCheckSpec, target: CheckTarget, signal: CheckSignal | undefined, pinger: Pinger): Promise<CheckResult> {
  const started = performance.now();
  // check_ping.c sets bind_if and bindto (not fwmark) on its socket.
  const bind = target.bindIf || target.bindto ? { bindIf: target.bindIf, bindto: target.bindto } : undefined;
  const a = await pinger.ping(target.address, target.connectTimeoutMs, signal, bind);
  switch (a.verdict) {
    case 'reply': return checkResult(true, 'L4OK', a.message, started);
    case 'timeout': return checkResult(false, 'L4TOUT', a.message, started);
    case 'unreachable': return checkResult(false, 'L4CON', a.message, started);
    case 'aborted': return checkResult(false, 'ABORTED', a.message, started);
    default: return checkResult(false, 'SOCKERR', a.message, started);
  }
}
