// The instance state machine, stepped one event at a time with an injected clock (µs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Driver, LOCAL, MS, PEER, S, kinds, resolveOne } from './fixtures.ts';
import { AUTH_TYPE } from '../../src/vrrp/packet.ts';

const MDI_100 = 3_609_375; // prio 100, v2, 1 s
const SKEW_100 = 609_375;

test('startup: state BACKUP waits Master_Down_Interval, then becomes MASTER in keepalived order', () => {
  const d = new Driver(resolveOne({ state: 'BACKUP', priority: 100 }));
  assert.deepEqual(kinds(d.start(0)), ['remove-residual', 'notify:BACKUP']);
  assert.equal(d.state.state, 'BACKUP');
  assert.equal(d.state.sands, MDI_100);
  // Advert first (so the old master drops the VIP), then addresses, 5 GARPs, notify.
  assert.deepEqual(kinds(d.fire()), ['advert:100', 'add-addresses', 'garp:5', 'notify:MASTER']);
  assert.equal(d.now, MDI_100);
  assert.equal(d.state.state, 'MASTER');
  assert.equal(d.state.sands, MDI_100 + S, 'next advert one interval later');
  assert.equal(d.state.garpDelayAt, MDI_100 + 5 * S, 'second GARP burst after garp_master_delay');
  d.runUntil(MDI_100 + 5 * S);
  const after = d.log.filter((l) => l.at > MDI_100).map((l) => l.action);
  assert.deepEqual(kinds(after), ['advert:100', 'advert:100', 'advert:100', 'advert:100', 'garp:5', 'advert:100']);
});

test('startup table: owner, state MASTER below 255, faults, init scripts', () => {
  const rows = [
    { d: 'state MASTER priority 255 takes over after 1 µs, no BACKUP notify', ic: { state: 'MASTER' as const }, sands: 1, notify: [] as string[] },
    { d: 'state MASTER priority 150 waits the full Master_Down_Interval (keepalived 2.2.7, as measured)', ic: { state: 'MASTER' as const, priority: 150 }, sands: 3_414_062, notify: ['notify:BACKUP'] },
    { d: 'no state, priority 255 means MASTER', ic: { priority: 255 }, sands: 1, notify: [] },
    { d: 'no state, no priority: BACKUP 100', ic: {}, sands: MDI_100, notify: ['notify:BACKUP'] },
  ];
  for (const r of rows) {
    const d = new Driver(resolveOne(r.ic));
    const a = kinds(d.start(0)).filter((k) => k.startsWith('notify'));
    assert.deepEqual(a, r.notify, r.d);
    assert.equal(d.state.state, 'BACKUP', r.d);
    assert.equal(d.state.sands, r.sands, r.d);
  }
  const faulted = new Driver(resolveOne({ state: 'MASTER' }), { totalPriority: 255, faults: 1, initPending: 0 });
  assert.deepEqual(kinds(faulted.start(0)), ['remove-residual', 'notify:FAULT']);
  assert.equal(faulted.state.state, 'FAULT');
  assert.equal(faulted.state.sands, null, 'no timer in FAULT');
  const waiting = new Driver(resolveOne({}), { totalPriority: 100, faults: 0, initPending: 1 });
  assert.deepEqual(kinds(waiting.start(0)), ['remove-residual'], 'waiting for a first script result: FAULT without notify');
  assert.equal(waiting.state.state, 'FAULT');
  assert.deepEqual(kinds(waiting.on({ type: 'tracking', totals: { totalPriority: 100, faults: 0, initPending: 0 } }, 2 * S)), ['notify:BACKUP']);
  assert.equal(waiting.state.sands, 2 * S + MDI_100);
});

test('BACKUP receiving adverts (vrrp_state_backup)', () => {
  const rows = [
    { d: 'higher priority: accepted, timer restarts', prio: 150, sands: 1 * S + MDI_100, master: PEER },
    { d: 'equal priority: accepted (no address tie-break in BACKUP)', prio: 100, sands: 1 * S + MDI_100, master: PEER },
    { d: 'lower priority with preempt: ignored, timer keeps running', prio: 50, sands: MDI_100, master: PEER },
    { d: 'priority 0: take over after Skew_Time only', prio: 0, sands: 1 * S + SKEW_100, master: null },
  ];
  for (const r of rows) {
    const d = new Driver(resolveOne({ priority: 100 }));
    d.start(0);
    const a = d.packet({ prio: r.prio }, 1 * S);
    assert.ok(!kinds(a).some((k) => k.startsWith('drop')), r.d);
    assert.equal(d.state.state, 'BACKUP', r.d);
    assert.equal(d.state.sands, r.sands, r.d);
    assert.equal(d.state.masterAddr?.text ?? null, r.master, r.d);
  }
});

test('preemption: a higher-priority BACKUP ignores a lower master and takes over at its down timer', () => {
  const d = new Driver(resolveOne({ priority: 150 }));
  d.start(0);
  for (let t = 1; t <= 3; t++) d.packet({ prio: 100 }, t * S);
  assert.equal(d.state.state, 'BACKUP');
  assert.deepEqual(kinds(d.fire()).slice(0, 2), ['advert:150', 'add-addresses']);
  assert.equal(d.now, 3_414_062);
});

test('nopreempt: lower-priority adverts are accepted and keep the BACKUP down', () => {
  const d = new Driver(resolveOne({ priority: 150, nopreempt: true }));
  d.start(0);
  for (let t = 1; t <= 20; t++) d.packet({ prio: 100 }, t * S);
  assert.equal(d.state.state, 'BACKUP');
  assert.equal(d.state.sands, 20 * S + 3_414_062);
});

test('preempt_delay: lower adverts accepted until the delay runs out, then preemption', () => {
  const d = new Driver(resolveOne({ priority: 150, preempt_delay: 5 }));
  d.start(0);
  d.packet({ prio: 100 }, 1 * S);
  assert.equal(d.state.preemptTime, 6 * S, 'delay starts at the first lower advert');
  for (let t = 2; t <= 5; t++) d.packet({ prio: 100 }, t * S);
  assert.equal(d.state.sands, 5 * S + 3_414_062, 'still accepted before the delay ends');
  d.packet({ prio: 100 }, 6 * S);
  assert.equal(d.state.sands, 5 * S + 3_414_062, 'once the delay has run out, lower adverts are ignored');
  d.fire();
  assert.equal(d.state.state, 'MASTER');
  // A higher or equal advert cancels the delay.
  const e = new Driver(resolveOne({ priority: 150, preempt_delay: 5 }));
  e.start(0);
  e.packet({ prio: 100 }, 1 * S);
  e.packet({ prio: 200 }, 2 * S);
  assert.equal(e.state.preemptTime, 0);
});

test('VRRPv3: a BACKUP adopts the master\'s advert interval for its down timer', () => {
  const d = new Driver(resolveOne({ version: 3, priority: 100, advert_int: 1 }));
  d.start(0);
  d.packet({ version: 3, prio: 200, adv: 10 }, 1 * S);
  assert.equal(d.state.masterAdverIntUs, 100_000);
  assert.equal(d.state.sands, 1 * S + 360_937, '3 × 0.1 s + skew at 0.1 s');
  d.fire();
  assert.equal(d.state.state, 'MASTER');
  assert.equal(d.state.masterAdverIntUs, 1 * S, 'back to its own interval as MASTER');
  assert.equal(d.state.sands, d.now + 1 * S);
});

function master(ic = {}) {
  const d = new Driver(resolveOne({ priority: 100, ...ic }));
  d.start(0);
  d.fire();
  assert.equal(d.state.state, 'MASTER');
  return d;
}

test('MASTER receiving adverts (vrrp_state_master_rx)', () => {
  const rows = [
    { d: 'higher priority: back to BACKUP, addresses removed', o: { prio: 150 }, state: 'BACKUP', acts: ['remove-addresses', 'notify:BACKUP'] },
    { d: 'equal priority, higher sender address: BACKUP', o: { prio: 100, src: '198.18.10.9' }, state: 'BACKUP', acts: ['remove-addresses', 'notify:BACKUP'] },
    { d: 'equal priority, lower sender address: stay, force an election', o: { prio: 100, src: '198.18.10.1' }, state: 'MASTER', acts: ['advert:100', 'garp:5', 'event:MASTER_RX_LOWER_PRI'] },
    { d: 'lower priority: stay MASTER, advert + GARPs', o: { prio: 50 }, state: 'MASTER', acts: ['advert:100', 'garp:5', 'event:MASTER_RX_LOWER_PRI'] },
    { d: 'priority 0: answer with an advert, stay MASTER', o: { prio: 0 }, state: 'MASTER', acts: ['advert:100'] },
  ];
  for (const r of rows) {
    const d = master();
    const t = d.now + 200 * MS;
    assert.deepEqual(kinds(d.packet(r.o, t)), r.acts, r.d);
    assert.equal(d.state.state, r.state, r.d);
    if (r.state === 'BACKUP') assert.equal(d.state.sands, t + MDI_100, r.d);
    else assert.equal(d.state.sands, t + S, `${r.d}: the advert restarts the interval`);
  }
});

test('lower_prio_no_advert, higher_prio_send_advert and garp_lower_prio_*', () => {
  const quiet = master({ lower_prio_no_advert: true, garp_lower_prio_repeat: 0 });
  const sands = quiet.state.sands;
  assert.deepEqual(kinds(quiet.packet({ prio: 50 }, quiet.now + 100 * MS)), ['event:MASTER_RX_LOWER_PRI']);
  assert.equal(quiet.state.sands, sands, 'no advert sent, timer untouched');
  const loud = master({ higher_prio_send_advert: true });
  assert.deepEqual(kinds(loud.packet({ prio: 150 }, loud.now + 100 * MS)), ['advert:100', 'remove-addresses', 'notify:BACKUP']);
  const garp = master({ garp_lower_prio_repeat: 2, garp_lower_prio_delay: 3 });
  const t = garp.now + 100 * MS;
  garp.packet({ prio: 50 }, t);
  assert.equal(garp.state.lowerPrioGarpAt, t + 3 * S);
  garp.runUntil(t + 3 * S);
  assert.ok(garp.log.some((l) => l.at === t + 3 * S && l.action.type === 'garp' && l.action.repeat === 2));
});

test('two address owners: an owner hearing another 255 drops to 254 and backs off (keepalived 2.2.7)', () => {
  for (const src of ['198.18.10.1', '198.18.10.9']) {
    const d = new Driver(resolveOne({ state: 'MASTER' }));
    d.start(0);
    d.fire();
    d.packet({ prio: 255, src }, 500 * MS);
    assert.equal(d.state.effectivePriority, 254, src);
    assert.equal(d.state.basePriority, 254, src);
    assert.equal(d.state.state, 'BACKUP', src);
  }
});

test('bad, forged and flooding adverts are dropped by reason and never move a MASTER or its timer', () => {
  const d = master({ authentication: { auth_type: 'PASS', auth_pass: 's3cret' } });
  const sands = d.state.sands as number;
  const bad = [
    { o: { prio: 250, ttl: 64, authType: AUTH_TYPE.pass, pass: 's3cret' }, reason: 'ttl_invalid' },
    { o: { prio: 250, authType: AUTH_TYPE.pass, pass: 'guess' }, reason: 'auth_pass_invalid' },
    { o: { prio: 250 }, reason: 'auth_type_mismatch' },
    { o: { prio: 250, authType: AUTH_TYPE.pass, pass: 's3cret', addrs: ['198.18.10.200'] }, reason: 'addr_list_mismatch' },
    { o: { prio: 250, authType: AUTH_TYPE.pass, pass: 's3cret', adv: 2 }, reason: 'interval_mismatch' },
    { o: { prio: 250, authType: AUTH_TYPE.pass, pass: 's3cret', version: 3 as const }, reason: 'version_mismatch' },
    { o: { prio: 250, authType: AUTH_TYPE.pass, pass: 's3cret', corrupt: (b: Uint8Array) => { b[22] ^= 1; } }, reason: 'checksum_invalid' },
    { o: { prio: 250, authType: AUTH_TYPE.pass, pass: 's3cret', truncate: 4 }, reason: 'length_mismatch' },
    { o: { prio: 250, authType: AUTH_TYPE.pass, pass: 's3cret', corrupt: (b: Uint8Array) => { b[20] = 0x22; } }, reason: 'type_invalid' },
  ];
  let t = d.now;
  for (let i = 0; i < 10_000; i++) {
    const b = bad[i % bad.length];
    t += 10; // 100 000 packets per second
    assert.deepEqual(kinds(d.packet(b.o, t)), [`drop:${b.reason}`]);
  }
  assert.equal(d.state.state, 'MASTER');
  assert.equal(d.state.sands, sands, 'the advert timer was not pushed back');
  // A flood of valid lower-priority adverts: replies are capped at one per 0.1 s.
  const replies = [];
  for (let i = 0; i < 1000; i++) {
    t += 100;
    replies.push(...kinds(d.packet({ prio: 50, authType: AUTH_TYPE.pass, pass: 's3cret' }, t)).filter((k) => k === 'advert:100'));
  }
  assert.ok(replies.length <= 2, `at most one reply per 100 ms (got ${replies.length} over 0.1 s)`);
  assert.equal(d.state.state, 'MASTER');
});

test('stop: a MASTER sends priority 0, removes its addresses, notifies STOP', () => {
  const d = master();
  assert.deepEqual(kinds(d.on({ type: 'stop' }, d.now + 10 * MS)), ['advert:0', 'remove-addresses', 'notify:STOP']);
  assert.equal(d.state.state, 'STOP');
  assert.equal(d.deadline(), null);
  const b = new Driver(resolveOne({}));
  b.start(0);
  assert.deepEqual(kinds(b.on({ type: 'stop' }, 10)), ['notify:STOP']);
});

test('tracking: a fault takes a MASTER to FAULT with priority 0 (keepalived sends it twice), recovery goes through BACKUP', () => {
  const d = master();
  const t = d.now + 100 * MS;
  assert.deepEqual(kinds(d.on({ type: 'tracking', totals: { totalPriority: 100, faults: 1, initPending: 0 } }, t)),
    ['advert:0', 'advert:0', 'remove-addresses', 'notify:FAULT']);
  assert.equal(d.state.state, 'FAULT');
  assert.equal(d.deadline(), null);
  assert.deepEqual(kinds(d.packet({ prio: 200 }, t + 1)), ['drop:not_running']);
  assert.deepEqual(kinds(d.on({ type: 'tracking', totals: { totalPriority: 100, faults: 0, initPending: 0 } }, t + S)), ['notify:BACKUP']);
  assert.equal(d.state.sands, t + S + MDI_100);
});

test('weighted tracking: effective priority clamps to 1..254, shifts a running BACKUP timer, never touches the owner', () => {
  const d = new Driver(resolveOne({ priority: 100 }));
  d.start(0);
  const rows = [
    { total: 150, eff: 150 },
    { total: 400, eff: 254 },
    { total: -20, eff: 1 },
    { total: 100, eff: 100 },
  ];
  for (const r of rows) {
    const before = d.state;
    d.on({ type: 'tracking', totals: { totalPriority: r.total, faults: 0, initPending: 0 } }, 1 * S);
    assert.equal(d.state.effectivePriority, r.eff, `total ${r.total}`);
    assert.equal((d.state.sands as number) - (before.sands as number), d.state.msDownTimerUs - before.msDownTimerUs, 'timer shifted by the skew change');
  }
  const owner = new Driver(resolveOne({ state: 'MASTER' }));
  owner.start(0);
  owner.on({ type: 'tracking', totals: { totalPriority: 100, faults: 0, initPending: 0 } }, 1);
  assert.equal(owner.state.effectivePriority, 255);
});

test('auth_type AH: the sequence number rises per advert; a replayed advert is dropped', () => {
  const d = new Driver(resolveOne({ priority: 100, authentication: { auth_type: 'AH', auth_pass: 's3cret' } }));
  d.start(0);
  assert.deepEqual(kinds(d.packet({ prio: 200, authType: AUTH_TYPE.ah, pass: 's3cret', ahSeq: 7 }, S)), []);
  assert.equal(d.state.ahSeq, 7);
  assert.deepEqual(kinds(d.packet({ prio: 200, authType: AUTH_TYPE.ah, pass: 's3cret', ahSeq: 7 }, 2 * S)), ['drop:ah_replay']);
  assert.deepEqual(kinds(d.packet({ prio: 200, authType: AUTH_TYPE.ah, pass: 'nope', ahSeq: 8 }, 2 * S)), ['drop:ah_icv_invalid']);
  d.runUntil(10 * S);
  const seqs = d.log.map((l) => l.action).filter((a) => a.type === 'send-advert').map((a) => (a.type === 'send-advert' ? a.ahSeq : null));
  assert.deepEqual(seqs.slice(0, 3), [8, 9, 10], 'a new master continues above the last sequence number it accepted');
});

test('the receiving side ignores nothing silently: every drop carries its reason', () => {
  const d = new Driver(resolveOne({ priority: 100 }), undefined, LOCAL);
  d.start(0);
  assert.deepEqual(kinds(d.packet({ vrid: 51, prio: 200, dst: '198.18.10.2' }, S)), ['drop:cast_mismatch']);
  assert.deepEqual(kinds(d.packet({ prio: 200, addrs: [] }, S)), ['drop:addr_count_mismatch']);
});
