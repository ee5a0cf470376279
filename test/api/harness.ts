// An ApiServer on a Unix socket in a fresh temp dir, over a real Director and a FakePlane, and an
// HTTP client for it (what keepvsadm does, minus the formatting).
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Director } from '../../src/core/director.ts';
import { ApiServer } from '../../src/api/server.ts';
import type { ApiContext } from '../../src/api/router.ts';
import { FakePlane } from './fake-plane.ts';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The parsed body when it is JSON. */
  readonly json: any;
}

export function httpCall(
  target: { socketPath: string } | { host: string; port: number },
  method: string, path: string, body?: unknown, headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request({ ...target, method, path, headers: {
      ...headers,
      // Node's client neither chunks nor sizes a DELETE body by itself: without Content-Length the
      // server would read the body as a second, malformed request.
      ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) } : {}),
    } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = undefined;
        if (String(res.headers['content-type']).startsWith('application/json')) json = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export interface Harness {
  readonly dir: string;
  readonly socketPath: string;
  readonly director: Director;
  readonly plane: FakePlane;
  readonly ctx: ApiContext;
  readonly server: ApiServer;
  call(method: string, path: string, body?: unknown): Promise<Reply>;
  close(): Promise<void>;
}

/** `extra`: context parts a test adds (config status, BFD sessions). */
export async function startHarness(clock: { now: number } = { now: 1_000_000 }, extra: Partial<Pick<ApiContext, 'config' | 'bfd'>> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'keepvs-api-'));
  const socketPath = join(dir, 'keepvs.sock');
  const director = new Director();
  const plane = new FakePlane();
  const ctx: ApiContext = {
    director, plane, now: () => clock.now,
    info: () => ({ ipvsVersion: '1.2.1', connTableSize: 4096, keepvsVersion: '0.0.0-test', dataplane: 'proxy' }),
    counters: { rejected: new Map(), requests: new Map() },
    dumps: { data: () => 'data dump\n', stats: () => 'stats dump\n' },
    startTimeSeconds: 1700000000,
    ...extra,
  };
  const server = new ApiServer(ctx);
  try {
    await server.listenUnix(socketPath);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    dir, socketPath, director, plane, ctx, server,
    call: (method, path, body) => httpCall({ socketPath }, method, path, body),
    async close() {
      await server.close(0);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
