// The benchmark's pool, shared by the keepvs child and the keepalived.conf generator, so both
// check exactly the same real servers: N real servers on distinct 127.x.y.z addresses spread over
// a few backend ports, 1 000 per virtual server, delay_loop 1 s, TCP_CHECK or HTTP_GET.
import type { VirtualServerSpec } from '../../src/check/spec.ts';

export type BenchKind = 'tcp' | 'http';

export interface Plan {
  readonly n: number;
  readonly kind: BenchKind;
  readonly ports: readonly number[];
  /** keepvs only: how probes end (default 'reset'; 'graceful' is keepalived's FIN). */
  readonly close?: 'reset' | 'graceful';
}

export const PER_VS = 1000;

/** Real server i: 127.10.0.1 upwards (the whole 127.0.0.0/8 is loopback). */
export function rsAddress(i: number): string {
  const v = i + 1;
  return `127.${10 + (v >> 16)}.${(v >> 8) & 255}.${v & 255}`;
}

export function vsAddress(v: number): string {
  return `127.200.${v >> 8}.${(v & 255) + 1}`;
}

export function specs(plan: Plan): VirtualServerSpec[] {
  const out: VirtualServerSpec[] = [];
  for (let v = 0; v * PER_VS < plan.n; v++) {
    const rs = [];
    for (let i = v * PER_VS; i < Math.min(plan.n, (v + 1) * PER_VS); i++) {
      const checker = plan.kind === 'tcp'
        ? { type: 'TCP_CHECK' as const, connect_timeout: 5 }
        : { type: 'HTTP_GET' as const, connect_timeout: 5, url: [{ path: '/', status_code: [[200, 200]] as Array<[number, number]> }] };
      rs.push({ address: rsAddress(i), port: plan.ports[i % plan.ports.length], weight: 1, checkers: [checker] });
    }
    out.push({ id: { kind: 'addr', address: vsAddress(v), port: 80, protocol: 'tcp' }, delay_loop: 1, real_server: rs });
  }
  return out;
}

export function keepalivedConf(plan: Plan): string {
  const lines = ['global_defs {', '  router_id keepvs_bench', '}'];
  for (const vs of specs(plan)) {
    if (vs.id.kind !== 'addr') continue;
    lines.push(`virtual_server ${vs.id.address} ${vs.id.port} {`, '  delay_loop 1', '  lb_algo rr', '  lb_kind NAT', '  protocol TCP');
    for (const rs of vs.real_server) {
      const check = plan.kind === 'tcp'
        ? '    TCP_CHECK {\n      connect_timeout 5\n    }'
        : '    HTTP_GET {\n      url {\n        path /\n        status_code 200\n      }\n      connect_timeout 5\n    }';
      lines.push(`  real_server ${rs.address} ${rs.port} {`, '    weight 1', check, '  }');
    }
    lines.push('}');
  }
  return lines.join('\n') + '\n';
}
