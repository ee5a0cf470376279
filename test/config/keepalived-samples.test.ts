// keepvs -t's verdict equals keepalived's on keepalived's own sample configurations and on keepvs's
// edge cases (test/fixtures/keepalived). Three ways:
//  1. expected exit codes written down (measured with Debian's keepalived 2.2.7), on a fixed host,
//     so this runs anywhere;
//  2. against the real keepalived on this machine, when it is installed;
//  3. against the real keepalived inside a network namespace with eth0..eth3, when root.
// keepalived's verdict depends on the host (interfaces that exist, scripts found on disk), which is
// why the fixed host matters in (1) and both programs see the same host in (2) and (3).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadKeepalivedConfig } from '../../src/config/keepalived/load.ts';
import { memoryKeepalivedHost } from '../../src/config/keepalived/memory-host.ts';
import { nodeConfigFs } from '../../src/config/keepalived/host.ts';

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'keepalived');
const EDGE = join(FIXTURES, 'edge');
const ROOT = resolve(import.meta.dirname, '..', '..');

const SAMPLES = [...readdirSync(FIXTURES).filter((f) => f.startsWith('keepalived.conf')).map((f) => join(FIXTURES, f)),
  join(FIXTURES, 'etc', 'keepalived.conf'), join(FIXTURES, 'etc', 'keepalived.conf.sample.in')];
const EDGES = readdirSync(EDGE).filter((f) => f.endsWith('.conf')).map((f) => join(EDGE, f));

/** Files where keepvs deliberately differs from keepalived, and why. */
const DEVIATIONS: Record<string, { keepvs: number; keepalived: number; why: string }> = {
  'lvs-fullnat.conf': { keepvs: 0, keepalived: 5, why: 'FULLNAT is a keepvs extension keepalived refuses' },
};

/** Measured with keepalived 2.2.7 on a host with lo and eth0, no scripts but /bin/true. */
const SMALL_HOST: Record<string, number> = {
  'keepalived.conf.HTTP_GET.port': 0, 'keepalived.conf.IPv6': 0, 'keepalived.conf.PING_CHECK': 0, 'keepalived.conf.SMTP_CHECK': 0,
  'keepalived.conf.SSL_GET': 5, 'keepalived.conf.UDP_CHECK': 0, 'keepalived.conf.conditional_conf': 5, 'keepalived.conf.fwmark': 5,
  'keepalived.conf.inhibit': 0, 'keepalived.conf.misc_check': 0, 'keepalived.conf.misc_check_arg': 0, 'keepalived.conf.quorum': 0,
  'keepalived.conf.sample': 0, 'keepalived.conf.status_code': 0, 'keepalived.conf.track_interface': 5, 'keepalived.conf.virtual_server_group': 0,
  'keepalived.conf.virtualhost': 0, 'keepalived.conf.vrrp': 5, 'keepalived.conf.vrrp.localcheck': 5, 'keepalived.conf.vrrp.lvs_syncd': 5,
  'keepalived.conf.vrrp.routes': 5, 'keepalived.conf.vrrp.rules': 5, 'keepalived.conf.vrrp.scripts': 0, 'keepalived.conf.vrrp.static_ipaddress': 5,
  'keepalived.conf.vrrp.sync': 5, 'etc/keepalived.conf': 5, 'etc/keepalived.conf.sample.in': 5,
  'conditional.conf': 0, 'generators-bad.conf': 5, 'generators.conf': 0, 'global-values.conf': 5, 'include-check.conf': 6,
  'include-missing.conf': 6, 'include-partial-brace.conf': 6, 'include-relative.conf': 0, 'lexical-braces.conf': 5,
  'lexical-comments-quotes.conf': 5, 'lexical-unterminated.conf': 5, 'lvs-checkers-bad.conf': 5, 'lvs-defaults.conf': 5,
  'lvs-fixups.conf': 5, 'lvs-fullnat.conf': 0, 'lvs-missing-param.conf': 2, 'lvs-ok-full.conf': 5, 'lvs-values.conf': 5,
  'lvs-vsg-bad.conf': 5, 'params.conf': 0, 'scripts-check-security.conf': 6, 'scripts-missing-track.conf': 5, 'scripts-secured.conf': 0,
  'scripts-security.conf': 6, 'static.conf': 5, 'track-file.conf': 5, 'vrrp-bad.conf': 5, 'vrrp-fixups.conf': 5,
  'vrrp-interfaces.conf': 5, 'vrrp-ok.conf': 0, 'vrrp-unicast.conf': 5,
};

/** Measured with keepalived 2.2.7 in a namespace with lo and eth0..eth3, where killall exists. */
const BIG_HOST: Record<string, number> = {
  ...Object.fromEntries(Object.entries(SMALL_HOST).filter(([k]) => k.startsWith('keepalived.conf') || k.startsWith('etc/'))),
  'keepalived.conf.vrrp': 0, 'keepalived.conf.vrrp.sync': 0, 'keepalived.conf.vrrp.localcheck': 6,
};

function label(file: string): string {
  return file.startsWith(EDGE) ? file.slice(EDGE.length + 1) : file.slice(FIXTURES.length + 1);
}

test('expected keepalived -t exit codes on a host with lo and eth0 (no keepalived needed)', async (t) => {
  for (const file of [...SAMPLES, ...EDGES]) {
    await t.test(label(file), () => {
      const host = memoryKeepalivedHost({ fallback: nodeConfigFs(), interfaces: ['lo', 'eth0'], scripts: ['/bin/true'] });
      const r = loadKeepalivedConfig(file, { host });
      assert.equal(r.exitCode, SMALL_HOST[label(file)], r.diagnostics.map((d) => d.message).join('\n'));
    });
  }
});

test('expected exit codes on a host with eth0..eth3 where killall exists (interfaces change the verdict)', async (t) => {
  for (const file of SAMPLES) {
    await t.test(label(file), () => {
      const host = memoryKeepalivedHost({ fallback: nodeConfigFs(), interfaces: ['lo', 'eth0', 'eth1', 'eth2', 'eth3'], scripts: ['killall'] });
      assert.equal(loadKeepalivedConfig(file, { host }).exitCode, BIG_HOST[label(file)]);
    });
  }
});

function keepalivedPath(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v keepalived'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function keepalivedTest(prefix: readonly string[], file: string): number | null {
  const r = spawnSync(prefix[0] ?? 'keepalived', [...prefix.slice(1), ...(prefix.length ? ['keepalived'] : []), '-t', '-f', file], { encoding: 'utf8', timeout: 30_000 });
  return r.status;
}

test('the same verdict as keepalived -t on this machine', async (t) => {
  const k = keepalivedPath();
  if (!k) {
    t.skip('needs keepalived (apt-get install -y keepalived): not installed');
    return;
  }
  for (const file of [...SAMPLES, ...EDGES]) {
    await t.test(label(file), () => {
      const kc = keepalivedTest([], file);
      const mine = loadKeepalivedConfig(file).exitCode;
      const dev = DEVIATIONS[label(file)];
      if (dev) {
        assert.deepEqual([mine, kc], [dev.keepvs, dev.keepalived], dev.why);
        return;
      }
      assert.equal(mine, kc, `keepvs ${mine} vs keepalived ${kc} for ${file}`);
    });
  }
});

test('the same verdict as keepalived -t in a namespace with eth0..eth3', async (t) => {
  if (!keepalivedPath()) return t.skip('needs keepalived (apt-get install -y keepalived): not installed');
  if (process.getuid?.() !== 0) return t.skip('needs root: creates a network namespace');
  const ns = `kvs-conf-${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', ns]).status !== 0) return t.skip('needs network namespaces (ip netns add failed)');
  after(() => { spawnSync('ip', ['netns', 'del', ns]); });
  for (let i = 0; i < 4; i++) {
    if (spawnSync('ip', ['-n', ns, 'link', 'add', `eth${i}`, 'type', 'veth', 'peer', 'name', `kvsp${i}`]).status !== 0) {
      return t.skip('needs veth interfaces (ip link add type veth failed)');
    }
  }
  const files = [...SAMPLES, ...EDGES];
  // keepvs inside the namespace, in one process: /sys/class/net there lists the namespace's interfaces.
  const code = `import { loadKeepalivedConfig } from ${JSON.stringify(join(ROOT, 'src/config/keepalived/load.ts'))};
const files = ${JSON.stringify(files)};
console.log(JSON.stringify(files.map((f) => loadKeepalivedConfig(f).exitCode)));`;
  const node = join(ROOT, 'node_modules', '.bin', 'node');
  const r = spawnSync('ip', ['netns', 'exec', ns, node, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const mine = JSON.parse(r.stdout) as number[];
  for (const [i, file] of files.entries()) {
    await t.test(label(file), () => {
      const kc = keepalivedTest(['ip', 'netns', 'exec', ns], file);
      const dev = DEVIATIONS[label(file)];
      if (dev) assert.deepEqual([mine[i], kc], [dev.keepvs, dev.keepalived], dev.why);
      else assert.equal(mine[i], kc, `keepvs ${mine[i]} vs keepalived ${kc} for ${file}`);
    });
  }
});
