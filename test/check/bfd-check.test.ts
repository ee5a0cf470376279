// BFD_CHECK in the checker framework: the real server follows its bfd_instance's session (down at
// start while the session is not Up, as keepalived's start-up event makes it), alpha, several real
// servers on one instance, a missing BFD process, and keepalived.conf → spec (from-keepalived.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthChecker, type HealthEvent } from '../../src/check/health-checker.ts';
import type { VirtualServerSpec } from '../../src/check/spec.ts';
import { stepBfdCheck, type BfdStatusSource } from '../../src/check/bfd/check.ts';
import { initialState } from '../../src/check/state.ts';
import { virtualServerSpec, type SkippedChecker } from '../../src/check/from-keepalived.ts';
import { loadKeepalivedConfig } from '../../src/config/keepalived/load.ts';
import { memoryKeepalivedHost } from '../../src/config/keepalived/memory-host.ts';
import { BfdProcess } from '../../src/check/bfd/process.ts';
import { bfdInstanceConfigs } from '../../src/check/bfd/config.ts';
import { ManualClock } from './fake-clock.ts';
import { FakeWire } from './bfd-fake-net.ts';

class FakeBfd implements BfdStatusSource {
  readonly up = new Map<string, boolean>();
  readonly fns = new Set<(name: string, up: boolean) => void>();
  isUp(name: string): boolean | null {
    return this.up.get(name) ?? null;
  }
  subscribe(fn: (name: string, up: boolean) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  set(name: string, up: boolean): void {
    this.up.set(name, up);
    for (const f of this.fns) f(name, up);
  }
}

const vs = (checkers: VirtualServerSpec['real_server'][number]['checkers'][], alpha?: boolean): VirtualServerSpec => ({
  id: { kind: 'addr', address: '198.18.1.1', port: 80, protocol: 'tcp' },
  delay_loop: 10, warmup: 0, ...(alpha !== undefined ? { alpha } : {}),
  real_server: checkers.map((c, i) => ({ address: `198.18.2.${i + 1}`, port: 80, checkers: c })),
});

function collect(hc: HealthChecker): string[] {
  const out: string[] = [];
  hc.subscribe((e: HealthEvent) => {
    if (e.type === 'checker') return;
    if (e.type.startsWith('dest-') || e.type === 'rs-up' || e.type === 'rs-down') out.push(`${e.type} ${(e as { address: string }).address}`);
    else out.push(e.type);
  });
  return out;
}

test('BFD_CHECK: keepalived bfd_check_handle_event, one event at a time', () => {
  const rows: Array<[string, boolean, boolean, boolean, [boolean, boolean, boolean] | null]> = [
    // description, checker up, has run, event up, expected report [alive, wasUp, hadRun]
    ['start-up, session Down: reported down even though is_up starts true', true, false, false, [false, true, false]],
    ['start-up, session Up: reported up (has_run was false)', true, false, true, [true, true, false]],
    ['up and Up again: nothing', true, true, true, null],
    ['up, then Down', true, true, false, [false, true, true]],
    ['down, then Up', false, true, true, [true, false, true]],
    ['down and Down again: nothing', false, true, false, null],
  ];
  for (const [what, up, hasRun, ev, report] of rows) {
    const s = { ...initialState({ delayLoopMs: 0, delayBeforeRetryMs: 0, retry: 0, warmupMs: 0, alpha: false, rise: 1, fall: 1, logAllFailures: false }), up, hasRun };
    const r = stepBfdCheck(s, ev);
    assert.deepEqual(r.report && [r.report.alive, r.report.wasUp, r.report.hadRun], report, what);
    assert.equal(r.state.up, ev, what);
    assert.equal(r.state.hasRun, true, what);
  }
});

test('BFD_CHECK: the real server is out of the table while its session is not Up', () => {
  const bfd = new FakeBfd();
  bfd.up.set('rs1', false);
  const hc = new HealthChecker({ virtualServers: [vs([[{ type: 'BFD_CHECK', name: 'rs1' }], []])], clock: new ManualClock(), bfd });
  const events = collect(hc);
  hc.start();
  assert.deepEqual(events, ['dest-add 198.18.2.1', 'dest-add 198.18.2.2', 'quorum-up', 'dest-remove 198.18.2.1', 'rs-down 198.18.2.1']);
  events.length = 0;
  bfd.set('rs1', true);
  assert.deepEqual(events, ['dest-add 198.18.2.1', 'rs-up 198.18.2.1']);
  events.length = 0;
  bfd.set('other', false);
  bfd.set('rs1', true);
  assert.deepEqual(events, [], 'other instances and repeats change nothing');
  bfd.set('rs1', false);
  assert.deepEqual(events, ['dest-remove 198.18.2.1', 'rs-down 198.18.2.1']);
  const c = hc.snapshot().virtualServers[0].realServers[0].checkers[0];
  assert.deepEqual([c.type, c.up, c.nextAt], ['BFD_CHECK', false, null], 'never scheduled');
  hc.stop();
  bfd.set('rs1', true);
  assert.equal(bfd.fns.size, 0, 'unsubscribed on stop');
});

test('BFD_CHECK: alpha starts down; an Up session at start brings it in; two real servers on one instance', () => {
  const bfd = new FakeBfd();
  bfd.up.set('shared', true);
  const hc = new HealthChecker({
    virtualServers: [vs([[{ type: 'BFD_CHECK', name: 'shared' }], [{ type: 'BFD_CHECK', name: 'shared' }]], true)], clock: new ManualClock(), bfd,
  });
  const events = collect(hc);
  hc.start();
  // alpha: both start down (no dest-add at start-up); the Up session's start-up event brings them in.
  assert.ok(events.indexOf('rs-up 198.18.2.1') >= 0 && events.indexOf('rs-up 198.18.2.2') >= 0, events.join(', '));
  assert.deepEqual(hc.snapshot().virtualServers[0].realServers.map((r) => r.inIpvs), [true, true]);
  bfd.set('shared', false);
  assert.deepEqual(hc.snapshot().virtualServers[0].realServers.map((r) => r.inIpvs), [false, false]);
  hc.stop();
});

test('BFD_CHECK: without a BFD process the checker is down', () => {
  const hc = new HealthChecker({ virtualServers: [vs([[{ type: 'BFD_CHECK', name: 'x' }]])], clock: new ManualClock() });
  hc.start();
  assert.equal(hc.snapshot().virtualServers[0].realServers[0].inIpvs, false);
  hc.stop();
});

test('BFD_CHECK: follows a real BfdProcess session over an in-memory wire', async () => {
  const clock = new ManualClock();
  const wire = new FakeWire(clock);
  const at = { file: 'k.conf', line: 1, col: 1 };
  const mk = (name: string, nbr: string) => bfdInstanceConfigs([{ name, at, settings: new Map([['neighbor_ip', [nbr]], ['min_rx', ['100']], ['min_tx', ['100']], ['multiplier', ['3']]]) }]).instances;
  const a = new BfdProcess({ instances: mk('rs1', '198.18.0.2'), net: wire.host('198.18.0.1'), clock });
  const b = new BfdProcess({ instances: mk('back', '198.18.0.1'), net: wire.host('198.18.0.2'), clock });
  await a.start();
  await b.start();
  const hc = new HealthChecker({ virtualServers: [vs([[{ type: 'BFD_CHECK', name: 'rs1' }]])], clock, bfd: a });
  hc.start();
  const inIpvs = () => hc.snapshot().virtualServers[0].realServers[0].inIpvs;
  assert.equal(inIpvs(), false);
  await clock.advance(3000);
  assert.equal(inIpvs(), true);
  wire.setLink('198.18.0.1', '198.18.0.2', false);
  await clock.advance(400);
  assert.equal(inIpvs(), false, 'out within the detection time (300 ms) plus one interval');
  await b.stop();
  wire.setLink('198.18.0.1', '198.18.0.2', true);
  await clock.advance(3000);
  assert.equal(inIpvs(), false, 'peer gone: stays out');
  hc.stop();
  await a.stop();
});

test('BFD_CHECK: keepalived.conf to checker spec', () => {
  const conf = `
bfd_instance rs1 {
  neighbor_ip 198.18.2.1
}
bfd_instance vrrponly {
  neighbor_ip 198.18.2.2
  vrrp
}
virtual_server 198.18.1.1 80 {
  protocol TCP
  real_server 198.18.2.1 80 {
    BFD_CHECK {
      name rs1
      alpha
    }
  }
  real_server 198.18.2.2 80 {
    BFD_CHECK {
      name vrrponly
    }
  }
}
`;
  const host = memoryKeepalivedHost({ files: { '/etc/keepalived/keepalived.conf': conf } });
  const r = loadKeepalivedConfig('/etc/keepalived/keepalived.conf', { host });
  assert.ok(r.config, JSON.stringify(r.diagnostics));
  const skipped: SkippedChecker[] = [];
  const spec = virtualServerSpec(r.config!, r.config!.virtualServers[0], skipped);
  assert.deepEqual(spec.real_server[0].checkers, [{ type: 'BFD_CHECK', name: 'rs1', alpha: true }]);
  assert.deepEqual(spec.real_server[1].checkers, []);
  assert.deepEqual(skipped.map((s) => s.reason), ['BFD vrrponly not configured for the checker process']);
});
