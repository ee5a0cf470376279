// Shared connect-failure classification for the stream checkers (TCP, HTTP/SSL, SMTP): which
// errno is a failed check and which is keepalived's "socket/bind failed, rescheduling" (no
// verdict; lib/layer4.c: tcp_bind_connect returns connect_error for bind problems).
import type { CheckTarget } from './spec.ts';
import { type CheckResult, checkResult } from './result.ts';

const SETUP_ERRORS = new Set(['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE', 'EINVAL', 'EAFNOSUPPORT', 'ENODEV']);

export function connectFailure(e: NodeJS.ErrnoException, started: number): CheckResult {
  const code = e.code ?? 'EIO';
  if (code === 'ETIMEDOUT') return checkResult(false, 'L4TOUT', `connect: ${code}`, started);
  if (SETUP_ERRORS.has(code)) return checkResult(false, 'SOCKERR', `socket setup: ${code}`, started);
  return checkResult(false, 'L4CON', `connect: ${code}`, started);
}

/**
 * bind_if (SO_BINDTODEVICE) and fwmark (SO_MARK) need socket options Node's net and dgram do not
 * set; until src/sys grows them, such checkers report SOCKERR (no verdict) instead of silently
 * ignoring the key.
 */
export function unsupportedOption(target: CheckTarget, started: number): CheckResult | null {
  if (target.bindIf) return checkResult(false, 'SOCKERR', `bind_if ${target.bindIf} is not supported yet`, started);
  if (target.fwmark) return checkResult(false, 'SOCKERR', `fwmark ${target.fwmark} is not supported yet`, started);
  return null;
}
