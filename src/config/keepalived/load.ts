// Reading a keepalived.conf end to end: find the file(s) (-f takes a glob, as in keepalived),
// read global_defs (the parent's pass), read the sections (the checker's and VRRP process's pass),
// apply keepalived's fix-ups, run its script-security check, and return the model with every
// diagnostic and the exit code keepalived 2.2.7's -t gives for the same file on the same host.
import { addr } from '../../core/addr.ts';
import { Diagnostics, type Diagnostic, configTestExitCode } from './diagnostics.ts';
import { glob, resolvePath } from './glob.ts';
import { type KeepalivedHost, nodeKeepalivedHost } from './host.ts';
import { Preprocessor } from './preprocess.ts';
import { Walker } from './tree.ts';
import { ParseCtx, type GlobalDraft } from './keywords/context.ts';
import { rootTable } from './keywords/root.ts';
import { validateLvs } from './validate-lvs.ts';
import { validateVrrp } from './validate-vrrp.ts';
import { checkScriptSecurity } from './script-security.ts';
import type { GlobalDefs, KeepalivedConfig, ScriptSpec } from './model.ts';

export interface LoadOptions {
  /** The id for @ID lines (keepalived -i); default: the host name up to its first '.'. */
  readonly configId?: string | null;
  /** The machine: files, interfaces, scripts, users. Default: this one (node:fs, /sys/class/net). */
  readonly host?: KeepalivedHost;
}

export interface LoadResult {
  /** false when no configuration file could be read at all. */
  readonly ok: boolean;
  readonly config: KeepalivedConfig | null;
  readonly diagnostics: readonly Diagnostic[];
  /**
   * keepalived -t's exit code for this file on this host (0, 2, 4, 5 or 6; see diagnostics.ts).
   * 4 when the -f file cannot be found or read, as keepalived gives for an unreadable file (for a
   * file that does not exist keepalived 2.2.7 exits 0, a bug keepvs does not copy).
   */
  readonly exitCode: number;
}

/** The short host name, as keepalived derives its default config id. */
export function defaultConfigId(hostname: string): string {
  const dot = hostname.indexOf('.');
  return dot >= 0 ? hostname.slice(0, dot) : hostname;
}

function globalDefs(d: GlobalDraft, hostname: string): GlobalDefs {
  const masterDelay = d.vrrpGarpMasterDelayS ?? 5;
  const masterRepeat = d.vrrpGarpMasterRepeat ?? 5;
  return {
    routerId: d.routerId ?? hostname,
    notificationEmail: d.notificationEmail ?? [],
    notificationEmailFrom: d.notificationEmailFrom ?? `keepalived@${hostname}`,
    smtpServer: d.smtpServer ?? null,
    smtpHeloName: d.smtpHeloName ?? null,
    smtpConnectTimeoutS: d.smtpConnectTimeoutS ?? 30,
    smtpAlert: d.smtpAlert ?? null,
    smtpAlertVrrp: d.smtpAlertVrrp ?? null,
    smtpAlertChecker: d.smtpAlertChecker ?? null,
    checkerLogAllFailures: d.checkerLogAllFailures ?? false,
    checkerProbeClose: d.checkerProbeClose ?? 'reset',
    defaultInterface: d.defaultInterface ?? 'eth0',
    dynamicInterfaces: d.dynamicInterfaces ?? false,
    lvsSyncDaemon: d.lvsSyncDaemon ?? null,
    lvsTimeouts: d.lvsTimeouts ?? { tcp: 0, tcpfin: 0, udp: 0 },
    lvsFlush: d.lvsFlush ?? false,
    lvsFlushOnStop: d.lvsFlushOnStop ?? 'no',
    vrrpMcastGroup4: d.vrrpMcastGroup4 ?? addr('224.0.0.18'),
    vrrpMcastGroup6: d.vrrpMcastGroup6 ?? addr('ff02::12'),
    vrrpVersion: d.vrrpVersion ?? 2,
    vrrpStrict: d.vrrpStrict ?? false,
    vrrpGarpMasterDelayS: masterDelay,
    vrrpGarpMasterRepeat: masterRepeat,
    vrrpGarpLowerPrioDelayS: d.vrrpGarpLowerPrioDelayS ?? masterDelay,
    vrrpGarpLowerPrioRepeat: d.vrrpGarpLowerPrioRepeat ?? masterRepeat,
    vrrpGarpMasterRefreshS: d.vrrpGarpMasterRefreshS ?? 0,
    vrrpGarpMasterRefreshRepeat: d.vrrpGarpMasterRefreshRepeat ?? 1,
    vrrpGarpIntervalUs: d.vrrpGarpIntervalUs ?? 0,
    vrrpGnaIntervalUs: d.vrrpGnaIntervalUs ?? 0,
    vrrpDownTimerAdverts: d.vrrpDownTimerAdverts ?? 3,
    vrrpLowerPrioNoAdvert: d.vrrpLowerPrioNoAdvert ?? false,
    vrrpHigherPrioSendAdvert: d.vrrpHigherPrioSendAdvert ?? false,
    vrrpCheckUnicastSrc: d.vrrpCheckUnicastSrc ?? false,
    vrrpSkipCheckAdvAddr: d.vrrpSkipCheckAdvAddr ?? false,
    vrrpNotifyPriorityChanges: d.vrrpNotifyPriorityChanges ?? false,
    enableScriptSecurity: d.enableScriptSecurity ?? false,
    scriptUser: d.scriptUser ?? null,
    notifyFifo: d.notifyFifo ?? null,
    vrrpNotifyFifo: d.vrrpNotifyFifo ?? null,
    lvsNotifyFifo: d.lvsNotifyFifo ?? null,
    startupScript: d.startupScript ?? null,
    shutdownScript: d.shutdownScript ?? null,
    other: d.other,
  };
}

/** keepalived's check_conf_file: the -f glob must name readable regular files. */
function mainFiles(path: string, host: KeepalivedHost, diags: Diagnostics): string[] | null {
  const g = glob(path, host.cwd, host.fs);
  const whole = { file: path, line: 0, col: 0 };
  const usable: string[] = [];
  for (const p of g.paths) {
    const real = resolvePath(host.cwd, p.replace(/\/$/, ''));
    const st = host.fs.stat(real);
    if (p.endsWith('/') || !st || st.kind !== 'file' || st.executable) {
      diags.report({ file: real, line: 0, col: 0 }, 'INCLUDE_NOT_FILE', 'OK', `Configuration file '${p}' is not a regular non-executable file - skipping`, { severity: 'warning' });
      continue;
    }
    const r = host.fs.readFile(real);
    if (!r.ok) {
      diags.report({ file: real, line: 0, col: 0 }, 'FILE_UNREADABLE', 'FILE_NOT_FOUND', `Unable to read configuration file ${p} (${r.errno})`);
      return null;
    }
    usable.push(real);
  }
  if (usable.length === 0) {
    diags.report(whole, 'FILE_UNREADABLE', 'FILE_NOT_FOUND', `Unable to find configuration file ${path}`, { expected: 'an existing, readable keepalived.conf' });
    return null;
  }
  if (usable.length > 1) diags.report(whole, 'DUPLICATE', 'MULTIPLE_FILES', `WARNING, multiple configuration file matches of ${path}, starting with ${usable[0]}`);
  return usable;
}

function dedupe(list: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of list) {
    const key = `${d.at ? `${d.at.file}:${d.at.line}:${d.at.col}` : '-'}|${d.code}|${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

export function loadKeepalivedConfig(path: string, options: LoadOptions = {}): LoadResult {
  const host = options.host ?? nodeKeepalivedHost();
  const configId = options.configId === undefined ? defaultConfigId(host.hostname) : options.configId;
  const diags = new Diagnostics();
  const paths = mainFiles(path, host, diags);
  if (!paths) return { ok: false, config: null, diagnostics: diags.list, exitCode: 4 };
  const preOpts = { fs: host.fs, configId, env: host.env, random: () => host.random() };
  const global: GlobalDraft = { other: new Map() };
  const topLevel = new Map<string, string[]>();

  // Pass 1: the parent process (global_defs and the top-level keywords it owns).
  const pre1 = new Preprocessor(preOpts, diags);
  pre1.open(paths);
  const ctx1 = new ParseCtx(diags, host, pre1, 'global', global, topLevel);
  new Walker(pre1, diags, ctx1).run(rootTable('global'), false, 0);
  if (pre1.blockDepth > 0) diags.report(null, 'MISSING_CLOSE_BRACE', 'MISSING_EOB', `There are ${pre1.blockDepth} missing '}'s or extra '{'s`, { expected: "a '}' for every '{'" });
  // keepalived stops after the parent's read on a missing parameter or a file error (see diagnostics.ts).
  let stop: 'missing-parameter' | 'file-error' | null = diags.missingParameter ? 'missing-parameter' : diags.fileError ? 'file-error' : null;

  // Pass 2: the checker and VRRP processes (everything else), with global_defs already known.
  const pre2 = new Preprocessor({ ...preOpts, fromCopy: true }, diags);
  pre2.open(paths);
  const ctx = new ParseCtx(diags, host, pre2, 'sections', global, topLevel);
  new Walker(pre2, diags, ctx).run(rootTable('sections'), false, 0);
  if (pre2.blockDepth > 0) diags.report(null, 'MISSING_CLOSE_BRACE', 'MISSING_EOB', `There are ${pre2.blockDepth} missing '}'s or extra '{'s`, { expected: "a '}' for every '{'" });

  const g = globalDefs(global, host.hostname);
  const lvs = validateLvs(ctx, g);
  if (lvs.virtualServers.length > 0) {
    const fifo: ScriptSpec[] = [g.notifyFifo?.script, g.lvsNotifyFifo?.script].filter((s): s is ScriptSpec => !!s);
    checkScriptSecurity(ctx, 'check', [...lvs.scripts, ...fifo].map((spec) => ({ spec })), g.enableScriptSecurity);
  }
  const vrrp = validateVrrp(ctx, g);
  let { vrrpScripts, instances, syncGroups } = vrrp;
  if (vrrp.scripts.length > 0) {
    // vrrp.c: check_vrrp_script_security drops disabled scripts and every reference to them.
    const disabled = checkScriptSecurity(ctx, 'vrrp', vrrp.scripts, g.enableScriptSecurity);
    if (disabled.size > 0) {
      vrrpScripts = vrrpScripts.filter((s) => !disabled.has(s.name));
      instances = instances.map((i) => ({ ...i, trackScripts: i.trackScripts.filter((t) => !disabled.has(t.name)) }));
      syncGroups = syncGroups.map((sg) => ({ ...sg, trackScripts: sg.trackScripts.filter((t) => !disabled.has(t.name)) }));
    }
  }
  const parentScripts = [g.startupScript, g.shutdownScript].filter((s): s is ScriptSpec => !!s);
  if (parentScripts.length > 0) checkScriptSecurity(ctx, 'parent', parentScripts.map((spec) => ({ spec })), g.enableScriptSecurity);

  const files = [...new Set([...pre1.files])];
  const config: KeepalivedConfig = {
    files,
    globalDefs: g,
    vrrpScripts,
    trackFiles: ctx.trackFiles.map((t) => ({ name: t.name, file: t.file!, weight: t.weight ?? 1, weightReverse: t.weightReverse ?? false, initFile: t.initFile ?? null, at: t.at })),
    trackProcesses: ctx.trackProcesses.map((p) => ({
      name: p.name, process: p.process!, params: p.params ?? [], paramMatch: p.paramMatch ?? null, weight: p.weight ?? 0,
      weightReverse: p.weightReverse ?? false, quorum: p.quorum ?? 1, quorumMax: p.quorumMax ?? 0, forkDelayUs: p.forkDelayUs ?? 0,
      terminateDelayUs: p.terminateDelayUs ?? 0, fullCommand: p.fullCommand ?? false, at: p.at,
    })),
    bfdInstances: ctx.bfdInstances.map((b) => ({ name: b.name, settings: b.settings, at: b.at })),
    vrrpSyncGroups: syncGroups,
    vrrpInstances: instances,
    garpGroups: ctx.garpGroups.map((x) => ({ garpIntervalUs: x.garpIntervalUs ?? null, gnaIntervalUs: x.gnaIntervalUs ?? null, interfaces: x.interfaces, at: x.at })),
    staticIpaddress: ctx.staticAddrs,
    staticRoutes: ctx.staticRoutes,
    staticRules: ctx.staticRules,
    virtualServerGroups: lvs.virtualServerGroups,
    virtualServers: lvs.virtualServers,
    ssl: ctx.ssl ? { password: ctx.ssl.password ?? null, ca: ctx.ssl.ca ?? null, certificate: ctx.ssl.certificate ?? null, key: ctx.ssl.key ?? null, at: ctx.ssl.at } : null,
    topLevel,
  };
  if (stop === null && diags.missingParameter) stop = 'missing-parameter';
  // Reading order: the parent's findings, then each section's, then the checks after reading.
  const list = dedupe(diags.list);
  return { ok: true, config, diagnostics: list, exitCode: configTestExitCode(list, stop) };
}
