// A KeepalivedHost held in memory, for tests and tools that check a configuration against a host
// other than the one they run on: files (a map of absolute path -> text), interfaces, the scripts
// that exist, users. Directories are implied by the file paths.
import { posix } from 'node:path';
import type { ConfigFs, FileStat, ReadResult } from './glob.ts';
import type { InterfaceInfo, KeepalivedHost, ScriptLookup } from './host.ts';

export interface MemoryHostOptions {
  readonly files?: Readonly<Record<string, string>>;
  /** Read from the real file system when a path is not in `files` (for sample files). */
  readonly fallback?: ConfigFs;
  readonly cwd?: string;
  readonly hostname?: string;
  /** Interface names; 'lo' is a loopback. Default: lo and eth0. */
  readonly interfaces?: readonly string[] | null;
  /** Scripts that exist (absolute paths or bare names found in PATH). */
  readonly scripts?: readonly string[];
  readonly insecureScripts?: readonly string[];
  readonly users?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly random?: () => number;
}

export function memoryConfigFs(files: Readonly<Record<string, string>>, fallback?: ConfigFs): ConfigFs {
  const dirs = new Set<string>(['/']);
  for (const p of Object.keys(files)) {
    for (let d = posix.dirname(p); d !== '/' && !dirs.has(d); d = posix.dirname(d)) dirs.add(d);
  }
  return {
    readFile(path: string): ReadResult {
      if (path in files) return { ok: true, text: files[path] };
      return fallback ? fallback.readFile(path) : { ok: false, errno: 'No such file or directory' };
    },
    stat(path: string): FileStat | null {
      const p = posix.normalize(path);
      if (p in files) return { kind: 'file', executable: false };
      if (dirs.has(p.replace(/\/$/, '') || '/')) return { kind: 'dir', executable: true };
      return fallback ? fallback.stat(path) : null;
    },
    lexists(path: string): boolean {
      const p = posix.normalize(path);
      return p in files || dirs.has(p) || (fallback ? fallback.lexists(path) : false);
    },
    readdir(path: string): readonly string[] | null {
      const p = posix.normalize(path).replace(/\/$/, '') || '/';
      const names = new Set<string>();
      for (const f of [...Object.keys(files), ...dirs]) {
        if (f !== p && posix.dirname(f) === p) names.add(posix.basename(f));
      }
      if (names.size > 0 || dirs.has(p)) {
        const more = fallback?.readdir(path) ?? [];
        return [...new Set([...names, ...more])];
      }
      return fallback ? fallback.readdir(path) : null;
    },
  };
}

export function memoryKeepalivedHost(o: MemoryHostOptions = {}): KeepalivedHost {
  const ifnames = o.interfaces === undefined ? ['lo', 'eth0'] : o.interfaces;
  const interfaces = ifnames === null ? null : new Map<string, InterfaceInfo>(ifnames.map((n) => [n, { loopback: n === 'lo' }]));
  const scripts = new Set(o.scripts ?? []);
  const insecure = new Set(o.insecureScripts ?? []);
  const users = new Set(['root', ...(o.users ?? [])]);
  return {
    fs: memoryConfigFs(o.files ?? {}, o.fallback),
    cwd: o.cwd ?? '/',
    hostname: o.hostname ?? 'testhost',
    interfaces,
    env: o.env ?? {},
    random: o.random ?? (() => 0),
    lookupScript(command: string): ScriptLookup {
      if (/^<[ \t]*\//.test(command)) return { kind: 'system' };
      if (!scripts.has(command)) return { kind: 'notfound' };
      return { kind: 'script', path: command, executable: true, insecure: insecure.has(command) };
    },
    userExists: (n) => users.has(n),
    groupExists: (n) => users.has(n),
  };
}
