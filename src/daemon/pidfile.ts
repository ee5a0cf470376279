// The pid file (keepalived: /run/keepalived.pid; keepvs: /run/keepvs.pid as root, else beside the
// control socket). A file naming a live process means another keepvs runs: refuse. A file naming a
// dead one is stale: replace it. On exit the file is removed only if it still names us.
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export class PidFileError extends Error {
  readonly pid: number;
  constructor(message: string, pid: number) {
    super(message);
    this.pid = pid;
  }
}

/** Does a process with this pid exist? EPERM means it does but belongs to someone else. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readPidFile(path: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export function defaultPidFile(controlSocket: string, uid: number = process.getuid?.() ?? -1): string {
  return uid === 0 ? '/run/keepvs.pid' : join(dirname(controlSocket), 'keepvs.pid');
}

export function writePidFile(path: string, pid: number = process.pid): void {
  const old = readPidFile(path);
  if (old !== null && old !== pid && pidAlive(old)) {
    throw new PidFileError(`keepvs is already running (pid ${old}, pid file ${path})`, old);
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  // Written aside and renamed, so a reader never sees a half-written file.
  const tmp = `${path}.${pid}.tmp`;
  writeFileSync(tmp, `${pid}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}

export function removePidFile(path: string, pid: number = process.pid): void {
  if (readPidFile(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    // Gone already.
  }
}
