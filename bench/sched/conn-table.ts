// Connection-table cost at one million entries: insert, lookup, re-arm (every packet does one)
// and expiry, per entry, plus the heap each entry costs. The entries are built the way the
// director builds them (one Conn record bound to a dest), but timed on the table alone so the
// figure is the table's, not the scheduler's.
import { addrFromU32, addr } from '../../src/core/addr.ts';
import { ConnTable } from '../../src/core/conn/table.ts';
import { type Conn, CONN_F } from '../../src/core/conn/conn.ts';

export interface ConnTableRow {
  readonly op: string;
  readonly entries: number;
  readonly nsPerEntry: number;
}

export interface ConnTableResult {
  readonly rows: readonly ConnTableRow[];
  readonly heapBytesPerEntry: number;
}

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0);
}

export function connTableBench(n = 1_000_000): ConnTableResult {
  const vip = addr('192.0.2.1');
  const rip = addr('198.18.1.1');
  const before = heapUsed();
  const table = new ConnTable({ seed: 12345 });
  const conns: Conn[] = new Array<Conn>(n);
  for (let i = 0; i < n; i++) {
    const caddr = addrFromU32((0xc6120000 + (i >>> 6)) >>> 0); // 198.18.x.y, 64 ports per client
    conns[i] = {
      protocol: 'tcp', caddr, cport: 1024 + (i & 63), vaddr: vip, vport: 80, daddr: rip, dport: 80, dest: null,
      flags: CONN_F.INACTIVE, state: 1, timeout: 900_000, expires: 900_000 + (i % 60_000), control: null, nControl: 0,
      inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, slot: -1,
    };
  }
  const rows: ConnTableRow[] = [];
  rows.push({ op: 'insert', entries: n, nsPerEntry: time(() => { for (const c of conns) table.insert(c); }) / n });
  const after = heapUsed();
  let found = 0;
  rows.push({
    op: 'lookup', entries: n,
    nsPerEntry: time(() => { for (const c of conns) if (table.lookup('tcp', c.caddr, c.cport, c.vaddr, c.vport)) found++; }) / n,
  });
  if (found !== n) throw new Error(`lookup found ${found} of ${n}`);
  // A packet re-arms its entry for the state's timeout: pushing the deadline later is the common case.
  rows.push({ op: 're-arm (later)', entries: n, nsPerEntry: time(() => { for (const c of conns) table.rearm(c, c.expires + 1000); }) / n });
  // Walk the clock in 1-second ticks through the whole spread of deadlines, as director.tick does.
  let removed = 0;
  const expireNs = time(() => {
    for (let t = 900_000; t <= 900_000 + 62_000; t += 1000) removed += table.expire(t, () => true);
  });
  if (removed !== n || table.size !== 0) throw new Error(`expired ${removed} of ${n}, ${table.size} left`);
  rows.push({ op: 'expire', entries: n, nsPerEntry: expireNs / n });
  return { rows, heapBytesPerEntry: (after - before) / n };
}

if (import.meta.main) {
  const r = connTableBench();
  for (const row of r.rows) console.log(`${row.op}: ${row.nsPerEntry.toFixed(0)} ns/entry`);
  console.log(`heap: ${r.heapBytesPerEntry.toFixed(0)} B/entry (Conn record + table)`);
}
