// keepvs -f with global_defs `checker_probe_close` and a checker's `probe_close` (keepvs extension):
// the mode chosen in the file reaches the connector each TCP_CHECK / HTTP_GET probes through, at start
// and after a SIGHUP reload (src/daemon/config.ts ConfigRunner → HealthChecker). The connectors are
// fakes that record the mode they were made for; which mode ends a real connection with an RST or a
// FIN is proved against a loopback server in tcp-connect.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Director } from '../../src/core/director.ts';
import { memoryKeepalivedHost } from '../../src/config/keepalived/memory-host.ts';
import { ConfigRunner } from '../../src/daemon/config.ts';
import type { Logger } from '../../src/daemon/log.ts';
import type { ConnectOptions, ProbeClose, TcpConnector } from '../../src/sys/tcp-connect.ts';
import { FakePlane } from '../api/fake-plane.ts';
import { ManualClock } from './fake-clock.ts';

const CONF = '/etc/keepalived/keepalived.conf';

const conf = (global: string, rs3: string) => `
global_defs {
${global}
}
virtual_server 127.0.0.1 80 {
  protocol TCP
  lb_algo rr
  lb_kind NAT
  delay_loop 1
  real_server 127.0.0.2 80 {
    TCP_CHECK {
    }
  }
  real_server 127.0.0.3 80 {
    TCP_CHECK {
${rs3}
    }
  }
  real_server 127.0.0.4 80 {
    HTTP_GET {
      probe_close graceful
      url {
        path /
      }
    }
  }
}
`;

const rows: ReadonlyArray<{ desc: string; global: string; rs3: string; want: Readonly<Record<string, ProbeClose>> }> = [
  {
    desc: 'no keyword: reset, a checker\'s own graceful wins', global: '', rs3: '',
    want: { '127.0.0.2': 'reset', '127.0.0.3': 'reset', '127.0.0.4': 'graceful' },
  },
  {
    desc: 'checker_probe_close graceful, one TCP_CHECK says reset', global: '  checker_probe_close graceful', rs3: '      probe_close reset',
    want: { '127.0.0.2': 'graceful', '127.0.0.3': 'reset', '127.0.0.4': 'graceful' },
  },
];

function harness(text: string) {
  const clock = new ManualClock();
  const files: Record<string, string> = { [CONF]: text };
  const host = memoryKeepalivedHost({
    files: new Proxy({}, {
      get: (_t, p) => files[p as string], has: (_t, p) => (p as string) in files, ownKeys: () => Object.keys(files),
      getOwnPropertyDescriptor: (_t, p) => ({ enumerable: true, configurable: true, value: files[p as string] }),
    }),
  });
  const logs: string[] = [];
  const log = (l: string) => (m: string) => { logs.push(`${l}: ${m}`); };
  const logger: Logger = { log: (l, m) => logs.push(`${l}: ${m}`), error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
  /** address → the close modes of the connectors it was probed through, in order. */
  const probed = new Map<string, ProbeClose[]>();
  const made: ProbeClose[] = [];
  let closed = 0;
  const createConnector = ({ close }: { readonly close: ProbeClose }): TcpConnector => {
    made.push(close);
    const seen = (o: ConnectOptions) => { probed.set(o.address, [...(probed.get(o.address) ?? []), close]); };
    return {
      connect: (o) => { seen(o); return Promise.resolve({ verdict: 'connected', detail: '' }); },
      exchange: (o) => {
        seen(o);
        const answer = new TextEncoder().encode('HTTP/1.0 200 OK\r\n\r\n');
        return Promise.resolve({ verdict: 'done', phase: 'response', chunks: [answer], detail: '' });
      },
      close: () => { closed++; },
    };
  };
  const runner = new ConfigRunner({
    director: new Director(), plane: new FakePlane(), log: logger, host, now: () => clock.now(),
    checker: { clock, random: () => 0, createConnector },
  });
  const last = (): Record<string, ProbeClose> => Object.fromEntries([...probed].map(([a, m]) => [a, m[m.length - 1]]));
  return { clock, files, runner, logs, probed, made, last, closedCount: () => closed };
}

for (const row of rows) {
  test(`keepvs -f probe close: ${row.desc}`, async () => {
    const h = harness(conf(row.global, row.rs3));
    try {
      const r = await h.runner.start(CONF);
      assert.ok(r.ok, `${r.message}\n${h.logs.join('\n')}`);
      await h.clock.advance(5000);
      assert.deepEqual(h.last(), row.want, h.logs.join('\n'));
      // One connector per mode in use, not one per checker.
      assert.deepEqual([...h.made].sort(), [...new Set(Object.values(row.want))].sort());
    } finally {
      h.runner.stop();
    }
  });
}

test('keepvs -f probe close: a SIGHUP reload applies the new mode; the old checker\'s connectors are closed', async () => {
  const h = harness(conf('', ''));
  try {
    assert.ok((await h.runner.start(CONF)).ok);
    await h.clock.advance(5000);
    assert.deepEqual(h.last(), { '127.0.0.2': 'reset', '127.0.0.3': 'reset', '127.0.0.4': 'graceful' });
    h.files[CONF] = conf('  checker_probe_close graceful', '      probe_close reset');
    const r = await h.runner.reload(CONF);
    assert.ok(r.ok, `${r.message}\n${h.logs.join('\n')}`);
    assert.equal(h.closedCount(), 2, 'the retired checker closed both of its connectors');
    h.probed.clear();
    await h.clock.advance(5000);
    assert.deepEqual(h.last(), { '127.0.0.2': 'graceful', '127.0.0.3': 'reset', '127.0.0.4': 'graceful' });
    // A bad value is an error with its place: the reload is refused and the running modes stay.
    h.files[CONF] = conf('  checker_probe_close sometimes', '');
    const bad = await h.runner.reload(CONF);
    assert.equal(bad.ok, false);
    assert.ok(h.logs.some((l) => l.includes("keepalived.conf:3:23: error: Invalid checker_probe_close 'sometimes' - ignoring")), h.logs.join('\n'));
    assert.equal(h.runner.status().stale, true);
    h.probed.clear();
    await h.clock.advance(5000);
    assert.deepEqual(h.last(), { '127.0.0.2': 'graceful', '127.0.0.3': 'reset', '127.0.0.4': 'graceful' });
  } finally {
    h.runner.stop();
  }
});
