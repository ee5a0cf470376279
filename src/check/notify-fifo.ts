// The checker side's notify FIFOs (global_defs notify_fifo and lvs_notify_fifo, each with an
// optional _script), opened, fed and closed as keepalived's checker process does
// (keepalived/check/check_daemon.c: start_check opens them before a reload's diff runs,
// reload_check_thread closes them and kills every script first; core/notify.c: fifo_open).
//
// - Each FIFO is made if missing (mode 0644) and opened read-write, non-blocking (sys/notify-fifo.ts).
// - Its script is started just before the open, with the FIFO's path as its last argument, with no
//   time limit; a reload or stop ends it (SIGTERM to its process group, then SIGKILL).
// - Every RS/VS line goes to both FIFOs (ipwrapper.c: notify_fifo_rs / notify_fifo_vs write to
//   notify_fifo and lvs_notify_fifo alike), with keepalived's NUL terminator (notify.ts: fifoBytes).
// - A FIFO that cannot be made or opened is logged and left out; the checkers run without it.
import type { NotifyScriptSpec } from './spec.ts';
import { fifoScriptArgv } from './notify.ts';
import type { ScriptIdentity, ScriptRunner } from '../sys/exec.ts';
import { type FifoOpenResult, type NotifyFifo, openNotifyFifo } from '../sys/notify-fifo.ts';

export interface FifoSetting {
  readonly path: string;
  readonly script: NotifyScriptSpec | null;
}

export interface CheckerFifosDeps {
  readonly runner: ScriptRunner;
  /** The identity a FIFO script runs as (after keepalived's script checks); null: do not run it. */
  readonly identity: (script: NotifyScriptSpec) => ScriptIdentity | null;
  readonly log: (level: 'info' | 'error', message: string) => void;
  /** Tests replace the FIFO itself. */
  readonly open?: (path: string, type: string, beforeOpen?: () => void) => FifoOpenResult;
}

export class CheckerFifos {
  readonly #d: CheckerFifosDeps;
  #fifos: NotifyFifo[] = [];
  #scripts: AbortController[] = [];

  constructor(deps: CheckerFifosDeps) {
    this.#d = deps;
  }

  /** The FIFOs in use now (for tests and the log). */
  get paths(): string[] {
    return this.#fifos.map((f) => f.path);
  }

  /** (Re)open: whatever was open is closed and its script ended first, as on keepalived's reload. */
  open(global: FifoSetting | null, lvs: FifoSetting | null): void {
    this.close();
    if (global) this.#openOne(global, '');
    if (lvs) this.#openOne(lvs, 'lvs_');
  }

  /** The writer the HealthChecker's `fifo` option takes: it follows reopenings. */
  readonly writer = { write: (bytes: Uint8Array): void => this.write(bytes) };

  write(bytes: Uint8Array): void {
    for (const f of this.#fifos) f.write(bytes);
  }

  close(): void {
    for (const c of this.#scripts) c.abort();
    this.#scripts = [];
    for (const f of this.#fifos) f.close();
    this.#fifos = [];
  }

  #openOne(s: FifoSetting, type: string): void {
    const open = this.#d.open ?? openNotifyFifo;
    const r = open(s.path, type, () => this.#startScript(s, type));
    if (!r.ok) {
      this.#d.log('error', r.message);
      return;
    }
    this.#fifos.push(r.fifo);
    this.#d.log('info', `Opened ${type}notify fifo ${s.path}${r.fifo.created ? ' (created)' : ''}`);
  }

  #startScript(s: FifoSetting, type: string): void {
    if (!s.script) return;
    const identity = this.#d.identity(s.script);
    if (!identity) {
      this.#d.log('error', `${type}notify_fifo_script ${s.script.argv[0]} is not run: no usable script user or an unsafe script`);
      return;
    }
    const c = new AbortController();
    this.#scripts.push(c);
    void this.#d.runner.run({ argv: fifoScriptArgv(s.script, s.path), identity, timeoutMs: 0, signal: c.signal })
      .then((r) => {
        // check_daemon.c: lvs_notify_fifo_script_exit.
        if (!c.signal.aborted) this.#d.log('info', `${type === 'lvs_' ? 'lvs ' : ''}notify fifo script terminated${r.spawnError ? ` (${r.spawnError})` : ''}`);
      })
      .catch(() => {});
  }
}
