// ipvsadm -A / -E / -D / -C / -Z over the API (docs/api.md).
import { validateService } from '../../core/director.ts';
import { serviceSnapshot, servicesSnapshot } from '../../core/snapshot.ts';
import { parseServiceOnly, parseServiceRequest } from '../body.ts';
import { fromCoreError } from '../errors.ts';
import { type ApiContext, type ApiRequest, type Reply, fault, json } from '../router.ts';
import { coreError } from '../../core/errors.ts';
import { serviceKeyId } from '../../core/service.ts';
import { applyChange, checkFailure } from './change.ts';

export function listServices(_req: ApiRequest, ctx: ApiContext): Reply {
  return json({ services: servicesSnapshot(ctx.director) });
}

/** POST /v1/services (ipvsadm -A). */
export async function addService(req: ApiRequest, ctx: ApiContext): Promise<Reply> {
  const b = parseServiceRequest(req.body);
  if (!b.ok) return fault(b.error);
  const { key, options } = b.value;
  const v = validateService(key, options);
  if (!v.ok) return fault(fromCoreError(v.error));
  if (ctx.director.getService(key)) return fault(fromCoreError(coreError('SERVICE_EXISTS', undefined, { service: serviceKeyId(key) })));
  const refused = checkFailure(ctx.plane.checkService(key, options));
  if (refused) return fault(refused);
  const r = await applyChange(ctx, () => ctx.director.addService(key, options), () => ctx.director.deleteService(key, ctx.now()));
  return r.ok ? json(serviceSnapshot(r.value), 201) : fault(r.error);
}

/** PUT /v1/services (ipvsadm -E). */
export async function editService(req: ApiRequest, ctx: ApiContext): Promise<Reply> {
  const b = parseServiceRequest(req.body);
  if (!b.ok) return fault(b.error);
  const { key, options } = b.value;
  const v = validateService(key, options);
  if (!v.ok) return fault(fromCoreError(v.error));
  const svc = ctx.director.getService(key);
  if (!svc) return fault(fromCoreError(coreError('SERVICE_NOT_FOUND', undefined, { service: serviceKeyId(key) })));
  const refused = checkFailure(ctx.plane.checkService(key, options));
  if (refused) return fault(refused);
  const old = svc.options;
  const r = await applyChange(ctx, () => ctx.director.editService(key, options), () => ctx.director.editService(key, old));
  return r.ok ? json(serviceSnapshot(r.value)) : fault(r.error);
}

/** DELETE /v1/services (ipvsadm -D). */
export async function deleteService(req: ApiRequest, ctx: ApiContext): Promise<Reply> {
  const b = parseServiceOnly(req.body);
  if (!b.ok) return fault(b.error);
  const key = b.value!;
  const r = await applyChange(ctx, () => ctx.director.deleteService(key, ctx.now()));
  return r.ok ? json({}) : fault(r.error);
}

/** POST /v1/clear (ipvsadm -C). */
export async function clear(_req: ApiRequest, ctx: ApiContext): Promise<Reply> {
  const r = await applyChange(ctx, () => {
    ctx.director.clear(ctx.now());
    return { ok: true, value: undefined } as const;
  });
  return r.ok ? json({}) : fault(r.error);
}

/** POST /v1/zero (ipvsadm -Z): every service, or the one named. */
export function zero(req: ApiRequest, ctx: ApiContext): Reply {
  const b = parseServiceOnly(req.body, true);
  if (!b.ok) return fault(b.error);
  const r = ctx.director.zero(b.value);
  return r.ok ? json({}) : fault(fromCoreError(r.error));
}
