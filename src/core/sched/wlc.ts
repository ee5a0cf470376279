// Weighted least-connection: ip_vs_wlc.c. The walk starts from the first dest that is not OVERLOAD
// and has weight > 0, then lets every later non-OVERLOAD dest D replace the current least L when
// (__s64)overhead(L) * w(D) > (__s64)overhead(D) * w(L) — i.e. the smallest overhead/weight, the
// earlier dest on a tie. Weight-0 dests are not skipped in that second loop, they just never win
// while overheads are non-negative. The overhead is the kernel's int (include/net/ip_vs.h:
// (activeconns << 8) + inactconns); past 2^23 active conns it wraps negative and a weight-0 dest
// then does win — for that (irregular) state the kernel's walk itself is used.
import type { Dest } from '../dest.ts';
import type { SchedulerFactory } from './scheduler.ts';
import { type LeastLoadRule, leastLoadScheduler, loadPerWeightBeats } from './least-load-index.ts';

/** include/net/ip_vs.h: ip_vs_dest_conn_overhead, as the int it returns. */
export function connOverhead(d: Dest): number {
  return ((d.activeConns << 8) + d.inactConns) | 0;
}

/** ip_vs_wlc.c, step by step. */
function wlcScan(list: readonly Dest[]): Dest | null {
  let i = 0;
  const n = list.length;
  while (i < n && (list[i].overloaded || list[i].weight <= 0)) i++;
  if (i === n) return null;
  let least = list[i];
  let loh = connOverhead(least);
  for (i++; i < n; i++) {
    const d = list[i];
    if (d.overloaded) continue;
    const doh = connOverhead(d);
    if (loadPerWeightBeats(loh, least.weight, doh, d.weight)) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

const WLC_RULE: LeastLoadRule = {
  order: 'load-per-weight',
  eligible: (d) => !d.overloaded && d.weight > 0,
  load: connOverhead,
  irregular: (d) => !d.overloaded && d.weight === 0 && connOverhead(d) < 0,
  scan: wlcScan,
  describe: (d) => `overhead ${connOverhead(d)} / weight ${d.weight}`,
};

export const createWlc: SchedulerFactory = (svc) => leastLoadScheduler('wlc', WLC_RULE, svc);
