// The checker state machine against keepalived's epilog rules (check_tcp.c, check_http.c,
// check_misc.c), driven one outcome at a time with explicit times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type CheckerState, type MachineConfig, type Outcome, FILE_FAULT, firstCheckAt, initialState, step, stepFile,
} from '../../src/check/state.ts';
import type { CheckerTiming } from '../../src/check/spec.ts';

const T = (over: Partial<CheckerTiming> = {}): CheckerTiming => ({
  delayLoopMs: 10_000, delayBeforeRetryMs: 1_000, retry: 1, warmupMs: 0, alpha: false, rise: 1, fall: 1, logAllFailures: false, ...over,
});
const ok: Outcome = { kind: 'success' };
const ko: Outcome = { kind: 'failure' };

interface Row {
  /** What this sequence shows. */
  desc: string;
  cfg: MachineConfig;
  outcomes: Outcome[];
  /** Per outcome: report ('up'/'down'/'-') and the delay to the next attempt. */
  expect: Array<[string, number]>;
  /** Report detail for the first report, when it matters. */
  first?: { wasUp: boolean; hadRun: boolean };
}

function run(cfg: MachineConfig, outcomes: Outcome[]): Array<{ rep: string; delay: number; s: CheckerState; wasUp?: boolean; hadRun?: boolean }> {
  let s = initialState(cfg.timing);
  let now = 0;
  const out = [];
  for (const o of outcomes) {
    const r = step(cfg, s, o, now);
    out.push({ rep: r.report ? (r.report.alive ? 'up' : 'down') : '-', delay: r.nextAt - now, s: r.state, wasUp: r.report?.wasUp, hadRun: r.report?.hadRun });
    s = r.state;
    now = r.nextAt;
  }
  return out;
}

const simple = (t: Partial<CheckerTiming> = {}): MachineConfig => ({ family: 'simple', timing: T(t) });
const http = (t: Partial<CheckerTiming> = {}, urlCount = 1, fastRecovery = false): MachineConfig => ({ family: 'http', timing: T(t), urlCount, fastRecovery });

const rows: Row[] = [
  { desc: 'start-up: the first failure marks down at once (retry_it starts at retry)', cfg: simple({ retry: 3 }), outcomes: [ko], expect: [['down', 10_000]] },
  { desc: 'start-up success reports up without a change (first run confirms)', cfg: simple(), outcomes: [ok], expect: [['up', 10_000]], first: { wasUp: true, hadRun: false } },
  {
    desc: 'retry=2: an up checker needs 3 failures, spaced by delay_before_retry, then down',
    cfg: simple({ retry: 2 }), outcomes: [ok, ko, ko, ko],
    expect: [['up', 10_000], ['-', 1_000], ['-', 1_000], ['down', 10_000]],
  },
  { desc: 'a success between failures resets the retries', cfg: simple({ retry: 1 }), outcomes: [ok, ko, ok, ko, ko], expect: [['up', 10_000], ['-', 1_000], ['-', 10_000], ['-', 1_000], ['down', 10_000]] },
  { desc: 'failures while down change nothing and wait delay_loop (upstream 77dad708)', cfg: simple({ retry: 2 }), outcomes: [ko, ko, ko], expect: [['down', 10_000], ['-', 10_000], ['-', 10_000]] },
  { desc: 'one success restores a down checker', cfg: simple(), outcomes: [ko, ok, ok], expect: [['down', 10_000], ['up', 10_000], ['-', 10_000]] },
  { desc: 'alpha starts down: first success brings it up', cfg: simple({ alpha: true }), outcomes: [ok], expect: [['up', 10_000]], first: { wasUp: false, hadRun: false } },
  { desc: 'alpha: first failure reports down without a change (notify only)', cfg: simple({ alpha: true }), outcomes: [ko, ko], expect: [['down', 10_000], ['-', 10_000]], first: { wasUp: false, hadRun: false } },
  { desc: 'retry=0: one failure takes an up checker down', cfg: simple({ retry: 0 }), outcomes: [ok, ko], expect: [['up', 10_000], ['down', 10_000]] },
  { desc: 'rise 3 (keepvs): three successes in a row to come back', cfg: simple({ rise: 3 }), outcomes: [ko, ok, ok, ok], expect: [['down', 10_000], ['-', 10_000], ['-', 10_000], ['up', 10_000]] },
  { desc: 'rise 3: a failure in between restarts the count', cfg: simple({ rise: 3 }), outcomes: [ko, ok, ok, ko, ok, ok, ok], expect: [['down', 10_000], ['-', 10_000], ['-', 10_000], ['-', 10_000], ['-', 10_000], ['-', 10_000], ['up', 10_000]] },
  { desc: 'fall 2 (keepvs): two failed checks (each after retry) to go down', cfg: simple({ fall: 2, retry: 1 }), outcomes: [ok, ko, ko, ko, ko], expect: [['up', 10_000], ['-', 1_000], ['-', 10_000], ['-', 1_000], ['down', 10_000]] },
  { desc: 'fall 3 at start-up: the first failure still marks down at once', cfg: simple({ fall: 3 }), outcomes: [ko], expect: [['down', 10_000]] },
  { desc: 'HTTP, one URL: start-up failure → down, then the failed URL is polled every max(dbr, delay_loop)', cfg: http({ delayBeforeRetryMs: 3_000 }), outcomes: [ko, ko], expect: [['down', 10_000], ['-', 10_000]] },
  { desc: 'HTTP, one URL: coming back takes two successes (failed URL, then a clean pass)', cfg: http({ delayBeforeRetryMs: 3_000 }), outcomes: [ko, ok, ok], expect: [['down', 10_000], ['-', 10_000], ['up', 10_000]] },
  { desc: 'HTTP retry=1: up checker goes down after 2 failures spaced by delay_before_retry', cfg: http({ delayBeforeRetryMs: 3_000 }), outcomes: [ok, ko, ko], expect: [['up', 10_000], ['-', 3_000], ['down', 10_000]] },
  { desc: 'HTTP, two URLs: one URL per delay_loop, up after the second', cfg: http({}, 2), outcomes: [ok, ok, ok], expect: [['-', 10_000], ['up', 10_000], ['-', 10_000]] },
  { desc: 'HTTP alpha: the first failure reports nothing (has_run set first)', cfg: http({ alpha: true }), outcomes: [ko, ok, ok], expect: [['-', 10_000], ['-', 10_000], ['up', 10_000]] },
  { desc: 'HTTP fast_recovery: recovery checks run back to back', cfg: http({}, 1, true), outcomes: [ko, ok, ok], expect: [['down', 10_000], ['-', 0], ['up', 10_000]] },
  { desc: 'HTTP rise 2: two clean passes after the failed URL passes', cfg: http({ rise: 2 }), outcomes: [ko, ok, ok, ok], expect: [['down', 10_000], ['-', 10_000], ['-', 10_000], ['up', 10_000]] },
];

for (const row of rows) {
  test(`state: ${row.desc}`, () => {
    const got = run(row.cfg, row.outcomes);
    assert.deepEqual(got.map((g) => [g.rep, g.delay]), row.expect);
    if (row.first) {
      const f = got.find((g) => g.rep !== '-')!;
      assert.deepEqual({ wasUp: f.wasUp, hadRun: f.hadRun }, row.first);
    }
  });
}

test('state: skip (socket setup failed) counts nothing and waits delay_loop', () => {
  const cfg = simple({ retry: 1 });
  const s0 = initialState(cfg.timing);
  const r = step(cfg, s0, { kind: 'skip' }, 5);
  assert.equal(r.report, null);
  assert.equal(r.nextAt, 10_005);
  assert.deepEqual(r.state, s0);
});

test('state: MISC times the next run from the start of the previous one', () => {
  const cfg: MachineConfig = { family: 'misc', timing: T({ retry: 1 }), dynamic: false };
  let s = initialState(cfg.timing);
  let r = step(cfg, s, { kind: 'success', exitCode: 0 }, 400, 100);
  assert.equal(r.nextAt, 10_100);
  s = r.state;
  r = step(cfg, s, { kind: 'failure', exitCode: 1 }, 10_900, 10_100);
  assert.equal(r.report, null, 'one retry left');
  assert.equal(r.nextAt, 11_100, 'delay_before_retry from the start');
  r = step(cfg, r.state, { kind: 'failure', exitCode: 1 }, 11_200, 11_100);
  assert.deepEqual(r.report, { alive: false, wasUp: true, hadRun: true });
});

test('state: MISC misc_dynamic sets the weight share on a changed exit status, drops it on down', () => {
  const cfg: MachineConfig = { family: 'misc', timing: T({ retry: 0 }), dynamic: true };
  let s = initialState(cfg.timing);
  let r = step(cfg, s, { kind: 'success', exitCode: 7 }, 0);
  assert.deepEqual(r.weight, { curWeight: 5, silent: false, order: 'before' });
  s = r.state;
  r = step(cfg, s, { kind: 'success', exitCode: 7 }, 10_000);
  assert.equal(r.weight, null, 'same status: no change');
  r = step(cfg, r.state, { kind: 'success', exitCode: 0 }, 20_000);
  assert.deepEqual(r.weight, { curWeight: 0, silent: false, order: 'before' });
  r = step(cfg, r.state, { kind: 'success', exitCode: 12 }, 30_000);
  r = step(cfg, r.state, { kind: 'failure', exitCode: 1 }, 40_000);
  assert.deepEqual(r.report, { alive: false, wasUp: true, hadRun: true });
  assert.deepEqual(r.weight, { curWeight: 0, silent: true, order: 'before' });
});

test('state: first check waits BOOTSTRAP_DELAY plus warmup × random (stagger)', () => {
  const t = T({ warmupMs: 10_000 });
  assert.equal(firstCheckAt(t, 0, 0), 1000);
  assert.equal(firstCheckAt(t, 0, 0.5), 6000);
  assert.equal(firstCheckAt(T({ warmupMs: 0 }), 0, 0.9), 1000, 'warmup 0 disables the stagger');
  const starts = Array.from({ length: 100 }, (_, i) => firstCheckAt(t, 0, i / 100));
  assert.equal(new Set(starts).size, 100, 'distinct random draws spread the first checks');
});

test('state: FILE_CHECK transitions', () => {
  const s = { ...initialState(T()), hasRun: true };
  const down = stepFile(s, 0, FILE_FAULT);
  assert.deepEqual(down.report, { alive: false, wasUp: true, hadRun: true });
  const up = stepFile({ ...down.state }, FILE_FAULT, 5);
  assert.deepEqual(up.report, { alive: true, wasUp: false, hadRun: true });
  assert.deepEqual(up.weight, { curWeight: 5, silent: true, order: 'before' });
  const w = stepFile(up.state, 5, 9);
  assert.equal(w.report, null);
  assert.deepEqual(w.weight, { curWeight: 9, silent: false, order: 'before' });
  assert.equal(stepFile(w.state, 9, 9).weight, null);
});
