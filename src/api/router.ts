// The route table's shapes: a route is (method, path, handler); handlers get a parsed request and
// the daemon's context and answer with a Reply. The table itself is src/api/routes/index.ts.
import type { Director } from '../core/director.ts';
import type { InfoSnapshot } from '../core/snapshot.ts';
import type { DataPlane } from '../dataplane/dataplane.ts';
import type { ApiError } from './errors.ts';
import type { BfdSessionSnapshot, BfdStats } from '../check/bfd/process.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ApiRequest {
  readonly method: Method;
  readonly path: string;
  readonly query: URLSearchParams;
  /** The parsed JSON body; undefined when the request had none. */
  readonly body: unknown;
}

export type Reply =
  | { readonly kind: 'json'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'text'; readonly status: number; readonly body: string; readonly contentType: string }
  | { readonly kind: 'error'; readonly error: ApiError };

export function json(body: unknown, status = 200): Reply {
  return { kind: 'json', status, body };
}

export function text(body: string, contentType = 'text/plain; charset=utf-8', status = 200): Reply {
  return { kind: 'text', status, body, contentType };
}

export function fault(error: ApiError): Reply {
  return { kind: 'error', error };
}

/** keepvs's own counters that the API shows (metrics, dumps) besides the director's. */
export interface ApiCounters {
  /** Every refused request, by error code (keepvs_api_rejected_total{code}). */
  readonly rejected: Map<string, number>;
  /** Requests answered, by route and status class. */
  readonly requests: Map<string, number>;
}

/** keepvs -f's configuration (the daemon's ConfigRunner), for the keepvs_config_* metrics. */
export interface ConfigStatus {
  /** The file last loaded successfully; null before one was. */
  readonly file: string | null;
  /** A reload was refused (the file has errors) and the previous configuration still runs. */
  readonly stale: boolean;
  /** When the configuration was last loaded successfully (start or reload), seconds since the epoch. */
  readonly lastSuccessSeconds: number | null;
  /** SIGHUP reloads by outcome. */
  readonly reloads: { readonly success: number; readonly failure: number };
}

/** The BFD process's sessions and its counters (src/check/bfd/process.ts). */
export interface BfdStatus {
  readonly sessions: readonly BfdSessionSnapshot[];
  readonly stats: BfdStats;
}

/** What the daemon hands the API: the live director and plane, and how to read the time. */
export interface ApiContext {
  readonly director: Director;
  readonly plane: DataPlane;
  /** Milliseconds on the clock the director and the plane share. */
  readonly now: () => number;
  readonly info: () => InfoSnapshot;
  readonly counters: ApiCounters;
  /** Text of the SIGUSR1 / SIGUSR2 dumps (daemon/dump.ts), also served by GET /v1/dump/{data,stats}. */
  readonly dumps: { readonly data: () => string; readonly stats: () => string };
  /** When the process started (seconds since the epoch), for process_start_time_seconds. */
  readonly startTimeSeconds: number;
  /** The configuration's state; absent when the daemon has none to report (tests, embedders). */
  readonly config?: () => ConfigStatus;
  /** The bfd_instance sessions keepvs -f runs (null while none runs); GET /v1/bfd and the keepvs_bfd_* metrics. */
  readonly bfd?: () => BfdStatus | null;
}

export type Handler = (req: ApiRequest, ctx: ApiContext) => Reply | Promise<Reply>;

export interface Route {
  readonly method: Method;
  readonly path: string;
  readonly handler: Handler;
  /** Changes the director: runs one at a time, in arrival order. */
  readonly mutates?: boolean;
}
