// keepvsadm end to end against the fake daemon (the control API of docs/api.md on a Unix socket):
// request bodies, ipvsadm's texts and exit codes for refused changes (libipvs.c ipvs_strerror), the
// -S → -R → -S round trip, restore_table's handling of failing lines, the no-daemon path, and the
// executable itself (bin/keepvsadm) run as a child process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiClient } from '../../src/api/client.ts';
import { Keepvsadm } from '../../src/cli/keepvsadm/main.ts';
import { ServicesDb } from '../../src/config/endpoint.ts';
import { FakeDaemon } from './fake-daemon.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'keepvsadm');
const TRY = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n";

let daemon: FakeDaemon;
before(async () => { daemon = await FakeDaemon.start(); });
after(async () => { await daemon.stop(); });

interface Run { code: number; out: string; err: string }

const DB = new ServicesDb('http 80/tcp www\ndomain 53/udp\n');

async function kv(args: string[], stdin = '', reverse: Record<string, string> = {}, socketPath?: string): Promise<Run> {
  let out = '';
  let err = '';
  const app = new Keepvsadm(
    { out: (t) => { out += t; }, err: (t) => { err += t; }, readStdin: async () => stdin },
    {
      api: new ApiClient(socketPath ?? daemon.socketPath),
      program: 'ipvsadm',
      resolveHost: async (name) => (name === 'web1' ? Uint8Array.from([10, 0, 0, 2]) : null),
      reverseHost: async (_f, a) => reverse[a] ?? null,
      servicesDb: DB,
    },
  );
  const code = await app.run(args);
  return { code, out, err };
}

function golden(name: string): string {
  const lines = readFileSync(join(import.meta.dirname, 'golden', name), 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => `${l.replace(/\|$/, '')}\n`).join('');
}

function lastBody(): unknown {
  return daemon.requests[daemon.requests.length - 1].body;
}

test('keepvsadm -A sends ipvsadm defaults: wlc, no persistence, full mask', async () => {
  await kv(['-C']);
  assert.deepEqual(await kv(['-A', '-t', '10.0.0.1:80']), { code: 0, out: '', err: '' });
  assert.deepEqual(lastBody(), {
    service: { protocol: 'tcp', vip: '10.0.0.1', port: 80 },
    options: { scheduler: 'wlc', persistent: null, netmask: null, pe: null, ops: false, schedFlags: [] },
  });
  assert.deepEqual(await kv(['-a', '-t', '10.0.0.1:80', '-r', 'web1:8080']), { code: 0, out: '', err: '' });
  assert.deepEqual(lastBody(), {
    service: { protocol: 'tcp', vip: '10.0.0.1', port: 80 },
    dest: { addr: '10.0.0.2', port: 80, fwd: 'route', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: null },
  });
});

const REFUSALS: readonly { desc: string; setup: string[][]; args: string[]; err: string; code: number }[] = [
  { desc: 'add an existing service', setup: [['-A', '-t', '10.0.0.1:80']], args: ['-A', '-t', '10.0.0.1:80'], err: 'Service already exists\n', code: 255 },
  { desc: 'unknown scheduler', setup: [], args: ['-A', '-t', '10.0.0.1:80', '-s', 'bogus'], err: 'Scheduler or persistence engine not found\n', code: 255 },
  { desc: 'edit a missing service', setup: [], args: ['-E', '-t', '10.0.0.1:80'], err: 'No such service\n', code: 255 },
  { desc: 'delete a missing service', setup: [], args: ['-D', '-t', '10.0.0.1:80'], err: 'No such service\n', code: 255 },
  { desc: 'zero a missing service', setup: [], args: ['-Z', '-t', '10.0.0.1:80'], err: 'No such service\n', code: 255 },
  { desc: 'add a dest to a missing service', setup: [], args: ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2'], err: 'Service not defined\n', code: 255 },
  { desc: 'edit a dest of a missing service', setup: [], args: ['-e', '-t', '10.0.0.1:80', '-r', '10.0.0.2'], err: 'Service not defined\n', code: 255 },
  { desc: 'delete a dest of a missing service', setup: [], args: ['-d', '-t', '10.0.0.1:80', '-r', '10.0.0.2'], err: 'Service not defined\n', code: 255 },
  { desc: 'add an existing dest', setup: [['-A', '-t', '10.0.0.1:80'], ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2']], args: ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2'], err: 'Destination already exists\n', code: 255 },
  { desc: 'edit a missing dest', setup: [['-A', '-t', '10.0.0.1:80']], args: ['-e', '-t', '10.0.0.1:80', '-r', '10.0.0.2'], err: 'No such destination\n', code: 255 },
  { desc: 'delete a missing dest', setup: [['-A', '-t', '10.0.0.1:80']], args: ['-d', '-t', '10.0.0.1:80', '-r', '10.0.0.2'], err: 'No such destination\n', code: 255 },
  { desc: 'list a missing service (list_service exits 1)', setup: [], args: ['-L', '-t', '10.0.0.1:80'], err: 'No such service\n', code: 1 },
  { desc: 'start a sync daemon', setup: [], args: ['--start-daemon', 'master'], err: 'keepvs has no connection synchronization daemon (--start-daemon/--stop-daemon are not supported)\n', code: 255 },
];

for (const r of REFUSALS) {
  test(`keepvsadm refusal (libipvs.c ipvs_strerror): ${r.desc}`, async () => {
    await kv(['-C']);
    for (const s of r.setup) assert.equal((await kv(s)).code, 0);
    assert.deepEqual(await kv(r.args), { code: r.code, out: '', err: r.err });
  });
}

test('keepvsadm: a real ipvsadm -S file restores, and -S writes it back byte for byte', async () => {
  await kv(['-C']);
  const saved = golden('save-n.txt');
  assert.deepEqual(await kv(['-R'], saved), { code: 0, out: '', err: '' });
  assert.deepEqual(await kv(['-S', '-n']), { code: 0, out: saved, err: '' });
  assert.deepEqual(await kv(['-Sn']), { code: 0, out: saved, err: '' });
});

test('keepvsadm: -S → -C → -R → -S gives the same table', async () => {
  await kv(['-C']);
  for (const line of [
    ['-A', '-t', '10.0.0.1:80', '-s', 'wrr', '-p', '120', '-M', '255.255.0.0'],
    ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2:8080', '-m', '-w', '3'],
    ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.3:8080', '--fullnat', '-w', '0'],
    ['-A', '-u', '[2001:db8::1]:53', '-s', 'sh', '-b', 'sh-port', '-o'],
    ['-a', '-u', '[2001:db8::1]:53', '-r', '[2001:db8::2]:53', '-g'],
    ['-A', '-f', '7', '-s', 'lc'],
    ['-a', '-f', '7', '-r', '10.0.0.9', '-i', '--tun-type', 'gue', '--tun-port', '6080', '--tun-csum'],
  ]) assert.deepEqual(await kv(line), { code: 0, out: '', err: '' }, line.join(' '));
  const first = await kv(['-S', '-n']);
  assert.equal(first.out,
    '-A -t 10.0.0.1:80 -s wrr -p 120 -M 255.255.0.0\n'
    + '-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 3\n'
    + '-a -t 10.0.0.1:80 -r 10.0.0.3:8080 --fullnat -w 0\n'
    + '-A -u [2001:db8::1]:53 -s sh -o -b sh-port\n'
    + '-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -g -w 1\n'
    + '-A -f 7 -s lc\n'
    + '-a -f 7 -r 10.0.0.9:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum\n');
  const before = JSON.stringify(daemon.services);
  await kv(['-C']);
  assert.equal(daemon.services.length, 0);
  assert.equal((await kv(['-R'], first.out)).code, 0);
  assert.equal((await kv(['-S', '-n'])).out, first.out);
  assert.equal(JSON.stringify(daemon.services), before);
});

test('keepvsadm --proxy-protocol (keepvs): request bodies, -S → -C → -R → -S, listings untouched', async () => {
  await kv(['-C']);
  const svc = { protocol: 'tcp', vip: '10.0.0.1', port: 80 };
  assert.deepEqual(await kv(['-A', '-t', '10.0.0.1:80', '-s', 'rr', '--proxy-protocol', 'v2']), { code: 0, out: '', err: '' });
  assert.deepEqual(lastBody(), {
    service: svc, options: { scheduler: 'rr', persistent: null, netmask: null, pe: null, ops: false, schedFlags: [], proxyProtocol: 'v2' },
  });
  // A dest without the option sends no field: it inherits the service's choice.
  assert.deepEqual(await kv(['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2:8080', '-m']), { code: 0, out: '', err: '' });
  assert.deepEqual(lastBody(), {
    service: svc, dest: { addr: '10.0.0.2', port: 8080, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: null },
  });
  assert.deepEqual(await kv(['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.3:8080', '--fullnat', '-w', '2', '--proxy-protocol', 'none']), { code: 0, out: '', err: '' });
  assert.deepEqual(lastBody(), {
    service: svc, dest: { addr: '10.0.0.3', port: 8080, fwd: 'fullnat', weight: 2, uThreshold: 0, lThreshold: 0, tunnel: null, proxyProtocol: 'none' },
  });
  for (const line of [
    ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.4:8080', '-m', '--proxy-protocol', 'v1'],
    ['-A', '-u', '10.0.0.1:53', '-s', 'sh', '-b', 'sh-port', '-o', '--proxy-protocol', 'v2'],
    ['-a', '-u', '10.0.0.1:53', '-r', '10.0.0.5:53', '-m'],
    ['-A', '-f', '3', '-s', 'lc', '-p'],
    ['-a', '-f', '3', '-r', '10.0.0.6', '-i', '--tun-type', 'gre', '--tun-csum', '--proxy-protocol', 'v2'],
  ]) assert.deepEqual(await kv(line), { code: 0, out: '', err: '' }, line.join(' '));
  const saved = golden('save-n-proxy-protocol.txt');
  assert.deepEqual(await kv(['-S', '-n']), { code: 0, out: saved, err: '' });
  assert.deepEqual(await kv(['-L', '-n']), { code: 0, out: golden('list-n-proxy-protocol.txt'), err: '' });
  // Each dest's effective choice as the daemon reports it.
  const tcp = (await new ApiClient(daemon.socketPath).services()).find((x) => x.port === 80)!;
  assert.deepEqual(tcp.dests.map((d) => [d.addr, d.proxyProtocol, d.effectiveProxyProtocol]),
    [['10.0.0.4', 'v1', 'v1'], ['10.0.0.3', 'none', null], ['10.0.0.2', null, 'v2']]);

  const before = JSON.stringify(daemon.services);
  await kv(['-C']);
  assert.deepEqual(await kv(['-R'], saved), { code: 0, out: '', err: '' });
  assert.deepEqual(await kv(['-S', '-n']), { code: 0, out: saved, err: '' });
  assert.equal(JSON.stringify(daemon.services), before);

  // -E replaces every option, as ipvsadm's does: without --proxy-protocol the default is gone.
  assert.deepEqual(await kv(['-E', '-t', '10.0.0.1:80', '-s', 'rr']), { code: 0, out: '', err: '' });
  assert.equal((await kv(['-S', '-n'])).out.split('\n')[0], '-A -t 10.0.0.1:80 -s rr');
});

test('keepvsadm --proxy-protocol: refused values and commands fail before the daemon is asked', async () => {
  await kv(['-C']);
  const asked = daemon.requests.length;
  assert.deepEqual(await kv(['-A', '-t', '10.0.0.1:80', '--proxy-protocol', 'v3']), { code: 2, out: '', err: "invalid proxy-protocol value `v3' specified\n" });
  assert.deepEqual(await kv(['-A', '-u', '10.0.0.1:53', '--proxy-protocol', 'v1']), { code: 2, out: '', err: 'PROXY protocol v1 is only for TCP virtual services; use v2\n' });
  assert.deepEqual(await kv(['-D', '-t', '10.0.0.1:80', '--proxy-protocol', 'v2']), { code: 2, out: '', err: "Illegal 'proxy-protocol' option with the 'delete-service' command\n" });
  assert.equal(daemon.requests.length, asked);
  // -R stops at such a line (fail() exits), as for any ipvsadm option error.
  assert.deepEqual(await kv(['-R'], '-A -t 10.0.0.1:80 --proxy-protocol v9\n-A -t 10.0.0.2:80\n'), { code: 2, out: '', err: "invalid proxy-protocol value `v9' specified\n" });
  assert.equal(daemon.services.length, 0);
});

test('keepvsadm -h lists --proxy-protocol with the keepvs extensions', async () => {
  const h = await kv(['-h']);
  assert.equal(h.code, 0);
  const lines = h.out.split('\n');
  const at = lines.findIndex((l) => l.startsWith('  --fullnat '));
  assert.ok(at > 0);
  assert.match(lines[at + 1], /^ {2}--proxy-protocol v1\|v2\|none {9}PROXY protocol header to real servers, with -A\|E$/);
  assert.match(lines[at + 2], /\(keepvs\)$/);
});

test('keepvsadm -R: a refused line prints and the next runs; the result is the last line\'s', async () => {
  await kv(['-C']);
  const r = await kv(['-R'], '-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.0.2\n');
  assert.deepEqual(r, { code: 0, out: '', err: 'Service already exists\n' });
  assert.equal(daemon.services[0].dests.length, 1);
  const r2 = await kv(['-R'], '-A -t 10.0.0.2:80\n-A -t 10.0.0.2:80\n');
  assert.deepEqual(r2, { code: 255, out: '', err: 'Service already exists\n' });
});

test('keepvsadm -R: a bad line (fail) stops the restore with exit 2', async () => {
  await kv(['-C']);
  const r = await kv(['-R'], '-A -t 10.0.0.1:80 -w 1\n-A -t 10.0.0.2:80\n');
  assert.deepEqual(r, { code: 2, out: '', err: "Illegal 'weight' option with the 'add-service' command\n" });
  assert.equal(daemon.services.length, 0);
});

test('keepvsadm -R: a popt error is reported and the restore goes on', async () => {
  await kv(['-C']);
  const r = await kv(['-R'], '-A -t 10.0.0.1:80 --bogus\n-A -t 10.0.0.2:80\n');
  assert.deepEqual(r, { code: 0, out: '', err: '--bogus: unknown option\n' });
  assert.equal(daemon.services.length, 1);
});

test('keepvsadm -R: "#" lines are arguments, not comments (config_stream.c), and stop the restore', async () => {
  await kv(['-C']);
  const r = await kv(['-R'], '# rules\n-A -t 10.0.0.2:80\n');
  assert.deepEqual(r, { code: 255, out: '', err: TRY });
  assert.equal(daemon.services.length, 0);
  // A lone "#" is one token: a command line like any other, refused the same way.
  assert.deepEqual(await kv(['-R'], '#\n-A -t 10.0.0.3:80\n'), { code: 255, out: '', err: TRY });
  assert.equal(daemon.services.length, 0);
  // The "ipvsadm" word a line may start with is dropped.
  assert.deepEqual(await kv(['-R'], 'ipvsadm -A -t 10.0.0.3:80\n'), { code: 0, out: '', err: '' });
  assert.equal(daemon.services.length, 1);
});

test('keepvsadm -R inside -R is refused like ipvsadm ("avoid infinite loop")', async () => {
  assert.deepEqual(await kv(['-R'], '-R\n-C\n'), { code: 255, out: '', err: TRY });
});

test('keepvsadm -R runs listings in the middle', async () => {
  await kv(['-C']);
  const r = await kv(['-R'], '-A -t 10.0.0.1:80\n-L -n\n-L --timeout\n');
  assert.equal(r.code, 0);
  assert.equal(r.out, 'IP Virtual Server version 1.2.1 (size=4096)\n'
    + 'Prot LocalAddress:Port Scheduler Flags\n'
    + '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'
    + 'TCP  10.0.0.1:80 wlc\n'
    + 'Timeout (tcp tcpfin udp): 900 120 300\n');
});

test('keepvsadm: no argument lists with names (reverse lookups and /etc/services)', async () => {
  await kv(['-C']);
  await kv(['-A', '-t', '10.0.0.1:80']);
  await kv(['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2', '-m']);
  await kv(['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.3', '-m']);
  const r = await kv([], '', { '10.0.0.1': 'vip.example', '10.0.0.2': 'web1.example' });
  assert.equal(r.out, 'IP Virtual Server version 1.2.1 (size=4096)\n'
    + 'Prot LocalAddress:Port Scheduler Flags\n'
    + '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'
    + 'TCP  vip.example:http wlc\n'
    + '  -> web1.example:http            Masq    1      0          0         \n'
    + '  -> 10.0.0.3:http                Masq    1      0          0         \n');
  const s = await kv(['-S'], '', { '10.0.0.1': 'vip.example' });
  assert.equal(s.out, '-A -t vip.example:http -s wlc\n-a -t vip.example:http -r 10.0.0.2:http -m -w 1\n-a -t vip.example:http -r 10.0.0.3:http -m -w 1\n');
});

test('keepvsadm: --set, --timeout, -Z, --daemon, -c, --explain', async () => {
  await kv(['-C']);
  assert.deepEqual(await kv(['--set', '0', '60', '0']), { code: 0, out: '', err: '' });
  assert.deepEqual(lastBody(), { tcp: 0, tcpfin: 60, udp: 0 });
  assert.deepEqual(await kv(['-L', '--timeout']), { code: 0, out: 'Timeout (tcp tcpfin udp): 900 60 300\n', err: '' });
  assert.deepEqual(await kv(['-Z']), { code: 0, out: '', err: '' });
  assert.deepEqual(lastBody(), {});
  assert.deepEqual(await kv(['-L', '--daemon']), { code: 0, out: '', err: '' });
  assert.deepEqual(await kv(['-L', '-n', '-c']), { code: 0, out: 'IPVS connection entries\npro expire state       source             virtual            destination\n', err: '' });
  await kv(['-A', '-t', '10.0.0.1:80']);
  await kv(['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2']);
  const ex = await kv(['--explain', '-t', '10.0.0.1:80', '--client', '198.18.0.9:40000']);
  assert.deepEqual(ex, { code: 0, out: 'client 198.18.0.9:40000 -> 10.0.0.2:80 (wlc)\n', err: '' });
  assert.deepEqual(lastBody(), { service: { protocol: 'tcp', vip: '10.0.0.1', port: 80 }, client: { addr: '198.18.0.9', port: 40000 } });
});

test('keepvsadm without a daemon: one line, exit 2 (ipvsadm\'s code when IPVS is missing)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keepvsadm-none-'));
  try {
    const sock = join(dir, 'keepvs.sock');
    assert.deepEqual(await kv(['-L', '-n'], '', {}, sock), {
      code: 2, out: '', err: `ipvsadm: cannot reach keepvs at ${sock} (is the keepvs daemon running?)\n`,
    });
    // Argument errors and help need no daemon.
    assert.equal((await kv(['-A'], '', {}, sock)).code, 2);
    assert.equal((await kv(['-h'], '', {}, sock)).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function runBin(bin: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolvePromise) => {
    execFile(bin, args, { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolvePromise({ code, out: stdout, err: stderr });
    });
  });
}

test('bin/keepvsadm: the executable talks to the daemon and prints ipvsadm text', async () => {
  await kv(['-C']);
  const env = { KEEPVS_SOCKET: daemon.socketPath };
  assert.deepEqual(await runBin(BIN, ['-A', '-t', '10.0.0.1:80', '-s', 'rr'], env), { code: 0, out: '', err: '' });
  assert.deepEqual(await runBin(BIN, ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2:80', '-m', '-w', '2'], env), { code: 0, out: '', err: '' });
  assert.deepEqual(await runBin(BIN, ['-Ln'], env), {
    code: 0, err: '', out: 'IP Virtual Server version 1.2.1 (size=4096)\n'
      + 'Prot LocalAddress:Port Scheduler Flags\n'
      + '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'
      + 'TCP  10.0.0.1:80 rr\n'
      + '  -> 10.0.0.2:80                  Masq    2      0          0         \n',
  });
  assert.deepEqual(await runBin(BIN, ['-a', '-t', '10.0.0.9:80', '-r', '10.0.0.2'], env), { code: 255, out: '', err: 'Service not defined\n' });
});

test('bin/keepvsadm: exit codes and texts without a daemon, through a symlink named ipvsadm', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keepvsadm-bin-'));
  try {
    const link = join(dir, 'ipvsadm');
    symlinkSync(BIN, link);
    const env = { KEEPVS_SOCKET: join(dir, 'none.sock') };
    assert.deepEqual(await runBin(link, ['-L', '-n'], env), { code: 2, out: '', err: `ipvsadm: cannot reach keepvs at ${join(dir, 'none.sock')} (is the keepvs daemon running?)\n` });
    assert.deepEqual(await runBin(link, ['-n'], env), { code: 255, out: '', err: `Try \`${link} -h' or '${link} --help' for more information.\n` });
    assert.deepEqual(await runBin(link, ['-A', '-t', '10.0.0.1'], env), { code: 2, out: '', err: 'Zero port specified for non-persistent service\n' });
    assert.deepEqual(await runBin(link, ['-v'], env), { code: 0, out: 'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n', err: '' });
    const h = await runBin(link, ['--help'], env);
    assert.equal(h.code, 0);
    assert.ok(h.out.includes(`  ${link} -d virtual-service -r server-address\n`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
