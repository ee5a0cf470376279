// keepvs against keepvs on a bridge between network namespaces, on the real kernel (raw sockets,
// multicast, `ip`, GARP): election by priority, failover on SIGTERM (priority-0 release) and on SIGKILL
// (Master_Down timer), failback with preempt, no failback with nopreempt. VRRPv3 at 0.1 s keeps it
// quick; one VRRPv2 run at 1 s checks the other wire format. Outcomes only, no timing assertions
// (bench/failover measures times).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { VrrpLab, keepvsConf, labUnavailable } from './netns-lab.ts';

const why = labUnavailable(false);
let lab: VrrpLab | null = null;

before(() => {
  if (!why) lab = VrrpLab.create();
});
after(async () => {
  await lab?.destroy();
});

const v3 = { version: 3 as const, advertInt: 0.1 };

test('keepvs vs keepvs (v3, 0.1 s): election, SIGTERM failover, preempting failback, SIGKILL failover', async (t) => {
  if (why || !lab) return t.skip(why ?? 'lab not built');
  const L = lab;
  const a = L.startKeepvs('a', keepvsConf(L, { side: 'a', state: 'MASTER', priority: 150, ...v3 }));
  const b = L.startKeepvs('b', keepvsConf(L, { side: 'b', state: 'BACKUP', priority: 100, ...v3 }));
  try {
    assert.ok(await L.waitHolder('a', 10_000, 500), `a (150) holds the VIP alone\n${a.log()}\n${b.log()}`);
    await a.stop('TERM');
    assert.ok(await L.waitHolder('b', 5_000, 300), `b takes over after a's priority 0\n${b.log()}`);
    assert.match(a.log(), /sent 0 priority/);
    const a2 = L.startKeepvs('a', keepvsConf(L, { side: 'a', state: 'MASTER', priority: 150, ...v3 }));
    assert.ok(await L.waitHolder('a', 10_000, 500), `a preempts on return\n${a2.log()}\n${b.log()}`);
    await a2.stop('KILL');
    // The crashed master keeps its VIP (as keepalived's would): b must still take over.
    assert.ok(await L.waitFor(() => L.holders().includes('b'), 5_000), `b takes over after the crash\n${b.log()}`);
    assert.match(b.log(), /Receive advertisement timeout/);
    L.clearVip('a');
  } finally {
    await b.stop('TERM');
  }
  assert.deepEqual(L.holders(), [], 'nobody holds the VIP after both stopped');
});

test('keepvs vs keepvs (v3, 0.1 s): nopreempt keeps the lower-priority MASTER', async (t) => {
  if (why || !lab) return t.skip(why ?? 'lab not built');
  const L = lab;
  // a starts alone and becomes MASTER; b joins as BACKUP (with nopreempt the first master stays).
  const a = L.startKeepvs('a', keepvsConf(L, { side: 'a', state: 'BACKUP', priority: 150, nopreempt: true, ...v3 }));
  let a2 = a;
  assert.ok(await L.waitHolder('a', 10_000), 'a becomes MASTER');
  const b = L.startKeepvs('b', keepvsConf(L, { side: 'b', state: 'BACKUP', priority: 100, nopreempt: true, ...v3 }));
  try {
    assert.ok(await L.waitHolder('a', 1_000, 1_000), 'a stays MASTER when b joins');
    await a.stop('TERM');
    assert.ok(await L.waitHolder('b', 5_000, 300), 'b takes over');
    a2 = L.startKeepvs('a', keepvsConf(L, { side: 'a', state: 'BACKUP', priority: 150, nopreempt: true, ...v3 }));
    assert.ok(await L.waitHolder('b', 1_000, 2_000), `b keeps the VIP: no failback with nopreempt\n${a2.log()}`);
  } finally {
    await a2.stop('TERM');
    await b.stop('TERM');
  }
});

test('keepvs vs keepvs (v2, 1 s, PASS auth, unicast): election and SIGTERM failover', async (t) => {
  if (why || !lab) return t.skip(why ?? 'lab not built');
  const L = lab;
  const v2 = { version: 2 as const, advertInt: 1, unicast: true };
  const a = L.startKeepvs('a', keepvsConf(L, { side: 'a', state: 'MASTER', priority: 150, ...v2 }));
  const b = L.startKeepvs('b', keepvsConf(L, { side: 'b', state: 'BACKUP', priority: 100, ...v2 }));
  try {
    assert.ok(await L.waitHolder('a', 15_000, 1_500), `a holds the VIP\n${a.log()}\n${b.log()}`);
    await a.stop('TERM');
    assert.ok(await L.waitHolder('b', 5_000), `b takes over\n${b.log()}`);
  } finally {
    await a.stop('TERM');
    await b.stop('TERM');
  }
});
