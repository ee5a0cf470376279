// keepvs -d: the effective configuration written back as keepalived.conf. Reading a dump again must
// give the same configuration, for every sample and edge case; and the dump spells the defaults out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { loadKeepalivedConfig } from '../../src/config/keepalived/load.ts';
import { dumpKeepalivedConfig } from '../../src/config/keepalived/dump.ts';
import { memoryKeepalivedHost } from '../../src/config/keepalived/memory-host.ts';
import { nodeConfigFs } from '../../src/config/keepalived/host.ts';

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'keepalived');
const FILES = [
  ...readdirSync(FIXTURES).filter((f) => f.startsWith('keepalived.conf')).map((f) => join(FIXTURES, f)),
  ...readdirSync(join(FIXTURES, 'edge')).filter((f) => f.endsWith('.conf')).map((f) => join(FIXTURES, 'edge', f)),
];

/** The model without places (a dump is a different file). */
function shape(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(shape);
  if (x instanceof Map) return [...x.entries()].map(([k, v]) => [k, shape(v)]);
  if (x instanceof Uint8Array) return [...x];
  if (x && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'at' && k !== 'files').map(([k, v]) => [k, shape(v)]));
  }
  return x;
}

test('dump, then read the dump: the same configuration', async (t) => {
  for (const file of FILES) {
    await t.test(file.slice(FIXTURES.length + 1), () => {
      const host = memoryKeepalivedHost({ fallback: nodeConfigFs(), interfaces: ['lo', 'eth0', 'eth1', 'eth2', 'eth3'], scripts: ['/bin/true'] });
      const a = loadKeepalivedConfig(file, { host });
      assert.ok(a.config);
      const text = dumpKeepalivedConfig(a.config);
      const again = memoryKeepalivedHost({ files: { '/dump.conf': text }, interfaces: ['lo', 'eth0', 'eth1', 'eth2', 'eth3'], scripts: ['/bin/true'] });
      const b = loadKeepalivedConfig('/dump.conf', { host: again });
      assert.ok(b.config);
      assert.ok(isDeepStrictEqual(shape(a.config), shape(b.config)), `round trip differs for ${file}:\n${text}`);
    });
  }
});

test('the dump spells out keepalived defaults', () => {
  const host = memoryKeepalivedHost({ files: { '/k.conf': 'virtual_server 10.0.0.1 53 {\n real_server 10.0.0.2 53 {\n  DNS_CHECK {\n  }\n }\n}\n' } });
  const r = loadKeepalivedConfig('/k.conf', { host });
  const text = dumpKeepalivedConfig(r.config!);
  for (const line of [
    '   protocol UDP', '   lvs_sched wlc', '   lvs_method NAT', '   delay_loop 60', '   connect_timeout 5', '   quorum 1',
    '      weight 1', '         retry 3', '         delay_before_retry 60', '         type SOA',
    '   router_id testhost', '   notification_email_from keepalived@testhost', '   vrrp_mcast_group4 224.0.0.18',
  ]) {
    assert.ok(text.split('\n').includes(line), `missing "${line}" in:\n${text}`);
  }
});

test('scripts keep their arguments and user through the dump', () => {
  const src = 'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n notify_master "/bin/x \'two words\' b" nobody\n virtual_ipaddress {\n  192.0.2.1\n }\n}\n';
  const host = memoryKeepalivedHost({ files: { '/k.conf': src }, users: ['nobody'] });
  const r = loadKeepalivedConfig('/k.conf', { host });
  const m = r.config!.vrrpInstances[0].notify.master!;
  assert.deepEqual([m.args, m.user], [['/bin/x', 'two words', 'b'], 'nobody']);
  const text = dumpKeepalivedConfig(r.config!);
  const b = loadKeepalivedConfig('/d.conf', { host: memoryKeepalivedHost({ files: { '/d.conf': text }, users: ['nobody'] }) });
  assert.deepEqual(b.config!.vrrpInstances[0].notify.master!.args, ['/bin/x', 'two words', 'b']);
});
