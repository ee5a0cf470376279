// ha_suspend (keepalived check_api.c: register_checkers_thread, update_checker_activity): the
// checkers of such a virtual server probe only while its address is on this host; suspended, they
// keep their state and come round every delay_loop without probing. Injected clock and address set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthChecker, type Probes } from '../../src/check/health-checker.ts';
import type { VirtualServerSpec } from '../../src/check/spec.ts';
import { ManualClock } from './fake-clock.ts';

const VIP = '192.168.201.15';
const spec = (haSuspend: boolean): VirtualServerSpec => ({
  id: { kind: 'addr', address: VIP, port: 80, protocol: 'tcp' },
  delay_loop: 10, warmup: 0, ...(haSuspend ? { ha_suspend: true } : {}),
  real_server: [{ address: '10.0.0.1', port: 80, checkers: [{ type: 'TCP_CHECK' }] }],
});

function setup(haSuspend: boolean, present: boolean) {
  const clock = new ManualClock();
  const local = new Set<string>(present ? [VIP] : []);
  const calls: number[] = [];
  let ok = true;
  const probe = async () => {
    calls.push(clock.now());
    return { ok, code: ok ? 'L4OK' : 'L4CON', message: '', durationMs: 0 } as const;
  };
  const logs: string[] = [];
  const hc = new HealthChecker({
    virtualServers: [spec(haSuspend)], clock, random: () => 0, probes: { tcp: probe as unknown as Probes['tcp'] },
    isLocalAddress: (a) => local.has(a), log: (m) => logs.push(m),
  });
  const events: string[] = [];
  hc.subscribe((e) => { if (e.type !== 'checker') events.push(e.type); });
  return { clock, local, calls, logs, hc, events, fail: (v: boolean) => { ok = !v; } };
}

test('ha_suspend: no probe while the address is away, probes once it is here, suspended again when it goes', async () => {
  const s = setup(true, false);
  s.hc.start();
  assert.deepEqual(s.logs, ['Deactivating healthchecker for service [10.0.0.1]:tcp:80 for VS [192.168.201.15]:tcp:80']);
  await s.clock.advance(21_000);
  assert.deepEqual(s.calls, [], 'suspended: no probe');
  s.local.add(VIP);
  s.hc.addressesChanged();
  assert.equal(s.logs.at(-1), 'Activating healthchecker for service [10.0.0.1]:tcp:80 for VS [192.168.201.15]:tcp:80');
  await s.clock.advance(10_000);
  assert.deepEqual(s.calls, [31_000], 'the next round probes');
  s.fail(true);
  s.local.delete(VIP);
  s.hc.addressesChanged();
  assert.equal(s.logs.at(-1), 'Suspending healthchecker for service [10.0.0.1]:tcp:80 for VS [192.168.201.15]:tcp:80');
  const before = s.events.length;
  await s.clock.advance(60_000);
  assert.deepEqual(s.calls, [31_000], 'no probe while suspended');
  assert.equal(s.events.length, before, 'the server keeps its state');
  assert.equal(s.hc.snapshot().virtualServers[0].realServers[0].alive, true);
  s.hc.addressesChanged();
  assert.equal(s.logs.length, 3, 'no change, no log');
  s.hc.stop();
});

test('without ha_suspend the address does not matter', async () => {
  const s = setup(false, false);
  s.hc.start();
  await s.clock.advance(1000);
  assert.deepEqual(s.calls, [1000]);
  assert.deepEqual(s.logs, []);
  s.hc.stop();
});
