// UDP through the proxy plane. A client flow (client address and port) is one IPVS entry: its first
// datagram is scheduled, later ones follow the entry until the UDP timeout (300 s, --set's third
// value) runs out with no datagram either way (ip_vs_proto_udp.c: every packet re-arms NORMAL's
// timeout). Each flow has its own socket connected to the real server, so replies are matched to the
// client without a lookup and arrive only from that server; replies leave through the service's
// socket, so the client sees them come from VIP:port.
//
// One-packet scheduling (-o, svc.onePacket): every datagram is scheduled on its own and its entry is
// never kept (ip_vs_core.c: ONE_PACKET entries are not hashed); the flow's socket is then unconnected
// and replies from any of the service's real servers go back to the client uncounted, as in the
// kernel, where a reply finds no entry.
//
// Every datagram is one packet and its payload length in bytes (the kernel adds the IP and UDP
// headers to the byte count).
import type * as dgram from 'node:dgram';
import { createSocket } from 'node:dgram';
import type { Addr } from '../../core/addr.ts';
import type { Dest } from '../../core/dest.ts';
import type { Flow } from '../../core/director.ts';
import type { Conn } from '../../core/conn/conn.ts';
import type { ConnPacket } from '../../core/conn/protocol.ts';
import type { PlaneContext } from './plane-context.ts';
import { encodeProxyHeader } from './proxy-protocol.ts';

/** A datagram carries no flags: the UDP state machine only re-arms its timeout. */
const DATAGRAM: ConnPacket = Object.freeze({});
/** Datagrams held while a flow's socket connects; more are dropped ('udp-backlog'). */
const MAX_PENDING = 64;

const kFlow: unique symbol = Symbol('keepvs.udpFlow');
type FlowSocket = dgram.Socket & { [kFlow]?: UdpFlow };

export class UdpService {
  readonly ctx: PlaneContext;
  readonly vaddr: Addr;
  readonly vport: number;
  readonly sock: dgram.Socket;
  readonly flows = new Map<string, UdpFlow>();
  /** The service is gone from the director: no new flows; the socket closes once flows are done. */
  draining = false;
  closed = false;
  /** Send callbacks, one per service and direction, shared by its flows (no closure per datagram). */
  readonly onSentToServer: (err: NodeJS.ErrnoException | null) => void;
  readonly onSentToClient: (err: Error | null) => void;

  constructor(ctx: PlaneContext, vaddr: Addr, vport: number, sock: dgram.Socket) {
    this.ctx = ctx;
    this.vaddr = vaddr;
    this.vport = vport;
    this.sock = sock;
    // A connected socket reports the real server's ICMP port unreachable on the next send or receive.
    this.onSentToServer = (err) => {
      if (err) ctx.drop(err.code === 'ECONNREFUSED' ? 'rs-refused' : 'udp-send-error');
    };
    this.onSentToClient = (err) => {
      if (err) ctx.drop('udp-send-error');
    };
    sock.on('message', (msg, rinfo) => this.onClientDatagram(msg, rinfo));
    // ICMP errors reported on the service socket (a client that went away): nothing to do but count.
    sock.on('error', () => ctx.drop('udp-send-error'));
  }

  onClientDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const ctx = this.ctx;
    const now = ctx.clock();
    const key = rinfo.address + ' ' + rinfo.port;
    let f = this.flows.get(key);
    if (f !== undefined && f.expired(now)) {
      f.close();
      f = undefined;
    }
    const flow = f ?? this.newFlow(key, rinfo, now);
    if (flow === null) return;
    if (flow.onePacket) flow.sendOnePacket(msg, now);
    else flow.sendToServer(msg, now);
  }

  newFlow(key: string, rinfo: dgram.RemoteInfo, now: number): UdpFlow | null {
    const ctx = this.ctx;
    const director = ctx.director;
    if (director === null || ctx.stopping || this.draining) {
      ctx.drop('stopping');
      return null;
    }
    const caddr = ctx.addrOf(rinfo.address);
    if (caddr === null) {
      ctx.drop('client-gone');
      return null;
    }
    const flow: Flow = { protocol: 'udp', caddr, cport: rinfo.port, vaddr: this.vaddr, vport: this.vport };
    let conn = director.lookupConn(flow);
    let dest: Dest;
    if (conn !== undefined) {
      // ip_vs_in_hook: a UDP packet never reschedules an entry; one whose dest is gone drops it.
      if (conn.dest === null || !conn.dest.available) {
        ctx.drop('dest-unavailable');
        return null;
      }
      dest = conn.dest;
    } else {
      const svc = director.findServiceForFlow(flow);
      if (svc === undefined) {
        ctx.drop('no-service');
        return null;
      }
      if (svc.onePacket) {
        const f = new UdpFlow(this, key, flow, rinfo.address, null, null, now);
        this.flows.set(key, f);
        return f;
      }
      const d = director.schedule(svc, flow, now);
      if (d.conn === null || d.dest === null) {
        ctx.drop(d.reason === 'not-scheduled' ? 'not-scheduled' : 'no-dest');
        return null;
      }
      conn = d.conn;
      dest = d.dest;
    }
    const f = new UdpFlow(this, key, flow, rinfo.address, conn, dest, now);
    this.flows.set(key, f);
    return f;
  }

  /** Expire flows whose entry ran out; close the socket of a drained service. */
  sweep(now: number): void {
    for (const f of this.flows.values()) if (f.expired(now)) f.close();
    if (this.draining && this.flows.size === 0) this.close();
  }

  /** closeDest(): flows to that dest are dropped with their entries. Returns how many. */
  closeDest(dest: Dest): number {
    let n = 0;
    for (const f of this.flows.values()) {
      if (f.dest !== dest) continue;
      if (f.conn !== null) this.ctx.director?.expireNow(f.conn);
      f.close();
      n++;
    }
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.flows.values()) f.close();
    this.sock.close();
  }
}

export class UdpFlow {
  readonly svc: UdpService;
  readonly key: string;
  readonly flow: Flow;
  /** The client's address as the socket reported it (reused for every reply). */
  readonly chost: string;
  /** null for a one-packet flow: each datagram has its own short-lived entry. */
  readonly conn: Conn | null;
  readonly dest: Dest | null;
  readonly onePacket: boolean;
  readonly up: FlowSocket;
  connected = false;
  pending: Buffer[][] | null = null;
  /** PROXY v2 header (fixed for the flow's dest) or null. */
  readonly header: Buffer | null;
  /** One-packet flows: when the last datagram's entry would have expired. */
  expires: number;

  constructor(svc: UdpService, key: string, flow: Flow, chost: string, conn: Conn | null, dest: Dest | null, now: number) {
    this.svc = svc;
    this.key = key;
    this.flow = flow;
    this.chost = chost;
    this.conn = conn;
    this.dest = dest;
    this.onePacket = conn === null;
    this.expires = now;
    const ctx = svc.ctx;
    const family = conn !== null ? conn.daddr.family : svc.vaddr.family;
    const up = createSocket(family === 6 ? 'udp6' : 'udp4') as FlowSocket;
    up[kFlow] = this;
    this.up = up;
    up.on('message', onServerDatagram);
    up.on('error', onFlowSocketError);
    const version = dest !== null ? ctx.proxyProtocolFor(dest.svc.id, dest) : null;
    this.header = version === 'v2'
      ? encodeProxyHeader('v2', { transport: 'udp', src: flow.caddr, sport: flow.cport, dst: flow.vaddr, dport: flow.vport })
      : null;
    if (conn !== null) {
      up.on('connect', onFlowConnect);
      up.connect(conn.dport, conn.daddr.text);
    } else {
      this.connected = true;
    }
  }

  expired(now: number): boolean {
    if (this.conn === null) return this.expires <= now;
    return this.conn.dest === null || this.conn.expires <= now;
  }

  sendToServer(msg: Buffer, now: number): void {
    const ctx = this.svc.ctx;
    const d = ctx.director;
    const conn = this.conn!;
    if (d !== null) {
      d.account(conn, 'input', 1, msg.length, now);
      d.stateEvent(conn, 'input', DATAGRAM, now);
    }
    if (!this.connected) {
      if (this.pending === null) this.pending = [];
      if (this.pending.length >= MAX_PENDING) ctx.drop('udp-backlog');
      else this.pending.push(this.header !== null ? [this.header, msg] : [msg]);
      return;
    }
    if (this.header !== null) this.up.send([this.header, msg], this.svc.onSentToServer);
    else this.up.send(msg, this.svc.onSentToServer);
  }

  /** -o: schedule this datagram alone; its entry lives only for this packet. */
  sendOnePacket(msg: Buffer, now: number): void {
    const ctx = this.svc.ctx;
    const director = ctx.director;
    if (director === null || ctx.stopping) {
      ctx.drop('stopping');
      return;
    }
    const svc = director.findServiceForFlow(this.flow);
    if (svc === undefined) {
      ctx.drop('no-service');
      return;
    }
    const d = director.schedule(svc, this.flow, now);
    if (d.conn === null || d.dest === null) {
      ctx.drop(d.reason === 'not-scheduled' ? 'not-scheduled' : 'no-dest');
      return;
    }
    director.account(d.conn, 'input', 1, msg.length, now);
    director.stateEvent(d.conn, 'input', DATAGRAM, now);
    this.expires = d.conn.expires;
    // ip_vs_in: a one-packet entry is counted, stepped, then freed right after its packet.
    director.expireNow(d.conn);
    const version = ctx.proxyProtocolFor(d.dest.svc.id, d.dest);
    const f = this.flow;
    if (version === 'v2') {
      const h = encodeProxyHeader('v2', { transport: 'udp', src: f.caddr, sport: f.cport, dst: f.vaddr, dport: f.vport });
      this.up.send([h, msg], d.dport, d.dest.addr.text, this.svc.onSentToServer);
    } else {
      this.up.send(msg, d.dport, d.dest.addr.text, this.svc.onSentToServer);
    }
  }

  close(): void {
    if (this.svc.flows.get(this.key) === this) this.svc.flows.delete(this.key);
    this.pending = null;
    try {
      this.up.close();
    } catch {
      // already closed
    }
  }
}

function onFlowConnect(this: FlowSocket): void {
  const f = this[kFlow]!;
  f.connected = true;
  const p = f.pending;
  f.pending = null;
  if (p !== null) for (const m of p) this.send(m, f.svc.onSentToServer);
}

function onServerDatagram(this: FlowSocket, msg: Buffer): void {
  const f = this[kFlow]!;
  const svc = f.svc;
  if (svc.closed) return;
  if (f.conn !== null) {
    const d = svc.ctx.director;
    if (d !== null) {
      const now = svc.ctx.clock();
      d.account(f.conn, 'output', 1, msg.length, now);
      d.stateEvent(f.conn, 'output', DATAGRAM, now);
    }
  }
  svc.sock.send(msg, f.flow.cport, f.chost, svc.onSentToClient);
}

function onFlowSocketError(this: FlowSocket, err: NodeJS.ErrnoException): void {
  // A connected UDP socket reports the real server's ICMP port unreachable as ECONNREFUSED.
  this[kFlow]!.svc.ctx.drop(err.code === 'ECONNREFUSED' ? 'rs-refused' : 'udp-rs-error');
}
