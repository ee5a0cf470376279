// Where the control socket lives (docs/api.md, "Transport"), shared by the daemon and keepvsadm,
// and how the daemon claims the path: a socket left by a dead daemon is replaced, a live one is not.
import { connect } from 'node:net';
import { lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Root: /run/keepvs/keepvs.sock; otherwise $XDG_RUNTIME_DIR/keepvs.sock, else /tmp/keepvs-<uid>/keepvs.sock. */
export function defaultControlSocket(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? -1): string {
  if (uid === 0) return '/run/keepvs/keepvs.sock';
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'keepvs.sock');
  return `/tmp/keepvs-${uid}/keepvs.sock`;
}

/** The socket keepvsadm talks to: $KEEPVS_SOCKET when set, else the default. */
export function clientControlSocket(env: NodeJS.ProcessEnv = process.env): string {
  return env.KEEPVS_SOCKET || defaultControlSocket(env);
}

/** Why the daemon cannot use a control socket path. */
export class ControlSocketError extends Error {
  readonly reason: 'in-use' | 'not-a-socket' | 'unsafe-directory';
  constructor(reason: ControlSocketError['reason'], message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Does something answer on this Unix socket? ECONNREFUSED (nobody listening) means stale. */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (v: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    // A listener that never accepts is still a listener: treat silence as alive.
    const timer = setTimeout(() => done(true), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Make the socket's directory (0700 when we create it) and clear the path. A directory we did not
 * create must belong to us (or root) and not be writable by others unless sticky, or another user
 * could swap the socket (this matters for /tmp/keepvs-<uid>).
 */
export async function claimControlSocket(path: string): Promise<void> {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const uid = process.getuid?.() ?? -1;
  const ds = statSync(dir);
  const foreign = ds.uid !== uid && ds.uid !== 0;
  const openToOthers = (ds.mode & 0o022) !== 0 && (ds.mode & 0o1000) === 0;
  if (uid >= 0 && (foreign || openToOthers)) {
    throw new ControlSocketError('unsafe-directory',
      `control socket directory ${dir} belongs to another user or is writable by others; remove it or use --control`);
  }
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!st.isSocket()) throw new ControlSocketError('not-a-socket', `${path} exists and is not a socket; remove it or use --control`);
  if (await socketAnswers(path)) {
    throw new ControlSocketError('in-use', `another keepvs is already listening on ${path}`);
  }
  unlinkSync(path);
}
