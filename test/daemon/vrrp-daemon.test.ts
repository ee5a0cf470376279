// keepvs -f with a vrrp_instance: the daemon runs VRRP from the same file, becomes MASTER (address
// owner, priority 255), adds the VIP, and on SIGTERM sends priority 0 and removes it again
// (keepalived's release on stop). Runs in its own network namespace; needs root and ip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canRun, ip, spawnKeepvs, until, vethNamespace } from './vrrp-ns-harness.ts';


test('keepvs -f runs the file\'s vrrp_instance: MASTER adds the VIP, SIGTERM releases it', async (t) => {
  const why = canRun();
  if (why) { t.skip(why); return; }
  const ns = `kvvd${process.pid}`;
  const dir = vethNamespace(t, ns, '198.18.7.1/24', 'keepvs-vrrp-');
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(conf, `
vrrp_instance VI_1 {
  state MASTER
  interface v0
  virtual_router_id 61
  priority 255
  advert_int 1
  virtual_ipaddress {
    198.18.7.100/24
  }
}
`);
  const { child, log: out, exited } = spawnKeepvs(t, ns, dir, conf);
  const hasVip = () => ip('-n', ns, '-4', 'addr', 'show', 'dev', 'v0').includes('198.18.7.100/24');
  await until('the VIP on v0', hasVip, 8000);
  assert.match(out(), /\(VI_1\) Entering MASTER STATE/);
  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
  assert.equal(code, 0, out());
  assert.equal(hasVip(), false, 'the VIP is released on stop');
  assert.match(out(), /\(VI_1\) sent 0 priority/);
});
