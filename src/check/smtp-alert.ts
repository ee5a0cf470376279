// smtp_alert for the checkers: the mail keepalived's checker process sends when a real server's
// checker changes state, when a virtual server gains or loses its quorum, and when a real server is
// removed or shut down (keepalived/core/smtp.c: smtp_alert and its SMTP dialogue;
// check/check_{tcp,http,smtp,dns,udp,ping,misc}.c: the body of each checker's alert;
// check/ipwrapper.c: do_vs_notifies, clear_service_rs).
//
// Which events mail (all need notification_email and smtp_server in global_defs):
// - a checker going up or down, if its real server has smtp_alert and either the real server's
//   own state changed or global_defs has no no_checker_emails. Subject
//   "[router_id] Realserver [rip]:proto:port of virtual server VS - UP|DOWN" (the server's state
//   after the change), body as the checker type says ("=> TCP CHECK failed on service <=", ...).
// - a quorum change of a virtual server with smtp_alert: "[router_id] Virtualserver VS - UP|DOWN",
//   body "=> Gained quorum 1+0=1 <= 2 <=" (quorum+hysteresis=threshold <= live weight; the same
//   shape for "Lost quorum", "Starting with quorum up/down"), or "=> Shutting down <=".
// - a real server removed by a reload or shut down (omega), if it has smtp_alert: subject as a
//   checker's with DOWN, body "=> Removing <=" or "=> Shutting down <=".
//
// The dialogue (smtp.c): wait for 220, HELO (250), MAIL FROM (250), one RCPT TO per address
// (250 each), DATA (354), the message ending in "\r\n.\r\n" (250), QUIT (221). A reply is its last
// line (lines with '-' after the code continue it). Any other code: log it, send QUIT, stop. Every
// wait is bounded by smtp_connect_timeout. Each mail is its own connection, as in keepalived.
import net from 'node:net';
import type { HealthEvent } from './health-checker.ts';
import type { CheckerSpec } from './spec.ts';

export interface AlertSettings {
  readonly routerId: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly server: { readonly host: string; readonly port: number } | null;
  readonly helo: string;
  readonly connectTimeoutMs: number;
  /** global_defs no_checker_emails: only mail checker changes that change the real server. */
  readonly noCheckerEmails: boolean;
}

/** Which virtual servers and real servers ("vs name" and "vs name|address|port") have smtp_alert. */
export interface AlertScope {
  vs(vsName: string): boolean;
  rs(vsName: string, address: string, port: number): boolean;
}

export interface AlertMail {
  readonly subject: string;
  readonly body: string;
}

/** Each checker's alert text, per check_*.c. MISC_CHECK says how the script ended. */
export function checkerAlertBody(type: CheckerSpec['type'], up: boolean, timedOut = false): string {
  switch (type) {
    case 'TCP_CHECK': return `=> TCP CHECK ${up ? 'succeed' : 'failed'} on service <=`;
    case 'UDP_CHECK': return `=> UDP CHECK ${up ? 'succeed' : 'failed'} on service <=`;
    case 'PING_CHECK': return `=> ICMP CHECK ${up ? 'succeed' : 'failed'} on service <=`;
    case 'DNS_CHECK': return `=> DNS_CHECK: ${up ? 'succeed' : 'failed'} on service <=`;
    case 'HTTP_GET':
    case 'SSL_GET': return up ? '=> CHECK succeed on service <=' : '=> CHECK failed on service : HTTP/SSL request failed <=';
    case 'SMTP_CHECK': return up ? '=> CHECK succeed on service <=' : '=> CHECK failed on service <=';
    case 'MISC_CHECK': return `=> MISC CHECK ${up ? 'succeeded' : timedOut ? 'timed out' : 'failed'} on service <=`;
    default: return `=> ${type} ${up ? 'succeeded' : 'failed'} on service <=`;
  }
}

/** The mail an event calls for, or null. Pure. */
export function alertFor(ev: HealthEvent, scope: AlertScope, s: Pick<AlertSettings, 'routerId' | 'noCheckerEmails'>): AlertMail | null {
  const rsSubject = (rs: string, vs: string, state: string): string => `[${s.routerId}] Realserver ${rs} of virtual server ${vs} - ${state}`;
  switch (ev.type) {
    case 'checker': {
      if (ev.address === undefined || ev.port === undefined || !ev.checkerType) return null;
      if (!scope.rs(ev.vs, ev.address, ev.port)) return null;
      if (ev.rsWasAlive === ev.rsAlive && s.noCheckerEmails) return null;
      const timedOut = ev.result?.code === 'PROCTOUT';
      return { subject: rsSubject(ev.rs, ev.vs, ev.rsAlive ? 'UP' : 'DOWN'), body: checkerAlertBody(ev.checkerType, ev.up, timedOut) };
    }
    case 'rs-down':
      if (!ev.removed || !scope.rs(ev.vs, ev.address, ev.port)) return null;
      return { subject: rsSubject(ev.rs, ev.vs, 'DOWN'), body: ev.stopping ? '=> Shutting down <=' : '=> Removing <=' };
    case 'quorum-up':
    case 'quorum-down': {
      if (!scope.vs(ev.vs)) return null;
      const up = ev.type === 'quorum-up';
      const subject = `[${s.routerId}] Virtualserver ${ev.vs} - ${up ? 'UP' : 'DOWN'}`;
      if (ev.stopping) return { subject, body: '=> Shutting down <=' };
      const what = up ? (ev.init ? 'Starting with quorum up' : 'Gained quorum') : ev.init ? 'Starting with quorum down' : 'Lost quorum';
      return { subject, body: `=> ${what} ${ev.quorum}+${ev.hysteresis}=${ev.threshold} <= ${ev.weightSum} <=` };
    }
    default:
      return null;
  }
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** strftime "%a, %d %b %Y %H:%M:%S %z" in local time (smtp.c: body_cmd's RFC 822 date). */
export function rfc822Date(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${DAYS[d.getDay()]}, ${pad(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/** "<addr>" for MAIL FROM / RCPT TO: a trailing "<...>" as written, else the address in brackets. */
function envelope(addr: string): string {
  const lt = addr.lastIndexOf('<');
  return addr.endsWith('>') && lt >= 0 ? addr.slice(lt) : `<${addr}>`;
}

export interface SmtpStep {
  /** What we send first (null: only wait for the greeting). */
  readonly send: string | null;
  readonly expect: number;
  /** keepalived's name for the command in its error message. */
  readonly name: string;
}

/** The whole dialogue for one mail, in order. Pure. */
export function smtpDialogue(s: Pick<AlertSettings, 'from' | 'to' | 'helo'>, mail: AlertMail, date: Date): SmtpStep[] {
  const to = s.to.map((a, i) => `${i === 0 ? '' : ',\r\n'} ${a}`).join('');
  const message = `Date: ${rfc822Date(date)}\r\nFrom: ${s.from}\r\nSubject: ${mail.subject}\r\nX-Mailer: Keepalived\r\nTo:${to}\r\n\r\n${mail.body}\r\n\r\n.\r\n`;
  return [
    { send: null, expect: 220, name: '(E)SMTP' },
    { send: `HELO ${s.helo}\r\n`, expect: 250, name: 'HELO' },
    { send: `MAIL FROM:${envelope(s.from)}\r\n`, expect: 250, name: 'MAIL' },
    ...s.to.map((a) => ({ send: `RCPT TO:${envelope(a)}\r\n`, expect: 250, name: 'RCPT' })),
    { send: 'DATA\r\n', expect: 354, name: 'DATA' },
    { send: message, expect: 250, name: 'BODY' },
    { send: 'QUIT\r\n', expect: 221, name: 'QUIT' },
  ];
}

/**
 * The code of the first complete reply in `buf` and what follows it, or null while incomplete.
 * A line whose fourth character is '-' continues the reply (RFC 5321 4.2.1).
 */
export function takeReply(buf: string): { code: number; rest: string } | null {
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return null;
    const line = buf.slice(at, eol);
    at = eol + 2;
    if (line[3] === '-') continue;
    const code = Number.parseInt(line.slice(0, 3), 10);
    return { code: Number.isNaN(code) ? -1 : code, rest: buf.slice(at) };
  }
}

export type MailOutcome = { readonly sent: true } | { readonly sent: false; readonly reason: string };

/** keepalived's FMT_SMTP_HOST: "[host]:port". */
const hostText = (h: { host: string; port: number }): string => `[${h.host}]:${h.port}`;

/** Send one mail; resolves with the outcome (and never rejects). */
export function sendAlertMail(s: AlertSettings, mail: AlertMail, date = new Date()): Promise<MailOutcome> {
  const server = s.server;
  if (!server || s.to.length === 0) return Promise.resolve({ sent: false, reason: 'no smtp_server or notification_email' });
  const steps = smtpDialogue(s, mail, date);
  return new Promise((resolve) => {
    const sock = net.connect({ host: server.host, port: server.port });
    let i = 0;
    let buf = '';
    let outcome: MailOutcome | null = null;
    let quitting = false;
    const finish = (o: MailOutcome): void => {
      outcome ??= o;
      sock.destroy();
    };
    sock.setTimeout(s.connectTimeoutMs, () => finish({ sent: false, reason: `Timeout reading data to remote SMTP server ${hostText(server)}.` }));
    sock.on('error', (e) => finish({ sent: false, reason: `SMTP connection ERROR to ${hostText(server)}: ${(e as NodeJS.ErrnoException).code ?? e.message}` }));
    sock.on('close', () => resolve(outcome ?? { sent: false, reason: `Remote SMTP server ${hostText(server)} has closed the connection.` }));
    sock.setEncoding('latin1');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (let r = takeReply(buf); r; r = takeReply(buf)) {
        buf = r.rest;
        if (quitting) return finish(outcome ?? { sent: false, reason: 'quit' });
        const step = steps[i];
        if (r.code !== step.expect) {
          outcome = { sent: false, reason: `Error processing ${step.name} cmd on SMTP server ${hostText(server)}. SMTP status code = ${r.code}` };
          quitting = true;
          sock.write('QUIT\r\n');
          return;
        }
        if (step.name === 'QUIT') return finish(outcome ?? { sent: true });
        if (step.name === 'BODY') outcome = { sent: true };
        i++;
        sock.write(steps[i].send!);
      }
    });
  });
}

/** Follows a HealthChecker's events and mails what keepalived would (log says what became of each). */
export class CheckerAlerts {
  readonly #s: AlertSettings;
  readonly #scope: AlertScope;
  readonly #log: (message: string) => void;
  readonly #send: typeof sendAlertMail;
  /** Mails in flight (tests wait for them). */
  readonly pending = new Set<Promise<MailOutcome>>();

  constructor(s: AlertSettings, scope: AlertScope, log: (message: string) => void, send: typeof sendAlertMail = sendAlertMail) {
    this.#s = s;
    this.#scope = scope;
    this.#log = log;
    this.#send = send;
  }

  on(ev: HealthEvent): void {
    const mail = alertFor(ev, this.#scope, this.#s);
    if (!mail) return;
    const p = this.#send(this.#s, mail).then((o) => {
      if (!o.sent) this.#log(`SMTP alert "${mail.subject}" not sent: ${o.reason}`);
      return o;
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
