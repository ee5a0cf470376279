// The proxy data plane: keepvs's default, user space, no root. Every virtual service is a TCP
// listener or a UDP socket on VIP:port; every new connection (UDP: new client flow, or every
// datagram with -o) is handed to the director, which decides exactly as the kernel would; the plane
// then proxies bytes and feeds the director's connection table from socket events (tcp.ts, udp.ts).
//
// Forwarding: a full proxy by nature, so masquerading (-m) and --fullnat both run as FULLNAT (the real
// server sees the director's address; port mapping works). Direct routing, tunnelling and LOCALNODE
// need the kernel and are refused with an error that names the nft plane (DESIGN.md, "Per data plane").
//
// Time: every director call is stamped with this plane's clock (option `clock`, Date.now by default),
// and by default the plane also drives director.tick() from its one-second sweep, so entries expire
// and rates are estimated even when nothing else runs. A daemon that ticks the director itself passes
// tickDirector: false and the same clock.
//
// Deleting a dest or a service stops new connections at once and lets open ones finish; closeDest()
// closes them. (The kernel instead drops every later packet of such connections while
// expire_nodest_conn is off, leaving them to hang until their timeout.)
import type { Director } from '../../core/director.ts';
import type { Dest, DestSpec } from '../../core/dest.ts';
import { type Addr, parseAddr, endpointText } from '../../core/addr.ts';
import { type Service, type ServiceKey, type ServiceOptions, destKeyId, serviceKeyText } from '../../core/service.ts';
import { effectiveProxyProtocol } from '../../core/proxy-protocol.ts';
import { type Capabilities, type Check, type DataPlane, type DataPlaneError, type DataPlaneStats, type HeldAddresses, vipServed } from '../dataplane.ts';
import { type DropReason, type PlaneContext, type PlaneDirector, BufferPool } from './plane-context.ts';
import type { ProxyProtocolVersion } from './proxy-protocol.ts';
import type { TcpSession } from './tcp-session.ts';
import { acceptTcpHandleAsSocket, acceptTcpSocket } from './tcp.ts';
import { acceptTcpHandleFast, tcpHandlesAvailable } from './tcp-handles.ts';
import { UringEngine, type UringListener } from './tcp-uring.ts';
import { UdpService } from './udp.ts';
import { ListenError, bindError, bindUdp, listenTcp } from './listener.ts';
import type * as net from 'node:net';

export interface ProxyPlaneOptions {
  /** Milliseconds on the clock the director's deadlines use (default Date.now). */
  readonly clock?: () => number;
  /** Call director.tick(now) on every sweep (default true). */
  readonly tickDirector?: boolean;
  /** How often idle entries, connect timeouts and UDP flows are checked (default 1000 ms). */
  readonly sweepIntervalMs?: number;
  /** A real server that has not accepted within this is given up: 'rs-timeout', client reset (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** Read buffer per socket in bytes (default 16 KiB, HAProxy's bufsize); two per TCP connection. */
  readonly bufferSize?: number;
  /**
   * The fast engine's first read buffer per socket (default 1 KiB); a socket moves to a full one
   * the first time a read fills it (plane-context.ts, BufferPool).
   */
  readonly initialBufferSize?: number;
  /** listen(2) backlog (default 4096). */
  readonly backlog?: number;
  /** SO_REUSEPORT on listeners (default false). */
  readonly reusePort?: boolean;
  /**
   * 'uring': one io_uring for every connection (tcp-uring.ts; needs Linux ≥ 6.7 with io_uring
   * allowed, else 'handles' is used and `engineFallback` says why); 'handles' (default): libuv
   * handles driven directly (tcp-handles.ts); 'sockets': public net.Socket (tcp.ts). Same behaviour.
   */
  readonly tcpEngine?: TcpEngineName;
  /**
   * The uring engine's receive buffers: how many (a power of two, default 1024) and their size
   * (default 64 KiB). A buffer is held only while its data is being sent on; the memory in use
   * follows the peak of data in flight, not the number of connections.
   */
  readonly uringBuffers?: number;
  readonly uringBufferSize?: number;
}

export type TcpEngineName = 'uring' | 'handles' | 'sockets';

const NFT_HINT = 'or run keepvs --dataplane nft';

const FWD_REFUSALS: Readonly<Record<string, string>> = {
  route: `the proxy data plane cannot forward with direct routing (-g, ipvsadm's default); use -m (masquerading) or --fullnat, ${NFT_HINT}`,
  tunnel: `the proxy data plane cannot forward by IP tunnelling (-i); use -m (masquerading) or --fullnat, ${NFT_HINT}`,
  local: `the proxy data plane cannot pass packets unchanged to a local server (LOCALNODE); use -m (masquerading) or --fullnat to the server's own address and port, ${NFT_HINT}`,
};

type TcpListener =
  | { readonly kind: 'net'; readonly server: net.Server; readonly hooked: boolean }
  | { readonly kind: 'uring'; readonly listener: UringListener };

interface ProxyProtocolChoice {
  svc: ProxyProtocolVersion | null;
  readonly dests: Map<string, ProxyProtocolVersion>;
}

class Context implements PlaneContext {
  director: PlaneDirector | null = null;
  readonly clock: () => number;
  readonly drops: Record<string, number> = {};
  readonly connectTimeoutMs: number;
  readonly buffers: BufferPool;
  readonly tcpSessions = new Set<TcpSession>();
  stopping = false;
  readonly proxyProtocol = new Map<string, ProxyProtocolChoice>();
  readonly #addrs = new Map<string, Addr>();

  constructor(clock: () => number, connectTimeoutMs: number, buffers: BufferPool) {
    this.clock = clock;
    this.connectTimeoutMs = connectTimeoutMs;
    this.buffers = buffers;
  }

  drop(reason: DropReason): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }

  proxyProtocolFor(svcId: string, dest: Dest): ProxyProtocolVersion | null {
    // setProxyProtocol's overrides first (rarely any), then the model: the dest's own choice, else
    // its service's (keepvsadm --proxy-protocol, the API's "proxyProtocol").
    if (this.proxyProtocol.size !== 0) {
      const c = this.proxyProtocol.get(svcId);
      if (c !== undefined) {
        const v = c.dests.size !== 0 ? c.dests.get(destKeyId(dest.addr, dest.port)) : undefined;
        if (v !== undefined) return v;
        if (c.svc !== null) return c.svc;
      }
    }
    return effectiveProxyProtocol(dest.proxyProtocol, dest.svc.options.proxyProtocol);
  }

  addrOf(text: string): Addr | null {
    let a = this.#addrs.get(text);
    if (a !== undefined) return a;
    const r = parseAddr(text);
    if (!r.ok) return null;
    a = r.value;
    // Bounded: a flood of distinct clients must not grow it without end.
    if (this.#addrs.size >= 65536) this.#addrs.clear();
    this.#addrs.set(text, a);
    return a;
  }
}

function refusal(code: DataPlaneError['code'], message: string, context: Record<string, unknown>): Check {
  return { ok: false, error: { code, message, context } };
}

export class ProxyPlane implements DataPlane {
  readonly capabilities: Capabilities = {
    name: 'proxy', fwd: ['masq', 'fullnat'], protocols: ['tcp', 'udp'], fwmark: false, privileged: false,
  };
  readonly #ctx: Context;
  readonly #tickDirector: boolean;
  readonly #sweepIntervalMs: number;
  readonly #backlog: number;
  readonly #reusePort: boolean;
  /** The TCP engine in use. */
  readonly tcpEngine: TcpEngineName;
  /** Why the engine asked for could not run here (null when it runs). */
  readonly engineFallback: string | null = null;
  readonly #uring: UringEngine | null = null;
  readonly #tcp = new Map<string, TcpListener>();
  /** Listeners being closed; a service re-added meanwhile waits for its port to be free. */
  readonly #tcpClosing = new Map<string, Promise<void>>();
  readonly #udp = new Map<string, UdpService>();
  #timer: ReturnType<typeof setInterval> | null = null;
  #syncing: Promise<void> = Promise.resolve();
  #stopped = false;
  /** VRRP's managed and held addresses (setHeldAddresses); null: every service is served. */
  #held: HeldAddresses | null = null;

  constructor(opts: ProxyPlaneOptions = {}) {
    const bufferSize = opts.bufferSize ?? 16384;
    this.#ctx = new Context(opts.clock ?? Date.now, opts.connectTimeoutMs ?? 5000, new BufferPool(bufferSize, 4096, opts.initialBufferSize));
    this.#tickDirector = opts.tickDirector ?? true;
    this.#sweepIntervalMs = opts.sweepIntervalMs ?? 1000;
    this.#backlog = opts.backlog ?? 4096;
    this.#reusePort = opts.reusePort ?? false;
    let want = opts.tcpEngine ?? 'uring';
    if (want === 'uring') {
      const e = UringEngine.open(this.#ctx, opts.uringBuffers ?? 1024, opts.uringBufferSize ?? 65536);
      if (e instanceof UringEngine) this.#uring = e;
      else {
        this.engineFallback = e.reason;
        want = 'handles';
      }
    }
    this.tcpEngine = want === 'uring' ? 'uring' : want === 'handles' && tcpHandlesAvailable() ? 'handles' : 'sockets';
  }

  checkService(key: ServiceKey, _options: ServiceOptions): Check {
    if (key.kind === 'fwmark') {
      return refusal('UNSUPPORTED_FWMARK',
        `the proxy data plane cannot see firewall marks (-f ${key.fwmark}); use a -t/-u VIP:port service, ${NFT_HINT}`,
        { fwmark: key.fwmark });
    }
    if (key.protocol === 'sctp') {
      return refusal('UNSUPPORTED_PROTOCOL', `the proxy data plane has no SCTP (--sctp-service); ${NFT_HINT}`,
        { service: serviceKeyText(key) });
    }
    if (key.port === 0) {
      return refusal('PLANE_ERROR',
        `the proxy data plane cannot listen on every port of ${key.vip.text} (port 0); give the service a port, ${NFT_HINT}`,
        { service: serviceKeyText(key) });
    }
    return { ok: true };
  }

  checkDest(svc: Service, spec: DestSpec): Check {
    const msg = FWD_REFUSALS[spec.fwd];
    if (msg !== undefined) {
      return refusal('UNSUPPORTED_FWD', msg, {
        service: serviceKeyText(svc.key), dest: endpointText(spec.addr, spec.port), fwd: spec.fwd,
      });
    }
    return { ok: true };
  }

  /**
   * An override of the model's PROXY protocol choice (ServiceOptions.proxyProtocol,
   * Dest.proxyProtocol), for embedders and tests: a service's real servers (destKey null) or one of
   * them (destKey = destKeyId(addr, port), which overrides the service's entry); null removes the
   * override, and the model's choice applies again. v1 has no UDP form.
   */
  setProxyProtocol(serviceId: string, destKey: string | null, version: ProxyProtocolVersion | null): Check {
    if (version === 'v1' && serviceId.startsWith('udp|')) {
      return refusal('PLANE_ERROR', 'PROXY protocol v1 carries TCP only; use v2 for a UDP service', { service: serviceId });
    }
    const m = this.#ctx.proxyProtocol;
    let c = m.get(serviceId);
    if (c === undefined) {
      if (version === null) return { ok: true };
      c = { svc: null, dests: new Map() };
      m.set(serviceId, c);
    }
    if (destKey === null) c.svc = version;
    else if (version === null) c.dests.delete(destKey);
    else c.dests.set(destKey, version);
    if (c.svc === null && c.dests.size === 0) m.delete(serviceId);
    return { ok: true };
  }

  sync(director: Director): Promise<void> {
    const run = this.#syncing.then(() => this.#sync(director));
    this.#syncing = run.catch(() => undefined);
    return run;
  }

  async #sync(director: PlaneDirector): Promise<void> {
    if (this.#stopped || this.#ctx.stopping) return;
    const ctx = this.#ctx;
    ctx.director = director;
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.sweep(), this.#sweepIntervalMs);
      this.#timer.unref();
    }
    const want = new Map<string, Service>();
    for (const svc of director.services()) {
      const k = svc.key;
      if (k.kind === 'addr' && (k.protocol === 'tcp' || k.protocol === 'udp') && k.port !== 0 && vipServed(this.#held, k.vip.text)) want.set(svc.id, svc);
    }
    for (const [id, l] of this.#tcp) {
      if (want.has(id)) continue;
      // Stop accepting; open sessions are not the listener's and carry on.
      this.#closeListener(id, l);
      this.#tcp.delete(id);
    }
    for (const [id, u] of this.#udp) {
      if (want.has(id)) {
        u.draining = false;
        continue;
      }
      u.draining = true;
      if (u.flows.size === 0) {
        u.close();
        this.#udp.delete(id);
      }
    }
    const failures: ListenError[] = [];
    const opening: Promise<void>[] = [];
    for (const [id, svc] of want) {
      const k = svc.key;
      if (k.kind !== 'addr') continue;
      if (k.protocol === 'tcp' && !this.#tcp.has(id)) opening.push(this.#openTcp(id, k.vip, k.port).catch((e) => { failures.push(asListenError(e)); }));
      if (k.protocol === 'udp' && !this.#udp.has(id)) opening.push(this.#openUdp(id, k.vip, k.port).catch((e) => { failures.push(asListenError(e)); }));
    }
    await Promise.all(opening);
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      throw new ListenError({
        code: 'BIND_FAILED',
        message: failures.map((f) => f.message).join('; '),
        context: { failures: failures.map((f) => f.error.context) },
      });
    }
  }

  #closeListener(id: string, l: TcpListener): void {
    if (l.kind === 'uring') {
      // Closed at once: the port is free when this returns.
      this.#uring!.closeListener(l.listener);
      return;
    }
    // With the accept hook the server tracks no connections, so its close callback comes as soon as
    // the listening socket is closed; on the fallback path it would wait for every connection.
    if (!l.hooked) {
      l.server.close();
      return;
    }
    const closed = new Promise<void>((resolve) => l.server.close(() => resolve()));
    this.#tcpClosing.set(id, closed);
    void closed.then(() => {
      if (this.#tcpClosing.get(id) === closed) this.#tcpClosing.delete(id);
    });
  }

  async #openTcp(id: string, vip: Addr, port: number): Promise<void> {
    const ctx = this.#ctx;
    const closing = this.#tcpClosing.get(id);
    if (closing !== undefined) await closing;
    const uring = this.#uring;
    if (uring !== null) {
      if (ctx.stopping) return;
      const l = uring.listen(vip, port, this.#backlog, this.#reusePort);
      if ('code' in l) throw bindError('tcp', vip, port, { code: l.code, message: `${l.step}: ${l.code}` });
      this.#tcp.set(id, { kind: 'uring', listener: l });
      return;
    }
    const { server, hooked } = await listenTcp(vip, port, { backlog: this.#backlog, reusePort: this.#reusePort }, {
      handle: this.tcpEngine === 'handles'
        ? (h) => acceptTcpHandleFast(ctx, vip, port, h)
        : (h) => acceptTcpHandleAsSocket(ctx, vip, port, h),
      socket: (s) => acceptTcpSocket(ctx, vip, port, s),
      error: () => ctx.drop('accept-error'),
    });
    if (this.#ctx.stopping) {
      server.close();
      return;
    }
    this.#tcp.set(id, { kind: 'net', server, hooked });
  }

  async #openUdp(id: string, vip: Addr, port: number): Promise<void> {
    const sock = await bindUdp(vip, port);
    if (this.#ctx.stopping) {
      sock.close();
      return;
    }
    this.#udp.set(id, new UdpService(this.#ctx, vip, port, sock));
  }

  /**
   * One pass of the plane's clock (every sweepIntervalMs; public so tests can drive time): tick the
   * director, give up on real servers that have not answered, close connections whose entry ran out,
   * expire UDP flows.
   */
  sweep(now: number = this.#ctx.clock()): void {
    const ctx = this.#ctx;
    const d = ctx.director;
    if (d === null) return;
    if (this.#tickDirector) d.tick(now);
    for (const s of ctx.tcpSessions) {
      if (s.aborted || s.detached) continue;
      const expired = s.conn.dest === null || s.conn.expires <= now;
      if (s.connecting) {
        if (expired || now - s.startedAt >= ctx.connectTimeoutMs) s.connectTimedOut();
      } else if (expired) {
        s.abort('idle-timeout', 'keep');
      }
    }
    for (const [id, u] of this.#udp) {
      u.sweep(now);
      if (u.closed) this.#udp.delete(id);
    }
  }

  closeDest(dest: Dest): void {
    for (const s of this.#ctx.tcpSessions) if (s.dest === dest) s.abort('dest-closed', 'expire');
    for (const u of this.#udp.values()) {
      const n = u.closeDest(dest);
      for (let i = 0; i < n; i++) this.#ctx.drop('dest-closed');
    }
  }

  async stop(graceMs: number): Promise<void> {
    const ctx = this.#ctx;
    ctx.stopping = true;
    this.#stopped = true;
    for (const [id, l] of this.#tcp) this.#closeListener(id, l);
    this.#tcp.clear();
    for (const u of this.#udp.values()) u.draining = true;
    const deadline = Date.now() + Math.max(0, graceMs);
    while (ctx.tcpSessions.size > 0 && Date.now() < deadline) {
      await sleep(Math.min(50, deadline - Date.now()));
    }
    for (const s of ctx.tcpSessions) s.abort('stopped', 'rst');
    for (const u of this.#udp.values()) u.close();
    this.#udp.clear();
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    // Reset sockets close on the next loop turns; wait for them, boundedly.
    const closeBy = Date.now() + 1000;
    while (ctx.tcpSessions.size > 0 && Date.now() < closeBy) await sleep(10);
    this.#uring?.close();
  }

  /** VRRP: a service on a managed VIP listens only while the VIP is held (applied at the next sync). */
  setHeldAddresses(addrs: HeldAddresses): void {
    this.#held = addrs;
  }

  stats(): DataPlaneStats {
    let flows = 0;
    for (const u of this.#udp.values()) flows += u.flows.size;
    return { drops: { ...this.#ctx.drops }, openConnections: this.#ctx.tcpSessions.size + flows };
  }
}

function asListenError(e: unknown): ListenError {
  if (e instanceof ListenError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new ListenError({ code: 'PLANE_ERROR', message, context: {} });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
