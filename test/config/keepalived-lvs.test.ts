// toDirectorPlan: keepalived.conf virtual servers as director services and dests, the way
// keepalived programs IPVS at start (ipwrapper.c: init_service_vs / init_service_rs / quorum).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadKeepalivedConfig } from '../../src/config/keepalived/load.ts';
import { memoryKeepalivedHost } from '../../src/config/keepalived/memory-host.ts';
import { toDirectorPlan, type DirectorPlan } from '../../src/config/keepalived/lvs.ts';
import { Director } from '../../src/core/director.ts';

function plan(text: string): DirectorPlan {
  const r = loadKeepalivedConfig('/k.conf', { host: memoryKeepalivedHost({ files: { '/k.conf': text } }) });
  assert.ok(r.config);
  return toDirectorPlan(r.config);
}

const dests = (p: DirectorPlan, i = 0): string[] => p.services[i].dests.map((d) => `${d.addr.text}:${d.port} ${d.fwd} w${d.weight}`);

test('a virtual server: its key, options and dests', () => {
  const p = plan(`virtual_server 10.0.0.1 80 {
 protocol TCP
 lvs_sched sh
 sh-port
 lvs_method DR
 persistence_timeout 50
 persistence_granularity 255.255.255.0
 real_server 10.0.0.2 8080 {
  weight 3
  uthreshold 100
  lthreshold 10
 }
 real_server 10.0.0.3 80 {
  lvs_method TUN type gue port 6080
 }
}
`);
  const s = p.services[0];
  assert.deepEqual(s.key.kind === 'addr' && [s.key.protocol, s.key.vip.text, s.key.port], ['tcp', '10.0.0.1', 80]);
  assert.deepEqual(s.options, { scheduler: 'sh', flags: 0x1 | 0x10, timeout: 50, netmask: 0xffffff00, pe: null });
  assert.deepEqual(dests(p), ['10.0.0.2:80 route w3', '10.0.0.3:80 tunnel w1']);
  assert.deepEqual([s.dests[0].uThreshold, s.dests[0].lThreshold], [100, 10]);
  assert.deepEqual(s.dests[1].tunnel, { type: 'gue', port: 6080, csum: 'nocsum' });
});

test('forwarding methods map to the core: NAT masq, DR route, TUN tunnel, FULLNAT fullnat', () => {
  const p = plan(`virtual_server 10.0.0.1 80 {
 protocol TCP
 lvs_sched rr
 lvs_method NAT
 real_server 10.0.0.2 8080 {
 }
 real_server 10.0.0.3 {
 }
 real_server 10.0.0.4 9090 {
  lvs_method FULLNAT
 }
}
`);
  assert.deepEqual(dests(p), ['10.0.0.2:8080 masq w1', '10.0.0.3:80 masq w1', '10.0.0.4:9090 fullnat w1']);
});

test('a virtual_server_group becomes one service per address, and per fwmark', () => {
  const p = plan(`virtual_server_group G {
 10.1.0.1-3 80
 fwmark 9
}
virtual_server group G {
 protocol UDP
 lvs_sched rr
 lvs_method DR
 real_server 10.2.0.1 80 {
 }
}
`);
  assert.deepEqual(p.services.map((s) => (s.key.kind === 'addr' ? `${s.key.protocol} ${s.key.vip.text}:${s.key.port}` : `fwm ${s.key.fwmark}/${s.key.family}`)),
    ['udp 10.1.0.1:80', 'udp 10.1.0.2:80', 'udp 10.1.0.3:80', 'fwm 9/4']);
  assert.deepEqual(p.services.map((s) => s.dests[0].port), [80, 80, 80, 0]);
});

test('start state: alpha real servers stay out (in at weight 0 with inhibit_on_failure); quorum and the sorry server', async (t) => {
  const vs = (extra: string, rs: string): string => `virtual_server 10.0.0.1 80 {
 protocol TCP
 lvs_sched rr
 lvs_method NAT
 ${extra}
 ${rs}
}
`;
  const alphaRs = (ip: string, more = ''): string => `real_server ${ip} 80 {\n ${more}\n TCP_CHECK {\n  alpha\n }\n}`;
  const rows = [
    { desc: 'no checkers: every real server is in', text: vs('', 'real_server 10.0.0.2 80 {\n}\nreal_server 10.0.0.3 80 {\n}'), want: ['10.0.0.2:80 masq w1', '10.0.0.3:80 masq w1'], up: true },
    { desc: 'an alpha checker keeps its real server out', text: vs('', `${alphaRs('10.0.0.2')}\nreal_server 10.0.0.3 80 {\n}`), want: ['10.0.0.3:80 masq w1'], up: true },
    { desc: 'inhibit_on_failure: the alpha real server is in at weight 0', text: vs('', alphaRs('10.0.0.2', 'inhibit_on_failure')), want: ['10.0.0.2:80 masq w0'], up: false },
    { desc: 'quorum not reached with a sorry server: only the sorry server', text: vs('quorum 2\nsorry_server 10.9.9.9 80', `${alphaRs('10.0.0.2')}\nreal_server 10.0.0.3 80 {\n}`), want: ['10.9.9.9:80 masq w1'], up: false },
    { desc: 'quorum not reached without a sorry server: the alive ones stay', text: vs('quorum 2', `${alphaRs('10.0.0.2')}\nreal_server 10.0.0.3 80 {\n}`), want: ['10.0.0.3:80 masq w1'], up: false },
    { desc: 'sorry_server_inhibit: programmed at weight 0 while quorum is up', text: vs('sorry_server 10.9.9.9 80\nsorry_server_inhibit', 'real_server 10.0.0.3 80 {\n}'), want: ['10.0.0.3:80 masq w1', '10.9.9.9:80 masq w0'], up: true },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const p = plan(row.text);
      assert.deepEqual(dests(p), row.want);
      assert.equal(p.services[0].quorumUpAtStart, row.up);
    });
  }
});

test('the plan applies to the director as is', () => {
  const p = plan(`virtual_server 127.0.0.1 8080 {
 protocol TCP
 lvs_sched wrr
 lvs_method NAT
 real_server 127.0.0.1 8081 {
  weight 2
 }
 real_server 127.0.0.1 8082 {
 }
}
`);
  const d = new Director();
  for (const s of p.services) {
    const r = d.addService(s.key, s.options);
    assert.ok(r.ok, JSON.stringify(r));
    for (const dest of s.dests) assert.ok(d.addDest(s.key, dest).ok);
  }
  const svc = d.getService(p.services[0].key);
  assert.ok(svc);
  assert.deepEqual(svc.dests.map((x) => `${x.port}/${x.weight}`).sort(), ['8081/2', '8082/1']);
});
