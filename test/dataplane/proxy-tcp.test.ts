// The proxy plane with the real Director over real TCP sockets on 127.0.0.1: every new connection is
// the director's decision (schedulers, persistence, thresholds, quiesce), and the connection table is
// fed from socket events as the kernel's would be from packets (ip_vs_proto_tcp.c state table).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { Worker } from 'node:worker_threads';
import { Director } from '../../src/core/director.ts';
import type { Conn, ConnDirection } from '../../src/core/conn/conn.ts';
import type { TcpFlags } from '../../src/core/conn/protocol.ts';
import { connStateName } from '../../src/core/conn/protocol.ts';
import { SVC_F } from '../../src/core/service.ts';
import { addr } from '../../src/core/addr.ts';
import {
  Harness, addBackendDest, closeClient, greetAndEcho, outcome, readAll, readLine, serviceOptions, tcpKey, until, within,
  LOOPBACK, tcpEngines,
} from './proxy-harness.ts';

/** Entries of the table for one service port, clients only (no templates). */
function conns(d: Director, vport: number): Conn[] {
  return [...d.conns.values()].filter((c) => c.vport === vport && c.protocol === 'tcp');
}

function connFor(d: Director, vport: number, client: net.Socket): Conn | undefined {
  return conns(d, vport).find((c) => c.cport === client.localPort);
}

const ENGINES = await tcpEngines();

for (const engine of ENGINES) {
  test(`[${engine}] rr: each new connection is the next dest in list order (ip_vs_rr.c)`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const b = [await h.backend('b0'), await h.backend('b1'), await h.backend('b2')];
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    for (const x of b) addBackendDest(d, tcpKey(vport), x.port);
    const plane = h.plane();
    assert.equal(plane.tcpEngine, engine);
    await plane.sync(d);
    // Dests are list_add'ed after the head, so the list is b2 b1 b0 and rr walks it from the head.
    const seen: string[] = [];
    for (let i = 0; i < 7; i++) seen.push(await h.greetOnce(vport));
    assert.deepEqual(seen, ['b2', 'b1', 'b0', 'b2', 'b1', 'b0', 'b2']);
    assert.equal(d.services()[0].stats.counters.conns, 7);
  });

  test(`[${engine}] wrr: the kernel pattern for weights 4,3,2 (ip_vs_wrr.c)`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    // Added C(2), B(3), A(4): list A B C. wrr built one add at a time runs its first round at cw=1
    // (A B C), then the normal rounds cw=4..1: A, A B, A B C, A B C (as in the core's wrr tests).
    const c = await h.backend('C');
    const bb = await h.backend('B');
    const a = await h.backend('A');
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('wrr')).ok);
    addBackendDest(d, tcpKey(vport), c.port, 2);
    addBackendDest(d, tcpKey(vport), bb.port, 3);
    addBackendDest(d, tcpKey(vport), a.port, 4);
    const plane = h.plane();
    await plane.sync(d);
    const seen: string[] = [];
    for (let i = 0; i < 12; i++) seen.push(await h.greetOnce(vport));
    assert.equal(seen.join(' '), 'A B C A A B A B C A B C');
  });

  test(`[${engine}] sh: a client address always gets the same dest; the choice is the director\'s`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const b = [await h.backend('b0'), await h.backend('b1'), await h.backend('b2')];
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('sh')).ok);
    for (const x of b) addBackendDest(d, tcpKey(vport), x.port);
    const plane = h.plane();
    await plane.sync(d);
    const svc = d.services()[0];
    const byPort = new Map(b.map((x) => [`127.0.0.1:${x.port}`, x.id]));
    for (const client of ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4']) {
      const want = d.explain(svc, { protocol: 'tcp', caddr: addr(client), cport: 1, vaddr: LOOPBACK, vport }, h.now).dest;
      const got = new Set<string>();
      for (let i = 0; i < 4; i++) got.add(await h.greetOnce(vport, client));
      assert.deepEqual([...got], [byPort.get(want!)], `client ${client}`);
    }
  });

  test(`[${engine}] lc: held-open connections are ActiveConn, closed ones TIME_WAIT/InActConn (overhead 256:1)`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const b = [await h.backend('b0'), await h.backend('b1'), await h.backend('b2')];
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('lc')).ok);
    const dests = b.map((x) => addBackendDest(d, tcpKey(vport), x.port));
    const plane = h.plane();
    await plane.sync(d);
    // Three held connections spread over the three dests (each new one goes to an idle dest).
    const held = [await h.greet(vport), await h.greet(vport), await h.greet(vport)];
    assert.deepEqual(new Set(held.map((x) => x.id)).size, 3);
    await until(() => dests.every((x) => x.activeConns === 1 && x.inactConns === 0), 2000, 'three active conns');
    for (const x of held) assert.equal(connStateName(connFor(d, vport, x.socket)!), 'ESTABLISHED');
    // Close the one on b1: its entry goes to TIME_WAIT, counted inactive (overhead 1 instead of 256).
    const onB1 = held.find((x) => x.id === 'b1')!;
    const entry = connFor(d, vport, onB1.socket)!;
    await closeClient(onB1.socket);
    await until(() => connStateName(entry) === 'TIME_WAIT', 2000, 'TIME_WAIT');
    const b1 = dests[1];
    assert.equal(b1.activeConns, 0);
    assert.equal(b1.inactConns, 1);
    // ip_vs_lc.c: overhead (active << 8) + inactive is b0=256, b1=1, b2=256 -> b1.
    assert.equal(await h.greetOnce(vport), 'b1');
  });

  test(`[${engine}] wlc with an upper threshold: a full dest takes nothing new until entries expire (ip_vs_conn.c bind/unbind)`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const big = await h.backend('big');
    const small = await h.backend('small');
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('fo')).ok);
    // fo picks the highest weight that is not OVERLOAD: "big" until it holds 2 conns.
    const bigDest = addBackendDest(d, tcpKey(vport), big.port, 100, { uThreshold: 2 });
    addBackendDest(d, tcpKey(vport), small.port, 1);
    const plane = h.plane();
    await plane.sync(d);
    const c1 = await h.greet(vport);
    const c2 = await h.greet(vport);
    assert.deepEqual([c1.id, c2.id], ['big', 'big']);
    assert.ok(bigDest.overloaded);
    assert.equal(await h.greetOnce(vport), 'small');
    // Closing one leaves its entry in TIME_WAIT, still bound: total conns 2, still OVERLOAD.
    await closeClient(c1.socket);
    await until(() => bigDest.activeConns === 1, 2000, 'one active');
    assert.ok(bigDest.overloaded);
    assert.equal(await h.greetOnce(vport), 'small');
    // TIME_WAIT is 120 s: once it expires, total 1 < 3/4 of 2 clears OVERLOAD (no lower threshold).
    h.now += 121_000;
    plane.sweep();
    assert.equal(bigDest.inactConns, 0);
    assert.ok(!bigDest.overloaded);
    assert.equal(await h.greetOnce(vport), 'big');
    await closeClient(c2.socket);
  });

  test(`[${engine}] persistence (PPC): a client sticks to its dest while rr would rotate (ip_vs_sched_persist)`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const b = [await h.backend('b0'), await h.backend('b1'), await h.backend('b2')];
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr', { flags: SVC_F.PERSISTENT, timeout: 300 })).ok);
    for (const x of b) addBackendDest(d, tcpKey(vport), x.port);
    const plane = h.plane();
    await plane.sync(d);
    const first = [await h.greetOnce(vport, '127.0.0.1'), await h.greetOnce(vport, '127.0.0.1'), await h.greetOnce(vport, '127.0.0.1')];
    assert.deepEqual(first, ['b2', 'b2', 'b2']);
    // A second client gets its own template: the next rr pick.
    assert.equal(await h.greetOnce(vport, '127.0.0.2'), 'b1');
    assert.equal(await h.greetOnce(vport, '127.0.0.1'), 'b2');
    // After the persistence timeout (and its conns' TIME_WAIT) the template is gone: rr moves on.
    h.now += 301_000;
    plane.sweep();
    h.now += 121_000;
    plane.sweep();
    assert.equal(await h.greetOnce(vport, '127.0.0.1'), 'b0');
  });

  test(`[${engine}] quiesce (weight 0) under load: new connections go elsewhere, none of the open ones is lost`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const a = await h.backend('A');
    const b = await h.backend('B');
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    addBackendDest(d, tcpKey(vport), a.port);
    addBackendDest(d, tcpKey(vport), b.port);
    const plane = h.plane();
    await plane.sync(d);
    const open = [];
    for (let i = 0; i < 8; i++) open.push(await h.greet(vport));
    const onA = open.filter((x) => x.id === 'A');
    assert.equal(onA.length, 4);
    // Traffic keeps flowing on every open connection while A is quiesced.
    const rounds = 20;
    const pump = open.map(async ({ socket }, i) => {
      socket.resume();
      let got = '';
      socket.on('data', (x: Buffer) => { got += x.toString('latin1'); });
      for (let r = 0; r < rounds; r++) {
        const msg = `c${i}r${r};`;
        socket.write(msg);
        await until(() => got.endsWith(msg), 3000, `echo ${msg}`);
      }
      return got;
    });
    const r = d.editDest(tcpKey(vport), { addr: LOOPBACK, port: a.port, fwd: 'masq', weight: 0, uThreshold: 0, lThreshold: 0 });
    assert.ok(r.ok);
    await plane.sync(d);
    const after: string[] = [];
    for (let i = 0; i < 4; i++) after.push(await h.greetOnce(vport));
    assert.deepEqual(after, ['B', 'B', 'B', 'B']);
    const echoed = await within(Promise.all(pump), 10_000, 'pump');
    for (let i = 0; i < echoed.length; i++) assert.equal(echoed[i].split(';').length - 1, rounds, `connection ${i}`);
    await Promise.all(open.map((x) => closeClient(x.socket)));
    assert.deepEqual(plane.stats().drops, {});
  });

  test(`[${engine}] deleting a dest: open connections finish, new ones go elsewhere; closeDest() resets them`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const a = await h.backend('A');
    const b = await h.backend('B');
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    const destA = addBackendDest(d, tcpKey(vport), a.port);
    addBackendDest(d, tcpKey(vport), b.port);
    const plane = h.plane();
    await plane.sync(d);
    const c1 = await h.greet(vport);
    const c2 = await h.greet(vport);
    const onA = [c1, c2].find((x) => x.id === 'A')!;
    assert.ok(d.deleteDest(tcpKey(vport), LOOPBACK, a.port, h.now).ok);
    await plane.sync(d);
    assert.equal(await h.greetOnce(vport), 'B');
    onA.socket.write('still here\n');
    assert.equal(await within(readLine(onA.socket.resume() as net.Socket), 2000, 'echo'), 'still here');
    const ended = outcome(onA.socket);
    plane.closeDest(destA);
    assert.equal(await ended, 'reset');
    assert.equal(plane.stats().drops['dest-closed'], 1);
  });

  test(`[${engine}] the TCP state walk: handshake, either side closing first, resets (ip_vs_proto_tcp.c tcp_states)`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    class Recording extends Director {
      readonly log: string[] = [];
      override stateEvent(c: Conn, dir: ConnDirection, flags: TcpFlags, now: number): void {
        super.stateEvent(c, dir, flags, now);
        const f = ['syn', 'fin', 'rst', 'ack'].filter((k) => flags[k as keyof TcpFlags]).join('|');
        this.log.push(`${dir} ${f} ${connStateName(c)}`);
      }
    }
    // A backend that closes first when asked ("bye"), otherwise echoes and follows the client.
    const srv = await h.backend('S', (s) => {
      s.on('data', (x) => { if (x.toString() === 'bye') s.end('ok'); else s.write(x); });
      s.on('end', () => s.end());
    });
    const vport = await h.freePort();
    const d = new Recording({ seed: 1 });
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    addBackendDest(d, tcpKey(vport), srv.port);
    const plane = h.plane();
    await plane.sync(d);
    const handshake = ['input syn SYN_RECV', 'output syn|ack SYN_RECV', 'input ack ESTABLISHED'];

    await t.test('client closes first: CLOSE_WAIT, then TIME_WAIT', async () => {
      d.log.length = 0;
      const c = await h.connect(vport);
      await until(() => d.log.length >= 3, 2000, 'handshake');
      const e = connFor(d, vport, c)!;
      assert.equal(e.dest!.activeConns, 1);
      await closeClient(c);
      await until(() => d.log.length >= 6, 2000, 'close');
      assert.deepEqual(d.log, [...handshake, 'input fin|ack CLOSE_WAIT', 'output fin|ack TIME_WAIT', 'input ack TIME_WAIT']);
      assert.equal(e.dest!.activeConns, 0);
      assert.equal(e.dest!.inactConns, 1);
      assert.equal(e.timeout, 120_000);
    });

    await t.test('server closes first: FIN_WAIT, then TIME_WAIT', async () => {
      d.log.length = 0;
      const c = await h.connect(vport);
      const all = readAll(c);
      c.write('bye');
      assert.equal(await within(all, 2000, 'server close'), 'ok');
      await closeClient(c);
      await until(() => d.log.length >= 6, 2000, 'close');
      assert.deepEqual(d.log, [...handshake, 'output fin|ack FIN_WAIT', 'input fin|ack TIME_WAIT', 'output ack TIME_WAIT']);
    });

    await t.test('client reset: CLOSE, and the real server is reset too', async () => {
      d.log.length = 0;
      const before = srv.accepted;
      const c = await h.connect(vport);
      await until(() => d.log.length >= 3 && srv.open.size > 0 && srv.accepted > before, 2000, 'established');
      const rsSide = [...srv.open].at(-1)!;
      const rsEnded = outcome(rsSide);
      c.resetAndDestroy();
      assert.equal(await rsEnded, 'reset');
      assert.deepEqual(d.log, [...handshake, 'input rst CLOSE']);
      assert.equal(plane.stats().drops['client-reset'], 1);
    });
  });

  test(`[${engine}] a real server that refuses: the client is reset, the drop is counted, the entry is CLOSE`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const deadPort = await h.freePort();
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    addBackendDest(d, tcpKey(vport), deadPort);
    const plane = h.plane();
    await plane.sync(d);
    // The reset may come before the client has seen its connect complete (the uring engine is that quick).
    const c = h.rawConnect(vport);
    assert.equal(await outcome(c), 'reset');
    assert.equal(plane.stats().drops['rs-refused'], 1);
    const e = conns(d, vport)[0];
    assert.equal(connStateName(e), 'CLOSE');
    assert.equal(e.dest!.inactConns, 1);
    // The listener and the daemon carry on.
    const good = await h.backend('good');
    addBackendDest(d, tcpKey(vport), good.port);
    d.editDest(tcpKey(vport), { addr: LOOPBACK, port: deadPort, fwd: 'masq', weight: 0, uThreshold: 0, lThreshold: 0 });
    assert.equal(await h.greetOnce(vport), 'good');
  });

  test(`[${engine}] a real server that never answers: after the connect timeout the client is reset (rs-timeout)`, async (t) => {
    const h = new Harness(engine);
    // A listener whose thread is blocked accepts nothing, so once its backlog is full the kernel
    // drops further SYNs and a connect to it hangs (tcp_conn_request: accept queue full).
    const gate = new SharedArrayBuffer(4);
    const w = new Worker(`
      const { workerData, parentPort } = require('node:worker_threads');
      const s = require('node:net').createServer();
      s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
        parentPort.postMessage(s.address().port);
        Atomics.wait(new Int32Array(workerData), 0, 0, 20000);
      });`, { eval: true, workerData: gate });
    t.after(async () => {
      Atomics.store(new Int32Array(gate), 0, 1);
      Atomics.notify(new Int32Array(gate), 0);
      await h.close();
      await w.terminate();
    });
    const stuckPort = await within(new Promise<number>((r) => w.once('message', r)), 3000, 'worker listen');
    // Fill the accept queue (backlog 1 holds two) directly.
    await h.connect(stuckPort);
    await h.connect(stuckPort);
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    addBackendDest(d, tcpKey(vport), stuckPort);
    const plane = h.plane({ connectTimeoutMs: 5000 });
    await plane.sync(d);
    const c = await h.connect(vport);
    const ended = outcome(c);
    await until(() => plane.stats().openConnections === 1, 2000, 'session');
    h.now += 4000;
    plane.sweep();
    assert.equal(plane.stats().openConnections, 1, 'still connecting before the timeout');
    h.now += 1000;
    plane.sweep();
    assert.equal(await ended, 'reset');
    assert.deepEqual(plane.stats().drops, { 'rs-timeout': 1 });
    const e = conns(d, vport)[0];
    assert.equal(connStateName(e), 'CLOSE');
  });

  test(`[${engine}] no dest available: the client is reset and the drop counted`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('wlc')).ok);
    const plane = h.plane();
    await plane.sync(d);
    // The reset may even beat the client's own 'connect' event.
    const c = h.rawConnect(vport);
    assert.equal(await outcome(c), 'reset');
    assert.equal(plane.stats().drops['no-dest'], 1);
    assert.equal(d.drops['no-dest'], 1);
  });

  test(`[${engine}] half-close is passed through both ways`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    // The backend answers only after the client's FIN (it needs the whole request), and the client
    // keeps reading after its own FIN.
    const counter = await h.backend('count', (s) => {
      let n = 0;
      s.on('data', (x) => { n += x.length; });
      s.on('end', () => s.end(`got ${n}`));
    }, { allowHalfOpen: true });
    // The backend closes its side first and still reads what the client sends afterwards.
    let lateBytes = '';
    const early = await h.backend('early', (s) => {
      s.end('greeting');
      s.on('data', (x) => { lateBytes += x.toString(); });
    }, { allowHalfOpen: true });
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    const counterDest = addBackendDest(d, tcpKey(vport), counter.port);
    const plane = h.plane();
    await plane.sync(d);
    const c = await h.connect(vport);
    const entry = connFor(d, vport, c);
    const reply = readAll(c);
    c.end('x'.repeat(100_000));
    assert.equal(await within(reply, 3000, 'reply after FIN'), 'got 100000');
    assert.equal(entry?.inBytes, 100_000);

    d.editDest(tcpKey(vport), { addr: LOOPBACK, port: counter.port, fwd: 'masq', weight: 0, uThreshold: 0, lThreshold: 0 });
    void counterDest;
    addBackendDest(d, tcpKey(vport), early.port);
    const c2 = await h.connect(vport, undefined, { allowHalfOpen: true });
    const c2Closed = new Promise<void>((r) => c2.once('close', () => r()));
    const greeting = readAll(c2);
    assert.equal(await within(greeting, 3000, 'greeting'), 'greeting');
    c2.end('after your FIN');
    await within(c2Closed, 3000, 'c2 close');
    await until(() => lateBytes === 'after your FIN', 2000, 'late bytes');
  });

  test(`[${engine}] byte counters are exact both ways (in = client to real server, out = back)`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const srv = await h.backend('S', (s) => {
      s.on('data', (x) => { s.write(x); s.write(x); });
      s.on('end', () => s.end());
    });
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    const dest = addBackendDest(d, tcpKey(vport), srv.port);
    const plane = h.plane();
    await plane.sync(d);
    const c = await h.connect(vport);
    const all = readAll(c);
    const payload = Buffer.alloc(3_000_000, 7);
    c.end(payload);
    assert.equal((await within(all, 10_000, 'doubled echo')).length, 6_000_000);
    assert.equal(dest.stats.counters.inbytes, 3_000_000);
    assert.equal(dest.stats.counters.outbytes, 6_000_000);
    assert.equal(d.services()[0].stats.counters.outbytes, 6_000_000);
    // Each read chunk is one packet, plus the control packets; at most the buffer size per chunk
    // (the uring engine's receive buffers are 64 KiB, the others' 16 KiB).
    assert.ok(dest.stats.counters.inpkts >= 3_000_000 / (engine === 'uring' ? 65536 : 16384));
  });

  test(`[${engine}] every byte arrives in order under backpressure: 16 connections, both ways, slow readers`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    // An echo backend with backpressure of its own (pipe), so both directions queue.
    const srv = await h.backend('E', (s) => { s.pipe(s); });
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    const dest = addBackendDest(d, tcpKey(vport), srv.port);
    const plane = h.plane();
    await plane.sync(d);
    const SIZE = 1_000_000;
    const pattern = (i: number, k: number) => (k * 31 + i * 7) % 251;
    const one = async (i: number) => {
      const c = await h.connect(vport);
      const payload = Buffer.alloc(SIZE);
      for (let k = 0; k < SIZE; k++) payload[k] = pattern(i, k);
      let got = 0;
      let bad = -1;
      let sinceStop = 0;
      const done = new Promise<void>((resolve, reject) => {
        c.on('data', (x: Buffer) => {
          for (let k = 0; k < x.length; k++) if (bad < 0 && x[k] !== pattern(i, got + k)) bad = got + k;
          got += x.length;
          sinceStop += x.length;
          // A slow reader: stop now and then, so the proxy's writes toward the client queue up.
          if (sinceStop >= 65536) {
            sinceStop = 0;
            c.pause();
            setTimeout(() => c.resume(), 3);
          }
        });
        c.on('end', () => resolve());
        c.on('error', reject);
      });
      // Written in uneven pieces.
      for (let off = 0; off < SIZE;) {
        const n = Math.min(SIZE - off, 1000 + ((off / 7) % 50_000));
        if (!c.write(payload.subarray(off, off + n))) await new Promise((r) => c.once('drain', r));
        off += n;
      }
      c.end();
      await done;
      return { got, bad };
    };
    const results = await within(Promise.all(Array.from({ length: 16 }, (_, i) => one(i))), 30_000, 'transfers');
    for (const [i, r] of results.entries()) assert.deepEqual(r, { got: SIZE, bad: -1 }, `connection ${i}`);
    await until(() => plane.stats().openConnections === 0, 3000, 'sessions closed');
    assert.deepEqual(plane.stats().drops, {});
    assert.equal(dest.stats.counters.inbytes, 16 * SIZE);
    assert.equal(dest.stats.counters.outbytes, 16 * SIZE);
  });

  test(`[${engine}] idle connections are closed when their entry times out; --set tcp changes it`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const srv = await h.backend('S');
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    addBackendDest(d, tcpKey(vport), srv.port);
    const plane = h.plane();
    await plane.sync(d);
    const { socket } = await h.greet(vport);
    const e = connFor(d, vport, socket)!;
    assert.equal(e.timeout, 900_000);
    h.now += 899_000;
    plane.sweep();
    assert.equal(plane.stats().openConnections, 1);
    // Traffic re-arms the entry.
    socket.write('ping\n');
    assert.equal(await within(readLine(socket.resume() as net.Socket), 2000, 'echo'), 'ping');
    h.now += 899_000;
    plane.sweep();
    assert.equal(plane.stats().openConnections, 1);
    // ipvsadm --set 10 0 0: the next segment re-reads the ESTABLISHED timeout (set_tcp_state).
    assert.ok(d.timeouts.setTimeouts({ tcp: 10, tcpfin: 0, udp: 0 }).ok);
    socket.write('pong\n');
    assert.equal(await within(readLine(socket.resume() as net.Socket), 2000, 'echo'), 'pong');
    assert.equal(e.timeout, 10_000);
    const ended = outcome(socket);
    h.now += 11_000;
    plane.sweep();
    assert.equal(await ended, 'reset');
    assert.equal(plane.stats().drops['idle-timeout'], 1);
  });

  test(`[${engine}] PROXY protocol v1 and v2: the real server learns the client address`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    // A tiny receiver written from proxy-protocol.txt, independent of the plane's codec.
    const parsed: string[] = [];
    const srv = await h.backend('pp', (s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (x: Buffer) => {
        buf = Buffer.concat([buf, x]);
        // Wait for the header and the 5-byte payload behind it.
        if (buf[0] === 0x50) {
          const i = buf.indexOf('\r\n');
          if (i < 0 || buf.length < i + 2 + 5) return;
          const f = buf.subarray(0, i).toString('latin1').split(' ');
          parsed.push(`v1 ${f[1]} ${f[2]}:${f[4]} -> ${f[3]}:${f[5]} then ${buf.subarray(i + 2).toString()}`);
        } else {
          if (buf.length < 28 + 5) return;
          assert.equal(buf.subarray(0, 12).toString('hex'), '0d0a0d0a000d0a515549540a');
          const src = `${buf[16]}.${buf[17]}.${buf[18]}.${buf[19]}:${buf.readUInt16BE(24)}`;
          const dst = `${buf[20]}.${buf[21]}.${buf[22]}.${buf[23]}:${buf.readUInt16BE(26)}`;
          parsed.push(`v2 ${buf[12].toString(16)} ${buf[13].toString(16)} len ${buf.readUInt16BE(14)} ${src} -> ${dst} then ${buf.subarray(16 + buf.readUInt16BE(14)).toString()}`);
        }
        s.end('done');
      });
    });
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    addBackendDest(d, tcpKey(vport), srv.port);
    const plane = h.plane();
    await plane.sync(d);
    const svcId = d.services()[0].id;
    const run = async (version: 'v1' | 'v2', local: string) => {
      assert.ok(plane.setProxyProtocol(svcId, null, version).ok);
      const c = await h.connect(vport, local);
      const port = c.localPort;
      const all = readAll(c);
      c.write('hello');
      assert.equal(await within(all, 2000, 'reply'), 'done');
      await closeClient(c);
      return port;
    };
    const p1 = await run('v1', '127.0.0.5');
    const p2 = await run('v2', '127.0.0.6');
    assert.deepEqual(parsed, [
      `v1 TCP4 127.0.0.5:${p1} -> 127.0.0.1:${vport} then hello`,
      `v2 21 11 len 12 127.0.0.6:${p2} -> 127.0.0.1:${vport} then hello`,
    ]);
    // Off again: the real server sees the payload alone.
    assert.ok(plane.setProxyProtocol(svcId, null, null).ok);
  });

  test(`[${engine}] graceful stop: listeners close at once, open connections finish within the grace, the rest are reset`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const srv = await h.backend('S');
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    addBackendDest(d, tcpKey(vport), srv.port);
    const plane = h.plane();
    await plane.sync(d);
    const finishing = await h.greet(vport);
    const stubborn = await h.greet(vport);
    const stubbornEnd = outcome(stubborn.socket);
    const stopped = plane.stop(400);
    assert.equal(plane.stats().openConnections, 2);
    // No new connections.
    await assert.rejects(h.connect(vport), /ECONNREFUSED/);
    // The finishing one still works and closes cleanly.
    finishing.socket.write('last\n');
    assert.equal(await within(readLine(finishing.socket.resume() as net.Socket), 2000, 'echo'), 'last');
    await closeClient(finishing.socket);
    await within(stopped, 3000, 'stop');
    assert.equal(await stubbornEnd, 'reset');
    assert.deepEqual(plane.stats().drops, { stopped: 1 });
    assert.equal(plane.stats().openConnections, 0);
  });

  test(`[${engine}] checks: forwarding methods and services the plane cannot serve are refused with the way out`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const plane = h.plane();
    const d = h.director();
    assert.ok(d.addService(tcpKey(80), serviceOptions('rr')).ok);
    const svc = d.services()[0];
    const spec = (fwd: 'masq' | 'fullnat' | 'route' | 'tunnel' | 'local') => ({ addr: LOOPBACK, port: 8080, fwd, weight: 1, uThreshold: 0, lThreshold: 0 });
    const rows: { desc: string; check: () => ReturnType<typeof plane.checkDest>; code?: string; text?: RegExp }[] = [
      { desc: 'masquerading runs as a proxy', check: () => plane.checkDest(svc, spec('masq')) },
      { desc: 'fullnat runs as a proxy', check: () => plane.checkDest(svc, spec('fullnat')) },
      { desc: 'DR names -g as ipvsadm\'s default and says to add -m', check: () => plane.checkDest(svc, spec('route')), code: 'UNSUPPORTED_FWD',
        text: /^the proxy data plane cannot forward with direct routing \(-g, ipvsadm's default\); use -m \(masquerading\) or --fullnat, or run keepvs --dataplane nft$/ },
      { desc: 'tunnel', check: () => plane.checkDest(svc, spec('tunnel')), code: 'UNSUPPORTED_FWD', text: /-i.*-m.*--dataplane nft/ },
      { desc: 'LOCALNODE', check: () => plane.checkDest(svc, spec('local')), code: 'UNSUPPORTED_FWD', text: /LOCALNODE.*-m.*--dataplane nft/ },
      { desc: 'fwmark service', check: () => plane.checkService({ kind: 'fwmark', fwmark: 1, family: 4 }, serviceOptions('rr')), code: 'UNSUPPORTED_FWMARK', text: /--dataplane nft/ },
      { desc: 'SCTP service', check: () => plane.checkService({ kind: 'addr', protocol: 'sctp', vip: LOOPBACK, port: 80 }, serviceOptions('rr')), code: 'UNSUPPORTED_PROTOCOL', text: /SCTP/ },
      { desc: 'port-zero service', check: () => plane.checkService({ ...tcpKey(0) }, serviceOptions('rr', { flags: SVC_F.PERSISTENT })), code: 'PLANE_ERROR', text: /port 0/ },
      { desc: 'TCP service', check: () => plane.checkService(tcpKey(80), serviceOptions('rr')) },
      { desc: 'PROXY v1 on UDP', check: () => plane.setProxyProtocol('udp|127.0.0.1|53', null, 'v1'), code: 'PLANE_ERROR', text: /v2/ },
    ];
    for (const r of rows) {
      await t.test(r.desc, () => {
        const c = r.check();
        if (r.code === undefined) { assert.deepEqual(c, { ok: true }); return; }
        assert.equal(c.ok, false);
        if (!c.ok) {
          assert.equal(c.error.code, r.code);
          assert.match(c.error.message, r.text!);
        }
      });
    }
  });

  test(`[${engine}] a service deleted and added back at once gets its listener back; open connections survive`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const srv = await h.backend('S');
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    addBackendDest(d, tcpKey(vport), srv.port);
    const plane = h.plane();
    await plane.sync(d);
    const open = await h.greet(vport);
    assert.ok(d.deleteService(tcpKey(vport), h.now).ok);
    const removed = plane.sync(d);
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    addBackendDest(d, tcpKey(vport), srv.port);
    const readded = plane.sync(d);
    await within(Promise.all([removed, readded]), 3000, 'syncs');
    assert.equal(await h.greetOnce(vport), 'S');
    open.socket.write('still\n');
    assert.equal(await within(readLine(open.socket.resume() as net.Socket), 2000, 'echo'), 'still');
    await closeClient(open.socket);
  });

  test(`[${engine}] a listener that cannot be opened rejects sync() with the address named; others still open`, async (t) => {
    const h = new Harness(engine);
    t.after(() => h.close());
    const taken = await h.backend('taken');
    const vport = await h.freePort();
    const d = h.director();
    assert.ok(d.addService(tcpKey(taken.port), serviceOptions('rr')).ok);
    assert.ok(d.addService(tcpKey(vport), serviceOptions('rr')).ok);
    addBackendDest(d, tcpKey(vport), taken.port);
    const plane = h.plane();
    await assert.rejects(plane.sync(d), (e: Error & { error?: { code: string } }) => {
      assert.equal(e.error?.code, 'BIND_FAILED');
      assert.match(e.message, new RegExp(`cannot listen on TCP 127\\.0\\.0\\.1:${taken.port}: the address is already in use`));
      return true;
    });
    assert.equal(await h.greetOnce(vport), 'taken');
    void greetAndEcho;
  });
}
