// bin/keepvs as a user runs it, as a child process: it starts, answers on its control socket, writes
// the dumps on SIGUSR1/SIGUSR2, stops on SIGTERM with exit 0 and removes its socket and pid file,
// refuses what it must refuse (a TCP API without a token, a live socket, the nft plane), and
// enforces the bearer token. Every child is killed and every temp dir removed, even on failure.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { httpCall } from '../api/harness.ts';

const KEEPVS = resolve(import.meta.dirname, '..', '..', 'bin', 'keepvs');
/** Upper bound for any wait here; a healthy run takes a fraction of it. Not a timing assertion. */
const WAIT_MS = 15_000;

const dirs: string[] = [];
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keepvs-daemon-'));
  dirs.push(d);
  return d;
}

interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
}

function runKeepvs(args: readonly string[], env: NodeJS.ProcessEnv = {}): Running {
  const base = { ...process.env };
  delete base.NOTIFY_SOCKET;
  delete base.KEEPVS_API_TOKEN;
  const child = spawn(KEEPVS, args, { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (b: Buffer): void => {
    out += b.toString('utf8');
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => {
    for (const w of [...waiters]) w();
    r({ code, signal });
  }));
  return {
    child, exited, output: () => out,
    waitFor(re) {
      return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${re} in:\n${out}`)); }, WAIT_MS);
        const check = (): void => {
          const m = re.exec(out);
          if (m) { done(); resolvePromise(m); } else if (child.exitCode !== null || child.signalCode !== null) {
            done(); reject(new Error(`keepvs exited before ${re}:\n${out}`));
          }
        };
        const done = (): void => {
          clearTimeout(timer);
          const i = waiters.indexOf(check);
          if (i >= 0) waiters.splice(i, 1);
        };
        waiters.push(check);
        check();
      });
    },
  };
}

async function waitForFile(path: string): Promise<string> {
  const until = Date.now() + WAIT_MS;
  while (Date.now() < until) {
    if (existsSync(path)) return readFileSync(path, 'utf8');
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} never appeared`);
}

/** A TCP port nobody listens on right now (bind 0, read it, close). */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function daemonArgs(dir: string, extra: readonly string[] = []): string[] {
  return ['-l', '--control', join(dir, 'keepvs.sock'), '-p', join(dir, 'keepvs.pid'), '--dump-dir', dir, '--grace', '1', ...extra];
}

test('start, answer on the socket, dump on USR1/USR2, stop on TERM', async (t) => {
  const dir = tempDir();
  const sock = join(dir, 'keepvs.sock');
  const pid = join(dir, 'keepvs.pid');
  const k = runKeepvs(daemonArgs(dir));
  await k.waitFor(/Control API listening on /);

  await t.test('the pid file names the daemon and the socket is 0600', () => {
    assert.equal(readFileSync(pid, 'utf8'), `${k.child.pid}\n`);
    assert.equal(statSync(sock).mode & 0o777, 0o600);
  });
  await t.test('GET /v1/info answers on the socket', async () => {
    const r = await httpCall({ socketPath: sock }, 'GET', '/v1/info');
    assert.equal(r.status, 200);
    assert.equal(r.json.dataplane, 'proxy');
    assert.equal(r.json.ipvsVersion, '1.2.1');
  });
  await t.test('a service added through the API shows in the data dump (SIGUSR1)', async () => {
    // The proxy plane cannot listen on every port: refused, and counted.
    const refused = await httpCall({ socketPath: sock }, 'POST', '/v1/services', {
      service: { protocol: 'udp', vip: '127.0.0.1', port: 0 }, options: { scheduler: 'rr', persistent: 60 },
    });
    assert.equal(refused.status, 400);
    const port = await freePort();
    const service = { protocol: 'tcp', vip: '127.0.0.1', port };
    assert.equal((await httpCall({ socketPath: sock }, 'POST', '/v1/services', { service, options: { scheduler: 'wrr' } })).status, 201);
    assert.equal((await httpCall({ socketPath: sock }, 'POST', '/v1/dests', { service, dest: { addr: '127.0.0.1', port: 9, fwd: 'masq', weight: 7 } })).status, 201);
    k.child.kill('SIGUSR1');
    const text = await waitForFile(join(dir, 'keepvs.data'));
    assert.match(text, /^------< Global definitions >------$/m);
    assert.match(text, /^ Control socket = .*keepvs\.sock$/m);
    assert.match(text, /^ Number of virtual servers = 1$/m);
    assert.match(text, new RegExp(`^ VS = TCP 127\\.0\\.0\\.1:${port}$`, 'm'));
    assert.match(text, /^ {3}lb_algo = wrr$/m);
    assert.match(text, /^ {3}RIP = 127\.0\.0\.1, RPORT = 9, WEIGHT = 7$/m);
    assert.match(text, /^ {3}forwarding method = NAT$/m);
  });
  await t.test('SIGUSR2 writes the stats dump, with the API rejection', async () => {
    k.child.kill('SIGUSR2');
    const text = await waitForFile(join(dir, 'keepvs.stats'));
    assert.match(text, /^API rejections:$/m);
    assert.match(text, /^ {2}PLANE_ERROR: 1$/m);
  });
  await t.test('SIGHUP without -f keeps running', async () => {
    k.child.kill('SIGHUP');
    await k.waitFor(/no configuration file \(-f\)/);
    assert.equal((await httpCall({ socketPath: sock }, 'GET', '/v1/info')).status, 200);
  });
  await t.test('SIGTERM: exit 0, socket and pid file removed', async () => {
    k.child.kill('SIGTERM');
    const { code } = await k.exited;
    assert.equal(code, 0, k.output());
    assert.ok(!existsSync(sock), 'socket removed');
    assert.ok(!existsSync(pid), 'pid file removed');
    assert.match(k.output(), /Stopped keepvs/);
  });
});

test('a live socket is refused; a dead daemon\'s socket is taken over', async () => {
  const dir = tempDir();
  const first = runKeepvs(daemonArgs(dir));
  await first.waitFor(/Control API listening on /);
  const second = runKeepvs(['--control', join(dir, 'keepvs.sock'), '-p', join(dir, 'other.pid')]);
  assert.equal((await second.exited).code, 1);
  assert.match(second.output(), /another keepvs is already listening on .*keepvs\.sock/);

  first.child.kill('SIGKILL');
  await first.exited;
  assert.ok(existsSync(join(dir, 'keepvs.sock')), 'SIGKILL leaves the socket file');
  const third = runKeepvs(daemonArgs(dir));
  await third.waitFor(/Control API listening on /);
  assert.equal((await httpCall({ socketPath: join(dir, 'keepvs.sock') }, 'GET', '/v1/info')).status, 200);
  third.child.kill('SIGINT');
  assert.equal((await third.exited).code, 0);
});

test('a pid file naming a live process is refused', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'keepvs.pid'), `${process.pid}\n`);
  const k = runKeepvs(daemonArgs(dir));
  assert.equal((await k.exited).code, 1);
  assert.match(k.output(), new RegExp(`keepvs is already running \\(pid ${process.pid}`));
  assert.equal(readFileSync(join(dir, 'keepvs.pid'), 'utf8'), `${process.pid}\n`, 'the other pid file is left alone');
});

test('refusals at start', async (t) => {
  const rows: { desc: string; args: (dir: string) => string[]; env?: NodeJS.ProcessEnv; code: number; message: RegExp }[] = [
    { desc: '--api without a token', args: (d) => daemonArgs(d, ['--api', '127.0.0.1:0']), code: 1, message: /--api needs a token/ },
    { desc: '--api with an empty token file', args: (d) => { writeFileSync(join(d, 'tok'), '\n'); return daemonArgs(d, ['--api', '127.0.0.1:0', '--api-token-file', join(d, 'tok')]); }, code: 1, message: /is empty/ },
    { desc: 'unknown option', args: () => ['--bogus'], code: 1, message: /Unknown option --bogus/ },
    { desc: '-t without a file', args: () => ['-t'], code: 1, message: /config test needs a configuration file/ },
    { desc: '-f with a keepalived.conf that has an error', args: (d) => { writeFileSync(join(d, 'k.conf'), 'global_defs {\n  lvs_flush_magic\n}\n'); return daemonArgs(d, ['-f', join(d, 'k.conf')]); }, code: 1, message: /k\.conf: 1 error\(s\), the first: .*k\.conf:2:3: error: .*lvs_flush_magic/ },
    { desc: '-f with a file that does not exist', args: (d) => daemonArgs(d, ['-f', join(d, 'missing.conf')]), code: 1, message: /cannot read configuration file .*missing\.conf/ },
  ];
  for (const row of rows) {
    await t.test(row.desc, async () => {
      const dir = tempDir();
      const k = runKeepvs(row.args(dir), row.env);
      assert.equal((await k.exited).code, row.code, k.output());
      assert.match(k.output(), row.message);
      assert.ok(!existsSync(join(dir, 'keepvs.sock')), 'no socket left behind');
      assert.ok(!existsSync(join(dir, 'keepvs.pid')), 'no pid file left behind');
    });
  }
});

test('the TCP API demands the bearer token', async (t) => {
  const dir = tempDir();
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 's3cret-token\n', { mode: 0o600 });
  const k = runKeepvs(daemonArgs(dir, ['--api', '127.0.0.1:0', '--api-token-file', tokenFile]));
  const m = await k.waitFor(/Control API listening on TCP 127\.0\.0\.1:(\d+)/);
  const target = { host: '127.0.0.1', port: Number(m[1]) };
  const rows: { desc: string; headers: Record<string, string>; status: number }[] = [
    { desc: 'no Authorization header', headers: {}, status: 401 },
    { desc: 'wrong token', headers: { Authorization: 'Bearer nope' }, status: 401 },
    { desc: 'token with a different scheme', headers: { Authorization: 'Basic s3cret-token' }, status: 401 },
    { desc: 'right token', headers: { Authorization: 'Bearer s3cret-token' }, status: 200 },
  ];
  for (const row of rows) {
    await t.test(`${row.desc} -> ${row.status}`, async () => {
      for (const path of ['/v1/info', '/metrics']) {
        const r = await httpCall(target, 'GET', path, undefined, row.headers);
        assert.equal(r.status, row.status, path);
        if (row.status === 401) {
          assert.equal(r.json.error.code, 'UNAUTHORIZED');
          assert.equal(r.headers['www-authenticate'], 'Bearer realm="keepvs"');
        }
      }
    });
  }
  await t.test('the Unix socket needs no token', async () => {
    assert.equal((await httpCall({ socketPath: join(dir, 'keepvs.sock') }, 'GET', '/v1/info')).status, 200);
  });
  await t.test('the refusals are counted', async () => {
    const r = await httpCall(target, 'GET', '/metrics', undefined, { Authorization: 'Bearer s3cret-token' });
    assert.match(r.text, /^keepvs_api_rejected_total\{code="UNAUTHORIZED"\} 6$/m);
  });
  k.child.kill('SIGTERM');
  assert.equal((await k.exited).code, 0);
});

test('the token may come from KEEPVS_API_TOKEN', async () => {
  const dir = tempDir();
  const k = runKeepvs(daemonArgs(dir, ['--api', '127.0.0.1:0']), { KEEPVS_API_TOKEN: 'from-env' });
  const m = await k.waitFor(/Control API listening on TCP 127\.0\.0\.1:(\d+)/);
  const target = { host: '127.0.0.1', port: Number(m[1]) };
  assert.equal((await httpCall(target, 'GET', '/v1/info', undefined, { Authorization: 'Bearer from-env' })).status, 200);
  assert.equal((await httpCall(target, 'GET', '/v1/info')).status, 401);
  k.child.kill('SIGTERM');
  assert.equal((await k.exited).code, 0);
});

test('the launcher works through a symlink (npm link)', async () => {
  const dir = tempDir();
  const { symlinkSync } = await import('node:fs');
  const link = join(dir, 'keepvs');
  symlinkSync(KEEPVS, link);
  const child = spawn(link, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 0);
  assert.match(out, /^keepvs v\d+\.\d+\.\d+\n/);
});

test('sd_notify: READY=1 once listening, STOPPING=1 on SIGTERM, via systemd-notify', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const have = (cmd: string): boolean => {
    try { execFileSync(cmd, ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
  };
  if (!have('python3') || !have('systemd-notify')) {
    t.skip('needs python3 (to receive Unix datagrams, which Node cannot) and systemd-notify');
    return;
  }
  const dir = tempDir();
  const notifySocket = join(dir, 'notify.sock');
  // A stand-in for systemd: print each datagram received on NOTIFY_SOCKET as one JSON line.
  const receiver = spawn('python3', ['-c', [
    'import socket, json, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(notifySocket)})`,
    'print("bound", flush=True)',
    'while True:',
    '    print(json.dumps(s.recv(4096).decode()), flush=True)',
  ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(receiver);
  let got = '';
  receiver.stdout!.on('data', (b: Buffer) => { got += b.toString(); });
  const waitGot = async (re: RegExp): Promise<void> => {
    const until = Date.now() + WAIT_MS;
    while (!re.test(got) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.match(got, re);
  };
  try {
    await waitGot(/^bound$/m);
    const k = runKeepvs(daemonArgs(dir), { NOTIFY_SOCKET: notifySocket });
    await k.waitFor(/Control API listening on /);
    await waitGot(/READY=1/);
    const ready = got.split('\n').find((l) => l.includes('READY=1'))!;
    assert.match(JSON.parse(ready), new RegExp(`^MAINPID=${k.child.pid}\n`), 'sent on behalf of the daemon');
    k.child.kill('SIGTERM');
    assert.equal((await k.exited).code, 0);
    await waitGot(/STOPPING=1/);
  } finally {
    receiver.kill('SIGKILL');
  }
});
