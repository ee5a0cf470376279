// What reading a keepalived.conf needs from the machine it runs on, as one injectable object, and
// the real implementation over node:fs / node:os. keepalived's verdict on a file depends on the
// host: interfaces that do not exist are configuration errors, scripts found on disk trigger the
// script-security check, the default script user `keepalived_script` may or may not exist. Tests
// pass a fixed host so verdicts do not depend on the test machine.
import { accessSync, constants, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ConfigFs, FileStat, ReadResult } from './glob.ts';

export interface InterfaceInfo {
  readonly loopback: boolean;
}

/** lib/notify.c: check_script_secure's outcome for one command. */
export type ScriptLookup =
  | { readonly kind: 'system' }
  | { readonly kind: 'notfound' }
  | { readonly kind: 'script'; readonly path: string; readonly executable: boolean; readonly insecure: boolean };

export interface KeepalivedHost {
  readonly fs: ConfigFs;
  /** The directory a relative -f path is taken from. */
  readonly cwd: string;
  /** The host name (router_id and email defaults, and the default config id: up to the first '.'). */
  readonly hostname: string;
  /** The interfaces of this host; null = unknown, interface checks are skipped. */
  readonly interfaces: ReadonlyMap<string, InterfaceInfo> | null;
  /** Where a script command resolves (PATH search for a bare name) and whether root may run it. */
  lookupScript(command: string): ScriptLookup;
  userExists(name: string): boolean;
  groupExists(name: string): boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** 0 <= random() < 1. */
  random(): number;
}

/** A ConfigFs over node:fs. */
export function nodeConfigFs(): ConfigFs {
  return {
    readFile(path: string): ReadResult {
      try {
        return { ok: true, text: readFileSync(path, 'utf8') };
      } catch (e) {
        return { ok: false, errno: errnoText((e as NodeJS.ErrnoException).code) };
      }
    },
    stat(path: string): FileStat | null {
      try {
        const s = statSync(path);
        return { kind: s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other', executable: (s.mode & 0o111) !== 0 };
      } catch {
        return null;
      }
    },
    lexists(path: string): boolean {
      try {
        lstatSync(path);
        return true;
      } catch {
        return false;
      }
    },
    readdir(path: string): readonly string[] | null {
      try {
        return readdirSync(path);
      } catch {
        return null;
      }
    },
  };
}

/** strerror() text for the errors a read can give. */
function errnoText(code: string | undefined): string {
  switch (code) {
    case 'EACCES': return 'Permission denied';
    case 'ENOENT': return 'No such file or directory';
    case 'EISDIR': return 'Is a directory';
    default: return code ?? 'error';
  }
}

/** /sys/class/net: every interface, with its link type (772 = ARPHRD_LOOPBACK). */
export function hostInterfaces(): ReadonlyMap<string, InterfaceInfo> | null {
  try {
    const out = new Map<string, InterfaceInfo>();
    for (const name of readdirSync('/sys/class/net')) {
      let type = '';
      try {
        type = readFileSync(`/sys/class/net/${name}/type`, 'utf8').trim();
      } catch {
        // An interface that vanished while we looked: still count it as present.
      }
      out.set(name, { loopback: type === '772' });
    }
    return out;
  } catch {
    return null;
  }
}

function isExecutableFile(p: string): boolean {
  try {
    const s = statSync(p);
    if (!s.isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Any path element (or the file) not owned by root, or writable by group/others without the sticky bit. */
function insecurePath(p: string): boolean {
  const parts = p.split('/').filter(Boolean);
  let cur = '';
  const check = (q: string, last: boolean): boolean => {
    try {
      const s = lstatSync(q);
      if (s.uid !== 0) return true;
      const dirNoSticky = s.isDirectory() && (s.mode & 0o1000) === 0;
      if ((dirNoSticky || (last && s.isFile())) && ((s.gid !== 0 && (s.mode & 0o020) !== 0) || (s.mode & 0o002) !== 0)) return true;
      return false;
    } catch {
      return false;
    }
  };
  if (check('/', false)) return true;
  for (let i = 0; i < parts.length; i++) {
    cur += `/${parts[i]}`;
    if (check(cur, i === parts.length - 1)) return true;
  }
  return false;
}

function namesIn(file: string): Set<string> {
  try {
    return new Set(readFileSync(file, 'utf8').split('\n').map((l) => l.split(':')[0]).filter(Boolean));
  } catch {
    return new Set();
  }
}

/** The real host: node:fs, /sys/class/net, /etc/passwd and /etc/group, PATH from the environment. */
export function nodeKeepalivedHost(env: Readonly<Record<string, string | undefined>> = process.env): KeepalivedHost {
  let users: Set<string> | null = null;
  let groups: Set<string> | null = null;
  return {
    fs: nodeConfigFs(),
    cwd: process.cwd(),
    hostname: hostname(),
    interfaces: hostInterfaces(),
    env,
    random: Math.random,
    lookupScript(command: string): ScriptLookup {
      // lib/notify.c: a command starting "</" (after blanks) only tests that a file opens.
      if (/^<[ \t]*\//.test(command)) return { kind: 'system' };
      let path: string | null = null;
      if (command.includes('/')) {
        path = command;
      } else {
        // lib/notify.c: find_path searches PATH, else confstr(_CS_PATH), which is /bin:/usr/bin on glibc.
        for (const dir of (env.PATH ?? '/bin:/usr/bin').split(':')) {
          const p = `${dir || '.'}/${command}`;
          if (isExecutableFile(p)) { path = p; break; }
        }
        if (path === null) return { kind: 'notfound' };
      }
      try {
        statSync(path);
      } catch {
        return { kind: 'notfound' };
      }
      return { kind: 'script', path, executable: isExecutableFile(path), insecure: insecurePath(path) };
    },
    userExists(name: string): boolean {
      users ??= namesIn('/etc/passwd');
      return users.has(name);
    },
    groupExists(name: string): boolean {
      groups ??= namesIn('/etc/group');
      return groups.has(name);
    },
  };
}
