// One datagram exchange for the UDP checkers (DNS_CHECK, UDP_CHECK), as keepalived's layer4.c
// udp_bind_connect + udp_socket_state do it: a connected socket (bindto/bind_port applied), send the
// payload, wait connect_timeout for a datagram `accept` takes (DNS skips replies to other queries).
// A connected UDP socket hears the peer's ICMP unreachable as a socket error ('refused'); a bind that
// fails is 'setup'. With fwmark or bind_if the socket comes from src/sys/bound-socket.ts (Node's dgram
// cannot set SO_MARK / SO_BINDTODEVICE); both paths give the same answers, so each checker judges them once.
import dgram from 'node:dgram';
import type { CheckTarget } from './spec.ts';
import type { CheckSignal } from './cancel.ts';
import { type CheckResult, checkResult } from './result.ts';
import { boundTarget, needsBoundSocket } from './bound.ts';
import { type DatagramAnswer, boundUdpExchange } from '../sys/bound-socket.ts';

const anyReply = (): boolean => true;

export function udpExchange(
  target: CheckTarget, payload: Uint8Array, signal?: CheckSignal, accept: (data: Uint8Array) => boolean = anyReply,
): Promise<DatagramAnswer> {
  if (needsBoundSocket(target)) return boundUdpExchange(boundTarget(target), payload, target.connectTimeoutMs, signal, accept);
  return new Promise((resolve) => {
    let done = false;
    const sock = dgram.createSocket(target.family === 6 ? 'udp6' : 'udp4');
    const finish = (a: DatagramAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      try { sock.close(); } catch { /* closed */ }
      resolve(a);
    };
    const timer = setTimeout(() => finish({ verdict: 'timeout' }), target.connectTimeoutMs);
    const onAbort = () => finish({ verdict: 'aborted' });
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      const setup = e.code === 'EADDRINUSE' || e.code === 'EADDRNOTAVAIL';
      finish({ verdict: setup ? 'setup' : 'refused', error: e });
    });
    sock.on('message', (msg) => {
      if (accept(msg)) finish({ verdict: 'reply', data: msg });
    });
    const go = () => sock.connect(target.port, target.address, () => sock.send(payload));
    if (target.bindto || target.bindPort) sock.bind({ address: target.bindto, port: target.bindPort ?? 0 }, go);
    else go();
  });
}

/** The verdicts every UDP checker judges alike: cancelled, an ICMP error, a socket that could not be set up. */
export function exchangeFailure(a: Extract<DatagramAnswer, { verdict: 'aborted' | 'refused' | 'setup' }>, started: number): CheckResult {
  switch (a.verdict) {
    case 'aborted': return checkResult(false, 'ABORTED', 'aborted', started);
    case 'refused': return checkResult(false, 'L4CON', `socket: ${a.error.code ?? 'EIO'}`, started);
    case 'setup': return checkResult(false, 'SOCKERR', `socket setup: ${a.error.code ?? a.error.message}`, started);
  }
}
