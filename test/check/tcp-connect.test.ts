// The koffi/epoll connector behind TCP_CHECK and HTTP_GET (src/sys/tcp-connect.ts), against servers
// on 127.0.0.1 built here: how a probe's connection ends as the real server sees it ('reset': an
// RST, 'graceful': a FIN), that kept sockets are reused rather than piling up, and that many
// exchanges in flight at once each get their own answer. Bounded: every wait is at most 2 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readdirSync, readlinkSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createTcpConnector, type ConnectOptions, type ProbeClose } from '../../src/sys/tcp-connect.ts';

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** How the server saw each accepted connection end: 'fin' (end), 'rst' (ECONNRESET). */
function endingServer(): { server: net.Server; endings: string[] } {
  const endings: string[] = [];
  const server = net.createServer((s) => {
    s.on('end', () => { endings.push('fin'); s.end(); });
    s.on('error', (e: NodeJS.ErrnoException) => endings.push(e.code === 'ECONNRESET' ? 'rst' : String(e.code)));
    s.resume();
  });
  return { server, endings };
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

const closes: Array<{ desc: string; close: ProbeClose; ending: string }> = [
  { desc: "reset (default): the server sees an RST", close: 'reset', ending: 'rst' },
  { desc: "graceful: the server sees keepalived's FIN", close: 'graceful', ending: 'fin' },
];

for (const row of closes) {
  test(`TCP_CHECK connection end, ${row.desc}`, async (t) => {
    const connector = createTcpConnector({ close: row.close });
    if (!connector) { t.skip('koffi/epoll connector unavailable'); return; }
    t.after(() => connector.close());
    const { server, endings } = endingServer();
    const port = await listen(server);
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const target: ConnectOptions = { family: 4, address: '127.0.0.1', port, connectTimeoutMs: 2000 };
    for (let i = 0; i < 5; i++) assert.equal((await connector.connect(target)).verdict, 'connected');
    await until(() => endings.length >= 5);
    assert.deepEqual(endings, Array(5).fill(row.ending));
  });
}

/** Inodes of this process's open sockets. */
function socketInodes(): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) out.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  return out;
}

for (const row of closes) {
  test(`${row.close} mode: ${row.close === 'reset' ? 'one kept socket serves check after check' : 'a fresh socket per check, none left open'}`, async (t) => {
    const connector = createTcpConnector({ close: row.close });
    if (!connector) { t.skip('koffi/epoll connector unavailable'); return; }
    t.after(() => connector.close());
    let accepted = 0;
    let ended = 0;
    const server = net.createServer((s) => {
      accepted++;
      const done = () => { ended++; s.destroy(); };
      s.on('end', done);
      s.on('error', done);
      s.resume();
    });
    const port = await listen(server);
    t.after(() => new Promise<void>((r) => { server.close(() => r()); }));
    const target: ConnectOptions = { family: 4, address: '127.0.0.1', port, connectTimeoutMs: 2000 };
    const settle = async (n: number) => { await until(() => accepted >= n && ended >= n); };
    const before = socketInodes();
    assert.equal((await connector.connect(target)).verdict, 'connected');
    await settle(1);
    const kept = [...socketInodes()].filter((x) => !before.has(x));
    // Checks one at a time, fewer than the listen backlog (the server shares this event loop).
    for (let i = 0; i < 200; i++) assert.equal((await connector.connect(target)).verdict, 'connected');
    await settle(201);
    const after = [...socketInodes()].filter((x) => !before.has(x));
    if (row.close === 'reset') {
      assert.equal(kept.length, 1, 'the first check leaves its socket open, kept');
      assert.deepEqual(after, kept, '200 more checks used that same socket');
    } else {
      assert.deepEqual(kept, [], 'graceful: the socket was closed');
      assert.deepEqual(after, []);
    }
  });
}

test('exchanges in flight together each get their own answer, on kept sockets reused across rounds', async (t) => {
  const connector = createTcpConnector();
  if (!connector) { t.skip('koffi/epoll connector unavailable'); return; }
  t.after(() => connector.close());
  // Answers with the request's path after a short random delay, then closes (HTTP/1.0 style).
  const server = net.createServer((s) => {
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const m = /^GET (\S+)/.exec(buf);
      if (m && buf.endsWith('\r\n\r\n')) setTimeout(() => s.end(`HTTP/1.0 200 OK\r\n\r\n${m[1]}`), Math.floor(Math.random() * 20));
    });
  });
  const port = await listen(server);
  t.after(() => new Promise<void>((r) => { server.close(() => r()); }));
  const target: ConnectOptions = { family: 4, address: '127.0.0.1', port, connectTimeoutMs: 2000 };
  for (let round = 0; round < 3; round++) {
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => connector.exchange(target, {
      request: Buffer.from(`GET /r${round}-${i} HTTP/1.0\r\n\r\n`), maxBytes: 1 << 16,
    })));
    answers.forEach((a, i) => {
      assert.equal(a.verdict, 'done', `round ${round} #${i}: ${a.detail}`);
      assert.ok(Buffer.concat(a.chunks).toString().endsWith(`/r${round}-${i}`), `round ${round} #${i} got its own answer`);
    });
  }
});

test('a refused connect on a kept socket does not spoil the socket for the next check', async (t) => {
  const connector = createTcpConnector();
  if (!connector) { t.skip('koffi/epoll connector unavailable'); return; }
  t.after(() => connector.close());
  const server = net.createServer((s) => { s.on('error', () => {}); s.resume(); });
  const port = await listen(server);
  t.after(() => new Promise<void>((r) => { server.close(() => r()); }));
  const spare = net.createServer();
  const closedPort = await listen(spare);
  await new Promise<void>((r) => spare.close(() => r()));
  const up: ConnectOptions = { family: 4, address: '127.0.0.1', port, connectTimeoutMs: 2000 };
  const down: ConnectOptions = { family: 4, address: '127.0.0.1', port: closedPort, connectTimeoutMs: 2000 };
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    seen.push((await connector.connect(down)).verdict, (await connector.connect(up)).verdict);
  }
  assert.deepEqual(seen, ['refused', 'connected', 'refused', 'connected', 'refused', 'connected', 'refused', 'connected']);
});
