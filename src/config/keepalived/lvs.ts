// From keepalived.conf's virtual servers to director operations: one IPVS service per address of a
// virtual server (a virtual_server_group expands to every address of its ranges and each of its
// fwmarks, as keepalived programs them), with the kernel's options and the dests to program at
// start (keepalived/check/ipwrapper.c: init_service_vs, init_service_rs, set_quorum_states,
// update_quorum_state):
//  - a real server starts alive unless one of its checkers runs in alpha mode; an alpha real
//    server is programmed only with inhibit_on_failure, at weight 0;
//  - quorum starts up when the alive weight reaches quorum + hysteresis; when it does not and a
//    sorry server exists, the alive real servers stay out and the sorry server goes in (with
//    sorry_server_inhibit it is always programmed, at weight 0 while quorum is up).
// The daemon applies the plan; the checkers then move real servers in and out.
import { addrFromBytes, type Addr } from '../../core/addr.ts';
import type { DestSpec, FwdMethod } from '../../core/dest.ts';
import { DEFAULT_PERSISTENT_TIMEOUT, SVC_F, type ServiceKey, type ServiceOptions } from '../../core/service.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { Forwarding, KeepalivedConfig, RealServer, VirtualServer } from './model.ts';

export interface PlannedRealServer {
  readonly realServer: RealServer;
  readonly dest: DestSpec;
  /** Alive at start (no alpha checker). */
  readonly initiallyUp: boolean;
}

export interface PlannedService {
  readonly key: ServiceKey;
  readonly options: ServiceOptions;
  /** What to program at start, in configuration order. */
  readonly dests: readonly DestSpec[];
  /** Every real server with the dest it maps to (for the checkers to add, remove or re-weight). */
  readonly realServers: readonly PlannedRealServer[];
  readonly sorry: DestSpec | null;
  readonly quorumUpAtStart: boolean;
  readonly virtualServer: VirtualServer;
}

export interface DirectorPlan {
  readonly services: readonly PlannedService[];
  readonly diagnostics: readonly Diagnostic[];
}

/** How many services a virtual_server_group may expand to before keepvs refuses it. */
export const MAX_GROUP_SERVICES = 65536;

const FWD: Readonly<Record<Forwarding['method'], FwdMethod>> = { NAT: 'masq', DR: 'route', TUN: 'tunnel', FULLNAT: 'fullnat' };

function destSpec(addr: Addr, port: number, f: Forwarding, weight: number, u: number, l: number): DestSpec {
  return { addr, port, fwd: FWD[f.method], weight, uThreshold: u, lThreshold: l, ...(f.tunnel && f.method === 'TUN' ? { tunnel: f.tunnel } : {}) };
}

/** Every address from first to last inclusive (at most `limit`); null when there are more. */
function addressRange(first: Addr, last: Addr, limit: number): Addr[] | null {
  const out: Addr[] = [];
  const cur = new Uint8Array(first.bytes);
  for (;;) {
    if (out.length >= limit) return null;
    out.push(addrFromBytes(cur));
    if (cur.every((b, i) => b === last.bytes[i])) return out;
    for (let i = cur.length - 1; i >= 0; i--) {
      cur[i] = (cur[i] + 1) & 0xff;
      if (cur[i] !== 0) break;
    }
  }
}

export function toDirectorPlan(cfg: KeepalivedConfig): DirectorPlan {
  const services: PlannedService[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Map<string, VirtualServer>();
  for (const v of cfg.virtualServers) {
    const flags = v.flags | (v.persistenceTimeout ? SVC_F.PERSISTENT : 0);
    const options: ServiceOptions = {
      scheduler: v.scheduler,
      flags,
      timeout: v.persistenceTimeout || DEFAULT_PERSISTENT_TIMEOUT,
      netmask: v.persistenceGranularity ?? (v.family === 4 ? 0xffffffff : 128),
      pe: v.persistenceEngine,
    };
    // Each target: the key and the port a non-NAT real server must use there.
    const targets: { key: ServiceKey; port: number }[] = [];
    if (v.target.kind === 'addr') {
      targets.push({ key: { kind: 'addr', protocol: v.protocol ?? 'udp', vip: v.target.addr, port: v.target.port }, port: v.target.port });
    } else if (v.target.kind === 'fwmark') {
      targets.push({ key: { kind: 'fwmark', fwmark: v.target.fwmark, family: v.family }, port: 0 });
    } else {
      const g = cfg.virtualServerGroups.find((x) => x.name === (v.target as { name: string }).name);
      for (const r of g?.ranges ?? []) {
        const addrs = addressRange(r.first, r.last, MAX_GROUP_SERVICES - targets.length);
        if (!addrs) {
          diagnostics.push({ at: r.at, severity: 'error', code: 'OUT_OF_RANGE', keyword: 'virtual_server_group', klass: 'OK',
            message: `virtual_server_group ${g!.name}: ${r.text} expands past ${MAX_GROUP_SERVICES} services - keepvs programs none of it`, expected: 'a smaller range' });
          break;
        }
        for (const a of addrs) targets.push({ key: { kind: 'addr', protocol: v.protocol ?? 'udp', vip: a, port: r.port }, port: r.port });
      }
      for (const f of g?.fwmarks ?? []) targets.push({ key: { kind: 'fwmark', fwmark: f.fwmark, family: f.family ?? v.family }, port: 0 });
    }
    for (const { key, port } of targets) {
      const id = key.kind === 'addr' ? `${key.protocol}|${key.vip.text}|${key.port}` : `fwm|${key.fwmark}|${key.family}`;
      const prev = seen.get(id);
      if (prev) {
        diagnostics.push({ at: v.at, severity: 'error', code: 'DUPLICATE', keyword: 'virtual_server', klass: 'OK',
          message: `service ${id.replace(/\|/g, ' ')} is defined twice (also at ${prev.at.file}:${prev.at.line}); the first definition is used`, expected: 'each service once' });
        continue;
      }
      seen.set(id, v);
      const rsPort = (r: { port: number; forwarding: Forwarding }): number => {
        if (r.forwarding.method === 'NAT' || r.forwarding.method === 'FULLNAT') return r.port || port;
        return key.kind === 'fwmark' ? 0 : port;
      };
      const realServers: PlannedRealServer[] = v.realServers.map((r) => ({
        realServer: r,
        dest: destSpec(r.addr, rsPort(r), r.forwarding, r.weight, r.uthreshold, r.lthreshold),
        initiallyUp: !r.checkers.some((c) => c.alpha),
      }));
      const aliveWeight = realServers.filter((p) => p.initiallyUp).reduce((s, p) => s + p.dest.weight, 0);
      const quorumUp = aliveWeight >= v.quorum + v.hysteresis;
      const sorry = v.sorryServer
        ? destSpec(v.sorryServer.addr, rsPort({ port: v.sorryServer.port, forwarding: v.sorryServer.forwarding }), v.sorryServer.forwarding, 1, 0, 0)
        : null;
      const dests: DestSpec[] = [];
      for (const p of realServers) {
        if (p.initiallyUp) {
          if (quorumUp || !sorry) dests.push(p.dest);
        } else if (p.realServer.inhibitOnFailure) {
          dests.push({ ...p.dest, weight: 0 });
        }
      }
      // A sorry server that is also a real server is already there (check_data.c: s_svr_duplicates_rs).
      // With sorry_server_inhibit the sorry server stays programmed at weight 0 while quorum is up.
      if (sorry && !dests.some((d) => d.addr.text === sorry.addr.text && d.port === sorry.port)) {
        if (!quorumUp) dests.push(sorry);
        else if (v.sorryServer!.inhibit) dests.push({ ...sorry, weight: 0 });
      }
      services.push({ key, options, dests, realServers, sorry, quorumUpAtStart: quorumUp, virtualServer: v });
    }
  }
  return { services, diagnostics };
}
