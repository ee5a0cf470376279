// A notify FIFO as keepalived opens one (keepalived/core/notify.c: fifo_open, fifo_close): make
// it with mkfifo (mode 0644) unless something is already there, open it read-write and
// non-blocking (so opening never waits for a reader and a full pipe never stalls the checker:
// keepalived ignores a failed write), refuse anything that is not a FIFO we own (a planted file
// or symlink: O_NOFOLLOW plus an fstat), and on close unlink it only if we made it.
// mkfifo(3) is not in Node's fs, so it comes from libc through koffi.
import { closeSync, constants, fstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import koffi from 'koffi';

/** errno EEXIST (asm-generic/errno-base.h). */
const EEXIST = 17;

export interface NotifyFifo {
  readonly path: string;
  /** We made it (mkfifo succeeded), so close() unlinks it. */
  readonly created: boolean;
  /** Write one line's bytes; a full pipe or a vanished reader loses the line, as in keepalived. */
  write(bytes: Uint8Array): void;
  close(): void;
}

export type FifoOpenResult =
  | { readonly ok: true; readonly fifo: NotifyFifo }
  | { readonly ok: false; readonly code: 'FIFO_CREATE' | 'FIFO_OPEN' | 'FIFO_NOT_OURS'; readonly message: string };

let mkfifoFn: ((path: string, mode: number) => number) | null = null;

/** mkfifo(path, mode): 0, or the errno. */
export function mkfifo(path: string, mode: number): number {
  mkfifoFn ??= koffi.load('libc.so.6').func('int mkfifo(const char *path, uint32_t mode)') as (p: string, m: number) => number;
  return mkfifoFn(path, mode) === 0 ? 0 : koffi.errno();
}

/**
 * Open (making it if needed) the FIFO at `path`. `type` is keepalived's prefix for messages
 * ("lvs_" or ""). `beforeOpen` runs between mkfifo and open: keepalived starts the FIFO's script
 * there, so the reader exists as early as possible.
 */
export function openNotifyFifo(path: string, type: string, beforeOpen?: () => void): FifoOpenResult {
  const e = mkfifo(path, 0o644);
  if (e !== 0 && e !== EEXIST) return { ok: false, code: 'FIFO_CREATE', message: `Unable to create ${type}notify fifo ${path} (errno ${e})` };
  const created = e === 0;
  beforeOpen?.();
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (err) {
    if (created) unlinkQuietly(path);
    return { ok: false, code: 'FIFO_OPEN', message: `Unable to open ${type}notify fifo ${path} - ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  const st = fstatSync(fd);
  const uid = process.getuid?.() ?? 0;
  if (!st.isFIFO() || st.uid !== uid) {
    closeSync(fd);
    return { ok: false, code: 'FIFO_NOT_OURS', message: `${type}notify fifo ${path} is not a fifo we own - not using` };
  }
  let open = true;
  return {
    ok: true,
    fifo: {
      path,
      created,
      write(bytes) {
        if (!open) return;
        try {
          writeSync(fd, bytes);
        } catch {
          // EAGAIN (nobody reads and the pipe is full): keepalived drops the line too.
        }
      },
      close() {
        if (!open) return;
        open = false;
        // Unlink first, so a reader that loops re-opening the path cannot open this one again.
        if (created) unlinkQuietly(path);
        closeSync(fd);
      },
    },
  };
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
