// What the wrk-based lab benchmarks (capacity.ts, fullnat-ports.ts) share: nginx real servers that answer
// every request with a tiny body, and wrk with `Connection: close`, one new connection per request.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNs, type Lab } from '../../src/sys/netns.ts';

export interface WrkResult { readonly rps: number; readonly requests: number; readonly errors: number }

/** wrk's "Requests/sec", request count and summed socket errors. */
export function parseWrk(out: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const m = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = m ? Number(m[1]) + Number(m[2]) + Number(m[3]) + Number(m[4]) : 0;
  return { rps, requests, errors };
}

/** wrk -t1 from the client namespace, `conns` connections for `seconds`, every request a new connection. */
export async function wrkClose(lab: Lab, url: string, conns: number, seconds: number): Promise<WrkResult> {
  const r = await inNs(lab.ns.client, ['wrk', '-t1', `-c${conns}`, `-d${seconds}s`, '-H', 'Connection: close', url], { timeoutMs: (seconds + 30) * 1000 });
  return parseWrk(r.stdout);
}

/** One single-worker nginx per real server namespace on `port`, files under `dir`; the caller kills them. */
export async function startNginx(lab: Lab, dir: string, port: number): Promise<ChildProcess[]> {
  const children: ChildProcess[] = [];
  for (const [i, ns] of lab.ns.rs.entries()) {
    const d = join(dir, `rs${i + 1}`);
    mkdirSync(d);
    writeFileSync(join(d, 'nginx.conf'), [
      'worker_processes 1;', 'daemon off;', `pid ${d}/nginx.pid;`, 'error_log stderr crit;',
      'events { worker_connections 8192; }',
      'http {', '  access_log off;', `  server { listen ${port} backlog=4096; location / { return 200 "ok\\n"; } }`, '}', '',
    ].join('\n'));
    children.push(spawn('ip', ['netns', 'exec', ns, 'nginx', '-p', d, '-c', join(d, 'nginx.conf')], { stdio: 'ignore' }));
  }
  await new Promise((r) => setTimeout(r, 800));
  return children;
}
