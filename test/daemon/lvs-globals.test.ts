// global_defs lvs_timeouts / lvs_flush / lvs_sync_daemon through keepvs -f (daemon/lvs-globals.ts),
// against keepalived's start_check (check/check_daemon.c) and libipvs' ipvs_set_timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr } from '../../src/core/addr.ts';
import { started, vs, rs } from './health-harness.ts';

const g = (body: string): string => `global_defs {\n${body}\n}\n${vs(rs(1))}`;

test('lvs_timeouts: set at start, gaps keep the director\'s own values, a reload without it restores them', async (t) => {
  const rows: { desc: string; first: string; next: string; atStart: number[]; afterReload: number[] }[] = [
    { desc: 'tcp and udp set, tcpfin kept; removed on reload', first: '  lvs_timeouts tcp 100 udp 50', next: '', atStart: [100, 120, 50], afterReload: [900, 120, 300] },
    { desc: 'changed on reload', first: '  lvs_timeouts tcpfin 30', next: '  lvs_timeouts tcp 7200', atStart: [900, 30, 300], afterReload: [7200, 120, 300] },
    { desc: 'never set: the kernel defaults stay', first: '', next: '', atStart: [900, 120, 300], afterReload: [900, 120, 300] },
  ];
  for (const row of rows) {
    await t.test(row.desc, async () => {
      const h = await started(g(row.first));
      try {
        const tt = () => { const x = h.director.timeouts.getTimeouts(); return [x.tcp, x.tcpfin, x.udp]; };
        assert.deepEqual(tt(), row.atStart);
        assert.ok((await h.reload(g(row.next))).ok);
        assert.deepEqual(tt(), row.afterReload);
      } finally {
        h.runner.stop();
      }
    });
  }
});

test('lvs_flush empties the director at start only; lvs_sync_daemon is accepted with one clear warning', async () => {
  const { harness } = await import('./health-harness.ts');
  const h = harness(g('  lvs_flush\n  lvs_sync_daemon eth0'));
  const other = { kind: 'addr', protocol: 'tcp', vip: addr('10.9.9.9'), port: 25 } as const;
  assert.ok(h.director.addService(other, { scheduler: 'rr', flags: 0, timeout: 0, netmask: 0xffffffff, pe: null }).ok);
  const r = await h.start();
  try {
    assert.ok(r.ok, r.message);
    assert.deepEqual(h.table().filter((l) => !l.startsWith('  ')), ['TCP 10.0.0.1:80 rr'], 'the hand-made service is gone');
    assert.equal(h.logs.filter((l) => l.includes('lvs_sync_daemon eth0 is accepted but not run')).length, 1, h.logs.join('\n'));
    assert.ok(h.director.addService(other, { scheduler: 'rr', flags: 0, timeout: 0, netmask: 0xffffffff, pe: null }).ok);
    assert.ok((await h.reload()).ok);
    assert.equal(h.director.services().length, 2, 'a reload does not flush');
  } finally {
    h.runner.stop();
  }
});
