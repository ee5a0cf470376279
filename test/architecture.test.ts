// The import rule of DESIGN.md, enforced: core ← config ← {check, vrrp, dataplane} ← api ← daemon;
// sys is a leaf used by check, vrrp, dataplane and daemon; cli → config, core, api client;
// check, vrrp and dataplane never import each other; ui imports nothing server-side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';

const SRC = resolve(import.meta.dirname, '..', 'src');

/** Which rooms each room may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  config: ['core'],
  check: ['core', 'config', 'sys'],
  vrrp: ['core', 'config', 'sys'],
  dataplane: ['core', 'config', 'sys'],
  sys: [],
  api: ['core', 'config', 'dataplane', 'check', 'vrrp'],
  daemon: ['core', 'config', 'check', 'vrrp', 'dataplane', 'sys', 'api', 'cli'],
  cli: ['core', 'config', 'api/client'],
  ui: [],
};

/** Node built-ins a room may use; core is pure. */
const BUILTINS_ALLOWED: Record<string, boolean> = {
  core: false, config: true, check: true, vrrp: true, dataplane: true, sys: true, api: true, daemon: true, cli: true, ui: false,
};

/** Third-party packages per room (sys owns FFI). */
const PACKAGES_ALLOWED: Record<string, readonly string[]> = {
  core: [], config: ['ipaddr.js'], check: [], vrrp: [], dataplane: [], sys: ['koffi'],
  api: ['prom-client'], daemon: [], cli: [], ui: [],
};

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function roomOf(file: string): string {
  return relative(SRC, file).split(sep)[0];
}

/** Import specifiers: static `import … from '…'`, `export … from '…'` and dynamic `import('…')`. */
export function importsOf(source: string): string[] {
  const specs: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(re)) specs.push(m[1] ?? m[2] ?? m[3]);
  return specs;
}

export function violations(files: readonly string[], read: (f: string) => string): string[] {
  const bad: string[] = [];
  for (const file of files) {
    const room = roomOf(file);
    for (const spec of importsOf(read(file))) {
      const where = `${relative(SRC, file)} imports '${spec}'`;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(SRC + sep)) { bad.push(`${where}: outside src/`); continue; }
        const rel = relative(SRC, target);
        const troom = rel.split(sep)[0];
        if (troom === room) continue;
        const allowed = ALLOWED[room] ?? [];
        const ok = allowed.some((a) => a.includes('/') ? rel.startsWith(a) : a === troom);
        if (!ok) bad.push(`${where}: ${room} may not import ${troom}`);
      } else if (spec.startsWith('node:')) {
        if (!BUILTINS_ALLOWED[room]) bad.push(`${where}: ${room} must not use Node built-ins`);
      } else {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!(PACKAGES_ALLOWED[room] ?? []).includes(pkg)) bad.push(`${where}: ${room} may not use package ${pkg}`);
      }
    }
  }
  return bad;
}

test('every import in src/ follows the house rules of DESIGN.md', () => {
  const files = walk(SRC);
  assert.ok(files.length > 10, 'src/ has the project files');
  assert.deepEqual(violations(files, (f) => readFileSync(f, 'utf8')), []);
});

test('the checker itself catches a crossing', () => {
  const fake = (room: string, name: string) => join(SRC, room, name);
  const sources: Record<string, string> = {
    [fake('core', 'a.ts')]: "import { x } from '../sys/raw.ts';\nimport { y } from 'node:fs';",
    [fake('check', 'b.ts')]: "import type { Z } from '../vrrp/fsm.ts';",
    [fake('cli', 'c.ts')]: "import { call } from '../api/client.ts';\nimport { s } from '../api/server.ts';",
    [fake('dataplane', 'd.ts')]: "import { d } from '../core/director.ts';",
  };
  const bad = violations(Object.keys(sources), (f) => sources[f]);
  assert.deepEqual(bad, [
    "core/a.ts imports '../sys/raw.ts': core may not import sys",
    "core/a.ts imports 'node:fs': core must not use Node built-ins",
    "check/b.ts imports '../vrrp/fsm.ts': check may not import vrrp",
    "cli/c.ts imports '../api/server.ts': cli may not import api",
  ]);
});
