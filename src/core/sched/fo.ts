// Weighted failover: ip_vs_fo.c. The walk returns the non-OVERLOAD dest with the highest weight
// (`weight > hw` with hw starting at 0, so weight-0 dests never qualify and the earlier of equal
// weights stays). Kept in a LeastLoadIndex ordered by weight, so a pick costs O(1).
import type { SchedulerFactory } from './scheduler.ts';
import { type LeastLoadRule, leastLoadScheduler } from './least-load-index.ts';

const FO_RULE: LeastLoadRule = {
  order: 'weight',
  eligible: (d) => !d.overloaded && d.weight > 0,
  load: () => 0,
  describe: (d) => `highest weight ${d.weight}`,
};

export const createFo: SchedulerFactory = (svc) => leastLoadScheduler('fo', FO_RULE, svc);
