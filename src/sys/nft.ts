// Running nft(8), iptables-nft(8), ip(8) and sysctl reads for the nft data plane. Every ruleset
// change goes through `nft -f -` (the text on stdin): nft sends the whole file to the kernel as one
// nf_tables batch, so it applies completely or not at all. A small interface so tests use a fake.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface NetCommands {
  /** Load a ruleset / transaction with `nft -f -`. */
  nft(text: string): Promise<CommandResult>;
  /** `nft ARGS…` (e.g. ['-j', 'list', 'counters', 'table', 'ip', 'keepvs']). */
  nftArgs(args: readonly string[]): Promise<CommandResult>;
  /** iptables-nft ARGS… (only for the NFQUEUE target, which nft cannot express on this kernel). */
  iptables(args: readonly string[]): Promise<CommandResult>;
  /** ip6tables-nft ARGS… (the NFQUEUE target for IPv6 services); absent in fakes without IPv6. */
  ip6tables?(args: readonly string[]): Promise<CommandResult>;
  /** ip ARGS… (rules, routes, links). */
  ip(args: readonly string[]): Promise<CommandResult>;
  /** A sysctl's value from /proc/sys (e.g. 'net.ipv4.ip_forward'), or null when absent. */
  sysctl(name: string): string | null;
  /** Write a sysctl (only when the operator asked keepvs to fix them). */
  setSysctl(name: string, value: string): Promise<CommandResult>;
  /** conntrack(8) ARGS… (e.g. ['-D', '--mark', '…']). */
  conntrack(args: readonly string[]): Promise<CommandResult>;
}

function run(bin: string, args: readonly string[], input?: string, timeoutMs = 15_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', (e: NodeJS.ErrnoException) => resolve({ code: e.code === 'ENOENT' ? 127 : 126, stdout, stderr: `${bin}: ${e.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

export function sysctlPath(name: string): string {
  return `/proc/sys/${name.replace(/\./g, '/')}`;
}

export function createNetCommands(): NetCommands {
  return {
    nft: (text) => run('nft', ['-f', '-'], text),
    nftArgs: (args) => run('nft', args),
    iptables: (args) => run('iptables-nft', ['-w', '5', ...args]),
    ip6tables: (args) => run('ip6tables-nft', ['-w', '5', ...args]),
    ip: (args) => run('ip', args),
    sysctl(name) {
      try {
        return readFileSync(sysctlPath(name), 'utf8').trim();
      } catch {
        return null;
      }
    },
    setSysctl: (name, value) => run('sysctl', ['-qw', `${name}=${value}`]),
    conntrack: (args) => run('conntrack', args),
  };
}

/** Whether a program can be started at all (for preflight errors that name the missing package). */
export function haveProgram(bin: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(bin, ['--version'], { timeout: 5000 }, (e) => {
      resolve(!(e && (e as NodeJS.ErrnoException).code === 'ENOENT'));
    });
  });
}
