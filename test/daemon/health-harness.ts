// A ConfigRunner (keepvs -f) driven by hand: keepalived.conf files in memory, a hand-stepped clock
// for the checkers, scripted check answers per real server (address:port) and per MISC_CHECK
// script, a real Director, and a FakePlane. `table()` prints what `ipvsadm -L -n` would list.
import assert from 'node:assert/strict';
import { Director } from '../../src/core/director.ts';
import { serviceKeyText } from '../../src/core/service.ts';
import { memoryKeepalivedHost } from '../../src/config/keepalived/memory-host.ts';
import type { Probes } from '../../src/check/health-checker.ts';
import type { CheckResult, CheckCode } from '../../src/check/result.ts';
import { ConfigRunner, type ConfigApplyResult } from '../../src/daemon/config.ts';
import type { Logger } from '../../src/daemon/log.ts';
import { FakeScriptRunner } from '../../src/sys/fake/exec.ts';
import type { ScriptVerdict } from '../../src/sys/exec.ts';
import { FakePlane } from '../api/fake-plane.ts';
import { ManualClock } from '../check/fake-clock.ts';

export const CONF = '/etc/keepalived/keepalived.conf';
export const SCRIPT = '/usr/local/bin/check-rs';

const result = (ok: boolean, code: CheckCode): CheckResult => ({ ok, code, message: code, durationMs: 0 });

export interface Harness {
  readonly clock: ManualClock;
  readonly director: Director;
  readonly plane: FakePlane;
  readonly runner: ConfigRunner;
  /** What a check of address:port answers (default: success). */
  readonly answers: Map<string, CheckCode>;
  /** MISC_CHECK exit status by script argument (argv[1]; default 0). */
  readonly exits: Map<string, number>;
  /** When each address:port was checked. */
  readonly calls: { at: number; target: string }[];
  readonly logs: string[];
  files: Record<string, string>;
  /** What the checkers' script check says of every script (default ok). */
  verdict: ScriptVerdict;
  start(): Promise<ConfigApplyResult>;
  reload(text?: string): Promise<ConfigApplyResult>;
  /** ipvsadm -L -n, one line per service and dest, dests sorted as ipvsadm sorts them. */
  table(): string[];
  /** Advance the checkers' clock by ms (timers fire in order, promises settle between them). */
  advance(ms: number): Promise<void>;
}

const OK_CODES = new Set<CheckCode>(['L4OK', 'L6OK', 'L7OK', 'PROCOK']);

export function harness(text: string, extra: Record<string, string> = {}): Harness {
  const clock = new ManualClock();
  const answers = new Map<string, CheckCode>();
  const exits = new Map<string, number>();
  const calls: { at: number; target: string }[] = [];
  const logs: string[] = [];
  const probe = async (_spec: unknown, target: { address: string; port: number }): Promise<CheckResult> => {
    const k = `${target.address}:${target.port}`;
    calls.push({ at: clock.now(), target: k });
    const code = answers.get(k) ?? 'L4OK';
    return result(OK_CODES.has(code), code);
  };
  const scripts = new FakeScriptRunner((o) => {
    calls.push({ at: clock.now(), target: o.argv.join(' ') });
    return { exitCode: exits.get(o.argv[1] ?? '') ?? 0, signal: null, timedOut: false };
  });
  const director = new Director();
  const plane = new FakePlane();
  const log = (level: string) => (m: string): void => { logs.push(`${level}: ${m}`); };
  const logger: Logger = { log: (l, m) => logs.push(`${l}: ${m}`), error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
  const h: Harness = {
    clock, director, plane, answers, exits, calls, logs,
    files: { [CONF]: text, ...extra },
    verdict: 'ok',
    runner: null as unknown as ConfigRunner,
    start: () => h.runner.start(CONF),
    reload(next?: string) {
      if (next !== undefined) h.files[CONF] = next;
      return h.runner.reload(CONF);
    },
    table() {
      const out: string[] = [];
      for (const s of director.services()) {
        out.push(`${serviceKeyText(s.key)} ${s.options.scheduler}`);
        const dests = [...s.dests].sort((a, b) => `${a.addr.text}:${a.port}`.localeCompare(`${b.addr.text}:${b.port}`));
        for (const d of dests) out.push(`  -> ${d.addr.text}:${d.port} ${d.fwd === 'masq' ? 'Masq' : d.fwd} ${d.weight}`);
      }
      return out;
    },
    advance: (ms) => clock.advance(ms),
  };
  // The host reads h.files at each load, so a reload sees the edited text.
  const host = memoryKeepalivedHost({
    files: new Proxy({}, {
      get: (_t, p) => h.files[p as string],
      has: (_t, p) => (p as string) in h.files,
      ownKeys: () => Object.keys(h.files),
      getOwnPropertyDescriptor: (_t, p) => (p in h.files ? { enumerable: true, configurable: true, value: h.files[p as string] } : undefined),
    }),
    scripts: [SCRIPT],
    users: ['keepalived_script'],
  });
  (h as { runner: ConfigRunner }).runner = new ConfigRunner({
    director, plane, log: logger, host, now: () => 1_000_000 + clock.now(), wallClock: () => 1_700_000_000_000 + clock.now(),
    checker: {
      clock, random: () => 0, runner: scripts,
      probes: { tcp: probe as Probes['tcp'], http: probe as unknown as Probes['http'] },
      lookupUser: () => ({ uid: 0, gid: 0, name: 'keepalived_script' }),
      checkScript: (p) => ({ verdict: h.verdict, path: p, reason: h.verdict === 'ok' ? '' : `${p}: ${h.verdict} (scripted)` }),
    },
  });
  return h;
}

export async function started(text: string, extra?: Record<string, string>): Promise<Harness> {
  const h = harness(text, extra);
  const r = await h.start();
  assert.ok(r.ok, `${r.message}\n${h.logs.join('\n')}`);
  return h;
}

/** A virtual server on 10.0.0.1:80 (TCP, NAT, rr) with these real servers and extra keywords. */
export function vs(realServers: string, more = '', port = 80): string {
  return `virtual_server 10.0.0.1 ${port} {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  delay_loop 10
${more}
${realServers}
}
`;
}

/** A real server 10.0.1.<n>:80 with a TCP_CHECK (and extra keywords in the server and the checker). */
export function rs(n: number, more = '', check = ''): string {
  return `  real_server 10.0.1.${n} 80 {
${more}
    TCP_CHECK {
      connect_timeout 3
${check}
    }
  }`;
}
