// ipvsadm -a / -e / -d over the API (docs/api.md).
import { coreError } from '../../core/errors.ts';
import { destSnapshot } from '../../core/snapshot.ts';
import { serviceKeyId } from '../../core/service.ts';
import { validateDest } from '../../core/director.ts';
import { type DestSpec, destSpecOf } from '../../core/dest.ts';
import { parseDestDelete, parseDestRequest } from '../body.ts';
import { fromCoreError } from '../errors.ts';
import { type ApiContext, type ApiRequest, type Reply, fault, json } from '../router.ts';
import { applyChange, checkFailure } from './change.ts';

/** POST /v1/dests (ipvsadm -a). */
export async function addDest(req: ApiRequest, ctx: ApiContext): Promise<Reply> {
  const b = parseDestRequest(req.body);
  if (!b.ok) return fault(b.error);
  const { key, dest } = b.value;
  const svc = ctx.director.getService(key);
  if (!svc) return fault(fromCoreError(coreError('SERVICE_NOT_FOUND', 'Service not defined', { service: serviceKeyId(key) })));
  // The core's own range checks come first, so a bad weight is reported as such on any plane.
  const valid = validateDest(svc, dest);
  if (!valid.ok) return fault(fromCoreError(valid.error));
  const refused = checkFailure(ctx.plane.checkDest(svc, dest));
  if (refused) return fault(refused);
  const r = await applyChange(ctx, () => ctx.director.addDest(key, dest),
    (d) => ctx.director.deleteDest(key, d.addr, d.port, ctx.now()));
  return r.ok ? json(destSnapshot(r.value), 201) : fault(r.error);
}

/** PUT /v1/dests (ipvsadm -e). */
export async function editDest(req: ApiRequest, ctx: ApiContext): Promise<Reply> {
  const b = parseDestRequest(req.body);
  if (!b.ok) return fault(b.error);
  const { key, dest } = b.value;
  const svc = ctx.director.getService(key);
  if (!svc) return fault(fromCoreError(coreError('SERVICE_NOT_FOUND', 'Service not defined', { service: serviceKeyId(key) })));
  // The core's own range checks come first, so a bad weight is reported as such on any plane.
  const valid = validateDest(svc, dest);
  if (!valid.ok) return fault(fromCoreError(valid.error));
  const refused = checkFailure(ctx.plane.checkDest(svc, dest));
  if (refused) return fault(refused);
  const cur = svc.findDest(dest.addr, dest.port);
  const old: DestSpec | null = cur ? destSpecOf(cur) : null;
  const r = await applyChange(ctx, () => ctx.director.editDest(key, dest), () => {
    if (old) ctx.director.editDest(key, old);
  });
  return r.ok ? json(destSnapshot(r.value)) : fault(r.error);
}

/** DELETE /v1/dests (ipvsadm -d). */
export async function deleteDest(req: ApiRequest, ctx: ApiContext): Promise<Reply> {
  const b = parseDestDelete(req.body);
  if (!b.ok) return fault(b.error);
  const { key, addr, port } = b.value;
  const r = await applyChange(ctx, () => ctx.director.deleteDest(key, addr, port, ctx.now()));
  return r.ok ? json({}) : fault(r.error);
}
