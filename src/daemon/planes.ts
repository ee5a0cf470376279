// --dataplane: which DataPlane forwards the packets. proxy is the default (user space, no root; it
// ticks the director from its own one-second sweep, on the clock given here). nft forwards in the
// kernel through nftables (docs/dataplane-nft.md); the daemon ticks the director for it.
import type { PlaneFactory } from './wiring.ts';
import { StartError } from './wiring.ts';
import { ProxyPlane } from '../dataplane/proxy/plane.ts';
import { openNftPlane, optionsFromEnv } from '../dataplane/nft/factory.ts';

export const createPlane: PlaneFactory = async (name, now, log) => {
  if (name === 'proxy') return { plane: new ProxyPlane({ clock: now, tickDirector: true }), ticksDirector: true };
  try {
    const plane = await openNftPlane({
      ...optionsFromEnv(process.env), clock: now,
      log: (level, message) => log.log(level, message),
    });
    return { plane, ticksDirector: false };
  } catch (e) {
    throw new StartError((e as Error).message);
  }
};
