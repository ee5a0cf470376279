// GET /metrics: node_exporter's IPVS names and labels under keepvs_ (collector/ipvs_linux.go; label
// values as /proc/net/ip_vs prints them, ip_vs_ctl.c: ip_vs_info_seq_show), collected at scrape
// time from a director that has scheduled a few flows, plus keepvs's rejection counters.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { addr } from '../../src/core/addr.ts';
import { Director } from '../../src/core/director.ts';
import type { ServiceKey, ServiceOptions } from '../../src/core/service.ts';
import type { DestSpec } from '../../src/core/dest.ts';
import { MetricsCollector, renderMetrics, METRICS, type MetricName } from '../../src/api/metrics.ts';
import type { ApiContext } from '../../src/api/router.ts';
import { FakePlane } from './fake-plane.ts';
import { startHarness } from './harness.ts';

const NOW = 5_000_000;
const OPTS: ServiceOptions = { scheduler: 'rr', flags: 0, timeout: 360, netmask: 0xffffffff, pe: null };
const spec = (a: string, port: number, weight: number): DestSpec => ({ addr: addr(a), port, fwd: 'masq', weight, uThreshold: 0, lThreshold: 0 });

function build(): { director: Director; ctx: ApiContext; plane: FakePlane } {
  const director = new Director();
  const tcp: ServiceKey = { kind: 'addr', protocol: 'tcp', vip: addr('10.0.0.1'), port: 80 };
  const udp6: ServiceKey = { kind: 'addr', protocol: 'udp', vip: addr('2001:db8::1'), port: 53 };
  const fwm: ServiceKey = { kind: 'fwmark', fwmark: 26, family: 4 };
  const empty: ServiceKey = { kind: 'addr', protocol: 'tcp', vip: addr('10.0.0.9'), port: 443 };
  for (const k of [tcp, fwm, empty]) assert.ok(director.addService(k, OPTS).ok);
  assert.ok(director.addService(udp6, { ...OPTS, netmask: 128 }).ok);
  // rr never picks a weight-0 dest (ip_vs_rr.c), so every TCP flow lands on 10.0.0.2:8080.
  assert.ok(director.addDest(tcp, spec('10.0.0.3', 80, 0)).ok);
  assert.ok(director.addDest(tcp, spec('10.0.0.2', 8080, 3)).ok);
  assert.ok(director.addDest(udp6, spec('2001:db8::2', 53, 1)).ok);
  assert.ok(director.addDest(fwm, spec('10.0.0.5', 0, 2)).ok);

  const svc = director.getService(tcp)!;
  const conns = [40001, 40002, 40003].map((cport) => director.schedule(svc, {
    protocol: 'tcp', caddr: addr('198.18.0.9'), cport, vaddr: addr('10.0.0.1'), vport: 80,
  }, NOW).conn!);
  // One conn through the handshake to ESTABLISHED, which counts as active (ip_vs_proto_tcp.c).
  director.stateEvent(conns[0], 'input', { syn: true }, NOW);
  director.stateEvent(conns[0], 'output', { syn: true, ack: true }, NOW);
  director.stateEvent(conns[0], 'input', { ack: true }, NOW);
  director.account(conns[0], 'input', 3, 180, NOW);
  director.account(conns[0], 'output', 2, 1500, NOW);
  // A flow for a service with no dests: the director drops it as no-dest.
  assert.equal(director.schedule(director.getService(empty)!, {
    protocol: 'tcp', caddr: addr('198.18.0.9'), cport: 40004, vaddr: addr('10.0.0.9'), vport: 443,
  }, NOW).dest, null);

  const plane = new FakePlane();
  plane.drops = { 'rs-refused': 2 };
  plane.openConnections = 1;
  const ctx: ApiContext = {
    director, plane, now: () => NOW,
    info: () => ({ ipvsVersion: '1.2.1', connTableSize: 4096, keepvsVersion: '9.9.9', dataplane: 'proxy' }),
    counters: { rejected: new Map([['BAD_REQUEST', 3], ['SERVICE_NOT_FOUND', 1]]), requests: new Map([['GET /v1/info\t200', 7]]) },
    dumps: { data: () => '', stats: () => '' },
    startTimeSeconds: 1700000000,
  };
  return { director, ctx, plane };
}

const collector = new MetricsCollector();
after(() => collector.close());

const TCP_RS = 'local_address="10.0.0.1",local_port="80",remote_address="10.0.0.2",remote_port="8080",proto="TCP",local_mark=""';
const TCP_RS0 = 'local_address="10.0.0.1",local_port="80",remote_address="10.0.0.3",remote_port="80",proto="TCP",local_mark=""';
const UDP6_RS = 'local_address="2001:db8::1",local_port="53",remote_address="2001:db8::2",remote_port="53",proto="UDP",local_mark=""';
const FWM_RS = 'local_address="",local_port="0",remote_address="10.0.0.5",remote_port="0",proto="FWM",local_mark="0000001A"';

const EXPECTED: readonly { desc: string; line: string }[] = [
  { desc: 'global conns: three scheduled, the dropped one not counted', line: 'keepvs_ipvs_connections_total 3' },
  { desc: 'global incoming packets', line: 'keepvs_ipvs_incoming_packets_total 3' },
  { desc: 'global outgoing bytes', line: 'keepvs_ipvs_outgoing_bytes_total 1500' },
  { desc: 'active: the conn that reached ESTABLISHED', line: `keepvs_ipvs_backend_connections_active{${TCP_RS}} 1` },
  { desc: 'inactive: the two that saw no packet', line: `keepvs_ipvs_backend_connections_inactive{${TCP_RS}} 2` },
  { desc: 'weight', line: `keepvs_ipvs_backend_weight{${TCP_RS}} 3` },
  { desc: 'the weight-0 dest is listed with nothing', line: `keepvs_ipvs_backend_connections_inactive{${TCP_RS0}} 0` },
  { desc: 'the weight-0 dest weight', line: `keepvs_ipvs_backend_weight{${TCP_RS0}} 0` },
  { desc: 'IPv6 addresses without brackets', line: `keepvs_ipvs_backend_weight{${UDP6_RS}} 1` },
  { desc: 'fwmark: empty address, port 0, mark as %08X', line: `keepvs_ipvs_backend_weight{${FWM_RS}} 2` },
  { desc: 'per-dest conns counter', line: `keepvs_ipvs_backend_connections_total{${TCP_RS}} 3` },
  { desc: 'per-dest incoming bytes', line: `keepvs_ipvs_backend_incoming_bytes_total{${TCP_RS}} 180` },
  { desc: 'per-dest outgoing packets', line: `keepvs_ipvs_backend_outgoing_packets_total{${TCP_RS}} 2` },
  { desc: 'per-service conns', line: 'keepvs_ipvs_service_connections_total{proto="TCP",local_address="10.0.0.1",local_port="80",local_mark=""} 3' },
  { desc: 'per-service conns of the fwmark service', line: 'keepvs_ipvs_service_connections_total{proto="FWM",local_address="",local_port="0",local_mark="0000001A"} 0' },
  { desc: 'services', line: 'keepvs_ipvs_services 4' },
  { desc: 'connection entries', line: 'keepvs_ipvs_connection_entries 3' },
  { desc: 'director drop by reason', line: 'keepvs_director_drops_total{reason="no-dest"} 1' },
  { desc: 'data-plane drop by reason', line: 'keepvs_dataplane_drops_total{reason="rs-refused"} 2' },
  { desc: 'open connections in the plane', line: 'keepvs_dataplane_open_connections 1' },
  { desc: 'API rejections by code', line: 'keepvs_api_rejected_total{code="BAD_REQUEST"} 3' },
  { desc: 'API requests by route and status', line: 'keepvs_api_requests_total{route="GET /v1/info",status="200"} 7' },
  { desc: 'build info', line: `keepvs_build_info{version="9.9.9",nodejs="${process.version}",dataplane="proxy"} 1` },
  { desc: 'process start time', line: 'process_start_time_seconds 1700000000' },
  { desc: 'node_exporter help text kept', line: '# HELP keepvs_ipvs_backend_connections_active The current active connections by local and remote address.' },
  { desc: 'counter type', line: '# TYPE keepvs_ipvs_connections_total counter' },
  { desc: 'gauge type', line: '# TYPE keepvs_ipvs_backend_weight gauge' },
];

test('the metrics text has the right series after a few connections', async (t) => {
  const { ctx } = build();
  const lines = new Set(collector.render(ctx).split('\n'));
  for (const row of EXPECTED) {
    await t.test(row.desc, () => assert.ok(lines.has(row.line), `missing: ${row.line}`));
  }
});

test('process metrics are present and plausible', () => {
  const { ctx } = build();
  const text = collector.render(ctx);
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes']) {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    assert.ok(m, name);
    assert.ok(Number(m[1]) > 0, `${name} > 0`);
  }
});

test('every sample line belongs to a family in the METRICS table, declared before it', () => {
  const { ctx } = build();
  const seen = new Set<string>();
  for (const line of collector.render(ctx).trimEnd().split('\n')) {
    const type = /^# TYPE (\S+) (counter|gauge)$/.exec(line);
    if (type) {
      assert.equal(METRICS[type[1] as MetricName].type, type[2]);
      seen.add(type[1]);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)?.[1];
    assert.ok(name && seen.has(name), `sample before its TYPE or unknown: ${line}`);
    assert.match(line, / -?[0-9.e+]+$|NaN$/);
  }
});

test('label values are escaped as the text format requires', () => {
  const text = renderMetrics(new Map([['keepvs_api_rejected_total', [{ labels: { code: 'a"b\\c\nd' }, value: 1 }]]]));
  assert.ok(text.includes('keepvs_api_rejected_total{code="a\\"b\\\\c\\nd"} 1\n'));
});

test('GET /metrics over the socket, with the text format content type', async () => {
  const h = await startHarness();
  try {
    await h.call('GET', '/v1/nothing');
    const r = await h.call('GET', '/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(r.text, /^keepvs_api_rejected_total\{code="NOT_FOUND"\} 1$/m);
    assert.match(r.text, /^keepvs_ipvs_services 0$/m);
    assert.equal((await h.call('POST', '/metrics')).status, 405);
  } finally {
    await h.close();
  }
});
