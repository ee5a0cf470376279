// Puts one keepvs together: pid file, director, configuration (the -f hook), data plane, control
// API (Unix socket, optional TCP), the director's clock tick, sd_notify, dumps, and the ordered
// stop. main.ts runs it from the command line; the demo runs it in-process. No protocol logic here.
import type { AddressInfo } from 'node:net';
import { randomInt } from 'node:crypto';
import { Director } from '../core/director.ts';
import type { InfoSnapshot } from '../core/snapshot.ts';
import type { DataPlane } from '../dataplane/dataplane.ts';
import { ApiServer } from '../api/server.ts';
import type { ApiContext, ApiCounters } from '../api/router.ts';
import { defaultControlSocket } from '../api/socket-path.ts';
import type { SdNotifier } from '../sys/sd-notify.ts';
import type { DaemonOptions, DataPlaneChoice } from './options.ts';
import { keepvsVersion } from './options.ts';
import type { Logger } from './log.ts';
import { defaultPidFile, removePidFile, writePidFile } from './pidfile.ts';
import { ConfigRunner, type ConfigRunnerDeps } from './config.ts';
import { dataDump, statsDump, writeDump, DATA_DUMP_FILE, STATS_DUMP_FILE, type DumpSource } from './dump.ts';
import { reloadVrrp, startVrrp, vrrpManagedAddresses } from '../vrrp/start.ts';
import { VipServing } from './vip-serving.ts';
import type { VrrpProcess } from '../vrrp/vrrp-process.ts';

/** include/net/ip_vs.h: IP_VS_VERSION_CODE 0x010201, shown by ipvsadm's banner as 1.2.1. */
const IPVS_VERSION = '1.2.1';
/** CONFIG_IP_VS_TAB_BITS=12: the connection table size ipvsadm's banner prints. */
const CONN_TAB_SIZE = 4096;
/** How often the director's clock advances (director.ts: "call at least once a second"). */
const TICK_MS = 1000;

/**
 * Builds the data plane for --dataplane, on the daemon's clock. ticksDirector: the plane advances
 * the director's clock itself (the proxy plane does, from its one-second sweep); otherwise the
 * daemon calls director.tick() every second.
 */
export type PlaneFactory = (name: DataPlaneChoice, now: () => number, log: Logger) => Promise<{ plane: DataPlane; ticksDirector: boolean }>;

/** A refusal to start, with the exit code main.ts uses. */
export class StartError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface DaemonDeps {
  readonly options: DaemonOptions;
  readonly log: Logger;
  readonly notifier: SdNotifier;
  readonly createPlane: PlaneFactory;
  /** The bearer token for --api (main.ts reads --api-token-file / KEEPVS_API_TOKEN). */
  readonly apiToken?: string | null;
  readonly now?: () => number;
  /** How -f's file is read (tests: a memory host) and checked (tests: clock, probes); see ConfigRunner. */
  readonly config?: Pick<ConfigRunnerDeps, 'host' | 'checker' | 'wallClock'>;
}

export interface Daemon {
  readonly director: Director;
  readonly plane: DataPlane;
  readonly api: ApiServer;
  readonly controlSocket: string;
  readonly pidFile: string;
  readonly tcpApi: AddressInfo | null;
  /** Runs the -f keepalived.conf (its checkers, its reloads). */
  readonly config: ConfigRunner;
  /** Write /tmp/keepvs.data (or --dump-dir); returns the path. */
  dumpData(): string;
  dumpStats(): string;
  /** SIGHUP. */
  reload(): Promise<void>;
  /** Ordered stop; calling it again returns the same promise. */
  stop(graceMs: number): Promise<void>;
}

export async function startDaemon(deps: DaemonDeps): Promise<Daemon> {
  const { options, log, notifier } = deps;
  const now = deps.now ?? Date.now;
  const version = keepvsVersion();
  const startedAt = new Date();
  const controlSocket = options.control ?? defaultControlSocket();
  const pidFile = options.pidFile ?? defaultPidFile(controlSocket);

  if (options.api && !deps.apiToken) {
    throw new StartError('--api needs a token: --api-token-file FILE or env KEEPVS_API_TOKEN (refusing an unauthenticated TCP API)');
  }
  log.info(`Starting keepvs v${version}`);
  if (!options.vrrp || !options.check) log.info(`Running only the ${options.vrrp ? 'VRRP' : 'health-checker'} subsystem`);

  try {
    writePidFile(pidFile);
  } catch (e) {
    throw new StartError((e as Error).message);
  }
  const cleanups: (() => Promise<void> | void)[] = [() => removePidFile(pidFile)];
  const undo = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c();
  };

  try {
    // Random seeds, as the kernel draws ip_vs_conn_rnd: nobody can aim collisions at the table.
    const director = new Director({ seed: randomInt(1, 2 ** 31), hashSeed: randomInt(1, 2 ** 31) });
    const { plane, ticksDirector } = await deps.createPlane(options.dataplane, now, log);
    cleanups.push(() => plane.stop(0));
    // With VRRP on, services on its VIPs are served only while an instance holds them (vip-serving.ts).
    const serving = options.vrrp ? new VipServing(plane, director, log) : null;
    cleanups.push(() => serving?.stop());
    // VRRP could not start (no root for raw sockets): nothing will hold its addresses.
    let vrrpUnavailable = false;
    const config = new ConfigRunner({
      director, plane, log, now, configId: options.configId, check: options.check, ...deps.config,
      beforeSync: serving ? (m) => serving.setManaged(vrrpUnavailable ? new Set() : vrrpManagedAddresses(m)) : undefined,
    });
    cleanups.push(() => config.stop());
    if (options.configFile) {
      log.info(`Loading configuration from ${options.configFile}`);
      const r = await config.start(options.configFile);
      if (!r.ok) throw new StartError(r.message);
    }
    await plane.sync(director);

    // VRRP instances from the same file (src/vrrp/start.ts); a SIGHUP reload re-reads them
    // (VrrpProcess.reload). A failure to start them (no root for raw sockets) is logged and the
    // director keeps running, as keepalived's checker process runs without its VRRP sibling.
    let vrrp: VrrpProcess | null = null;
    const runVrrp = async (): Promise<void> => {
      const model = config.model;
      if (!options.vrrp || !model || vrrpUnavailable) return;
      if (vrrp) {
        for (const e of await reloadVrrp(vrrp, model)) log.error(`VRRP: ${e.message}`);
        return;
      }
      if (model.vrrpInstances.length === 0) return;
      try {
        const started = await startVrrp(model, {
          log: (level, message) => log.log(level, message),
          onHeldChange: serving ? (held) => void serving.setHeld(held) : undefined,
        });
        for (const e of started.errors) log.error(`VRRP: ${e.message}`);
        vrrp = started.process;
      } catch (e) {
        log.error(`VRRP not started: ${(e as Error).message}`);
        vrrpUnavailable = true;
        // Nothing will ever hold the addresses: serve them as without VRRP (a missing one is reported).
        serving?.setManaged(new Set());
        await plane.sync(director).catch((err) => log.error(`data plane: ${(err as Error).message}`));
      }
    };
    cleanups.push(() => vrrp?.stop());
    await runVrrp();

    const counters: ApiCounters = { rejected: new Map(), requests: new Map() };
    const apiText = options.api ? `${options.api.host}:${options.api.port}` : null;
    const dumpSource: DumpSource = {
      director, plane, version, controlSocket, api: apiText, configFile: options.configFile, pidFile, startedAt,
      apiRejected: counters.rejected, now: () => new Date(now()),
    };
    const info = (): InfoSnapshot => ({ ipvsVersion: IPVS_VERSION, connTableSize: CONN_TAB_SIZE, keepvsVersion: version, dataplane: plane.capabilities.name });
    const ctx: ApiContext = {
      director, plane, now, info, counters,
      dumps: { data: () => dataDump(dumpSource), stats: () => statsDump(dumpSource) },
      startTimeSeconds: Math.floor(startedAt.getTime() / 1000),
      config: () => config.status(),
      bfd: () => config.bfdStatus(),
    };
    const api = new ApiServer(ctx, (level, message) => log.log(level, message));
    cleanups.push(() => api.close(0));
    try {
      await api.listenUnix(controlSocket);
    } catch (e) {
      throw new StartError(`control socket ${controlSocket}: ${(e as Error).message}`);
    }
    log.info(`Control API listening on ${controlSocket}`);
    let tcpApi: AddressInfo | null = null;
    if (options.api && deps.apiToken) {
      try {
        tcpApi = await api.listenTcp(options.api.host, options.api.port, deps.apiToken);
      } catch (e) {
        throw new StartError(`--api ${apiText}: ${(e as Error).message}`);
      }
      log.info(`Control API listening on TCP ${tcpApi.family === 'IPv6' ? `[${tcpApi.address}]` : tcpApi.address}:${tcpApi.port} (bearer token required)`);
    }

    const tick = ticksDirector ? null : setInterval(() => director.tick(now()), TICK_MS);

    let stopping: Promise<void> | null = null;
    const daemon: Daemon = {
      director, plane, api, controlSocket, pidFile, tcpApi, config,
      dumpData: () => writeDump(options.dumpDir, DATA_DUMP_FILE, dataDump(dumpSource)),
      dumpStats: () => writeDump(options.dumpDir, STATS_DUMP_FILE, statsDump(dumpSource)),
      async reload() {
        if (!options.configFile) {
          log.info('Reload requested: no configuration file (-f); the running configuration stays');
          return;
        }
        log.info(`Reloading configuration from ${options.configFile}`);
        const r = await config.reload(options.configFile);
        if (r.ok) {
          // keepalived reloads its VRRP process from the same file (vrrp_daemon.c reload_vrrp_thread).
          await runVrrp().catch((e) => log.error(`VRRP reload: ${(e as Error).message}`));
          log.info('Reload finished');
        } else {
          log.error(`Reload failed, keeping the running configuration: ${r.message}`);
        }
      },
      stop(graceMs: number) {
        stopping ??= (async () => {
          log.info(`Stopping keepvs (grace ${graceMs / 1000} s for open connections)`);
          await notifier.notify({ STOPPING: '1', STATUS: 'stopping' });
          if (tick) clearInterval(tick);
          // VRRP releases its VIPs first (priority 0 advert), then the checkers stop (omega runs
          // its notifies); the director stays as it is.
          await vrrp?.stop();
          serving?.stop();
          config.stop();
          // The API goes first so nothing changes the director while the plane drains.
          await Promise.all([api.close(Math.min(graceMs, 1000)), plane.stop(graceMs)]);
          removePidFile(pidFile);
          log.info('Stopped keepvs');
        })();
        return stopping;
      },
    };
    await notifier.notify({ READY: '1', STATUS: `keepvs v${version}: control API on ${controlSocket}` });
    return daemon;
  } catch (e) {
    await undo();
    throw e;
  }
}
