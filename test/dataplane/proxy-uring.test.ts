// What only the io_uring engine has: its ring and buffer stock, IPv6 on direct descriptors, and a
// plane that is safe to touch after stop() (the ring is gone). The behaviour it shares with the other
// engines is proven by proxy-tcp.test.ts, which runs every test on each engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { spawn } from 'node:child_process';
import { Ring, mapAnonymous, prepSocket, prepClose, prepTimeout, SQE_IO_LINK } from '../../src/sys/io-uring.ts';
import { ProxyPlane, type ProxyPlaneOptions } from '../../src/dataplane/proxy/plane.ts';
import type { Dest } from '../../src/core/dest.ts';
import { Director } from '../../src/core/director.ts';
import { addr } from '../../src/core/addr.ts';
import { Harness, addBackendDest, greetAndEcho, serviceOptions, tcpKey, until, within } from './proxy-harness.ts';

/** An rr service on a free port of 127.0.0.1 with one real server, served by a uring plane. */
async function rrService(h: Harness, rport: number, opts: ProxyPlaneOptions = {}): Promise<{ vport: number; plane: ProxyPlane; dest: Dest; d: Director }> {
  const vport = await h.freePort();
  const d = h.director();
  assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
  const dest = addBackendDest(d, tcpKey(vport), rport);
  const plane = h.plane(opts);
  await plane.sync(d);
  return { vport, plane, dest, d };
}

const probe = new ProxyPlane({ tcpEngine: 'uring' });
const uringReason = probe.engineFallback;
await probe.stop(0);
const skip = uringReason === null ? false : `io_uring engine cannot run here: ${uringReason}`;
if (skip) process.stdout.write(`# skipped: ${skip}\n`);

test('a ring: linked operations on a direct descriptor complete in one enter(); after close() the ring is inert', { skip }, () => {
  const r = Ring.open({ entries: 8, files: 16, allocFiles: 8 });
  assert.ok(r instanceof Ring);
  prepSocket(r, 2, 12, SQE_IO_LINK, 1);
  prepClose(r, 12, 0, 2);
  assert.equal(r.queued, 2);
  assert.equal(r.enter(2), 2);
  const seen: [number, number][] = [];
  assert.equal(r.reap((d, res) => seen.push([d, res])), 2);
  assert.deepEqual(seen, [[1, 0], [2, 0]]);
  r.close();
  // Late work after close is dropped, not written to unmapped memory.
  prepSocket(r, 2, 12, 0, 3);
  assert.equal(r.enter(0), -9);
  assert.equal(r.reap(() => assert.fail('no completions after close')), 0);
});

test('a ring: one enter() runs at most 20 deferred completions and flags the rest (workPending); entering again runs them', { skip }, async () => {
  const r = Ring.open({ entries: 128, files: 16, allocFiles: 8 });
  assert.ok(r instanceof Ring);
  const ts = mapAnonymous(4096)!;
  new DataView(ts.buf).setBigInt64(8, 1_000_000n, true); // 1 ms
  // Timeouts complete from a timer, through the ring's deferred task work (DEFER_TASKRUN).
  for (let i = 0; i < 64; i++) prepTimeout(r, ts.address, 100 + i);
  assert.equal(r.enter(0), 64);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(r.workPending, true, 'completions wait to be run');
  let seen = 0;
  r.enter(0);
  seen += r.reap(() => undefined);
  assert.ok(seen < 64, `one enter() ran ${seen} of 64`);
  assert.equal(r.workPending, true, 'the rest is flagged');
  for (let i = 0; i < 10 && r.workPending; i++) {
    r.enter(0);
    seen += r.reap(() => undefined);
  }
  assert.equal(seen, 64);
  assert.equal(r.workPending, false);
  r.close();
});

test('[uring] the plane runs the uring engine where it can, and names why not elsewhere', () => {
  const p = new ProxyPlane({ tcpEngine: 'uring' });
  if (uringReason === null) assert.equal(p.tcpEngine, 'uring');
  else {
    assert.equal(p.tcpEngine, 'handles');
    assert.match(p.engineFallback ?? '', /io_uring|pipe_wrap|koffi|mmap/);
  }
  return p.stop(0);
});

test('[uring] IPv6: VIP ::1 to a real server on ::1', { skip }, async (t) => {
  const h = new Harness('uring');
  t.after(() => h.close());
  const server = net.createServer((s) => greetAndEcho(s, 'six'));
  t.after(() => server.close());
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => resolve(true));
  });
  if (!ok) {
    t.skip('no ::1 on this host');
    return;
  }
  const rport = (server.address() as net.AddressInfo).port;
  const vport = await h.freePort();
  const d = new Director({ seed: 1 });
  const key = { kind: 'addr', protocol: 'tcp', vip: addr('::1'), port: vport } as const;
  assert.ok(d.addService(key, { ...serviceOptions('rr'), netmask: 128 }).ok);
  assert.ok(d.addDest(key, { addr: addr('::1'), port: rport, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0 }).ok);
  const plane = h.plane();
  await plane.sync(d);
  const c = net.connect({ host: '::1', port: vport });
  let localPort = 0;
  const got = await within(new Promise<string>((resolve, reject) => {
    let text = '';
    c.on('data', (b) => {
      text += b.toString();
      if (text.includes('ping')) c.end();
    });
    c.on('end', () => resolve(text));
    c.on('error', reject);
    c.once('connect', () => {
      localPort = c.localPort!;
      c.write('ping');
    });
  }), 3000, 'IPv6 greeting and echo');
  assert.match(got, /six/);
  assert.match(got, /ping/);
  const e = [...d.conns.values()].find((x) => x.vport === vport)!;
  assert.equal(e.caddr.text, '::1');
  assert.equal(e.cport, localPort);
});

test('[uring] a ring with 4 receive buffers: 8 connections both ways still get every byte, in order', { skip }, async (t) => {
  const h = new Harness('uring');
  t.after(() => h.close());
  const srv = await h.backend('E', (s) => { s.pipe(s); });
  // Fewer buffers than directions with data in flight: recvs find the stock empty (ENOBUFS) and wait.
  const { vport, plane } = await rrService(h, srv.port, { uringBuffers: 4, uringBufferSize: 4096 });
  const SIZE = 300_000;
  const one = async (i: number) => {
    const c = await h.connect(vport);
    const payload = Buffer.alloc(SIZE);
    for (let k = 0; k < SIZE; k++) payload[k] = (k * 13 + i) % 253;
    const chunks: Buffer[] = [];
    const done = new Promise<Buffer>((resolve, reject) => {
      c.on('data', (x: Buffer) => chunks.push(x));
      c.on('end', () => resolve(Buffer.concat(chunks)));
      c.on('error', reject);
    });
    c.end(payload);
    const back = await done;
    return back.equals(payload);
  };
  const results = await within(Promise.all(Array.from({ length: 8 }, (_, i) => one(i))), 20_000, 'transfers');
  assert.deepEqual(results, new Array(8).fill(true));
  assert.equal(plane.stats().openConnections, 0);
});

test('[uring] after stop(), closing a dest or syncing again is harmless', { skip }, async (t) => {
  const h = new Harness('uring');
  t.after(() => h.close());
  const srv = await h.backend('A');
  const { vport, plane, dest, d } = await rrService(h, srv.port);
  assert.equal(await h.greetOnce(vport), 'A');
  await plane.stop(0);
  plane.closeDest(dest);
  plane.sweep();
  await plane.sync(d);
  assert.equal(plane.stats().openConnections, 0);
});

test('[uring] 5000 short connections from another process: every one is answered (a batch runs all deferred work, not 20 per call)', { skip }, async (t) => {
  const h = new Harness('uring');
  t.after(() => h.close());
  const rport = await h.freePort();
  const { vport, plane } = await rrService(h, rport);
  // Real server and clients in their own process, as a load generator and backends would be: the
  // plane's completions then arrive while it runs, more pile up than one io_uring_enter() runs (20),
  // and a batch that stopped before running them all would leave every client waiting.
  const child = `
    const net = require('node:net');
    const srv = net.createServer((s) => { s.on('error', () => {}); s.once('data', () => s.end('answer')); });
    srv.listen(${rport}, '127.0.0.1', () => {
      let answered = 0, started = 0;
      const one = () => new Promise((resolve) => {
        const c = net.connect({ port: ${vport}, host: '127.0.0.1' });
        let text = '';
        c.on('data', (b) => { text += b; });
        c.on('error', () => {});
        c.on('close', () => { if (text === 'answer') answered++; resolve(); });
        c.write('ask');
      });
      Promise.all(Array.from({ length: 64 }, async () => { while (started < 5000) { started++; await one(); } }))
        .then(() => { process.stdout.write(String(answered)); srv.close(); });
    });
  `;
  const p = spawn(process.execPath, ['-e', child], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => p.kill('SIGKILL'));
  let out = '';
  p.stdout.on('data', (b) => { out += b; });
  const code = await within(new Promise<number | null>((resolve) => p.on('close', resolve)), 30_000, 'all connections answered');
  assert.equal(code, 0);
  assert.equal(out, '5000');
  await until(() => plane.stats().openConnections === 0, 2000, 'sessions released');
});

test('[uring] an idle plane leaves the event loop alone: a process with one (never used) exits by itself', { skip }, async (t) => {
  // Regression: the engine's start-up probe runs a linked chain, which can leave IORING_SQ_TASKRUN
  // set with nothing to run; a batch that trusted the flag re-ran itself forever. The timer keeps the
  // loop alive long enough for the eventfd to be read.
  const plane = new URL('../../src/dataplane/proxy/plane.ts', import.meta.url).href;
  const p = spawn(process.execPath, ['--input-type=module', '-e',
    `import { ProxyPlane } from ${JSON.stringify(plane)}; const p = new ProxyPlane({ tcpEngine: 'uring' }); process.stdout.write(p.tcpEngine); setTimeout(() => {}, 200);`],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => p.kill('SIGKILL'));
  let out = '';
  p.stdout.on('data', (b) => { out += b; });
  const code = await within(new Promise<number | null>((resolve) => p.on('close', resolve)), 10_000, 'the process to exit');
  assert.equal(code, 0);
  assert.equal(out, 'uring');
});

test('[uring] a connection idle after an exchange holds no buffer: 4 buffers, 20 such connections, and more still get through', { skip }, async (t) => {
  const h = new Harness('uring');
  t.after(() => h.close());
  const srv = await h.backend('E', (s) => { s.on('data', (x) => s.write(x)); });
  const { vport, plane } = await rrService(h, srv.port, { uringBuffers: 4, uringBufferSize: 4096 });
  const exchange = async (c: net.Socket, text: string) => {
    const back = new Promise<string>((resolve) => c.once('data', (b) => resolve(b.toString())));
    c.write(text);
    return within(back, 3000, `echo of ${text}`);
  };
  const idle: net.Socket[] = [];
  for (let i = 0; i < 20; i++) {
    const c = await h.connect(vport);
    assert.equal(await exchange(c, `hello ${i}`), `hello ${i}`);
    idle.push(c);
  }
  const late = await h.connect(vport);
  assert.equal(await exchange(late, 'still served'), 'still served');
  for (const c of idle) assert.equal(await exchange(c, 'again'), 'again');
});
