// The data planes serve a VRRP-managed VIP only while it is held (docs/vrrp.md, "Serving a VIP only
// while MASTER"): the proxy plane opens a managed VIP's listeners when it becomes held and closes them
// when it is released (open connections finish), the nft plane loads that VIP's rules only while held;
// services on other addresses are untouched. Real sockets on 127.0.0.0/8 only; nft through its fake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { addr } from '../../src/core/addr.ts';
import { Director } from '../../src/core/director.ts';
import type { ServiceKey } from '../../src/core/service.ts';
import { vipServed, type HeldAddresses } from '../../src/dataplane/dataplane.ts';
import { NftPlane } from '../../src/dataplane/nft/plane.ts';
import { FakeNetCommands } from '../../src/sys/fake/nft.ts';
import { Harness, serviceOptions, addBackendDest, readLine, closeClient, within } from '../dataplane/proxy-harness.ts';

const VIP = '127.0.0.2';
const held = (managed: string[], h: string[]): HeldAddresses => ({ managed: new Set(managed), held: new Set(h) });

test('vipServed: unmanaged always, managed only while held', () => {
  const rows: { desc: string; addrs: HeldAddresses | null; vip: string; want: boolean }[] = [
    { desc: 'no VRRP at all', addrs: null, vip: VIP, want: true },
    { desc: 'an address VRRP does not manage', addrs: held([VIP], []), vip: '127.0.0.1', want: true },
    { desc: 'managed, not held (BACKUP)', addrs: held([VIP], []), vip: VIP, want: false },
    { desc: 'managed and held (MASTER)', addrs: held([VIP], [VIP]), vip: VIP, want: true },
  ];
  for (const r of rows) assert.equal(vipServed(r.addrs, r.vip), r.want, r.desc);
});

/** Connect to ip:port; 'refused' when nothing listens. */
function tryConnect(ip: string, port: number): Promise<net.Socket | 'refused'> {
  return within(new Promise((resolve, reject) => {
    const s = net.connect({ host: ip, port });
    s.once('connect', () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNREFUSED' ? resolve('refused') : reject(e)));
  }), 3000, `connect ${ip}:${port}`);
}

test('proxy plane: a managed VIP listens only while held; released, open connections finish; other services unaffected', async (t) => {
  const h = new Harness();
  t.after(() => h.close());
  const be = await h.backend('rs1');
  const d = h.director();
  const plane = h.plane();
  const vport = await h.freePort();
  const other = await h.freePort();
  const managedKey: ServiceKey = { kind: 'addr', protocol: 'tcp', vip: addr(VIP), port: vport };
  const otherKey: ServiceKey = { kind: 'addr', protocol: 'tcp', vip: addr('127.0.0.1'), port: other };
  for (const k of [managedKey, otherKey]) {
    assert.ok(d.addService(k, serviceOptions('rr')).ok);
    addBackendDest(d, k, be.port);
  }
  const open: net.Socket[] = [];
  t.after(() => { for (const s of open) s.destroy(); });
  const greet = async (ip: string, port: number): Promise<string> => {
    const s = await tryConnect(ip, port);
    if (s === 'refused') return 'refused';
    open.push(s);
    return readLine(s);
  };

  plane.setHeldAddresses(held([VIP], []));
  await plane.sync(d);
  assert.equal(await greet(VIP, vport), 'refused', 'BACKUP: no listener on the managed VIP');
  assert.equal(await greet('127.0.0.1', other), 'rs1', 'a service on another address is served');

  plane.setHeldAddresses(held([VIP], [VIP]));
  await plane.sync(d);
  const kept = await tryConnect(VIP, vport);
  assert.notEqual(kept, 'refused', 'MASTER: the managed VIP listens');
  if (kept === 'refused') return;
  open.push(kept);
  assert.equal(await readLine(kept), 'rs1');

  plane.setHeldAddresses(held([VIP], []));
  await plane.sync(d);
  assert.equal(await greet(VIP, vport), 'refused', 'released: the listener is closed');
  // The connection accepted while MASTER carries on (as for a deleted service).
  kept.write('still here\n');
  const echoed = readLine(kept);
  kept.resume();
  assert.equal(await within(echoed, 3000, 'echo'), 'still here');
  await closeClient(kept);
  assert.equal(await greet('127.0.0.1', other), 'rs1');
  assert.equal(d.services().length, 2, 'the director keeps both services (keepvsadm -L lists them)');

  // Held again: the listener comes back on the same port.
  plane.setHeldAddresses(held([VIP], [VIP]));
  await plane.sync(d);
  assert.equal(await greet(VIP, vport), 'rs1');
});

test('nft plane: a managed VIP\'s rules are loaded only while held', async () => {
  const cmd = new FakeNetCommands();
  const plane = new NftPlane({ commands: cmd, clock: () => 0 });
  const d = new Director({ seed: 1 });
  const k1: ServiceKey = { kind: 'addr', protocol: 'tcp', vip: addr('198.18.0.100'), port: 80 };
  const k2: ServiceKey = { kind: 'addr', protocol: 'tcp', vip: addr('198.18.0.200'), port: 80 };
  for (const k of [k1, k2]) {
    assert.ok(d.addService(k, serviceOptions('rr')).ok);
    assert.ok(d.addDest(k, { addr: addr('198.18.1.11'), port: 80, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0 }).ok);
  }
  const rows: { desc: string; addrs: HeldAddresses; has100: boolean }[] = [
    { desc: 'BACKUP: only the unmanaged VIP', addrs: held(['198.18.0.100'], []), has100: false },
    { desc: 'MASTER: both', addrs: held(['198.18.0.100'], ['198.18.0.100']), has100: true },
    { desc: 'released again', addrs: held(['198.18.0.100'], []), has100: false },
  ];
  for (const r of rows) {
    plane.setHeldAddresses(r.addrs);
    await plane.sync(d);
    const ids = plane.model!.services.map((s) => (s.match.kind === 'addr' ? s.match.vip : '')).sort();
    assert.deepEqual(ids, r.has100 ? ['198.18.0.100', '198.18.0.200'] : ['198.18.0.200'], r.desc);
    assert.equal(d.services().length, 2, `${r.desc}: the director keeps both`);
  }
  await plane.stop(0);
});
