// HTTP_GET and SSL_GET, one url block per call (keepalived/check/check_http.c, check_ssl.c,
// lib/html.c). The request is keepalived's, byte for byte:
//   GET <path> HTTP/1.<0|1>\r\nUser-Agent: KeepAliveClient\r\n[Connection: close\r\n]Host: <host>\r\n\r\n
// where <host> is the url's virtualhost, else the checker's, the real server's, the virtual
// server's, else "<ip>:<port>" ("[v6]:port"). The whole response is read until the server closes
// (each wait bounded by connect_timeout), then judged in keepalived's order:
//   no header end seen → failure; status not in status_code (default 200-299) → failure;
//   digest set and MD5(body) differs → failure; regex set and (no match, or a match with
//   regex_no_match) → failure.
// The status is read as keepalived reads it: the three digits after the first space, followed by
// a space ("HTTP/1.1 200\r\n" without a reason phrase is status 0). The body MD5 covers at most
// Content-Length bytes when that header (case as written) is present.
// SSL_GET never verifies the certificate (keepalived builds its SSL_CTX without verification);
// SNI is sent only with enable_sni, naming sni_name, else the url's, checker's or virtual
// server's virtualhost (not the real server's).
import net from 'node:net';
import tls from 'node:tls';
import { createHash, type Hash } from 'node:crypto';
import type { CheckTarget, HttpGetSpec, UrlSpec } from './spec.ts';
import { KEEPALIVED_DEFAULTS, regexFlags } from './spec.ts';
import { type CheckResult, checkResult } from './result.ts';
import type { CheckSignal } from './cancel.ts';
import { connectFailure } from './connect.ts';
import { boundTarget, needsBoundSocket } from './bound.ts';
import { boundTcpConnect } from '../sys/bound-socket.ts';
import type { ExchangeRequest, TcpConnector } from '../sys/tcp-connect.ts';

export interface HttpContext {
  readonly urlIndex: number;
  /** Plain HTTP_GET goes through this bare-socket connector when given (the health checker's default). */
  readonly connector?: TcpConnector | null;
  readonly rsVirtualhost?: string;
  readonly vsVirtualhost?: string;
}

/** Bodies kept for regex matching are capped (keepalived matches in 4 KiB windows, unbounded). */
const REGEX_BODY_CAP = 1 << 20;

export function requestText(spec: HttpGetSpec, url: UrlSpec, target: CheckTarget, ctx: HttpContext): string {
  const vhost = url.virtualhost ?? spec.virtualhost ?? ctx.rsVirtualhost ?? ctx.vsVirtualhost;
  const proto = spec.http_protocol ?? '1.0';
  const minor = proto === '1.1' ? 1 : 0;
  const close = proto === '1.0C' || proto === '1.1' ? 'Connection: close\r\n' : '';
  const host = vhost ?? (target.family === 6 ? `[${target.address}]:${target.port}` : `${target.address}:${target.port}`);
  return `GET ${url.path} HTTP/1.${minor}\r\nUser-Agent: KeepAliveClient\r\n${close}Host: ${host}\r\n\r\n`;
}

export function sniName(spec: HttpGetSpec, url: UrlSpec, ctx: HttpContext): string | undefined {
  if (!spec.enable_sni && spec.sni_name === undefined) return undefined;
  return spec.sni_name ?? url.virtualhost ?? spec.virtualhost ?? ctx.vsVirtualhost;
}

/** lib/html.c: extract_status_code — 3 digits after the first space, followed by a space; else 0. */
export function statusCode(head: string): number {
  let i = 0;
  while (i < head.length && head[i] !== ' ' && head[i] !== '\r') i++;
  if (head[i] !== ' ') return 0;
  i++;
  if (i + 3 >= head.length || head[i] === ' ' || head[i + 3] !== ' ') return 0;
  const digits = head.slice(i, i + 3);
  return /^\d{3}$/.test(digits) ? Number(digits) : 0;
}

/** lib/html.c: extract_content_length — "Content-Length:" as written, digits to end of line; else null. */
export function contentLength(head: string): number | null {
  const at = head.indexOf('Content-Length:');
  if (at < 0) return null;
  const m = /^[ \t]*(\d+)(?=\r|\n|$)/.exec(head.slice(at + 'Content-Length:'.length));
  return m ? Number(m[1]) : null;
}

export function statusAccepted(url: UrlSpec, status: number): boolean {
  const ranges = url.status_code && url.status_code.length > 0 ? url.status_code : KEEPALIVED_DEFAULTS.status_code;
  for (const r of ranges) if (status >= r[0] && status <= r[1]) return true;
  return false;
}

/** regex with regex_min_offset / regex_max_offset (a match must start within [min, max]). */
export function regexMatches(url: UrlSpec, body: string): boolean {
  if (url.regex === undefined) return true;
  const re = new RegExp(url.regex, regexFlags(url.regex_options) + 'g');
  re.lastIndex = url.regex_min_offset ?? 0;
  const m = re.exec(body);
  const hit = m !== null && (url.regex_max_offset === undefined || m.index <= url.regex_max_offset);
  return url.regex_no_match ? !hit : hit;
}

class ResponseReader {
  /** Bytes of a head not complete yet. */
  #head: Buffer | null = null;
  headText: string | null = null;
  #md5: Hash | null;
  #limit: number | null = null;
  #bodyBytes = 0;
  #regexParts: Buffer[] = [];
  #regexLen = 0;
  readonly #keepBody: boolean;

  constructor(url: UrlSpec) {
    this.#md5 = url.digest ? createHash('md5') : null;
    this.#keepBody = url.regex !== undefined;
  }

  push(chunk: Buffer): void {
    if (this.headText !== null) { this.#body(chunk); return; }
    // Usually the whole head is in the first chunk: search it in place.
    const all = this.#head ? Buffer.concat([this.#head, chunk]) : chunk;
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      this.#head = all;
      return;
    }
    this.headText = all.subarray(0, end).toString('latin1');
    // Content-Length only bounds the digest (extract_content_length); without a digest it is not read.
    if (this.#md5) this.#limit = contentLength(this.headText);
    this.#head = null;
    this.#body(all.subarray(end + 4));
  }

  #body(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#md5) {
      const room = this.#limit === null ? chunk.length : Math.max(0, Math.min(chunk.length, this.#limit - this.#bodyBytes));
      if (room > 0) this.#md5.update(chunk.subarray(0, room));
    }
    this.#bodyBytes += chunk.length;
    if (this.#keepBody && this.#regexLen < REGEX_BODY_CAP) {
      this.#regexParts.push(chunk);
      this.#regexLen += chunk.length;
    }
  }

  #digest: string | null = null;

  digest(): string | null {
    if (this.#md5 && this.#digest === null) this.#digest = this.#md5.digest('hex');
    return this.#digest;
  }

  body(): string {
    return Buffer.concat(this.#regexParts, this.#regexLen).toString('latin1');
  }
}

const statusTexts = new Map<number, string>();
/** "HTTP status N", one string per status rather than one per check. */
function statusText(status: number): string {
  let t = statusTexts.get(status);
  if (t === undefined) {
    t = `HTTP status ${status}`;
    if (statusTexts.size < 1000) statusTexts.set(status, t);
  }
  return t;
}

/** Judge a complete response (after the server closed). */
export function judge(url: UrlSpec, reader: { headText: string | null; digest(): string | null; body(): string }, started: number): CheckResult {
  if (reader.headText === null) return checkResult(false, 'L7RSP', 'no data received (no complete HTTP header)', started);
  const status = statusCode(reader.headText);
  if (!statusAccepted(url, status)) return checkResult(false, 'L7STS', statusText(status), started);
  if (url.digest) {
    const got = reader.digest();
    if (got !== url.digest.toLowerCase()) return checkResult(false, 'L7DIGEST', `MD5 digest ${got} differs from ${url.digest.toLowerCase()}`, started);
  }
  if (url.regex !== undefined && !regexMatches(url, reader.body())) {
    return checkResult(false, 'L7REGEX', url.regex_no_match ? `body matches regex ${url.regex}` : `body does not match regex ${url.regex}`, started);
  }
  return checkResult(true, 'L7OK', statusText(status), started);
}

/** The url block with a path at position `index` (modulo their number), without building a list per check. */
function urlAt(spec: HttpGetSpec, index: number): UrlSpec {
  let count = 0;
  for (const u of spec.url) if (u.path) count++;
  let k = index % Math.max(1, count);
  for (const u of spec.url) if (u.path && k-- === 0) return u;
  return spec.url[0];
}

export function check(spec: HttpGetSpec, target: CheckTarget, signal: CheckSignal | undefined, ctx: HttpContext): Promise<CheckResult> {
  const started = performance.now();
  const url = urlAt(spec, ctx.urlIndex);
  const ssl = spec.type === 'SSL_GET';
  if (!ssl && ctx.connector) return viaConnector(ctx.connector, spec, url, target, signal, ctx, started);
  return new Promise((resolve) => {
    let done = false;
    let phase: 'connect' | 'tls' | 'response' = 'connect';
    const reader = new ResponseReader(url);
    const sni = ssl ? sniName(spec, url, ctx) : undefined;
    const connectOpts = { host: target.address, port: target.port, family: target.family, localAddress: target.bindto, localPort: target.bindPort };
    // For SSL_GET the TLS socket makes the TCP connection itself ('connect', then 'secureConnect').
    // Without enable_sni no servername is given, and Node sends no SNI for an IP address.
    // fwmark / bind_if need socket options net cannot set: the TCP socket comes from src/sys
    // (bound-socket.ts) and TLS runs over it.
    const bound = needsBoundSocket(target) ? boundTcpConnect(boundTarget(target)) : null;
    const sock: net.Socket = ssl
      ? tls.connect({ ...(bound ? { socket: bound } : connectOpts), rejectUnauthorized: false, ...(sni ? { servername: sni } : {}) })
      : bound ?? net.connect(connectOpts);
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(r);
    };
    // One timer re-armed on every event: keepalived bounds each wait (connect, handshake, each
    // read) by connect_timeout, not the whole exchange.
    let timer = setTimeout(() => onTimeout(), target.connectTimeoutMs);
    const rearm = () => { clearTimeout(timer); timer = setTimeout(() => onTimeout(), target.connectTimeoutMs); };
    const onTimeout = () => {
      if (phase === 'connect') finish(checkResult(false, 'L4TOUT', `connect timeout after ${target.connectTimeoutMs} ms`, started));
      else if (phase === 'tls') finish(checkResult(false, 'L6TOUT', 'TLS handshake timeout', started));
      else finish(checkResult(false, 'L7TOUT', `no answer within ${target.connectTimeoutMs} ms`, started));
    };
    const onAbort = () => finish(checkResult(false, 'ABORTED', 'aborted', started));
    signal?.addEventListener('abort', onAbort, { once: true });
    const request = requestText(spec, url, target, ctx);
    sock.on('data', (chunk: Buffer) => { rearm(); reader.push(chunk); });
    const onEnd = () => { if (!done) finish(judge(url, reader, started)); };
    sock.once('end', onEnd);
    if (ssl) sock.once('close', onEnd);
    sock.once('error', (e: NodeJS.ErrnoException) => {
      if (phase === 'connect') finish(connectFailure(e, started));
      else if (phase === 'tls') finish(checkResult(false, 'L6RSP', `TLS: ${e.code ?? e.message}`, started));
      // A TLS read ends at any error with what was received (check_ssl.c); plain HTTP fails.
      else if (ssl) onEnd();
      else finish(checkResult(false, 'L7RSP', `read error: ${e.code ?? e.message}`, started));
    });
    sock.once('connect', () => {
      rearm();
      if (!ssl) {
        phase = 'response';
        sock.write(request);
        return;
      }
      phase = 'tls';
    });
    if (ssl) {
      sock.once('secureConnect', () => {
        rearm();
        phase = 'response';
        sock.write(request);
      });
    }
  });
}

/** Responses are read to the end like keepalived does; past this size the rest is not read. */
const MAX_RESPONSE = 16 << 20;

interface CachedRequest {
  readonly target: CheckTarget;
  readonly spec: HttpGetSpec;
  readonly rsVirtualhost: string | undefined;
  readonly vsVirtualhost: string | undefined;
  readonly req: ExchangeRequest;
}

/**
 * The request bytes per url block, built once: they depend only on the url, the checker's spec, the
 * target and the real/virtual server's virtualhost, which are compared on every use.
 */
const requests = new WeakMap<UrlSpec, CachedRequest>();

function exchangeRequest(spec: HttpGetSpec, url: UrlSpec, target: CheckTarget, ctx: HttpContext): ExchangeRequest {
  const hit = requests.get(url);
  if (hit && hit.target === target && hit.spec === spec && hit.rsVirtualhost === ctx.rsVirtualhost && hit.vsVirtualhost === ctx.vsVirtualhost) return hit.req;
  const req: ExchangeRequest = { request: Buffer.from(requestText(spec, url, target, ctx), 'latin1'), maxBytes: MAX_RESPONSE };
  requests.set(url, { target, spec, rsVirtualhost: ctx.rsVirtualhost, vsVirtualhost: ctx.vsVirtualhost, req });
  return req;
}

function viaConnector(
  connector: TcpConnector, spec: HttpGetSpec, url: UrlSpec, target: CheckTarget, signal: CheckSignal | undefined, ctx: HttpContext, started: number,
): Promise<CheckResult> {
  return connector.exchange(target, exchangeRequest(spec, url, target, ctx), signal).then((a) => {
    switch (a.verdict) {
      case 'done': {
        const reader = new ResponseReader(url);
        for (const c of a.chunks) reader.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
        return judge(url, reader, started);
      }
      case 'refused': return checkResult(false, 'L4CON', a.detail, started);
      case 'timeout':
        return a.phase === 'connect'
          ? checkResult(false, 'L4TOUT', `connect timeout after ${target.connectTimeoutMs} ms`, started)
          : checkResult(false, 'L7TOUT', `no answer within ${target.connectTimeoutMs} ms`, started);
      case 'io-error':
        return a.phase === 'connect' ? checkResult(false, 'L4CON', a.detail, started) : checkResult(false, 'L7RSP', `read error: ${a.detail}`, started);
      case 'aborted': return checkResult(false, 'ABORTED', a.detail, started);
      default: return checkResult(false, 'SOCKERR', `socket setup: ${a.detail}`, started);
    }
  });
}
