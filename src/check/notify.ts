// Notifications for real server and quorum changes, as keepalived's checker process sends them
// (keepalived/check/ipwrapper.c: do_rs_notifies, do_vs_notifies, notify_fifo_rs, notify_fifo_vs).
//
// Scripts: notify_up / notify_down (real_server) and quorum_up / quorum_down (virtual_server) run
// exactly as configured — keepalived appends no arguments to them (check_parser.c builds them with
// notify_script_init(0, …)). Only the lvs_notify_fifo_script (or notify_fifo_script) gets one extra
// argument: the FIFO's path, appended last (check_data.c: add_script_param).
//
// FIFO lines: "RS <rs> <vs> UP|DOWN\n" and "VS <vs> UP|DOWN\n", where <rs> is "[addr]:proto:port"
// and <vs> is "[addr]:proto:port", "FWM <mark>" or "[group]:port". keepalived writes each line with
// its terminating NUL byte (write(fd, line, strlen + 1)), so the bytes are "...\n\0"; fifoBytes
// reproduces that.
import type { DirectorEvent } from './quorum.ts';
import type { NotifyScriptSpec } from './spec.ts';

/** The FIFO line for an event, or null for events keepalived does not write to the FIFO. */
export function fifoLine(ev: DirectorEvent): string | null {
  switch (ev.type) {
    case 'rs-up': return `RS ${ev.rs} ${ev.vs} UP\n`;
    case 'rs-down': return `RS ${ev.rs} ${ev.vs} DOWN\n`;
    case 'quorum-up': return `VS ${ev.vs} UP\n`;
    case 'quorum-down': return `VS ${ev.vs} DOWN\n`;
    default: return null;
  }
}

/** The bytes keepalived writes for a line: the text and its NUL terminator. */
export function fifoBytes(line: string): Uint8Array {
  const text = new TextEncoder().encode(line);
  const out = new Uint8Array(text.length + 1);
  out.set(text);
  return out;
}

/** argv of the FIFO script: its configured words, then the FIFO path. */
export function fifoScriptArgv(script: NotifyScriptSpec, fifoPath: string): string[] {
  return [...script.argv, fifoPath];
}

export interface RsScripts {
  readonly notifyUp?: NotifyScriptSpec;
  readonly notifyDown?: NotifyScriptSpec;
}

export interface VsScripts {
  readonly quorumUp?: NotifyScriptSpec;
  readonly quorumDown?: NotifyScriptSpec;
}

/** Which configured script an event runs (argv unchanged), or null. */
export function scriptFor(ev: DirectorEvent, rs: RsScripts | undefined, vs: VsScripts | undefined): NotifyScriptSpec | null {
  switch (ev.type) {
    case 'rs-up': return rs?.notifyUp ?? null;
    case 'rs-down': return rs?.notifyDown ?? null;
    case 'quorum-up': return vs?.quorumUp ?? null;
    case 'quorum-down': return vs?.quorumDown ?? null;
    default: return null;
  }
}

/**
 * keepalived's cmd_str (core/notify.c): the words joined for /bin/sh -c when the script file is
 * not directly executable, each in single quotes with embedded quotes as '\''; a first word that
 * starts with < or > (a redirection-only test like "</dev/tcp/…") is left bare.
 */
export function shellCommand(argv: readonly string[]): string {
  return argv.map((a, i) => (i === 0 && (a.startsWith('<') || a.startsWith('>')) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

/** How long a notify started during shutdown may run before it is killed (system_call_script with TIMER_HZ). */
export const STOPPING_SCRIPT_TIMEOUT_MS = 1000;
