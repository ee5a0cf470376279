// The director's rules: ipvsadm's and the kernel's add/edit/delete checks (ipvsadm.c, ip_vs_ctl.c),
// persistence templates (ip_vs_core.c: ip_vs_sched_persist; ip_vs_conn.c: ip_vs_check_template,
// ip_vs_conn_expire), thresholds (ip_vs_conn.c: ip_vs_bind_dest/ip_vs_unbind_dest) and explain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Director, type Flow } from '../../src/core/director.ts';
import { addr, type Addr } from '../../src/core/addr.ts';
import { SVC_F, type ServiceKey, type ServiceOptions } from '../../src/core/service.ts';
import type { DestSpec } from '../../src/core/dest.ts';
import { CONN_F } from '../../src/core/conn/conn.ts';

const VIP = addr('198.18.0.1');
const tcp80: ServiceKey = { kind: 'addr', protocol: 'tcp', vip: VIP, port: 80 };

function opts(o: Partial<ServiceOptions> = {}): ServiceOptions {
  return { scheduler: 'rr', flags: 0, timeout: 360, netmask: 0xffffffff, pe: null, ...o };
}

function dest(ip: string, port = 80, o: Partial<DestSpec> = {}): DestSpec {
  return { addr: addr(ip), port, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0, ...o };
}

function flow(client: string, cport: number, o: Partial<Flow> = {}): Flow {
  return { protocol: 'tcp', caddr: addr(client), cport, vaddr: VIP, vport: 80, ...o };
}

function mustOk<T>(r: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!r.ok) assert.fail(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

function director(): Director {
  return new Director({ seed: 7 });
}

test('add/edit/delete rules return the typed errors of ipvsadm and the kernel', async (t) => {
  const rows: { desc: string; run: (d: Director) => { ok: boolean; error?: { code: string; message: string } }; code: string; message?: string }[] = [
    { desc: 'service twice', run: (d) => d.addService(tcp80, opts()), code: 'SERVICE_EXISTS', message: 'Service already exists' },
    { desc: 'edit a missing service', run: (d) => d.editService({ ...tcp80, port: 81 }, opts()), code: 'SERVICE_NOT_FOUND', message: 'No such service' },
    { desc: 'delete a missing service', run: (d) => d.deleteService({ ...tcp80, port: 81 }), code: 'SERVICE_NOT_FOUND' },
    { desc: 'dest to a missing service', run: (d) => d.addDest({ ...tcp80, port: 81 }, dest('198.18.1.2')), code: 'SERVICE_NOT_FOUND', message: 'Service not defined' },
    { desc: 'dest twice', run: (d) => d.addDest(tcp80, dest('198.18.1.1')), code: 'DEST_EXISTS', message: 'Destination already exists' },
    { desc: 'edit a missing dest', run: (d) => d.editDest(tcp80, dest('198.18.1.9')), code: 'DEST_NOT_FOUND', message: 'No such destination' },
    { desc: 'delete a missing dest', run: (d) => d.deleteDest(tcp80, addr('198.18.1.9'), 80), code: 'DEST_NOT_FOUND' },
    { desc: 'port 0 without persistence', run: (d) => d.addService({ ...tcp80, port: 0 }, opts()), code: 'ZERO_PORT_NON_PERSISTENT' },
    { desc: 'one-packet on TCP', run: (d) => d.addService({ ...tcp80, port: 82 }, opts({ flags: SVC_F.ONEPACKET })), code: 'ONE_PACKET_NOT_UDP' },
    { desc: 'unknown scheduler', run: (d) => d.addService({ ...tcp80, port: 83 }, opts({ scheduler: 'xyz' as 'rr' })), code: 'SCHEDULER_NOT_FOUND' },
    { desc: 'persistence engine not loaded', run: (d) => d.addService({ ...tcp80, port: 84 }, opts({ pe: 'sip' })), code: 'PE_NOT_FOUND' },
    { desc: 'persistence timeout 0', run: (d) => d.addService({ ...tcp80, port: 85 }, opts({ flags: SVC_F.PERSISTENT, timeout: 0 })), code: 'TIMEOUT_INVALID' },
    { desc: 'fwmark 0', run: (d) => d.addService({ kind: 'fwmark', fwmark: 0, family: 4 }, opts()), code: 'FWMARK_INVALID' },
    { desc: 'IPv6 prefix 0', run: (d) => d.addService({ kind: 'fwmark', fwmark: 5, family: 6 }, opts({ netmask: 0 })), code: 'NETMASK_INVALID' },
    { desc: 'weight above 65535', run: (d) => d.addDest(tcp80, dest('198.18.1.3', 80, { weight: 65536 })), code: 'WEIGHT_RANGE' },
    { desc: 'lower threshold above upper', run: (d) => d.addDest(tcp80, dest('198.18.1.3', 80, { lThreshold: 5, uThreshold: 2 })), code: 'LOWER_ABOVE_UPPER' },
    { desc: 'lower threshold without upper', run: (d) => d.addDest(tcp80, dest('198.18.1.3', 80, { lThreshold: 5 })), code: 'LOWER_ABOVE_UPPER' },
    { desc: 'IPv6 dest on IPv4 service with NAT', run: (d) => d.addDest(tcp80, dest('2001:db8::2')), code: 'FAMILY_MISMATCH' },
    { desc: 'GUE tunnel without port', run: (d) => d.addDest(tcp80, dest('198.18.1.3', 80, { fwd: 'tunnel', tunnel: { type: 'gue', port: 0, csum: 'nocsum' } })), code: 'TUNNEL_INVALID' },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const d = director();
      mustOk(d.addService(tcp80, opts()));
      mustOk(d.addDest(tcp80, dest('198.18.1.1')));
      const before = JSON.stringify(d.services().map((s) => [s.id, s.options, s.dests.map((x) => [x.addr.text, x.port, x.weight])]));
      const r = row.run(d);
      assert.equal(r.ok, false);
      assert.equal(r.error!.code, row.code);
      if (row.message) assert.equal(r.error!.message, row.message);
      const after = JSON.stringify(d.services().map((s) => [s.id, s.options, s.dests.map((x) => [x.addr.text, x.port, x.weight])]));
      assert.equal(after, before, 'a rejected change changes nothing');
    });
  }
});

test('a new dest goes to the front of the list (ip_vs_ctl.c: list_add_rcu after the head)', () => {
  const d = director();
  mustOk(d.addService(tcp80, opts()));
  for (const ip of ['198.18.1.1', '198.18.1.2', '198.18.1.3']) mustOk(d.addDest(tcp80, dest(ip)));
  assert.deepEqual(d.getService(tcp80)!.dests.map((x) => x.addr.text), ['198.18.1.3', '198.18.1.2', '198.18.1.1']);
  mustOk(d.editDest(tcp80, dest('198.18.1.1', 80, { weight: 5 })));
  assert.deepEqual(d.getService(tcp80)!.dests.map((x) => x.addr.text), ['198.18.1.3', '198.18.1.2', '198.18.1.1'], 'an edit does not move it');
});

test('DR and tunnel dests take the service port; fwmark services keep theirs (ipvsadm.c)', () => {
  const d = director();
  mustOk(d.addService(tcp80, opts()));
  assert.equal(mustOk(d.addDest(tcp80, dest('198.18.1.1', 8080, { fwd: 'route' }))).port, 80);
  assert.equal(mustOk(d.addDest(tcp80, dest('198.18.1.2', 8080, { fwd: 'tunnel' }))).port, 80);
  assert.equal(mustOk(d.addDest(tcp80, dest('198.18.1.3', 8080, { fwd: 'masq' }))).port, 8080);
  const fwm: ServiceKey = { kind: 'fwmark', fwmark: 1, family: 4 };
  mustOk(d.addService(fwm, opts()));
  assert.equal(mustOk(d.addDest(fwm, dest('198.18.1.1', 0, { fwd: 'route' }))).port, 0);
});

test('persistence: PPC pins a client to its dest until the template expires', () => {
  const d = director();
  mustOk(d.addService(tcp80, opts({ flags: SVC_F.PERSISTENT, timeout: 360 })));
  mustOk(d.addDest(tcp80, dest('198.18.1.1')));
  mustOk(d.addDest(tcp80, dest('198.18.1.2')));
  const svc = d.getService(tcp80)!;
  const first = d.schedule(svc, flow('198.18.0.9', 1000), 0);
  assert.equal(first.reason, 'scheduler');
  const other = d.schedule(svc, flow('198.18.0.10', 1000), 0);
  assert.notEqual(other.dest, first.dest, 'rr moves on for a new client');
  for (let i = 1; i <= 5; i++) {
    const again = d.schedule(svc, flow('198.18.0.9', 1000 + i), i * 1000);
    assert.equal(again.reason, 'template');
    assert.equal(again.dest, first.dest);
  }
  const tpl = first.template!;
  assert.ok(tpl.flags & CONN_F.TEMPLATE);
  assert.equal(tpl.cport, 0);
  assert.equal(tpl.vport, 80);
  assert.equal(tpl.timeout, 360_000);
  assert.equal(first.dest!.persistConns, 1);
  // The conns (never past state NONE: 3 s) expire first, then the template 360 s after its last use.
  d.tick(10_000);
  assert.equal(d.conns.size, 2, 'the two clients\' templates remain');
  d.tick(5000 + 360_000 - 1);
  assert.equal(d.conns.size, 1, 'the template last used at 5 s is not a moment early');
  d.tick(5000 + 360_000);
  assert.equal(d.conns.size, 0);
  assert.equal(first.dest!.persistConns, 0);
});

test('persistence granularity: IPv4 netmask and IPv6 prefix (ip_vs_sched_persist)', async (t) => {
  const rows = [
    { desc: 'IPv4 /24 mask', vip: '198.18.0.1', mask: 0xffffff00, same: ['198.18.5.9', '198.18.5.200'], other: '198.18.6.9' },
    { desc: 'IPv6 /64 prefix', vip: '2001:db8::1', mask: 64, same: ['2001:db8:0:7::1', '2001:db8:0:7:ffff::2'], other: '2001:db8:0:8::1' },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const d = director();
      const vip = addr(row.vip);
      const key: ServiceKey = { kind: 'addr', protocol: 'tcp', vip, port: 443 };
      mustOk(d.addService(key, opts({ flags: SVC_F.PERSISTENT, timeout: 300, netmask: row.mask })));
      const fam6 = vip.family === 6;
      mustOk(d.addDest(key, dest(fam6 ? '2001:db8:1::1' : '198.18.1.1', 443)));
      mustOk(d.addDest(key, dest(fam6 ? '2001:db8:1::2' : '198.18.1.2', 443)));
      const svc = d.getService(key)!;
      const f = (c: string, p: number): Flow => ({ protocol: 'tcp', caddr: addr(c), cport: p, vaddr: vip, vport: 443 });
      const a = d.schedule(svc, f(row.same[0], 1), 0);
      const b = d.schedule(svc, f(row.same[1], 2), 0);
      assert.equal(b.reason, 'template');
      assert.equal(b.dest, a.dest);
      const c = d.schedule(svc, f(row.other, 3), 0);
      assert.equal(c.reason, 'scheduler');
      assert.notEqual(c.dest, a.dest);
    });
  }
});

test('persistence: PCC port-zero and firewall-mark templates', () => {
  const d = director();
  const any: ServiceKey = { kind: 'addr', protocol: 'tcp', vip: VIP, port: 0 };
  mustOk(d.addService(any, opts({ flags: SVC_F.PERSISTENT })));
  mustOk(d.addDest(any, dest('198.18.1.1', 0)));
  mustOk(d.addDest(any, dest('198.18.1.2', 0)));
  const svc = d.getService(any)!;
  const web = d.schedule(svc, flow('198.18.0.9', 1000, { vport: 80 }), 0);
  const tls = d.schedule(svc, flow('198.18.0.9', 1001, { vport: 443 }), 0);
  assert.equal(tls.reason, 'template');
  assert.equal(tls.dest, web.dest);
  assert.equal(web.template!.vport, 0, 'PCC template has vport 0');
  assert.equal(web.dport, 80, 'a port-0 dest takes the client\'s port');
  assert.equal(tls.dport, 443);
  assert.equal(d.findServiceForFlow(flow('198.18.0.9', 1, { vport: 8443 })), svc, 'the port-zero catch-all');

  const fwm: ServiceKey = { kind: 'fwmark', fwmark: 1, family: 4 };
  mustOk(d.addService(fwm, opts({ flags: SVC_F.PERSISTENT })));
  mustOk(d.addDest(fwm, dest('198.18.1.3', 0)));
  const fsvc = d.getService(fwm)!;
  const m = d.schedule(fsvc, flow('198.18.0.9', 1000, { fwmark: 1, vaddr: addr('198.18.0.50'), vport: 25 }), 0);
  assert.equal(m.template!.protocol, 'ip');
  assert.equal(m.template!.vaddr.text, '0.0.0.1', 'the mark stands in for the address');
  assert.equal(m.template!.vport, 0);
});

test('quiesce keeps templates; removal voids them (expire_quiescent_template off by default)', async (t) => {
  for (const eqt of [false, true]) {
    await t.test(`expire_quiescent_template=${eqt}`, () => {
      const d = new Director({ seed: 1, expireQuiescentTemplate: eqt });
      mustOk(d.addService(tcp80, opts({ flags: SVC_F.PERSISTENT })));
      mustOk(d.addDest(tcp80, dest('198.18.1.1')));
      mustOk(d.addDest(tcp80, dest('198.18.1.2')));
      const svc = d.getService(tcp80)!;
      const a = d.schedule(svc, flow('198.18.0.9', 1000), 0);
      mustOk(d.editDest(tcp80, dest(a.dest!.addr.text, 80, { weight: 0 })));
      const b = d.schedule(svc, flow('198.18.0.9', 1001), 1000);
      if (eqt) {
        assert.equal(b.reason, 'scheduler');
        assert.notEqual(b.dest, a.dest);
      } else {
        assert.equal(b.reason, 'template');
        assert.equal(b.dest, a.dest, 'a persistent client keeps its quiesced server');
      }
    });
  }
  await t.test('a removed dest voids its templates, which are re-keyed with port 65535', () => {
    const d = director();
    mustOk(d.addService(tcp80, opts({ flags: SVC_F.PERSISTENT })));
    mustOk(d.addDest(tcp80, dest('198.18.1.1')));
    mustOk(d.addDest(tcp80, dest('198.18.1.2')));
    const svc = d.getService(tcp80)!;
    const a = d.schedule(svc, flow('198.18.0.9', 1000), 0);
    mustOk(d.deleteDest(tcp80, a.dest!.addr, 80));
    const b = d.schedule(svc, flow('198.18.0.9', 1001), 1000);
    assert.equal(b.reason, 'scheduler');
    assert.notEqual(b.dest, a.dest);
    assert.equal(a.template!.vport, 0xffff);
    assert.equal(a.template!.dport, 0xffff);
  });
});

test('a template that still controls conns is re-armed for 60 s instead of expiring (ip_vs_conn_expire)', () => {
  const d = director();
  mustOk(d.addService(tcp80, opts({ flags: SVC_F.PERSISTENT, timeout: 10 })));
  mustOk(d.addDest(tcp80, dest('198.18.1.1')));
  const svc = d.getService(tcp80)!;
  const s = d.schedule(svc, flow('198.18.0.9', 1000), 0);
  const c = s.conn!;
  d.stateEvent(c, 'input', { syn: true }, 0);
  d.stateEvent(c, 'input', { ack: true }, 0); // ESTABLISHED: 900 s
  d.tick(10_001);
  assert.equal(d.conns.has(s.template!), true);
  assert.equal(s.template!.timeout, 60_000);
  assert.equal(s.template!.expires, 10_001 + 60_000);
  assert.equal(s.template!.nControl, 1);
});

test('thresholds: OVERLOAD set at the upper, cleared under the lower or 3/4 of the upper', async (t) => {
  const rows = [
    { desc: 'upper 4, no lower: clears below 3/4 (total*4 < 12)', u: 4, l: 0, clearAt: 2 },
    { desc: 'upper 4, lower 1: clears below the lower', u: 4, l: 1, clearAt: 0 },
    { desc: 'upper 3, no lower: 3*4=12 > 9, clears at 2 (8 < 9)', u: 3, l: 0, clearAt: 2 },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const d = director();
      mustOk(d.addService(tcp80, opts()));
      mustOk(d.addDest(tcp80, dest('198.18.1.1', 80, { uThreshold: row.u, lThreshold: row.l })));
      const svc = d.getService(tcp80)!;
      const rs = svc.dests[0];
      const conns = [];
      for (let i = 0; i < row.u; i++) {
        assert.equal(rs.overloaded, false, `not overloaded at ${i}`);
        conns.push(d.schedule(svc, flow('198.18.0.9', 1000 + i), 0).conn!);
      }
      assert.equal(rs.overloaded, true);
      assert.equal(d.schedule(svc, flow('198.18.0.9', 2000), 0).reason, 'no-dest', 'an overloaded dest takes nothing new');
      let total = row.u;
      while (total > row.clearAt) {
        assert.equal(rs.overloaded, true, `still overloaded at ${total}`);
        d.expireNow(conns.pop()!);
        total--;
      }
      assert.equal(rs.overloaded, false, `cleared at ${row.clearAt}`);
    });
  }
  await t.test('an edit that raises or removes the upper threshold clears OVERLOAD at once', () => {
    const d = director();
    mustOk(d.addService(tcp80, opts()));
    mustOk(d.addDest(tcp80, dest('198.18.1.1', 80, { uThreshold: 1 })));
    const svc = d.getService(tcp80)!;
    d.schedule(svc, flow('198.18.0.9', 1000), 0);
    assert.equal(svc.dests[0].overloaded, true);
    mustOk(d.editDest(tcp80, dest('198.18.1.1', 80, { uThreshold: 1, weight: 3 })));
    assert.equal(svc.dests[0].overloaded, true, 'same upper: stays');
    mustOk(d.editDest(tcp80, dest('198.18.1.1', 80, { uThreshold: 2 })));
    assert.equal(svc.dests[0].overloaded, false, 'raised upper: cleared');
  });
});

test('one-packet scheduling: every datagram is scheduled, nothing stays in the table', () => {
  const d = director();
  const dns: ServiceKey = { kind: 'addr', protocol: 'udp', vip: VIP, port: 53 };
  mustOk(d.addService(dns, opts({ flags: SVC_F.ONEPACKET })));
  mustOk(d.addDest(dns, dest('198.18.1.1', 53)));
  mustOk(d.addDest(dns, dest('198.18.1.2', 53)));
  const svc = d.getService(dns)!;
  const f = flow('198.18.0.9', 5353, { protocol: 'udp', vport: 53 });
  const picks = [0, 1, 2, 3].map(() => {
    const s = d.schedule(svc, f, 0);
    assert.equal(s.conn!.flags & CONN_F.ONE_PACKET, CONN_F.ONE_PACKET);
    d.account(s.conn!, 'input', 1, 100, 0);
    d.expireNow(s.conn!); // the plane frees it right after transmit
    return s.dest!.addr.text;
  });
  assert.deepEqual(picks, ['198.18.1.2', '198.18.1.1', '198.18.1.2', '198.18.1.1']);
  assert.equal(d.conns.size, 0);
  assert.equal(svc.stats.counters.conns, 4);
  assert.equal(svc.stats.counters.inpkts, 4, 'the datagram is counted before the entry is freed');
  assert.equal(svc.dests[0].inactConns + svc.dests[1].inactConns, 0);
});

test('explain tells the next decision and changes nothing', () => {
  const d = director();
  mustOk(d.addService(tcp80, opts()));
  for (const ip of ['198.18.1.1', '198.18.1.2', '198.18.1.3']) mustOk(d.addDest(tcp80, dest(ip)));
  const svc = d.getService(tcp80)!;
  const e1 = d.explain(svc, flow('198.18.0.9', 1), 0);
  const e2 = d.explain(svc, flow('198.18.0.9', 2), 0);
  assert.equal(e1.dest, e2.dest);
  assert.equal(e1.reason, 'scheduler');
  assert.equal(d.schedule(svc, flow('198.18.0.9', 3), 0).dest!.addr.text + ':80', e1.dest);
  assert.equal(d.conns.size, 1);
});

test('a deleted dest with live conns comes back from the trash with them (ip_vs_trash_get_dest)', () => {
  const d = director();
  mustOk(d.addService(tcp80, opts()));
  mustOk(d.addDest(tcp80, dest('198.18.1.1')));
  const svc = d.getService(tcp80)!;
  const s = d.schedule(svc, flow('198.18.0.9', 1000), 0);
  const old = s.dest!;
  mustOk(d.deleteDest(tcp80, old.addr, 80));
  assert.equal(old.available, false);
  const back = mustOk(d.addDest(tcp80, dest('198.18.1.1', 80, { weight: 3 })));
  assert.equal(back, old);
  assert.equal(back.inactConns, 1);
  assert.equal(back.weight, 3);
  assert.equal(back.available, true);
});

test('counters and the 2-second estimator; -Z zeroes', () => {
  const d = director();
  mustOk(d.addService(tcp80, opts()));
  mustOk(d.addDest(tcp80, dest('198.18.1.1')));
  const svc = d.getService(tcp80)!;
  d.tick(0);
  const c = d.schedule(svc, flow('198.18.0.9', 1000), 0).conn!;
  d.account(c, 'input', 10, 1000, 100);
  d.account(c, 'output', 20, 50_000, 100);
  assert.deepEqual(svc.stats.counters, { conns: 1, inpkts: 10, outpkts: 20, inbytes: 1000, outbytes: 50_000 });
  assert.deepEqual(svc.dests[0].stats.counters, svc.stats.counters);
  d.tick(2000);
  assert.ok(svc.stats.est.inbps > 0, 'the estimator sampled');
  mustOk(d.zero(tcp80));
  assert.deepEqual(svc.stats.counters, { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 });
  assert.equal(svc.stats.est.inbps, 0);
});

void (null as unknown as Addr);
