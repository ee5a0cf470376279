// What one check attempt reports. The codes name the layer that answered, in the style of HAProxy's
// check status (L4 = transport, L6 = TLS, L7 = application), so logs and metrics can count why a
// real server failed; keepalived itself only logs free text for these cases.

export const CHECK_CODES = {
  L4OK: 'transport connected (or the datagram was not refused)',
  L4TOUT: 'transport timed out (connect, or no reply within connect_timeout)',
  L4CON: 'transport refused or reset (RST, ICMP unreachable, network unreachable)',
  L6OK: 'TLS handshake done',
  L6TOUT: 'TLS handshake timed out',
  L6RSP: 'TLS handshake failed',
  L7OK: 'application answered as required',
  L7TOUT: 'application did not answer within connect_timeout',
  L7RSP: 'application answered something unusable (no data, bad protocol, wrong reply bytes)',
  L7STS: 'application answered with a status that is not accepted (HTTP status_code, SMTP code, DNS rcode)',
  L7DIGEST: 'HTTP body MD5 differs from digest',
  L7REGEX: 'HTTP body does not match regex (or matches with regex_no_match)',
  PROCOK: 'MISC_CHECK script exited 0 (or 2..255 with misc_dynamic)',
  PROCERR: 'MISC_CHECK script exited non-zero or was killed by a signal',
  PROCTOUT: 'MISC_CHECK script ran past misc_timeout and was terminated',
  SOCKERR: 'the checker could not set up its socket or process (bind, bind_if, fwmark, permission)',
  ABORTED: 'the check was cancelled (shutdown or reload)',
} as const;

export type CheckCode = keyof typeof CHECK_CODES;

export interface CheckResult {
  readonly ok: boolean;
  readonly code: CheckCode;
  readonly message: string;
  readonly durationMs: number;
  /** MISC_CHECK with misc_dynamic: the weight the exit status asks for (exit - 2). */
  readonly weight?: number;
  /** MISC_CHECK: the exit status, kept as keepalived keeps last_exit_code. */
  readonly exitCode?: number;
}

export function checkResult(ok: boolean, code: CheckCode, message: string, startedAt: number, extra: Partial<CheckResult> = {}): CheckResult {
  return { ok, code, message, durationMs: Math.max(0, performance.now() - startedAt), ...extra };
}
