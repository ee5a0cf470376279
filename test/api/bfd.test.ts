// GET /v1/bfd and the keepvs_bfd_* metrics, through the API server, from a keepvs -f ConfigRunner that
// runs a bfd_instance for a BFD_CHECK (its bfdStatus(), as wiring.ts hands it to the API). The peer is
// a second BFD process on an in-memory wire; one hand-stepped clock drives both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Director } from '../../src/core/director.ts';
import { memoryKeepalivedHost } from '../../src/config/keepalived/memory-host.ts';
import { ConfigRunner } from '../../src/daemon/config.ts';
import { BfdProcess } from '../../src/check/bfd/process.ts';
import { bfdInstanceConfigs } from '../../src/check/bfd/config.ts';
import { encodeBfd } from '../../src/check/bfd/packet.ts';
import { FakePlane } from './fake-plane.ts';
import { ManualClock } from '../check/fake-clock.ts';
import { FakeWire } from '../check/bfd-fake-net.ts';
import { startHarness } from './harness.ts';

const CONF = '/etc/keepalived/keepalived.conf';
const TEXT = `
bfd_instance to_rs {
  neighbor_ip 198.18.0.2
  source_ip 198.18.0.1
  min_rx 100
  min_tx 100
  multiplier 3
}
virtual_server 198.18.0.1 80 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  real_server 198.18.0.2 80 {
    BFD_CHECK {
      name to_rs
    }
  }
}
`;

/** Sample value of `name{labels}` in a Prometheus text, or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('GET /v1/bfd and /metrics: no BFD process, no sessions', async () => {
  const h = await startHarness({ now: 0 }, { bfd: () => null });
  try {
    const r = await h.call('GET', '/v1/bfd');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { sessions: [], stats: null });
    const m = await h.call('GET', '/metrics');
    assert.equal(sample(m.text, 'keepvs_bfd_packets_received_total'), undefined);
    assert.match(m.text, /^# TYPE keepvs_bfd_session_up gauge$/m);
  } finally {
    await h.close();
  }
});

test('GET /v1/bfd and /metrics: a session going Up, its counters, and drops by reason', async () => {
  const clock = new ManualClock();
  const wire = new FakeWire(clock);
  const runner = new ConfigRunner({
    director: new Director(), plane: new FakePlane(), host: memoryKeepalivedHost({ files: { [CONF]: TEXT } }), now: () => clock.now(),
    checker: { clock, random: () => 0.5 }, bfdNet: wire.host('198.18.0.1'),
  });
  const peerCfg = bfdInstanceConfigs([{
    name: 'to_director', at: { file: 'x', line: 1, col: 1 },
    settings: new Map([['neighbor_ip', ['198.18.0.1']], ['min_rx', ['100']], ['min_tx', ['100']], ['multiplier', ['3']]]),
  }]).instances;
  const peer = new BfdProcess({ instances: peerCfg, net: wire.host('198.18.0.2'), clock });
  const h = await startHarness({ now: 0 }, { bfd: () => runner.bfdStatus() });
  try {
    await peer.start();
    assert.ok((await runner.start(CONF)).ok);
    const down = await h.call('GET', '/v1/bfd');
    assert.equal(down.json.sessions[0].state, 'Down');
    await clock.advance(3000);
    // Two refused datagrams: one too short, one from a host no session has.
    wire.inject('198.18.0.2', '198.18.0.1', new Uint8Array(10));
    wire.inject('198.18.0.9', '198.18.0.1', encodeBfd({
      version: 1, diag: 0, state: 'Down', poll: false, final: false, cpi: false, auth: false, demand: false, multipoint: false,
      detectMult: 3, myDiscriminator: 7, yourDiscriminator: 0, desiredMinTxUs: 1_000_000, requiredMinRxUs: 100_000, requiredMinEchoRxUs: 0,
    }));

    const r = await h.call('GET', '/v1/bfd');
    assert.equal(r.status, 200);
    const [s] = r.json.sessions;
    assert.equal(r.json.sessions.length, 1);
    assert.deepEqual(
      [s.name, s.neighbor, s.source, s.state, s.remoteState, s.localDiag, s.remoteDiag],
      ['to_rs', '198.18.0.2', '198.18.0.1', 'Up', 'Up', 'No Diagnostic', 'No Diagnostic'],
    );
    const peerSession = peer.snapshot()[0];
    assert.equal(s.remoteDiscriminator, peerSession.localDiscriminator, 'the peer\'s discriminator');
    assert.equal(s.localDiscriminator, peerSession.remoteDiscriminator);
    assert.ok(s.localDiscriminator !== 0);
    assert.equal(s.detectionTimeMs, 300, 'multiplier 3 × the peer\'s 100 ms');
    assert.ok(s.counters.received > 0 && s.counters.sent > 0, JSON.stringify(s.counters));
    assert.deepEqual(s.counters.dropped, {}, 'the refused datagrams were not this session\'s');
    assert.equal(r.json.stats.dropped['too-short'], 1);
    assert.equal(r.json.stats.dropped['no-session'], 1);
    assert.equal(r.json.stats.received, s.counters.received + 2, 'every datagram, accepted or refused');

    const m = (await h.call('GET', '/metrics')).text;
    const sl = '{name="to_rs",neighbor="198.18.0.2"}';
    assert.equal(sample(m, 'keepvs_bfd_session_up', sl), 1);
    assert.equal(sample(m, 'keepvs_bfd_session_detection_time_seconds', sl), 0.3);
    assert.equal(sample(m, 'keepvs_bfd_session_packets_received_total', sl), s.counters.received);
    assert.equal(sample(m, 'keepvs_bfd_packets_received_total'), r.json.stats.received);
    assert.equal(sample(m, 'keepvs_bfd_drops_total', '{reason="too-short"}'), 1);
    assert.equal(sample(m, 'keepvs_bfd_drops_total', '{reason="no-session"}'), 1);
    assert.equal(sample(m, 'keepvs_bfd_drops_total', '{reason="ttl"}'), 0, 'every reason is exported, also at 0');

    // The peer stops: the session goes Down after the detection time, and the gauge follows.
    await peer.stop();
    await clock.advance(1000);
    const after = (await h.call('GET', '/v1/bfd')).json.sessions[0];
    assert.equal(after.state, 'Down');
    assert.equal(after.localDiag, 'Control Detection Time Expired');
    assert.equal(sample((await h.call('GET', '/metrics')).text, 'keepvs_bfd_session_up', sl), 0);
  } finally {
    runner.stop();
    await peer.stop();
    await h.close();
  }
});
