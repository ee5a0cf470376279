// Shared by the nft plane's namespace tests and its benchmark: a keepvs daemon with --dataplane nft
// running inside the director namespace, driven with keepvsadm over its control socket, and the
// client program (nft-client.ts) run inside the client namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { exec, inNs, type Lab } from '../../src/sys/netns.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const KEEPVS = join(ROOT, 'bin', 'keepvs');
const KEEPVSADM = join(ROOT, 'bin', 'keepvsadm');
const CLIENT = join(ROOT, 'test', 'dataplane', 'nft-client.ts');

export interface RunningDaemon {
  readonly socket: string;
  readonly child: ChildProcess;
  output(): string;
  adm(...args: string[]): Promise<string>;
  stop(): Promise<number | null>;
}

export async function startNftDaemon(lab: Lab, env: NodeJS.ProcessEnv = {}, args: readonly string[] = []): Promise<RunningDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'keepvs-nft-'));
  const socket = join(dir, 'keepvs.sock');
  const child = spawn('ip', ['netns', 'exec', lab.ns.director, KEEPVS, '--dataplane', 'nft', '-l', '-n', '--control', socket, '-p', join(dir, 'keepvs.pid'), ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.once('exit', (code, signal) => { out += `\n[keepvs exited: code ${code} signal ${signal}]\n`; });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (!out.includes('Control API listening on') && Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`keepvs exited: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!out.includes('Control API listening on')) {
    child.kill('SIGKILL');
    throw new Error(`keepvs did not start: ${out}`);
  }
  return {
    socket, child,
    output: () => out,
    async adm(...args) {
      const r = await exec('sh', ['-c', `KEEPVS_SOCKET=${socket} "$0" "$@"`, KEEPVSADM, ...args]);
      if (r.code !== 0) {
        const dead = child.exitCode !== null || child.signalCode !== null ? ` (keepvs exited: ${child.exitCode ?? child.signalCode})` : '';
        throw new Error(`keepvsadm ${args.join(' ')}: ${r.stderr.trim() || r.stdout.trim()}${dead}\n--- keepvs output (tail) ---\n${out.split('\n').slice(-15).join('\n')}`);
      }
      return r.stdout;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

export async function client<T>(lab: Lab, ...args: string[]): Promise<T> {
  const r = await inNs(lab.ns.client, [NODE, CLIENT, ...args], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`client ${args.join(' ')}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as T;
}

/** N sequential HTTP requests; the replies ("<rs-ns> <peer>:<port>"). */
export async function httpReplies(lab: Lab, target: string, n: number, srcs?: readonly string[]): Promise<string[]> {
  const r = await client<{ replies: string[] }>(lab, 'http', target, String(n), ...(srcs ? [srcs.join(',')] : []));
  return r.replies;
}

/** The RS namespace name of a reply, mapped to its index (0 = RS1). */
export function rsIndex(lab: Lab, reply: string): number {
  return lab.ns.rs.indexOf(reply.split(' ')[0]);
}

/** Wait until f() is true (bounded). */
export async function until(f: () => Promise<boolean> | boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return f();
}
