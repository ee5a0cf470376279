// What the daemon-level VRRP namespace tests share: the root/iproute2 check, `ip`, a bounded wait, and
// one namespace with a veth pair (v0 addressed, v1 its peer) that is deleted when the test ends.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';

export const ROOT = resolve(import.meta.dirname, '..', '..');

/** Why these tests cannot run here, or null. */
export function canRun(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespace, raw VRRP socket)';
  try { execFileSync('ip', ['-V'], { stdio: 'ignore' }); } catch { return 'needs iproute2 (ip)'; }
  return null;
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

/** Poll `cond` every 100 ms for at most `ms`; fail naming `what` (and `log()` when given). */
export async function until(what: string, cond: () => boolean, ms: number, log?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}${log ? `\n${log()}` : ''}`);
}

/** Namespace `ns` with lo up and veth v0 (address `cidr`) / v1 up, plus a temp dir; both removed after the test. */
export function vethNamespace(t: TestContext, ns: string, cidr: string, dirPrefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  t.after(() => {
    try { ip('netns', 'del', ns); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  });
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  ip('-n', ns, 'link', 'set', 'v0', 'up');
  ip('-n', ns, 'link', 'set', 'v1', 'up');
  ip('-n', ns, 'addr', 'add', cidr, 'dev', 'v0');
  return dir;
}

/** bin/keepvs -l -f `conf` inside `ns` (control socket and pid file in `dir`), its output collected, killed when the test ends. */
export function spawnKeepvs(t: TestContext, ns: string, dir: string, conf: string): { child: ChildProcess; log: () => string; exited: Promise<number | null> } {
  const child = spawn('ip', ['netns', 'exec', ns, join(ROOT, 'bin', 'keepvs'), '-l', '-f', conf, '--control', join(dir, 'k.sock'), '--pid', join(dir, 'k.pid')],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  return { child, log: () => out, exited };
}
