// Running keepalived-style scripts (MISC_CHECK, notify_up/down, quorum_up/down) and the checks
// keepalived makes before it trusts one (keepalived/core/notify.c: system_call_script,
// check_script_secure, get_default_script_user).
//
// - A script runs in its own process group (setpgid), so a timeout can kill it and its children:
//   SIGTERM to the group, then SIGKILL 2 s later if it is still there (check_misc.c).
// - It runs as its configured `user [group]`, else as the default script user: keepalived_script
//   if that account exists, else the daemon's own uid/gid. With enable_script_security a missing
//   keepalived_script is an error rather than a fall-back to root.
// - A file that is executable is exec'd directly; if the kernel refuses it (ENOEXEC: no #!) or the
//   first word is a redirection test ("</dev/tcp/…"), the words go to /bin/sh -c, each quoted.
// - Security: when a script would run as root (uid or gid 0, or set-uid/gid root), every directory
//   on its path must be root-owned and not writable by non-root group or others (unless sticky),
//   and the file itself not writable by them. Otherwise keepalived warns, and with
//   enable_script_security it refuses to run the script.
import { spawn, execFileSync } from 'node:child_process';
import { statSync, lstatSync, realpathSync, accessSync, constants } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';

export interface ScriptIdentity {
  readonly uid: number;
  readonly gid: number;
  /** User name when known (for messages). */
  readonly name?: string;
}

export interface RunOptions {
  readonly argv: readonly string[];
  readonly identity?: ScriptIdentity;
  /** 0 or absent: no timeout. */
  readonly timeoutMs?: number;
  /** AbortSignal's shape (the health checker passes a lighter object with the same methods). */
  readonly signal?: {
    readonly aborted: boolean;
    addEventListener(type: 'abort', fn: () => void, opts?: { once?: boolean }): void;
    removeEventListener(type: 'abort', fn: () => void): void;
  };
  /** Grace between SIGTERM and SIGKILL; keepalived uses 2 s. */
  readonly killGraceMs?: number;
}

export interface RunResult {
  /** Exit status, or null when killed by a signal or not started. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** We terminated it because it ran past its timeout. */
  readonly timedOut: boolean;
  /** It could not be started (ENOENT, EACCES, …). */
  readonly spawnError?: string;
}

export interface ScriptRunner {
  run(opts: RunOptions): Promise<RunResult>;
}

export const KILL_GRACE_MS = 2000;

function shellQuote(argv: readonly string[]): string {
  return argv.map((a, i) => (i === 0 && (a.startsWith('<') || a.startsWith('>')) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

function runOnce(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult & { enoexec?: boolean }> {
  return new Promise((resolve) => {
    const own = process.getuid?.() ?? 0;
    const ownGid = process.getgid?.() ?? 0;
    const id = opts.identity;
    const child = spawn(file, args, {
      detached: true,
      stdio: 'ignore',
      uid: id && id.uid !== own ? id.uid : undefined,
      gid: id && id.gid !== ownGid ? id.gid : undefined,
      env: { ...process.env, IFS: undefined, LD_PRELOAD: undefined, LD_LIBRARY_PATH: undefined },
    });
    let timedOut = false;
    let killTimer: ReturnType<typeof setTimeout> | null = null;
    const group = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    const terminate = () => {
      group('SIGTERM');
      killTimer = setTimeout(() => group('SIGKILL'), opts.killGraceMs ?? KILL_GRACE_MS);
    };
    const timer = opts.timeoutMs && opts.timeoutMs > 0
      ? setTimeout(() => { timedOut = true; terminate(); }, opts.timeoutMs)
      : null;
    const onAbort = () => terminate();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      cleanup();
      resolve({ exitCode: null, signal: null, timedOut: false, spawnError: e.code ?? e.message, enoexec: e.code === 'ENOEXEC' });
    });
    child.once('exit', (code, sig) => {
      // A script that died of our SIGTERM may leave children: finish the group (check_misc.c).
      if (timedOut && sig === 'SIGTERM') group('SIGKILL');
      cleanup();
      resolve({ exitCode: code, signal: sig, timedOut });
    });
  });
}

export function createScriptRunner(): ScriptRunner {
  return {
    async run(opts) {
      const [file, ...args] = opts.argv;
      if (!file) return { exitCode: null, signal: null, timedOut: false, spawnError: 'empty command' };
      if (file.startsWith('<') || file.startsWith('>')) return runOnce('/bin/sh', ['-c', shellQuote(opts.argv)], opts);
      const r = await runOnce(file, args, opts);
      if (r.enoexec) return runOnce('/bin/sh', ['-c', shellQuote(opts.argv)], opts);
      return r;
    },
  };
}

// ---- users ------------------------------------------------------------------------------

/** getent passwd/group through NSS; null when the name does not exist. */
function getent(db: 'passwd' | 'group', name: string): string[] | null {
  try {
    const out = execFileSync('getent', [db, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const line = out.split('\n')[0];
    return line ? line.split(':') : null;
  } catch {
    return null;
  }
}

export type UserLookup = (user: string, group?: string) => ScriptIdentity | null;

/** Resolve `user [group]` as keepalived's set_uid_gid does (the user's primary group unless a group is given). */
export const lookupScriptUser: UserLookup = (user, group) => {
  const pw = getent('passwd', user);
  if (!pw) return null;
  let gid = Number(pw[3]);
  if (group) {
    const g = getent('group', group.startsWith(':') ? group.slice(1) : group);
    if (!g) return null;
    gid = Number(g[2]);
  }
  return { uid: Number(pw[2]), gid, name: user };
};

export const DEFAULT_SCRIPT_USER = 'keepalived_script';

/**
 * The default script user: keepalived_script when it exists, else ourselves. With script security
 * on, a missing keepalived_script is an error (null), as in get_default_script_user.
 */
export function defaultScriptUser(scriptSecurity: boolean, lookup: UserLookup = lookupScriptUser): ScriptIdentity | null {
  const ks = lookup(DEFAULT_SCRIPT_USER);
  if (ks) return ks;
  if (scriptSecurity) return null;
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

// ---- script security --------------------------------------------------------------------

export type ScriptVerdict = 'ok' | 'insecure' | 'disabled' | 'not-found' | 'not-executable';

export interface ScriptCheck {
  readonly verdict: ScriptVerdict;
  /** The file that will run (after a PATH search). */
  readonly path: string;
  readonly reason: string;
}

function executableBy(st: { mode: number; uid: number; gid: number }, id: ScriptIdentity): boolean {
  if (id.uid === 0) return (st.mode & 0o111) !== 0;
  if (st.uid === id.uid) return (st.mode & 0o100) !== 0;
  if (st.gid === id.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

function searchPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // Next directory.
    }
  }
  return null;
}

/**
 * keepalived's check_security (lib/notify.c) on one path, component by component without following
 * links: each must be owned by root; every component but the last must be a directory and the last a
 * file or a symbolic link (a wrong type inhibits the script whatever enable_script_security says);
 * directories without the sticky bit and files must not be writable by a non-root group or others
 * (a link's own mode bits mean nothing and are not checked).
 */
function unsafeComponent(path: string): { readonly reason: string; readonly wrongType: boolean } | null {
  const parts = path.split('/').filter(Boolean);
  let cur = '';
  const check = (p: string, last: boolean): { reason: string; wrongType: boolean } | null => {
    const st = lstatSync(p);
    if (last ? !st.isFile() && !st.isSymbolicLink() : !st.isDirectory()) return { reason: `wrong file type found in script path ${p}`, wrongType: true };
    if (st.uid !== 0) return { reason: `${p} is not owned by root`, wrongType: false };
    const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
    const groupWrite = st.gid !== 0 && (st.mode & 0o020) !== 0;
    const otherWrite = (st.mode & 0o002) !== 0;
    if ((st.isFile() || (st.isDirectory() && !sticky)) && (groupWrite || otherWrite)) return { reason: `${p} is writable by non-root users`, wrongType: false };
    return null;
  };
  const root = check('/', parts.length === 0);
  if (root) return root;
  for (let i = 0; i < parts.length; i++) {
    cur += '/' + parts[i];
    const bad = check(cur, i === parts.length - 1);
    if (bad) return bad;
  }
  return null;
}

/** keepalived's check_script_secure for one script, as it would run as `identity`. */
export function checkScriptSecurity(argv0: string, identity: ScriptIdentity, scriptSecurity: boolean): ScriptCheck {
  if (argv0.startsWith('<') && argv0.slice(1).trimStart().startsWith('/')) return { verdict: 'ok', path: argv0, reason: 'redirection test' };
  let path = argv0;
  if (!argv0.includes('/')) {
    const found = searchPath(argv0);
    if (!found) return { verdict: 'not-found', path: argv0, reason: `cannot find ${argv0} in PATH` };
    path = found;
  }
  let real: string;
  let st;
  try {
    real = realpathSync(path);
    st = statSync(real);
  } catch (e) {
    return { verdict: 'not-found', path, reason: `${path}: ${(e as NodeJS.ErrnoException).code}` };
  }
  if (!st.isFile() || !executableBy(st, identity)) {
    return { verdict: 'not-executable', path, reason: `${path} is not executable for uid:gid ${identity.uid}:${identity.gid}` };
  }
  const asRoot = identity.uid === 0 || identity.gid === 0
    || (st.uid === 0 && (st.mode & 0o4100) === 0o4100) || (st.gid === 0 && (st.mode & 0o2010) === 0o2010);
  if (asRoot) {
    // keepalived checks the path it will run, not the one written: realpath() of it, except that a
    // link whose target has another file name keeps its own name in the resolved directory (some
    // programs act on the name they are called by), and then the target is checked as well. So
    // /bin/sh on a merged-/usr system is checked as /usr/bin/sh and /usr/bin/dash.
    const named = real === path || basename(real) === basename(path) ? real : join(realpathSync(dirname(path)), basename(path));
    const bad = unsafeComponent(named) ?? (named !== real ? unsafeComponent(real) : null);
    if (bad) {
      const verdict = bad.wrongType || scriptSecurity ? 'disabled' : 'insecure';
      return { verdict, path, reason: bad.wrongType ? bad.reason : `unsafe permissions: ${bad.reason}` };
    }
  }
  return { verdict: 'ok', path, reason: '' };
}
