// GET /metrics: the Prometheus text exposition format (0.0.4), written by hand (no dependency).
// Every metric keepvs exports is in METRICS below, collected at scrape time from the director, the
// plane and the API's counters: nothing is counted per packet here.
//
// Names: node_exporter's IPVS collector (collector/ipvs_linux.go) under a keepvs_ prefix, with its
// exact label names and values. Its values come from /proc/net/ip_vs (ip_vs_ctl.c:
// ip_vs_info_seq_show): proto TCP|UDP|SCTP|FWM, and for a fwmark service local_address="",
// local_port="0" and local_mark = the mark as %08X. keepvs adds per-service and per-dest counters
// under new names, and its own rejection counters.
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import { readdirSync } from 'node:fs';
import type { Service } from '../core/service.ts';
import type { Dest } from '../core/dest.ts';
import type { Counters } from '../core/stats.ts';
import type { ApiContext } from './router.ts';

type MetricType = 'counter' | 'gauge';

export const METRICS = {
  // node_exporter's names (global counters: ip_vs_stats).
  keepvs_ipvs_connections_total: { type: 'counter', help: 'The total number of connections made.' },
  keepvs_ipvs_incoming_packets_total: { type: 'counter', help: 'The total number of incoming packets.' },
  keepvs_ipvs_outgoing_packets_total: { type: 'counter', help: 'The total number of outgoing packets.' },
  keepvs_ipvs_incoming_bytes_total: { type: 'counter', help: 'The total amount of incoming data.' },
  keepvs_ipvs_outgoing_bytes_total: { type: 'counter', help: 'The total amount of outgoing data.' },
  keepvs_ipvs_backend_connections_active: { type: 'gauge', help: 'The current active connections by local and remote address.' },
  keepvs_ipvs_backend_connections_inactive: { type: 'gauge', help: 'The current inactive connections by local and remote address.' },
  keepvs_ipvs_backend_weight: { type: 'gauge', help: 'The current backend weight by local and remote address.' },
  // keepvs additions, same labels.
  keepvs_ipvs_backend_connections_persistent: { type: 'gauge', help: 'The current persistence templates pointing at the backend.' },
  keepvs_ipvs_backend_overloaded: { type: 'gauge', help: '1 while the backend is over its upper connection threshold (OVERLOAD).' },
  keepvs_ipvs_backend_connections_total: { type: 'counter', help: 'Connections scheduled to the backend.' },
  keepvs_ipvs_backend_incoming_packets_total: { type: 'counter', help: 'Packets from clients to the backend.' },
  keepvs_ipvs_backend_outgoing_packets_total: { type: 'counter', help: 'Packets from the backend to clients.' },
  keepvs_ipvs_backend_incoming_bytes_total: { type: 'counter', help: 'Bytes from clients to the backend.' },
  keepvs_ipvs_backend_outgoing_bytes_total: { type: 'counter', help: 'Bytes from the backend to clients.' },
  keepvs_ipvs_service_connections_total: { type: 'counter', help: 'Connections scheduled by the virtual service.' },
  keepvs_ipvs_service_incoming_packets_total: { type: 'counter', help: 'Packets from clients to the virtual service.' },
  keepvs_ipvs_service_outgoing_packets_total: { type: 'counter', help: 'Packets from the real servers to clients of the virtual service.' },
  keepvs_ipvs_service_incoming_bytes_total: { type: 'counter', help: 'Bytes from clients to the virtual service.' },
  keepvs_ipvs_service_outgoing_bytes_total: { type: 'counter', help: 'Bytes from the real servers to clients of the virtual service.' },
  keepvs_ipvs_services: { type: 'gauge', help: 'Virtual services configured.' },
  keepvs_ipvs_connection_entries: { type: 'gauge', help: 'Entries in the connection table (connections and persistence templates).' },
  // Rejections, by reason.
  keepvs_director_drops_total: { type: 'counter', help: 'New flows the director did not schedule, by reason.' },
  keepvs_dataplane_drops_total: { type: 'counter', help: 'Connections the data plane refused or reset, by reason.' },
  keepvs_dataplane_open_connections: { type: 'gauge', help: 'Connections open in the data plane.' },
  keepvs_api_rejected_total: { type: 'counter', help: 'API requests refused, by error code.' },
  keepvs_api_requests_total: { type: 'counter', help: 'API requests answered, by route and status.' },
  keepvs_build_info: { type: 'gauge', help: 'keepvs version, Node.js version and data plane; always 1.' },
  // keepvs -f (the names Prometheus uses for its own configuration, under keepvs_).
  keepvs_config_stale: { type: 'gauge', help: '1 while a reload has been refused and the previous configuration still runs.' },
  keepvs_config_last_reload_success_timestamp_seconds: { type: 'gauge', help: 'When the configuration was last loaded successfully (start or reload).' },
  keepvs_config_reloads_total: { type: 'counter', help: 'SIGHUP reloads, by result (success, failure).' },
  // BFD (bfd_instance sessions keepvs -f runs; src/check/bfd/process.ts).
  keepvs_bfd_session_up: { type: 'gauge', help: '1 while the BFD session is Up, by bfd_instance name and neighbor.' },
  keepvs_bfd_session_detection_time_seconds: { type: 'gauge', help: 'The BFD session\'s current detection time.' },
  keepvs_bfd_session_packets_received_total: { type: 'counter', help: 'BFD control packets matched to the session since it (re)started.' },
  keepvs_bfd_session_packets_sent_total: { type: 'counter', help: 'BFD control packets the session sent since it (re)started.' },
  keepvs_bfd_packets_received_total: { type: 'counter', help: 'BFD datagrams received, accepted or not.' },
  keepvs_bfd_packets_sent_total: { type: 'counter', help: 'BFD control packets sent.' },
  keepvs_bfd_send_errors_total: { type: 'counter', help: 'BFD control packets the kernel refused to send.' },
  keepvs_bfd_drops_total: { type: 'counter', help: 'BFD datagrams refused, by reason.' },
  keepvs_bfd_state_transitions_total: { type: 'counter', help: 'BFD session state changes.' },
  // Process (the names prom-client and the Go client use).
  process_cpu_user_seconds_total: { type: 'counter', help: 'User CPU time spent in seconds.' },
  process_cpu_system_seconds_total: { type: 'counter', help: 'System CPU time spent in seconds.' },
  process_cpu_seconds_total: { type: 'counter', help: 'Total user and system CPU time spent in seconds.' },
  process_start_time_seconds: { type: 'gauge', help: 'Start time of the process since unix epoch in seconds.' },
  process_resident_memory_bytes: { type: 'gauge', help: 'Resident memory size in bytes.' },
  process_open_fds: { type: 'gauge', help: 'Number of open file descriptors.' },
  nodejs_heap_size_used_bytes: { type: 'gauge', help: 'Process heap size used from Node.js in bytes.' },
  nodejs_heap_size_total_bytes: { type: 'gauge', help: 'Process heap size from Node.js in bytes.' },
  nodejs_eventloop_lag_mean_seconds: { type: 'gauge', help: 'The mean of the recorded event loop delays since the last scrape.' },
  nodejs_eventloop_lag_p99_seconds: { type: 'gauge', help: 'The 99th percentile of the recorded event loop delays since the last scrape.' },
  nodejs_eventloop_lag_max_seconds: { type: 'gauge', help: 'The maximum recorded event loop delay since the last scrape.' },
} as const satisfies Record<string, { type: MetricType; help: string }>;

export type MetricName = keyof typeof METRICS;

type Labels = Readonly<Record<string, string>>;
interface Sample { readonly labels: Labels; readonly value: number }

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** node_exporter's service labels, with /proc/net/ip_vs's values. */
export function serviceLabels(svc: Service): { proto: string; local_address: string; local_port: string; local_mark: string } {
  const k = svc.key;
  if (k.kind === 'fwmark') {
    return { proto: 'FWM', local_address: '', local_port: '0', local_mark: k.fwmark.toString(16).toUpperCase().padStart(8, '0') };
  }
  return { proto: k.protocol.toUpperCase(), local_address: k.vip.text, local_port: String(k.port), local_mark: '' };
}

/** node_exporter's backend labels, in its order. */
export function backendLabels(svc: Service, d: Dest): Labels {
  const s = serviceLabels(svc);
  return {
    local_address: s.local_address, local_port: s.local_port, remote_address: d.addr.text,
    remote_port: String(d.port), proto: s.proto, local_mark: s.local_mark,
  };
}

/** Renders METRICS in table order; a family without samples still gets its HELP and TYPE. */
export function renderMetrics(samples: ReadonlyMap<MetricName, readonly Sample[]>): string {
  const out: string[] = [];
  for (const [name, def] of Object.entries(METRICS) as [MetricName, { type: MetricType; help: string }][]) {
    out.push(`# HELP ${name} ${def.help}`, `# TYPE ${name} ${def.type}`);
    for (const s of samples.get(name) ?? []) {
      const keys = Object.keys(s.labels);
      const l = keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${escapeLabel(s.labels[k])}"`).join(',')}}`;
      out.push(`${name}${l} ${formatValue(s.value)}`);
    }
  }
  return out.join('\n') + '\n';
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Collects at scrape time. One per server: it owns the event-loop delay monitor. */
export class MetricsCollector {
  readonly #loop: ELDHistogram;

  constructor() {
    this.#loop = monitorEventLoopDelay({ resolution: 10 });
    this.#loop.enable();
  }

  close(): void {
    this.#loop.disable();
  }

  collect(ctx: ApiContext): Map<MetricName, Sample[]> {
    const m = new Map<MetricName, Sample[]>();
    const add = (name: MetricName, value: number, labels: Labels = {}): void => {
      let list = m.get(name);
      if (!list) m.set(name, (list = []));
      list.push({ labels, value });
    };

    const total: Counters = { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };
    const services = ctx.director.services();
    for (const svc of services) {
      const c = svc.stats.counters;
      total.conns += c.conns; total.inpkts += c.inpkts; total.outpkts += c.outpkts;
      total.inbytes += c.inbytes; total.outbytes += c.outbytes;
      const sl = serviceLabels(svc);
      add('keepvs_ipvs_service_connections_total', c.conns, sl);
      add('keepvs_ipvs_service_incoming_packets_total', c.inpkts, sl);
      add('keepvs_ipvs_service_outgoing_packets_total', c.outpkts, sl);
      add('keepvs_ipvs_service_incoming_bytes_total', c.inbytes, sl);
      add('keepvs_ipvs_service_outgoing_bytes_total', c.outbytes, sl);
      for (const d of svc.dests) {
        const bl = backendLabels(svc, d);
        const dc = d.stats.counters;
        add('keepvs_ipvs_backend_connections_active', d.activeConns, bl);
        add('keepvs_ipvs_backend_connections_inactive', d.inactConns, bl);
        add('keepvs_ipvs_backend_weight', d.weight, bl);
        add('keepvs_ipvs_backend_connections_persistent', d.persistConns, bl);
        add('keepvs_ipvs_backend_overloaded', d.overloaded ? 1 : 0, bl);
        add('keepvs_ipvs_backend_connections_total', dc.conns, bl);
        add('keepvs_ipvs_backend_incoming_packets_total', dc.inpkts, bl);
        add('keepvs_ipvs_backend_outgoing_packets_total', dc.outpkts, bl);
        add('keepvs_ipvs_backend_incoming_bytes_total', dc.inbytes, bl);
        add('keepvs_ipvs_backend_outgoing_bytes_total', dc.outbytes, bl);
      }
    }
    // The kernel's ip_vs_stats totals; here the sum over the current services (a deleted service's
    // counts leave the sum, which Prometheus reads as a counter reset).
    add('keepvs_ipvs_connections_total', total.conns);
    add('keepvs_ipvs_incoming_packets_total', total.inpkts);
    add('keepvs_ipvs_outgoing_packets_total', total.outpkts);
    add('keepvs_ipvs_incoming_bytes_total', total.inbytes);
    add('keepvs_ipvs_outgoing_bytes_total', total.outbytes);
    add('keepvs_ipvs_services', services.length);
    add('keepvs_ipvs_connection_entries', ctx.director.conns.size);

    for (const [reason, n] of Object.entries(ctx.director.drops)) add('keepvs_director_drops_total', n, { reason });
    const ps = ctx.plane.stats();
    for (const [reason, n] of Object.entries(ps.drops)) add('keepvs_dataplane_drops_total', n, { reason });
    add('keepvs_dataplane_open_connections', ps.openConnections);
    for (const [code, n] of ctx.counters.rejected) add('keepvs_api_rejected_total', n, { code });
    for (const [key, n] of ctx.counters.requests) {
      const [route, status] = key.split('\t');
      add('keepvs_api_requests_total', n, { route, status });
    }
    const info = ctx.info();
    add('keepvs_build_info', 1, { version: info.keepvsVersion, nodejs: process.version, dataplane: info.dataplane });
    const cfg = ctx.config?.();
    if (cfg) {
      add('keepvs_config_stale', cfg.stale ? 1 : 0);
      if (cfg.lastSuccessSeconds !== null) add('keepvs_config_last_reload_success_timestamp_seconds', cfg.lastSuccessSeconds);
      add('keepvs_config_reloads_total', cfg.reloads.success, { result: 'success' });
      add('keepvs_config_reloads_total', cfg.reloads.failure, { result: 'failure' });
    }
    const bfd = ctx.bfd?.();
    if (bfd) {
      for (const s of bfd.sessions) {
        const sl = { name: s.name, neighbor: s.neighbor };
        add('keepvs_bfd_session_up', s.state === 'Up' ? 1 : 0, sl);
        add('keepvs_bfd_session_detection_time_seconds', s.detectionTimeMs / 1000, sl);
        add('keepvs_bfd_session_packets_received_total', s.counters.received, sl);
        add('keepvs_bfd_session_packets_sent_total', s.counters.sent, sl);
      }
      add('keepvs_bfd_packets_received_total', bfd.stats.received);
      add('keepvs_bfd_packets_sent_total', bfd.stats.sent);
      add('keepvs_bfd_send_errors_total', bfd.stats.sendErrors);
      for (const [reason, n] of Object.entries(bfd.stats.dropped)) add('keepvs_bfd_drops_total', n, { reason });
      add('keepvs_bfd_state_transitions_total', bfd.stats.transitions);
    }

    const cpu = process.cpuUsage();
    add('process_cpu_user_seconds_total', cpu.user / 1e6);
    add('process_cpu_system_seconds_total', cpu.system / 1e6);
    add('process_cpu_seconds_total', (cpu.user + cpu.system) / 1e6);
    add('process_start_time_seconds', ctx.startTimeSeconds);
    add('process_resident_memory_bytes', process.memoryUsage.rss());
    const fds = openFds();
    if (fds !== null) add('process_open_fds', fds);
    const mem = process.memoryUsage();
    add('nodejs_heap_size_used_bytes', mem.heapUsed);
    add('nodejs_heap_size_total_bytes', mem.heapTotal);
    const h = this.#loop;
    if (h.count > 0) {
      add('nodejs_eventloop_lag_mean_seconds', h.mean / 1e9);
      add('nodejs_eventloop_lag_p99_seconds', h.percentile(99) / 1e9);
      add('nodejs_eventloop_lag_max_seconds', h.max / 1e9);
    }
    h.reset();
    return m;
  }

  render(ctx: ApiContext): string {
    return renderMetrics(this.collect(ctx));
  }
}

function openFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}
