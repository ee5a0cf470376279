// The PROXY protocol choice (HAProxy's proxy-protocol.txt, versions 1 and 2) as the model carries
// it: a keepvs extension with no kernel counterpart. A full proxy hides the client's address from
// the real server; the header written before the first byte tells it. A service sets a default for
// its dests; a dest may choose its own version, or 'none' to be left out of the service's default.
// The data planes read the effective value; the codec lives in src/dataplane/proxy/proxy-protocol.ts.
import type { Protocol } from './service.ts';

export type ProxyProtocolVersion = 'v1' | 'v2';

/** A dest's own choice: a version, 'none' (off even when its service has one), or null (inherit). */
export type DestProxyProtocol = ProxyProtocolVersion | 'none' | null;

/** Every value a user may write (keepvsadm --proxy-protocol, the API's "proxyProtocol"). */
export const PROXY_PROTOCOL_CHOICES = ['v1', 'v2', 'none'] as const;
export type ProxyProtocolChoice = (typeof PROXY_PROTOCOL_CHOICES)[number];

export function isProxyProtocolChoice(v: unknown): v is ProxyProtocolChoice {
  return v === 'v1' || v === 'v2' || v === 'none';
}

/** What a dest gets: its own choice when it has one, else its service's; 'none' means off. */
export function effectiveProxyProtocol(
  dest: DestProxyProtocol | undefined,
  service: ProxyProtocolVersion | null | undefined,
): ProxyProtocolVersion | null {
  if (dest === 'none') return null;
  return dest ?? service ?? null;
}

/**
 * Why a choice cannot be used, or null. proxy-protocol.txt §2.1: the v1 text form names only TCP4,
 * TCP6 and UNKNOWN, so it cannot describe a UDP flow; v2 (§2.2) has a DGRAM transport.
 */
export function proxyProtocolProblem(value: unknown, protocol: Protocol | null, allowNone: boolean): string | null {
  if (value === undefined || value === null) return null;
  if (!isProxyProtocolChoice(value) || (value === 'none' && !allowNone)) {
    return `PROXY protocol must be ${allowNone ? 'v1, v2 or none' : 'v1 or v2'}`;
  }
  if (value === 'v1' && protocol === 'udp') return 'PROXY protocol v1 carries TCP only; use v2 for a UDP service';
  return null;
}
