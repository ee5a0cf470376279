// Defaults and inheritance (check_api.c: queue_checker, check_data.c), and the checkers keepalived
// drops, as resolveVirtualServer reproduces them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveVirtualServer, parseHex, type CheckerSpec, type VirtualServerSpec } from '../../src/check/spec.ts';

function one(checker: CheckerSpec, vs: Partial<VirtualServerSpec> = {}, rs: Record<string, unknown> = {}) {
  const r = resolveVirtualServer({
    id: { kind: 'addr', address: '10.1.1.1', port: 80, protocol: 'tcp' },
    ...vs,
    real_server: [{ address: '10.0.0.1', port: 8080, checkers: [checker], ...rs }],
  });
  return { checker: r.vs.realServers[0]?.checkers[0], problems: r.problems, vs: r.vs };
}

test('spec: per-type defaults (retry, delay_before_retry, warmup, connect_timeout, delay_loop)', () => {
  const rows: Array<[string, CheckerSpec, { retry: number; dbr: number; warmup: number; loop: number; timeout?: number }]> = [
    ['TCP_CHECK', { type: 'TCP_CHECK' }, { retry: 1, dbr: 1000, warmup: 60_000, loop: 60_000, timeout: 5000 }],
    ['HTTP_GET', { type: 'HTTP_GET', url: [{ path: '/' }] }, { retry: 1, dbr: 3000, warmup: 60_000, loop: 60_000, timeout: 5000 }],
    ['SSL_GET', { type: 'SSL_GET', url: [{ path: '/' }] }, { retry: 1, dbr: 3000, warmup: 60_000, loop: 60_000 }],
    ['DNS_CHECK: retry 3, delay_before_retry = delay_loop', { type: 'DNS_CHECK', delay_loop: 7 }, { retry: 3, dbr: 7000, warmup: 7000, loop: 7000 }],
    ['MISC_CHECK: retry 0', { type: 'MISC_CHECK', misc_path: ['/bin/true'] }, { retry: 0, dbr: 1000, warmup: 60_000, loop: 60_000 }],
    ['UDP_CHECK', { type: 'UDP_CHECK' }, { retry: 1, dbr: 1000, warmup: 60_000, loop: 60_000 }],
  ];
  for (const [desc, spec, want] of rows) {
    const c = one(spec).checker!;
    assert.deepEqual(
      { retry: c.timing.retry, dbr: c.timing.delayBeforeRetryMs, warmup: c.timing.warmupMs, loop: c.timing.delayLoopMs },
      { retry: want.retry, dbr: want.dbr, warmup: want.warmup, loop: want.loop }, desc);
    if (want.timeout) assert.equal(c.target?.connectTimeoutMs, want.timeout, desc);
  }
});

test('spec: virtual_server → real_server → checker inheritance', () => {
  const c = one({ type: 'TCP_CHECK', retry: 4 }, { delay_loop: 10, connect_timeout: 2, delay_before_retry: 0.5, alpha: true, warmup: 3 }, { delay_loop: 20 }).checker!;
  assert.deepEqual(
    { loop: c.timing.delayLoopMs, retry: c.timing.retry, dbr: c.timing.delayBeforeRetryMs, alpha: c.timing.alpha, warmup: c.timing.warmupMs, to: c.target!.connectTimeoutMs },
    { loop: 20_000, retry: 4, dbr: 500, alpha: true, warmup: 3000, to: 2000 });
  assert.deepEqual({ address: c.target!.address, port: c.target!.port }, { address: '10.0.0.1', port: 8080 }, 'connect_ip/port default to the real server');
  const d = one({ type: 'TCP_CHECK', connect_ip: '10.9.9.9', connect_port: 81, warmup: 0 }, { delay_loop: 10 }).checker!;
  assert.deepEqual({ a: d.target!.address, p: d.target!.port, w: d.timing.warmupMs }, { a: '10.9.9.9', p: 81, w: 0 });
});

test('spec: MISC_CHECK timeout defaults to the virtual server delay_loop (not the checker\'s)', () => {
  const c = one({ type: 'MISC_CHECK', misc_path: ['/bin/true'], delay_loop: 3 }, { delay_loop: 9 }).checker!;
  assert.equal(c.miscTimeoutMs, 9000);
  assert.equal(one({ type: 'MISC_CHECK', misc_path: ['/bin/true'], misc_timeout: 4 }).checker!.miscTimeoutMs, 4000);
});

test('spec: SMTP_CHECK host{} blocks become separate checkers', () => {
  const r = resolveVirtualServer({
    id: { kind: 'addr', address: '10.1.1.1', port: 25, protocol: 'tcp' }, connect_timeout: 7,
    real_server: [{ address: '10.0.0.1', port: 25, checkers: [{ type: 'SMTP_CHECK', connect_timeout: 3, retry: 2, host: [{ connect_ip: '10.0.0.2' }, { connect_ip: '10.0.0.3', connect_port: 587 }] }] }],
  });
  const cs = r.vs.realServers[0].checkers;
  assert.deepEqual(cs.map((c) => [c.target!.address, c.target!.port, c.target!.connectTimeoutMs, c.timing.retry]), [
    ['10.0.0.1', 25, 3000, 2], ['10.0.0.2', 25, 7000, 2], ['10.0.0.3', 587, 7000, 2],
  ]);
});

test('spec: checkers keepalived drops are dropped with a named problem', () => {
  const rows: Array<[CheckerSpec, string]> = [
    [{ type: 'HTTP_GET', url: [] }, 'CHECK_NO_URL'],
    [{ type: 'HTTP_GET', url: [{ path: '/', digest: 'abc' }] }, 'CHECK_BAD_DIGEST'],
    [{ type: 'HTTP_GET', url: [{ path: '/', status_code: [[600, 700]] }] }, 'CHECK_BAD_STATUS_CODE'],
    [{ type: 'HTTP_GET', url: [{ path: '/', regex: '(' }] }, 'CHECK_BAD_REGEX'],
    [{ type: 'MISC_CHECK', misc_path: [] }, 'CHECK_NO_MISC_PATH'],
    [{ type: 'TCP_CHECK', connect_ip: '10.0.0.1', bindto: '::1' }, 'CHECK_FAMILY_MISMATCH'],
    [{ type: 'TCP_CHECK', connect_ip: 'fe80::1' }, 'CHECK_LINK_LOCAL_NEEDS_BIND_IF'],
    [{ type: 'UDP_CHECK', payload: 'zz' }, 'CHECK_BAD_HEX'],
    [{ type: 'TCP_CHECK', rise: 0 }, 'CHECK_BAD_VALUE'],
  ];
  for (const [spec, code] of rows) {
    const r = one(spec);
    assert.equal(r.checker, undefined, code);
    assert.deepEqual(r.problems.map((p) => p.code), [code]);
    assert.match(r.problems[0].where, /\[10\.1\.1\.1\]:tcp:80 \[10\.0\.0\.1\]:8080/);
  }
});

test('spec: hex strings (read_hex_str) with X wildcards', () => {
  assert.deepEqual(parseHex('0a 0B ff', false), { data: new Uint8Array([10, 11, 255]), mask: null });
  assert.deepEqual(parseHex('aX', true), { data: new Uint8Array([0xa0]), mask: new Uint8Array([0x0f]) });
  assert.equal(parseHex('aX', false), null);
  assert.equal(parseHex('abc', false), null);
});
