// The PROXY protocol end to end over real sockets on 127.0.0.1: keepvsadm's command lines go through
// the control API (a real ApiServer on a Unix socket) to the director, and the proxy plane writes the
// header the model asks for (TCP; UDP straight from the model). The real server parses what it receives by hand from proxy-protocol.txt
// (§2.1 text v1, §2.2 binary v2), not with the plane's codec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '../../src/api/server.ts';
import { ApiClient } from '../../src/api/client.ts';
import type { ApiContext } from '../../src/api/router.ts';
import { Keepvsadm } from '../../src/cli/keepvsadm/main.ts';
import { ServicesDb } from '../../src/config/endpoint.ts';
import { Harness, LOOPBACK, closeClient, readAll, serviceOptions, tcpEngines, udpKey, within } from './proxy-harness.ts';

/** What the real server read before the payload: "v2 <ver/cmd> <fam> len N src -> dst", "v1 ...", or "plain". */
function parseFront(buf: Buffer, payloadLen: number): string | null {
  if (buf.length >= 12 && buf.subarray(0, 12).toString('hex') === '0d0a0d0a000d0a515549540a') {
    if (buf.length < 16) return null;
    const len = buf.readUInt16BE(14);
    if (buf.length < 16 + len + payloadLen) return null;
    // §2.2: IPv4 block = src addr, dst addr, src port, dst port.
    const src = `${buf[16]}.${buf[17]}.${buf[18]}.${buf[19]}:${buf.readUInt16BE(24)}`;
    const dst = `${buf[20]}.${buf[21]}.${buf[22]}.${buf[23]}:${buf.readUInt16BE(26)}`;
    return `v2 ${buf[12].toString(16)} ${buf[13].toString(16)} len ${len} ${src} -> ${dst} then ${buf.subarray(16 + len).toString('latin1')}`;
  }
  if (buf[0] === 0x50) {
    const i = buf.indexOf('\r\n');
    if (i < 0 || buf.length < i + 2 + payloadLen) return null;
    const f = buf.subarray(0, i).toString('latin1').split(' ');
    return `v1 ${f[1]} ${f[2]}:${f[4]} -> ${f[3]}:${f[5]} then ${buf.subarray(i + 2).toString('latin1')}`;
  }
  if (buf.length < payloadLen) return null;
  return `plain ${buf.toString('latin1')}`;
}

for (const engine of await tcpEngines()) {
  test(`[${engine}] keepvsadm -A --proxy-protocol v2 through the API: the real server reads a v2 header with the client's address`, async (t) => {
    const h = new Harness(engine);
    const dir = mkdtempSync(join(tmpdir(), 'keepvs-pp-'));
    let server: ApiServer | null = null;
    t.after(async () => {
      await server?.close(0);
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const seen: string[] = [];
    const rs = await h.backend('rs', (s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (x: Buffer) => {
        buf = Buffer.concat([buf, x]);
        const front = parseFront(buf, 'hello'.length);
        if (front === null) return;
        seen.push(front);
        s.end('done');
      });
    });
    const vport = await h.freePort();
    const director = h.director();
    const plane = h.plane();
    const ctx: ApiContext = {
      director, plane, now: () => h.now,
      info: () => ({ ipvsVersion: '1.2.1', connTableSize: 4096, keepvsVersion: '0.0.0-test', dataplane: 'proxy' }),
      counters: { rejected: new Map(), requests: new Map() },
      dumps: { data: () => '', stats: () => '' },
      startTimeSeconds: 1700000000,
    };
    const socketPath = join(dir, 'keepvs.sock');
    server = new ApiServer(ctx);
    await server.listenUnix(socketPath);

    const keepvsadm = async (...args: string[]): Promise<{ code: number; err: string }> => {
      let err = '';
      const app = new Keepvsadm({ out: () => {}, err: (x) => { err += x; }, readStdin: async () => '' }, {
        api: new ApiClient(socketPath), program: 'keepvsadm',
        resolveHost: async () => null, reverseHost: async () => null, servicesDb: new ServicesDb(''),
      });
      return { code: await within(app.run(args), 5000, `keepvsadm ${args.join(' ')}`), err };
    };
    /** One connection from `local`: write the payload, read the answer; returns the client port. */
    const visit = async (local: string): Promise<number> => {
      const c = await h.connect(vport, local);
      const port = c.localPort!;
      const all = readAll(c);
      c.write('hello');
      assert.equal(await within(all, 3000, 'reply'), 'done');
      await closeClient(c);
      return port;
    };

    const vip = `127.0.0.1:${vport}`;
    const rip = `127.0.0.1:${rs.port}`;
    assert.deepEqual(await keepvsadm('-A', '-t', vip, '-s', 'rr', '--proxy-protocol', 'v2'), { code: 0, err: '' });
    assert.deepEqual(await keepvsadm('-a', '-t', vip, '-r', rip, '-m'), { code: 0, err: '' });
    const p1 = await visit('127.0.0.7');
    // The dest switches it off for itself; the service default stays.
    assert.deepEqual(await keepvsadm('-e', '-t', vip, '-r', rip, '-m', '--proxy-protocol', 'none'), { code: 0, err: '' });
    await visit('127.0.0.8');
    // -E to v1 while the dest still says none: nothing; then -e without the option inherits v1.
    assert.deepEqual(await keepvsadm('-E', '-t', vip, '-s', 'rr', '--proxy-protocol', 'v1'), { code: 0, err: '' });
    await visit('127.0.0.9');
    assert.deepEqual(await keepvsadm('-e', '-t', vip, '-r', rip, '-m'), { code: 0, err: '' });
    const p4 = await visit('127.0.0.10');

    assert.deepEqual(seen, [
      // ver/cmd 0x21 (v2, PROXY), family 0x11 (INET, STREAM), 12 address bytes.
      `v2 21 11 len 12 127.0.0.7:${p1} -> 127.0.0.1:${vport} then hello`,
      'plain hello',
      'plain hello',
      `v1 TCP4 127.0.0.10:${p4} -> 127.0.0.1:${vport} then hello`,
    ]);
    assert.equal(rs.accepted, 4);
  });
}

test('UDP: the model\'s v2 default reaches every datagram; a dest\'s none leaves its datagrams bare', async (t) => {
  const h = new Harness();
  t.after(() => h.close());
  const rs1 = await h.udpBackend('u1');
  const rs2 = await h.udpBackend('u2');
  const vport = await h.freePort();
  const d = h.director();
  const key = udpKey(vport);
  assert.ok(d.addService(key, serviceOptions('rr', { proxyProtocol: 'v2' })).ok);
  assert.ok(d.addDest(key, { addr: LOOPBACK, port: rs1.port, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0 }).ok);
  assert.ok(d.addDest(key, { addr: LOOPBACK, port: rs2.port, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0, proxyProtocol: 'none' }).ok);
  const plane = h.plane();
  await plane.sync(d);
  // rr over two dests: two clients (two flows) reach one real server each.
  const c1 = await h.udpClient();
  const c2 = await h.udpClient();
  await h.udpAsk(c1, vport, 'q1');
  await h.udpAsk(c2, vport, 'q2');
  // rs1 inherits the service's v2, rs2 says none.
  assert.deepEqual([rs1.seen.length, rs2.seen.length], [1, 1]);
  const b = Buffer.from(rs1.seen[0].data, 'latin1');
  assert.equal(b.subarray(0, 12).toString('hex'), '0d0a0d0a000d0a515549540a');
  // v2 PROXY, INET + DGRAM, 12 address bytes (proxy-protocol.txt §2.2), client -> VIP, then the payload.
  assert.deepEqual([b[12], b[13], b.readUInt16BE(14)], [0x21, 0x12, 12]);
  assert.deepEqual([...b.subarray(16, 24)], [127, 0, 0, 1, 127, 0, 0, 1]);
  const [sport, dport, payload] = [b.readUInt16BE(24), b.readUInt16BE(26), b.subarray(28).toString()];
  assert.equal(dport, vport);
  assert.deepEqual([sport, payload], payload === 'q1' ? [c1.address().port, 'q1'] : [c2.address().port, 'q2']);
  assert.match(rs2.seen[0].data, /^q[12]$/);
  assert.notEqual(rs2.seen[0].data, payload);
});
