// VipServing: the daemon's glue between VRRP's held addresses and the data plane (docs/vrrp.md,
// "Serving a VIP only while MASTER"). A fake plane records what it was told and when it synced; a
// fake clock drives the bounded retries after a failed sync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Director } from '../../src/core/director.ts';
import type { DataPlane, HeldAddresses } from '../../src/dataplane/dataplane.ts';
import { VipServing, type VipServingClock } from '../../src/daemon/vip-serving.ts';
import type { Logger } from '../../src/daemon/log.ts';

function fakes(failures: number) {
  const told: HeldAddresses[] = [];
  let syncs = 0;
  let left = failures;
  const plane = {
    setHeldAddresses: (a: HeldAddresses) => void told.push(a),
    sync: async () => {
      syncs++;
      if (left > 0) {
        left--;
        throw new Error('cannot listen on TCP 198.18.0.100:80: the VIP is not an address of this host');
      }
    },
  } as unknown as DataPlane;
  const lines: string[] = [];
  const log = {
    info: (m: string) => void lines.push(`info: ${m}`), warn: (m: string) => void lines.push(`warn: ${m}`),
    error: (m: string) => void lines.push(`error: ${m}`), debug() {}, log() {},
  } as unknown as Logger;
  const timers: (() => void)[] = [];
  const clock: VipServingClock = { now: () => 0, setTimer: (fn) => { timers.push(fn); return { cancel: () => { const i = timers.indexOf(fn); if (i >= 0) timers.splice(i, 1); } }; } };
  const serving = new VipServing(plane, new Director({ seed: 1 }), log, clock);
  return { serving, told, lines, timers, syncs: () => syncs };
}

const set = (...a: string[]) => new Set(a);

test('managed and held addresses reach the plane, each held change syncs it', async () => {
  const f = fakes(0);
  f.serving.setManaged(set('198.18.0.100'));
  assert.equal(f.syncs(), 0, 'setManaged leaves the sync to the config load');
  await f.serving.setHeld(set('198.18.0.100'));
  await f.serving.setHeld(set());
  assert.deepEqual(f.told.map((t) => [[...t.managed], [...t.held]]), [
    [['198.18.0.100'], []], [['198.18.0.100'], ['198.18.0.100']], [['198.18.0.100'], []],
  ]);
  assert.equal(f.syncs(), 2);
  assert.match(f.lines.join('\n'), /info: VRRP: data plane serving 198\.18\.0\.100/);
  assert.match(f.lines.join('\n'), /info: VRRP: data plane no longer serving 198\.18\.0\.100/);
});

test('a failed sync after a takeover is retried, boundedly, and not once the address is released', async () => {
  const rows: { desc: string; failures: number; releaseAfter: number | null; syncs: number; last: RegExp }[] = [
    { desc: 'succeeds on the third try', failures: 2, releaseAfter: null, syncs: 3, last: /info: VRRP: data plane serving/ },
    { desc: 'gives up after 10 retries', failures: 100, releaseAfter: null, syncs: 11, last: /error: VRRP: data plane: cannot listen/ },
    { desc: 'released meanwhile: no more retries for it', failures: 100, releaseAfter: 1, syncs: 3, last: /error: VRRP: data plane: cannot listen/ },
  ];
  for (const r of rows) {
    const f = fakes(r.failures);
    f.serving.setManaged(set('198.18.0.100'));
    await f.serving.setHeld(set('198.18.0.100'));
    for (let i = 0; i < 50 && f.timers.length > 0; i++) {
      if (r.releaseAfter === i) await f.serving.setHeld(set());
      const fn = f.timers.shift();
      if (!fn) break;
      fn();
      await new Promise((res) => setImmediate(res));
    }
    assert.equal(f.syncs(), r.syncs, r.desc);
    assert.match(f.lines.at(-1)!, r.last, r.desc);
    assert.equal(f.timers.length, 0, `${r.desc}: nothing left scheduled`);
  }
});
