// Pools, quorum with hysteresis, the sorry server, inhibit_on_failure and the notify FIFO lines,
// against keepalived/check/ipwrapper.c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type DirectorEvent, type VsState, applyCheckerReport, applyWeightShare, dropOnReload, initVs, shutdownVs } from '../../src/check/quorum.ts';
import { initialRs } from '../../src/check/real-server.ts';
import { fifoBytes, fifoLine, fifoScriptArgv, scriptFor, shellCommand } from '../../src/check/notify.ts';

const VS = '[192.168.201.15]:tcp:80';
const down = { alive: false, wasUp: true, hadRun: true };
const up = { alive: true, wasUp: false, hadRun: true };

function pool(opts: { weights: number[]; quorum?: number; hysteresis?: number; sorry?: boolean; inhibit?: boolean; omega?: boolean; failed?: number[] }) {
  return initVs({
    name: VS, protocol: 'tcp', quorum: opts.quorum ?? 1, hysteresis: opts.hysteresis ?? 0, omega: opts.omega ?? false,
    sorry: opts.sorry ? { address: '10.9.9.9', port: 80, inhibit: false } : undefined,
    rs: opts.weights.map((w, i) => initialRs(`1.2.3.${i + 1}`, 80, w, opts.inhibit ?? false, opts.failed?.includes(i) ? 1 : 0)),
  });
}

const brief = (evs: readonly DirectorEvent[]) => evs.map((e) => {
  switch (e.type) {
    case 'dest-add': case 'dest-remove': case 'dest-edit': return `${e.type} ${e.address} w${e.weight}${e.sorry ? ' sorry' : ''}`;
    case 'rs-weight': return `${e.type} ${e.address} ${e.from}->${e.to}`;
    case 'quorum-up': case 'quorum-down': return `${e.type} ${e.weightSum}/${e.threshold}${e.init ? ' init' : ''}${e.stopping ? ' stopping' : ''}`;
    default: return `${e.type} ${e.address}${e.stopping ? ' stopping' : ''}`;
  }
});

function downs(vs: VsState, idx: number[]): { vs: VsState; events: string[] } {
  const events: string[] = [];
  for (const i of idx) {
    const s = applyCheckerReport(vs, i, down, false);
    vs = s.vs;
    events.push(...brief(s.events));
  }
  return { vs, events };
}

test('quorum: start-up adds healthy servers and gains the quorum (quorum_up runs at start)', () => {
  const s = pool({ weights: [1, 1, 1] });
  assert.deepEqual(brief(s.events), ['dest-add 1.2.3.1 w1', 'dest-add 1.2.3.2 w1', 'dest-add 1.2.3.3 w1', 'quorum-up 3/1 init']);
  assert.equal(s.vs.quorumUp, true);
});

test('quorum: alpha (failed at start) servers are not added; inhibited ones are added at weight 0', () => {
  assert.deepEqual(brief(pool({ weights: [2, 3], failed: [0] }).events), ['dest-add 1.2.3.2 w3', 'quorum-up 3/1 init']);
  assert.deepEqual(brief(pool({ weights: [2, 3], failed: [0], inhibit: true }).events), ['dest-add 1.2.3.1 w0', 'dest-add 1.2.3.2 w3', 'quorum-up 3/1 init']);
});

test('quorum: start-up below quorum with a sorry server brings it in and runs quorum_down', () => {
  const s = pool({ weights: [1], quorum: 5, sorry: true });
  assert.deepEqual(brief(s.events), ['dest-add 1.2.3.1 w1', 'dest-remove 1.2.3.1 w1', 'dest-add 10.9.9.9 w1 sorry', 'quorum-down 1/5 init']);
});

test('quorum: start-up below quorum without a sorry server notifies nothing', () => {
  assert.deepEqual(brief(pool({ weights: [1], quorum: 5 }).events), ['dest-add 1.2.3.1 w1']);
});

interface Row { desc: string; weights: number[]; quorum: number; hysteresis: number; drop: number[]; expectUp: boolean; lastQuorumEvent: string | null }
const rows: Row[] = [
  { desc: 'sum 3 ≥ quorum 3: stays up', weights: [1, 1, 1, 1], quorum: 3, hysteresis: 0, drop: [0], expectUp: true, lastQuorumEvent: null },
  { desc: 'sum 2 < quorum 3: lost', weights: [1, 1, 1, 1], quorum: 3, hysteresis: 0, drop: [0, 1], expectUp: false, lastQuorumEvent: 'quorum-down 2/3' },
  { desc: 'hysteresis 1: up holds until sum < quorum − 1', weights: [1, 1, 1, 1, 1], quorum: 3, hysteresis: 1, drop: [0, 1, 2], expectUp: true, lastQuorumEvent: null },
  { desc: 'hysteresis 1: sum 1 < 2 loses it', weights: [1, 1, 1, 1, 1], quorum: 3, hysteresis: 1, drop: [0, 1, 2, 3], expectUp: false, lastQuorumEvent: 'quorum-down 1/2' },
  { desc: 'weights count, not servers', weights: [5, 1, 1], quorum: 3, hysteresis: 0, drop: [0], expectUp: false, lastQuorumEvent: 'quorum-down 2/3' },
];
for (const row of rows) {
  test(`quorum: ${row.desc}`, () => {
    const s0 = pool({ weights: row.weights, quorum: row.quorum, hysteresis: row.hysteresis });
    assert.equal(s0.vs.quorumUp, true);
    const r = downs(s0.vs, row.drop);
    assert.equal(r.vs.quorumUp, row.expectUp);
    const q = r.events.filter((e) => e.startsWith('quorum'));
    assert.equal(q.at(-1) ?? null, row.lastQuorumEvent);
  });
}

test('quorum: hysteresis on the way back — gained only when sum ≥ quorum + hysteresis', () => {
  let vs = downs(pool({ weights: [1, 1, 1, 1, 1], quorum: 3, hysteresis: 1 }).vs, [0, 1, 2, 3]).vs;
  assert.equal(vs.quorumUp, false);
  const steps: string[] = [];
  for (const i of [0, 1, 2]) {
    const s = applyCheckerReport(vs, i, up, false);
    vs = s.vs;
    steps.push(s.events.some((e) => e.type === 'quorum-up') ? 'up' : '-');
  }
  assert.deepEqual(steps, ['-', '-', 'up'], 'sum 2, 3 stay down; 4 ≥ 3+1 gains');
});

test('quorum: the sorry server swaps in on loss and out on gain; servers changing meanwhile stay out of IPVS', () => {
  let vs = pool({ weights: [1, 1], quorum: 2, sorry: true }).vs;
  let s = applyCheckerReport(vs, 0, down, false);
  assert.deepEqual(brief(s.events), ['dest-remove 1.2.3.1 w1', 'rs-down 1.2.3.1', 'dest-remove 1.2.3.2 w1', 'dest-add 10.9.9.9 w1 sorry', 'quorum-down 1/2']);
  vs = s.vs;
  s = applyCheckerReport(vs, 1, down, false);
  assert.deepEqual(brief(s.events), ['rs-down 1.2.3.2'], 'sorry server serving: no IPVS change');
  vs = s.vs;
  s = applyCheckerReport(vs, 0, up, false);
  assert.deepEqual(brief(s.events), ['rs-up 1.2.3.1']);
  vs = s.vs;
  s = applyCheckerReport(vs, 1, up, false);
  assert.deepEqual(brief(s.events), ['rs-up 1.2.3.2', 'dest-remove 10.9.9.9 w1 sorry', 'dest-add 1.2.3.1 w1', 'dest-add 1.2.3.2 w1', 'quorum-up 2/2']);
});

test('inhibit_on_failure: down sets weight 0, up restores it; never removed', () => {
  let vs = pool({ weights: [4, 1], inhibit: true }).vs;
  let s = applyCheckerReport(vs, 0, down, false);
  assert.deepEqual(brief(s.events), ['dest-edit 1.2.3.1 w0', 'rs-down 1.2.3.1']);
  vs = s.vs;
  s = applyCheckerReport(vs, 0, up, false);
  assert.deepEqual(brief(s.events), ['dest-edit 1.2.3.1 w4', 'rs-up 1.2.3.1']);
});

test('real server: up only when all its checkers are up', () => {
  let vs = pool({ weights: [1, 1] }).vs;
  let s = applyCheckerReport(vs, 0, down, false);
  assert.equal(s.vs.rs[0].alive, false);
  s = applyCheckerReport(s.vs, 0, down, false);
  assert.deepEqual(brief(s.events), [], 'a second checker failing changes nothing');
  assert.equal(s.vs.rs[0].failedCheckers, 2);
  s = applyCheckerReport(s.vs, 0, up, false);
  assert.deepEqual(brief(s.events), [], 'one of two back: still down');
  s = applyCheckerReport(s.vs, 0, up, false);
  assert.deepEqual(brief(s.events), ['dest-add 1.2.3.1 w1', 'rs-up 1.2.3.1']);
  vs = s.vs;
  assert.equal(vs.rs[0].failedCheckers, 0);
});

test('alpha: a first failure that confirms the down state still runs the down notify once', () => {
  const vs = pool({ weights: [1, 1], failed: [0] }).vs;
  const s = applyCheckerReport(vs, 0, { alive: false, wasUp: false, hadRun: false }, true);
  assert.deepEqual(brief(s.events), ['rs-down 1.2.3.1']);
  const again = applyCheckerReport(s.vs, 0, { alive: false, wasUp: false, hadRun: true }, true);
  assert.deepEqual(brief(again.events), []);
});

test('weight share: misc_dynamic edits the weight and re-evaluates the quorum', () => {
  const vs = pool({ weights: [1, 1], quorum: 2 }).vs;
  const s = applyWeightShare(vs, 0, 0, 5 - 1, false);
  assert.deepEqual(brief(s.events), ['rs-weight 1.2.3.1 1->5', 'dest-edit 1.2.3.1 w5']);
  const z = applyWeightShare(s.vs, 1, 0, -1, false);
  assert.deepEqual(brief(z.events), ['rs-weight 1.2.3.2 1->0', 'dest-edit 1.2.3.2 w0']);
  assert.equal(z.vs.quorumUp, true, '5 + 0 ≥ 2');
  const silent = applyWeightShare(z.vs, 0, 4, 0, true);
  assert.deepEqual(brief(silent.events), []);
  assert.equal(silent.vs.rs[0].effectiveWeight, 1);
});

test('omega: shutdown runs notify_down for alive servers and quorum_down; without omega only removes', () => {
  const withOmega = shutdownVs(pool({ weights: [1, 1], omega: true, failed: [1] }).vs);
  assert.deepEqual(brief(withOmega.events), ['dest-remove 1.2.3.1 w1', 'rs-down 1.2.3.1 stopping', 'quorum-down 0/1 stopping']);
  const without = shutdownVs(pool({ weights: [1, 1], inhibit: true }).vs);
  assert.deepEqual(brief(without.events), ['dest-remove 1.2.3.1 w1', 'dest-remove 1.2.3.2 w1'], 'inhibit is overridden on shutdown');
});

test('lvs_flush_on_stop: a stop runs no real server notify, only an omega virtual server\'s quorum_down', async (t) => {
  const rows: { desc: string; omega: boolean; flush: 'full' | 'vs'; events: string[] }[] = [
    { desc: 'ALL, omega', omega: true, flush: 'full', events: ['quorum-down 2/1 stopping'] },
    { desc: 'VS, omega', omega: true, flush: 'vs', events: ['quorum-down 2/1 stopping'] },
    { desc: 'ALL, no omega: nothing', omega: false, flush: 'full', events: [] },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const s = shutdownVs(pool({ weights: [1, 1], omega: row.omega }).vs, row.flush);
      assert.deepEqual(brief(s.events), row.events);
      assert.equal(s.vs.quorumUp, false);
    });
  }
});

test('dropOnReload: only a dropped server that was in the table and alive gets rs-down; then the quorum test', async (t) => {
  const rows: { desc: string; weights: number[]; quorum?: number; failed?: number[]; drop: boolean[]; whole?: boolean; flush?: 'full'; events: string[] }[] = [
    { desc: 'alive server dropped, quorum holds', weights: [1, 1], drop: [false, true], events: ['dest-remove 1.2.3.2 w1', 'rs-down 1.2.3.2'] },
    { desc: 'failed server dropped: nothing to say', weights: [1, 1], failed: [1], drop: [false, true], events: [] },
    { desc: 'quorum lost: quorum-down, no sorry server swap', weights: [3, 1], quorum: 3, drop: [true, false], events: ['dest-remove 1.2.3.1 w3', 'rs-down 1.2.3.1', 'quorum-down 1/3'] },
    { desc: 'whole virtual server', weights: [1, 1], drop: [], whole: true, events: ['dest-remove 1.2.3.1 w1', 'rs-down 1.2.3.1', 'dest-remove 1.2.3.2 w1', 'rs-down 1.2.3.2', 'quorum-down 0/1'] },
    { desc: 'whole, with lvs_flush_on_stop: the quorum test only', weights: [1, 1], drop: [], whole: true, flush: 'full', events: [] },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const s = dropOnReload(pool({ weights: row.weights, quorum: row.quorum, failed: row.failed }).vs, row.drop, row.whole ?? false, row.flush);
      assert.deepEqual(brief(s.events), row.events);
      for (const e of s.events) if (e.type === 'rs-down') assert.equal(e.removed, true);
    });
  }
});

test('notify: FIFO lines in keepalived format, written with the NUL terminator', () => {
  const s = applyCheckerReport(pool({ weights: [1] }).vs, 0, down, false);
  const lines = s.events.map(fifoLine).filter((l) => l !== null);
  assert.deepEqual(lines, [`RS [1.2.3.1]:tcp:80 ${VS} DOWN\n`, `VS ${VS} DOWN\n`]);
  assert.deepEqual([...fifoBytes('VS x UP\n')].slice(-2), [10, 0]);
  const up6 = fifoLine({ type: 'rs-up', vs: 'FWM 1', rs: '[2001:db8::1]:tcp:80', address: '2001:db8::1', port: 80, stopping: false });
  assert.equal(up6, 'RS [2001:db8::1]:tcp:80 FWM 1 UP\n');
});

test('notify: scripts run as configured (no appended arguments); the FIFO script gets the FIFO path', () => {
  const rs = { notifyUp: { argv: ['/bin/up.sh', 'web 1'] }, notifyDown: { argv: ['/bin/down.sh'] } };
  const vs = { quorumUp: { argv: ['/bin/q.sh', 'UP'] } };
  const ev = { type: 'rs-up', vs: VS, rs: 'x', address: '1.2.3.1', port: 80, stopping: false } as const;
  assert.deepEqual(scriptFor(ev, rs, vs)?.argv, ['/bin/up.sh', 'web 1']);
  assert.equal(scriptFor({ type: 'quorum-down', vs: VS, weightSum: 0, threshold: 1, init: false, stopping: false, quorum: 1, hysteresis: 0 }, rs, vs), null);
  assert.deepEqual(fifoScriptArgv({ argv: ['/usr/bin/reader', '-v'] }, '/run/lvs.fifo'), ['/usr/bin/reader', '-v', '/run/lvs.fifo']);
  assert.equal(shellCommand(['/bin/x', "it's", '</dev/null']), "'/bin/x' 'it'\\''s' '</dev/null'");
  assert.equal(shellCommand(['</dev/tcp/127.0.0.1/80']), '</dev/tcp/127.0.0.1/80');
});
