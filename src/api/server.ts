// The control API server (docs/api.md): JSON over HTTP/1.1 on a Unix socket (mode 0600), and an
// optional TCP listener that demands `Authorization: Bearer <token>` on every request, /metrics too.
// Requests that change the director run one at a time in arrival order, so a change and the
// plane.sync() that follows it are never interleaved with another change.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmodSync, unlinkSync } from 'node:fs';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ROUTES } from './routes/index.ts';
import { type ApiContext, type ApiRequest, type Method, type Reply, type Route } from './router.ts';
import { type ApiError, apiError, errorBody } from './errors.ts';
import { MetricsCollector, METRICS_CONTENT_TYPE } from './metrics.ts';
import { claimControlSocket } from './socket-path.ts';

/** A request body larger than this is refused (PAYLOAD_TOO_LARGE): no API body comes close. */
export const MAX_BODY_BYTES = 1 << 20;

export type ApiLog = (level: 'info' | 'warn' | 'error' | 'debug', message: string) => void;

const METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'DELETE'];

export class ApiServer {
  readonly #ctx: ApiContext;
  readonly #log: ApiLog;
  readonly #metrics = new MetricsCollector();
  readonly #servers: Server[] = [];
  #socketPath: string | null = null;
  /** Tail of the queue of changing requests. */
  #changes: Promise<unknown> = Promise.resolve();

  constructor(ctx: ApiContext, log: ApiLog = () => {}) {
    this.#ctx = ctx;
    this.#log = log;
  }

  /** Listen on a Unix socket; a stale socket from a dead daemon is replaced, a live one is an error. */
  async listenUnix(path: string): Promise<void> {
    await claimControlSocket(path);
    const server = this.#newServer(null);
    // The socket is created 0600 (umask) so there is no moment when others could connect.
    const old = process.umask(0o177);
    try {
      await listen(server, () => server.listen(path));
    } finally {
      process.umask(old);
    }
    chmodSync(path, 0o600);
    this.#socketPath = path;
    this.#servers.push(server);
  }

  /** Listen on TCP; every request must carry the bearer token. Returns the bound address. */
  async listenTcp(host: string, port: number, token: string): Promise<AddressInfo> {
    if (token.length === 0) throw new Error('the TCP API needs a non-empty token');
    const server = this.#newServer(token);
    await listen(server, () => server.listen(port, host));
    this.#servers.push(server);
    return server.address() as AddressInfo;
  }

  /** Stop accepting, finish requests in flight (up to graceMs), close, remove the socket file. */
  async close(graceMs = 1000): Promise<void> {
    const closing = this.#servers.map((s) => new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeIdleConnections();
    }));
    const timer = setTimeout(() => {
      for (const s of this.#servers) s.closeAllConnections();
    }, graceMs);
    await Promise.all(closing);
    clearTimeout(timer);
    this.#servers.length = 0;
    this.#metrics.close();
    if (this.#socketPath) {
      try {
        unlinkSync(this.#socketPath);
      } catch {
        // Already gone: nothing to clean.
      }
      this.#socketPath = null;
    }
  }

  get socketPath(): string | null {
    return this.#socketPath;
  }

  #newServer(token: string | null): Server {
    const tokenHash = token === null ? null : sha256(token);
    const server = createServer((req, res) => {
      this.#handle(req, res, tokenHash).catch((e: unknown) => {
        this.#log('error', `API: ${(e as Error).stack ?? String(e)}`);
        if (!res.headersSent) this.#send(res, '', { kind: 'error', error: apiError('INTERNAL') });
        else res.destroy();
      });
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    return server;
  }

  async #handle(req: IncomingMessage, res: ServerResponse, tokenHash: Buffer | null): Promise<void> {
    if (tokenHash && !authorized(req.headers.authorization, tokenHash)) {
      req.resume();
      res.setHeader('WWW-Authenticate', 'Bearer realm="keepvs"');
      return this.#send(res, '', { kind: 'error', error: apiError('UNAUTHORIZED') });
    }
    const url = new URL(req.url ?? '/', 'http://keepvs');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const method = req.method ?? 'GET';

    if (path === '/metrics') {
      req.resume();
      if (method !== 'GET') return this.#send(res, '', notAllowed(['GET']), 'GET');
      return this.#send(res, 'GET /metrics', { kind: 'text', status: 200, body: this.#metrics.render(this.#ctx), contentType: METRICS_CONTENT_TYPE });
    }
    const forPath = ROUTES.filter((r) => r.path === path);
    if (forPath.length === 0) {
      req.resume();
      return this.#send(res, '', { kind: 'error', error: apiError('NOT_FOUND', `no route ${path}`, { path }) });
    }
    const route = forPath.find((r) => r.method === method);
    if (!route || !METHODS.includes(method)) {
      req.resume();
      const allow = forPath.map((r) => r.method);
      return this.#send(res, '', notAllowed(allow), allow.join(', '));
    }
    const body = await readBody(req);
    if (!body.ok) return this.#send(res, routeName(route), { kind: 'error', error: body.error });
    const request: ApiRequest = { method: method as Method, path, query: url.searchParams, body: body.value };
    const reply = route.mutates ? await this.#serialised(() => route.handler(request, this.#ctx)) : await route.handler(request, this.#ctx);
    this.#send(res, routeName(route), reply);
  }

  #serialised(fn: () => Reply | Promise<Reply>): Promise<Reply> {
    const run = this.#changes.then(fn, fn);
    this.#changes = run.catch(() => undefined);
    return run;
  }

  #send(res: ServerResponse, route: string, reply: Reply, allow?: string): void {
    const status = reply.kind === 'error' ? reply.error.status : reply.status;
    const c = this.#ctx.counters;
    const key = `${route || 'unmatched'}\t${status}`;
    c.requests.set(key, (c.requests.get(key) ?? 0) + 1);
    let payload: string;
    let type: string;
    if (reply.kind === 'error') {
      c.rejected.set(reply.error.code, (c.rejected.get(reply.error.code) ?? 0) + 1);
      this.#log('debug', `API: ${route || 'unmatched'} refused: ${reply.error.code}: ${reply.error.message}`);
      payload = JSON.stringify(errorBody(reply.error)) + '\n';
      type = 'application/json';
    } else if (reply.kind === 'json') {
      payload = JSON.stringify(reply.body) + '\n';
      type = 'application/json';
    } else {
      payload = reply.body;
      type = reply.contentType;
    }
    res.statusCode = status;
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Length', Buffer.byteLength(payload));
    res.setHeader('Cache-Control', 'no-store');
    if (allow) res.setHeader('Allow', allow);
    res.end(payload);
  }
}

function routeName(r: Route): string {
  return `${r.method} ${r.path}`;
}

function notAllowed(allow: readonly string[]): Reply {
  return { kind: 'error', error: apiError('METHOD_NOT_ALLOWED', `method not allowed (allowed: ${allow.join(', ')})`, { allow }) };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Compares hashes so that neither the token's length nor its content leaks through timing. */
function authorized(header: string | undefined, tokenHash: Buffer): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m !== null && timingSafeEqual(sha256(m[1]), tokenHash);
}

function listen(server: Server, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
    start();
  });
}

type BodyRead = { ok: true; value: unknown } | { ok: false; error: ApiError };

async function readBody(req: IncomingMessage): Promise<BodyRead> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk as Buffer);
  }
  if (tooLarge) return { ok: false, error: apiError('PAYLOAD_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`) };
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (e) {
    return { ok: false, error: apiError('BAD_REQUEST', `body is not valid JSON: ${(e as Error).message}`, { field: 'body' }) };
  }
}
