// The `ip` command (iproute2) as the way VRRP changes addresses, routes and rules, and reads interfaces.
// keepalived talks netlink directly (vrrp_ipaddress.c netlink_ipaddress); `ip` sends the same netlink
// requests and gives readable errors, at a few milliseconds per change, which VRRP can afford (a
// transition changes a handful of objects). Commands run one at a time per runner, in order.
import { execFile } from 'node:child_process';

export interface IpResult {
  readonly ok: boolean;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The command as run, for logs. */
  readonly command: string;
}

export interface IpRunner {
  /** Run `ip ARGS...`; never throws, failures come back with ok false. */
  run(args: readonly string[]): Promise<IpResult>;
}

export interface IpRunnerOptions {
  /** Path of the ip binary (default: `ip` on PATH). */
  readonly bin?: string;
  /** Run inside a network namespace: `ip -n NS ...`. */
  readonly netns?: string;
  readonly timeoutMs?: number;
}

export function createIpRunner(o: IpRunnerOptions = {}): IpRunner {
  const bin = o.bin ?? 'ip';
  let queue: Promise<unknown> = Promise.resolve();
  const exec = (args: readonly string[]): Promise<IpResult> => new Promise((resolve) => {
    const full = [...(o.netns ? ['-n', o.netns] : []), ...args];
    const command = `${bin} ${full.join(' ')}`;
    execFile(bin, full, { timeout: o.timeoutMs ?? 5000, maxBuffer: 16 * 1024 * 1024 }, (e, stdout, stderr) => {
      const code = e ? (typeof (e as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? (e as unknown as { code: number }).code : null) : 0;
      resolve({ ok: !e, code, stdout: String(stdout), stderr: String(stderr).trim() || (e ? e.message : ''), command });
    });
  });
  return {
    run(args) {
      const p = queue.then(() => exec(args));
      queue = p.catch(() => undefined);
      return p;
    },
  };
}

/** One interface as `ip -j addr show` describes it. */
export interface LinkInfo {
  readonly name: string;
  readonly index: number;
  /** Hardware address bytes; null for interfaces without one. */
  readonly mac: Uint8Array | null;
  /** IFF_UP and the carrier (LOWER_UP): keepalived's IF_FLAGS_UP. */
  readonly up: boolean;
  readonly mtu: number;
  /** Addresses in kernel order. */
  readonly addrs: readonly { family: 4 | 6; address: string; prefixlen: number; secondary: boolean; scope: string; tentative?: boolean }[];
}

interface IpJsonAddr {
  ifname: string;
  ifindex: number;
  flags?: string[];
  mtu?: number;
  address?: string;
  addr_info?: { family: string; local: string; prefixlen: number; secondary?: boolean; scope?: string; tentative?: boolean; dadfailed?: boolean }[];
}

export function parseMac(text: string | undefined): Uint8Array | null {
  if (!text || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(text)) return null;
  return new Uint8Array(text.split(':').map((h) => parseInt(h, 16)));
}

/** Parse `ip -j addr show` output. */
export function parseIpAddrJson(stdout: string): LinkInfo[] {
  const list = JSON.parse(stdout || '[]') as IpJsonAddr[];
  return list.map((l) => {
    const flags = l.flags ?? [];
    return {
      name: l.ifname,
      index: l.ifindex,
      mac: parseMac(l.address),
      up: flags.includes('UP') && (flags.includes('LOWER_UP') || flags.includes('LOOPBACK')),
      mtu: l.mtu ?? 1500,
      addrs: (l.addr_info ?? []).filter((a) => a.family === 'inet' || a.family === 'inet6').map((a) => ({
        family: a.family === 'inet' ? 4 as const : 6 as const,
        address: a.local,
        prefixlen: a.prefixlen,
        secondary: a.secondary ?? false,
        scope: a.scope ?? 'global',
        // Still in duplicate address detection (or failed it): not usable as a source yet.
        tentative: (a.tentative ?? false) || (a.dadfailed ?? false),
      })),
    };
  });
}

export async function readLinks(ip: IpRunner): Promise<LinkInfo[]> {
  const r = await ip.run(['-j', 'addr', 'show']);
  if (!r.ok) throw new Error(`${r.command}: ${r.stderr}`);
  return parseIpAddrJson(r.stdout);
}
