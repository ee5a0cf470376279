// The nft plane's daemon flags (--nft-*, with KEEPVS_NFT_* as the fallback) and the per-service
// exact path (keepvsadm --exact-path / API "exactPath"): parsed, checked, merged, carried through
// the API into the core Service, honoured by the nft model and ignored by the proxy plane.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseDaemonArgs } from '../../src/daemon/options.ts';
import { mergeNftOptions, nftFlagValue, NFT_FLAGS } from '../../src/dataplane/nft/flags.ts';
import { Director } from '../../src/core/director.ts';
import { addr } from '../../src/core/addr.ts';
import { buildModel } from '../../src/dataplane/nft/model.ts';
import { BackendIds } from '../../src/dataplane/nft/marks.ts';
import { ProxyPlane } from '../../src/dataplane/proxy/plane.ts';
import { startHarness, type Harness } from '../api/harness.ts';

test('--nft-* flags set the nft plane\'s options', async (t) => {
  const rows: { desc: string; args: string[]; nft: unknown }[] = [
    { desc: 'none given: no nft key at all', args: ['--dataplane', 'nft'], nft: undefined },
    { desc: '--nft-table', args: ['--nft-table', 'lvs1'], nft: { table: 'lvs1' } },
    { desc: '--nft-fullnat-source pool', args: ['--nft-fullnat-source=198.18.1.1-198.18.1.4'], nft: { fullnatSource: '198.18.1.1-198.18.1.4' } },
    { desc: '--nft-fullnat-source IPv6', args: ['--nft-fullnat-source=2001:2:0:1::1'], nft: { fullnatSource: '2001:2:0:1::1' } },
    { desc: '--nft-fullnat-source list of addresses and ranges (spaces trimmed)', args: ['--nft-fullnat-source=198.18.1.1-198.18.1.4, 198.18.2.1,198.18.3.1-198.18.3.2'], nft: { fullnatSource: '198.18.1.1-198.18.1.4,198.18.2.1,198.18.3.1-198.18.3.2' } },
    { desc: '--nft-fullnat-source IPv6 list', args: ['--nft-fullnat-source', '2001:2:0:1::1,2001:2:0:2::1-2001:2:0:2::9'], nft: { fullnatSource: '2001:2:0:1::1,2001:2:0:2::1-2001:2:0:2::9' } },
    { desc: '--nft-flush-on-stop=no', args: ['--nft-flush-on-stop=no'], nft: { flushOnStop: false } },
    { desc: 'switches', args: ['--nft-fix-sysctls', '--nft-exact-all', '--nft-map-timeouts', '--nft-no-queue'], nft: { fixSysctls: true, exactAll: true, mapTimeouts: true, noQueue: true } },
    { desc: '--nft-queue-failure and --nft-queue-num', args: ['--nft-queue-failure', 'drop', '--nft-queue-num', '7'], nft: { queueFailure: 'drop', queueNum: 7 } },
    { desc: '--nft-view-interval', args: ['--nft-view-interval=250'], nft: { viewIntervalMs: 250 } },
    { desc: '--nft-tunnel=vxlan: the defaults', args: ['--nft-tunnel=vxlan'], nft: { tunnel: { kind: 'vxlan', vni: 107, port: 4789 } } },
    { desc: '--nft-tunnel=vxlan:VNI:PORT', args: ['--nft-tunnel', 'vxlan:42:8472'], nft: { tunnel: { kind: 'vxlan', vni: 42, port: 8472 } } },
    { desc: '--nft-tunnel=ipip', args: ['--nft-tunnel=ipip'], nft: { tunnel: { kind: 'ipip' } } },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const inv = parseDaemonArgs(r.args);
      assert.equal(inv.kind, 'run');
      assert.deepEqual(inv.kind === 'run' ? inv.options.nft : null, r.nft);
    });
  }
});

test('bad --nft-* values are command-line errors naming the flag', async (t) => {
  const rows: { desc: string; args: string[]; message: string }[] = [
    { desc: 'queue number out of range', args: ['--nft-queue-num', '70000'], message: "--nft-queue-num: expected a queue number 0..65535, not '70000'" },
    { desc: 'queue failure', args: ['--nft-queue-failure=accept'], message: "--nft-queue-failure: expected fallback or drop, not 'accept'" },
    { desc: 'flush on stop', args: ['--nft-flush-on-stop=maybe'], message: "--nft-flush-on-stop: expected yes or no, not 'maybe'" },
    { desc: 'fullnat source not an address', args: ['--nft-fullnat-source=dip'], message: "--nft-fullnat-source: 'dip' is not an address or an address range" },
    { desc: 'fullnat source mixing families', args: ['--nft-fullnat-source=198.18.1.1-2001:2::1'], message: "--nft-fullnat-source: '198.18.1.1-2001:2::1' mixes IPv4 and IPv6" },
    { desc: 'fullnat list: a bad item is named', args: ['--nft-fullnat-source=198.18.1.1,dip,198.18.1.3'], message: "--nft-fullnat-source: item 'dip' of '198.18.1.1,dip,198.18.1.3' is not an address or an address range" },
    { desc: 'fullnat list: an empty item', args: ['--nft-fullnat-source=198.18.1.1,,198.18.1.3'], message: "--nft-fullnat-source: item '' of '198.18.1.1,,198.18.1.3': expected ADDR or ADDR-ADDR" },
    { desc: 'fullnat list: a trailing comma', args: ['--nft-fullnat-source=198.18.1.1,'], message: "--nft-fullnat-source: item '' of '198.18.1.1,': expected ADDR or ADDR-ADDR" },
    { desc: 'fullnat list: a three-part item', args: ['--nft-fullnat-source=198.18.1.1,198.18.1.2-198.18.1.3-198.18.1.4'], message: "--nft-fullnat-source: item '198.18.1.2-198.18.1.3-198.18.1.4' of '198.18.1.1,198.18.1.2-198.18.1.3-198.18.1.4': expected ADDR or ADDR-ADDR" },
    { desc: 'fullnat list mixing families across items', args: ['--nft-fullnat-source=198.18.1.1,2001:2::1'], message: "--nft-fullnat-source: '198.18.1.1,2001:2::1' mixes IPv4 and IPv6" },
    { desc: 'fullnat range backwards', args: ['--nft-fullnat-source=198.18.1.1,198.18.1.9-198.18.1.2'], message: "--nft-fullnat-source: range '198.18.1.9-198.18.1.2' ends before it starts" },
    { desc: 'fullnat list: an item twice', args: ['--nft-fullnat-source=198.18.1.1, 198.18.1.1'], message: "--nft-fullnat-source: '198.18.1.1' is listed twice" },
    { desc: 'table name', args: ['--nft-table', '1bad name'], message: "--nft-table: '1bad name' is not an nftables table name" },
    { desc: 'view interval too short', args: ['--nft-view-interval=5'], message: "--nft-view-interval: expected milliseconds 100..86400000, not '5'" },
    { desc: 'a VNI beyond 24 bits', args: ['--nft-tunnel=vxlan:16777216'], message: "--nft-tunnel: expected ipip or vxlan[:VNI[:PORT]] (VNI 1..16777215), not 'vxlan:16777216'" },
    { desc: 'an unknown encapsulation', args: ['--nft-tunnel=gre'], message: "--nft-tunnel: expected ipip or vxlan[:VNI[:PORT]] (VNI 1..16777215), not 'gre'" },
    { desc: 'a switch with a value', args: ['--nft-exact-all=yes'], message: 'Option --nft-exact-all=yes takes no value' },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => assert.deepEqual(parseDaemonArgs(r.args), { kind: 'error', message: r.message }));
  }
});

test('KEEPVS_NFT_* are the fallback; a flag wins over its variable', async (t) => {
  const env = { KEEPVS_NFT_TABLE: 'fromenv', KEEPVS_NFT_QUEUE_NUM: '9', KEEPVS_NFT_EXACT: 'all', KEEPVS_NFT_FLUSH_ON_STOP: '0', KEEPVS_NFT_NO_QUEUE: '0' };
  await t.test('env alone', () => {
    assert.deepEqual(mergeNftOptions(env), { ok: true, value: { table: 'fromenv', queueNum: 9, exactAll: true, flushOnStop: false } });
  });
  await t.test('flags over env', () => {
    assert.deepEqual(mergeNftOptions(env, { table: 'fromflag', flushOnStop: true }),
      { ok: true, value: { table: 'fromflag', queueNum: 9, exactAll: true, flushOnStop: true } });
  });
  await t.test('a bad FULLNAT list item in the variable is named with the variable', () => {
    assert.deepEqual(mergeNftOptions({ KEEPVS_NFT_FULLNAT_SOURCE: '198.18.1.1,x' }),
      { ok: false, message: "KEEPVS_NFT_FULLNAT_SOURCE: item 'x' of '198.18.1.1,x' is not an address or an address range" });
    assert.deepEqual(mergeNftOptions({ KEEPVS_NFT_FULLNAT_SOURCE: '198.18.1.1,198.18.1.2' }), { ok: true, value: { fullnatSource: '198.18.1.1,198.18.1.2' } });
  });
  await t.test('a bad variable is named', () => {
    assert.deepEqual(mergeNftOptions({ KEEPVS_NFT_QUEUE_FAILURE: 'reject' }),
      { ok: false, message: "KEEPVS_NFT_QUEUE_FAILURE: expected fallback or drop, not 'reject'" });
  });
  await t.test('every flag has its variable, and every variable its flag', () => {
    assert.equal(new Set(NFT_FLAGS.map((f) => f.env)).size, NFT_FLAGS.length);
    for (const f of NFT_FLAGS) assert.ok(nftFlagValue(f.long, f.metavar === undefined ? null : 'x').ok !== undefined, f.long);
  });
});

function directorWith(exactPath: boolean | undefined): Director {
  const d = new Director({ seed: 1 });
  const key = { kind: 'addr', protocol: 'tcp', vip: addr('198.18.0.100'), port: 80 } as const;
  d.addService(key, { scheduler: 'wrr', flags: 0, timeout: 360, netmask: 0xffffffff, pe: null, ...(exactPath === undefined ? {} : { exactPath }) });
  d.addDest(key, { addr: addr('198.18.1.11'), port: 80, fwd: 'masq', weight: 3, uThreshold: 0, lThreshold: 0 });
  return d;
}

test('exactPath on a service moves it to the queue path of the nft model', async (t) => {
  const opts = { table: 'keepvs', queueNum: 107, queueFailure: 'fallback' as const, fullnatSource: null, drFlowTimeoutS: 900, forceQueue: new Set<string>() };
  for (const [desc, exact, path] of [['absent', undefined, 'kernel'], ['false', false, 'kernel'], ['true', true, 'queue']] as const) {
    await t.test(desc, () => {
      const m = buildModel(directorWith(exact), { services: new BackendIds(), backends: new BackendIds() }, opts);
      assert.equal(m.services[0].path, path);
    });
  }
});

test('the proxy plane accepts an exact-path service with no error (it decides in the core anyway)', () => {
  const plane = new ProxyPlane({ clock: () => 0 });
  const key = { kind: 'addr', protocol: 'tcp', vip: addr('127.0.0.1'), port: 18080 } as const;
  assert.deepEqual(plane.checkService(key, { scheduler: 'wrr', flags: 0, timeout: 360, netmask: 0xffffffff, pe: null, exactPath: true }), { ok: true });
});

let h: Harness;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

test('API: "exactPath" in ServiceOptionsBody reaches the core Service and its snapshot', async (t) => {
  const SVC = { protocol: 'tcp', vip: '10.0.0.1', port: 80 };
  const OPTS = { scheduler: 'wrr', persistent: null, netmask: null, pe: null, ops: false, schedFlags: [] };
  await t.test('POST with exactPath true', async () => {
    const s = await h.call('POST', '/v1/services', { service: SVC, options: { ...OPTS, exactPath: true } });
    assert.equal(s.status, 201);
    assert.equal(s.json.exactPath, true);
    assert.equal(h.director.services()[0].options.exactPath, true);
  });
  await t.test('PUT without it goes back to automatic (and the snapshot has no field)', async () => {
    const s = await h.call('PUT', '/v1/services', { service: SVC, options: OPTS });
    assert.equal(s.status, 200);
    assert.equal('exactPath' in s.json, false);
    assert.equal(h.director.services()[0].options.exactPath, undefined);
  });
  await t.test('a non-boolean is BAD_REQUEST naming options.exactPath', async () => {
    const s = await h.call('PUT', '/v1/services', { service: SVC, options: { ...OPTS, exactPath: 'yes' } });
    assert.equal(s.status, 400);
    assert.equal(s.json.error.code, 'BAD_REQUEST');
    assert.equal(s.json.error.context.field, 'options.exactPath');
  });
});

test('docs/dataplane-nft.md names every --nft-* flag with its variable, and no other', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../docs/dataplane-nft.md', import.meta.url), 'utf8');
  for (const f of NFT_FLAGS) assert.match(doc, new RegExp(`^\\| \`--${f.long}[=\`].*\\| \`${f.env}`, 'm'), f.long);
  for (const m of doc.matchAll(/`--(nft-[a-z-]+)/g)) assert.ok(NFT_FLAGS.some((f) => f.long === m[1]), `docs name --${m[1]}`);
});
