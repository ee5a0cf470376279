// The BFD process (src/check/bfd/process.ts) and bfd_instance settings (config.ts): two processes on
// an in-memory wire with a hand-stepped clock come Up, detect a cut link within the detection time,
// recover, count every refused datagram by reason, keep unchanged sessions over a reload, and retry
// a session whose socket could not be opened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BfdInstance } from '../../src/config/keepalived/model.ts';
import { bfdInstanceConfigs, BFD_DEFAULTS, type BfdInstanceConfig } from '../../src/check/bfd/config.ts';
import { BfdProcess, SENDER_RETRY_MS } from '../../src/check/bfd/process.ts';
import { encodeBfd } from '../../src/check/bfd/packet.ts';
import { ManualClock } from './fake-clock.ts';
import { FakeWire } from './bfd-fake-net.ts';

const at = { file: 'keepalived.conf', line: 1, col: 1 };
function instance(name: string, settings: Record<string, string[]>): BfdInstance {
  return { name, settings: new Map(Object.entries(settings)), at };
}
function configs(...bs: BfdInstance[]): BfdInstanceConfig[] {
  const r = bfdInstanceConfigs(bs);
  assert.deepEqual(r.problems, []);
  return r.instances;
}

test('bfd config: keepalived units, defaults and refusals', () => {
  const ok = bfdInstanceConfigs([instance('a', { neighbor_ip: ['198.18.0.2'], min_rx: ['50.5'], min_tx: ['20'], idle_tx: ['2000'], multiplier: ['4'], passive: [], max_hops: ['-1'] })]);
  assert.deepEqual(ok.instances[0].session, { minRxUs: 50_500, minTxUs: 20_000, idleTxUs: 2_000_000, detectMult: 4, passive: true, ttl: 255, maxHops: 255 });
  const d = bfdInstanceConfigs([instance('d', { neighbour_ip: ['2001:db8::2'] })]).instances[0];
  assert.deepEqual(d.session, {
    minRxUs: BFD_DEFAULTS.min_rx * 1000, minTxUs: BFD_DEFAULTS.min_tx * 1000, idleTxUs: BFD_DEFAULTS.idle_tx * 1000,
    detectMult: BFD_DEFAULTS.multiplier, passive: false, ttl: 64, maxHops: 0,
  }, 'IPv6 hop limit defaults to 64');
  assert.equal(d.checker, true, 'neither vrrp nor checker named: both hear it');
  assert.equal(bfdInstanceConfigs([instance('v', { neighbor_ip: ['198.18.0.2'], vrrp: [] })]).instances[0].checker, false);

  const rows: Array<[string, Record<string, string[]>, string, boolean]> = [
    ['malformed neighbor', { neighbor_ip: ['198.18.0.300'] }, 'BFD_BAD_ADDRESS', true],
    ['malformed source', { neighbor_ip: ['198.18.0.2'], source_ip: ['x'] }, 'BFD_BAD_ADDRESS', false],
    ['families differ', { neighbor_ip: ['198.18.0.2'], source_ip: ['2001:db8::1'] }, 'BFD_FAMILY_MISMATCH', true],
    ['min_rx 0', { neighbor_ip: ['198.18.0.2'], min_rx: ['0'] }, 'BFD_BAD_VALUE', false],
    ['idle_tx below 1000 ms', { neighbor_ip: ['198.18.0.2'], idle_tx: ['999'] }, 'BFD_BAD_VALUE', false],
    ['multiplier 256', { neighbor_ip: ['198.18.0.2'], multiplier: ['256'] }, 'BFD_BAD_VALUE', false],
    ['ttl 0', { neighbor_ip: ['198.18.0.2'], ttl: ['0'] }, 'BFD_BAD_VALUE', false],
    ['max_hops above ttl', { neighbor_ip: ['198.18.0.2'], ttl: ['10'], max_hops: ['20'] }, 'BFD_BAD_VALUE', false],
  ];
  for (const [what, settings, code, dropped] of rows) {
    const r = bfdInstanceConfigs([instance('x', settings)]);
    assert.deepEqual(r.problems.map((p) => [p.code, p.dropped]), [[code, dropped]], what);
    assert.equal(r.instances.length, dropped ? 0 : 1, what);
  }
  const dup = bfdInstanceConfigs([instance('a', { neighbor_ip: ['198.18.0.2'] }), instance('b', { neighbor_ip: ['198.18.0.2'] })]);
  assert.deepEqual(dup.problems.map((p) => p.code), ['BFD_DUPLICATE_NEIGHBOR']);
});

const fast = { min_rx: ['100'], min_tx: ['100'], idle_tx: ['1000'], multiplier: ['3'] };

function pair(clock: ManualClock, wire: FakeWire, over: Record<string, string[]> = {}) {
  const log: string[] = [];
  let seed = 1;
  const random = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
  const a = new BfdProcess({ instances: configs(instance('to-b', { neighbor_ip: ['198.18.0.2'], ...fast, ...over })), net: wire.host('198.18.0.1'), clock, random, log: (_l, m) => log.push(`a ${m}`) });
  const b = new BfdProcess({ instances: configs(instance('to-a', { neighbor_ip: ['198.18.0.1'], ...fast })), net: wire.host('198.18.0.2'), clock, random, log: (_l, m) => log.push(`b ${m}`) });
  return { a, b, log };
}

/** Two processes wired to each other, started and given 3 s to bring their sessions Up. */
async function upPair(): Promise<{ clock: ManualClock; wire: FakeWire } & ReturnType<typeof pair>> {
  const clock = new ManualClock();
  const wire = new FakeWire(clock);
  const p = pair(clock, wire);
  await p.a.start();
  await p.b.start();
  await clock.advance(3000);
  return { clock, wire, ...p };
}

test('bfd process: two sessions come Up, a cut link is detected within the detection time, then recovers', async () => {
  const clock = new ManualClock();
  const wire = new FakeWire(clock);
  const { a, b } = pair(clock, wire);
  const seen: string[] = [];
  a.subscribe((name, up) => seen.push(`${clock.now()} ${name} ${up ? 'up' : 'down'}`));
  await a.start();
  await b.start();
  assert.equal(a.isUp('to-b'), false);
  assert.equal(a.isUp('nothing'), null);
  await clock.advance(3000);
  assert.equal(a.isUp('to-b'), true);
  assert.equal(b.isUp('to-a'), true);
  const snap = a.snapshot()[0];
  assert.equal(snap.detectionTimeMs, 300);
  assert.equal(snap.txIntervalMs, 100);
  assert.equal(seen.length, 1);

  wire.setLink('198.18.0.1', '198.18.0.2', false);
  const cutAt = clock.now();
  await clock.advance(1000);
  assert.equal(a.isUp('to-b'), false);
  const downAt = Number(seen[1].split(' ')[0]);
  assert.match(seen[1], /to-b down$/);
  assert.ok(downAt - cutAt <= 300 + 1, `down ${downAt - cutAt} ms after the cut; detection time 300 ms`);
  assert.equal(a.snapshot()[0].localDiag, 'Control Detection Time Expired');

  wire.setLink('198.18.0.1', '198.18.0.2', true);
  await clock.advance(5000);
  assert.equal(a.isUp('to-b'), true);
  assert.match(seen[2], /to-b up$/);
  assert.equal(a.stats().sendErrors, 0);
  await a.stop();
  await b.stop();
});

test('bfd process: every refused datagram is counted by its reason', async () => {
  const { wire, a, b } = await upPair();
  const good = { version: 1, diag: 0, state: 'Down' as const, poll: false, final: false, cpi: false, auth: false, demand: false, multipoint: false, detectMult: 3, myDiscriminator: 7, yourDiscriminator: 0, desiredMinTxUs: 1_000_000, requiredMinRxUs: 100_000, requiredMinEchoRxUs: 0 };
  wire.inject('198.18.0.2', '198.18.0.1', new Uint8Array(10));
  wire.inject('198.18.0.2', '198.18.0.1', encodeBfd({ ...good, version: 2 }));
  wire.inject('198.18.0.9', '198.18.0.1', encodeBfd(good));
  wire.inject('198.18.0.2', '198.18.0.1', encodeBfd({ ...good, state: 'Up', yourDiscriminator: 12345 }));
  wire.inject('198.18.0.2', '198.18.0.1', encodeBfd(good), 254);
  wire.inject('198.18.0.2', '198.18.0.1', encodeBfd({ ...good, auth: true }));
  const d = a.stats().dropped;
  assert.deepEqual([d['too-short'], d['bad-version'], d['no-session'], d.ttl, d.auth], [1, 1, 2, 1, 1]);
  assert.equal(a.isUp('to-b'), true, 'refused packets change nothing');
  wire.inject('198.18.0.2', '198.18.0.1', encodeBfd(good), null);
  assert.equal(a.stats().noTtl, 1, 'a packet without a TTL is accepted and counted');
  await a.stop();
  await b.stop();
});

test('bfd process: a reload keeps unchanged sessions and restarts changed ones', async () => {
  const { clock, a, b } = await upPair();
  const discr = a.snapshot()[0].localDiscriminator;
  await a.reconfigure(configs(instance('to-b', { neighbor_ip: ['198.18.0.2'], ...fast })));
  assert.equal(a.snapshot()[0].localDiscriminator, discr);
  assert.equal(a.isUp('to-b'), true, 'unchanged: still Up');
  await a.reconfigure(configs(instance('to-b', { neighbor_ip: ['198.18.0.2'], ...fast, multiplier: ['5'] })));
  assert.equal(a.isUp('to-b'), false, 'changed: starts again from Down');
  await clock.advance(3000);
  assert.equal(a.isUp('to-b'), true);
  await a.reconfigure([]);
  assert.deepEqual(a.snapshot(), []);
  await a.stop();
  await b.stop();
});

test('bfd process: a session without a send socket is AdminDown and retried after 60 s', async () => {
  const clock = new ManualClock();
  const wire = new FakeWire(clock);
  const logs: string[] = [];
  const net = wire.host('198.18.0.1', true);
  const p = new BfdProcess({ instances: configs(instance('x', { neighbor_ip: ['198.18.0.2'] })), net, clock, log: (_l, m) => logs.push(m) });
  await p.start();
  assert.equal(p.snapshot()[0].state, 'AdminDown');
  assert.match(logs.join('\n'), /Unable to open output socket/);
  await clock.advance(SENDER_RETRY_MS);
  assert.equal(logs.filter((l) => /Unable to open/.test(l)).length, 2, 'retried once a minute');
  await p.stop();
});

test('bfd process: the send socket gets the configured TTL and source', async () => {
  const clock = new ManualClock();
  const wire = new FakeWire(clock);
  const net = wire.host('198.18.0.1');
  const p = new BfdProcess({ instances: configs(instance('x', { neighbor_ip: ['198.18.0.2'], source_ip: ['198.18.0.1'] })), net, clock });
  await p.start();
  assert.deepEqual(net.opened.map((o) => [o.family, o.neighbor, o.source, o.ttl, o.port]), [[4, '198.18.0.2', '198.18.0.1', 255, 3784]]);
  await p.stop();
});
