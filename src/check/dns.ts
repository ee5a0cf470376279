// DNS_CHECK (keepalived/check/check_dns.c): one UDP query for `name` (default: the root) of `type`
// (default SOA), recursion desired, random ID, from a connected socket. Replies with another ID or
// without the QR bit are ignored (the wait goes on); the first matching reply decides: RCODE 0 is
// success — keepalived does not look at the answer section. An ICMP error on the socket, or no
// reply within connect_timeout, is failure.
import { randomInt } from 'node:crypto';
import type { CheckTarget, DnsCheckSpec } from './spec.ts';
import { DNS_TYPES, KEEPALIVED_DEFAULTS } from './spec.ts';
import { type CheckResult, checkResult } from './result.ts';
import type { CheckSignal } from './cancel.ts';
import { exchangeFailure, udpExchange } from './udp-exchange.ts';

/** dns_make_query: header, QNAME built label by label as keepalived splits on dots, QTYPE, QCLASS IN. */
export function buildQuery(id: number, name: string, type: number): Buffer {
  const parts: number[] = [];
  for (let s = 0; s < name.length; ) {
    let e = name.indexOf('.', s);
    if (e < 0) e = name.length;
    const label = Buffer.from(name.slice(s, e), 'latin1');
    parts.push(label.length, ...label);
    s = e < name.length ? e + 1 : e;
  }
  if (name !== '.') parts.push(0);
  const out = Buffer.alloc(12 + parts.length + 4);
  out.writeUInt16BE(id & 0xffff, 0);
  out.writeUInt16BE(0x0100, 2); // RD
  out.writeUInt16BE(1, 4);
  Buffer.from(parts).copy(out, 12);
  out.writeUInt16BE(type, 12 + parts.length);
  out.writeUInt16BE(1, 14 + parts.length);
  return out;
}

export type ReplyVerdict = 'ignore' | 'ok' | { rcode: number };

export function judgeReply(id: number, msg: Buffer): ReplyVerdict {
  if (msg.length < 12) return 'ignore';
  if (msg.readUInt16BE(0) !== (id & 0xffff)) return 'ignore';
  const flags = msg.readUInt16BE(2);
  if (!(flags & 0x8000)) return 'ignore';
  const rcode = flags & 0xf;
  return rcode === 0 ? 'ok' : { rcode };
}

export async function check(spec: DnsCheckSpec, target: CheckTarget, signal?: CheckSignal): Promise<CheckResult> {
  const started = performance.now();
  const id = randomInt(0, 0x10000);
  const query = buildQuery(id, spec.name ?? KEEPALIVED_DEFAULTS.dns_name, DNS_TYPES[spec.dns_type ?? 'SOA']);
  const a = await udpExchange(target, query, signal, (d) => judgeReply(id, Buffer.from(d.buffer, d.byteOffset, d.length)) !== 'ignore');
  switch (a.verdict) {
    case 'reply': {
      const v = judgeReply(id, Buffer.from(a.data.buffer, a.data.byteOffset, a.data.length));
      return v === 'ok' ? checkResult(true, 'L7OK', 'rcode 0', started) : checkResult(false, 'L7STS', `rcode ${v === 'ignore' ? '?' : v.rcode}`, started);
    }
    case 'timeout': return checkResult(false, 'L7TOUT', 'read timeout from socket', started);
    default: return exchangeFailure(a, started);
  }
}
