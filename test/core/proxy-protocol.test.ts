// The PROXY protocol choice in the model (src/core/proxy-protocol.ts): a service default, a dest's
// own choice that overrides it ('none' switches it off for one dest), how add / edit / the dest
// trash treat it, what the snapshots show, and what validation refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr } from '../../src/core/addr.ts';
import { Director } from '../../src/core/director.ts';
import { destSpecOf, type DestSpec } from '../../src/core/dest.ts';
import type { ServiceKey, ServiceOptions } from '../../src/core/service.ts';
import { serviceSnapshot } from '../../src/core/snapshot.ts';
import { type DestProxyProtocol, type ProxyProtocolVersion, effectiveProxyProtocol } from '../../src/core/proxy-protocol.ts';

const TCP: ServiceKey = { kind: 'addr', protocol: 'tcp', vip: addr('192.0.2.1'), port: 80 };
const UDP: ServiceKey = { kind: 'addr', protocol: 'udp', vip: addr('192.0.2.1'), port: 53 };
const FWM: ServiceKey = { kind: 'fwmark', fwmark: 7, family: 4 };

function opts(proxyProtocol?: ProxyProtocolVersion | null): ServiceOptions {
  const o = { scheduler: 'rr' as const, flags: 0, timeout: 360, netmask: 0xffffffff, pe: null };
  return proxyProtocol === undefined ? o : { ...o, proxyProtocol };
}

function spec(rip: string, proxyProtocol?: DestProxyProtocol, port = 8080): DestSpec {
  const s = { addr: addr(rip), port, fwd: 'masq' as const, weight: 1, uThreshold: 0, lThreshold: 0 };
  return proxyProtocol === undefined ? s : { ...s, proxyProtocol };
}

test('effectiveProxyProtocol: the dest\'s own choice, else the service\'s; none is off', async (t) => {
  const rows: { desc: string; dest: DestProxyProtocol | undefined; svc: ProxyProtocolVersion | null | undefined; want: ProxyProtocolVersion | null }[] = [
    { desc: 'nothing anywhere', dest: undefined, svc: undefined, want: null },
    { desc: 'dest inherits the service default (null)', dest: null, svc: 'v2', want: 'v2' },
    { desc: 'dest inherits the service default (absent)', dest: undefined, svc: 'v1', want: 'v1' },
    { desc: 'dest overrides the service', dest: 'v1', svc: 'v2', want: 'v1' },
    { desc: 'dest has one, the service none', dest: 'v2', svc: null, want: 'v2' },
    { desc: 'none switches one dest off', dest: 'none', svc: 'v2', want: null },
    { desc: 'none without a service default', dest: 'none', svc: null, want: null },
  ];
  for (const r of rows) await t.test(r.desc, () => assert.equal(effectiveProxyProtocol(r.dest, r.svc), r.want));
});

/** (rip, configured, effective) of every dest, in kernel list order. */
function view(d: Director, key: ServiceKey): [string, unknown, unknown][] {
  const s = serviceSnapshot(d.getService(key)!);
  return s.dests.map((x) => [x.addr, x.proxyProtocol, x.effectiveProxyProtocol]);
}

test('director: dests inherit the service default, override it, and follow an -E', () => {
  const d = new Director();
  assert.ok(d.addService(TCP, opts('v2')).ok);
  assert.ok(d.addDest(TCP, spec('10.0.0.2')).ok);
  assert.ok(d.addDest(TCP, spec('10.0.0.3', 'none')).ok);
  assert.ok(d.addDest(TCP, spec('10.0.0.4', 'v1')).ok);
  assert.equal(serviceSnapshot(d.getService(TCP)!).proxyProtocol, 'v2');
  assert.deepEqual(view(d, TCP), [['10.0.0.4', 'v1', 'v1'], ['10.0.0.3', 'none', null], ['10.0.0.2', null, 'v2']]);
  // -E without a default: inheriting dests lose it, dests with their own keep theirs.
  assert.ok(d.editService(TCP, opts()).ok);
  assert.equal(serviceSnapshot(d.getService(TCP)!).proxyProtocol, null);
  assert.deepEqual(view(d, TCP), [['10.0.0.4', 'v1', 'v1'], ['10.0.0.3', 'none', null], ['10.0.0.2', null, null]]);
  assert.ok(d.editService(TCP, opts('v1')).ok);
  assert.deepEqual(view(d, TCP), [['10.0.0.4', 'v1', 'v1'], ['10.0.0.3', 'none', null], ['10.0.0.2', null, 'v1']]);
});

test('director: an -e replaces the dest\'s choice like every other field (absent = inherit)', () => {
  const d = new Director();
  assert.ok(d.addService(TCP, opts('v2')).ok);
  assert.ok(d.addDest(TCP, spec('10.0.0.2', 'v1')).ok);
  assert.ok(d.editDest(TCP, spec('10.0.0.2', 'none')).ok);
  assert.deepEqual(view(d, TCP), [['10.0.0.2', 'none', null]]);
  assert.ok(d.editDest(TCP, spec('10.0.0.2')).ok);
  assert.deepEqual(view(d, TCP), [['10.0.0.2', null, 'v2']]);
  // destSpecOf gives back what re-creates the dest, choice included (the API's undo uses it).
  assert.ok(d.editDest(TCP, spec('10.0.0.2', 'v1')).ok);
  const dest = d.getService(TCP)!.dests[0];
  assert.equal(destSpecOf(dest).proxyProtocol, 'v1');
  assert.ok(d.editDest(TCP, { ...destSpecOf(dest), weight: 5 }).ok);
  assert.deepEqual(view(d, TCP), [['10.0.0.2', 'v1', 'v1']]);
});

test('director: a dest re-added from the trash takes the new spec\'s choice', () => {
  const d = new Director();
  assert.ok(d.addService(TCP, opts('v2')).ok);
  const first = d.addDest(TCP, spec('10.0.0.2', 'none'));
  assert.ok(first.ok);
  // A live conn keeps the deleted dest in the trash, so the re-add revives the same object.
  const svc = d.getService(TCP)!;
  const dec = d.schedule(svc, { protocol: 'tcp', caddr: addr('198.18.0.9'), cport: 40000, vaddr: TCP.vip, vport: 80 }, 0);
  assert.equal(dec.dest, first.value);
  assert.ok(d.deleteDest(TCP, addr('10.0.0.2'), 8080, 0).ok);
  const again = d.addDest(TCP, spec('10.0.0.2'));
  assert.ok(again.ok);
  assert.equal(again.value, first.value, 'the same dest came back');
  assert.deepEqual(view(d, TCP), [['10.0.0.2', null, 'v2']]);
});

test('director: existing callers that know nothing of the PROXY protocol get none', () => {
  const d = new Director();
  assert.ok(d.addService(TCP, opts()).ok);
  assert.ok(d.addDest(TCP, spec('10.0.0.2')).ok);
  assert.equal(serviceSnapshot(d.getService(TCP)!).proxyProtocol, null);
  assert.deepEqual(view(d, TCP), [['10.0.0.2', null, null]]);
});

test('validation: bad choices and v1 on UDP are PROXY_PROTOCOL_INVALID (EINVAL)', async (t) => {
  const rows: { desc: string; run: (d: Director) => ReturnType<Director['addService']> | ReturnType<Director['addDest']>; text?: RegExp }[] = [
    { desc: 'service: an unknown version', run: (d) => d.addService(TCP, { ...opts(), proxyProtocol: 'v3' as never }), text: /v1 or v2/ },
    { desc: 'service: none is a dest\'s word (a service says null)', run: (d) => d.addService(TCP, { ...opts(), proxyProtocol: 'none' as never }) },
    { desc: 'service: v1 on UDP (proxy-protocol.txt §2.1 has no UDP form)', run: (d) => d.addService(UDP, opts('v1')), text: /v1 carries TCP only; use v2/ },
    { desc: 'service: -E to v1 on UDP', run: (d) => { d.addService(UDP, opts()); return d.editService(UDP, opts('v1')); }, text: /v1 carries TCP only/ },
    { desc: 'dest: an unknown choice', run: (d) => { d.addService(TCP, opts()); return d.addDest(TCP, spec('10.0.0.2', 'V2' as never)); }, text: /v1, v2 or none/ },
    { desc: 'dest: v1 under a UDP service', run: (d) => { d.addService(UDP, opts('v2')); return d.addDest(UDP, spec('10.0.0.2', 'v1', 53)); }, text: /v1 carries TCP only/ },
    { desc: 'dest: -e to v1 under a UDP service', run: (d) => { d.addService(UDP, opts()); d.addDest(UDP, spec('10.0.0.2', null, 53)); return d.editDest(UDP, spec('10.0.0.2', 'v1', 53)); } },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const res = r.run(new Director());
      assert.equal(res.ok, false);
      if (res.ok) return;
      assert.equal(res.error.code, 'PROXY_PROTOCOL_INVALID');
      assert.equal(res.error.errno, 'EINVAL');
      if (r.text) assert.match(res.error.message, r.text);
    });
  }
});

test('validation: what is allowed', async (t) => {
  const rows: { desc: string; run: (d: Director) => boolean }[] = [
    { desc: 'v2 on a UDP service and its dests', run: (d) => d.addService(UDP, opts('v2')).ok && d.addDest(UDP, spec('10.0.0.2', 'v2', 53)).ok },
    { desc: 'none on a UDP dest', run: (d) => d.addService(UDP, opts('v2')).ok && d.addDest(UDP, spec('10.0.0.2', 'none', 53)).ok },
    { desc: 'v1 on a TCP service and dest', run: (d) => d.addService(TCP, opts('v1')).ok && d.addDest(TCP, spec('10.0.0.2', 'v1')).ok },
    { desc: 'a fwmark service (its protocol is the packets\', the plane decides)', run: (d) => d.addService(FWM, opts('v1')).ok },
    { desc: 'explicit null', run: (d) => d.addService(TCP, opts(null)).ok && d.addDest(TCP, spec('10.0.0.2', null)).ok },
  ];
  for (const r of rows) await t.test(r.desc, () => assert.equal(r.run(new Director()), true));
});
