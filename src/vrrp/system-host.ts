// The real VrrpHost: monotonic clock and timers, raw sockets, `ip`, AF_PACKET frames, netlink link
// events (src/sys), scripts run without a shell, FIFOs and watched files.
import { readProcesses } from '../sys/proc-scan.ts';
import { checkScriptSecurity, defaultScriptUser, lookupScriptUser, type ScriptIdentity } from '../sys/exec.ts';
import { spawn } from 'node:child_process';
import { constants, existsSync, openSync, readFileSync, watch, writeFileSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openVrrpSocket } from '../sys/raw-socket.ts';
import { createIpRunner, type IpRunner } from '../sys/ip.ts';
import { openFrameSender } from '../sys/garp.ts';
import { openLinkMonitor } from '../sys/netlink.ts';
import type { Clock, ExecResult, LogLevel, VrrpHost } from './host.ts';

/** Monotonic µs since process start, with timers on Node's event loop. */
export const systemClock: Clock = {
  now: () => Math.round(performance.now() * 1000),
  setTimer(at, fn) {
    const ms = Math.max(0, Math.ceil((at - Math.round(performance.now() * 1000)) / 1000));
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

export interface SystemHostOptions {
  readonly log: (level: LogLevel, message: string) => void;
  readonly ip?: IpRunner;
}

/** Run argv with an optional timeout: SIGTERM to its process group, SIGKILL 2 s later (keepalived's sequence). */
export function execCommand(argv: readonly string[], timeoutMs: number | null, identity?: ScriptIdentity): Promise<ExecResult> {
  return new Promise((resolve) => {
    let timedOut = false;
    let killer: NodeJS.Timeout | null = null;
    let child;
    try {
      // script_user: switch only when it differs from ours (spawn needs CAP_SETUID/SETGID for that).
      const uid = identity && identity.uid !== process.getuid?.() ? identity.uid : undefined;
      const gid = identity && identity.gid !== process.getgid?.() ? identity.gid : undefined;
      child = spawn(argv[0], argv.slice(1), { stdio: 'ignore', detached: true, uid, gid });
    } catch (e) {
      resolve({ code: null, signal: null, timedOut: false, error: (e as Error).message });
      return;
    }
    const kill = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    if (timeoutMs !== null) {
      killer = setTimeout(() => {
        timedOut = true;
        kill('SIGTERM');
        killer = setTimeout(() => kill('SIGKILL'), 2000);
      }, timeoutMs);
    }
    child.on('error', (e) => {
      if (killer) clearTimeout(killer);
      resolve({ code: null, signal: null, timedOut: false, error: e.message });
    });
    child.on('exit', (code, signal) => {
      if (killer) clearTimeout(killer);
      resolve({ code, signal, timedOut });
    });
  });
}

export function createSystemHost(o: SystemHostOptions): VrrpHost {
  const fifos = new Map<string, number>();
  return {
    clock: systemClock,
    openSocket: (opts, cb) => openVrrpSocket(opts, cb),
    ip: o.ip ?? createIpRunner(),
    openFrameSender() {
      try {
        return openFrameSender();
      } catch (e) {
        o.log('warn', `cannot open AF_PACKET socket: ${(e as Error).message}`);
        return null;
      }
    },
    watchLinks(onEvents) {
      try {
        return openLinkMonitor(onEvents);
      } catch (e) {
        o.log('warn', `cannot watch links through netlink (${(e as Error).message}); polling instead`);
        return null;
      }
    },
    exec: execCommand,
    listProcesses: () => readProcesses(),
    scripts: {
      identity: (user, security) => (user ? lookupScriptUser(user.user, user.group) : defaultScriptUser(security)),
      check: checkScriptSecurity,
    },
    writeFifo(path, line) {
      let fd = fifos.get(path);
      if (fd === undefined) {
        // keepalived creates the FIFO when missing; O_RDWR keeps open() from blocking without a reader.
        if (!existsSync(path)) execFileSync('mkfifo', ['-m', '0600', path]);
        fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
        fifos.set(path, fd);
      }
      try {
        writeSync(fd, line);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
    },
    readFile(path) {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return null;
      }
    },
    writeFile(path, text) {
      writeFileSync(path, text);
    },
    watchFile(path, onChange) {
      // inotify on the directory (the file may be replaced or created later), as keepalived's track_file.
      try {
        const w = watch(dirname(path), (_ev, name) => {
          if (name === null || name === basename(path)) onChange();
        });
        w.unref();
        return { close: () => w.close() };
      } catch (e) {
        o.log('error', `cannot watch ${path}: ${(e as Error).message}`);
        return { close() {} };
      }
    },
    log: o.log,
  };
}
