// Building the nft plane on a real host: the privilege check (a clear error naming what is missing),
// the programs it runs, the ipip probe for TUN, the NFQUEUE consumer and the conntrack reader.
// Options come from the daemon (planes.ts): its --nft-* flags, with KEEPVS_NFT_* environment
// variables as the fallback (flags.ts; docs/dataplane-nft.md).
import { readFileSync } from 'node:fs';
import { createNetCommands, type NetCommands } from '../../sys/nft.ts';
import { openNfQueue } from '../../sys/nfqueue.ts';
import { dumpConntrack } from '../../sys/conntrack.ts';
import { CAP_NET_ADMIN, effectiveCaps, hasCap } from './preflight.ts';
import { NftPlane, type NftPlaneOptions } from './plane.ts';
import type { TunnelEncap } from './dr-routes.ts';

export class NftStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NftStartError';
  }
}

export interface NftEnvOptions {
  readonly table?: string;
  readonly fullnatSource?: string | null;
  readonly flushOnStop?: boolean;
  readonly fixSysctls?: boolean;
  readonly exactAll?: boolean;
  readonly queueFailure?: 'fallback' | 'drop';
  readonly queueNum?: number;
  /** Connection-view refresh period (ms). */
  readonly viewIntervalMs?: number;
  /** Do not bind the NFQUEUE consumer (tests of the fail-open/drop behaviour). */
  readonly noQueue?: boolean;
  /** Map --set timeouts onto conntrack's sysctls. */
  readonly mapTimeouts?: boolean;
  /** How TUN dests are encapsulated (default ipip, where the kernel has it). */
  readonly tunnel?: TunnelEncap;
}

/**
 * KEEPVS_NFT_TABLE, _FULLNAT_SOURCE, _FLUSH_ON_STOP (0/1), _FIX_SYSCTLS (0/1), _EXACT (all),
 * _QUEUE_FAILURE (fallback|drop), _QUEUE_NUM, _VIEW_MS, _NO_QUEUE (1), _MAP_TIMEOUTS (1).
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv): NftEnvOptions {
  const bool = (v: string | undefined) => (v === undefined ? undefined : v === '1' || v === 'yes' || v === 'true');
  const qf = env.KEEPVS_NFT_QUEUE_FAILURE;
  return {
    table: env.KEEPVS_NFT_TABLE || undefined,
    fullnatSource: env.KEEPVS_NFT_FULLNAT_SOURCE || null,
    flushOnStop: bool(env.KEEPVS_NFT_FLUSH_ON_STOP),
    fixSysctls: bool(env.KEEPVS_NFT_FIX_SYSCTLS),
    exactAll: env.KEEPVS_NFT_EXACT === 'all',
    queueFailure: qf === 'drop' || qf === 'fallback' ? qf : undefined,
    queueNum: env.KEEPVS_NFT_QUEUE_NUM ? Number(env.KEEPVS_NFT_QUEUE_NUM) : undefined,
    viewIntervalMs: env.KEEPVS_NFT_VIEW_MS ? Number(env.KEEPVS_NFT_VIEW_MS) : undefined,
    noQueue: bool(env.KEEPVS_NFT_NO_QUEUE),
    mapTimeouts: bool(env.KEEPVS_NFT_MAP_TIMEOUTS),
  };
}

/** Probe: can this kernel make ipip devices (LVS-TUN)? The probe device is removed at once. */
export async function probeIpip(cmd: NetCommands): Promise<boolean> {
  const name = `kvsprobe${process.pid % 10000}`;
  const r = await cmd.ip(['link', 'add', name, 'type', 'ipip', 'remote', '192.0.2.1', 'local', '192.0.2.2']);
  if (r.code !== 0) return false;
  await cmd.ip(['link', 'del', name]);
  return true;
}

export async function openNftPlane(
  opts: NftEnvOptions & { clock: () => number; log: NftPlaneOptions['log']; commands?: NetCommands; procStatus?: string },
): Promise<NftPlane> {
  const status = opts.procStatus ?? readFileSync('/proc/self/status', 'utf8');
  if (!hasCap(effectiveCaps(status), CAP_NET_ADMIN)) {
    throw new NftStartError('the nft data plane needs root or CAP_NET_ADMIN (missing: CAP_NET_ADMIN); '
      + 'run keepvs as root, or grant it with AmbientCapabilities=CAP_NET_ADMIN, or use --dataplane proxy');
  }
  const cmd = opts.commands ?? createNetCommands();
  const v = await cmd.nftArgs(['--version']);
  if (v.code === 127) throw new NftStartError('the nft data plane needs nft(8): apt-get install nftables');
  const ipip = await probeIpip(cmd);
  const plane = new NftPlane({
    commands: cmd, clock: opts.clock, log: opts.log, table: opts.table, fullnatSource: opts.fullnatSource ?? null,
    flushOnStop: opts.flushOnStop, exactAll: opts.exactAll, queueFailure: opts.queueFailure, queueNum: opts.queueNum,
    ipip, viewIntervalMs: opts.viewIntervalMs, mapTimeouts: opts.mapTimeouts, tunnel: opts.tunnel,
    openQueue: opts.noQueue ? undefined : (n) => openNfQueue({ queueNum: n }),
    conntrack: { dump: dumpConntrack },
  });
  try {
    await plane.start(opts.fixSysctls ?? false);
  } catch (e) {
    throw new NftStartError(`nft data plane: ${(e as Error).message}`);
  }
  return plane;
}
