// The control API of docs/api.md over a real Unix socket: every route's happy path, and every
// error class (400 bad JSON / bad field naming it, 404 no such service or dest, 409 exists, plane
// refusals), each asserted to change nothing. Codes and errnos are src/core/errors.ts's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { startHarness, type Harness } from './harness.ts';

const SVC = { protocol: 'tcp', vip: '10.0.0.1', port: 80 };
const UDP_SVC = { protocol: 'udp', vip: '10.0.0.1', port: 53 };
const OPTS = { scheduler: 'wlc', persistent: null, netmask: null, pe: null, ops: false, schedFlags: [] };

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

test('the control socket is a 0600 socket', () => {
  const st = statSync(h.socketPath);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o600);
});

test('happy paths, in the order keepvsadm would use them', async (t) => {
  await t.test('GET /v1/info', async () => {
    const r = await h.call('GET', '/v1/info');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { ipvsVersion: '1.2.1', connTableSize: 4096, keepvsVersion: '0.0.0-test', dataplane: 'proxy' });
  });
  await t.test('POST /v1/services (-A) answers 201 with the ServiceSnapshot', async () => {
    const r = await h.call('POST', '/v1/services', { service: SVC, options: OPTS });
    assert.equal(r.status, 201);
    assert.equal(r.json.kind, 'addr');
    assert.equal(r.json.protocol, 'tcp');
    assert.equal(r.json.vip, '10.0.0.1');
    assert.equal(r.json.port, 80);
    assert.equal(r.json.scheduler, 'wlc');
    assert.equal(r.json.flags, 0);
    assert.equal(r.json.netmask, '255.255.255.255');
    assert.deepEqual(r.json.dests, []);
    assert.equal(h.plane.syncs, 1, 'the plane was synced after the change');
  });
  await t.test('POST /v1/services with persistence, netmask, ops and sh flags', async () => {
    const r = await h.call('POST', '/v1/services', {
      service: UDP_SVC,
      options: { scheduler: 'sh', persistent: 600, netmask: '255.255.255.0', pe: null, ops: true, schedFlags: ['sh-fallback', 'sh-port'] },
    });
    assert.equal(r.status, 201);
    // PERSISTENT 0x1 | ONEPACKET 0x4 | SCHED1 0x8 | SCHED2 0x10 (include/uapi/linux/ip_vs.h)
    assert.equal(r.json.flags, 0x1 | 0x4 | 0x8 | 0x10);
    assert.equal(r.json.timeout, 600);
    assert.equal(r.json.netmask, '255.255.255.0');
  });
  await t.test('PUT /v1/services (-E) changes the scheduler', async () => {
    const r = await h.call('PUT', '/v1/services', { service: SVC, options: { ...OPTS, scheduler: 'rr' } });
    assert.equal(r.status, 200);
    assert.equal(r.json.scheduler, 'rr');
  });
  await t.test('POST /v1/dests (-a) answers 201 with the DestSnapshot', async () => {
    const r = await h.call('POST', '/v1/dests', { service: SVC, dest: { addr: '10.0.0.2', port: 8080, fwd: 'masq', weight: 3, uThreshold: 0, lThreshold: 0, tunnel: null } });
    assert.equal(r.status, 201);
    assert.deepEqual(
      { addr: r.json.addr, port: r.json.port, fwd: r.json.fwd, weight: r.json.weight, activeConns: r.json.activeConns },
      { addr: '10.0.0.2', port: 8080, fwd: 'masq', weight: 3, activeConns: 0 },
    );
  });
  await t.test('POST /v1/dests: port and weight default as ipvsadm does (service port, 1)', async () => {
    const r = await h.call('POST', '/v1/dests', { service: SVC, dest: { addr: '10.0.0.3', fwd: 'masq' } });
    assert.equal(r.status, 201);
    assert.equal(r.json.port, 80);
    assert.equal(r.json.weight, 1);
  });
  await t.test('PUT /v1/dests (-e) changes the weight', async () => {
    const r = await h.call('PUT', '/v1/dests', { service: SVC, dest: { addr: '10.0.0.2', port: 8080, fwd: 'masq', weight: 5 } });
    assert.equal(r.status, 200);
    assert.equal(r.json.weight, 5);
  });
  await t.test('GET /v1/services lists services in creation order, dests newest first', async () => {
    const r = await h.call('GET', '/v1/services');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.services.map((s: { port: number }) => s.port), [80, 53]);
    assert.deepEqual(r.json.services[0].dests.map((d: { addr: string }) => d.addr), ['10.0.0.3', '10.0.0.2']);
  });
  await t.test('GET and PUT /v1/timeouts (--set; 0 leaves an entry unchanged)', async () => {
    assert.deepEqual((await h.call('GET', '/v1/timeouts')).json, { tcp: 900, tcpfin: 120, udp: 300 });
    const r = await h.call('PUT', '/v1/timeouts', { tcp: 1000, tcpfin: 0, udp: 60 });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { tcp: 1000, tcpfin: 120, udp: 60 });
    assert.deepEqual((await h.call('GET', '/v1/timeouts')).json, { tcp: 1000, tcpfin: 120, udp: 60 });
  });
  await t.test('POST /v1/explain names the dest and changes nothing', async () => {
    const before = (await h.call('GET', '/v1/services')).json;
    const r = await h.call('POST', '/v1/explain', { service: SVC, client: { addr: '198.18.0.9', port: 40000 } });
    assert.equal(r.status, 200);
    assert.equal(r.json.reason, 'scheduler');
    assert.match(r.json.dest, /^10\.0\.0\.[23]:(80|8080)$/);
    assert.equal(typeof r.json.text, 'string');
    assert.equal(r.json.template, null);
    assert.deepEqual((await h.call('GET', '/v1/services')).json, before);
  });
  await t.test('GET /v1/connections lists the table', async () => {
    const svc = h.director.services()[0];
    const { addr } = await import('../../src/core/addr.ts');
    h.director.schedule(svc, { protocol: 'tcp', caddr: addr('198.18.0.9'), cport: 40001, vaddr: addr('10.0.0.1'), vport: 80 }, h.ctx.now());
    const r = await h.call('GET', '/v1/connections');
    assert.equal(r.status, 200);
    assert.equal(r.json.connections.length, 1);
    assert.equal(r.json.connections[0].caddr, '198.18.0.9');
    assert.equal(r.json.connections[0].cport, 40001);
    assert.equal(r.json.connections[0].template, false);
  });
  await t.test('POST /v1/zero for one service, then for all', async () => {
    assert.equal(h.director.services()[0].stats.counters.conns, 1);
    assert.equal((await h.call('POST', '/v1/zero', { service: SVC })).status, 200);
    assert.equal(h.director.services()[0].stats.counters.conns, 0);
    assert.equal((await h.call('POST', '/v1/zero')).status, 200);
    assert.equal((await h.call('POST', '/v1/zero', {})).status, 200);
  });
  await t.test('GET /v1/dump/data and /v1/dump/stats', async () => {
    assert.equal((await h.call('GET', '/v1/dump/data')).text, 'data dump\n');
    assert.equal((await h.call('GET', '/v1/dump/stats')).text, 'stats dump\n');
  });
  await t.test('DELETE /v1/dests (-d)', async () => {
    const r = await h.call('DELETE', '/v1/dests', { service: SVC, dest: { addr: '10.0.0.3', port: 80 } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {});
    assert.equal(h.director.services()[0].dests.length, 1);
  });
  await t.test('DELETE /v1/services (-D)', async () => {
    const r = await h.call('DELETE', '/v1/services', { service: UDP_SVC });
    assert.equal(r.status, 200);
    assert.equal(h.director.services().length, 1);
  });
  await t.test('POST /v1/clear (-C)', async () => {
    const r = await h.call('POST', '/v1/clear');
    assert.equal(r.status, 200);
    assert.equal(h.director.services().length, 0);
  });
});

interface ErrorRow {
  readonly desc: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly status: number;
  readonly code: string;
  readonly errno?: string;
  readonly field?: string;
  readonly reason?: string;
}

const DEST = { addr: '10.0.0.2', port: 80, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: null };

const ERRORS: readonly ErrorRow[] = [
  { desc: 'malformed JSON', method: 'POST', path: '/v1/services', body: '{"service":', status: 400, code: 'BAD_REQUEST', errno: 'EINVAL', field: 'body' },
  { desc: 'body is not an object', method: 'POST', path: '/v1/services', body: '[1,2]', status: 400, code: 'BAD_REQUEST', field: 'body' },
  { desc: 'no body at all', method: 'POST', path: '/v1/services', status: 400, code: 'BAD_REQUEST', field: 'body' },
  { desc: 'service missing', method: 'POST', path: '/v1/services', body: { options: OPTS }, status: 400, code: 'BAD_REQUEST', field: 'service' },
  { desc: 'unknown top-level field', method: 'POST', path: '/v1/services', body: { service: SVC, options: OPTS, extra: 1 }, status: 400, code: 'BAD_REQUEST', field: 'extra' },
  { desc: 'bad VIP', method: 'POST', path: '/v1/services', body: { service: { ...SVC, vip: '10.0.0.300' }, options: OPTS }, status: 400, code: 'BAD_REQUEST', field: 'service.vip', reason: 'ADDR_INVALID' },
  { desc: 'bad protocol', method: 'POST', path: '/v1/services', body: { service: { ...SVC, protocol: 'icmp' }, options: OPTS }, status: 400, code: 'BAD_REQUEST', field: 'service.protocol', reason: 'PROTOCOL_INVALID' },
  { desc: 'port out of range', method: 'POST', path: '/v1/services', body: { service: { ...SVC, port: 70000 }, options: OPTS }, status: 400, code: 'BAD_REQUEST', field: 'service.port', reason: 'PORT_INVALID' },
  { desc: 'port is a string', method: 'POST', path: '/v1/services', body: { service: { ...SVC, port: '80' }, options: OPTS }, status: 400, code: 'BAD_REQUEST', field: 'service.port' },
  { desc: 'misspelt option', method: 'POST', path: '/v1/services', body: { service: SVC, options: { ...OPTS, schedular: 'rr' } }, status: 400, code: 'BAD_REQUEST', field: 'options.schedular' },
  { desc: 'sh flag with wlc (ipvsadm: incompatible scheduler flag)', method: 'POST', path: '/v1/services', body: { service: SVC, options: { ...OPTS, schedFlags: ['sh-port'] } }, status: 400, code: 'BAD_REQUEST', field: 'options.schedFlags', reason: 'SCHED_FLAG_INCOMPATIBLE' },
  { desc: 'unknown sched flag', method: 'POST', path: '/v1/services', body: { service: SVC, options: { ...OPTS, schedFlags: ['flag-9'] } }, status: 400, code: 'BAD_REQUEST', field: 'options.schedFlags', reason: 'INVALID' },
  { desc: 'bad netmask', method: 'POST', path: '/v1/services', body: { service: SVC, options: { ...OPTS, persistent: 300, netmask: '255.255.0' } }, status: 400, code: 'BAD_REQUEST', field: 'options.netmask', reason: 'NETMASK_INVALID' },
  { desc: 'persistent is a string', method: 'POST', path: '/v1/services', body: { service: SVC, options: { ...OPTS, persistent: '300' } }, status: 400, code: 'BAD_REQUEST', field: 'options.persistent' },
  { desc: 'unknown scheduler', method: 'POST', path: '/v1/services', body: { service: SVC, options: { ...OPTS, scheduler: 'xyz' } }, status: 400, code: 'SCHEDULER_NOT_FOUND', errno: 'ENOENT' },
  { desc: 'persistence timeout 0', method: 'POST', path: '/v1/services', body: { service: SVC, options: { ...OPTS, persistent: 0 } }, status: 400, code: 'TIMEOUT_INVALID', errno: 'EINVAL' },
  { desc: 'port 0 without persistence', method: 'POST', path: '/v1/services', body: { service: { ...SVC, port: 0 }, options: OPTS }, status: 400, code: 'ZERO_PORT_NON_PERSISTENT', errno: 'EINVAL' },
  { desc: 'one-packet on TCP', method: 'POST', path: '/v1/services', body: { service: { ...SVC, port: 81 }, options: { ...OPTS, ops: true } }, status: 400, code: 'ONE_PACKET_NOT_UDP', errno: 'EINVAL' },
  { desc: 'persistence engine', method: 'POST', path: '/v1/services', body: { service: { ...SVC, port: 81 }, options: { ...OPTS, pe: 'sip' } }, status: 400, code: 'PE_NOT_FOUND', errno: 'ENOENT' },
  { desc: 'service exists', method: 'POST', path: '/v1/services', body: { service: SVC, options: OPTS }, status: 409, code: 'SERVICE_EXISTS', errno: 'EEXIST' },
  { desc: 'fwmark service on the proxy plane', method: 'POST', path: '/v1/services', body: { service: { fwmark: 1, family: 4 }, options: OPTS }, status: 400, code: 'UNSUPPORTED_FWMARK' },
  { desc: 'fwmark family 5', method: 'POST', path: '/v1/services', body: { service: { fwmark: 1, family: 5 }, options: OPTS }, status: 400, code: 'BAD_REQUEST', field: 'service.family' },
  { desc: 'edit a missing service', method: 'PUT', path: '/v1/services', body: { service: { ...SVC, port: 81 }, options: OPTS }, status: 404, code: 'SERVICE_NOT_FOUND', errno: 'ESRCH' },
  { desc: 'delete a missing service', method: 'DELETE', path: '/v1/services', body: { service: { ...SVC, port: 81 } }, status: 404, code: 'SERVICE_NOT_FOUND', errno: 'ESRCH' },
  { desc: 'dest for a missing service', method: 'POST', path: '/v1/dests', body: { service: { ...SVC, port: 81 }, dest: DEST }, status: 404, code: 'SERVICE_NOT_FOUND', errno: 'ESRCH' },
  { desc: 'dest exists', method: 'POST', path: '/v1/dests', body: { service: SVC, dest: DEST }, status: 409, code: 'DEST_EXISTS', errno: 'EEXIST' },
  { desc: 'edit a missing dest', method: 'PUT', path: '/v1/dests', body: { service: SVC, dest: { ...DEST, addr: '10.0.0.9' } }, status: 404, code: 'DEST_NOT_FOUND', errno: 'ENOENT' },
  { desc: 'delete a missing dest', method: 'DELETE', path: '/v1/dests', body: { service: SVC, dest: { addr: '10.0.0.9', port: 80 } }, status: 404, code: 'DEST_NOT_FOUND', errno: 'ENOENT' },
  { desc: 'weight out of range', method: 'POST', path: '/v1/dests', body: { service: SVC, dest: { ...DEST, addr: '10.0.0.4', weight: 70000 } }, status: 400, code: 'WEIGHT_RANGE', errno: 'ERANGE' },
  { desc: 'lower threshold above upper', method: 'POST', path: '/v1/dests', body: { service: SVC, dest: { ...DEST, addr: '10.0.0.4', uThreshold: 5, lThreshold: 10 } }, status: 400, code: 'LOWER_ABOVE_UPPER', errno: 'ERANGE' },
  { desc: 'IPv6 dest on an IPv4 service', method: 'POST', path: '/v1/dests', body: { service: SVC, dest: { ...DEST, addr: '2001:db8::2' } }, status: 400, code: 'FAMILY_MISMATCH', errno: 'EAFNOSUPPORT' },
  { desc: 'DR on the proxy plane', method: 'POST', path: '/v1/dests', body: { service: SVC, dest: { ...DEST, addr: '10.0.0.4', fwd: 'route' } }, status: 400, code: 'UNSUPPORTED_FWD' },
  { desc: 'unknown forwarding method', method: 'POST', path: '/v1/dests', body: { service: SVC, dest: { ...DEST, addr: '10.0.0.4', fwd: 'nat' } }, status: 400, code: 'BAD_REQUEST', field: 'dest.fwd' },
  { desc: 'bad dest address', method: 'POST', path: '/v1/dests', body: { service: SVC, dest: { ...DEST, addr: 'rs1' } }, status: 400, code: 'BAD_REQUEST', field: 'dest.addr', reason: 'ADDR_INVALID' },
  { desc: 'weight is fractional', method: 'PUT', path: '/v1/dests', body: { service: SVC, dest: { ...DEST, weight: 1.5 } }, status: 400, code: 'BAD_REQUEST', field: 'dest.weight' },
  { desc: 'ipip tunnel with a checksum', method: 'POST', path: '/v1/dests', body: { service: SVC, dest: { ...DEST, addr: '10.0.0.4', tunnel: { type: 'ipip', port: 0, csum: 'csum' } } }, status: 400, code: 'BAD_REQUEST', field: 'dest.tunnel', reason: 'TUNNEL_INVALID' },
  { desc: 'timeout out of range', method: 'PUT', path: '/v1/timeouts', body: { tcp: 86400 * 31 + 1 }, status: 400, code: 'BAD_REQUEST', field: 'tcp', reason: 'SET_TIMEOUT_INVALID' },
  { desc: 'timeout negative', method: 'PUT', path: '/v1/timeouts', body: { udp: -1 }, status: 400, code: 'BAD_REQUEST', field: 'udp' },
  { desc: 'zero a missing service', method: 'POST', path: '/v1/zero', body: { service: { ...SVC, port: 81 } }, status: 404, code: 'SERVICE_NOT_FOUND', errno: 'ESRCH' },
  { desc: 'explain for a missing service', method: 'POST', path: '/v1/explain', body: { service: { ...SVC, port: 81 }, client: { addr: '198.18.0.9', port: 1 } }, status: 404, code: 'SERVICE_NOT_FOUND' },
  { desc: 'explain with a bad client', method: 'POST', path: '/v1/explain', body: { service: SVC, client: { addr: 'x', port: 1 } }, status: 400, code: 'BAD_REQUEST', field: 'client.addr' },
  { desc: 'unknown route', method: 'GET', path: '/v1/nothing', status: 404, code: 'NOT_FOUND' },
  { desc: 'wrong method', method: 'PATCH', path: '/v1/services', body: {}, status: 405, code: 'METHOD_NOT_ALLOWED' },
  { desc: 'body too large', method: 'POST', path: '/v1/services', body: 'x'.repeat((1 << 20) + 1), status: 413, code: 'PAYLOAD_TOO_LARGE' },
];

test('every error class answers with a stable code and changes nothing', async (t) => {
  await h.call('POST', '/v1/clear');
  assert.equal((await h.call('POST', '/v1/services', { service: SVC, options: OPTS })).status, 201);
  assert.equal((await h.call('POST', '/v1/dests', { service: SVC, dest: DEST })).status, 201);
  const rejectedBefore = new Map(h.ctx.counters.rejected);
  const counted = new Map<string, number>();
  for (const row of ERRORS) {
    await t.test(row.desc, async () => {
      const services = (await h.call('GET', '/v1/services')).json;
      const timeouts = (await h.call('GET', '/v1/timeouts')).json;
      const syncs = h.plane.syncs;
      const r = await h.call(row.method, row.path, row.body);
      assert.equal(r.status, row.status, r.text);
      assert.equal(r.json.error.code, row.code);
      assert.equal(typeof r.json.error.message, 'string');
      assert.equal(typeof r.json.error.errno, 'string');
      if (row.errno) assert.equal(r.json.error.errno, row.errno);
      if (row.field) assert.equal(r.json.error.context.field, row.field);
      if (row.reason) assert.equal(r.json.error.context.reason, row.reason);
      assert.deepEqual((await h.call('GET', '/v1/services')).json, services, 'services unchanged');
      assert.deepEqual((await h.call('GET', '/v1/timeouts')).json, timeouts, 'timeouts unchanged');
      assert.equal(h.plane.syncs, syncs, 'the plane was not asked to change');
      counted.set(row.code, (counted.get(row.code) ?? 0) + 1);
    });
  }
  await t.test('each rejection is counted under its code', () => {
    for (const [code, n] of counted) {
      assert.equal((h.ctx.counters.rejected.get(code) ?? 0) - (rejectedBefore.get(code) ?? 0), n, code);
    }
  });
  await t.test('405 names the allowed methods', async () => {
    const r = await h.call('PATCH', '/v1/dests', {});
    assert.equal(r.headers.allow, 'POST, PUT, DELETE');
  });
});

test('a listener the plane cannot open undoes the change', async (t) => {
  await h.call('POST', '/v1/clear');
  await t.test('add service: BIND_FAILED, and the service is gone again', async () => {
    h.plane.failNextSync = { code: 'BIND_FAILED', message: 'cannot listen on 10.0.0.1:80: EADDRINUSE', context: { address: '10.0.0.1:80' } };
    const r = await h.call('POST', '/v1/services', { service: SVC, options: OPTS });
    assert.equal(r.status, 409);
    assert.equal(r.json.error.code, 'BIND_FAILED');
    assert.match(r.json.error.message, /10\.0\.0\.1:80/);
    assert.deepEqual((await h.call('GET', '/v1/services')).json, { services: [] });
  });
  await t.test('edit service: the old options come back', async () => {
    assert.equal((await h.call('POST', '/v1/services', { service: SVC, options: OPTS })).status, 201);
    h.plane.failNextSync = { code: 'PLANE_ERROR', message: 'boom', context: {} };
    const r = await h.call('PUT', '/v1/services', { service: SVC, options: { ...OPTS, scheduler: 'rr' } });
    assert.equal(r.status, 500);
    assert.equal(r.json.error.code, 'PLANE_ERROR');
    assert.equal((await h.call('GET', '/v1/services')).json.services[0].scheduler, 'wlc');
  });
});

test('changes are applied one at a time, in order', async () => {
  await h.call('POST', '/v1/clear');
  const ports = Array.from({ length: 20 }, (_, i) => 1000 + i);
  const replies = await Promise.all(ports.map((port) => h.call('POST', '/v1/services', { service: { ...SVC, port }, options: OPTS })));
  assert.deepEqual(replies.map((r) => r.status), ports.map(() => 201));
  assert.deepEqual(h.director.services().map((s) => s.port), ports);
  await h.call('POST', '/v1/clear');
});

test('a second server on a live socket is refused; a stale socket is replaced', async () => {
  const { ApiServer } = await import('../../src/api/server.ts');
  const { spawn } = await import('node:child_process');
  const { join } = await import('node:path');
  const { existsSync } = await import('node:fs');
  const other = new ApiServer(h.ctx);
  await assert.rejects(other.listenUnix(h.socketPath), /already listening/);
  // A daemon killed with SIGKILL leaves its socket file behind, with nobody listening on it.
  const stale = join(h.dir, 'stale.sock');
  const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`]);
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', () => reject(new Error('listener child exited early')));
    });
  } finally {
    child.kill('SIGKILL');
  }
  await new Promise((r) => child.once('exit', r));
  assert.ok(existsSync(stale), 'the killed listener left its socket file');
  const third = new ApiServer(h.ctx);
  await third.listenUnix(stale);
  const r = await (await import('./harness.ts')).httpCall({ socketPath: stale }, 'GET', '/v1/info');
  assert.equal(r.status, 200);
  await third.close(0);
  assert.ok(!existsSync(stale), 'close removes the socket file');
});

test('a path that is not a socket is never removed', async () => {
  const { ApiServer } = await import('../../src/api/server.ts');
  const { writeFileSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const file = join(h.dir, 'not-a-socket');
  writeFileSync(file, 'keep me');
  await assert.rejects(new ApiServer(h.ctx).listenUnix(file), /not a socket/);
  assert.equal(readFileSync(file, 'utf8'), 'keep me');
});
