// How every route that changes the director does it: the plane's check first, then the director,
// then plane.sync(director); when the sync fails (a listener cannot be opened) the change is undone
// and the plane re-synced, so a refused request leaves the running state as it was.
import type { CoreError } from '../../core/errors.ts';
import type { Result } from '../../core/result.ts';
import type { Check, DataPlaneError } from '../../dataplane/dataplane.ts';
import { type ApiError, fromCoreError, fromPlaneError } from '../errors.ts';
import type { ApiContext } from '../router.ts';

const PLANE_CODES: readonly DataPlaneError['code'][] = [
  'UNSUPPORTED_FWD', 'UNSUPPORTED_PROTOCOL', 'UNSUPPORTED_FWMARK', 'BIND_FAILED', 'PLANE_ERROR',
];

/**
 * A rejected plane.sync(): an Error carrying a DataPlaneError as .error (the proxy plane's
 * ListenError) or .planeError, or being one itself.
 */
export function planeFailure(e: unknown): ApiError {
  const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
  const carried = [o.error, o.planeError].find((x) => typeof x === 'object' && x !== null);
  const inner = (carried ?? o) as Record<string, unknown>;
  const code = inner.code;
  const message = typeof inner.message === 'string' ? inner.message : String(e);
  const context = (typeof inner.context === 'object' && inner.context !== null ? inner.context : {}) as Record<string, unknown>;
  if (typeof code === 'string' && (PLANE_CODES as readonly string[]).includes(code)) {
    return fromPlaneError({ code: code as DataPlaneError['code'], message, context });
  }
  return fromPlaneError({ code: 'PLANE_ERROR', message, context });
}

/** A plane's check refused the request: always the request's fault (400), whatever the code. */
export function checkFailure(c: Check): ApiError | null {
  if (c.ok) return null;
  const e = fromPlaneError(c.error);
  return e.status === 400 ? e : { ...e, status: 400, errno: 'EOPNOTSUPP' };
}

/**
 * Apply one director change and bring the plane along. `undo` restores the director when the
 * plane cannot follow; without it (deletions, clear) a failed sync is reported but stands.
 */
export async function applyChange<T>(
  ctx: ApiContext,
  change: () => Result<T, CoreError>,
  undo?: (value: T) => void,
): Promise<{ ok: true; value: T } | { ok: false; error: ApiError }> {
  const r = change();
  if (!r.ok) return { ok: false, error: fromCoreError(r.error) };
  try {
    await ctx.plane.sync(ctx.director);
  } catch (e) {
    const error = planeFailure(e);
    if (undo) {
      undo(r.value);
      try {
        await ctx.plane.sync(ctx.director);
      } catch {
        // The plane already refused once; the director is back as it was, which is what matters.
      }
    }
    return { ok: false, error };
  }
  return { ok: true, value: r.value };
}
