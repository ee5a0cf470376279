// idle-conns.ts — open N idle TCP connections to one address and hold them, so bench/l4/run.sh can
// read a proxy's RSS before and after (the memory cost of an idle proxied connection).
//   node bench/l4/idle-conns.ts --port 18080 --count 10000 [--host 127.0.0.1] [--hold 30] [--timeout 20]
//                               [--request /small]
// Prints one line "open <n> failed <m> ms <t>" once every attempt has finished (connected or
// failed), then holds the connections idle until SIGTERM/SIGINT or --hold seconds, and closes them
// all. Without --request a connection never sends a byte (a silent client); with --request PATH
// each one first sends one keep-alive HTTP GET and counts as open once the first bytes of the
// answer are back (an idle keep-alive client between requests: the proxy has moved data both ways). Bounded: at most --count sockets, at most PARALLEL
// connects in flight, every connect times out after --timeout seconds, the process ends after
// --timeout + --hold seconds whatever happens. Only meant for loopback addresses.
import * as net from 'node:net';

const PARALLEL = 256;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '18080'));
const count = Number(arg('count', '10000'));
const holdS = Number(arg('hold', '30'));
const timeoutS = Number(arg('timeout', '20'));
const path = arg('request', '');
const request = path ? Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`) : null;
if (!Number.isInteger(port) || port <= 0 || !Number.isInteger(count) || count <= 0) {
  process.stderr.write('idle-conns: --port and --count must be positive integers\n');
  process.exit(2);
}

const sockets: net.Socket[] = [];
let started = 0;
let open = 0;
let failed = 0;
let reported = false;
const t0 = Date.now();

function finishOne(): void {
  if (!reported && open + failed === count) {
    reported = true;
    process.stdout.write(`open ${open} failed ${failed} ms ${Date.now() - t0}\n`);
    setTimeout(done, holdS * 1000).unref();
  } else if (started < count) {
    next();
  }
}

function next(): void {
  if (started >= count) return;
  started++;
  const s = net.connect({ host, port });
  let settled = false;
  s.setTimeout(timeoutS * 1000);
  const held = (): void => {
    settled = true;
    s.setTimeout(0);
    open++;
    sockets.push(s);
    finishOne();
  };
  s.once('connect', () => {
    if (request === null) {
      held();
      return;
    }
    s.once('data', held);
    s.write(request);
  });
  // Answers are not looked at, only drained.
  s.on('data', () => {});
  const fail = (): void => {
    s.destroy();
    if (settled) return; // a held connection that the far side closed
    settled = true;
    failed++;
    finishOne();
  };
  s.once('timeout', fail);
  s.once('error', fail);
  s.once('close', fail);
}

function done(): void {
  for (const s of sockets) s.destroy();
  process.exit(0);
}

for (let i = 0; i < Math.min(PARALLEL, count); i++) next();
process.on('SIGTERM', done);
process.on('SIGINT', done);
// Hard bound, whatever the connects do.
setTimeout(done, (timeoutS + holdS + 5) * 1000).unref();
