// keepvs with a real keepalived (Debian 2.2.7) as its peer, in both roles, VRRPv2 (1 s, PASS) and
// VRRPv3 (0.1 s; multicast and unicast), plus VRRPv2 with IPsec AH: exactly one MASTER after
// convergence, failover both ways, failback by preemption. Outcomes only, no timing assertions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { VrrpLab, keepvsConf, labUnavailable, type Router, type Side } from './netns-lab.ts';

const why = labUnavailable(true);
let lab: VrrpLab | null = null;

before(() => {
  if (!why) lab = VrrpLab.create();
});
after(async () => {
  await lab?.destroy();
});

interface Mode { version: 2 | 3; advertInt: number; unicast?: boolean }

function start(L: VrrpLab, kind: 'keepvs' | 'keepalived', side: Side, state: 'MASTER' | 'BACKUP', priority: number, m: Mode): Router {
  if (kind === 'keepvs') return L.startKeepvs(side, keepvsConf(L, { side, state, priority, ...m }));
  return L.startKeepalived(side, L.keepalivedConf({ side, state, priority, ...m }));
}

function logs(...r: Router[]): string {
  return r.map((x) => `--- ${x.kind} ${x.side}\n${x.log()}`).join('\n');
}

/** Master on a (150) of `masterKind`, backup on b (100) of the other kind. */
async function scenario(L: VrrpLab, masterKind: 'keepvs' | 'keepalived', m: Mode): Promise<void> {
  const backupKind = masterKind === 'keepvs' ? 'keepalived' : 'keepvs';
  const slow = m.version === 2 ? 1 : 0.2;
  let a = start(L, masterKind, 'a', 'MASTER', 150, m);
  const b = start(L, backupKind, 'b', 'BACKUP', 100, m);
  try {
    assert.ok(await L.waitHolder('a', 15_000 * slow + 5_000, 1_500 * slow + 300), `${masterKind} (150) is the only MASTER\n${logs(a, b)}`);
    await a.stop('TERM');
    assert.ok(await L.waitHolder('b', 5_000, 300), `${backupKind} takes over after priority 0\n${logs(a, b)}`);
    a = start(L, masterKind, 'a', 'MASTER', 150, m);
    assert.ok(await L.waitHolder('a', 15_000 * slow + 5_000, 1_500 * slow + 300), `${masterKind} preempts on return\n${logs(a, b)}`);
    if (m.version === 2) return; // the crash case takes Master_Down_Interval (3.6 s at 1 s): v3 covers it
    await a.stop('KILL');
    assert.ok(await L.waitFor(() => L.holders().includes('b'), 10_000 * slow + 2_000), `${backupKind} takes over after a crash\n${logs(a, b)}`);
    L.clearVip('a');
    await b.stop('TERM');
    assert.ok(await L.waitHolder('none', 3_000), 'no VIP left after both stopped');
  } finally {
    await a.stop('KILL');
    await b.stop('KILL');
    L.clearVip('a');
    L.clearVip('b');
  }
}

const MODES: { name: string; m: Mode }[] = [
  { name: 'VRRPv2 1 s PASS multicast', m: { version: 2, advertInt: 1 } },
  { name: 'VRRPv3 0.1 s multicast', m: { version: 3, advertInt: 0.1 } },
  { name: 'VRRPv3 0.1 s unicast', m: { version: 3, advertInt: 0.1, unicast: true } },
];

for (const { name, m } of MODES) {
  for (const masterKind of ['keepalived', 'keepvs'] as const) {
    test(`${name}: ${masterKind} MASTER, ${masterKind === 'keepvs' ? 'keepalived' : 'keepvs'} BACKUP`, async (t) => {
      if (why || !lab) return t.skip(why ?? 'lab not built');
      await scenario(lab, masterKind, m);
    });
  }
}

test('VRRPv2 with auth_type AH: keepvs and keepalived elect one MASTER and fail over', async (t) => {
  if (why || !lab) return t.skip(why ?? 'lab not built');
  const L = lab;
  const conf = L.keepalivedConf({ side: 'a', state: 'BACKUP', priority: 150, version: 2, advertInt: 1 }).replace('auth_type PASS', 'auth_type AH');
  const ka = L.startKeepalived('a', conf);
  const cfg = keepvsConf(L, { side: 'b', state: 'BACKUP', priority: 100, version: 2, advertInt: 1 });
  cfg.vrrp_instance[0].authentication = { auth_type: 'AH', auth_pass: 's3cret' };
  const kv = L.startKeepvs('b', cfg);
  try {
    assert.ok(await L.waitHolder('a', 15_000, 2_500), `keepalived (150) is the only MASTER\n${logs(ka, kv)}`);
    assert.doesNotMatch(kv.log(), /dropped advert/, 'keepvs accepted every AH advert');
    await ka.stop('TERM');
    assert.ok(await L.waitHolder('b', 5_000, 2_500), `keepvs takes over\n${logs(ka, kv)}`);
  } finally {
    await ka.stop('KILL');
    await kv.stop('TERM');
    L.clearVip('a');
  }
});

for (const masterKind of ['keepalived', 'keepvs'] as const) {
  test(`VRRPv3 over IPv6 (0.1 s, link-local first VIP): ${masterKind} MASTER`, async (t) => {
    if (why || !lab) return t.skip(why ?? 'lab not built');
    const L = lab;
    const vips = ['fe80::52/64 dev eth0', '2001:db8:10::100/64 dev eth0'];
    const vip = '2001:db8:10::100';
    const m = { version: 3 as const, advertInt: 0.1, vips };
    const begin = (kind: 'keepvs' | 'keepalived', side: Side, state: 'MASTER' | 'BACKUP', priority: number) => (kind === 'keepvs'
      ? L.startKeepvs(side, keepvsConf(L, { side, state, priority, ...m }))
      : L.startKeepalived(side, L.keepalivedConf({ side, state, priority, ...m })));
    const other = masterKind === 'keepvs' ? 'keepalived' : 'keepvs';
    let a = begin(masterKind, 'a', 'BACKUP', 150);
    const b = begin(other, 'b', 'BACKUP', 100);
    try {
      assert.ok(await L.waitHolder('a', 8_000, 500, vip), `${masterKind} (150) is the only MASTER\n${logs(a, b)}`);
      await a.stop('TERM');
      assert.ok(await L.waitHolder('b', 5_000, 300, vip), `${other} takes over\n${logs(a, b)}`);
      a = begin(masterKind, 'a', 'BACKUP', 150);
      assert.ok(await L.waitHolder('a', 8_000, 500, vip), `${masterKind} preempts\n${logs(a, b)}`);
      // Adverts come from the interface's own link-local address, never from a VIP.
      assert.doesNotMatch(a.log() + b.log(), /advert from fe80::52\b/);
    } finally {
      await a.stop('TERM');
      await b.stop('TERM');
    }
  });
}
