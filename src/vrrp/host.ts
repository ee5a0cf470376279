// Everything the VRRP process needs from the machine, behind one interface: a monotonic clock with
// timers, raw VRRP sockets, `ip`, an Ethernet frame sender, link change events, script execution,
// FIFOs and files, and a log. system-host.ts builds it from src/sys; tests build it from the fakes
// (a fake clock and an in-memory LAN), so several keepvs instances can be stepped together.
import type { Datagram, RawSocketOptions, VrrpSocket } from '../sys/raw-socket.ts';
import type { IpRunner } from '../sys/ip.ts';
import type { FrameSender } from '../sys/garp.ts';
import type { NetlinkEvent } from '../sys/netlink.ts';
import type { ProcessEntry } from '../sys/proc-scan.ts';
import type { ScriptCheck, ScriptIdentity } from '../sys/exec.ts';

export interface TimerHandle {
  cancel(): void;
}

/** Monotonic microseconds. */
export interface Clock {
  now(): number;
  /** Call `fn` once at (or just after) `at` µs. */
  setTimer(at: number, fn: () => void): TimerHandle;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  /** Set when the command could not be started. */
  readonly error?: string;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface VrrpHost {
  readonly clock: Clock;
  openSocket(o: RawSocketOptions, onDatagram: (d: Datagram) => void): VrrpSocket;
  readonly ip: IpRunner;
  /** Null when frames cannot be sent here (no CAP_NET_RAW); announcements are then skipped with a log line. */
  openFrameSender(): FrameSender | null;
  /** Null when link events are unavailable (then links are re-read periodically). */
  watchLinks(onEvents: (events: NetlinkEvent[]) => void): { close(): Promise<void> } | null;
  /** Run a command (argv[0] is the program; no shell). `timeoutMs` null: no limit; `identity`: the uid/gid to run as. */
  exec(argv: readonly string[], timeoutMs: number | null, identity?: ScriptIdentity): Promise<ExecResult>;
  /**
   * keepalived's script accounts and checks (src/sys/exec.ts): the identity for `user` (null = the
   * default account; null result = no such account) and whether argv0 may run as it. Absent: scripts
   * run as keepvs's own user, unchecked.
   */
  readonly scripts?: {
    identity(user: { user: string; group?: string } | null, security: boolean): ScriptIdentity | null;
    check(argv0: string, identity: ScriptIdentity, security: boolean): ScriptCheck;
  };
  writeFifo(path: string, line: string): void;
  readFile(path: string): string | null;
  writeFile(path: string, text: string): void;
  watchFile(path: string, onChange: () => void): { close(): void };
  /** The running processes (track_process); absent where they cannot be read. */
  listProcesses?(): readonly ProcessEntry[];
  log(level: LogLevel, message: string): void;
}
