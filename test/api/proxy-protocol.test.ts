// "proxyProtocol" in the control API (docs/api.md): accepted in ServiceOptionsBody and DestBody,
// shown in the snapshots (configured and effective), refused with BAD_REQUEST naming the field for a
// bad value, and undone with the rest of an edit when the plane cannot follow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from './harness.ts';

const SVC = { protocol: 'tcp', vip: '10.0.0.1', port: 80 };
const UDP_SVC = { protocol: 'udp', vip: '10.0.0.1', port: 53 };
const OPTS = { scheduler: 'rr', persistent: null, netmask: null, pe: null, ops: false, schedFlags: [] };
const DEST = { addr: '10.0.0.2', port: 8080, fwd: 'masq', weight: 1 };

let h: Harness;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

async function reset(): Promise<void> {
  assert.equal((await h.call('POST', '/v1/clear')).status, 200);
}

/** [addr, configured, effective] of each dest of the TCP service, as GET /v1/services shows them. */
async function dests(): Promise<unknown[]> {
  const r = await h.call('GET', '/v1/services');
  const s = r.json.services.find((x: { port: number }) => x.port === 80);
  return s.dests.map((d: { addr: string; proxyProtocol: unknown; effectiveProxyProtocol: unknown }) => [d.addr, d.proxyProtocol, d.effectiveProxyProtocol]);
}

test('accepted: a service default, dests that inherit, override or switch it off', async () => {
  await reset();
  const s = await h.call('POST', '/v1/services', { service: SVC, options: { ...OPTS, proxyProtocol: 'v2' } });
  assert.equal(s.status, 201);
  assert.equal(s.json.proxyProtocol, 'v2');
  const d1 = await h.call('POST', '/v1/dests', { service: SVC, dest: DEST });
  assert.equal(d1.status, 201);
  assert.deepEqual([d1.json.proxyProtocol, d1.json.effectiveProxyProtocol], [null, 'v2']);
  const d2 = await h.call('POST', '/v1/dests', { service: SVC, dest: { ...DEST, addr: '10.0.0.3', proxyProtocol: 'none' } });
  assert.deepEqual([d2.status, d2.json.proxyProtocol, d2.json.effectiveProxyProtocol], [201, 'none', null]);
  const d3 = await h.call('POST', '/v1/dests', { service: SVC, dest: { ...DEST, addr: '10.0.0.4', proxyProtocol: 'v1' } });
  assert.deepEqual([d3.status, d3.json.proxyProtocol, d3.json.effectiveProxyProtocol], [201, 'v1', 'v1']);
  assert.deepEqual(await dests(), [['10.0.0.4', 'v1', 'v1'], ['10.0.0.3', 'none', null], ['10.0.0.2', null, 'v2']]);
  // A service's "none" is no default, like null.
  const e = await h.call('PUT', '/v1/services', { service: SVC, options: { ...OPTS, proxyProtocol: 'none' } });
  assert.deepEqual([e.status, e.json.proxyProtocol], [200, null]);
  assert.deepEqual(await dests(), [['10.0.0.4', 'v1', 'v1'], ['10.0.0.3', 'none', null], ['10.0.0.2', null, null]]);
  // PUT replaces every option: an absent proxyProtocol is none (ipvsadm -E).
  await h.call('PUT', '/v1/services', { service: SVC, options: { ...OPTS, proxyProtocol: 'v1' } });
  assert.equal((await h.call('PUT', '/v1/services', { service: SVC, options: OPTS })).json.proxyProtocol, null);
  // And an -e without it makes the dest inherit again.
  await h.call('PUT', '/v1/services', { service: SVC, options: { ...OPTS, proxyProtocol: 'v2' } });
  const ed = await h.call('PUT', '/v1/dests', { service: SVC, dest: { ...DEST, addr: '10.0.0.4' } });
  assert.deepEqual([ed.status, ed.json.proxyProtocol, ed.json.effectiveProxyProtocol], [200, null, 'v2']);
  // v2 on UDP is fine.
  assert.equal((await h.call('POST', '/v1/services', { service: UDP_SVC, options: { ...OPTS, proxyProtocol: 'v2' } })).status, 201);
});

test('refused: bad values are 400 BAD_REQUEST naming the field, and change nothing', async (t) => {
  await reset();
  assert.equal((await h.call('POST', '/v1/services', { service: SVC, options: { ...OPTS, proxyProtocol: 'v2' } })).status, 201);
  assert.equal((await h.call('POST', '/v1/dests', { service: SVC, dest: DEST })).status, 201);
  const rows: { desc: string; method: string; path: string; body: unknown; field: string }[] = [
    { desc: 'service: v3', method: 'POST', path: '/v1/services', body: { service: UDP_SVC, options: { ...OPTS, proxyProtocol: 'v3' } }, field: 'options.proxyProtocol' },
    { desc: 'service: a number', method: 'PUT', path: '/v1/services', body: { service: SVC, options: { ...OPTS, proxyProtocol: 2 } }, field: 'options.proxyProtocol' },
    { desc: 'service: true', method: 'PUT', path: '/v1/services', body: { service: SVC, options: { ...OPTS, proxyProtocol: true } }, field: 'options.proxyProtocol' },
    { desc: 'dest: upper case', method: 'POST', path: '/v1/dests', body: { service: SVC, dest: { ...DEST, addr: '10.0.0.9', proxyProtocol: 'V1' } }, field: 'dest.proxyProtocol' },
    { desc: 'dest: empty string', method: 'PUT', path: '/v1/dests', body: { service: SVC, dest: { ...DEST, proxyProtocol: '' } }, field: 'dest.proxyProtocol' },
  ];
  for (const r of rows) {
    await t.test(r.desc, async () => {
      const syncs = h.plane.syncs;
      const res = await h.call(r.method, r.path, r.body);
      assert.equal(res.status, 400);
      assert.equal(res.json.error.code, 'BAD_REQUEST');
      assert.equal(res.json.error.context.field, r.field);
      assert.match(res.json.error.message, /^[a-z.]+proxyProtocol: expected "v1", "v2", "none" or null$/);
      assert.equal(h.plane.syncs, syncs, 'nothing reached the plane');
    });
  }
  const after = await h.call('GET', '/v1/services');
  assert.equal(after.json.services.length, 1);
  assert.equal(after.json.services[0].proxyProtocol, 'v2');
  assert.deepEqual(await dests(), [['10.0.0.2', null, 'v2']]);
});

test('refused: v1 on UDP is the core\'s PROXY_PROTOCOL_INVALID (400 EINVAL)', async () => {
  await reset();
  const s = await h.call('POST', '/v1/services', { service: UDP_SVC, options: { ...OPTS, proxyProtocol: 'v1' } });
  assert.equal(s.status, 400);
  assert.deepEqual([s.json.error.code, s.json.error.errno], ['PROXY_PROTOCOL_INVALID', 'EINVAL']);
  assert.match(s.json.error.message, /v1 carries TCP only; use v2/);
  assert.equal((await h.call('POST', '/v1/services', { service: UDP_SVC, options: OPTS })).status, 201);
  const d = await h.call('POST', '/v1/dests', { service: UDP_SVC, dest: { ...DEST, port: 53, proxyProtocol: 'v1' } });
  assert.equal(d.status, 400);
  assert.equal(d.json.error.code, 'PROXY_PROTOCOL_INVALID');
  assert.equal((await h.call('GET', '/v1/services')).json.services[0].dests.length, 0);
});

test('a PUT /v1/dests the plane cannot follow is undone, PROXY protocol choice included', async () => {
  await reset();
  await h.call('POST', '/v1/services', { service: SVC, options: { ...OPTS, proxyProtocol: 'v2' } });
  await h.call('POST', '/v1/dests', { service: SVC, dest: { ...DEST, proxyProtocol: 'none' } });
  h.plane.failNextSync = { code: 'PLANE_ERROR', message: 'the plane refused', context: {} };
  const r = await h.call('PUT', '/v1/dests', { service: SVC, dest: { ...DEST, weight: 4, proxyProtocol: 'v1' } });
  assert.equal(r.status, 500);
  assert.deepEqual(await dests(), [['10.0.0.2', 'none', null]]);
});
