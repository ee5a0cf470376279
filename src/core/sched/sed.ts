// Shortest expected delay: ip_vs_sed.c. The same walk as wlc (first non-OVERLOAD dest with weight
// > 0, then strict `(__s64)loh * w(D) > (__s64)doh * w(L)` over the later non-OVERLOAD dests) with
// the overhead activeconns + 1 (inactive conns ignored). Only an int wrap of activeconns + 1 could
// make a weight-0 dest win; that state falls back to the kernel's walk.
import type { Dest } from '../dest.ts';
import type { SchedulerFactory } from './scheduler.ts';
import { type LeastLoadRule, leastLoadScheduler, loadPerWeightBeats } from './least-load-index.ts';

/** ip_vs_sed.c: ip_vs_sed_dest_overhead, an int. */
export function expectedDelayOverhead(d: Dest): number {
  return (d.activeConns + 1) | 0;
}

/** ip_vs_sed.c, step by step. */
function sedScan(list: readonly Dest[]): Dest | null {
  let i = 0;
  const n = list.length;
  while (i < n && (list[i].overloaded || list[i].weight <= 0)) i++;
  if (i === n) return null;
  let least = list[i];
  let loh = expectedDelayOverhead(least);
  for (i++; i < n; i++) {
    const d = list[i];
    if (d.overloaded) continue;
    const doh = expectedDelayOverhead(d);
    if (loadPerWeightBeats(loh, least.weight, doh, d.weight)) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

const SED_RULE: LeastLoadRule = {
  order: 'load-per-weight',
  eligible: (d) => !d.overloaded && d.weight > 0,
  load: expectedDelayOverhead,
  irregular: (d) => !d.overloaded && d.weight === 0 && expectedDelayOverhead(d) < 0,
  scan: sedScan,
  describe: (d) => `expected delay (${d.activeConns} active + 1) / weight ${d.weight}`,
};

export const createSed: SchedulerFactory = (svc) => leastLoadScheduler('sed', SED_RULE, svc);
