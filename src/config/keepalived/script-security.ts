// keepalived's script-security check (lib/notify.c: check_script_secure; vrrp.c:
// check_vrrp_script_security; check_data.c: check_check_script_security; main.c for
// startup/shutdown scripts). A script that is found on disk makes keepalived insist on
// `enable_script_security` in global_defs: without it -t reports CONFIG_SECURITY_ERROR and exits 6.
// A command that only tests a file ("</dev/tcp/...") is not a script. A track script that cannot be
// found is disabled and reported; other missing scripts are only logged.
import type { ParseCtx } from './keywords/context.ts';
import type { ScriptSpec } from './model.ts';

export type ScriptOwner = 'vrrp' | 'check' | 'parent';

const WHO: Record<ScriptOwner, string> = {
  vrrp: 'scripts are being executed',
  check: 'check scripts are being executed',
  parent: 'start/shutdown scripts are being executed',
};

/** Returns the names of track scripts keepalived would disable. */
export function checkScriptSecurity(c: ParseCtx, owner: ScriptOwner, scripts: readonly { spec: ScriptSpec; trackScript?: string | null }[], enabled: boolean): Set<string> {
  let isScript = false;
  let insecure = false;
  const disabled = new Set<string>();
  for (const { spec, trackScript } of scripts) {
    const r = c.host.lookupScript(spec.args[0]);
    if (r.kind === 'system') continue;
    if (r.kind === 'notfound') {
      if (trackScript) {
        c.report(spec.at, `Disabling track script ${trackScript} since not found/accessible`, { code: 'SCRIPT', keyword: 'script', expected: 'an executable file (a bare name is searched in PATH)' });
        disabled.add(trackScript);
      } else {
        c.report(spec.at, `script ${spec.args[0]} not found - it will not be run`, { code: 'SCRIPT', klass: 'OK', severity: 'warning' });
      }
      continue;
    }
    isScript = true;
    if (r.insecure) {
      insecure = true;
      if (enabled && trackScript) {
        c.report(spec.at, `Disabling track script ${trackScript} due to insecure`, { code: 'SCRIPT', keyword: 'script', expected: 'a script in root-owned directories not writable by others' });
        disabled.add(trackScript);
      }
    }
  }
  if (!enabled && isScript) {
    c.report(null, `SECURITY VIOLATION - ${WHO[owner]} but script_security not enabled.${insecure ? ' There are insecure scripts.' : ''}`,
      { code: 'SCRIPT_SECURITY', klass: 'SECURITY_ERROR', keyword: 'enable_script_security', expected: 'enable_script_security in global_defs' });
  }
  return disabled;
}
