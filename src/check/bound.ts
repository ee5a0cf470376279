// A checker target's socket options for src/sys/bound-socket.ts: keepalived's conn_opts (fwmark,
// bind_if, bindto, bind_port), for the checkers that must set what Node's net and dgram cannot.
import type { CheckTarget } from './spec.ts';
import type { BindOptions } from '../sys/bound-socket.ts';

export type BoundTarget = BindOptions & { readonly address: string; readonly port: number };

const cache = new WeakMap<CheckTarget, BoundTarget>();

/** Needs a socket from src/sys: fwmark (SO_MARK) or bind_if (SO_BINDTODEVICE) is set. */
export function needsBoundSocket(target: CheckTarget): boolean {
  return !!target.bindIf || !!target.fwmark;
}

/** Built once per target (targets live as long as their checker). */
export function boundTarget(target: CheckTarget): BoundTarget {
  let o = cache.get(target);
  if (!o) {
    o = {
      family: target.family, address: target.address, port: target.port,
      bindto: target.bindto, bindPort: target.bindPort, bindIf: target.bindIf, fwmark: target.fwmark,
    };
    cache.set(target, o);
  }
  return o;
}
