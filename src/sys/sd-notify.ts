// sd_notify(3) for Type=notify units: READY=1 once the control socket listens, STOPPING=1 when a
// stop begins, STATUS=... for systemctl status. Node has no AF_UNIX datagram sockets, so the message
// goes through the systemd-notify binary (systemd ships it wherever NOTIFY_SOCKET can be set), with
// --pid naming the daemon. Root can send on another process's behalf; a unit running keepvs as
// another user needs NotifyAccess=all. Without NOTIFY_SOCKET this does nothing.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface SdNotifier {
  /** NOTIFY_SOCKET is set and a way to send exists. */
  readonly enabled: boolean;
  /** Send "KEY=value" assignments, e.g. { READY: '1', STATUS: 'listening' }. Never throws. */
  notify(fields: Readonly<Record<string, string>>): Promise<void>;
}

function findOnPath(name: string, path: string | undefined): string | null {
  for (const dir of (path ?? '/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // Not here.
    }
  }
  return null;
}

export function createSdNotifier(
  env: NodeJS.ProcessEnv = process.env,
  onError: (message: string) => void = () => {},
  pid: number = process.pid,
): SdNotifier {
  if (!env.NOTIFY_SOCKET) return { enabled: false, notify: async () => {} };
  const bin = findOnPath('systemd-notify', env.PATH);
  if (!bin) {
    onError('NOTIFY_SOCKET is set but systemd-notify was not found; systemd will not hear READY=1');
    return { enabled: false, notify: async () => {} };
  }
  return {
    enabled: true,
    notify: (fields) => new Promise<void>((resolve) => {
      const args = [`--pid=${pid}`, ...Object.entries(fields).map(([k, v]) => `${k}=${v}`)];
      execFile(bin, args, { env: { ...env }, timeout: 5000 }, (e, _out, stderr) => {
        if (e) onError(`systemd-notify ${args.join(' ')} failed: ${String(stderr).trim() || e.message}`);
        resolve();
      });
    }),
  };
}
