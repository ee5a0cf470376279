// smtp_alert through keepvs -f (daemon/config.ts): a real server's checker failing, and a reload
// removing an alive one, each mail what keepalived sends, to a tiny SMTP server on 127.0.0.1.
// The checkers run on an injected clock; the mail goes over a real loopback socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { started, vs, rs } from './health-harness.ts';
import { tinySmtp, type TinySmtp } from '../check/smtp-server.ts';

/** Wait (at most 3 s) until the server holds n messages. */
async function messages(srv: TinySmtp, n: number): Promise<string[]> {
  for (let i = 0; i < 60 && srv.messages.length < n; i++) await sleep(50);
  return srv.messages.map((m) => m.split('\r\n').filter((l) => l.startsWith('Subject:') || l.startsWith('=>')).join(' | '));
}

test('smtp_alert: a failing checker and a reload that removes a server each send keepalived\'s mail', async (t) => {
  const srv = await tinySmtp();
  t.after(() => srv.close());
  const g = `global_defs {\n  router_id lb1\n  notification_email {\n    ops@x.test\n  }\n  notification_email_from keepalived@lb1\n  smtp_server 127.0.0.1 ${srv.port}\n  smtp_connect_timeout 3\n}\n`;
  const h = await started(g + vs([rs(1), rs(2)].join('\n'), '  smtp_alert'));
  try {
    h.answers.set('10.0.1.1:80', 'L4CON');
    await h.advance(1000);
    assert.deepEqual((await messages(srv, 2)).sort(), [
      'Subject: [lb1] Realserver [10.0.1.1]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN | => TCP CHECK failed on service <=',
      'Subject: [lb1] Virtualserver [10.0.0.1]:tcp:80 - UP | => Starting with quorum up 1+0=1 <= 2 <=',
    ], 'each mail is its own connection, so they may arrive in any order');
    const r = await h.reload(g + vs(rs(1), '  smtp_alert'));
    assert.ok(r.ok, r.message);
    // The reload leaves no live weight: the old virtual server's quorum_down mail, then the kept
    // one starts with quorum down — keepalived sends both (ipwrapper.c: update_vs_notifies, then
    // update_quorum_state at init).
    assert.deepEqual((await messages(srv, 5)).slice(2).sort(), [
      'Subject: [lb1] Realserver [10.0.1.2]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN | => Removing <=',
      'Subject: [lb1] Virtualserver [10.0.0.1]:tcp:80 - DOWN | => Lost quorum 1+0=1 <= 0 <=',
      'Subject: [lb1] Virtualserver [10.0.0.1]:tcp:80 - DOWN | => Starting with quorum down 1+0=1 <= 0 <=',
    ]);
  } finally {
    h.runner.stop();
  }
});
