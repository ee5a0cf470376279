// ipvsadm -a / -e / -d over the API (docs/api.md).
import { coreError } from '../../core/errors.ts';
import { type Result, err, ok } from '../../core/result.ts';
import { destSnapshot } from '../../core/snapshot.ts';
import { type Service, type ServiceKey, serviceKeyId } from '../../core/service.ts';
import { validateDest } from '../../core/director.ts';
import { type DestSpec, destSpecOf } from '../../core/dest.ts';
import { parseDestDelete, parseDestRequest } from '../body.ts';
import { type ApiError, fromCoreError } from '../errors.ts';
import { type ApiContext, type ApiRequest, type Reply, fault, json } from '../router.ts';
import { applyChange, checkFailure } from './change.ts';

/**
 * The checks -a and -e share, in the order ipvsadm users see their errors: the body, the service,
 * the core's own range checks (so a bad weight is reported as such on any plane), then the plane.
 */
function checkedDestRequest(req: ApiRequest, ctx: ApiContext): Result<{ key: ServiceKey; dest: DestSpec; svc: Service }, ApiError> {
  const b = parseDestRequest(req.body);
  if (!b.ok) return b;
  const { key, dest } = b.value;
  const svc = ctx.director.getService(key);
  if (!svc) return err(fromCoreError(coreError('SERVICE_NOT_FOUND', 'Service not defined', { service: serviceKeyId(key) })));
  const valid = validateDest(svc, dest);
  if (!valid.ok) return err(fromCoreError(valid.error));
  const refused = checkFailure(ctx.plane.checkDest(svc, dest));
  if (refused) return err(refused);
  return ok({ key, dest, svc });
}

/** POST /v1/dests (ipvsadm -a). */
export async function addDest(req: ApiRequest, ctx: ApiContext): Promise<Reply> {
  const checked = checkedDestRequest(req, ctx);
  if (!checked.ok) return fault(checked.error);
  const { key, dest } = checked.value;
  const r = await applyChange(ctx, () => ctx.director.addDest(key, dest),
    (d) => ctx.director.deleteDest(key, d.addr, d.port, ctx.now()));
  return r.ok ? json(destSnapshot(r.value), 201) : fault(r.error);
}

/** PUT /v1/dests (ipvsadm -e). */
export async function editDest(req: ApiRequest, ctx: ApiContext): Promise<Reply> {
  const checked = checkedDestRequest(req, ctx);
  if (!checked.ok) return fault(checked.error);
  const { key, dest, svc } = checked.value;
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
