// An in-memory stand-in for the keepvs daemon, speaking the control API of docs/api.md on a
// temporary Unix socket, so keepvsadm can be tested end to end without the real director. It keeps
// the kernel's habits that listings depend on: services in creation order, dests newest first, and
// the core's error codes/errnos (src/core/errors.ts) for the usual refusals.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnSnapshot, DestSnapshot, ServiceSnapshot, TimeoutsSnapshot } from '../../src/core/snapshot.ts';
import type { DestBody, ServiceOptionsBody, ServiceRef } from '../../src/api/client.ts';

const ZERO_STATS = {
  counters: { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 },
  rates: { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 },
};

const SCHED_BITS: Record<string, number> = {
  'flag-1': 0x8, 'flag-2': 0x10, 'flag-3': 0x20, 'sh-fallback': 0x8, 'sh-port': 0x10, 'mh-fallback': 0x8, 'mh-port': 0x10,
};
const SCHEDULERS = new Set(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos']);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Svc = Mutable<ServiceSnapshot> & { dests: DestSnapshot[] };

class Refusal {
  readonly status: number;
  readonly code: string;
  readonly errno: string;
  readonly message: string;
  constructor(status: number, code: string, errno: string, message: string) {
    this.status = status; this.code = code; this.errno = errno; this.message = message;
  }
}

const NOT_FOUND_SVC = () => new Refusal(404, 'SERVICE_NOT_FOUND', 'ESRCH', 'No such service');

/** keepvs's "proxyProtocol" as src/api/body.ts reads it: a bad value is BAD_REQUEST naming the field. */
function proxyProtocolOf(v: unknown, field: string): 'v1' | 'v2' | 'none' | null {
  if (v === undefined || v === null) return null;
  if (v !== 'v1' && v !== 'v2' && v !== 'none') {
    throw new Refusal(400, 'BAD_REQUEST', 'EINVAL', `${field}.proxyProtocol: expected "v1", "v2", "none" or null`);
  }
  return v;
}

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

export class FakeDaemon {
  readonly socketPath: string;
  readonly requests: FakeRequest[] = [];
  services: Svc[] = [];
  connections: ConnSnapshot[] = [];
  timeouts: TimeoutsSnapshot = { tcp: 900, tcpfin: 120, udp: 300 };
  private readonly dir: string;
  private readonly server: Server;

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'keepvsadm-test-'));
    this.socketPath = join(this.dir, 'keepvs.sock');
    this.server = createServer((req, res) => { void this.handle(req, res); });
  }

  static async start(): Promise<FakeDaemon> {
    const d = new FakeDaemon();
    await new Promise<void>((resolve) => d.server.listen(d.socketPath, resolve));
    return d;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private find(ref: ServiceRef): Svc | undefined {
    if ('fwmark' in ref) return this.services.find((s) => s.kind === 'fwmark' && s.fwmark === ref.fwmark && s.family === ref.family);
    return this.services.find((s) => s.kind === 'addr' && s.protocol === ref.protocol && s.vip === ref.vip && s.port === ref.port);
  }

  private applyOptions(s: Svc, o: ServiceOptionsBody): void {
    if (!SCHEDULERS.has(o.scheduler)) throw new Refusal(400, 'SCHEDULER_NOT_FOUND', 'ENOENT', 'Scheduler or persistence engine not found');
    const pp = proxyProtocolOf(o.proxyProtocol, 'options');
    let flags = 0;
    if (o.persistent !== null) flags |= 0x1;
    if (o.ops) flags |= 0x4;
    for (const f of o.schedFlags) flags |= SCHED_BITS[f] ?? 0;
    s.scheduler = o.scheduler;
    s.flags = flags;
    s.timeout = o.persistent ?? 0;
    s.netmask = o.netmask ?? (s.family === 6 ? '128' : '255.255.255.255');
    s.pe = o.pe;
    s.proxyProtocol = pp === 'none' ? null : pp;
  }

  /** The snapshots as GET /v1/services shows them: each dest's effective PROXY protocol follows its service's. */
  private snapshots(): ServiceSnapshot[] {
    return this.services.map((s) => ({
      ...s,
      dests: s.dests.map((d) => ({
        ...d,
        effectiveProxyProtocol: d.proxyProtocol === 'none' ? null : d.proxyProtocol ?? s.proxyProtocol ?? null,
      })),
    }));
  }

  private route(method: string, path: string, body: any): { status: number; json: unknown } {
    const ok = (json: unknown, status = 200) => ({ status, json });
    switch (`${method} ${path}`) {
      case 'GET /v1/info':
        return ok({ ipvsVersion: '1.2.1', connTableSize: 4096, keepvsVersion: '0.1.0-fake', dataplane: 'fake' });
      case 'GET /v1/services': return ok({ services: this.snapshots() });
      case 'GET /v1/connections': return ok({ connections: this.connections });
      case 'GET /v1/timeouts': return ok(this.timeouts);
      case 'PUT /v1/timeouts': {
        const t = body as TimeoutsSnapshot;
        this.timeouts = { tcp: t.tcp || this.timeouts.tcp, tcpfin: t.tcpfin || this.timeouts.tcpfin, udp: t.udp || this.timeouts.udp };
        return ok(this.timeouts);
      }
      case 'POST /v1/services': {
        const ref = body.service as ServiceRef;
        if (this.find(ref)) throw new Refusal(409, 'SERVICE_EXISTS', 'EEXIST', 'Service already exists');
        const fw = 'fwmark' in ref;
        const s: Svc = {
          kind: fw ? 'fwmark' : 'addr', protocol: fw ? null : ref.protocol, vip: fw ? null : ref.vip,
          port: fw ? 0 : ref.port, fwmark: fw ? ref.fwmark : 0,
          family: fw ? ref.family : (ref.vip.includes(':') ? 6 : 4),
          scheduler: 'wlc', flags: 0, timeout: 0, netmask: '', pe: null, proxyProtocol: null, stats: ZERO_STATS, dests: [],
        };
        this.applyOptions(s, body.options);
        this.services.push(s);
        return ok(s, 201);
      }
      case 'PUT /v1/services': {
        const s = this.find(body.service);
        if (!s) throw NOT_FOUND_SVC();
        this.applyOptions(s, body.options);
        return ok(s);
      }
      case 'DELETE /v1/services': {
        const s = this.find(body.service);
        if (!s) throw NOT_FOUND_SVC();
        this.services = this.services.filter((x) => x !== s);
        return ok({});
      }
      case 'POST /v1/clear': this.services = []; return ok({});
      case 'POST /v1/zero': {
        if (body.service && !this.find(body.service)) throw NOT_FOUND_SVC();
        return ok({});
      }
      case 'POST /v1/dests':
      case 'PUT /v1/dests':
      case 'DELETE /v1/dests': {
        const s = this.find(body.service);
        if (!s) throw NOT_FOUND_SVC();
        const d = body.dest as DestBody;
        const i = s.dests.findIndex((x) => x.addr === d.addr && x.port === d.port);
        if (method === 'DELETE') {
          if (i < 0) throw new Refusal(404, 'DEST_NOT_FOUND', 'ENOENT', 'No such destination');
          s.dests.splice(i, 1);
          return ok({});
        }
        if (method === 'POST' && i >= 0) throw new Refusal(409, 'DEST_EXISTS', 'EEXIST', 'Destination already exists');
        if (method === 'PUT' && i < 0) throw new Refusal(404, 'DEST_NOT_FOUND', 'ENOENT', 'No such destination');
        const pp = proxyProtocolOf(d.proxyProtocol, 'dest');
        const snap: DestSnapshot = {
          addr: d.addr, family: d.addr.includes(':') ? 6 : 4, port: d.port, fwd: d.fwd, weight: d.weight,
          uThreshold: d.uThreshold, lThreshold: d.lThreshold, activeConns: 0, inactConns: 0, persistConns: 0,
          overloaded: false, tunnel: d.tunnel, proxyProtocol: pp,
          effectiveProxyProtocol: pp === 'none' ? null : pp ?? s.proxyProtocol ?? null, stats: ZERO_STATS,
        };
        if (method === 'POST') s.dests.unshift(snap); else s.dests[i] = snap;
        return ok(snap, method === 'POST' ? 201 : 200);
      }
      case 'POST /v1/explain': {
        const s = this.find(body.service);
        if (!s) throw NOT_FOUND_SVC();
        const d = s.dests[0];
        return ok({ service: body.service, reason: 'scheduled', dest: d ?? null, schedReason: 'first', detail: {}, template: null,
          text: `client ${body.client.addr}:${body.client.port} -> ${d ? `${d.addr}:${d.port}` : 'none'} (${s.scheduler})` });
      }
      default:
        throw new Refusal(404, 'NOT_FOUND', 'ENOENT', 'no such route');
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text === '' ? {} : JSON.parse(text);
    this.requests.push({ method: req.method ?? '', path: req.url ?? '', body });
    let status: number;
    let json: unknown;
    try {
      ({ status, json } = this.route(req.method ?? '', req.url ?? '', body));
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      status = e.status;
      json = { error: { code: e.code, errno: e.errno, message: e.message, context: {} } };
    }
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(json));
  }
}
