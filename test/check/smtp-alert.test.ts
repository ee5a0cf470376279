// smtp_alert (check/smtp-alert.ts) against keepalived's core/smtp.c and check_*.c: which events
// mail, their subject and body texts, the SMTP dialogue byte for byte, and the sender against a
// tiny SMTP server on 127.0.0.1 (success, a refused recipient, a dead server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HealthEvent } from '../../src/check/health-checker.ts';
import {
  type AlertSettings, alertFor, checkerAlertBody, rfc822Date, sendAlertMail, smtpDialogue, takeReply,
} from '../../src/check/smtp-alert.ts';
import { tinySmtp } from './smtp-server.ts';

const VS = '[10.0.0.1]:tcp:80';
const RS = '[10.0.1.1]:tcp:80';
const scope = { vs: (n: string) => n === VS, rs: (n: string, a: string) => n === VS && a === '10.0.1.1' };
const S = { routerId: 'lb1', noCheckerEmails: false };
const checker = (over: Partial<Extract<HealthEvent, { type: 'checker' }>>): HealthEvent => ({
  type: 'checker', vs: VS, rs: RS, checker: 'TCP_CHECK', up: false, result: null, checkerType: 'TCP_CHECK',
  address: '10.0.1.1', port: 80, rsWasAlive: true, rsAlive: false, ...over,
});
const quorum = (over: Partial<Extract<HealthEvent, { type: 'quorum-up' | 'quorum-down' }>>): HealthEvent => ({
  type: 'quorum-down', vs: VS, weightSum: 0, threshold: 1, init: false, stopping: false, quorum: 1, hysteresis: 0, ...over,
});

test('alertFor: the events that mail, with keepalived\'s subject and body', async (t) => {
  const rows: { desc: string; ev: HealthEvent; s?: typeof S; mail: [string, string] | null }[] = [
    { desc: 'TCP_CHECK fails, the server goes down', ev: checker({}), mail: [`[lb1] Realserver ${RS} of virtual server ${VS} - DOWN`, '=> TCP CHECK failed on service <='] },
    { desc: 'TCP_CHECK comes back', ev: checker({ up: true, rsWasAlive: false, rsAlive: true }), mail: [`[lb1] Realserver ${RS} of virtual server ${VS} - UP`, '=> TCP CHECK succeed on service <='] },
    { desc: 'HTTP_GET fails', ev: checker({ checkerType: 'HTTP_GET' }), mail: [`[lb1] Realserver ${RS} of virtual server ${VS} - DOWN`, '=> CHECK failed on service : HTTP/SSL request failed <='] },
    { desc: 'a second checker fails, the server was already down: still mailed', ev: checker({ rsWasAlive: false }), mail: [`[lb1] Realserver ${RS} of virtual server ${VS} - DOWN`, '=> TCP CHECK failed on service <='] },
    { desc: '... but not with no_checker_emails', ev: checker({ rsWasAlive: false }), s: { routerId: 'lb1', noCheckerEmails: true }, mail: null },
    { desc: 'a server without smtp_alert', ev: checker({ address: '10.0.1.2', rs: '[10.0.1.2]:tcp:80' }), mail: null },
    { desc: 'quorum lost', ev: quorum({}), mail: [`[lb1] Virtualserver ${VS} - DOWN`, '=> Lost quorum 1+0=1 <= 0 <='] },
    { desc: 'quorum up at start', ev: quorum({ type: 'quorum-up', init: true, weightSum: 3, quorum: 2, hysteresis: 1, threshold: 3 }), mail: [`[lb1] Virtualserver ${VS} - UP`, '=> Starting with quorum up 2+1=3 <= 3 <='] },
    { desc: 'quorum down at shutdown (omega)', ev: quorum({ stopping: true }), mail: [`[lb1] Virtualserver ${VS} - DOWN`, '=> Shutting down <='] },
    { desc: 'a server removed by a reload', ev: { type: 'rs-down', vs: VS, rs: RS, address: '10.0.1.1', port: 80, stopping: false, removed: true }, mail: [`[lb1] Realserver ${RS} of virtual server ${VS} - DOWN`, '=> Removing <='] },
    { desc: 'a plain rs-down (the checker event already mailed)', ev: { type: 'rs-down', vs: VS, rs: RS, address: '10.0.1.1', port: 80, stopping: false }, mail: null },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const m = alertFor(row.ev, scope, row.s ?? S);
      assert.deepEqual(m && [m.subject, m.body], row.mail);
    });
  }
  assert.equal(checkerAlertBody('MISC_CHECK', false, true), '=> MISC CHECK timed out on service <=');
  assert.equal(checkerAlertBody('PING_CHECK', true), '=> ICMP CHECK succeed on service <=');
  assert.equal(checkerAlertBody('DNS_CHECK', false), '=> DNS_CHECK: failed on service <=');
});

test('the SMTP dialogue and message, byte for byte', () => {
  const d = new Date(2026, 10, 24, 9, 5, 7);
  const steps = smtpDialogue({ from: 'Keepalived <ka@lb1.test>', to: ['ops@x.test', 'b@x.test'], helo: 'lb1' }, { subject: 'S', body: 'B' }, d);
  assert.deepEqual(steps.map((s) => [s.send, s.expect]), [
    [null, 220], ['HELO lb1\r\n', 250], ['MAIL FROM:<ka@lb1.test>\r\n', 250], ['RCPT TO:<ops@x.test>\r\n', 250], ['RCPT TO:<b@x.test>\r\n', 250],
    ['DATA\r\n', 354],
    [`Date: ${rfc822Date(d)}\r\nFrom: Keepalived <ka@lb1.test>\r\nSubject: S\r\nX-Mailer: Keepalived\r\nTo: ops@x.test,\r\n b@x.test\r\n\r\nB\r\n\r\n.\r\n`, 250],
    ['QUIT\r\n', 221],
  ]);
  assert.match(rfc822Date(d), /^Tue, 24 Nov 2026 09:05:07 [+-]\d{4}$/);
  assert.deepEqual(takeReply('250-a\r\n250-b\r\n251 c\r\nrest'), { code: 251, rest: 'rest' });
  assert.equal(takeReply('250-a\r\n250 b'), null, 'incomplete');
});

test('sendAlertMail against a tiny SMTP server on 127.0.0.1', async (t) => {
  const base = (port: number): AlertSettings => ({
    routerId: 'lb1', from: 'keepalived@lb1', to: ['ops@x.test'], server: { host: '127.0.0.1', port }, helo: 'lb1', connectTimeoutMs: 2000, noCheckerEmails: false,
  });
  await t.test('delivered', async () => {
    const srv = await tinySmtp();
    try {
      const o = await sendAlertMail(base(srv.port), { subject: '[lb1] Virtualserver x - UP', body: '=> Gained quorum 1+0=1 <= 1 <=' });
      assert.deepEqual(o, { sent: true });
      assert.deepEqual(srv.received.filter((l) => !l.startsWith('Date:')), ['HELO lb1', 'MAIL FROM:<keepalived@lb1>', 'RCPT TO:<ops@x.test>', 'DATA', 'QUIT']);
      assert.match(srv.messages[0], /\r\nSubject: \[lb1\] Virtualserver x - UP\r\nX-Mailer: Keepalived\r\nTo: ops@x.test\r\n\r\n=> Gained quorum 1\+0=1 <= 1 <=\r\n\r\n\.\r\n$/);
    } finally {
      await srv.close();
    }
  });
  await t.test('a refused recipient: QUIT, and the reason in keepalived\'s words', async () => {
    const srv = await tinySmtp({ RCPT: 550 });
    try {
      const o = await sendAlertMail(base(srv.port), { subject: 's', body: 'b' });
      assert.deepEqual(o, { sent: false, reason: `Error processing RCPT cmd on SMTP server [127.0.0.1]:${srv.port}. SMTP status code = 550` });
      assert.deepEqual(srv.received, ['HELO lb1', 'MAIL FROM:<keepalived@lb1>', 'RCPT TO:<ops@x.test>', 'QUIT']);
    } finally {
      await srv.close();
    }
  });
  await t.test('nobody listening: an error, no throw', async () => {
    const srv = await tinySmtp();
    const port = srv.port;
    await srv.close();
    const o = await sendAlertMail(base(port), { subject: 's', body: 'b' });
    assert.equal(o.sent, false);
    assert.match((o as { reason: string }).reason, /^SMTP connection ERROR to \[127\.0\.0\.1\]:\d+: ECONNREFUSED$/);
  });
});
