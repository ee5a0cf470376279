// The rate estimator, worked by hand from net/netfilter/ipvs/ip_vs_est.c:
//   sample (every 2 s):  rate = delta << 9 (conns, packets) or delta << 4 (bytes)
//                        avg += (s64)(rate - avg) >> 2          (arithmetic shift: floor)
//   read-out:            cps/pps = (avg + 0x1FF) >> 10,  bps = (avg + 0xF) >> 5
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stats } from '../../src/core/stats.ts';
import { estimatorTick, readRates } from '../../src/core/estimator.ts';

interface Row {
  readonly desc: string;
  /** Counter increments during this 2-second period. */
  readonly add: { conns: number; inpkts: number; outpkts: number; inbytes: number; outbytes: number };
  /** Scaled averages after the sample. */
  readonly est: { cps: number; inpps: number; outpps: number; inbps: number; outbps: number };
  /** What ipvsadm --rate would show. */
  readonly rates: { cps: number; inpps: number; outpps: number; inbps: number; outbps: number };
}

const steady = { conns: 100, inpkts: 10, outpkts: 7, inbytes: 1000, outbytes: 300 };
const idle = { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };

const rows: Row[] = [
  {
    // cps: 100<<9 = 51200; 0 + 51200>>2 = 12800; (12800+511)>>10 = 12
    // inpps: 10<<9 = 5120 -> 1280 -> (1791)>>10 = 1;  outpps: 7<<9 = 3584 -> 896 -> 1
    // inbps: 1000<<4 = 16000 -> 4000 -> (4015)>>5 = 125;  outbps: 300<<4 = 4800 -> 1200 -> (1215)>>5 = 37
    desc: 'first sample: a quarter of the 2-second rate',
    add: steady,
    est: { cps: 12800, inpps: 1280, outpps: 896, inbps: 4000, outbps: 1200 },
    rates: { cps: 12, inpps: 1, outpps: 1, inbps: 125, outbps: 37 },
  },
  {
    // cps: 12800 + (51200-12800)>>2 = 12800 + 9600 = 22400 -> (22911)>>10 = 22
    // inpps: 1280 + 3840>>2 = 2240 -> 2751>>10 = 2;  outpps: 896 + 2688>>2 = 1568 -> 2079>>10 = 2
    // inbps: 4000 + 12000>>2 = 7000 -> 7015>>5 = 219;  outbps: 1200 + 3600>>2 = 2100 -> 2115>>5 = 66
    desc: 'second sample',
    add: steady,
    est: { cps: 22400, inpps: 2240, outpps: 1568, inbps: 7000, outbps: 2100 },
    rates: { cps: 22, inpps: 2, outpps: 2, inbps: 219, outbps: 66 },
  },
  {
    // cps: 22400 + 28800>>2 = 29600 -> 30111>>10 = 29
    // inpps: 2240 + 2880>>2 = 2960 -> 3471>>10 = 3;  outpps: 1568 + 2016>>2 = 2072 -> 2583>>10 = 2
    // inbps: 7000 + 9000>>2 = 9250 -> 9265>>5 = 289;  outbps: 2100 + 2700>>2 = 2775 -> 2790>>5 = 87
    desc: 'third sample',
    add: steady,
    est: { cps: 29600, inpps: 2960, outpps: 2072, inbps: 9250, outbps: 2775 },
    rates: { cps: 29, inpps: 3, outpps: 2, inbps: 289, outbps: 87 },
  },
  {
    // cps: 29600 + (-29600)>>2 = 22200 -> 22711>>10 = 22
    // inpps: 2960 - 740 = 2220 -> 2731>>10 = 2;  outpps: 2072 - 518 = 1554 -> 2065>>10 = 2
    // inbps: 9250 + (-9250)>>2 = 9250 - 2313 (floor of -2312.5) = 6937 -> 6952>>5 = 217
    // outbps: 2775 + (-2775)>>2 = 2775 - 694 (floor of -693.75) = 2081 -> 2096>>5 = 65
    desc: 'idle period: the average decays, the shift rounds toward minus infinity',
    add: idle,
    est: { cps: 22200, inpps: 2220, outpps: 1554, inbps: 6937, outbps: 2081 },
    rates: { cps: 22, inpps: 2, outpps: 2, inbps: 217, outbps: 65 },
  },
];

test('estimator samples and read-out match the kernel arithmetic, tick by tick', async (t) => {
  const s = new Stats();
  for (const r of rows) {
    await t.test(r.desc, () => {
      s.counters.conns += r.add.conns;
      s.counters.inpkts += r.add.inpkts;
      s.counters.outpkts += r.add.outpkts;
      s.counters.inbytes += r.add.inbytes;
      s.counters.outbytes += r.add.outbytes;
      estimatorTick(s);
      const { cps, inpps, outpps, inbps, outbps } = s.est;
      assert.deepEqual({ cps, inpps, outpps, inbps, outbps }, r.est);
      assert.deepEqual(readRates(s), r.rates);
      assert.equal(s.est.lastConns, s.counters.conns);
      assert.equal(s.est.lastOutbytes, s.counters.outbytes);
    });
  }
});

test('the decay uses floor, not truncation, so an idle average reaches 0', () => {
  const s = new Stats();
  s.est.cps = 3;
  const seen: number[] = [];
  for (let i = 0; i < 4; i++) {
    estimatorTick(s);
    seen.push(s.est.cps);
  }
  // 3 + floor(-3/4) = 2, 2 + floor(-2/4) = 1, 1 + floor(-1/4) = 0, then 0 (truncation would stick at 3).
  assert.deepEqual(seen, [2, 1, 0, 0]);
});

test('read-out rounding thresholds (ip_vs_read_estimator)', () => {
  const rows: [string, number, number, number][] = [
    // [desc, scaled value, cps read-out, bps read-out]
    ['0', 0, 0, 0],
    ['just under one half', 512, 0, 16],
    ['one half and a bit rounds up for cps', 513, 1, 16],
    ['bytes: 16/32 reads 0, 17/32 reads 1', 17, 0, 1],
    ['bytes: 16 exactly', 16, 0, 0],
    ['1023/1024 cps', 1023, 1, 32],
  ];
  for (const [desc, v, cps, bps] of rows) {
    const s = new Stats();
    s.est.cps = v;
    s.est.inbps = v;
    const r = readRates(s);
    assert.equal(r.cps, cps, `${desc}: cps`);
    assert.equal(r.inbps, bps, `${desc}: inbps`);
  }
});

test('a steady rate converges to the true per-second value', () => {
  const s = new Stats();
  for (let i = 0; i < 100; i++) {
    s.counters.conns += 1000; // 500 per second
    s.counters.inbytes += 250_000_000; // 125 MB/s
    estimatorTick(s);
  }
  // The average stops within 3 of the scaled rate (once (rate-avg)>>2 is 0): 512000 and 4e9.
  assert.ok(s.est.cps >= 512_000 - 3 && s.est.cps <= 512_000);
  assert.ok(s.est.inbps >= 4_000_000_000 - 3 && s.est.inbps <= 4_000_000_000);
  assert.equal(readRates(s).cps, 500);
  assert.equal(readRates(s).inbps, 125_000_000);
});

test('large byte counts stay exact (well inside 2^53)', () => {
  const s = new Stats();
  s.counters.inbytes = 2 ** 45; // 32 TiB already counted
  s.est.lastInbytes = 2 ** 45;
  s.counters.inbytes += 1e12; // 1 TB in 2 s
  estimatorTick(s);
  // 1e12 << 4 = 1.6e13; >> 2 = 4e12; (4e12 + 15) >> 5 = 125e9
  assert.equal(s.est.inbps, 4e12);
  assert.equal(readRates(s).inbps, 125_000_000_000);
});

test('-Z: Stats.zero() restarts counters and estimator, the next sample starts clean', () => {
  const s = new Stats();
  s.counters.conns = 500;
  estimatorTick(s);
  assert.notEqual(s.est.cps, 0);
  s.zero();
  estimatorTick(s);
  assert.deepEqual(readRates(s), { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 });
  s.counters.conns += 4;
  estimatorTick(s);
  assert.equal(s.est.cps, 512); // 4<<9 = 2048, >>2 = 512
});
