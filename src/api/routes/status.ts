// Read-only views and the timeouts (ipvsadm -L --timeout / --set, -L -c), plus the dumps.
import { connectionsSnapshot } from '../../core/snapshot.ts';
import { parseTimeouts } from '../body.ts';
import { fromCoreError } from '../errors.ts';
import { type ApiContext, type ApiRequest, type Reply, fault, json, text } from '../router.ts';

export function info(_req: ApiRequest, ctx: ApiContext): Reply {
  return json(ctx.info());
}

export function connections(_req: ApiRequest, ctx: ApiContext): Reply {
  return json({ connections: connectionsSnapshot(ctx.director, ctx.now()) });
}

export function getTimeouts(_req: ApiRequest, ctx: ApiContext): Reply {
  return json(ctx.director.timeouts.getTimeouts());
}

/** PUT /v1/timeouts (ipvsadm --set): 0 leaves an entry unchanged. */
export function setTimeouts(req: ApiRequest, ctx: ApiContext): Reply {
  const b = parseTimeouts(req.body);
  if (!b.ok) return fault(b.error);
  const r = ctx.director.timeouts.setTimeouts(b.value);
  return r.ok ? json(r.value) : fault(fromCoreError(r.error));
}

/** GET /v1/dump/data: what SIGUSR1 writes to /tmp/keepvs.data. */
export function dumpData(_req: ApiRequest, ctx: ApiContext): Reply {
  return text(ctx.dumps.data());
}

/** GET /v1/dump/stats: what SIGUSR2 writes to /tmp/keepvs.stats. */
export function dumpStats(_req: ApiRequest, ctx: ApiContext): Reply {
  return text(ctx.dumps.stats());
}
