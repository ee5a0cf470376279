// The checker scheduler's heap: tasks run in (due time, scheduling order), a re-schedule replaces
// the pending run of the same id, cancel drops it, and a late timer runs everything due at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler, coalescedClock } from '../../src/check/scheduler.ts';
import { ManualClock } from './fake-clock.ts';

/** A deterministic pseudo-random sequence (so a failure is reproducible). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

const rows: Array<{ desc: string; n: number; spread: number; seed: number }> = [
  { desc: 'distinct due times', n: 500, spread: 100_000, seed: 1 },
  { desc: 'many equal due times: scheduling order breaks ties', n: 500, spread: 7, seed: 2 },
  { desc: 'one task', n: 1, spread: 10, seed: 3 },
];

for (const row of rows) {
  test(`scheduler order: ${row.desc}`, async () => {
    const clock = new ManualClock();
    const sched = new Scheduler(clock, 10_000);
    const rnd = lcg(row.seed);
    const ran: number[] = [];
    const want: Array<{ id: number; at: number }> = [];
    for (let id = 0; id < row.n; id++) {
      const at = 1 + Math.floor(rnd() * row.spread);
      want.push({ id, at });
      sched.schedule(id, at, async () => { ran.push(id); });
    }
    await clock.advance(row.spread + 1);
    const expected = [...want].sort((a, b) => a.at - b.at || a.id - b.id).map((w) => w.id);
    assert.deepEqual(ran, expected);
  });
}

test('scheduler: a re-schedule replaces the pending run, cancel drops it', async () => {
  const clock = new ManualClock();
  const sched = new Scheduler(clock);
  const ran: string[] = [];
  sched.schedule(1, 10, async () => { ran.push('1@10'); });
  sched.schedule(2, 20, async () => { ran.push('2@20'); });
  sched.schedule(3, 30, async () => { ran.push('3@30'); });
  sched.schedule(1, 40, async () => { ran.push('1@40'); });
  sched.cancel(2);
  await clock.advance(50);
  assert.deepEqual(ran, ['3@30', '1@40']);
});

test('scheduler: a timer that fires late runs every task that is due, in order', async () => {
  const ran: number[] = [];
  let fire: (() => void) | null = null;
  let now = 0;
  const sched = new Scheduler({ now: () => now, setTimer: (fn) => { fire = fn; return 1; }, clearTimer: () => { fire = null; } });
  for (const [id, at] of [[5, 50], [3, 30], [4, 40], [9, 900]] as const) sched.schedule(id, at, async () => { ran.push(id); });
  now = 100;
  assert.ok(fire, 'a timer is armed');
  (fire as () => void)();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(ran, [3, 4, 5], 'the three due tasks, not the one due at 900');
  assert.equal(sched.stats().scheduled, 1);
});

const slackRows: Array<{ desc: string; now: number; delay: number; fireIn: number }> = [
  { desc: 'due inside a window: fires at its end', now: 100, delay: 3, fireIn: 4 },
  { desc: 'due exactly on a window boundary: not delayed', now: 100, delay: 4, fireIn: 4 },
  { desc: 'a fractional now: rounded up to the boundary', now: 100.5, delay: 0.2, fireIn: 3.5 },
  { desc: 'a negative delay counts as now', now: 96, delay: -5, fireIn: 0 },
];

for (const row of slackRows) {
  test(`coalescedClock (8 ms windows): ${row.desc}`, () => {
    let asked = NaN;
    const base = { now: () => row.now, setTimer: (_fn: () => void, d: number) => { asked = d; return 1; }, clearTimer: () => {} };
    coalescedClock(8, base).setTimer(() => {}, row.delay);
    assert.equal(asked, row.fireIn);
  });
}
