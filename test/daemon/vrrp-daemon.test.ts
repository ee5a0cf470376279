// keepvs -f with a vrrp_instance: the daemon runs VRRP from the same file, becomes MASTER (address
// owner, priority 255), adds the VIP, and on SIGTERM sends priority 0 and removes it again
// (keepalived's release on stop). Runs in its own network namespace; needs root and ip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

function canRun(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespace, raw VRRP socket)';
  try { execFileSync('ip', ['-V'], { stdio: 'ignore' }); } catch { return 'needs iproute2 (ip)'; }
  return null;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('keepvs -f runs the file\'s vrrp_instance: MASTER adds the VIP, SIGTERM releases it', async (t) => {
  const why = canRun();
  if (why) { t.skip(why); return; }
  const ns = `kvvd${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'keepvs-vrrp-'));
  t.after(() => {
    try { ip('netns', 'del', ns); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  });
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  ip('-n', ns, 'link', 'set', 'v0', 'up');
  ip('-n', ns, 'link', 'set', 'v1', 'up');
  ip('-n', ns, 'addr', 'add', '198.18.7.1/24', 'dev', 'v0');
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(conf, `
vrrp_instance VI_1 {
  state MASTER
  interface v0
  virtual_router_id 61
  priority 255
  advert_int 1
  virtual_ipaddress {
    198.18.7.100/24
  }
}
`);
  const child = spawn('ip', ['netns', 'exec', ns, join(ROOT, 'bin', 'keepvs'), '-l', '-f', conf, '--control', join(dir, 'k.sock'), '--pid', join(dir, 'k.pid')],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const hasVip = () => ip('-n', ns, '-4', 'addr', 'show', 'dev', 'v0').includes('198.18.7.100/24');
  await until('the VIP on v0', hasVip, 8000);
  assert.match(out, /\(VI_1\) Entering MASTER STATE/);
  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
  assert.equal(code, 0, out);
  assert.equal(hasVip(), false, 'the VIP is released on stop');
  assert.match(out, /\(VI_1\) sent 0 priority/);
});
