// --dataplane: which DataPlane forwards the packets. proxy is the default (user space, no root; it
// ticks the director from its own one-second sweep, on the clock given here). nft forwards in the
// kernel through nftables (docs/dataplane-nft.md); the daemon ticks the director for it. The nft
// plane's options come from the --nft-* flags, with KEEPVS_NFT_* variables as the fallback.
import type { PlaneFactory } from './wiring.ts';
import { StartError } from './wiring.ts';
import { ProxyPlane, type TcpEngineName } from '../dataplane/proxy/plane.ts';
import { openNftPlane, type NftEnvOptions } from '../dataplane/nft/factory.ts';
import { mergeNftOptions } from '../dataplane/nft/flags.ts';

/**
 * The plane factory for one daemon: `nft` = the --nft-* flags given (DaemonOptions.nft), `engine`
 * = --proxy-engine. The proxy plane's engine is logged, with the reason when io_uring cannot run.
 */
export function planeFactory(nft: NftEnvOptions = {}, engine?: TcpEngineName): PlaneFactory {
  return async (name, now, log) => {
    if (name === 'proxy') {
      const plane = new ProxyPlane({ clock: now, tickDirector: true, ...(engine !== undefined ? { tcpEngine: engine } : {}) });
      if (plane.engineFallback !== null) log.warn(`proxy plane: ${plane.engineFallback}; using the ${plane.tcpEngine} TCP engine`);
      else log.log('info', `proxy plane: ${plane.tcpEngine} TCP engine`);
      return { plane, ticksDirector: true };
    }
    const opts = mergeNftOptions(process.env, nft);
    if (!opts.ok) throw new StartError(opts.message);
    try {
      const plane = await openNftPlane({
        ...opts.value, clock: now,
        log: (level, message) => log.log(level, message),
      });
      return { plane, ticksDirector: false };
    } catch (e) {
      throw new StartError((e as Error).message);
    }
  };
}

export const createPlane: PlaneFactory = planeFactory();
