// The connection table: lookups as ip_vs_conn.c defines them (ip_vs_conn_in_get: connections by
// <protocol, caddr, cport, vaddr, vport>, NO_CPORT retry; ip_vs_ct_in_get: templates only; ONE_PACKET
// entries never hashed) and expiry with an injected clock: every entry goes exactly when the clock
// reaches its deadline, re-armed entries survive, and onExpire=false (the director's expire_later)
// keeps an entry for its new deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr, addrFromU32, type Addr } from '../../src/core/addr.ts';
import { type Conn, type ConnProtocol, CONN_F } from '../../src/core/conn/conn.ts';
import { ConnTable } from '../../src/core/conn/table.ts';

const VIP = addr('198.18.0.1');
const RIP = addr('198.18.1.10');

function conn(o: Partial<Conn> & { caddr?: Addr } = {}): Conn {
  return {
    protocol: 'tcp', caddr: addr('198.18.0.100'), cport: 40000, vaddr: VIP, vport: 80, daddr: RIP, dport: 80,
    dest: null, flags: CONN_F.INACTIVE, state: 0, timeout: 3000, expires: 3000, control: null, nControl: 0,
    inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, slot: -1, ...o,
  };
}

/** Deterministic test randomness (xorshift32). */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

test('lookups: connections by the 5-tuple, templates only through lookupTemplate', async (t) => {
  const table = new ConnTable();
  const c4 = conn({ caddr: addr('198.18.0.100'), cport: 40000 });
  const c6 = conn({ caddr: addr('2001:db8::100'), cport: 40000, vaddr: addr('2001:db8::1') });
  const udp = conn({ protocol: 'udp', caddr: addr('198.18.0.100'), cport: 40000, vport: 53 });
  const tpl = conn({ caddr: addr('198.18.0.0'), cport: 0, flags: CONN_F.TEMPLATE });
  const fwmTpl = conn({ protocol: 'ip', caddr: addr('198.18.0.100'), cport: 0, vaddr: addrFromU32(7), vport: 0, flags: CONN_F.TEMPLATE });
  for (const c of [c4, c6, udp, tpl, fwmTpl]) assert.equal(table.insert(c), null);
  assert.equal(table.size, 5);

  const rows: { desc: string; got: () => Conn | undefined; want: Conn | undefined }[] = [
    { desc: 'IPv4 conn, equal but distinct Addr objects', got: () => table.lookup('tcp', addr('198.18.0.100'), 40000, addr('198.18.0.1'), 80), want: c4 },
    { desc: 'IPv6 conn', got: () => table.lookup('tcp', addr('2001:db8::100'), 40000, addr('2001:db8::1'), 80), want: c6 },
    { desc: 'same tuple, other protocol', got: () => table.lookup('udp', addr('198.18.0.100'), 40000, VIP, 53), want: udp },
    { desc: 'TCP does not find the UDP entry', got: () => table.lookup('tcp', addr('198.18.0.100'), 40000, VIP, 53), want: undefined },
    { desc: 'other client port', got: () => table.lookup('tcp', addr('198.18.0.100'), 40001, VIP, 80), want: undefined },
    { desc: 'other vport', got: () => table.lookup('tcp', addr('198.18.0.100'), 40000, VIP, 443), want: undefined },
    { desc: 'a normal lookup never returns a template (cport 0 needs NO_CPORT)', got: () => table.lookup('tcp', addr('198.18.0.0'), 0, VIP, 80), want: undefined },
    { desc: 'template by client network', got: () => table.lookupTemplate('tcp', addr('198.18.0.0'), VIP, 80), want: tpl },
    { desc: 'fwmark template: protocol IP, mark as address, port 0', got: () => table.lookupTemplate('ip', addr('198.18.0.100'), addrFromU32(7), 0), want: fwmTpl },
    { desc: 'lookupTemplate never returns a connection', got: () => table.lookupTemplate('tcp', addr('198.18.0.100'), VIP, 80), want: undefined },
  ];
  for (const r of rows) await t.test(r.desc, () => assert.equal(r.got(), r.want));
});

test('insert refuses duplicates and ONE_PACKET entries; remove and unhash', async (t) => {
  await t.test('a second entry with the same key is refused, the first stays', () => {
    const table = new ConnTable();
    const a = conn();
    assert.equal(table.insert(a), null);
    assert.equal(table.insert(conn()), 'exists');
    assert.equal(table.insert(a), 'exists');
    assert.equal(table.size, 1);
    assert.equal(table.lookup('tcp', a.caddr, a.cport, a.vaddr, a.vport), a);
  });
  await t.test('ONE_PACKET entries are never hashed (ip_vs_conn_hash)', () => {
    const table = new ConnTable();
    assert.equal(table.insert(conn({ protocol: 'udp', flags: CONN_F.ONE_PACKET })), 'one-packet');
    assert.equal(table.size, 0);
  });
  await t.test('remove drops the entry from lookups, listing and expiry', () => {
    const table = new ConnTable();
    const a = conn({ expires: 5000 });
    table.insert(a);
    assert.equal(table.remove(a), true);
    assert.equal(table.remove(a), false);
    assert.equal(table.lookup('tcp', a.caddr, a.cport, a.vaddr, a.vport), undefined);
    assert.deepEqual(table.values(), []);
    assert.equal(table.expire(10_000, () => assert.fail('removed entries do not expire')), 0);
  });
  await t.test('an unhashed (invalidated) template is listed and expires but is never found', () => {
    const table = new ConnTable();
    const tpl = conn({ caddr: addr('198.18.0.0'), cport: 0, flags: CONN_F.TEMPLATE, expires: 360_000 });
    table.insert(tpl);
    assert.equal(table.unhash(tpl), true);
    // ip_vs_check_template: ports become 0xffff; a new template for the same client can be created.
    tpl.vport = 0xffff;
    tpl.dport = 0xffff;
    assert.equal(table.lookupTemplate('tcp', addr('198.18.0.0'), VIP, 80), undefined);
    const fresh = conn({ caddr: addr('198.18.0.0'), cport: 0, flags: CONN_F.TEMPLATE, expires: 360_000 });
    assert.equal(table.insert(fresh), null);
    const second = conn({ caddr: addr('198.18.0.0'), cport: 0, flags: CONN_F.TEMPLATE, expires: 360_000 });
    table.unhash(fresh);
    fresh.vport = 0xffff;
    assert.equal(table.insert(second), null, 'two invalidated templates with the same fields can coexist');
    assert.equal(table.size, 3);
    assert.ok(table.has(tpl));
    const gone: Conn[] = [];
    table.expire(359_999, (c) => { gone.push(c); return true; });
    assert.equal(gone.length, 0);
    table.expire(360_000, (c) => { gone.push(c); return true; });
    assert.equal(gone.length, 3);
    assert.equal(table.size, 0);
  });
});

test('NO_CPORT entries are found by any client port, only while they exist (ip_vs_conn_in_get)', () => {
  const table = new ConnTable();
  const wild = conn({ cport: 0, flags: CONN_F.NO_CPORT });
  const plain = conn({ cport: 0, vport: 81 });
  table.insert(wild);
  table.insert(plain);
  assert.equal(table.lookup('tcp', wild.caddr, 5555, VIP, 80), wild, 'retried with cport 0');
  assert.equal(table.lookup('tcp', wild.caddr, 0, VIP, 80), wild);
  assert.equal(table.lookup('tcp', wild.caddr, 0, VIP, 81), undefined, 'cport 0 only matches NO_CPORT entries');
  table.remove(wild);
  assert.equal(table.lookup('tcp', wild.caddr, 5555, VIP, 80), undefined);
});

test('expiry: 10 000 entries go exactly when the clock passes their deadline, re-armed ones survive', () => {
  const rnd = prng(20260101);
  const table = new ConnTable({ tickMs: 1000, slots: 256 }); // a small wheel: many deadlines lie beyond one turn
  const N = 10_000;
  const conns: Conn[] = [];
  for (let i = 0; i < N; i++) {
    // Timeouts from 1 ms to ~20 min, not aligned to the wheel's ticks.
    const timeout = 1 + Math.floor(rnd() * 1_200_000);
    const c = conn({ caddr: addrFromU32((0xc6120000 + (i >>> 4)) >>> 0), cport: 1024 + (i & 15), timeout, expires: timeout });
    assert.equal(table.insert(c), null);
    conns.push(c);
  }
  const alive = new Set(conns);
  let now = 0;
  let rearmed = 0;
  let pulledIn = 0;
  while (alive.size > 0) {
    // Irregular steps, sometimes smaller than a tick, sometimes several wheel turns.
    const r = rnd();
    now += r < 0.6 ? 1 + Math.floor(rnd() * 1500) : r < 0.95 ? Math.floor(rnd() * 20_000) : Math.floor(rnd() * 600_000);
    // Packets: live entries get new deadlines. A later one is written straight into c.expires
    // (what every packet does); an earlier one goes through rearm() (a state change to a shorter
    // timeout).
    if (now < 2_000_000) {
      for (const c of alive) {
        if (rnd() >= 0.03) continue;
        const e = now + 1 + Math.floor(rnd() * 300_000);
        if (e >= c.expires) { c.expires = e; rearmed++; } else { table.rearm(c, e); pulledIn++; }
      }
    }
    const due = new Set([...alive].filter((c) => c.expires <= now));
    const got: Conn[] = [];
    const removed = table.expire(now, (c) => {
      assert.ok(c.expires <= now, `offered early: expires ${c.expires} > now ${now}`);
      got.push(c);
      return true;
    });
    assert.equal(got.length, due.size, `at ${now}: exactly the due entries`);
    for (const c of got) assert.ok(due.has(c), 'only due entries');
    assert.equal(removed, due.size);
    for (const c of got) alive.delete(c);
    assert.equal(table.size, alive.size);
  }
  assert.ok(rearmed > 1000 && pulledIn > 100, `the walk exercised re-arming (${rearmed}, ${pulledIn})`);
});

test('onExpire returning false keeps the entry until its new deadline (expire_later)', () => {
  const table = new ConnTable();
  const tpl = conn({ caddr: addr('198.18.0.0'), cport: 0, flags: CONN_F.TEMPLATE, timeout: 360_000, expires: 360_000, nControl: 1 });
  const other = conn({ expires: 360_000 });
  table.insert(tpl);
  table.insert(other);
  const seen: [number, Conn][] = [];
  const onExpire = (now: number) => (c: Conn): boolean => {
    seen.push([now, c]);
    if (c.nControl > 0) {
      // ip_vs_conn_expire: still controls entries — 60 s more.
      c.timeout = 60_000;
      c.expires = now + 60_000;
      c.nControl--;
      return false;
    }
    return true;
  };
  table.expire(360_000, onExpire(360_000));
  assert.deepEqual(seen.map(([n, c]) => [n, c === tpl]).sort(), [[360_000, false], [360_000, true]]);
  assert.equal(table.size, 1);
  table.expire(419_999, onExpire(419_999));
  assert.equal(seen.length, 2, 'not before its new deadline');
  table.expire(420_000, onExpire(420_000));
  assert.deepEqual(seen.slice(2).map(([n, c]) => [n, c === tpl]), [[420_000, true]]);
  assert.equal(table.size, 0);
});

test('an entry left due by onExpire=false is offered again at the next call, not in a loop', () => {
  const table = new ConnTable();
  const c = conn({ expires: 1000 });
  table.insert(c);
  let calls = 0;
  table.expire(5000, () => { calls++; return false; });
  assert.equal(calls, 1);
  table.expire(5000, () => { calls++; return true; });
  assert.equal(calls, 2);
  assert.equal(table.size, 0);
});

test('rearm() pulls a deadline earlier (a long ESTABLISHED timeout turning into CLOSE)', () => {
  const table = new ConnTable();
  const c = conn({ timeout: 900_000, expires: 900_000 });
  table.insert(c);
  table.expire(1000, () => assert.fail('not yet'));
  table.rearm(c, 11_000);
  const gone: number[] = [];
  table.expire(10_999, () => { gone.push(10_999); return true; });
  table.expire(11_000, () => { gone.push(11_000); return true; });
  assert.deepEqual(gone, [11_000]);
});

test('onExpire may remove, insert and rearm other entries, including ones in the same slot', () => {
  const table = new ConnTable();
  const a = conn({ cport: 1, expires: 1000 });
  const b = conn({ cport: 2, expires: 1000 });
  const cc = conn({ cport: 3, expires: 1500 });
  const late = conn({ cport: 4, expires: 50_000 });
  for (const x of [a, b, cc, late]) table.insert(x);
  const offered: number[] = [];
  table.expire(2000, (x) => {
    offered.push(x.cport);
    if (x === a || x === b) {
      table.remove(x === a ? b : a); // the partner in the same slot goes too
      table.rearm(late, 1800); // pulled in: due in this very call or the next
      table.insert(conn({ cport: 5, expires: 1000 })); // already due: offered at the next call
    }
    return true;
  });
  assert.equal(offered.length, 2, `${offered}`);
  assert.ok(offered.includes(3));
  assert.ok(offered.includes(1) !== offered.includes(2), 'only one of the pair was offered');
  const later: number[] = [];
  table.expire(2000, (x) => { later.push(x.cport); return true; });
  assert.deepEqual(later.sort(), [4, 5]);
  assert.equal(table.size, 0);
});

test('a clock jump longer than a wheel turn still expires every due entry, and only those', () => {
  const table = new ConnTable({ tickMs: 1000, slots: 8 });
  const days31 = 31 * 86400 * 1000;
  const entries = [500, 7_999, 8_000, 8_001, 65_000, days31 - 1, days31].map((e, i) => conn({ cport: i + 1, expires: e }));
  for (const e of entries) table.insert(e);
  const gone: number[] = [];
  const collect = (x: Conn): boolean => { gone.push(x.expires); return true; };
  table.expire(8_000, collect);
  assert.deepEqual(gone.sort((x, y) => x - y), [500, 7_999, 8_000]);
  gone.length = 0;
  table.expire(days31 - 1, collect);
  assert.deepEqual(gone.sort((x, y) => x - y), [8_001, 65_000, days31 - 1]);
  gone.length = 0;
  table.expire(days31, collect);
  assert.deepEqual(gone, [days31]);
});

test('values() lists every entry once and is safe to remove from while walking', () => {
  const table = new ConnTable();
  const protos: ConnProtocol[] = ['tcp', 'udp', 'sctp'];
  const all: Conn[] = [];
  for (let i = 0; i < 3000; i++) {
    const c = conn({ protocol: protos[i % 3], cport: 1024 + i, expires: 1000 + i });
    table.insert(c);
    all.push(c);
  }
  const listed = table.values();
  assert.equal(listed.length, 3000);
  assert.equal(new Set(listed).size, 3000);
  for (const c of table.values()) if (c.cport % 2 === 0) table.remove(c);
  assert.equal(table.size, 1500);
  for (const c of all) {
    assert.equal(table.lookup(c.protocol, c.caddr, c.cport, c.vaddr, c.vport), c.cport % 2 === 0 ? undefined : c);
  }
});
