// The proxy plane's read-buffer pool (src/dataplane/proxy/plane-context.ts): small first buffers
// carved from shared slabs, full ones for sockets that carry bursts, and reuse without allocation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../src/dataplane/proxy/plane-context.ts';

test('BufferPool sizes: small buffers are carved from one slab, full ones stand alone', async (t) => {
  const rows: { desc: string; size: number; small: number | undefined; wantSmall: number; shared: boolean }[] = [
    { desc: 'default small size is 1 KiB', size: 16384, small: undefined, wantSmall: 1024, shared: true },
    { desc: 'an explicit small size', size: 16384, small: 2048, wantSmall: 2048, shared: true },
    { desc: 'a small size above the full size is the full size (no carving)', size: 4096, small: 8192, wantSmall: 4096, shared: false },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const pool = new BufferPool(r.size, 8, r.small);
      const a = pool.takeSmall();
      const b = pool.takeSmall();
      assert.equal(pool.smallSize, r.wantSmall);
      assert.equal(a.length, r.wantSmall);
      assert.equal(b.length, r.wantSmall);
      assert.equal(a.buffer === b.buffer, r.shared, 'same slab');
      if (r.shared) {
        // Neighbours in the slab, never overlapping.
        assert.equal(b.byteOffset, a.byteOffset + a.length);
      }
      const f = pool.take();
      assert.equal(f.length, r.size);
      assert.notEqual(f.buffer, a.buffer);
    });
  }
});

test('BufferPool reuse: a buffer given back is the next one taken of its size; the free lists are capped', async (t) => {
  const rows: { desc: string; run: (p: BufferPool) => void }[] = [
    {
      desc: 'small back to the small list',
      run: (p) => {
        const s = p.takeSmall();
        p.give(s);
        assert.equal(p.freeSmall, 1);
        assert.equal(p.free, 0);
        assert.equal(p.takeSmall(), s);
      },
    },
    {
      desc: 'full back to the full list',
      run: (p) => {
        const f = p.take();
        p.give(f);
        assert.equal(p.free, 1);
        assert.equal(p.freeSmall, 0);
        assert.equal(p.take(), f);
      },
    },
    {
      desc: 'caps: 2 full, 3 small kept at most',
      run: (p) => {
        const fs = [p.take(), p.take(), p.take()];
        const ss = [p.takeSmall(), p.takeSmall(), p.takeSmall(), p.takeSmall()];
        for (const b of [...fs, ...ss]) p.give(b);
        assert.equal(p.free, 2);
        assert.equal(p.freeSmall, 3);
      },
    },
    {
      desc: 'a new slab once the current one is used up (64 KiB of 16 KiB small buffers = 4)',
      run: () => {
        const p = new BufferPool(65536, 2, 16384);
        const bs = Array.from({ length: 5 }, () => p.takeSmall());
        assert.ok(bs.slice(1, 4).every((b) => b.buffer === bs[0].buffer));
        assert.notEqual(bs[4].buffer, bs[0].buffer);
        assert.equal(bs[4].byteOffset, 0);
      },
    },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => r.run(new BufferPool(16384, 2, 1024, 3)));
  }
});
