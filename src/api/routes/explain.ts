// POST /v1/explain: which real server a new flow from this client would get, and why, changing nothing.
import { addr } from '../../core/addr.ts';
import { coreError } from '../../core/errors.ts';
import { serviceKeyId } from '../../core/service.ts';
import type { Flow } from '../../core/director.ts';
import { parseExplain } from '../body.ts';
import { fromCoreError } from '../errors.ts';
import { type ApiContext, type ApiRequest, type Reply, fault, json } from '../router.ts';

export function explain(req: ApiRequest, ctx: ApiContext): Reply {
  const b = parseExplain(req.body);
  if (!b.ok) return fault(b.error);
  const { key, caddr, cport, virtual } = b.value;
  const svc = ctx.director.getService(key);
  if (!svc) return fault(fromCoreError(coreError('SERVICE_NOT_FOUND', undefined, { service: serviceKeyId(key) })));
  // A fwmark service has no VIP of its own: any address of the family stands in unless one is given.
  const flow: Flow = key.kind === 'addr'
    ? {
      protocol: key.protocol, caddr, cport,
      vaddr: virtual?.addr ?? key.vip, vport: virtual?.port ?? key.port,
    }
    : {
      protocol: (virtual?.protocol ?? 'tcp') as Flow['protocol'], caddr, cport,
      vaddr: virtual?.addr ?? addr(key.family === 6 ? '::' : '0.0.0.0'), vport: virtual?.port ?? 0, fwmark: key.fwmark,
    };
  const e = ctx.director.explain(svc, flow, ctx.now());
  return json({
    service: e.service, reason: e.reason, dest: e.dest, schedReason: e.schedReason ?? null,
    detail: e.detail ?? null, template: e.template ?? null, text: e.text,
  });
}
