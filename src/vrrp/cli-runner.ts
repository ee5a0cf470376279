// A small runnable entry for VRRP alone, until the daemon wires it: reads a JSON file holding a
// VrrpConfig (keepalived's keyword names, see config.ts), runs the instances, logs keepalived-like
// lines to stdout, and on SIGTERM/SIGINT stops like keepalived (MASTERs send priority 0 and drop
// their addresses). Used by the network-namespace tests and bench/failover.
//
//   node src/vrrp/cli-runner.ts CONFIG.json [--status-file PATH] [--name TAG]
//
// --status-file: rewritten (JSON, VrrpStatus) after every state change and on SIGUSR1.
// Exit codes: 0 stopped cleanly, 1 configuration error, 2 usage, 3 could not start.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolveVrrpConfig, type VrrpConfig } from './config.ts';
import type { LogLevel } from './host.ts';
import { createSystemHost } from './system-host.ts';
import { VrrpProcess } from './vrrp-process.ts';

function usage(msg: string): never {
  process.stderr.write(`${msg}\nusage: cli-runner.ts CONFIG.json [--status-file PATH] [--name TAG]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let file: string | null = null;
let statusFile: string | null = null;
let tag = '';
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--status-file') statusFile = args[++i] ?? usage('--status-file needs a path');
  else if (a === '--name') tag = args[++i] ?? usage('--name needs a value');
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else if (file === null) file = a;
  else usage(`unexpected argument ${a}`);
}
if (!file) usage('missing CONFIG.json');

const stamp = () => {
  const d = new Date();
  return `${d.toISOString().slice(11, 23)}`;
};
const log = (level: LogLevel, message: string) => {
  process.stdout.write(`${stamp()} ${tag ? `${tag} ` : ''}${level === 'info' ? '' : `[${level}] `}${message}\n`);
};

let cfg: VrrpConfig;
try {
  cfg = JSON.parse(readFileSync(file, 'utf8')) as VrrpConfig;
} catch (e) {
  log('error', `${file}: ${(e as Error).message}`);
  process.exit(1);
}
const res = resolveVrrpConfig(cfg);
for (const d of res.diagnostics) log(d.severity === 'error' ? 'error' : 'warn', `${file}: ${d.where}: ${d.code}: ${d.message}`);
if (res.diagnostics.some((d) => d.severity === 'error') || res.vrrp.instances.length === 0) {
  log('error', 'configuration has errors; not starting');
  process.exit(1);
}

const host = createSystemHost({ log });
let proc: VrrpProcess;
const writeStatus = () => {
  if (!statusFile || !proc) return;
  const tmp = `${statusFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(proc.status(), null, 1));
  renameSync(tmp, statusFile);
};
proc = new VrrpProcess(res.vrrp, host, {
  onTransition: (e) => {
    log('debug', `(${e.instance}) ${e.from} -> ${e.to}`);
    writeStatus();
  },
});

try {
  await proc.start();
} catch (e) {
  log('error', `cannot start: ${(e as Error).message}`);
  process.exit(3);
}
writeStatus();
log('info', `VRRP running: ${res.vrrp.instances.map((i) => i.name).join(', ')}`);

let stopping = false;
const stop = (sig: string) => {
  if (stopping) return;
  stopping = true;
  log('info', `Stopping (${sig})`);
  proc.stop().then(() => {
    writeStatus();
    log('info', 'Stopped');
    process.exit(0);
  }, (e: unknown) => {
    log('error', `stop failed: ${(e as Error).message}`);
    process.exit(1);
  });
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGUSR1', () => writeStatus());
// Keep the event loop alive while running (sockets are read by an unref'd worker thread).
setInterval(() => {}, 1 << 30);
