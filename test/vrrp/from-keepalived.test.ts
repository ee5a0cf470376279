// keepalived's sample configurations through the keepalived.conf parser (src/config/keepalived) and
// into the VRRP room: every instance resolves, with the fields keepalived would run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve, join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadKeepalivedConfig } from '../../src/config/keepalived/load.ts';
import { vrrpConfigFromKeepalived } from '../../src/vrrp/from-keepalived.ts';
import { resolveVrrpConfig } from '../../src/vrrp/config.ts';
import { vipAddArgs } from '../../src/vrrp/vip.ts';
import { AUTH_TYPE } from '../../src/vrrp/packet.ts';
import { FIXTURES } from './pcap.ts';

function load(name: string) {
  const r = loadKeepalivedConfig(resolve(FIXTURES, 'keepalived', name));
  assert.ok(r.config, `${name} loads`);
  return resolveVrrpConfig(vrrpConfigFromKeepalived(r.config));
}

test('every sample resolves; instances and warnings per file', () => {
  const rows = [
    { f: 'keepalived.conf.vrrp', n: 4, codes: [] as string[] },
    { f: 'keepalived.conf.vrrp.sync', n: 9, codes: [] },
    { f: 'keepalived.conf.vrrp.localcheck', n: 9, codes: [] },
    { f: 'keepalived.conf.vrrp.scripts', n: 3, codes: [] },
    { f: 'keepalived.conf.vrrp.routes', n: 1, codes: ['ROUTE_UNSUPPORTED'] },
    { f: 'keepalived.conf.vrrp.rules', n: 1, codes: [] },
    { f: 'keepalived.conf.track_interface', n: 1, codes: [] },
  ];
  for (const r of rows) {
    const res = load(r.f);
    assert.equal(res.vrrp.instances.length, r.n, r.f);
    assert.deepEqual(res.diagnostics.map((d) => d.code), r.codes, r.f);
  }
});

test('keepalived.conf.vrrp: VI_1 as keepalived runs it', () => {
  const i = load('keepalived.conf.vrrp').vrrp.instances.find((x) => x.name === 'VI_1')!;
  assert.equal(i.vrid, 51);
  assert.equal(i.authType, AUTH_TYPE.pass);
  assert.equal(Buffer.from(i.authData).toString('latin1').replace(/\0+$/, ''), '1111');
  const labelled = i.vips.find((v) => v.label)!;
  assert.deepEqual(vipAddArgs(labelled, 'eth0'), ['-4', 'addr', 'add', '192.168.200.18/32', 'dev', 'eth0', 'label', 'eth0:1']);
});

test('keepalived.conf.vrrp.routes: routes become ip route arguments; "or" alternatives are skipped with a warning', () => {
  const res = load('keepalived.conf.vrrp.routes');
  const routes = res.vrrp.instances[0].routes.map((r) => r.join(' '));
  // (The parser already dropped the routes on interfaces this host lacks, as keepalived does.)
  assert.deepEqual(routes, ['192.168.112.0/24 via 192.168.100.254', 'blackhole 192.168.113.1/32', '0.0.0.0/0 via 192.168.0.1 table 100']);
  assert.ok(!routes.some((r) => r.includes(' or ')));
});

test('startVrrp: a keepalived.conf runs as the daemon will run it', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { startVrrp } = await import('../../src/vrrp/start.ts');
  const { FakeNet, stateOf } = await import('./fake-host.ts');
  const dir = mkdtempSync(join(tmpdir(), 'kv-start-'));
  try {
    const file = join(dir, 'keepalived.conf');
    writeFileSync(file, [
      'vrrp_instance VI_1 {', '  state MASTER', '  interface eth0', '  virtual_router_id 51', '  priority 150', '  advert_int 1',
      '  authentication {', '    auth_type PASS', '    auth_pass s3cret', '  }', '  virtual_ipaddress {', '    198.18.10.100/24 dev eth0 label eth0:vip', '  }', '}', '',
    ].join('\n'));
    const r = loadKeepalivedConfig(file);
    assert.ok(r.config);
    const net = new FakeNet();
    const node = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
    const started = await startVrrp(r.config, { log: () => {}, host: node.host });
    assert.deepEqual(started.errors, []);
    node.proc = started.process;
    await net.run(4_000_000);
    assert.equal(stateOf(node), 'MASTER');
    assert.ok(node.ip.commands.includes('ip -4 addr add 198.18.10.100/24 dev eth0 label eth0:vip'));
    await started.process!.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keepalived.conf → VRRP: vrrp_track_process, vrrp_startup_delay, GARP limits, script_user', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kpd-conf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'keepalived.conf');
  writeFileSync(file, `global_defs {
  vrrp_startup_delay 2.5
  vrrp_garp_interval 0.2
  script_user root
}
garp_group {
  garp_interval 1
  interface lo
}
vrrp_track_process hap {
  process haproxy
  weight -30 reverse
  quorum 2
  fork_delay 1
  terminate_delay 3
}
vrrp_track_process web {
  process /usr/sbin/nginx -g
  param_match partial
}
vrrp_instance VI_1 {
  unicast_src_ip 198.18.10.1
  unicast_peer {
    198.18.10.2
  }
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    198.18.10.100/24
  }
  track_process {
    hap
    web weight 10
  }
}
`);
  const r = loadKeepalivedConfig(file);
  assert.ok(r.config);
  const res = resolveVrrpConfig(vrrpConfigFromKeepalived(r.config));
  assert.deepEqual(res.diagnostics.filter((d) => d.severity === 'error'), []);
  const v = res.vrrp;
  assert.equal(v.startupDelayUs, 2_500_000);
  assert.deepEqual(v.garpLimits, [
    { garpIntervalUs: 1_000_000, gnaIntervalUs: 0, interfaces: ['lo'] },
    { garpIntervalUs: 200_000, gnaIntervalUs: 0, interfaces: null },
  ]);
  assert.deepEqual(v.scriptUser, { user: 'root' });
  const hap = v.trackProcesses.find((p) => p.name === 'hap')!;
  assert.deepEqual({ ...hap }, {
    name: 'hap', process: 'haproxy', params: [], paramMatch: null, weight: -30, reverse: true, quorum: 2, quorumMax: Infinity,
    forkDelayUs: 1_000_000, terminateDelayUs: 3_000_000, fullCommand: false,
  });
  const web = v.trackProcesses.find((p) => p.name === 'web')!;
  assert.equal(web.paramMatch, 'partial');
  assert.equal(web.fullCommand, true);
  assert.deepEqual(web.params, ['-g']);
  assert.deepEqual(v.instances[0].trackProcesses, [
    { name: 'hap', weight: -30, multiplier: -1 },
    { name: 'web', weight: 10, multiplier: 1 },
  ]);
});
