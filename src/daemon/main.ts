// keepvs: the daemon's entry point (bin/keepvs runs this). keepalived's flags and signals
// (style-and-ecosystem.md B2); see docs/daemon.md.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { parseDaemonArgs, helpText, versionText, type DaemonOptions } from './options.ts';
import { createLogger, type Logger } from './log.ts';
import { installSignals, signum } from './signals.ts';
import { startDaemon, StartError, type Daemon } from './wiring.ts';
import { planeFactory } from './planes.ts';
import { dumpConfig, testConfig } from './config.ts';
import { createSdNotifier } from '../sys/sd-notify.ts';

/** --api's token: the file's first line, else KEEPVS_API_TOKEN. */
function apiToken(options: DaemonOptions, env: NodeJS.ProcessEnv, log: Logger): string | null {
  if (options.apiTokenFile) {
    let text: string;
    try {
      text = readFileSync(options.apiTokenFile, 'utf8');
      if (statSync(options.apiTokenFile).mode & 0o077) log.warn(`--api-token-file ${options.apiTokenFile} is readable by other users; chmod 600 it`);
    } catch (e) {
      throw new StartError(`--api-token-file ${options.apiTokenFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    const t = text.split('\n')[0].trim();
    if (!t) throw new StartError(`--api-token-file ${options.apiTokenFile} is empty`);
    return t;
  }
  return env.KEEPVS_API_TOKEN?.trim() || null;
}

async function run(options: DaemonOptions, log: Logger): Promise<number> {
  // Handlers go in before anything listens: systemd may send TERM as soon as READY=1 arrives.
  let daemon: Daemon | null = null;
  let stops = 0;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((r) => { finish = r; });
  const stop = (signal: string): void => {
    const d = daemon;
    if (!d) return; // Still starting: run() stops as soon as the start is over.
    if (stops > 1) {
      // A second TERM/INT does not wait for the grace period.
      log.info(`${signal} again: stopping now`);
      void d.plane.stop(0);
      return;
    }
    log.info(`${signal} received`);
    begin(d, options.graceSeconds * 1000);
  };
  const begin = (d: Daemon, graceMs: number): void => {
    d.stop(graceMs).then(() => finish(0), (e: unknown) => {
      log.error(`stop failed: ${String(e)}`);
      finish(1);
    });
  };
  const uninstall = installSignals({
    stop(signal) {
      stops++;
      stop(signal);
    },
    reload() {
      if (daemon) void daemon.reload();
    },
    dumpData() {
      if (!daemon) return;
      try {
        log.info(`Data dump written to ${daemon.dumpData()}`);
      } catch (e) {
        log.error(`Data dump failed: ${(e as Error).message}`);
      }
    },
    dumpStats() {
      if (!daemon) return;
      try {
        log.info(`Stats dump written to ${daemon.dumpStats()}`);
      } catch (e) {
        log.error(`Stats dump failed: ${(e as Error).message}`);
      }
    },
  });
  try {
    if (!options.dontFork) log.debug('keepvs always runs in the foreground (as with -n)');
    daemon = await startDaemon({
      options, log,
      notifier: createSdNotifier(process.env, (m) => log.warn(m)),
      createPlane: planeFactory(options.nft, options.proxyEngine),
      apiToken: options.api ? apiToken(options, process.env, log) : null,
    });
  } catch (e) {
    uninstall();
    log.error(e instanceof StartError ? e.message : `cannot start: ${(e as Error).stack ?? String(e)}`);
    return e instanceof StartError ? e.exitCode : 1;
  }
  if (stops > 0) begin(daemon, stops > 1 ? 0 : options.graceSeconds * 1000);
  const code = await finished;
  uninstall();
  return code;
}

export async function main(args: readonly string[]): Promise<number> {
  const inv = parseDaemonArgs(args);
  switch (inv.kind) {
    case 'error':
      process.stderr.write(`keepvs: ${inv.message}\nTry 'keepvs --help' for more information.\n`);
      return 1;
    case 'help':
      process.stdout.write(helpText());
      return 0;
    case 'version':
      process.stdout.write(versionText());
      return 0;
    case 'signum': {
      const n = signum(inv.name);
      if (n === null) {
        process.stderr.write(`keepvs: unknown or unsupported signal function '${inv.name}' (STOP, RELOAD, DATA, STATS)\n`);
        return 1;
      }
      process.stdout.write(`${n}\n`);
      return 0;
    }
    case 'config-test': {
      const opts = { configId: inv.options.configId };
      const r = inv.dumpConf ? await dumpConfig(inv.options.configFile, opts) : { ...(await testConfig(inv.options.configFile, opts)), text: '' };
      const text = r.lines.map((l) => `${l}\n`).join('');
      if (inv.logFile) writeFileSync(inv.logFile, text);
      else process.stderr.write(text);
      process.stdout.write(r.text);
      return r.exitCode;
    }
    case 'dump-conf': {
      // keepalived -d dumps the configuration to its log and keeps running; keepvs prints it and exits.
      const r = await dumpConfig(inv.options.configFile, { configId: inv.options.configId });
      process.stderr.write(r.lines.map((l) => `${l}\n`).join(''));
      process.stdout.write(r.text);
      return r.exitCode;
    }
    case 'run':
      return run(inv.options, createLogger({ console: inv.options.logConsole, detail: inv.options.logDetail }));
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
  // Whatever a plane or a socket left behind, the daemon is done.
  process.exit();
}
