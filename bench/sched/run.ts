// Scheduler decision cost for every scheduler in src/core/sched/index.ts at 10, 1 000 and 10 000
// dests. One decision = schedule() + bindConn() of the chosen dest + unbindConn() of the oldest
// live conn, so load-driven schedulers (lc family, twos, ovf, lblc) pay for keeping their index
// current, as they would under real traffic. Timed in batches with process.hrtime.bigint; the
// table gives the median and p99 of the batch means. Run: node bench/sched/run.ts
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addr, type Addr } from '../../src/core/addr.ts';
import { bindConn, unbindConn, type Dest } from '../../src/core/dest.ts';
import type { Service } from '../../src/core/service.ts';
import { SCHEDULERS } from '../../src/core/sched/index.ts';
import { SCHEDULER_NAMES, type SchedContext, type SchedPacket, type SchedulerName } from '../../src/core/sched/scheduler.ts';
import { makeService, seededRandom } from '../../test/core/fixtures.ts';
import { connTableBench } from './conn-table.ts';

const SIZES = [10, 1_000, 10_000] as const;
const BATCH = 1_000;
const WARMUP_MS = 100;
const MEASURE_MS = 400;
const MIN_BATCHES = 50;
const PACKETS = 4_096;

interface Row {
  sched: SchedulerName;
  dests: number;
  perSec?: number;
  medianNs?: number;
  p99Ns?: number;
  error?: string;
}

function packets(): SchedPacket[] {
  const rnd = seededRandom(42);
  const vip = addr('192.0.2.1');
  const out: SchedPacket[] = [];
  for (let i = 0; i < PACKETS; i++) {
    const r = rnd();
    const caddr: Addr = addr(`198.${18 + (r & 1)}.${(r >>> 8) & 255}.${(r >>> 16) & 255}`);
    out.push({ caddr, cport: 1024 + (rnd() % 60000), vaddr: vip, vport: 80 });
  }
  return out;
}

/** A service with mixed weights 1..5 and a starting load of about 4 conns per dest. */
function setup(sched: SchedulerName, n: number): { svc: Service; ring: (Dest | null)[] } {
  const rnd = seededRandom(n * 31 + 7);
  const weights = Array.from({ length: n }, () => 1 + (rnd() % 5));
  const svc = makeService(sched, weights);
  const ring: (Dest | null)[] = new Array<Dest | null>(ringSize(n)).fill(null);
  for (let i = 0; i < ring.length; i++) {
    const d = svc.dests[rnd() % n];
    bindConn(d, 'active');
    ring[i] = d;
  }
  for (const d of svc.dests) for (let k = rnd() % 8; k > 0; k--) bindConn(d, 'inactive');
  return { svc, ring };
}

function ringSize(n: number): number {
  let r = 1;
  while (r < 4 * n) r *= 2;
  return r;
}

function measure(sched: SchedulerName, n: number, pkts: SchedPacket[]): Row {
  let state: { svc: Service; ring: (Dest | null)[] };
  try {
    state = setup(sched, n);
  } catch (e) {
    return { sched, dests: n, error: (e as Error).message };
  }
  const { svc, ring } = state;
  const mask = ring.length - 1;
  let head = 0;
  const ctx: SchedContext = { now: 0, random: seededRandom(99), commit: true };
  let now = 0;
  let i = 0;
  const batch = (): void => {
    for (let k = 0; k < BATCH; k++) {
      const p = svc.scheduler.schedule(svc, pkts[i++ & (PACKETS - 1)], ctx);
      const old = ring[head];
      if (p.dest !== null) {
        bindConn(p.dest, 'active');
        ring[head] = p.dest;
      } else {
        ring[head] = null;
      }
      if (old !== null) unbindConn(old, 'active');
      head = (head + 1) & mask;
    }
  };
  const ctxWithClock = ctx as { now: number };
  try {
    const warmEnd = performance.now() + WARMUP_MS;
    while (performance.now() < warmEnd) batch();
    const means: number[] = [];
    const end = performance.now() + MEASURE_MS;
    while (performance.now() < end || means.length < MIN_BATCHES) {
      now += 1;
      ctxWithClock.now = now;
      const t0 = process.hrtime.bigint();
      batch();
      const t1 = process.hrtime.bigint();
      means.push(Number(t1 - t0) / BATCH);
    }
    means.sort((a, b) => a - b);
    const median = means[Math.floor(means.length / 2)];
    const p99 = means[Math.min(means.length - 1, Math.floor(means.length * 0.99))];
    return { sched, dests: n, perSec: 1e9 / median, medianNs: median, p99Ns: p99 };
  } catch (e) {
    return { sched, dests: n, error: (e as Error).message };
  }
}

function fmtInt(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

function fmtNs(x: number): string {
  return x < 100 ? x.toFixed(1) : fmtInt(x);
}

function main(): void {
  const loadBefore = os.loadavg()[0];
  const pkts = packets();
  const rows: Row[] = [];
  for (const sched of SCHEDULER_NAMES) {
    if (!(sched in SCHEDULERS)) continue;
    for (const n of SIZES) {
      const r = measure(sched, n, pkts);
      rows.push(r);
      process.stderr.write(`${sched} ${n}: ${r.error ?? `${fmtNs(r.medianNs ?? 0)} ns`}\n`);
    }
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines: string[] = [];
  lines.push('# Scheduler decision cost');
  lines.push('');
  lines.push(`- Machine: ${cpu}, ${os.availableParallelism()} CPUs (nproc), ${os.platform()} ${os.release()}`);
  lines.push(`- Node ${process.version}`);
  lines.push(
    `- 1-minute load average: ${loadBefore.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end ` +
      '(anything near or above the CPU count means other work skewed these figures)',
  );
  lines.push(`- Date: ${new Date().toISOString()}`);
  lines.push(
    `- One decision = schedule() + bindConn() of the pick + unbindConn() of the oldest of ~4 live conns per dest; ` +
      `weights 1..5; ${BATCH} decisions per batch, ${MEASURE_MS} ms per row after ${WARMUP_MS} ms warm-up; ` +
      'median and p99 are over batch means.',
  );
  lines.push('');
  lines.push('| scheduler | dests | decisions/s | median ns | p99 ns |');
  lines.push('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    if (r.error !== undefined) lines.push(`| ${r.sched} | ${fmtInt(r.dests)} | error: ${r.error.replace(/\|/g, '/')} | | |`);
    else lines.push(`| ${r.sched} | ${fmtInt(r.dests)} | ${fmtInt(r.perSec ?? 0)} | ${fmtNs(r.medianNs ?? 0)} | ${fmtNs(r.p99Ns ?? 0)} |`);
  }
  lines.push('');
  lines.push('Scaling, median at 10 000 dests / median at 10 dests (a linear walk would be ~1000×):');
  lines.push('');
  lines.push('| scheduler | 10 → 10 000 |');
  lines.push('|---|---:|');
  for (const sched of SCHEDULER_NAMES) {
    const a = rows.find((r) => r.sched === sched && r.dests === 10);
    const b = rows.find((r) => r.sched === sched && r.dests === 10_000);
    const ratio = a?.medianNs && b?.medianNs ? `${(b.medianNs / a.medianNs).toFixed(2)}×` : 'n/a';
    lines.push(`| ${sched} | ${ratio} |`);
  }
  const ct = connTableBench();
  lines.push('');
  lines.push('Connection table at 1 000 000 entries (bench/sched/conn-table.ts; expiry walks the clock in 1 s ticks as director.tick does):');
  lines.push('');
  lines.push('| operation | ns per entry |');
  lines.push('|---|---:|');
  for (const r of ct.rows) lines.push(`| ${r.op} | ${fmtNs(r.nsPerEntry)} |`);
  lines.push('');
  lines.push(`Heap per entry, Conn record and its addresses included: ${Math.round(ct.heapBytesPerEntry)} B.`);
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  const here = dirname(fileURLToPath(import.meta.url));
  const outDir = join(here, '..', 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'sched.md'), text);
}

main();
