// ha_suspend on a `virtual_server group NAME`: which addresses are watched (from-keepalived.ts:
// groupAddresses, after keepalived's check_api.c: addr_matches for groups — each single address,
// every address of a range) and that the group's checkers run while any of them is on this host
// and stop when the last one goes. Injected clock and address set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthChecker, type Probes } from '../../src/check/health-checker.ts';
import { groupAddresses, virtualServerSpec } from '../../src/check/from-keepalived.ts';
import { loadKeepalivedConfig } from '../../src/config/keepalived/load.ts';
import { memoryKeepalivedHost } from '../../src/config/keepalived/memory-host.ts';
import { formatDiagnostic } from '../../src/config/keepalived/diagnostics.ts';
import { ManualClock } from './fake-clock.ts';

const conf = (entries: string, haSuspend = true, rs = '10.0.0.1') => `virtual_server_group web {
${entries}
}
virtual_server group web {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  delay_loop 10
${haSuspend ? '  ha_suspend' : ''}
  real_server ${rs} 80 {
    TCP_CHECK {
      warmup 0
    }
  }
}
`;

function load(text: string) {
  const r = loadKeepalivedConfig('/k.conf', { host: memoryKeepalivedHost({ files: { '/k.conf': text } }) });
  assert.ok(r.config);
  return { config: r.config, diags: r.diagnostics.map(formatDiagnostic) };
}

const rows: ReadonlyArray<{ desc: string; entries: string; watched: readonly string[]; rs?: string }> = [
  { desc: 'single addresses', entries: '  198.18.0.10 80\n  198.18.0.11 443', watched: ['198.18.0.10', '198.18.0.11'] },
  { desc: 'an IPv4 range: every address of it', entries: '  198.18.0.20-23 80', watched: ['198.18.0.20', '198.18.0.21', '198.18.0.22', '198.18.0.23'] },
  { desc: 'an IPv6 range', entries: '  2001:db8::a-c 80', watched: ['2001:db8::a', '2001:db8::b', '2001:db8::c'], rs: '2001:db8::100' },
  { desc: 'an address named twice is watched once', entries: '  198.18.0.10 80\n  198.18.0.10 443', watched: ['198.18.0.10'] },
];

for (const row of rows) {
  test(`ha_suspend group addresses: ${row.desc}`, () => {
    const { config } = load(conf(row.entries, true, row.rs));
    assert.deepEqual(groupAddresses(config, 'web'), row.watched);
    const spec = virtualServerSpec(config, config.virtualServers[0], []);
    assert.equal(spec.ha_suspend, true);
    assert.deepEqual(spec.ha_suspend_addresses, row.watched);
  });
}

test('ha_suspend group: without ha_suspend no address list is made', () => {
  const { config } = load(conf('  198.18.0.10 80', false));
  assert.equal(virtualServerSpec(config, config.virtualServers[0], []).ha_suspend_addresses, undefined);
});

test('ha_suspend group: a group with fwmark entries loses ha_suspend, as keepalived clears it', () => {
  const { config, diags } = load(conf('  198.18.0.10 80\n  fwmark 7'));
  assert.equal(config.virtualServers[0].haSuspend, false);
  assert.ok(diags.some((d) => d.includes('cannot use ha_suspend with fwmarks - clearing ha_suspend')), diags.join('\n'));
});

test('ha_suspend group: checkers run while any group address is here, suspend when the last one goes', async () => {
  const { config } = load(conf('  198.18.0.10 80\n  198.18.0.20-21 80'));
  const clock = new ManualClock();
  const local = new Set<string>();
  const calls: number[] = [];
  const probe = async () => {
    calls.push(clock.now());
    return { ok: true, code: 'L4OK', message: '', durationMs: 0 } as const;
  };
  const logs: string[] = [];
  const hc = new HealthChecker({
    virtualServers: [virtualServerSpec(config, config.virtualServers[0], [])], clock, random: () => 0,
    probes: { tcp: probe as unknown as Probes['tcp'] }, isLocalAddress: (a) => local.has(a), log: (m) => logs.push(m),
  });
  try {
    hc.start();
    assert.deepEqual(logs, ['Deactivating healthchecker for service [10.0.0.1]:tcp:80 for VS [web]:0']);
    await clock.advance(21_000);
    assert.deepEqual(calls, [], 'no group address here: no probe');
    local.add('198.18.0.21'); // an address inside the range
    hc.addressesChanged();
    assert.equal(logs.at(-1), 'Activating healthchecker for service [10.0.0.1]:tcp:80 for VS [web]:0');
    await clock.advance(10_000);
    assert.deepEqual(calls, [31_000]);
    local.add('198.18.0.10');
    local.delete('198.18.0.21');
    hc.addressesChanged();
    assert.equal(logs.length, 2, 'another group address is still here: stays active');
    await clock.advance(10_000);
    assert.deepEqual(calls, [31_000, 41_000]);
    local.delete('198.18.0.10');
    local.add('198.18.0.22'); // outside the range: not a group address
    hc.addressesChanged();
    assert.equal(logs.at(-1), 'Suspending healthchecker for service [10.0.0.1]:tcp:80 for VS [web]:0');
    await clock.advance(30_000);
    assert.deepEqual(calls, [31_000, 41_000], 'suspended: no probe');
  } finally {
    hc.stop();
  }
});
