// Every checker against real sockets on 127.0.0.1 (servers built in the test), plus MISC scripts
// and FILE values. Bounded: every wait is a connect_timeout of at most a few hundred ms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import dgram from 'node:dgram';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, chmodSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { CheckTarget, HttpGetSpec, UrlSpec } from '../../src/check/spec.ts';
import * as tcp from '../../src/check/tcp.ts';
import * as httpCheck from '../../src/check/http.ts';
import * as misc from '../../src/check/misc.ts';
import * as dns from '../../src/check/dns.ts';
import * as smtp from '../../src/check/smtp.ts';
import * as udp from '../../src/check/udp.ts';
import * as ping from '../../src/check/ping.ts';
import { parseTrackValue, trackStatus, IPVS_WEIGHT_FAULT } from '../../src/check/file.ts';
import { createScriptRunner } from '../../src/sys/exec.ts';
import { createPinger } from '../../src/sys/ping-socket.ts';
import { createTcpConnector } from '../../src/sys/tcp-connect.ts';

const target = (port: number, timeout = 500, address = '127.0.0.1'): CheckTarget => ({ family: 4, address, port, connectTimeoutMs: timeout });

async function listen(server: net.Server | http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function close(server: net.Server | http.Server): Promise<void> {
  (server as http.Server).closeAllConnections?.();
  await new Promise<void>((r) => server.close(() => r()));
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  const p = await listen(s);
  await close(s);
  return p;
}

test('TCP_CHECK: up while the server listens, down (L4CON) once it stops', async () => {
  const server = net.createServer((s) => s.on('error', () => {}));
  const port = await listen(server);
  const r = await tcp.check({ type: 'TCP_CHECK' }, target(port));
  assert.equal(r.code, 'L4OK');
  assert.equal(r.ok, true);
  await close(server);
  const r2 = await tcp.check({ type: 'TCP_CHECK' }, target(port));
  assert.equal(r2.ok, false);
  assert.equal(r2.code, 'L4CON');
});

test('TCP_CHECK through the koffi/epoll connector: up, refused, bindto, bind_if on lo', async (t) => {
  const connector = createTcpConnector();
  if (!connector) { t.skip('koffi/epoll connector unavailable'); return; }
  t.after(() => connector.close());
  const server = net.createServer((s) => s.on('error', () => {}));
  const port = await listen(server);
  let open = true;
  t.after(() => (open ? close(server) : undefined));
  const rows: Array<{ desc: string; target: CheckTarget; code: string }> = [
    { desc: 'listening', target: target(port), code: 'L4OK' },
    { desc: 'bindto 127.0.0.9 (ours: all of 127/8 is loopback)', target: { ...target(port), bindto: '127.0.0.9' }, code: 'L4OK' },
    { desc: 'bindto an address that is not ours', target: { ...target(port), bindto: '192.0.2.1' }, code: 'SOCKERR' },
    { desc: 'bind_if lo', target: { ...target(port), bindIf: 'lo' }, code: process.getuid?.() === 0 ? 'L4OK' : 'SOCKERR' },
    { desc: 'bind_if that does not exist', target: { ...target(port), bindIf: 'nosuchif0' }, code: 'SOCKERR' },
  ];
  for (const row of rows) {
    const r = await tcp.check({ type: 'TCP_CHECK' }, row.target, undefined, connector);
    assert.equal(r.code, row.code, `${row.desc}: ${r.message}`);
  }
  const many = await Promise.all(Array.from({ length: 200 }, () => tcp.check({ type: 'TCP_CHECK' }, target(port, 2000), undefined, connector)));
  assert.equal(many.filter((r) => r.code === 'L4OK').length, 200, 'a batch of 200 connects');
  open = false;
  await close(server);
  const r = await tcp.check({ type: 'TCP_CHECK' }, target(port), undefined, connector);
  assert.equal(r.code, 'L4CON');
});

test('TCP_CHECK: a bindto address that is not ours is a setup error (no verdict)', async () => {
  const server = net.createServer();
  const port = await listen(server);
  try {
    const r = await tcp.check({ type: 'TCP_CHECK' }, { ...target(port), bindto: '192.0.2.1' });
    assert.equal(r.code, 'SOCKERR');
  } finally {
    await close(server);
  }
});

function httpServer(handler: http.RequestListener): http.Server {
  return http.createServer(handler);
}

const get = (url: UrlSpec[], extra: Partial<HttpGetSpec> = {}): HttpGetSpec => ({ type: 'HTTP_GET', url, ...extra });

for (const via of ['net', 'connector'] as const) {
test(`HTTP_GET (${via}): status, ranges, digest, regex, timeout`, async (t) => {
  const connector = via === 'connector' ? createTcpConnector() : null;
  if (via === 'connector' && !connector) { t.skip('koffi/epoll connector unavailable'); return; }
  t.after(() => connector?.close());
  const body = 'hello keepvs\n';
  const md5 = createHash('md5').update(body).digest('hex');
  const big = 'x'.repeat(300_000) + 'tail-marker';
  const bigMd5 = createHash('md5').update(big).digest('hex');
  const server = httpServer((req, res) => {
    if (req.url === '/slow') { setTimeout(() => res.end('late'), 2000).unref(); return; }
    if (req.url === '/big') { res.end(big); return; }
    const code = req.url === '/500' ? 500 : req.url === '/404' ? 404 : 200;
    res.writeHead(code, { 'Content-Type': 'text/plain' });
    res.end(body);
  });
  const port = await listen(server);
  t.after(() => close(server));
  const rows: Array<{ desc: string; url: UrlSpec; code: string }> = [
    { desc: '200 with default 200-299', url: { path: '/' }, code: 'L7OK' },
    { desc: '500 is not in 200-299', url: { path: '/500' }, code: 'L7STS' },
    { desc: '500 accepted by status_code 500-599', url: { path: '/500', status_code: [[500, 599]] }, code: 'L7OK' },
    { desc: '404 accepted by 200-299 400-499', url: { path: '/404', status_code: [[200, 299], [400, 499]] }, code: 'L7OK' },
    { desc: '404 rejected by 200 503', url: { path: '/404', status_code: [[200, 200], [503, 503]] }, code: 'L7STS' },
    { desc: 'right digest', url: { path: '/', digest: md5 }, code: 'L7OK' },
    { desc: 'wrong digest', url: { path: '/', digest: '0'.repeat(32) }, code: 'L7DIGEST' },
    { desc: 'digest over a 300 kB body read in many chunks', url: { path: '/big', digest: bigMd5, regex: 'tail-marker$' }, code: 'L7OK' },
    { desc: 'regex matches', url: { path: '/', regex: 'keep.s' }, code: 'L7OK' },
    { desc: 'regex does not match', url: { path: '/', regex: '^nope' }, code: 'L7REGEX' },
    { desc: 'regex_no_match inverts', url: { path: '/', regex: 'keepvs', regex_no_match: true }, code: 'L7REGEX' },
    { desc: 'regex caseless option', url: { path: '/', regex: 'HELLO', regex_options: ['caseless'] }, code: 'L7OK' },
    { desc: 'slow past connect_timeout', url: { path: '/slow' }, code: 'L7TOUT' },
  ];
  for (const row of rows) {
    const r = await httpCheck.check(get([row.url]), target(port, 300), undefined, { urlIndex: 0, connector });
    assert.equal(r.code, row.code, `${row.desc}: ${r.message}`);
  }
  const refused = await httpCheck.check(get([{ path: '/' }]), target(await freePort()), undefined, { urlIndex: 0, connector });
  assert.equal(refused.code, 'L4CON');
});

test(`HTTP_GET (${via}): the request is keepalived's, byte for byte; the Host fallbacks; a status line without reason is status 0`, async (t) => {
  const connector = via === 'connector' ? createTcpConnector() : null;
  if (via === 'connector' && !connector) { t.skip('koffi/epoll connector unavailable'); return; }
  t.after(() => connector?.close());
  const seen: string[] = [];
  let reply = 'HTTP/1.0 200 OK\r\n\r\nok';
  const server = net.createServer((s) => {
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.endsWith('\r\n\r\n')) { seen.push(buf); s.end(reply); }
    });
    s.on('error', () => {});
  });
  const port = await listen(server);
  t.after(() => close(server));
  await httpCheck.check(get([{ path: '/health?x=1' }]), target(port), undefined, { urlIndex: 0, connector });
  assert.equal(seen[0], `GET /health?x=1 HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  await httpCheck.check(get([{ path: '/' }], { http_protocol: '1.1' }), target(port), undefined, { urlIndex: 0, rsVirtualhost: 'rs.example', vsVirtualhost: 'vs.example', connector });
  assert.equal(seen[1], 'GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: rs.example\r\n\r\n');
  await httpCheck.check(get([{ path: '/', virtualhost: 'url.example' }], { virtualhost: 'chk.example', http_protocol: '1.0C' }), target(port), undefined, { urlIndex: 0, rsVirtualhost: 'rs.example', connector });
  assert.equal(seen[2], 'GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: url.example\r\n\r\n');
  reply = 'HTTP/1.1 200\r\n\r\nok';
  const r = await httpCheck.check(get([{ path: '/' }]), target(port), undefined, { urlIndex: 0, connector });
  assert.equal(r.code, 'L7STS', 'extract_status_code needs a space after the three digits');
  reply = '';
  const empty = await httpCheck.check(get([{ path: '/' }]), target(port), undefined, { urlIndex: 0, connector });
  assert.equal(empty.code, 'L7RSP');
});
}

function selfSigned(dir: string): { key: string; cert: string } | null {
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
      '-days', '1', '-subj', '/CN=keepvs-test'], { stdio: 'ignore', timeout: 20_000 });
    return { key: join(dir, 'k.pem'), cert: join(dir, 'c.pem') };
  } catch {
    return null;
  }
}

test('SSL_GET: self-signed certificate accepted (no verification), SNI only with enable_sni', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keepvs-ssl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pem = selfSigned(dir);
  if (!pem) { t.skip('needs the openssl CLI to make a certificate'); return; }
  const { readFileSync } = await import('node:fs');
  const snis: Array<string | false> = [];
  const server = https.createServer({ key: readFileSync(pem.key), cert: readFileSync(pem.cert) }, (req, res) => {
    snis.push((req.socket as import('node:tls').TLSSocket).servername || false);
    res.writeHead(req.url === '/bad' ? 503 : 200);
    res.end('secure');
  });
  const port = await listen(server);
  t.after(() => close(server));
  const ssl = (url: UrlSpec[], extra: Partial<HttpGetSpec> = {}): HttpGetSpec => ({ type: 'SSL_GET', url, ...extra });
  const r = await httpCheck.check(ssl([{ path: '/', digest: createHash('md5').update('secure').digest('hex') }]), target(port, 2000), undefined, { urlIndex: 0 });
  assert.equal(r.code, 'L7OK', r.message);
  const bad = await httpCheck.check(ssl([{ path: '/bad' }]), target(port, 2000), undefined, { urlIndex: 0 });
  assert.equal(bad.code, 'L7STS');
  await httpCheck.check(ssl([{ path: '/' }], { enable_sni: true, virtualhost: 'www.example' }), target(port, 2000), undefined, { urlIndex: 0 });
  await httpCheck.check(ssl([{ path: '/' }], { sni_name: 'sni.example' }), target(port, 2000), undefined, { urlIndex: 0 });
  assert.deepEqual(snis, [false, false, 'www.example', 'sni.example']);
  const plain = net.createServer((s) => { s.on('error', () => {}); s.resume(); s.end('not tls'); });
  const pport = await listen(plain);
  t.after(() => close(plain));
  const hs = await httpCheck.check(ssl([{ path: '/' }]), target(pport, 1000), undefined, { urlIndex: 0 });
  assert.equal(hs.code, 'L6RSP');
});

test('MISC_CHECK: exit codes, misc_dynamic weights, signals and misc_timeout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keepvs-misc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'check.sh');
  writeFileSync(script, '#!/bin/sh\n[ "$1" = sleep ] && exec sleep 5\n[ "$1" = kill ] && kill -9 $$\nexit "$1"\n');
  chmodSync(script, 0o755);
  const runner = createScriptRunner();
  const rows: Array<{ desc: string; args: string[]; dynamic: boolean; code: string; ok: boolean; weight?: number }> = [
    { desc: 'exit 0', args: ['0'], dynamic: false, code: 'PROCOK', ok: true },
    { desc: 'exit 1', args: ['1'], dynamic: false, code: 'PROCERR', ok: false },
    { desc: 'exit 5 without misc_dynamic fails', args: ['5'], dynamic: false, code: 'PROCERR', ok: false },
    { desc: 'exit 5 with misc_dynamic: weight 3', args: ['5'], dynamic: true, code: 'PROCOK', ok: true, weight: 3 },
    { desc: 'exit 2 with misc_dynamic: weight 0', args: ['2'], dynamic: true, code: 'PROCOK', ok: true, weight: 0 },
    { desc: 'exit 1 with misc_dynamic still fails', args: ['1'], dynamic: true, code: 'PROCERR', ok: false },
    { desc: 'killed by a signal', args: ['kill'], dynamic: false, code: 'PROCERR', ok: false },
    { desc: 'past misc_timeout', args: ['sleep'], dynamic: false, code: 'PROCTOUT', ok: false },
  ];
  for (const row of rows) {
    const r = await misc.check({ type: 'MISC_CHECK', misc_path: [script, ...row.args], misc_dynamic: row.dynamic }, undefined, { runner, timeoutMs: 300 });
    assert.equal(r.code, row.code, row.desc);
    assert.equal(r.ok, row.ok, row.desc);
    if (row.weight !== undefined) assert.equal(r.weight, row.weight, row.desc);
  }
  const noShebang = join(dir, 'plain');
  writeFileSync(noShebang, 'exit 0\n');
  chmodSync(noShebang, 0o755);
  const r = await misc.check({ type: 'MISC_CHECK', misc_path: [noShebang] }, undefined, { runner, timeoutMs: 2000 });
  assert.equal(r.code, 'PROCOK', 'a script without #! runs through /bin/sh');
});

function dnsServer(answer: (q: Buffer) => Buffer[]): dgram.Socket {
  const s = dgram.createSocket('udp4');
  s.on('message', (q, rinfo) => { for (const a of answer(q)) s.send(a, rinfo.port, rinfo.address); });
  return s;
}

function dnsReply(q: Buffer, rcode: number, idDelta = 0): Buffer {
  const r = Buffer.from(q);
  r.writeUInt16BE((q.readUInt16BE(0) + idDelta) & 0xffff, 0);
  r.writeUInt16BE(0x8180 | rcode, 2);
  return r;
}

test('DNS_CHECK: rcode 0 is up, an error rcode is down, foreign IDs are ignored; the query is keepalived\'s', async (t) => {
  let mode = 0;
  const queries: Buffer[] = [];
  const server = dnsServer((q) => {
    queries.push(q);
    if (mode === 0) return [dnsReply(q, 0)];
    if (mode === 1) return [dnsReply(q, 2)];
    return [dnsReply(q, 0, 1)];
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  const port = server.address().port;
  t.after(() => server.close());
  assert.equal((await dns.check({ type: 'DNS_CHECK' }, target(port))).code, 'L7OK');
  const q = queries[0];
  assert.equal(q.readUInt16BE(2), 0x0100, 'RD set');
  assert.deepEqual([...q.subarray(12)], [0, 0, 6, 0, 1], 'root name, SOA, IN');
  mode = 1;
  assert.equal((await dns.check({ type: 'DNS_CHECK', dns_type: 'A', name: 'www.example.com' }, target(port))).code, 'L7STS');
  assert.deepEqual([...queries[1].subarray(12, 29)], [3, 119, 119, 119, 7, 101, 120, 97, 109, 112, 108, 101, 3, 99, 111, 109, 0]);
  mode = 2;
  assert.equal((await dns.check({ type: 'DNS_CHECK' }, target(port, 200))).code, 'L7TOUT');
  assert.deepEqual([...dns.buildQuery(1, '.', 6).subarray(12)], [0, 0, 6, 0, 1], '"." is the root too');
});

function smtpServer(banner: string, helo: string): net.Server {
  return net.createServer((s) => {
    s.on('error', () => {});
    s.write(banner);
    let step = 0;
    s.on('data', (d) => {
      const line = d.toString();
      if (step === 0 && line.startsWith('HELO ')) { step = 1; s.write(helo); (s as net.Socket & { helo?: string }).helo = line; smtpSeen.push(line); }
      else if (line.startsWith('QUIT')) s.end('221 bye\r\n');
    });
  });
}
const smtpSeen: string[] = [];

test('SMTP_CHECK: 220 banner, HELO answered 250, QUIT; other codes fail', async (t) => {
  const rows: Array<{ desc: string; banner: string; helo: string; code: string }> = [
    { desc: 'good server', banner: '220 mx ESMTP\r\n', helo: '250 hello\r\n', code: 'L7OK' },
    { desc: 'refusing banner', banner: '554 go away\r\n', helo: '250 hello\r\n', code: 'L7STS' },
    { desc: 'HELO rejected', banner: '220 mx\r\n', helo: '501 no\r\n', code: 'L7STS' },
    { desc: 'banner code without text ("220\\r") is not a status, as in keepalived', banner: '220\r\n', helo: '250 hello\r\n', code: 'L7STS' },
  ];
  for (const row of rows) {
    const server = smtpServer(row.banner, row.helo);
    const port = await listen(server);
    try {
      const r = await smtp.check({ type: 'SMTP_CHECK', helo_name: 'checker.test' }, target(port));
      assert.equal(r.code, row.code, `${row.desc}: ${r.message}`);
    } finally {
      await close(server);
    }
  }
  assert.equal(smtpSeen[0], 'HELO checker.test\r\n');
  assert.equal(smtp.smtpStatus('250-more'), -1);
  assert.equal(smtp.smtpStatus('250'), 250);
});

test('UDP_CHECK: require_reply with wildcards and lengths; ICMP unreachable is down; silence is up without require_reply', async (t) => {
  const server = dgram.createSocket('udp4');
  server.on('message', (m, r) => server.send(Buffer.concat([Buffer.from([0xab, 0xcd]), m]), r.port, r.address));
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  const port = server.address().port;
  t.after(() => server.close());
  const sink = dgram.createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
  const silent = sink.address().port;
  t.after(() => sink.close());
  const rows: Array<{ desc: string; spec: Partial<import('../../src/check/spec.ts').UdpCheckSpec>; port: number; code: string }> = [
    { desc: 'reply matches', spec: { payload: '0102', require_reply: 'abcd0102' }, port, code: 'L7OK' },
    { desc: 'X nibbles are wildcards', spec: { payload: '0102', require_reply: 'aXcd' }, port, code: 'L7OK' },
    { desc: 'reply differs', spec: { payload: '0102', require_reply: 'abce' }, port, code: 'L7RSP' },
    { desc: 'reply longer than max_reply_length', spec: { payload: '0102', require_reply: 'ab', max_reply_length: 3 }, port, code: 'L7RSP' },
    { desc: 'bare require_reply accepts any reply', spec: { require_reply: '' }, port, code: 'L7OK' },
    { desc: 'no reply but one is required', spec: { require_reply: 'ab' }, port: silent, code: 'L7TOUT' },
    { desc: 'silence without require_reply is up', spec: {}, port: silent, code: 'L4OK' },
    { desc: 'nobody listening: ICMP port unreachable', spec: {}, port: await freePort(), code: 'L4CON' },
  ];
  for (const row of rows) {
    const r = await udp.check({ type: 'UDP_CHECK', ...row.spec }, target(row.port, 200));
    assert.equal(r.code, row.code, `${row.desc}: ${r.message}`);
  }
});

test('PING_CHECK: echo reply from 127.0.0.1 and ::1 (ping socket, and raw when root)', async (t) => {
  const pinger = createPinger();
  t.after(() => pinger.close());
  if (typeof pinger.mode(4) === 'string' && pinger.mode(4) !== 'dgram' && pinger.mode(4) !== 'raw') {
    t.skip(`no ICMP socket: ${pinger.mode(4)}`);
    return;
  }
  const r = await ping.check({ type: 'PING_CHECK' }, target(0, 1000), undefined, pinger);
  assert.equal(r.code, 'L4OK', r.message);
  if (typeof pinger.mode(6) === 'string' && (pinger.mode(6) === 'dgram' || pinger.mode(6) === 'raw')) {
    const r6 = await ping.check({ type: 'PING_CHECK' }, { family: 6, address: '::1', port: 0, connectTimeoutMs: 1000 }, undefined, pinger);
    assert.equal(r6.code, 'L4OK', r6.message);
  }
  if (process.getuid?.() === 0) {
    const raw = createPinger({ rawOnly: true });
    t.after(() => raw.close());
    assert.equal(raw.mode(4), 'raw');
    const rr = await ping.check({ type: 'PING_CHECK' }, target(0, 1000, '127.0.0.2'), undefined, raw);
    assert.equal(rr.code, 'L4OK', rr.message);
  }
});

test('FILE_CHECK: values read as strtol base 0, statuses with weight and reverse', () => {
  const values: Array<[string, number | null]> = [['0', 0], ['12\n', 12], ['  -3 trailing', -3], ['0x1f', 31], ['017', 15], ['', 0], ['abc', 0], ['99999999999', null]];
  for (const [text, want] of values) assert.equal(parseTrackValue(text), want, JSON.stringify(text));
  const rows: Array<[number, number, boolean, number]> = [
    [0, 0, false, 0], [1, 0, false, IPVS_WEIGHT_FAULT], [0, 0, true, IPVS_WEIGHT_FAULT], [1, 0, true, 0],
    [5, 2, false, 10], [5, 2, true, -10], [-2147483648, 1, false, IPVS_WEIGHT_FAULT],
  ];
  for (const [v, w, rev, want] of rows) assert.equal(trackStatus(v, w, rev), want, `value ${v} weight ${w} reverse ${rev}`);
  assert.ok(existsSync('/proc'), 'sanity');
});
