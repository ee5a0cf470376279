// A scripted ScriptRunner for tests: records every run and answers from a queue or a function.
import type { RunOptions, RunResult, ScriptRunner } from '../exec.ts';

export class FakeScriptRunner implements ScriptRunner {
  readonly runs: RunOptions[] = [];
  readonly #answers: RunResult[] = [];
  #fallback: (opts: RunOptions) => RunResult;

  constructor(fallback: (opts: RunOptions) => RunResult = () => ({ exitCode: 0, signal: null, timedOut: false })) {
    this.#fallback = fallback;
  }

  /** Queue the next answers, in order. */
  answer(...results: RunResult[]): void {
    this.#answers.push(...results);
  }

  exits(...codes: number[]): void {
    this.answer(...codes.map((exitCode) => ({ exitCode, signal: null, timedOut: false })));
  }

  async run(opts: RunOptions): Promise<RunResult> {
    this.runs.push(opts);
    return this.#answers.shift() ?? this.#fallback(opts);
  }
}
