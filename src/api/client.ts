// A minimal client for the keepvs control API (docs/api.md): JSON over HTTP/1.1 on a Unix socket.
// keepvsadm reaches the daemon only through this file.
import { request } from 'node:http';
import { clientControlSocket } from './socket-path.ts';
import type { ConnSnapshot, DestSnapshot, InfoSnapshot, ServiceSnapshot, TimeoutsSnapshot } from '../core/snapshot.ts';

/** docs/api.md: ServiceRef */
export type ServiceRef =
  | { readonly protocol: 'tcp' | 'udp' | 'sctp'; readonly vip: string; readonly port: number }
  | { readonly fwmark: number; readonly family: 4 | 6 };

/** docs/api.md: ServiceOptionsBody */
export interface ServiceOptionsBody {
  readonly scheduler: string;
  readonly persistent: number | null;
  readonly netmask: string | null;
  readonly pe: string | null;
  readonly ops: boolean;
  readonly schedFlags: readonly string[];
  /** keepvs: the PROXY protocol default of the service's dests; "none" and null (or absent) = none. */
  readonly proxyProtocol?: 'v1' | 'v2' | 'none' | null;
  /** keepvs: the exact (core-decided) path on a kernel data plane (nft); absent = false. */
  readonly exactPath?: boolean;
}

/** docs/api.md: DestBody */
export interface DestBody {
  readonly addr: string;
  readonly port: number;
  readonly fwd: 'masq' | 'route' | 'tunnel' | 'fullnat' | 'local';
  readonly weight: number;
  readonly uThreshold: number;
  readonly lThreshold: number;
  readonly tunnel: null | { readonly type: 'ipip' | 'gue' | 'gre'; readonly port: number; readonly csum: 'nocsum' | 'csum' | 'remcsum' };
  /** keepvs: this dest's own PROXY protocol choice; "none" = off whatever the service says; null (or absent) = the service's. */
  readonly proxyProtocol?: 'v1' | 'v2' | 'none' | null;
}

export interface TimeoutsBody {
  readonly tcp: number;
  readonly tcpfin: number;
  readonly udp: number;
}

/** The text of POST /v1/explain's answer that keepvsadm prints (the rest is for programs). */
export interface Explanation {
  readonly text: string;
  readonly [key: string]: unknown;
}

/** A 4xx/5xx answer: docs/api.md "Errors". */
export class ApiRefusal extends Error {
  readonly status: number;
  readonly code: string;
  readonly errno: string;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(status: number, code: string, errno: string, message: string, context: Readonly<Record<string, unknown>>) {
    super(message);
    this.name = 'ApiRefusal';
    this.status = status;
    this.code = code;
    this.errno = errno;
    this.context = context;
  }
}

/** The socket could not be reached (no daemon, stale socket, no permission). */
export class DaemonUnreachable extends Error {
  readonly socketPath: string;
  /** The system error code: ENOENT, ECONNREFUSED, EACCES, … */
  readonly sysCode: string;

  constructor(socketPath: string, sysCode: string, message: string) {
    super(message);
    this.name = 'DaemonUnreachable';
    this.socketPath = socketPath;
    this.sysCode = sysCode;
  }
}

/** docs/api.md "Transport": $KEEPVS_SOCKET, else the daemon's default path (src/api/socket-path.ts). */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return clientControlSocket(env);
}

export class ApiClient {
  readonly socketPath: string;
  private readonly timeoutMs: number;

  constructor(socketPath: string = defaultSocketPath(), timeoutMs = 30_000) {
    this.socketPath = socketPath;
    this.timeoutMs = timeoutMs;
  }

  /** One JSON request; resolves with the parsed body of a 2xx answer. */
  call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request({
        socketPath: this.socketPath,
        method,
        path,
        headers: {
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = undefined;
          try { json = text === '' ? {} : JSON.parse(text); } catch { json = undefined; }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300 && json !== undefined) { resolve(json as T); return; }
          const e = (json as { error?: { code?: string; errno?: string; message?: string; context?: Record<string, unknown> } } | undefined)?.error;
          reject(new ApiRefusal(status, e?.code ?? 'HTTP_' + status, e?.errno ?? '', e?.message ?? (text.trim() || `HTTP ${status}`), e?.context ?? {}));
        });
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      // Every transport failure (no socket, refused, no permission, timeout) means the daemon
      // could not be asked; an answer, even an error answer, is an ApiRefusal above.
      req.on('error', (e: NodeJS.ErrnoException) => {
        reject(new DaemonUnreachable(this.socketPath, e.code ?? 'EIO', e.message));
      });
      req.end(payload);
    });
  }

  info(): Promise<InfoSnapshot> { return this.call('GET', '/v1/info'); }
  async services(): Promise<ServiceSnapshot[]> { return (await this.call<{ services: ServiceSnapshot[] }>('GET', '/v1/services')).services; }
  async connections(): Promise<ConnSnapshot[]> { return (await this.call<{ connections: ConnSnapshot[] }>('GET', '/v1/connections')).connections; }
  timeouts(): Promise<TimeoutsSnapshot> { return this.call('GET', '/v1/timeouts'); }
  setTimeouts(t: TimeoutsBody): Promise<TimeoutsSnapshot> { return this.call('PUT', '/v1/timeouts', t); }
  addService(service: ServiceRef, options: ServiceOptionsBody): Promise<ServiceSnapshot> { return this.call('POST', '/v1/services', { service, options }); }
  editService(service: ServiceRef, options: ServiceOptionsBody): Promise<ServiceSnapshot> { return this.call('PUT', '/v1/services', { service, options }); }
  deleteService(service: ServiceRef): Promise<unknown> { return this.call('DELETE', '/v1/services', { service }); }
  clear(): Promise<unknown> { return this.call('POST', '/v1/clear', {}); }
  zero(service: ServiceRef | null): Promise<unknown> { return this.call('POST', '/v1/zero', service ? { service } : {}); }
  addDest(service: ServiceRef, dest: DestBody): Promise<DestSnapshot> { return this.call('POST', '/v1/dests', { service, dest }); }
  editDest(service: ServiceRef, dest: DestBody): Promise<DestSnapshot> { return this.call('PUT', '/v1/dests', { service, dest }); }
  deleteDest(service: ServiceRef, dest: { addr: string; port: number }): Promise<unknown> { return this.call('DELETE', '/v1/dests', { service, dest }); }
  explain(service: ServiceRef, client: { addr: string; port: number }): Promise<Explanation> { return this.call('POST', '/v1/explain', { service, client }); }
}
