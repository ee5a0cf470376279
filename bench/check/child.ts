// The keepvs side of bench/check: one process running the HealthChecker over the plan given as
// JSON in argv[2]. Prints "ready" once started and its stats as JSON on SIGTERM.
import { HealthChecker } from '../../src/check/health-checker.ts';
import { specs, type Plan } from './plan.ts';

const plan = JSON.parse(process.argv[2]) as Plan;
const hc = new HealthChecker({ virtualServers: specs(plan), ...(plan.close ? { probeClose: plan.close } : {}) });
let events = 0;
hc.subscribe(() => { events++; });
hc.start();
process.stdout.write('ready\n');
const keepAlive = setInterval(() => {}, 1000);
process.on('SIGTERM', () => {
  clearInterval(keepAlive);
  const snap = hc.snapshot();
  let alive = 0;
  for (const vs of snap.virtualServers) for (const rs of vs.realServers) if (rs.alive) alive++;
  const s = hc.stats();
  hc.stop();
  process.stdout.write(JSON.stringify({ checks: s.checks, byCode: s.byCode, alive, events, delayedByCap: s.scheduler.delayedByCap }) + '\n');
  process.exit(0);
});
