// Never queue: ip_vs_nq.c. The walk skips OVERLOAD and weight-0 dests and returns at once the first
// dest with no active conns; failing that it keeps the sed choice (activeconns + 1 per weight,
// strict `(__s64)loh * w(D) > (__s64)doh * w(L)`, the earlier dest on a tie). Idle dests form the
// lowest class of one preorder, so the tree's root is the walk's answer.
import type { SchedulerFactory } from './scheduler.ts';
import { type LeastLoadRule, leastLoadScheduler } from './least-load-index.ts';
import { expectedDelayOverhead } from './sed.ts';

const NQ_RULE: LeastLoadRule = {
  order: 'idle-first',
  eligible: (d) => !d.overloaded && d.weight !== 0,
  load: expectedDelayOverhead,
  idle: (d) => d.activeConns === 0,
  describe: (d) =>
    d.activeConns === 0
      ? `idle (0 active) / weight ${d.weight}`
      : `expected delay (${d.activeConns} active + 1) / weight ${d.weight}`,
};

export const createNq: SchedulerFactory = (svc) => leastLoadScheduler('nq', NQ_RULE, svc);
