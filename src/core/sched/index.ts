// The scheduler table: ipvsadm -s names to factories (kernel: ip_vs_scheduler registrations).
import { createRr } from './rr.ts';
import { createWrr } from './wrr.ts';
import { createLc } from './lc.ts';
import { createWlc } from './wlc.ts';
import { createSed } from './sed.ts';
import { createNq } from './nq.ts';
import { createFo } from './fo.ts';
import { createOvf } from './ovf.ts';
import { createTwos } from './twos.ts';
import { createDh } from './dh.ts';
import { createSh } from './sh.ts';
import { createMh } from './mh.ts';
import { createLblc } from './lblc.ts';
import { createLblcr } from './lblcr.ts';
import type { SchedulerFactory, SchedulerName } from './scheduler.ts';
import { SCHEDULER_NAMES } from './scheduler.ts';

export const SCHEDULERS: Readonly<Record<SchedulerName, SchedulerFactory>> = {
  rr: createRr,
  wrr: createWrr,
  lc: createLc,
  wlc: createWlc,
  sed: createSed,
  nq: createNq,
  fo: createFo,
  ovf: createOvf,
  twos: createTwos,
  dh: createDh,
  sh: createSh,
  mh: createMh,
  lblc: createLblc,
  lblcr: createLblcr,
};

export function isSchedulerName(name: string): name is SchedulerName {
  return (SCHEDULER_NAMES as readonly string[]).includes(name);
}
