// fwmark (SO_MARK) and bind_if (SO_BINDTODEVICE) on the checkers Node's net/dgram cannot serve:
// SSL_GET, SMTP_CHECK, UDP_CHECK, DNS_CHECK through src/sys/bound-socket.ts, PING_CHECK's bind_if
// through the pinger — against servers on 127.0.0.1, the socket's mark and device read back with
// `ss -e` while the connection is open. Needs root (SO_MARK needs CAP_NET_ADMIN).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { CheckTarget } from '../../src/check/spec.ts';
import * as smtp from '../../src/check/smtp.ts';
import * as udp from '../../src/check/udp.ts';
import * as dns from '../../src/check/dns.ts';
import * as ping from '../../src/check/ping.ts';
import * as httpCheck from '../../src/check/http.ts';
import { boundTcpConnect, boundUdpExchange } from '../../src/sys/bound-socket.ts';
import { createPinger } from '../../src/sys/ping-socket.ts';

const root = process.getuid?.() === 0;
const target = (port: number, more: Partial<CheckTarget> = {}): CheckTarget => ({ family: 4, address: '127.0.0.1', port, connectTimeoutMs: 1000, ...more });
const MARK = { fwmark: 0x2a, bindIf: 'lo' };

function hasSs(): boolean {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('boundTcpConnect: the connection carries the mark and the device; a missing device is ENODEV', async (t) => {
  if (!root) return t.skip('needs root: SO_MARK needs CAP_NET_ADMIN');
  if (!hasSs()) return t.skip('needs ss (iproute2) to read the mark back');
  const server = net.createServer(() => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const s = boundTcpConnect({ family: 4, address: '127.0.0.1', port, ...MARK });
  await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
  const line = execFileSync('ss', ['-tnHe', 'dst', `127.0.0.1:${port}`], { encoding: 'utf8' });
  s.destroy();
  assert.match(line, /127\.0\.0\.1%lo:\d+/, 'bound to lo');
  assert.match(line, /fwmark:0x2a/, 'marked');
  const bad = boundTcpConnect({ family: 4, address: '127.0.0.1', port, bindIf: 'kpcnosuch0' });
  const e = await new Promise<NodeJS.ErrnoException>((r) => bad.once('error', r));
  assert.equal(e.code, 'ENODEV');
});

test('boundUdpExchange: a reply, a closed port (ICMP unreachable), and replies it is told to skip', async (t) => {
  if (!root) return t.skip('needs root: SO_MARK needs CAP_NET_ADMIN');
  const echo = dgram.createSocket('udp4');
  echo.on('message', (m, r) => {
    if (m.toString() === 'twice') echo.send('noise', r.port, r.address);
    echo.send(m, r.port, r.address);
  });
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
  t.after(() => echo.close());
  const port = echo.address().port;
  const o = { family: 4 as const, address: '127.0.0.1', port, ...MARK };
  const a = await boundUdpExchange(o, new TextEncoder().encode('ping'), 1000);
  assert.equal(a.verdict, 'reply');
  assert.equal(new TextDecoder().decode((a as { data: Uint8Array }).data), 'ping');
  const skip = await boundUdpExchange(o, new TextEncoder().encode('twice'), 1000, undefined, (d) => new TextDecoder().decode(d) === 'twice');
  assert.equal(new TextDecoder().decode((skip as { data: Uint8Array }).data), 'twice');
  const closed = dgram.createSocket('udp4');
  await new Promise<void>((r) => closed.bind(0, '127.0.0.1', r));
  const deadPort = closed.address().port;
  closed.close();
  const refused = await boundUdpExchange({ ...o, port: deadPort }, new TextEncoder().encode('x'), 1000);
  assert.equal(refused.verdict, 'refused');
});

test('checkers with fwmark and bind_if: SMTP_CHECK, UDP_CHECK, DNS_CHECK, SSL_GET, PING_CHECK', async (t) => {
  if (!root) return t.skip('needs root: SO_MARK needs CAP_NET_ADMIN');
  await t.test('SMTP_CHECK', async (t) => {
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.write('220 hi\r\n');
      s.on('data', (d) => s.write(d.toString().startsWith('HELO') ? '250 ok\r\n' : '221 bye\r\n'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const port = (server.address() as AddressInfo).port;
    assert.equal((await smtp.check({ type: 'SMTP_CHECK' }, target(port, MARK))).code, 'L7OK');
    const bad = await smtp.check({ type: 'SMTP_CHECK' }, target(port, { bindIf: 'kpcnosuch0' }));
    assert.equal(bad.code, 'SOCKERR', 'no verdict: keepalived reschedules');
  });
  await t.test('UDP_CHECK', async (t) => {
    const echo = dgram.createSocket('udp4');
    echo.on('message', (m, r) => echo.send(m, r.port, r.address));
    await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
    t.after(() => echo.close());
    const port = echo.address().port;
    assert.equal((await udp.check({ type: 'UDP_CHECK', require_reply: '' }, target(port, MARK))).code, 'L7OK');
    assert.equal((await udp.check({ type: 'UDP_CHECK', require_reply: 'ff' }, target(port, MARK))).code, 'L7RSP');
  });
  await t.test('DNS_CHECK', async (t) => {
    const srv = dgram.createSocket('udp4');
    srv.on('message', (m, r) => {
      const reply = Buffer.from(m);
      reply.writeUInt16BE(0x8180, 2);
      srv.send(reply, r.port, r.address);
    });
    await new Promise<void>((r) => srv.bind(0, '127.0.0.1', r));
    t.after(() => srv.close());
    assert.equal((await dns.check({ type: 'DNS_CHECK' }, target(srv.address().port, MARK))).code, 'L7OK');
  });
  await t.test('SSL_GET', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kpc-ssl-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
        '-days', '1', '-subj', '/CN=keepvs-test'], { stdio: 'ignore', timeout: 20_000 });
    } catch {
      return t.skip('needs the openssl CLI to make a certificate');
    }
    const server = https.createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const port = (server.address() as AddressInfo).port;
    const r = await httpCheck.check({ type: 'SSL_GET', url: [{ path: '/' }] }, target(port, { ...MARK, connectTimeoutMs: 3000 }), undefined, { urlIndex: 0 });
    assert.equal(r.code, 'L7OK', r.message);
  });
  await t.test('PING_CHECK', async () => {
    const pinger = createPinger();
    try {
      assert.equal((await ping.check({ type: 'PING_CHECK' }, target(0, { bindIf: 'lo' }), undefined, pinger)).code, 'L4OK');
      const bad = await ping.check({ type: 'PING_CHECK' }, target(0, { bindIf: 'kpcnosuch0' }), undefined, pinger);
      assert.equal(bad.code, 'SOCKERR');
      assert.match(bad.message, /can't bind to device kpcnosuch0/);
    } finally {
      pinger.close();
    }
  });
});
