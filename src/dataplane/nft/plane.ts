// The kernel data plane (`keepvs --dataplane nft`): the director's services become one nftables
// table (render.ts), loaded as one atomic transaction per change (apply: `nft -f -`), plus the DR
// policy-routing rules (dr-routes.ts) and, for queue-path services, keepvs's NFQUEUE rule in
// iptables' mangle table (queue-rules.ts) with the core answering each new connection (queue.ts).
// The kernel forwards every packet; the plane only loads rules, answers queued first packets and
// mirrors conntrack into the director's connection table (conntrack-view.ts).
//
// Forwarding: NAT (-m: DNAT; the RS's default gateway must be the director), FULLNAT (--fullnat:
// DNAT + masquerade to the DIP, or SNAT to a configured pool), DR (-g: notrack + flow map + fwmark
// policy routing). TUN (-i) needs ipip, which is detected (`ip link add type ipip`); this plane
// refuses it where the kernel has none, unless TUN is carried over VXLAN (--nft-tunnel=vxlan, a
// keepvs extension, dr-routes.ts). LOCALNODE is refused. IPv6 services (NAT, FULLNAT and DR) get a
// table of family ip6 with the same name and layout, loaded in the same transaction; IPv6 DR uses
// `ip -6 rule` / `ip -6 route` the way IPv4 DR uses `ip rule` / `ip route`; IPv6 TUN is refused.
import type { Director } from '../../core/director.ts';
import type { Dest, DestSpec } from '../../core/dest.ts';
import { addr, endpointText } from '../../core/addr.ts';
import { type Service, type ServiceKey, type ServiceOptions, serviceKeyText, serviceKeyId } from '../../core/service.ts';
import { type Capabilities, type Check, type DataPlane, type DataPlaneError, type DataPlaneStats, type HeldAddresses, vipServed } from '../dataplane.ts';
import type { NetCommands } from '../../sys/nft.ts';
import { BackendIds, backendMark, hex } from './marks.ts';
import { buildModel, type NftModel, type ModelOptions } from './model.ts';
import { render, transaction, teardown, flowElementKey, type Ruleset } from './render.ts';
import { drPlan, drCommands, drCleanupCommands, forFamily, EMPTY_DR_PLAN, IPIP, type DrPlan, type LingeringBackend, type TunnelEncap } from './dr-routes.ts';
import { destKey } from './model.ts';
import { QUEUE_CHAIN, queueRuleArgs, needsQueue } from './queue-rules.ts';
import { findingText, sysctlFindings } from './preflight.ts';
import { QueueAnswerer, type QueueSource } from './queue.ts';
import { ConntrackView, flowMapEntries, type ConntrackSource, type FlowMapSource } from './conntrack-view.ts';
import { effectiveProxyProtocol } from '../../core/proxy-protocol.ts';

// The kernel forwards packets unchanged: there is no stream to prepend a PROXY header to.
const NO_PROXY_PROTOCOL = 'the nft data plane forwards packets unchanged and cannot send the PROXY protocol header; use --dataplane proxy';

export interface NftPlaneOptions {
  readonly commands: NetCommands;
  /** Milliseconds on the daemon's clock (director calls are stamped with it). */
  readonly clock?: () => number;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** nftables table name (family ip); default "keepvs". */
  readonly table?: string;
  /** NFQUEUE number for queue-path services; default 0x6b. */
  readonly queueNum?: number;
  /** When the queue is not answered: 'fallback' (in-kernel rr over available dests; default) or 'drop'. */
  readonly queueFailure?: 'fallback' | 'drop';
  /** FULLNAT source: null = masquerade to the outgoing interface's address (the DIP); or "A" / "A-B" / a comma-separated list of them, one family. */
  readonly fullnatSource?: string | null;
  /** Remove everything on stop (default true: keepalived removes its virtual servers on stop). */
  readonly flushOnStop?: boolean;
  /** Set the sysctls the plane needs instead of only reporting them (default false). */
  readonly fixSysctls?: boolean;
  /** Every service takes the exact (queue) path. */
  readonly exactAll?: boolean;
  /** Opens the NFQUEUE consumer (sys/nfqueue.ts); absent = no consumer (fail-open/drop applies). */
  readonly openQueue?: (queueNum: number) => Promise<QueueSource>;
  /** Conntrack dumps for the connection view (sys/conntrack.ts); absent = no view. */
  readonly conntrack?: ConntrackSource;
  /** How often the connection view is refreshed (default 1000 ms). */
  readonly viewIntervalMs?: number;
  /** `ip link add type ipip` works on this host (TUN possible); detected by the factory. */
  readonly ipip?: boolean;
  /** How TUN (-i) dests are encapsulated: ipip (default; needs `ipip`) or VXLAN (keepvs extension). */
  readonly tunnel?: TunnelEncap;
  /**
   * Map ipvsadm --set (tcp tcpfin udp) onto the host's conntrack timeouts (nf_conntrack_tcp_timeout_
   * established / _fin_wait, nf_conntrack_udp_timeout_stream). Off by default: they are host-wide.
   */
  readonly mapTimeouts?: boolean;
}

/** Unanswered NAT connections to one dest before the gateway warning. */
const GATEWAY_WARN_AFTER = 3;

/** A failed apply, with the DataPlaneError the API reports (as the proxy plane's ListenError). */
export class NftApplyError extends Error {
  readonly error: DataPlaneError;
  constructor(error: DataPlaneError) {
    super(error.message);
    this.name = 'NftApplyError';
    this.error = error;
  }
}

function refusal(code: DataPlaneError['code'], message: string, context: Record<string, unknown>): Check {
  return { ok: false, error: { code, message, context } };
}

const COUNTERS = ['no_dest', 'guard', 'queue_fallback', 'queue_fail'] as const;
/** Drop reasons (metric labels) for the nft counters. */
const COUNTER_REASON: Readonly<Record<(typeof COUNTERS)[number], string>> = {
  no_dest: 'no-dest', guard: 'not-forwarded', queue_fallback: 'queue-fallback', queue_fail: 'queue-fail',
};

export class NftPlane implements DataPlane {
  readonly capabilities: Capabilities;
  readonly #cmd: NetCommands;
  readonly #clock: () => number;
  readonly #log: (level: 'info' | 'warn' | 'error', message: string) => void;
  readonly #table: string;
  readonly #queueNum: number;
  readonly #queueFailure: 'fallback' | 'drop';
  readonly #fullnatSource: string | null;
  readonly #flushOnStop: boolean;
  readonly #exactAll: boolean;
  readonly #forceQueue = new Set<string>();
  readonly #ids = { services: new BackendIds(), backends: new BackendIds() };
  readonly #openQueue: NftPlaneOptions['openQueue'];
  readonly #ipip: boolean;
  readonly #tunnel: TunnelEncap;
  #prev: Ruleset | null = null;
  /** IPv6 services live in their own table (family ip6, same name), loaded in the same transaction. */
  #prev6: Ruleset | null = null;
  #model6: NftModel | null = null;
  #queueRules6: string[][] | null = null;
  #dr: DrPlan = EMPTY_DR_PLAN;
  /** IPv6 DR's rules and routes (`ip -6`). */
  #dr6: DrPlan = EMPTY_DR_PLAN;
  #queueRules: string[][] | null = null;
  #queue: QueueAnswerer | null = null;
  readonly #view: ConntrackView | null;
  #viewTimer: ReturnType<typeof setInterval> | null = null;
  readonly #viewIntervalMs: number;
  #model: NftModel | null = null;
  #syncing: Promise<void> = Promise.resolve();
  #stopped = false;
  /** VRRP's managed and held addresses (setHeldAddresses); null: every service is loaded. */
  #held: HeldAddresses | null = null;
  #started = false;
  readonly #drops: Record<string, number> = {};
  #director: Director | null = null;
  readonly #mapTimeouts: boolean;
  #timeoutsKey = '';
  readonly #gatewayWarned = new Set<string>();
  /** DR backends of the last model, by key: a removed one lingers while its flows may live. */
  #drBackends = new Map<string, LingeringBackend>();
  readonly #lingering = new Map<string, LingeringBackend & { until: number }>();

  constructor(opts: NftPlaneOptions) {
    this.#cmd = opts.commands;
    this.#clock = opts.clock ?? Date.now;
    this.#log = opts.log ?? (() => {});
    this.#table = opts.table ?? 'keepvs';
    this.#queueNum = opts.queueNum ?? 0x6b;
    this.#queueFailure = opts.queueFailure ?? 'fallback';
    this.#fullnatSource = opts.fullnatSource ?? null;
    this.#flushOnStop = opts.flushOnStop ?? true;
    this.#exactAll = opts.exactAll ?? false;
    this.#openQueue = opts.openQueue;
    this.#ipip = opts.ipip ?? false;
    this.#tunnel = opts.tunnel ?? IPIP;
    this.#viewIntervalMs = opts.viewIntervalMs ?? 1000;
    this.#mapTimeouts = opts.mapTimeouts ?? false;
    this.#view = opts.conntrack ? new ConntrackView(opts.conntrack, (k) => this.#destByKey(k)) : null;
    this.capabilities = {
      name: 'nft',
      fwd: this.#ipip || this.#tunnel.kind === 'vxlan' ? ['masq', 'fullnat', 'route', 'tunnel'] : ['masq', 'fullnat', 'route'],
      protocols: ['tcp', 'udp', 'sctp'], fwmark: true, privileged: true,
    };
  }

  // ---------------------------------------------------------------- admission

  checkService(key: ServiceKey, options: ServiceOptions): Check {
    if (options.proxyProtocol) return refusal('PLANE_ERROR', NO_PROXY_PROTOCOL, { service: serviceKeyText(key) });
    return { ok: true };
  }

  checkDest(svc: Service, spec: DestSpec): Check {
    const ctx = { service: serviceKeyText(svc.key), dest: endpointText(spec.addr, spec.port), fwd: spec.fwd };
    // IPv6: NAT, FULLNAT and DR (table ip6, `ip -6 rule/route`). The tunnels (ipip, the VXLAN
    // stand-in) carry IPv4 only.
    if (spec.addr.family === 6 && spec.fwd === 'tunnel') {
      return refusal('UNSUPPORTED_FWD',
        'the nft data plane forwards IPv6 with NAT (-m), FULLNAT (--fullnat) and direct routing (-g); IPv6 tunnelling (-i) is not supported', ctx);
    }
    if (effectiveProxyProtocol(spec.proxyProtocol, svc.options.proxyProtocol) !== null) return refusal('PLANE_ERROR', NO_PROXY_PROTOCOL, ctx);
    if (spec.fwd === 'local') {
      return refusal('UNSUPPORTED_FWD', 'the nft data plane has no LOCALNODE forwarding; add the local server with -m to its own address', ctx);
    }
    if (spec.fwd === 'tunnel' && this.#tunnel.kind === 'ipip' && !this.#ipip) {
      return refusal('UNSUPPORTED_FWD',
        'IP tunnelling (-i) needs ipip, and this kernel has none (`ip link add type ipip` fails: CONFIG_NET_IPIP unset); '
        + 'use direct routing (-g) on a shared L2 segment, NAT (-m/--fullnat), or VXLAN encapsulation (keepvs --nft-tunnel=vxlan)', ctx);
    }
    if (spec.fwd === 'tunnel' && spec.tunnel && spec.tunnel.type !== 'ipip') {
      return refusal('UNSUPPORTED_FWD',
        `the nft data plane tunnels with ${this.#tunnel.kind === 'vxlan' ? 'VXLAN (--nft-tunnel=vxlan), given as --tun-type ipip (the default),' : 'ipip only'} not ${spec.tunnel.type}`, ctx);
    }
    const dr = spec.fwd === 'route' || spec.fwd === 'tunnel';
    if (dr && svc.key.kind === 'fwmark') {
      return refusal('UNSUPPORTED_FWD',
        'direct routing or tunnelling for a firewall-mark service needs the mark in the raw hook, before conntrack; use a VIP:port service, or -m/--fullnat', ctx);
    }
    // One service, one packet path: DR is stateless (notrack), NAT is conntrack's.
    for (const d of svc.dests) {
      if (d.addr.text === spec.addr.text && d.port === spec.port) continue;
      const otherDr = d.fwd === 'route' || d.fwd === 'tunnel';
      if (otherDr !== dr) {
        return refusal('UNSUPPORTED_FWD',
          `the nft data plane cannot mix direct routing or tunnelling with NAT in one service (${endpointText(d.addr, d.port)} is ${d.fwd})`, ctx);
      }
    }
    return { ok: true };
  }

  /** Force a service (by id, e.g. "tcp|198.18.0.100|80") onto the exact, queue path — or back to auto. */
  setExact(serviceId: string, exact: boolean): void {
    if (exact) this.#forceQueue.add(serviceId);
    else this.#forceQueue.delete(serviceId);
  }

  /** Force by key (convenience for tests and the API). */
  setExactService(key: ServiceKey, exact: boolean): void {
    this.setExact(serviceKeyId(key), exact);
  }

  // ---------------------------------------------------------------- start / sync / stop

  /**
   * Start-up: report sysctls, remove what a previous run left behind (table, ip rules and routes
   * with keepvs's tag, the iptables chain). Called by the factory before the first sync.
   */
  async start(fixSysctls = false, interfaces: readonly string[] = []): Promise<void> {
    for (const f of sysctlFindings((n) => this.#cmd.sysctl(n), interfaces)) {
      if (fixSysctls) {
        const r = await this.#cmd.setSysctl(f.name, f.want);
        this.#log(r.code === 0 ? 'info' : 'warn', r.code === 0 ? `set ${f.name}=${f.want}` : `cannot set ${f.name}: ${r.stderr.trim()}`);
      } else {
        this.#log('warn', findingText(f));
      }
    }
    await this.#cleanupAll();
    this.#started = true;
  }

  async #cleanupAll(): Promise<void> {
    const t = await this.#cmd.nft(teardown(this.#table, ['ip', 'ip6']));
    if (t.code !== 0) throw new NftApplyError({ code: 'PLANE_ERROR', message: `nft: ${t.stderr.trim()}`, context: { table: this.#table } });
    const links: string[] = [];
    for (const type of ['ipip', 'vxlan']) {
      try {
        const l = await this.#cmd.ip(['-j', 'link', 'show', 'type', type]);
        links.push(...(JSON.parse(l.stdout || '[]') as { ifname?: string }[]).map((x) => x.ifname ?? ''));
      } catch { /* none of this type */ }
    }
    for (const family of [4, 6] as const) {
      const f = family === 6 ? ['-6'] : [];
      const rules = await this.#cmd.ip([...f, '-j', 'rule', 'list']);
      const routes = await this.#cmd.ip([...f, '-j', 'route', 'show', 'table', 'all', 'proto', '107']);
      let tables: number[] = [];
      try {
        tables = (JSON.parse(routes.stdout || '[]') as { table?: string }[]).map((r) => Number(r.table)).filter((n) => Number.isInteger(n));
      } catch { /* no routes */ }
      for (const args of forFamily(family, drCleanupCommands(rules.stdout || '[]', tables, family === 4 ? links : []))) await this.#cmd.ip(args);
    }
    await this.#removeQueueRules(4);
    if (this.#cmd.ip6tables) await this.#removeQueueRules(6);
    this.#prev = null;
    this.#prev6 = null;
    this.#dr = EMPTY_DR_PLAN;
    this.#dr6 = EMPTY_DR_PLAN;
  }

  /** iptables-nft for IPv4, ip6tables-nft for IPv6 (the NFQUEUE target lives in each family's mangle table). */
  #xtables(family: 4 | 6): (args: readonly string[]) => Promise<{ code: number; stdout: string; stderr: string }> {
    if (family === 4) return (a) => this.#cmd.iptables(a);
    return (a) => (this.#cmd.ip6tables ? this.#cmd.ip6tables(a) : Promise.resolve({ code: 127, stdout: '', stderr: 'ip6tables-nft unavailable' }));
  }

  async #removeQueueRules(family: 4 | 6): Promise<void> {
    const xt = this.#xtables(family);
    // Bounded: one jump is all keepvs ever appends, a few attempts clear duplicates.
    for (let i = 0; i < 8; i++) {
      const r = await xt(['-t', 'mangle', '-D', 'PREROUTING', '-j', QUEUE_CHAIN]);
      if (r.code !== 0) break;
    }
    await xt(['-t', 'mangle', '-F', QUEUE_CHAIN]);
    await xt(['-t', 'mangle', '-X', QUEUE_CHAIN]);
    if (family === 4) this.#queueRules = null;
    else this.#queueRules6 = null;
  }

  sync(director: Director): Promise<void> {
    const run = this.#syncing.then(() => this.#sync(director));
    this.#syncing = run.catch(() => undefined);
    return run;
  }

  /** The model last loaded (for tests and the dump). */
  get model(): NftModel | null {
    return this.#model;
  }

  async #sync(director: Director): Promise<void> {
    if (this.#stopped) return;
    if (!this.#started) await this.start();
    this.#director = director;
    const now = this.#clock();
    const flowTimeoutS = Math.max(1, director.timeouts.getTimeouts().tcp);
    for (const [k, l] of this.#lingering) if (l.until <= now) this.#lingering.delete(k);
    // VRRP: a service on a managed VIP is loaded only while the VIP is held (docs/vrrp.md).
    const held = this.#held;
    const served = held === null ? director : { services: () => director.services().filter((s) => s.key.kind !== 'addr' || vipServed(held, s.key.vip.text)) };
    // Both families share one id space (marks are per host): each model keeps the other's ids.
    const liveIds = { services: new Set<string>(), backends: new Set<string>() };
    for (const svc of served.services()) {
      liveIds.services.add(svc.id);
      for (const d of svc.dests) liveIds.backends.add(destKey(svc, d));
    }
    const base = (family: 4 | 6): ModelOptions => ({
      family, otherFamilyIds: liveIds,
      keepIds: new Set(this.#lingering.keys()),
      table: this.#table, queueNum: this.#queueNum, queueFailure: this.#queueFailure,
      // A FULLNAT pool applies to its own family; the other family masquerades.
      fullnatSource: this.#fullnatSource !== null && this.#fullnatSource.includes(':') === (family === 6) ? this.#fullnatSource : null,
      drFlowTimeoutS: flowTimeoutS,
      forceQueue: this.#exactAll ? 'all' : this.#forceQueue,
    });
    const model = buildModel(served, this.#ids, base(4));
    const model6 = buildModel(served, this.#ids, base(6));
    const next = render(model);
    // The ip6 table exists only while there are IPv6 services; one nft -f loads both (atomic).
    const next6 = model6.services.length > 0 ? render(model6) : null;
    let text = transaction(this.#prev, next);
    if (next6 !== null) text += transaction(this.#prev6, next6);
    else if (this.#prev6 !== null) text += teardown(this.#table, ['ip6']);
    const r = await this.#cmd.nft(text);
    if (r.code !== 0) {
      throw new NftApplyError({
        code: 'PLANE_ERROR', message: `nft refused the ruleset: ${r.stderr.trim().split('\n')[0] ?? ''}`,
        context: { table: this.#table, stderr: r.stderr.trim() },
      });
    }
    this.#prev = next;
    this.#model = model;
    this.#prev6 = next6;
    this.#model6 = model6;
    // DR routing after the table: a new backend's mark has its route before the rule points at it.
    // A removed DR dest keeps its route while its flows may still be alive (up to the flow timeout):
    // IPVS too keeps forwarding a deleted dest's connections (expire_nodest_conn=0).
    const drNow = new Map<string, LingeringBackend>();
    for (const svc of director.services()) {
      const s = (svc.family === 6 ? model6 : model).services.find((m) => m.id === svc.id && m.mode === 'dr');
      if (!s || s.match.kind !== 'addr') continue;
      for (const d of svc.dests) {
        const k = destKey(svc, d);
        const id = this.#ids.backends.get(k);
        if (id !== undefined) drNow.set(k, { vip: s.match.vip, mark: backendMark(id), addr: d.addr.text, tunnel: d.fwd === 'tunnel' });
      }
    }
    for (const [k, b] of this.#drBackends) {
      if (!drNow.has(k) && !this.#lingering.has(k)) this.#lingering.set(k, { ...b, until: now + flowTimeoutS * 1000 });
    }
    for (const k of drNow.keys()) this.#lingering.delete(k);
    this.#drBackends = drNow;
    const lingering = [...this.#lingering.values()];
    const plan = drPlan(model, lingering.filter((l) => !l.vip.includes(':')), this.#tunnel);
    const plan6 = drPlan(model6, lingering.filter((l) => l.vip.includes(':')), this.#tunnel);
    for (const args of [...forFamily(4, drCommands(this.#dr, plan)), ...forFamily(6, drCommands(this.#dr6, plan6))]) {
      const ir = await this.#cmd.ip(args);
      if (ir.code !== 0) this.#log('warn', `ip ${args.join(' ')}: ${ir.stderr.trim()}`);
    }
    this.#dr = plan;
    this.#dr6 = plan6;
    await this.#syncQueue(model, director);
    this.#startView(director);
  }

  async #syncQueue(model: NftModel, director: Director): Promise<void> {
    const model6 = this.#model6;
    const any = needsQueue(model) || (model6 !== null && needsQueue(model6));
    if (!any) {
      if (this.#queue) {
        await this.#queue.close();
        this.#queue = null;
      }
    } else {
      if (!this.#queue && this.#openQueue) {
        try {
          const src = await this.#openQueue(this.#queueNum);
          src.onFailure?.((m) => this.#log('error', `${m}; queue-path services use the ${this.#queueFailure} behaviour`));
          this.#queue = new QueueAnswerer(src, director, this.#clock, (k) => this.#ids.backends.get(k), (reason) => this.#count(reason));
        } catch (e) {
          this.#log('error', `NFQUEUE ${this.#queueNum}: ${(e as Error).message}; queue-path services use the ${this.#queueFailure} behaviour`);
        }
      }
      this.#queue?.setDirector(director);
    }
    await this.#syncQueueRules(4, model);
    if (model6 !== null && (needsQueue(model6) || this.#queueRules6 !== null)) await this.#syncQueueRules(6, model6);
  }

  /** keepvs's NFQUEUE chain in one family's iptables mangle table: created with the first queue-path service, removed with the last. */
  async #syncQueueRules(family: 4 | 6, model: NftModel): Promise<void> {
    const have = family === 4 ? this.#queueRules : this.#queueRules6;
    if (!needsQueue(model)) {
      if (have !== null) await this.#removeQueueRules(family);
      return;
    }
    const want = queueRuleArgs(model);
    if (JSON.stringify(want) === JSON.stringify(have)) return;
    const xt = this.#xtables(family);
    const tool = family === 4 ? 'iptables-nft' : 'ip6tables-nft';
    await xt(['-t', 'mangle', '-N', QUEUE_CHAIN]);
    await xt(['-t', 'mangle', '-F', QUEUE_CHAIN]);
    for (const args of want) {
      const r = await xt(['-t', 'mangle', '-A', QUEUE_CHAIN, ...args]);
      if (r.code !== 0) {
        throw new NftApplyError({ code: 'PLANE_ERROR', message: `${tool} (NFQUEUE rule): ${r.stderr.trim()}`, context: { args } });
      }
    }
    const has = await xt(['-t', 'mangle', '-C', 'PREROUTING', '-j', QUEUE_CHAIN]);
    if (has.code !== 0) await xt(['-t', 'mangle', '-A', 'PREROUTING', '-j', QUEUE_CHAIN]);
    if (family === 4) this.#queueRules = want;
    else this.#queueRules6 = want;
  }

  #startView(director: Director): void {
    if (!this.#view || this.#viewTimer) return;
    let busy = false;
    // A dump that takes longer than the period (a huge conntrack table) is not stacked up.
    this.#viewTimer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.refreshView(director).catch((e: unknown) => this.#log('warn', `connection view: ${String(e)}`)).finally(() => { busy = false; });
    }, this.#viewIntervalMs);
    this.#viewTimer.unref();
  }

  /** One refresh of the connection view and the drop counters (public so tests drive it). */
  async refreshView(director: Director = this.#director!): Promise<void> {
    if (!director || this.#stopped) return;
    const now = this.#clock();
    await this.#followTimeouts(director);
    if ([...this.#lingering.values()].some((l) => l.until <= now)) await this.sync(director).catch(() => undefined);
    if (this.#view) {
      this.#view.setKeys(this.backendKeys());
      const flows: FlowMapSource[] = [];
      for (const s of [...this.#model?.services ?? [], ...this.#model6?.services ?? []]) {
        if (s.mode !== 'dr' || s.match.kind !== 'addr') continue;
        const family = s.family === 6 ? 'ip6' : 'ip';
        flows.push({
          list: async () => (await this.#cmd.nftArgs(s.family === 6 ? ['-j', 'list', 'set', family, this.#table, `conns_${s.name}`] : ['-j', 'list', 'map', family, this.#table, `flows_${s.name}`])).stdout,
          protocol: s.match.protocol, vip: s.match.vip, vport: s.match.port,
        });
      }
      await this.#view.refresh(director, this.#clock(), flows, (this.#model6?.services.length ?? 0) > 0);
      for (const [dest, n] of this.#view.unanswered) {
        const id = `${dest.addr.text}:${dest.port}`;
        if (n < GATEWAY_WARN_AFTER || this.#gatewayWarned.has(id)) continue;
        this.#gatewayWarned.add(id);
        this.#log('warn', `real server ${id} (NAT) has answered none of ${n} connections: LVS-NAT needs its default `
          + 'gateway to be the director (DIP), or use --fullnat');
      }
    }
    // The counters of both tables (ip, and ip6 while it exists) add up per reason.
    const sums: Record<string, number> = {};
    let read = false;
    for (const family of this.#prev6 !== null ? ['ip', 'ip6'] : ['ip']) {
      const r = await this.#cmd.nftArgs(['-j', 'list', 'counters', 'table', family, this.#table]);
      if (r.code !== 0) continue;
      try {
        const j = JSON.parse(r.stdout) as { nftables: { counter?: { name: string; packets: number } }[] };
        for (const o of j.nftables) {
          const c = o.counter;
          if (!c || !(c.name in COUNTER_REASON)) continue;
          const reason = COUNTER_REASON[c.name as (typeof COUNTERS)[number]];
          sums[reason] = (sums[reason] ?? 0) + c.packets;
          read = true;
        }
      } catch { /* keep the last values */ }
    }
    if (read) Object.assign(this.#drops, sums);
  }

  /** ipvsadm --set changed: the DR flow timeout follows (a sync), and conntrack's if mapped. */
  async #followTimeouts(director: Director): Promise<void> {
    const t = director.timeouts.getTimeouts();
    const key = `${t.tcp}/${t.tcpfin}/${t.udp}`;
    if (key === this.#timeoutsKey) return;
    const first = this.#timeoutsKey === '';
    this.#timeoutsKey = key;
    if (!first && [...this.#model?.services ?? [], ...this.#model6?.services ?? []].some((s) => s.mode === 'dr')) await this.sync(director).catch(() => undefined);
    if (!this.#mapTimeouts) return;
    for (const [name, v] of [
      ['net.netfilter.nf_conntrack_tcp_timeout_established', t.tcp],
      ['net.netfilter.nf_conntrack_tcp_timeout_fin_wait', t.tcpfin],
      ['net.netfilter.nf_conntrack_udp_timeout_stream', t.udp],
    ] as const) {
      if (this.#cmd.sysctl(name) === String(v)) continue;
      const r = await this.#cmd.setSysctl(name, String(v));
      if (r.code !== 0) this.#log('warn', `cannot set ${name}=${v}: ${r.stderr.trim()}`);
    }
  }

  #destByKey(key: string): Dest | undefined {
    const d = this.#director;
    if (!d) return undefined;
    const [svcId, destId] = key.split('#');
    for (const s of d.services()) if (s.id === svcId) return s.destIndex.get(destId);
    return undefined;
  }

  #count(reason: string): void {
    this.#drops[reason] = (this.#drops[reason] ?? 0) + 1;
  }

  /** Backend id -> (service, dest) key, for the conntrack view. */
  backendKeys(): Map<number, string> {
    const m = new Map<number, string>();
    for (const [k, id] of this.#ids.backends.entries()) m.set(id, k);
    return m;
  }

  /**
   * Close a dest's connections now: conntrack keeps forwarding a NAT connection to its dest whatever
   * the table says, and a DR flow keeps its flow-map entry, so both are deleted (by the dest's mark).
   * The next packet of such a connection is then a stray (TCP: no SYN) and is dropped by the guard.
   */
  closeDest(dest: Dest): void {
    const id = this.#ids.backends.get(destKey(dest.svc, dest));
    if (id === undefined) return;
    const mark = backendMark(id);
    void this.#closeMark(mark).catch(() => undefined);
  }

  async #closeMark(mark: number): Promise<void> {
    await this.#cmd.conntrack(['-D', '-f', 'ipv4', '--mark', String(mark)]);
    if (this.#model6?.services.some((s) => s.backends.some((b) => b.mark === mark))) {
      await this.#cmd.conntrack(['-D', '-f', 'ipv6', '--mark', String(mark)]);
    }
    for (const s of [...this.#model?.services ?? [], ...this.#model6?.services ?? []]) {
      if (s.mode !== 'dr' || !s.backends.some((b) => b.mark === mark)) continue;
      const map = `flows_${s.name}`;
      const family = s.family === 6 ? 'ip6' : 'ip';
      const r = await this.#cmd.nftArgs(s.family === 6 ? ['-j', 'list', 'set', family, this.#table, `conns_${s.name}`] : ['-j', 'list', 'map', family, this.#table, map]);
      const flows = flowMapEntries(r.stdout, 'tcp', '0.0.0.0', 0).filter((e) => e.mark === mark);
      const keys = flows.map((e) => flowElementKey(s.family, s.family === 6 ? addr(e.orig.src).bytes : e.orig.src, e.orig.sport));
      if (keys.length > 0) await this.#cmd.nft(`delete element ${family} ${this.#table} ${map} { ${keys.join(', ')} }\n`);
      if (s.family === 6 && flows.length > 0) {
        const conns = flows.map((e) => `${e.orig.sport} . ${e.orig.src} . ${hex(mark)}`);
        await this.#cmd.nft(`delete element ip6 ${this.#table} conns_${s.name} { ${conns.join(', ')} }\n`);
      }
    }
  }

  async stop(_graceMs: number): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#syncing;
    if (this.#viewTimer) clearInterval(this.#viewTimer);
    this.#viewTimer = null;
    if (this.#queue) {
      await this.#queue.close();
      this.#queue = null;
    }
    if (!this.#flushOnStop) {
      this.#log('info', `nft data plane stopped; table ip ${this.#table} left loaded (flush on stop is off)`);
      return;
    }
    await this.#cmd.nft(teardown(this.#table, this.#prev6 !== null ? ['ip', 'ip6'] : ['ip']));
    for (const args of [...forFamily(4, drCommands(this.#dr, EMPTY_DR_PLAN)), ...forFamily(6, drCommands(this.#dr6, EMPTY_DR_PLAN))]) await this.#cmd.ip(args);
    this.#dr = EMPTY_DR_PLAN;
    this.#dr6 = EMPTY_DR_PLAN;
    if (this.#queueRules !== null) await this.#removeQueueRules(4);
    if (this.#queueRules6 !== null) await this.#removeQueueRules(6);
    this.#prev = null;
    this.#prev6 = null;
  }

  /** VRRP: load a managed VIP's services only while it is held (applied at the next sync). */
  setHeldAddresses(addrs: HeldAddresses): void {
    this.#held = addrs;
  }

  stats(): DataPlaneStats {
    const q = this.#queue?.stats();
    const drops: Record<string, number> = { ...this.#drops };
    if (q) for (const [k, v] of Object.entries(q)) drops[k] = (drops[k] ?? 0) + v;
    return { drops, openConnections: this.#view?.openConnections ?? 0 };
  }
}
