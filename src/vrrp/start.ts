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
  /** The data plane's hook: the addresses held now (VrrpProcessOptions.onHeldChange). */
  readonly onHeldChange?: (held: ReadonlySet<string>) => void;
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
  const proc = new VrrpProcess(res.vrrp, o.host ?? createSystemHost({ log: o.log }), { onTransition: o.onTransition, onHeldChange: o.onHeldChange });
  await proc.start();
  return { process: proc, errors };
}

/**
 * SIGHUP: the running process continues with the reloaded file's instances (VrrpProcess.reload, as
 * keepalived reloads its VRRP process). The returned errors are the instances the new file cannot run.
 */
export async function reloadVrrp(proc: VrrpProcess, model: KeepalivedConfig): Promise<readonly VrrpDiagnostic[]> {
  const res = resolveVrrpConfig(vrrpConfigFromKeepalived(model));
  await proc.reload(res.vrrp);
  return res.diagnostics.filter((d) => d.severity === 'error');
}

/**
 * The addresses the file's VRRP instances manage (Addr.text of every virtual_ipaddress and
 * virtual_ipaddress_excluded of an instance that runs), before VRRP starts: the data plane must not
 * try to serve them until an instance holds them.
 */
export function vrrpManagedAddresses(model: KeepalivedConfig): Set<string> {
  const res = resolveVrrpConfig(vrrpConfigFromKeepalived(model));
  return new Set(res.vrrp.instances.flatMap((c) => [...c.vips, ...c.evips].map((v) => v.addr.text)));
}
