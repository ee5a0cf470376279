// The API's error catalogue (docs/api.md, "Errors"): every 4xx/5xx body is
// {"error":{"code","errno","message","context"}}. Codes are the core's (src/core/errors.ts), the data
// plane's refusals (src/dataplane/dataplane.ts) and the API-level ones below; each rejection is
// counted under its code (keepvs_api_rejected_total{code}).
import type { CoreError } from '../core/errors.ts';
import type { DataPlaneError } from '../dataplane/dataplane.ts';

export const API_ERRORS = {
  BAD_REQUEST: { status: 400, errno: 'EINVAL', text: 'bad request' },
  UNAUTHORIZED: { status: 401, errno: 'EACCES', text: 'missing or wrong bearer token' },
  NOT_FOUND: { status: 404, errno: 'ENOENT', text: 'no such route' },
  METHOD_NOT_ALLOWED: { status: 405, errno: 'EINVAL', text: 'method not allowed on this route' },
  PAYLOAD_TOO_LARGE: { status: 413, errno: 'E2BIG', text: 'request body too large' },
  INTERNAL: { status: 500, errno: 'EIO', text: 'internal error' },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** What a route answers when it refuses: serialised as the error body. */
export interface ApiError {
  readonly status: number;
  readonly code: string;
  readonly errno: string;
  readonly message: string;
  readonly context: Readonly<Record<string, unknown>>;
}

export function apiError(code: ApiErrorCode, message?: string, context: Record<string, unknown> = {}): ApiError {
  const d = API_ERRORS[code];
  return { status: d.status, code, errno: d.errno, message: message ?? d.text, context };
}

/** A malformed body field: BAD_REQUEST naming the field (docs/api.md). */
export function fieldError(field: string, message: string, extra: Record<string, unknown> = {}): ApiError {
  return apiError('BAD_REQUEST', `${field}: ${message}`, { field, ...extra });
}

/**
 * A core refusal keeps its code and errno; the HTTP status follows the errno (ESRCH/ENOENT: the
 * named service or dest does not exist; EEXIST: it does), except that an unknown scheduler or
 * persistence engine is a bad value in the body, not a missing resource.
 */
export function fromCoreError(e: CoreError): ApiError {
  let status: number;
  if (e.code === 'SCHEDULER_NOT_FOUND' || e.code === 'PE_NOT_FOUND') status = 400;
  else if (e.errno === 'ESRCH' || e.errno === 'ENOENT') status = 404;
  else if (e.errno === 'EEXIST') status = 409;
  else status = 400;
  return { status, code: e.code, errno: e.errno, message: e.message, context: e.context };
}

/** The plane cannot do it (e.g. DR on the proxy plane) or could not bind a listener. */
export function fromPlaneError(e: DataPlaneError): ApiError {
  switch (e.code) {
    case 'UNSUPPORTED_FWD':
    case 'UNSUPPORTED_PROTOCOL':
    case 'UNSUPPORTED_FWMARK':
      return { status: 400, code: e.code, errno: 'EOPNOTSUPP', message: e.message, context: e.context };
    case 'BIND_FAILED':
      return { status: 409, code: e.code, errno: 'EADDRINUSE', message: e.message, context: e.context };
    default:
      return { status: 500, code: e.code, errno: 'EIO', message: e.message, context: e.context };
  }
}

export function errorBody(e: ApiError): { error: { code: string; errno: string; message: string; context: Readonly<Record<string, unknown>> } } {
  return { error: { code: e.code, errno: e.errno, message: e.message, context: e.context } };
}
