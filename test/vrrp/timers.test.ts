import { test } from 'node:test';
import assert from 'node:assert/strict';
import { masterDownInterval, normaliseAdvertInt, skewMin, skewTime } from '../../src/vrrp/timers.ts';

test('Skew_Time and Master_Down_Interval match keepalived to the microsecond', () => {
  const rows = [
    { d: 'v2, prio 100, 1 s (the lab backup: 3.609 s)', v: 2, prio: 100, adv: 1_000_000, skew: 609_375, down: 3_609_375 },
    { d: 'v2, prio 128: the man page example, 3.5 s', v: 2, prio: 128, adv: 1_000_000, skew: 500_000, down: 3_500_000 },
    { d: 'v2, prio 150, 1 s (the lab master: 3.414 s)', v: 2, prio: 150, adv: 1_000_000, skew: 414_062, down: 3_414_062 },
    { d: 'v2 skew ignores the interval (RFC 3768 §6.1)', v: 2, prio: 100, adv: 3_000_000, skew: 609_375, down: 9_609_375 },
    { d: 'v3, prio 100, 0.1 s (the lab: 0.361 s)', v: 3, prio: 100, adv: 100_000, skew: 60_937, down: 360_937 },
    { d: 'v3, prio 100, 1 s', v: 3, prio: 100, adv: 1_000_000, skew: 609_375, down: 3_609_375 },
    { d: 'v3, prio 254, 0.01 s', v: 3, prio: 254, adv: 10_000, skew: 78, down: 30_078 },
    { d: 'v2 owner, prio 255', v: 2, prio: 255, adv: 1_000_000, skew: 3_906, down: 3_003_906 },
  ];
  for (const r of rows) {
    assert.equal(skewTime(r.v, r.prio, r.adv), r.skew, r.d);
    assert.equal(masterDownInterval(r.v, r.prio, r.adv, 3), r.down, r.d);
  }
  assert.equal(skewMin(2, 1_000_000), 3_906);
  assert.equal(skewMin(3, 100_000), 390);
  assert.equal(masterDownInterval(2, 100, 1_000_000, 1), 1_609_375, 'down_timer_adverts 1');
});

test('advert_int normalisation rounds like keepalived', () => {
  const rows = [
    { d: 'v2 whole seconds stay', v: 2, s: 3, us: 3_000_000, adj: false },
    { d: 'v2 0.1 rounds up to 1 s (minimum)', v: 2, s: 0.1, us: 1_000_000, adj: true },
    { d: 'v2 1.4 rounds to 1 s', v: 2, s: 1.4, us: 1_000_000, adj: true },
    { d: 'v2 1.5 rounds to 2 s', v: 2, s: 1.5, us: 2_000_000, adj: true },
    { d: 'v2 300 s caps at 255', v: 2, s: 300, us: 255_000_000, adj: true },
    { d: 'v3 0.1 s = 10 cs', v: 3, s: 0.1, us: 100_000, adj: false },
    { d: 'v3 0.015 rounds to 20 ms', v: 3, s: 0.015, us: 20_000, adj: true },
    { d: 'v3 0.004 rounds to 10 ms (minimum)', v: 3, s: 0.004, us: 10_000, adj: true },
    { d: 'v3 50 s caps at 40.95', v: 3, s: 50, us: 40_950_000, adj: true },
  ];
  for (const r of rows) assert.deepEqual(normaliseAdvertInt(r.v, r.s), { us: r.us, adjusted: r.adj }, r.d);
});
