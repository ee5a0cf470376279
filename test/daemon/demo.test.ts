// npm start (src/daemon/demo.ts) as a user runs it, on free ports instead of 8080-8083: the
// balancer answers from all three real servers, the control socket it prints works, and SIGINT
// (Ctrl-C) stops everything and removes its temp dir.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { existsSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { resolve } from 'node:path';
import { httpCall } from '../api/harness.ts';

const DEMO = resolve(import.meta.dirname, '..', '..', 'src', 'daemon', 'demo.ts');
const WAIT_MS = 15_000;

let child: ChildProcess | null = null;
let out = '';
after(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  // A killed demo cannot remove its temp dir: do it for it.
  const dir = /(\/\S*keepvs-demo-[^/\s]+)\//.exec(out)?.[1];
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Four consecutive ports on 127.0.0.1 that nobody listens on right now. */
async function freePortRun(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    const held: Server[] = [];
    let ok = true;
    for (let p = base; p < base + 4 && ok; p++) {
      const s = createServer();
      ok = await new Promise<boolean>((r) => {
        s.once('error', () => r(false));
        s.listen(p, '127.0.0.1', () => r(true));
      });
      if (ok) held.push(s);
    }
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (ok) return base;
  }
  throw new Error('no four free consecutive ports');
}

function fetchText(url: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    // A new TCP connection per request (Node keeps connections alive by default): one flow each.
    get(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolvePromise(body));
    }).on('error', reject);
  });
}

test('the demo balances over its three real servers and Ctrl-C stops it', async () => {
  const base = await freePortRun();
  child = spawn(process.execPath, [DEMO, '--port', String(base), '-s', 'rr'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
  const until = Date.now() + WAIT_MS;
  while (!out.includes('Ctrl-C stops') && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  assert.match(out, /Ctrl-C stops/, out);
  assert.match(out, new RegExp(`curl http://127\\.0\\.0\\.1:${base}/`));
  assert.match(out, /KEEPVS_SOCKET=\S+ \S*keepvsadm -L -n/);

  const answers = [];
  for (let i = 0; i < 6; i++) answers.push(await fetchText(`http://127.0.0.1:${base}/`));
  // rr over three equal dests: each real server answers twice (ip_vs_rr.c).
  assert.deepEqual([...answers].sort(), ['hello from rs1\n', 'hello from rs1\n', 'hello from rs2\n', 'hello from rs2\n', 'hello from rs3\n', 'hello from rs3\n']);

  const socketPath = /--unix-socket (\S+) http:\/\/keepvs\/metrics/.exec(out)![1];
  const services = await httpCall({ socketPath }, 'GET', '/v1/services');
  assert.equal(services.json.services[0].scheduler, 'rr');
  assert.equal(services.json.services[0].stats.counters.conns, 6);

  child.kill('SIGINT');
  assert.equal(await exited, 0, out);
  assert.ok(!existsSync(socketPath), 'socket removed');
  assert.ok(!existsSync(resolve(socketPath, '..')), 'temp dir removed');
});
