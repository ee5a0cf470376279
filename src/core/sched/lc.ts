// Least-connection: ip_vs_lc.c. The kernel walks the list for the smallest
// ip_vs_dest_conn_overhead (include/net/ip_vs.h: (activeconns << 8) + inactconns, an int that
// ip_vs_lc.c keeps in an unsigned int), skipping OVERLOAD and weight-0 dests; `doh < loh` keeps the
// earlier dest on a tie. Weight plays no other part. The walk is answered by a LeastLoadIndex.
import type { Dest } from '../dest.ts';
import type { SchedulerFactory } from './scheduler.ts';
import { type LeastLoadRule, leastLoadScheduler } from './least-load-index.ts';

/** ip_vs_lc.c: the overhead as the unsigned int the walk compares. */
function lcOverhead(d: Dest): number {
  return ((d.activeConns << 8) + d.inactConns) >>> 0;
}

const LC_RULE: LeastLoadRule = {
  order: 'load',
  eligible: (d) => !d.overloaded && d.weight !== 0,
  load: lcOverhead,
  describe: (d) => `overhead ${lcOverhead(d)} (${d.activeConns} active, ${d.inactConns} inactive)`,
};

export const createLc: SchedulerFactory = (svc) => leastLoadScheduler('lc', LC_RULE, svc);
