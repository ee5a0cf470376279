// keepvs -f, then SIGHUP with changed vrrp_instance blocks: the daemon reloads VRRP as keepalived does
// (docs/vrrp.md, "Reload"): the kept MASTER stays MASTER (no second "Entering MASTER STATE") and adds
// its new address, the removed instance resigns and its address goes, the new instance starts and
// takes its address; the proxy data plane opens and closes the services on those addresses with them. Runs in its own network namespace (prefix kpd); needs root and ip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canRun, ip, spawnKeepvs, until, vethNamespace } from './vrrp-ns-harness.ts';


const virtualServer = (vip: string) => `
virtual_server ${vip} 45081 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 198.18.8.1 45091 {
    weight 1
  }
}
`;

const instance = (name: string, vrid: number, vips: string[]) => `
vrrp_instance ${name} {
  state MASTER
  interface v0
  virtual_router_id ${vrid}
  priority 255
  advert_int 1
  virtual_ipaddress {
${vips.map((v) => `    ${v}/24`).join('\n')}
  }
}
`;

test('SIGHUP reloads the VRRP blocks: kept MASTER keeps its state and adds its new VIP, removed instance resigns, new one starts', async (t) => {
  const why = canRun();
  if (why) { t.skip(why); return; }
  const ns = `kpdr${process.pid % 100000}`;
  const dir = vethNamespace(t, ns, '198.18.8.1/24', 'kpd-reload-');
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(conf, instance('VI_1', 71, ['198.18.8.100']) + instance('VI_2', 72, ['198.18.8.110']) + virtualServer('198.18.8.110'));
  const { child, log, exited } = spawnKeepvs(t, ns, dir, conf);
  const listening = (a: string) => execFileSync('ip', ['netns', 'exec', ns, 'ss', '-Hltn', 'sport = :45081'], { encoding: 'utf8' }).includes(`${a}:45081`);
  const has = (a: string) => ip('-n', ns, '-4', 'addr', 'show', 'dev', 'v0').includes(`${a}/24`);
  await until('both VIPs', () => has('198.18.8.100') && has('198.18.8.110'), 8000, log);
  // main.ts acts on SIGHUP only once startDaemon has returned (just after the control API listens).
  await until('the control API', () => /Control API listening/.test(log()), 8000, log);
  await new Promise((r) => setTimeout(r, 300));

  await until('the listener on VI_2\'s VIP', () => listening('198.18.8.110'), 8000, log);
  writeFileSync(conf, instance('VI_1', 71, ['198.18.8.100', '198.18.8.101']) + instance('VI_3', 73, ['198.18.8.120']) + virtualServer('198.18.8.101'));
  child.kill('SIGHUP');
  await until('the reload', () => has('198.18.8.101') && !has('198.18.8.110') && has('198.18.8.120'), 8000, log);
  assert.ok(has('198.18.8.100'), 'the kept address stays');
  assert.equal(log().match(/\(VI_1\) Entering MASTER STATE/g)?.length, 1, `VI_1 did not go through an election again\n${log()}`);
  assert.match(log(), /\(VI_2\) removed by the reload/);
  assert.match(log(), /\(VI_2\) sent 0 priority/);
  assert.match(log(), /\(VI_3\) Entering MASTER STATE/);
  assert.match(log(), /Reload finished/);
  // The data plane follows: the new service listens once VI_1 holds its new address; the old one is gone.
  await until('the listener on the new VIP', () => listening('198.18.8.101') && !listening('198.18.8.110'), 8000, log);
  assert.doesNotMatch(log(), /cannot listen/);

  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
  assert.equal(code, 0, log());
  for (const a of ['198.18.8.100', '198.18.8.101', '198.18.8.120']) assert.equal(has(a), false, `${a} released on stop`);
});
