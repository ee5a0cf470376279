// Reading the JSON bodies of docs/api.md into core values. The whole body is checked before any
// route touches the director, so a bad request changes nothing; every complaint names the field
// (context.field, dotted path) and, where a value parser refused it, the parser's reason.
import type { Addr, Family } from '../core/addr.ts';
import type { CoreError } from '../core/errors.ts';
import type { Result } from '../core/result.ts';
import type { DestSpec, FwdMethod, TunnelOptions } from '../core/dest.ts';
import { type ServiceKey, type ServiceOptions, SVC_F, DEFAULT_PERSISTENT_TIMEOUT } from '../core/service.ts';
import { type ProxyProtocolChoice, isProxyProtocolChoice } from '../core/proxy-protocol.ts';
import {
  parseAddress, parseFwdMethod, parseNetmask, parsePort, parseProtocol, parseSchedFlags, parseSetTimeout, parseTunnel,
} from '../config/values.ts';
import { type ApiError, fieldError } from './errors.ts';

/** Thrown inside this module only; parse functions turn it into a Result for the routes. */
class FieldFault {
  readonly error: ApiError;
  constructor(error: ApiError) {
    this.error = error;
  }
}

export type BodyResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ApiError };

function run<T>(fn: () => T): BodyResult<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (e instanceof FieldFault) return { ok: false, error: e.error };
    throw e;
  }
}

function fail(field: string, message: string, extra: Record<string, unknown> = {}): never {
  throw new FieldFault(fieldError(field, message, extra));
}

function parsed<T>(field: string, r: Result<T, CoreError>): T {
  if (!r.ok) fail(field, r.error.message, { reason: r.error.code, ...r.error.context });
  return r.value;
}

type Obj = Record<string, unknown>;

function object(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'expected a JSON object');
  return v as Obj;
}

function onlyKeys(o: Obj, field: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(field === '' ? k : `${field}.${k}`, `unknown field (expected one of ${allowed.join(', ')})`);
  }
}

function join(field: string, key: string): string {
  return field === '' ? key : `${field}.${key}`;
}

function str(o: Obj, field: string, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(join(field, key), v === undefined ? 'required string is missing' : 'expected a string');
  return v;
}

function int(o: Obj, field: string, key: string, dflt?: number): number {
  const v = o[key];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(join(field, key), v === undefined ? 'required integer is missing' : 'expected an integer');
  return v;
}

function bool(o: Obj, field: string, key: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail(join(field, key), 'expected true or false');
  return v;
}

/** keepvs's "proxyProtocol": "v1" | "v2" | "none" | null (absent = null). */
function proxyProtocol(o: Obj, field: string): ProxyProtocolChoice | null {
  const v = o.proxyProtocol;
  if (v === undefined || v === null) return null;
  if (!isProxyProtocolChoice(v)) fail(join(field, 'proxyProtocol'), 'expected "v1", "v2", "none" or null');
  return v;
}

// ---------------------------------------------------------------- ServiceRef

function serviceRef(v: unknown, field: string): ServiceKey {
  const o = object(v, field);
  if (o.fwmark !== undefined) {
    onlyKeys(o, field, ['fwmark', 'family']);
    const fwmark = int(o, field, 'fwmark');
    const family = int(o, field, 'family', 4);
    if (family !== 4 && family !== 6) fail(join(field, 'family'), 'expected 4 or 6');
    return { kind: 'fwmark', fwmark, family: family as Family };
  }
  onlyKeys(o, field, ['protocol', 'vip', 'port']);
  const protocol = parsed(join(field, 'protocol'), parseProtocol(str(o, field, 'protocol')));
  const vip = parsed(join(field, 'vip'), parseAddress(str(o, field, 'vip')));
  const port = parsed(join(field, 'port'), parsePort(int(o, field, 'port')));
  return { kind: 'addr', protocol, vip, port };
}

// ---------------------------------------------------------------- ServiceOptionsBody

const OPTION_KEYS = ['scheduler', 'persistent', 'netmask', 'pe', 'ops', 'schedFlags', 'proxyProtocol', 'exactPath'] as const;

function serviceOptions(v: unknown, field: string, key: ServiceKey): ServiceOptions {
  const o = v === undefined ? {} : object(v, field);
  onlyKeys(o, field, OPTION_KEYS);
  // ipvsadm.c: DEF_SCHED is wlc.
  const scheduler = o.scheduler === undefined ? 'wlc' : str(o, field, 'scheduler');
  let flags = 0;
  let timeout = DEFAULT_PERSISTENT_TIMEOUT;
  const p = o.persistent;
  if (p === true) {
    flags |= SVC_F.PERSISTENT;
  } else if (typeof p === 'number') {
    if (!Number.isInteger(p)) fail(join(field, 'persistent'), 'expected an integer number of seconds');
    flags |= SVC_F.PERSISTENT;
    timeout = p;
  } else if (p !== undefined && p !== null && p !== false) {
    fail(join(field, 'persistent'), 'expected seconds or null');
  }
  const family = key.kind === 'addr' ? key.vip.family : key.family;
  const nm = o.netmask;
  if (nm !== undefined && nm !== null && typeof nm !== 'string' && typeof nm !== 'number') fail(join(field, 'netmask'), 'expected a string or null');
  const netmask = parsed(join(field, 'netmask'), parseNetmask(nm === undefined || nm === null ? null : String(nm), family));
  const pe = o.pe === undefined || o.pe === null ? null : str(o, field, 'pe');
  if (bool(o, field, 'ops', false)) flags |= SVC_F.ONEPACKET;
  const sf = o.schedFlags ?? [];
  if (!Array.isArray(sf) || !sf.every((x) => typeof x === 'string')) fail(join(field, 'schedFlags'), 'expected an array of flag names');
  flags |= parsed(join(field, 'schedFlags'), parseSchedFlags(sf as string[], scheduler));
  // A service's "none" is the same as no default at all.
  const pp = proxyProtocol(o, field);
  // keepvs: force the exact (core-decided) path on a kernel data plane; present only when set, so
  // a service without it compares equal to one from before the field existed.
  const exact = bool(o, field, 'exactPath', false);
  return {
    scheduler: scheduler as ServiceOptions['scheduler'], flags, timeout, netmask, pe, proxyProtocol: pp === 'none' ? null : pp,
    ...(exact ? { exactPath: true } : {}),
  };
}

// ---------------------------------------------------------------- DestBody

const DEST_KEYS = ['addr', 'port', 'fwd', 'weight', 'uThreshold', 'lThreshold', 'tunnel', 'proxyProtocol'] as const;

/** Dest port defaults to the service port, as ipvsadm's -r host without :port does. */
function destPort(o: Obj, field: string, key: ServiceKey): number {
  if (o.port === undefined) return key.kind === 'addr' ? key.port : 0;
  return parsed(join(field, 'port'), parsePort(int(o, field, 'port')));
}

function tunnel(v: unknown, field: string): TunnelOptions | undefined {
  if (v === undefined || v === null) return undefined;
  const o = object(v, field);
  onlyKeys(o, field, ['type', 'port', 'csum']);
  const type = str(o, field, 'type');
  const port = int(o, field, 'port', 0);
  const csum = o.csum === undefined ? 'nocsum' : str(o, field, 'csum');
  return parsed(field, parseTunnel(type, port, csum));
}

function destBody(v: unknown, field: string, key: ServiceKey): DestSpec {
  const o = object(v, field);
  onlyKeys(o, field, DEST_KEYS);
  const addr = parsed(join(field, 'addr'), parseAddress(str(o, field, 'addr')));
  const port = destPort(o, field, key);
  // ipvsadm.c: gatewaying (-g) is the default forwarding method.
  const fwd: FwdMethod = o.fwd === undefined ? 'route' : parsed(join(field, 'fwd'), parseFwdMethod(str(o, field, 'fwd')));
  const weight = int(o, field, 'weight', 1);
  const uThreshold = int(o, field, 'uThreshold', 0);
  const lThreshold = int(o, field, 'lThreshold', 0);
  const t = tunnel(o.tunnel, join(field, 'tunnel'));
  const pp = proxyProtocol(o, field);
  return { addr, port, fwd, weight, uThreshold, lThreshold, ...(t ? { tunnel: t } : {}), proxyProtocol: pp };
}

function destRef(v: unknown, field: string, key: ServiceKey): { addr: Addr; port: number } {
  const o = object(v, field);
  onlyKeys(o, field, ['addr', 'port']);
  return { addr: parsed(join(field, 'addr'), parseAddress(str(o, field, 'addr'))), port: destPort(o, field, key) };
}

// ---------------------------------------------------------------- request bodies

function top(body: unknown, allowed: readonly string[]): Obj {
  const o = object(body, 'body');
  onlyKeys(o, '', allowed);
  return o;
}

export interface ServiceRequest { readonly key: ServiceKey; readonly options: ServiceOptions }

/** POST/PUT /v1/services. */
export function parseServiceRequest(body: unknown): BodyResult<ServiceRequest> {
  return run(() => {
    const o = top(body, ['service', 'options']);
    const key = serviceRef(o.service, 'service');
    return { key, options: serviceOptions(o.options, 'options', key) };
  });
}

/** DELETE /v1/services, and POST /v1/zero (service optional there). */
export function parseServiceOnly(body: unknown, optional = false): BodyResult<ServiceKey | undefined> {
  return run(() => {
    if (optional && (body === undefined || body === null)) return undefined;
    const o = top(body, ['service']);
    if (optional && o.service === undefined) return undefined;
    return serviceRef(o.service, 'service');
  });
}

export interface DestRequest { readonly key: ServiceKey; readonly dest: DestSpec }

/** POST/PUT /v1/dests. */
export function parseDestRequest(body: unknown): BodyResult<DestRequest> {
  return run(() => {
    const o = top(body, ['service', 'dest']);
    const key = serviceRef(o.service, 'service');
    return { key, dest: destBody(o.dest, 'dest', key) };
  });
}

export interface DestDeleteRequest { readonly key: ServiceKey; readonly addr: Addr; readonly port: number }

/** DELETE /v1/dests. */
export function parseDestDelete(body: unknown): BodyResult<DestDeleteRequest> {
  return run(() => {
    const o = top(body, ['service', 'dest']);
    const key = serviceRef(o.service, 'service');
    return { key, ...destRef(o.dest, 'dest', key) };
  });
}

export interface TimeoutsRequest { readonly tcp: number; readonly tcpfin: number; readonly udp: number }

/** PUT /v1/timeouts: a missing entry is 0, which leaves it unchanged (ipvsadm --set). */
export function parseTimeouts(body: unknown): BodyResult<TimeoutsRequest> {
  return run(() => {
    const o = top(body, ['tcp', 'tcpfin', 'udp']);
    const get = (k: 'tcp' | 'tcpfin' | 'udp'): number => parsed(k, parseSetTimeout(int(o, '', k, 0)));
    return { tcp: get('tcp'), tcpfin: get('tcpfin'), udp: get('udp') };
  });
}

export interface ExplainRequest {
  readonly key: ServiceKey;
  readonly caddr: Addr;
  readonly cport: number;
  /** The packet's destination; defaults to the service's VIP and port (fwmark: any address, port 0). */
  readonly virtual?: { readonly protocol?: string; readonly addr?: Addr; readonly port?: number };
}

/** POST /v1/explain; "virtual" is a keepvs addition for fwmark and port-zero services. */
export function parseExplain(body: unknown): BodyResult<ExplainRequest> {
  return run(() => {
    const o = top(body, ['service', 'client', 'virtual']);
    const key = serviceRef(o.service, 'service');
    const c = object(o.client, 'client');
    onlyKeys(c, 'client', ['addr', 'port']);
    const caddr = parsed('client.addr', parseAddress(str(c, 'client', 'addr')));
    const cport = parsed('client.port', parsePort(int(c, 'client', 'port', 0)));
    if (o.virtual === undefined) return { key, caddr, cport };
    const v = object(o.virtual, 'virtual');
    onlyKeys(v, 'virtual', ['protocol', 'addr', 'port']);
    return {
      key, caddr, cport,
      virtual: {
        protocol: v.protocol === undefined ? undefined : parsed('virtual.protocol', parseProtocol(str(v, 'virtual', 'protocol'))),
        addr: v.addr === undefined ? undefined : parsed('virtual.addr', parseAddress(str(v, 'virtual', 'addr'))),
        port: v.port === undefined ? undefined : parsed('virtual.port', parsePort(int(v, 'virtual', 'port'))),
      },
    };
  });
}
