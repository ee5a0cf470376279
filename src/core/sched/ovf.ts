// Overflow: ip_vs_ovf.c. The walk skips OVERLOAD dests, weight-0 dests and dests whose active
// conns exceed their weight, and keeps the highest weight among the rest (`!h || w > hw`: the
// earlier of equal weights stays). The heaviest dest fills up to `weight` active conns, then
// traffic spills to the next. Kept in a LeastLoadIndex ordered by weight.
import type { SchedulerFactory } from './scheduler.ts';
import { type LeastLoadRule, leastLoadScheduler } from './least-load-index.ts';

const OVF_RULE: LeastLoadRule = {
  order: 'weight',
  eligible: (d) => !d.overloaded && !(d.activeConns > d.weight) && d.weight !== 0,
  load: () => 0,
  describe: (d) => `highest weight ${d.weight} with ${d.activeConns} active`,
};

export const createOvf: SchedulerFactory = (svc) => leastLoadScheduler('ovf', OVF_RULE, svc);
