// reload.ts on its own: the pure diff between two desired directors (keys: the service key, and
// (RIP, port) inside it), applying its operations to a director, and which virtual servers a data
// plane accepts (a refused one is skipped with its file:line; the rest runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr } from '../../src/core/addr.ts';
import { Director } from '../../src/core/director.ts';
import type { DestSpec } from '../../src/core/dest.ts';
import type { ServiceKey, ServiceOptions } from '../../src/core/service.ts';
import { loadKeepalivedConfig } from '../../src/config/keepalived/load.ts';
import { memoryKeepalivedHost } from '../../src/config/keepalived/memory-host.ts';
import { toDirectorPlan } from '../../src/config/keepalived/lvs.ts';
import {
  type DesiredService, type DesiredState, acceptPlan, applyOps, diffDesired, opText,
} from '../../src/daemon/reload.ts';
import { FakePlane } from '../api/fake-plane.ts';

const OPTS: ServiceOptions = { scheduler: 'wlc', flags: 0, timeout: 360, netmask: 0xffffffff, pe: null };
const key = (port: number, protocol: 'tcp' | 'udp' = 'tcp'): ServiceKey => ({ kind: 'addr', protocol, vip: addr('10.0.0.1'), port });
const dest = (a: string, port: number, weight = 1, more: Partial<DestSpec> = {}): DestSpec => ({
  addr: addr(a), port, fwd: 'masq', weight, uThreshold: 0, lThreshold: 0, ...more,
});
const svc = (port: number, dests: DestSpec[], options: Partial<ServiceOptions> = {}): DesiredService => ({ key: key(port), options: { ...OPTS, ...options }, dests });

const BASE: DesiredState = [
  svc(80, [dest('10.0.1.1', 80, 1), dest('10.0.1.2', 80, 2)]),
  svc(443, [dest('10.0.1.1', 443, 1)]),
];

test('diffDesired: each change gives exactly its operations, in a safe order', async (t) => {
  const rows: { desc: string; next: DesiredState; ops: string[] }[] = [
    { desc: 'identical: nothing', next: BASE, ops: [] },
    { desc: 'same content, other objects and order: nothing', next: [svc(443, [dest('10.0.1.1', 443, 1)]), svc(80, [dest('10.0.1.2', 80, 2), dest('10.0.1.1', 80, 1)])], ops: [] },
    { desc: 'a dest weight changes: one edit', next: [svc(80, [dest('10.0.1.1', 80, 1), dest('10.0.1.2', 80, 5)]), BASE[1]],
      ops: ['edit-dest TCP 10.0.0.1:80 -> 10.0.1.2:80 (masq, weight 5)'] },
    { desc: 'a dest forwarding method changes: one edit', next: [svc(80, [dest('10.0.1.1', 80, 1, { fwd: 'fullnat' }), dest('10.0.1.2', 80, 2)]), BASE[1]],
      ops: ['edit-dest TCP 10.0.0.1:80 -> 10.0.1.1:80 (fullnat, weight 1)'] },
    { desc: 'a threshold changes: one edit', next: [svc(80, [dest('10.0.1.1', 80, 1, { uThreshold: 10 }), dest('10.0.1.2', 80, 2)]), BASE[1]],
      ops: ['edit-dest TCP 10.0.0.1:80 -> 10.0.1.1:80 (masq, weight 1)'] },
    { desc: 'a dest goes, another comes (a port is part of the key)', next: [svc(80, [dest('10.0.1.1', 80, 1), dest('10.0.1.2', 8080, 2)]), BASE[1]],
      ops: ['delete-dest TCP 10.0.0.1:80 -> 10.0.1.2:80', 'add-dest TCP 10.0.0.1:80 -> 10.0.1.2:8080 (masq, weight 2)'] },
    { desc: 'the scheduler changes: the service is edited, its dests stay', next: [svc(80, BASE[0].dests as DestSpec[], { scheduler: 'rr' }), BASE[1]],
      ops: ['edit-service TCP 10.0.0.1:80 (rr)'] },
    { desc: 'persistence changes: edited', next: [svc(80, BASE[0].dests as DestSpec[], { flags: 1, timeout: 50 }), BASE[1]],
      ops: ['edit-service TCP 10.0.0.1:80 (wlc)'] },
    { desc: 'a service goes', next: [BASE[0]], ops: ['delete-service TCP 10.0.0.1:443'] },
    { desc: 'a service comes, with its dests in configuration order', next: [...BASE, svc(8080, [dest('10.0.1.3', 80), dest('10.0.1.4', 80)])],
      ops: ['add-service TCP 10.0.0.1:8080 (wlc)', 'add-dest TCP 10.0.0.1:8080 -> 10.0.1.3:80 (masq, weight 1)', 'add-dest TCP 10.0.0.1:8080 -> 10.0.1.4:80 (masq, weight 1)'] },
    { desc: 'the protocol is part of the service key: delete + add', next: [BASE[0], { ...BASE[1], key: key(443, 'udp') }],
      ops: ['delete-service TCP 10.0.0.1:443', 'add-service UDP 10.0.0.1:443 (wlc)', 'add-dest UDP 10.0.0.1:443 -> 10.0.1.1:443 (masq, weight 1)'] },
    { desc: 'everything goes', next: [], ops: ['delete-service TCP 10.0.0.1:80', 'delete-service TCP 10.0.0.1:443'] },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      assert.deepEqual(diffDesired(BASE, row.next).map(opText), row.ops);
    });
  }
  await t.test('from nothing: every service and dest is added', () => {
    assert.equal(diffDesired([], BASE).length, 2 + 3);
  });
});

test('applyOps: an unchanged service keeps its dests (objects, counters); changes land', () => {
  const director = new Director();
  assert.deepEqual(applyOps(director, diffDesired([], BASE), 0), []);
  const s80 = director.getService(key(80))!;
  const kept = s80.findDest(addr('10.0.1.1'), 80)!;
  kept.stats.counters.conns = 7;
  const next: DesiredState = [svc(80, [dest('10.0.1.1', 80, 1), dest('10.0.1.2', 80, 3)], { scheduler: 'rr' })];
  assert.deepEqual(applyOps(director, diffDesired(BASE, next), 0), []);
  assert.equal(director.getService(key(80)), s80, 'the same service object');
  assert.equal(s80.findDest(addr('10.0.1.1'), 80), kept, 'the same dest object');
  assert.equal(kept.stats.counters.conns, 7, 'its counters kept');
  assert.equal(s80.findDest(addr('10.0.1.2'), 80)!.weight, 3);
  assert.equal(s80.options.scheduler, 'rr');
  assert.equal(director.getService(key(443)), undefined);
});

test('applyOps: a dest added by hand is edited, one deleted by hand is no failure, a missing service is', () => {
  const director = new Director();
  applyOps(director, diffDesired([], BASE), 0);
  assert.ok(director.deleteDest(key(80), addr('10.0.1.2'), 80).ok);
  assert.ok(director.addDest(key(443), dest('10.0.1.9', 443, 4)).ok);
  assert.ok(director.deleteService(key(443)).ok);
  const next: DesiredState = [svc(80, [dest('10.0.1.1', 80, 1)]), svc(443, [dest('10.0.1.1', 443, 1), dest('10.0.1.5', 443)])];
  const failures = applyOps(director, diffDesired(BASE, next), 0);
  assert.deepEqual(failures.map((f) => `${opText(f.op)}: ${f.error.code}`), ['add-dest TCP 10.0.0.1:443 -> 10.0.1.5:443 (masq, weight 1): SERVICE_NOT_FOUND']);
});

function planOf(text: string) {
  const r = loadKeepalivedConfig('/etc/keepalived/keepalived.conf', { host: memoryKeepalivedHost({ files: { '/etc/keepalived/keepalived.conf': text } }) });
  assert.ok(r.config);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  return toDirectorPlan(r.config);
}

test('acceptPlan: what the plane cannot serve is skipped by virtual server, with its place and the plane\'s reason', async (t) => {
  const rows: { desc: string; text: string; accepted: string[]; skipped: string[] }[] = [
    {
      desc: 'NAT runs; lb_kind DR on the proxy plane is skipped at the real server\'s line',
      text: `virtual_server 10.0.0.1 80 {
  protocol TCP
  lb_kind NAT
  real_server 10.0.1.1 80 {
  }
}
virtual_server 10.0.0.2 80 {
  protocol TCP
  lb_kind DR
  real_server 10.0.1.2 80 {
  }
}
`,
      accepted: ['TCP 10.0.0.1:80'],
      skipped: ['/etc/keepalived/keepalived.conf:10: UNSUPPORTED_FWD virtual_server 10.0.0.2 80 is skipped: real_server 10.0.1.2:80'],
    },
    {
      desc: 'a fwmark service is skipped at the virtual server\'s line',
      text: `virtual_server fwmark 7 {
  lb_kind NAT
  real_server 10.0.1.1 80 {
  }
}
`,
      accepted: [],
      skipped: ['/etc/keepalived/keepalived.conf:1: UNSUPPORTED_FWMARK virtual_server fwmark 7 is skipped: FWM 7'],
    },
    {
      desc: 'a sorry server the plane refuses skips its virtual server',
      text: `virtual_server 10.0.0.1 80 {
  protocol TCP
  lb_kind NAT
  sorry_server 10.0.9.9 80
  sorry_server_lvs_method DR
  real_server 10.0.1.1 80 {
  }
}
`,
      accepted: [],
      skipped: ['/etc/keepalived/keepalived.conf:4: UNSUPPORTED_FWD virtual_server 10.0.0.1 80 is skipped: sorry_server 10.0.9.9:80'],
    },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const { accepted, skipped } = acceptPlan(planOf(row.text), new FakePlane());
      assert.deepEqual(accepted.services.map((s) => (s.key.kind === 'addr' ? `TCP ${s.key.vip.text}:${s.key.port}` : '')), row.accepted);
      assert.equal(skipped.length, row.skipped.length);
      skipped.forEach((s, i) => {
        const line = `${s.at.file}:${s.at.line}: ${s.code} ${s.message}`;
        assert.ok(line.startsWith(row.skipped[i]), `${line}\n  does not start with\n${row.skipped[i]}`);
      });
    });
  }
});
