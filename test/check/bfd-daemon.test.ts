// BFD_CHECK through keepvs -f (src/daemon/config.ts ConfigRunner): the daemon runs the bfd_instance
// sessions its BFD_CHECKs name, the director follows them, and a SIGHUP reload keeps an unchanged
// session running, restarts a changed one and stops one no longer used. The peer is a second BFD
// process on an in-memory wire; one hand-stepped clock drives both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Director } from '../../src/core/director.ts';
import { memoryKeepalivedHost } from '../../src/config/keepalived/memory-host.ts';
import { ConfigRunner } from '../../src/daemon/config.ts';
import type { Logger } from '../../src/daemon/log.ts';
import { BfdProcess } from '../../src/check/bfd/process.ts';
import { bfdInstanceConfigs } from '../../src/check/bfd/config.ts';
import { FakePlane } from '../api/fake-plane.ts';
import { ManualClock } from './fake-clock.ts';
import { FakeWire } from './bfd-fake-net.ts';

const CONF = '/etc/keepalived/keepalived.conf';

const conf = (bfd: string, withCheck = true) => `
bfd_instance to_rs {
  neighbor_ip 198.18.0.2
  min_rx 100
  min_tx 100
${bfd}
}
virtual_server 198.18.0.1 80 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  real_server 198.18.0.2 80 {
${withCheck ? '    BFD_CHECK {\n      name to_rs\n    }' : ''}
  }
  real_server 198.18.0.3 80 {
  }
}
`;

test('keepvs -f: BFD_CHECK sessions run in the daemon, follow the peer, and survive an unchanged reload', async () => {
  const clock = new ManualClock();
  const wire = new FakeWire(clock);
  const files: Record<string, string> = { [CONF]: conf('  multiplier 3') };
  const host = memoryKeepalivedHost({ files: new Proxy({}, { get: (_t, p) => files[p as string], has: (_t, p) => (p as string) in files, ownKeys: () => Object.keys(files), getOwnPropertyDescriptor: (_t, p) => ({ enumerable: true, configurable: true, value: files[p as string] }) }) });
  const logs: string[] = [];
  const log = (l: string) => (m: string) => { logs.push(`${l}: ${m}`); };
  const logger: Logger = { log: (l, m) => logs.push(`${l}: ${m}`), error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
  const director = new Director();
  const runner = new ConfigRunner({
    director, plane: new FakePlane(), log: logger, host, now: () => clock.now(), checker: { clock, random: () => 0.5 }, bfdNet: wire.host('198.18.0.1'),
  });
  const peerCfg = bfdInstanceConfigs([{ name: 'to_director', at: { file: 'x', line: 1, col: 1 }, settings: new Map([['neighbor_ip', ['198.18.0.1']], ['min_rx', ['100']], ['min_tx', ['100']], ['multiplier', ['3']]]) }]).instances;
  const peer = new BfdProcess({ instances: peerCfg, net: wire.host('198.18.0.2'), clock });
  await peer.start();
  const dests = () => director.services().flatMap((s) => [...s.dests].map((d) => d.addr.text)).sort();
  try {
    const r = await runner.start(CONF);
    assert.ok(r.ok, `${r.message}\n${logs.join('\n')}`);
    assert.deepEqual(dests(), ['198.18.0.3'], 'BFD Down at start: out');
    await clock.advance(3000);
    assert.deepEqual(dests(), ['198.18.0.2', '198.18.0.3'], 'session Up: in');

    wire.setLink('198.18.0.1', '198.18.0.2', false);
    await clock.advance(400);
    assert.deepEqual(dests(), ['198.18.0.3'], 'link cut: out within the detection time');
    wire.setLink('198.18.0.1', '198.18.0.2', true);
    await clock.advance(3000);
    assert.deepEqual(dests(), ['198.18.0.2', '198.18.0.3']);

    const before = peer.stats().transitions;
    assert.ok((await runner.reload(CONF)).ok);
    await clock.advance(1000);
    assert.deepEqual(dests(), ['198.18.0.2', '198.18.0.3'], 'unchanged reload: still in');
    assert.equal(peer.stats().transitions, before, 'the peer saw no flap');

    files[CONF] = conf('  multiplier 5');
    assert.ok((await runner.reload(CONF)).ok);
    assert.deepEqual(dests(), ['198.18.0.3'], 'changed instance: the session starts again from Down');
    await clock.advance(5000);
    assert.deepEqual(dests(), ['198.18.0.2', '198.18.0.3']);

    files[CONF] = conf('  multiplier 5', false);
    assert.ok((await runner.reload(CONF)).ok);
    await clock.advance(2000);
    assert.equal(peer.isUp('to_director'), false, 'no BFD_CHECK left: the session is stopped, the peer times out');
    assert.deepEqual(dests(), ['198.18.0.2', '198.18.0.3'], 'the real server without checkers stays');
  } finally {
    runner.stop();
    await peer.stop();
  }
});
