// The typed model a keepalived.conf becomes: keepalived 2.2's defaults (the surprising ones
// included), its fix-ups with its messages, checker defaults per type and inheritance
// virtual server -> real server -> checker, and the VRRP defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadKeepalivedConfig, type LoadResult } from '../../src/config/keepalived/load.ts';
import { memoryKeepalivedHost, type MemoryHostOptions } from '../../src/config/keepalived/memory-host.ts';
import type { Checker, VirtualServer } from '../../src/config/keepalived/model.ts';

const MAIN = '/etc/keepalived/keepalived.conf';

function load(text: string, host: MemoryHostOptions = {}): LoadResult {
  return loadKeepalivedConfig(MAIN, { host: memoryKeepalivedHost({ ...host, files: { [MAIN]: text } }) });
}

function vs(text: string): { r: LoadResult; v: VirtualServer } {
  const r = load(text);
  assert.ok(r.config && r.config.virtualServers.length > 0, JSON.stringify(r.diagnostics.map((d) => d.message)));
  return { r, v: r.config.virtualServers[0] };
}

const messages = (r: LoadResult): string[] => r.diagnostics.filter((d) => d.klass !== 'OK').map((d) => d.message);

test("keepalived's defaults for a bare virtual server: UDP, wlc, NAT, each reported", () => {
  const { r, v } = vs('virtual_server 10.0.0.1 53 {\n real_server 10.0.0.2 53 {\n }\n}\n');
  assert.equal(v.protocol, 'udp');
  assert.equal(v.scheduler, 'wlc');
  assert.equal(v.forwarding.method, 'NAT');
  assert.deepEqual(messages(r), [
    'Virtual server [10.0.0.1]:none:53: no protocol set - defaulting to UDP',
    "Virtual server [10.0.0.1]:udp:53: no scheduler set, setting default 'wlc'",
    'Virtual server [10.0.0.1]:udp:53: no forwarding method set, setting default NAT',
  ]);
  assert.equal(r.exitCode, 5);
  assert.equal(v.delayLoopUs, 60_000_000);
  assert.equal(v.connectTimeoutUs, 5_000_000);
  assert.equal(v.realServers[0].weight, 1);
  assert.equal(v.quorum, 1);
});

test('persistence_timeout: a bare keyword is 360 s; granularity implies persistence', async (t) => {
  const base = (kw: string): string => `virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n ${kw}\n real_server 10.0.0.2 80 {\n }\n}\n`;
  const rows = [
    { desc: 'persistence_timeout', kw: 'persistence_timeout', timeout: 360, gran: null },
    { desc: 'persistence_timeout 50', kw: 'persistence_timeout 50', timeout: 50, gran: null },
    { desc: 'granularity alone', kw: 'persistence_granularity 255.255.255.0', timeout: 360, gran: 0xffffff00 },
    { desc: 'granularity in inet_aton form', kw: 'persistence_granularity 255.255.255', timeout: 360, gran: 0xffff00ff },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const { r, v } = vs(base(row.kw));
      assert.equal(r.exitCode, 0, JSON.stringify(messages(r)));
      assert.equal(v.persistenceTimeout, row.timeout);
      assert.equal(v.persistenceGranularity, row.gran);
    });
  }
});

test("keepalived's fix-ups, each reported as keepalived reports it", async (t) => {
  const rows: { desc: string; text: string; msg: string | string[]; check: (v: VirtualServer) => void }[] = [
    {
      desc: 'port 0 without persistence becomes persistent',
      text: 'virtual_server 10.0.0.1 0 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n real_server 10.0.0.2 80 {\n }\n}\n',
      msg: 'Virtual server [10.0.0.1]:tcp:0: zero port only valid for persistent services - setting',
      check: (v) => assert.equal(v.persistenceTimeout, 360),
    },
    {
      desc: 'ops on TCP is reset',
      text: 'virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n ops\n real_server 10.0.0.2 80 {\n }\n}\n',
      msg: 'Virtual server [10.0.0.1]:tcp:80: one packet scheduling requires UDP - resetting',
      check: (v) => assert.equal(v.flags & 0x4, 0),
    },
    {
      desc: 'a duplicate real server is removed',
      text: 'virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n real_server 10.0.0.2 80 {\n weight 3\n }\n real_server 10.0.0.2 80 {\n }\n}\n',
      msg: 'VS [10.0.0.1]:tcp:80: real server [10.0.0.2]:tcp:80 is duplicated - removing second rs',
      check: (v) => assert.deepEqual(v.realServers.map((x) => x.weight), [3]),
    },
    {
      desc: 'DR: the real server port is forced to the service port',
      text: 'virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind DR\n real_server 10.0.0.2 8080 {\n }\n}\n',
      msg: "WARNING - virtual server [10.0.0.1]:tcp:80 and real server [10.0.0.2]:tcp:8080 ports don't match - resetting",
      check: (v) => assert.equal(v.realServers[0].port, 80),
    },
    {
      desc: 'fwmark: a protocol is ignored; non-NAT real servers lose their port',
      text: 'virtual_server fwmark 5 {\n protocol TCP\n lb_algo rr\n lb_kind TUN\n real_server 10.0.0.2 80 {\n }\n}\n',
      msg: ['Warning: Virtual server FWM 5: protocol specified for fwmark - protocol will be ignored',
        'WARNING - fwmark virtual server FWM 5, real server [10.0.0.2]:none:80 has port specified - clearing'],
      check: (v) => { assert.equal(v.protocol, null); assert.equal(v.realServers[0].port, 0); },
    },
    {
      desc: 'quorum above the total weight is reduced',
      text: 'virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n quorum 5\n real_server 10.0.0.2 80 {\n weight 2\n }\n}\n',
      msg: 'Warning - quorum 5 for [10.0.0.1]:tcp:80 exceeds total weight of real servers 2, reducing quorum to 2',
      check: (v) => assert.equal(v.quorum, 2),
    },
    {
      desc: 'hysteresis must stay below quorum',
      text: 'virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n quorum 2\n hysteresis 2\n real_server 10.0.0.2 80 {\n weight 2\n }\n}\n',
      msg: 'Virtual server [10.0.0.1]:tcp:80: hysteresis 2 >= quorum 2; setting hysteresis to 1',
      check: (v) => assert.equal(v.hysteresis, 1),
    },
    {
      desc: 'NAT without a real server port takes the service port, silently',
      text: 'virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n real_server 10.0.0.2 {\n }\n}\n',
      msg: '',
      check: (v) => assert.equal(v.realServers[0].port, 80),
    },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const { r, v } = vs(row.text);
      assert.deepEqual(messages(r), Array.isArray(row.msg) ? row.msg : row.msg ? [row.msg] : []);
      row.check(v);
    });
  }
});

test('real servers inherit from the virtual server; checkers from the real server, with their own defaults', () => {
  const { r, v } = vs(`virtual_server 10.0.0.1 80 {
 protocol TCP
 lb_algo rr
 lb_kind NAT
 delay_loop 10
 connect_timeout 2
 weight 4
 inhibit_on_failure
 real_server 10.0.0.2 80 {
  TCP_CHECK {
  }
  HTTP_GET {
   url {
    path /
   }
  }
  MISC_CHECK {
   misc_path /bin/true
  }
  DNS_CHECK {
  }
 }
 real_server 10.0.0.3 80 {
  weight 0
  retry 7
  delay_before_retry 0.5
  warmup 0
  connect_timeout 1.5
  TCP_CHECK {
   delay_loop 3
  }
 }
}
`);
  assert.deepEqual(messages(r), []);
  const [a, b] = v.realServers;
  assert.deepEqual([a.weight, a.inhibitOnFailure, a.delayLoopUs, a.connectTimeoutUs], [4, true, 10_000_000, 2_000_000]);
  const brief = (c: Checker): unknown[] => [c.type, c.retry, c.delayBeforeRetryUs, c.warmupUs, c.delayLoopUs, 'connection' in c ? c.connection.timeoutUs : null];
  assert.deepEqual(a.checkers.map(brief), [
    ['TCP_CHECK', 1, 1_000_000, 10_000_000, 10_000_000, 2_000_000],
    ['HTTP_GET', 1, 3_000_000, 10_000_000, 10_000_000, 2_000_000],
    ['MISC_CHECK', 0, 1_000_000, 10_000_000, 10_000_000, null],
    ['DNS_CHECK', 3, 10_000_000, 10_000_000, 10_000_000, 2_000_000],
  ]);
  assert.equal(b.weight, 0);
  assert.deepEqual(b.checkers.map(brief), [['TCP_CHECK', 7, 500_000, 0, 3_000_000, 1_500_000]]);
  const http = a.checkers[1];
  assert.ok(http.type === 'HTTP_GET');
  assert.deepEqual(http.type === 'HTTP_GET' && [http.urls[0].statusCodes, http.connection.ip.text, http.connection.port, http.httpProtocol], [[{ min: 200, max: 299 }], '10.0.0.2', 80, '1.0']);
});

test('forwarding: TUN options, FULLNAT (a keepvs extension, noted, not an error), real server override', () => {
  const { r, v } = vs(`virtual_server 10.0.0.1 80 {
 protocol TCP
 lb_algo rr
 lvs_method TUN type gue port 6080 remcsum
 real_server 10.0.0.2 80 {
 }
 real_server 10.0.0.3 80 {
  lvs_method FULLNAT
 }
}
`);
  assert.equal(r.exitCode, 0);
  assert.deepEqual(v.realServers.map((x) => x.forwarding), [
    { method: 'TUN', tunnel: { type: 'gue', port: 6080, csum: 'remcsum' } },
    { method: 'FULLNAT', tunnel: null },
  ]);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.klass]), [['EXTENSION', 'info', 'OK']]);
});

test('virtual_server_group: addresses, last-octet ranges, full ranges, prefixes, fwmarks', () => {
  const r = load(`virtual_server_group G {
 10.0.0.1 80
 10.0.0.2-4 80
 10.0.1.250-10.0.2.3 81
 10.0.3.0/30 82
 2001:db8::1-a 83
 fwmark 7 inet
}
virtual_server group G {
 protocol TCP
 lb_algo rr
 lb_kind NAT
 real_server 10.0.9.1 80 {
 }
}
`);
  const g = r.config!.virtualServerGroups[0];
  assert.deepEqual(g.ranges.map((x) => [x.first.text, x.last.text, x.port]), [
    ['10.0.0.1', '10.0.0.1', 80], ['10.0.0.2', '10.0.0.4', 80], ['10.0.1.250', '10.0.2.3', 81], ['10.0.3.0', '10.0.3.3', 82], ['2001:db8::1', '2001:db8::a', 83],
  ]);
  assert.deepEqual(g.fwmarks.map((f) => [f.fwmark, f.family]), [[7, 4]]);
});

test('bad values: reported at their place, the keyword ignored, keepalived -t exits 5', async (t) => {
  const rows = [
    { desc: 'unknown scheduler', kw: 'lb_algo fastest', msg: "Invalid lvs_scheduler 'fastest' - ignoring", col: 10 },
    { desc: 'unknown protocol', kw: 'protocol QUIC', msg: 'Unknown protocol QUIC - ignoring', col: 11 },
    { desc: 'unknown method', kw: 'lb_kind MAGIC', msg: 'PARSER : unknown [MAGIC] routing method for virtual server.', col: 10 },
    { desc: 'delay_loop not a number', kw: 'delay_loop abc', msg: "virtual server delay loop 'abc' invalid - ignoring", col: 13 },
    { desc: 'weight out of range', kw: 'weight 0', msg: 'Virtual server weight 0 is outside range 1-2147483647', col: 9 },
    { desc: 'sh-port without sh', kw: 'sh-port', msg: 'sh-port only applies to sh scheduler - ignoring', col: 2 },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const r = load(`virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n ${row.kw}\n real_server 10.0.0.2 80 {\n }\n}\n`);
      const d = r.diagnostics.find((x) => x.message === row.msg);
      assert.ok(d, `${row.msg} in ${JSON.stringify(messages(r))}`);
      assert.equal(d.at!.line, 5);
      assert.equal(d.at!.col, row.col);
      assert.equal(d.keyword, row.kw.split(' ')[0]);
      assert.equal(r.exitCode, 5);
    });
  }
});

test('VRRP defaults: BACKUP at 100; MASTER with no priority is the address owner (255)', () => {
  const r = load(`vrrp_instance A {
 interface eth0
 virtual_router_id 1
 virtual_ipaddress {
  192.0.2.1
 }
}
vrrp_instance B {
 state MASTER
 interface eth0
 virtual_router_id 2
 virtual_ipaddress {
  192.0.2.2/24 dev eth0 label eth0:1
 }
}
`);
  assert.equal(r.exitCode, 0, JSON.stringify(messages(r)));
  const [a, b] = r.config!.vrrpInstances;
  assert.deepEqual([a.state, a.priority, a.version, a.advertIntUs, a.accept, a.garpMasterDelayS, a.garpMasterRepeat], ['BACKUP', 100, 2, 1_000_000, true, 5, 5]);
  assert.deepEqual([b.state, b.priority], ['MASTER', 255]);
  assert.deepEqual(b.virtualIpaddress.map((x) => [x.addr.text, x.prefixLen, x.dev, x.label]), [['192.0.2.2', 24, 'eth0', 'eth0:1']]);
});

test('VRRP checks: interfaces on this host, VRID, advert interval rounding, AH with MASTER, sync groups', async (t) => {
  const rows = [
    {
      desc: 'a missing interface stops the VRRP checks (exit 5: a WARNING and a BAD_IF)',
      text: 'vrrp_instance A {\n interface eth9\n virtual_router_id 1\n virtual_ipaddress {\n  192.0.2.1\n }\n}\n', exit: 5,
      msgs: ["WARNING - interface eth9 for vrrp_instance A doesn't exist", 'Non-existent interface specified in configuration'],
    },
    {
      desc: 'dynamic_interfaces accepts interfaces that do not exist yet',
      text: 'global_defs {\n dynamic_interfaces\n}\nvrrp_instance A {\n interface eth9\n virtual_router_id 1\n virtual_ipaddress {\n  192.0.2.1\n }\n}\n', exit: 0,
      msgs: [],
    },
    {
      desc: 'no VRID',
      text: 'vrrp_instance A {\n interface eth0\n virtual_ipaddress {\n  192.0.2.1\n }\n}\n', exit: 5,
      msgs: ['(A) the virtual router id must be set'],
    },
    {
      desc: 'VRRPv2 rounds a fractional advert_int',
      text: 'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n advert_int 1.5\n virtual_ipaddress {\n  192.0.2.1\n }\n}\n', exit: 5,
      msgs: ['(A) VRRPv2 advertisement interval 1.500000s must be an integer. rounding'],
    },
    {
      desc: 'AH authentication cannot start as MASTER below 255',
      text: 'vrrp_instance A {\n state MASTER\n priority 100\n interface eth0\n virtual_router_id 1\n authentication {\n  auth_type AH\n  auth_pass x\n }\n virtual_ipaddress {\n  192.0.2.1\n }\n}\n', exit: 5,
      msgs: ['(A) Initial state master is incompatible with AH authentication - clearing'],
    },
    {
      desc: 'sync group naming a missing instance and having one member',
      text: 'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  192.0.2.1\n }\n}\nvrrp_sync_group G {\n group {\n  A\n  B\n }\n}\n', exit: 5,
      msgs: ["Virtual router B specified in sync group G doesn't exist - ignoring", "Sync group G has only 1 virtual router(s) - this probably isn't what you want"],
    },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const r = load(row.text);
      assert.deepEqual(messages(r), row.msgs);
      assert.equal(r.exitCode, row.exit);
    });
  }
});

test('scripts: a script found on disk needs enable_script_security (exit 6); with it and a user, all is well', async (t) => {
  const inst = (notify: string, global = ''): string => `${global}vrrp_instance A {\n interface eth0\n virtual_router_id 1\n ${notify}\n virtual_ipaddress {\n  192.0.2.1\n }\n}\n`;
  const host = { scripts: ['/usr/local/bin/notify.sh'] };
  await t.test('found, no script security', () => {
    const r = load(inst('notify_master "/usr/local/bin/notify.sh master"'), host);
    assert.equal(r.exitCode, 6);
    assert.deepEqual(messages(r), ['SECURITY VIOLATION - scripts are being executed but script_security not enabled.']);
    assert.deepEqual(r.config!.vrrpInstances[0].notify.master!.args, ['/usr/local/bin/notify.sh', 'master']);
  });
  await t.test('not found: only a note', () => {
    const r = load(inst('notify_master /usr/local/bin/other.sh'), host);
    assert.equal(r.exitCode, 0);
  });
  await t.test('"</dev/tcp/..." only tests a file: not a script', () => {
    const r = load(inst('notify_master "</dev/tcp/127.0.0.1/80"'), host);
    assert.equal(r.exitCode, 0);
  });
  await t.test('script security on, no keepalived_script user and no script_user: the script is refused', () => {
    const r = load(inst('notify_master /usr/local/bin/notify.sh', 'global_defs {\n enable_script_security\n}\n'), host);
    assert.equal(r.exitCode, 5);
    assert.deepEqual(messages(r), ['Unable to set default user keepalived_script for script']);
    assert.equal(r.config!.vrrpInstances[0].notify.master, null);
  });
  await t.test('script security on with script_user: accepted', () => {
    const r = load(inst('notify_master /usr/local/bin/notify.sh', 'global_defs {\n enable_script_security\n script_user root\n}\n'), host);
    assert.equal(r.exitCode, 0, JSON.stringify(messages(r)));
  });
});
