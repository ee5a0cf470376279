// MISC_CHECK (keepalived/check/check_misc.c): run misc_path; exit 0 is success, anything else —
// another status, death by a signal, running past misc_timeout (then SIGTERM to its process group,
// SIGKILL 2 s later) — is failure. With misc_dynamic, exit 1 is failure and 2..255 is success with
// the real server's weight set to status − 2 (0 keeps the configured weight). This is the only
// checker that starts a process per check.
import type { MiscCheckSpec } from './spec.ts';
import { type CheckResult, checkResult } from './result.ts';
import type { CheckSignal } from './cancel.ts';
import type { ScriptIdentity, ScriptRunner } from '../sys/exec.ts';

export interface MiscContext {
  readonly runner: ScriptRunner;
  readonly identity?: ScriptIdentity;
  /** misc_timeout, or the virtual server's delay_loop when unset (resolveVirtualServer computes it). */
  readonly timeoutMs: number;
}

/** How keepalived reads an exit status. */
export function judgeExit(spec: Pick<MiscCheckSpec, 'misc_dynamic'>, exitCode: number): { ok: boolean; weight?: number } {
  if (exitCode === 0) return { ok: true };
  if (spec.misc_dynamic && exitCode >= 2 && exitCode <= 255) return { ok: true, weight: exitCode - 2 };
  return { ok: false };
}

export async function check(spec: MiscCheckSpec, signal: CheckSignal | undefined, ctx: MiscContext): Promise<CheckResult> {
  const started = performance.now();
  const r = await ctx.runner.run({ argv: spec.misc_path, identity: ctx.identity, timeoutMs: ctx.timeoutMs, signal });
  if (signal?.aborted) return checkResult(false, 'ABORTED', 'aborted', started);
  if (r.spawnError) return checkResult(false, 'PROCERR', `cannot run ${spec.misc_path[0]}: ${r.spawnError}`, started, { exitCode: 127 });
  if (r.timedOut) return checkResult(false, 'PROCTOUT', `timed out after ${ctx.timeoutMs} ms`, started);
  if (r.exitCode === null) return checkResult(false, 'PROCERR', `killed by ${r.signal}`, started);
  const j = judgeExit(spec, r.exitCode);
  return checkResult(j.ok, j.ok ? 'PROCOK' : 'PROCERR', `exited with status ${r.exitCode}`, started, { exitCode: r.exitCode, weight: j.weight });
}
