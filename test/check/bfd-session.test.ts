// The BFD session state machine (src/check/bfd/session.ts), stepped one event at a time with an
// injected time: RFC 5880's state table, detection time, poll/final, idle_tx while down, passive,
// the TTL check, and a replay of a real keepalived 2.2.7 handshake (test/fixtures/bfd/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type BfdPacket, type BfdState, encodeBfd, parseBfd } from '../../src/check/bfd/packet.ts';
import {
  type BfdContext, type BfdEvent, type BfdSession, type BfdSessionConfig, type BfdStep,
  initialSession, nextDeadline, stepSession, txDelayMs,
} from '../../src/check/bfd/session.ts';

const cfg: BfdSessionConfig = { minRxUs: 100_000, minTxUs: 100_000, idleTxUs: 1_000_000, detectMult: 3, passive: false, ttl: 255, maxHops: 0 };
const LOCAL = 0x1e757ba8;
const REMOTE = 0x6778a608;

function ctx(now: number, discr = 0xabcdef02): BfdContext {
  return { now, random: () => 0.5, newDiscriminator: () => discr };
}

function peer(state: BfdState, over: Partial<BfdPacket> = {}): BfdPacket {
  return {
    version: 1, diag: 0, state, poll: false, final: false, cpi: false, auth: false, demand: false, multipoint: false, detectMult: 3,
    length: 24, myDiscriminator: REMOTE, yourDiscriminator: state === 'Down' || state === 'AdminDown' ? 0 : LOCAL,
    desiredMinTxUs: state === 'Up' ? 100_000 : 1_000_000, requiredMinRxUs: 100_000, requiredMinEchoRxUs: 0, ...over,
  };
}

const rx = (packet: BfdPacket, ttl: number | null = 255): BfdEvent => ({ type: 'packet', packet, ttl });

/** Drive a session to a state by the handshake (Down → Init → Up) at time `t`. */
function sessionIn(state: BfdState, c: BfdSessionConfig = cfg, t = 0): BfdSession {
  let s = stepSession(c, initialSession(c, LOCAL), { type: 'start' }, ctx(t)).session;
  if (state === 'Down') return s;
  if (state === 'AdminDown') return stepSession(c, s, { type: 'admin-down' }, ctx(t)).session;
  s = stepSession(c, s, rx(peer('Down')), ctx(t)).session;
  if (state === 'Init') return s;
  return stepSession(c, s, rx(peer('Up')), ctx(t)).session;
}

test('bfd session: the state table (RFC 5880 §6.8.6), with what the checker is told', () => {
  const rows: Array<[string, BfdState, BfdPacket, BfdState, number, boolean | null]> = [
    // description, local state, received, expected state, expected diag, notify (null: no change)
    ['Down hears Down: Init', 'Down', peer('Down'), 'Init', 0, false],
    ['Down hears Init: Up', 'Down', peer('Init'), 'Up', 0, true],
    ['Down hears Up: stays Down', 'Down', peer('Up'), 'Down', 0, null],
    ['Init hears Init: Up', 'Init', peer('Init'), 'Up', 0, true],
    ['Init hears Up: Up', 'Init', peer('Up'), 'Up', 0, true],
    ['Init hears Down: stays Init', 'Init', peer('Down'), 'Init', 0, null],
    ['Up hears Up: stays Up', 'Up', peer('Up'), 'Up', 0, null],
    ['Up hears Init: stays Up', 'Up', peer('Init'), 'Up', 0, null],
    ['Up hears Down: Down, neighbor signaled, checker told', 'Up', peer('Down'), 'Down', 3, true],
    ['Up hears AdminDown: Down, but the checker is not told (RFC 5882 §3.2)', 'Up', peer('AdminDown', { diag: 7 }), 'Down', 3, false],
    ['Init hears AdminDown: Down', 'Init', peer('AdminDown'), 'Down', 3, false],
    ['Down hears AdminDown: stays Down', 'Down', peer('AdminDown'), 'Down', 0, null],
  ];
  for (const [what, from, packet, to, diag, notify] of rows) {
    const r = stepSession(cfg, sessionIn(from), rx(packet), ctx(10));
    assert.equal(r.drop, undefined, what);
    assert.equal(r.session.local, to, what);
    assert.equal(r.session.localDiag, diag, what);
    if (notify === null) assert.deepEqual(r.changes, [], what);
    else assert.deepEqual(r.changes.map((c) => [c.from, c.to, c.notify]), [[from, to, notify]], what);
    assert.equal(r.session.remoteDiscr, REMOTE, `${what}: Your Discriminator learnt`);
  }
});

test('bfd session: refusals that need the session (TTL, A bit, AdminDown)', () => {
  const rows: Array<[string, Partial<BfdSessionConfig>, BfdState, BfdEvent, BfdStep['drop'] | undefined]> = [
    ['TTL 254 with max_hops 0 (RFC 5881 §5)', {}, 'Down', rx(peer('Down'), 254), 'ttl'],
    ['TTL 1 with max_hops 0', {}, 'Down', rx(peer('Down'), 1), 'ttl'],
    ['TTL 254 with max_hops 1', { maxHops: 1 }, 'Down', rx(peer('Down'), 254), undefined],
    ['TTL 1 with max_hops 255 (keepalived -1: no check)', { maxHops: 255 }, 'Down', rx(peer('Down'), 1), undefined],
    ['TTL unknown: accepted (counted by the process)', {}, 'Down', rx(peer('Down'), null), undefined],
    ['IPv6 hop limit 64 with ttl 64', { ttl: 64 }, 'Down', rx(peer('Down'), 64), undefined],
    ['A bit without authentication', {}, 'Down', rx(peer('Down', { auth: true })), 'auth'],
    ['AdminDown discards everything', {}, 'AdminDown', rx(peer('Down')), 'admin-down'],
  ];
  for (const [what, over, from, ev, drop] of rows) {
    const c = { ...cfg, ...over };
    const before = sessionIn(from, c);
    const r = stepSession(c, before, ev, ctx(5));
    assert.equal(r.drop, drop, what);
    if (drop) {
      assert.equal(r.session, before, `${what}: session untouched`);
      assert.deepEqual(r.send, [], what);
    } else {
      assert.equal(r.session.local, 'Init', what);
    }
  }
});

test('bfd session: detection time = remote Detect Mult × max(local min_rx, remote min_tx)', () => {
  const rows: Array<[string, Partial<BfdPacket>, Partial<BfdSessionConfig>, number]> = [
    ['both 100 ms, mult 3', {}, {}, 300_000],
    ['remote sends slower (250 ms)', { desiredMinTxUs: 250_000 }, {}, 750_000],
    ['we accept slower (min_rx 400 ms)', {}, { minRxUs: 400_000 }, 1_200_000],
    ['remote mult 5', { detectMult: 5 }, {}, 500_000],
  ];
  for (const [what, pk, over, detect] of rows) {
    const c = { ...cfg, ...over };
    const s = stepSession(c, sessionIn('Init', c), rx(peer('Up', pk)), ctx(0)).session;
    assert.equal(s.local, 'Up', what);
    assert.equal(s.detectUs, detect, what);
    assert.equal(s.expireAt, detect / 1000, `${what}: expiry armed`);
  }
});

test('bfd session: Up expires after the detection time without packets, and packets push it back', () => {
  let s = sessionIn('Up');
  assert.equal(s.expireAt, 300);
  s = stepSession(cfg, s, rx(peer('Up')), ctx(250)).session;
  assert.equal(s.expireAt, 550, 'a packet while Up restarts the detection timer');
  let r = stepSession(cfg, s, { type: 'timer' }, ctx(549));
  assert.equal(r.session.local, 'Up', 'not yet');
  r = stepSession(cfg, r.session, { type: 'timer' }, ctx(550));
  assert.equal(r.session.local, 'Down');
  assert.equal(r.session.localDiag, 1, 'Control Detection Time Expired');
  assert.equal(r.session.remoteDiscr, 0, 'RFC 5880 §6.8.1: Your Discriminator forgotten');
  assert.equal(r.session.localDiscr, 0xabcdef02, 'leaving Up picks a new local discriminator (keepalived)');
  assert.deepEqual(r.changes.map((c) => [c.to, c.notify]), [['Down', true]]);
  assert.equal(r.session.localTxUs, 1_000_000, 'back to idle_tx (RFC 5880 §6.8.3)');
  assert.equal(r.session.resetAt, 550 + 300, 'reset armed one detection time later');
  r = stepSession(cfg, r.session, { type: 'timer' }, ctx(850));
  assert.equal(r.session.remote, 'Down');
  assert.equal(r.session.resetAt, null);
});

test('bfd session: an Init that never completes expires one detection time after it began (keepalived)', () => {
  let s = sessionIn('Init', cfg, 0);
  const detect = s.expireAt!;
  assert.equal(detect, 3000, 'idle intervals: 3 × 1 s');
  s = stepSession(cfg, s, rx(peer('Down')), ctx(2000)).session;
  assert.equal(s.expireAt, detect, 'packets do not push the timer back while Init');
  const r = stepSession(cfg, s, { type: 'timer' }, ctx(3000));
  assert.equal(r.session.local, 'Down');
  assert.deepEqual(r.changes.map((c) => [c.from, c.to, c.notify]), [['Init', 'Down', false]]);
});

test('bfd session: idle_tx while not Up, min_tx through a poll sequence once Up', () => {
  let r = stepSession(cfg, initialSession(cfg, LOCAL), { type: 'start' }, ctx(0));
  assert.equal(r.send.length, 1, 'a first packet at once');
  assert.equal(r.send[0].desiredMinTxUs, 1_000_000, 'Desired Min TX is idle_tx while Down');
  assert.equal(r.session.txAt, txDelayMs(1_000_000, 0.5));
  r = stepSession(cfg, r.session, { type: 'timer' }, ctx(r.session.txAt!));
  assert.equal(r.send.length, 1);
  r = stepSession(cfg, r.session, rx(peer('Init')), ctx(1000));
  assert.equal(r.session.local, 'Up');
  assert.equal(r.session.poll, true, 'idle_tx ≠ min_tx: a poll sequence announces the faster rate');
  assert.equal(r.session.localTxUs, 1_000_000, 'not faster before the Final');
  r = stepSession(cfg, r.session, { type: 'timer' }, ctx(r.session.txAt!));
  assert.deepEqual([r.send[0].state, r.send[0].poll, r.send[0].desiredMinTxUs], ['Up', true, 100_000]);
  r = stepSession(cfg, r.session, rx(peer('Up', { final: true })), ctx(2000));
  assert.equal(r.session.poll, false, 'the Final ends the poll sequence');
  assert.equal(r.session.localTxUs, 100_000);
  assert.equal(r.session.txAt, 2000 + txDelayMs(100_000, 0.5), 'a shorter interval reschedules the sender');
  r = stepSession(cfg, r.session, { type: 'timer' }, ctx(r.session.txAt!));
  assert.deepEqual([r.send[0].poll, r.send[0].final], [false, false]);
});

test('bfd session: a received Poll is answered at once with a Final (RFC 5880 §6.5)', () => {
  const s = sessionIn('Up');
  const r = stepSession(cfg, { ...s, poll: false }, rx(peer('Up', { poll: true, desiredMinTxUs: 200_000 })), ctx(100));
  assert.equal(r.send.length, 1);
  assert.deepEqual([r.send[0].final, r.send[0].poll], [true, false]);
  assert.equal(r.session.final, false, 'the Final is sent once');
  assert.equal(r.session.detectUs, 600_000, 'new parameters take effect with the poll');
  // While Up, a packet without P/F does not change the intervals.
  const r2 = stepSession(cfg, r.session, rx(peer('Up', { desiredMinTxUs: 500_000 })), ctx(150));
  assert.equal(r2.session.detectUs, 600_000);
});

test('bfd session: jitter shortens each interval by 10-25% (keepalived get_jitter)', () => {
  const rows: Array<[string, number, number, number]> = [
    ['1 s, least jitter', 1_000_000, 0, 900],
    ['1 s, most jitter', 1_000_000, 0.9999999, 750],
    ['100 ms, least', 100_000, 0, 90],
    ['100 ms, most', 100_000, 0.9999999, 75],
  ];
  for (const [what, us, r, ms] of rows) assert.equal(txDelayMs(us, r), ms, what);
});

test('bfd session: passive waits for the peer, and goes quiet again when Down', () => {
  const c = { ...cfg, passive: true };
  let r = stepSession(c, initialSession(c, LOCAL), { type: 'start' }, ctx(0));
  assert.deepEqual(r.send, [], 'sends nothing at start');
  assert.equal(nextDeadline(r.session), null, 'no timer at all');
  r = stepSession(c, r.session, rx(peer('Down')), ctx(10));
  assert.equal(r.session.local, 'Init');
  assert.notEqual(r.session.txAt, null, 'heard the peer: starts sending');
  r = stepSession(c, r.session, rx(peer('Up')), ctx(20));
  const up = r.session;
  r = stepSession(c, up, { type: 'timer' }, ctx(up.expireAt!));
  assert.equal(r.session.local, 'Down');
  assert.equal(r.session.txAt, null, 'expired: quiet again');
  // keepalived quirk: Down signalled by a packet cancels the passive sender, then the packet handler
  // schedules it again (the peer is plainly there), so it keeps sending.
  r = stepSession(c, up, rx(peer('Down')), ctx(30));
  assert.equal(r.session.local, 'Down');
  assert.notEqual(r.session.txAt, null);
});

test('bfd session: AdminDown stops sending; admin-up resumes', () => {
  let r = stepSession(cfg, sessionIn('Up'), { type: 'admin-down' }, ctx(0));
  assert.equal(r.session.local, 'AdminDown');
  assert.equal(r.session.localDiag, 7);
  assert.equal(r.session.txAt, null);
  assert.deepEqual(r.changes.map((c) => c.notify), [false]);
  r = stepSession(cfg, r.session, { type: 'admin-up' }, ctx(10));
  assert.equal(r.session.local, 'Down');
  assert.notEqual(r.session.txAt, null);
});

test('bfd session: replaying keepalived 2.2.7 peer packets, we send what keepalived sent, byte for byte', () => {
  const text = readFileSync(resolve(import.meta.dirname, '..', 'fixtures', 'bfd', 'keepalived-2.2.7-handshake.txt'), 'utf8');
  const caps = text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const [ms, src, , , payload] = l.split(' ');
    return { ms: Number(ms), from: src.split('.')[3], payload: new Uint8Array(Buffer.from(payload, 'hex')) };
  });
  // Our session plays 198.18.40.1 (same bfd_instance values and discriminator), fed 198.18.40.2's packets.
  const ours = caps.filter((c) => c.from === '1');
  const theirs = caps.filter((c) => c.from === '2' && c.ms > ours[0].ms);
  const sent: string[] = [];
  let r = stepSession(cfg, initialSession(cfg, LOCAL), { type: 'start' }, ctx(ours[0].ms));
  sent.push(...r.send.map((p) => Buffer.from(encodeBfd(p)).toString('hex')));
  for (const t of theirs) {
    r = stepSession(cfg, r.session, rx(parseBfd(t.payload)!), ctx(t.ms));
    sent.push(...r.send.map((p) => Buffer.from(encodeBfd(p)).toString('hex')));
    // Our next periodic packet, as keepalived's was sent between the peer's.
    r = stepSession(cfg, r.session, { type: 'timer' }, ctx(r.session.txAt!));
    sent.push(...r.send.map((p) => Buffer.from(encodeBfd(p)).toString('hex')));
  }
  const want = ours.map((c) => Buffer.from(c.payload).toString('hex'));
  assert.deepEqual(sent.slice(0, want.length), want);
});
