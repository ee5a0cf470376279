// UDP_CHECK (keepalived/check/check_udp.c, core/layer4.c: udp_bind_connect, udp_socket_state):
// send `payload` (hex; 32 filler bytes when absent) from a connected socket and wait
// connect_timeout. An ICMP unreachable (the socket error ECONNREFUSED/EHOSTUNREACH…) is failure.
// Without require_reply, silence is success. With require_reply a reply must arrive, its length
// must be within [min_reply_length, max_reply_length] and its first min(len, pattern length)
// bytes must equal the pattern, where X nibbles match anything; a bare require_reply accepts any
// reply.
import type { CheckTarget, UdpCheckSpec } from './spec.ts';
import { KEEPALIVED_DEFAULTS, parseHex } from './spec.ts';
import { type CheckResult, checkResult } from './result.ts';
import type { CheckSignal } from './cancel.ts';
import { exchangeFailure, udpExchange } from './udp-exchange.ts';

/** keepalived fills an absent payload with a repeating pattern (lib/utils.c: set_buf); any bytes do. */
export const FILLER_PAYLOAD = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x41 + (i % 26)));

export function replyMatches(spec: UdpCheckSpec, reply: Uint8Array): boolean {
  // Without reply bytes keepalived compares nothing, not even the length (check_udp_reply runs
  // only when require_reply named data).
  if (!spec.require_reply) return true;
  const min = spec.min_reply_length ?? KEEPALIVED_DEFAULTS.min_reply_length;
  const max = spec.max_reply_length ?? KEEPALIVED_DEFAULTS.max_reply_length;
  if (reply.length < min || reply.length > max) return false;
  const pattern = parseHex(spec.require_reply, true);
  if (!pattern) return false;
  const n = Math.min(reply.length, pattern.data.length);
  for (let i = 0; i < n; i++) {
    const care = pattern.mask ? ~pattern.mask[i] & 0xff : 0xff;
    if ((reply[i] ^ pattern.data[i]) & care) return false;
  }
  return true;
}

export async function check(spec: UdpCheckSpec, target: CheckTarget, signal?: CheckSignal): Promise<CheckResult> {
  const started = performance.now();
  const payload = spec.payload ? Buffer.from(parseHex(spec.payload, false)?.data ?? FILLER_PAYLOAD) : FILLER_PAYLOAD;
  const needReply = spec.require_reply !== undefined;
  // Any datagram ends the wait (keepalived reads one); it must match when a reply is required.
  const a = await udpExchange(target, payload, signal);
  switch (a.verdict) {
    case 'reply':
      if (!needReply || replyMatches(spec, a.data)) return checkResult(true, needReply ? 'L7OK' : 'L4OK', `reply of ${a.data.length} bytes`, started);
      return checkResult(false, 'L7RSP', `reply of ${a.data.length} bytes does not match`, started);
    case 'timeout':
      return needReply
        ? checkResult(false, 'L7TOUT', `no reply within ${target.connectTimeoutMs} ms`, started)
        : checkResult(true, 'L4OK', 'no ICMP error within connect_timeout', started);
    default: return exchangeFailure(a, started);
  }
}
