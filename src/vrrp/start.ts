// The one call the daemon needs: run VRRP for a parsed keepalived.conf. Errors that stop instances come
// back as diagnostics (the warnings were already reported by the keepalived.conf loader with their
// file:line:col); the returned process answers status() for the API, dumps and metrics, and stop() for
// SIGTERM (MASTERs resign with priority 0 and drop their addresses).
import type { KeepalivedConfig } from '../config/keepalived/model.ts';
import { resolveVrrpConfig } from './config.ts';
import type { VrrpDiagnostic } from './errors.ts';
import { vrrpConfigFromKeepalived } from './from-keepalived.ts';
import type { LogLevel, VrrpHost } from './host.ts';
import { createSystemHost } from './system-host.ts';
import { VrrpProcess, type TransitionEvent } from './vrrp-process.ts';

export interface StartVrrpOptions {
  readonly log: (level: LogLevel, message: string) => void;
  readonly onTransition?: (e: TransitionEvent) => void;
  /** Tests pass a fake host. */
  readonly host?: VrrpHost;
}

export interface StartedVrrp {
  /** Null when the configuration has no VRRP instance left to run. */
  readonly process: VrrpProcess | null;
  readonly errors: readonly VrrpDiagnostic[];
}

export async function startVrrp(model: KeepalivedConfig, o: StartVrrpOptions): Promise<StartedVrrp> {
  const res = resolveVrrpConfig(vrrpConfigFromKeepalived(model));
  const errors = res.diagnostics.filter((d) => d.severity === 'error');
  if (res.vrrp.instances.length === 0) return { process: null, errors };
  const proc = new VrrpProcess(res.vrrp, o.host ?? createSystemHost({ log: o.log }), { onTransition: o.onTransition });
  await proc.start();
  return { process: proc, errors };
}
