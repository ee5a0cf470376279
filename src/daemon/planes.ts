// --dataplane: which DataPlane forwards the packets. proxy is the default (user space, no root; it
// ticks the director from its own one-second sweep, on the clock given here). nft (kernel
// forwarding through nftables) does not exist yet and wiring.ts refuses it before this is called.
import type { PlaneFactory } from './wiring.ts';
import { StartError } from './wiring.ts';
import { ProxyPlane } from '../dataplane/proxy/plane.ts';

export const createPlane: PlaneFactory = async (name, now) => {
  if (name === 'proxy') return { plane: new ProxyPlane({ clock: now, tickDirector: true }), ticksDirector: true };
  throw new StartError(`the ${name} data plane is not implemented yet; use --dataplane proxy`);
};
