// The popt behaviours keepvsadm depends on (popt.c: poptGetNextOpt, poptBadOption, poptGetArg).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionParser, type OptionSpec } from '../../src/cli/getopt.ts';

const TABLE: readonly OptionSpec<string>[] = [
  { long: 'list', short: 'L', arg: 'none', val: 'L' },
  { long: 'numeric', short: 'n', arg: 'none', val: 'n' },
  { long: 'tcp-service', short: 't', arg: 'required', val: 't' },
  { long: 'persistent', short: 'p', arg: 'optional', val: 'p' },
  { long: 'scheduler', short: 's', arg: 'required', val: 's' },
  { long: 'stats', arg: 'none', val: 'stats' },
  { long: 'pe', arg: 'required', val: 'pe' },
];

/** Every item until the end or the first error, as "val=arg" / "!CODE@badOption", then leftovers. */
function scan(args: string[], posixMeHarder = false): string[] {
  const p = new OptionParser(['prog', ...args], TABLE, { posixMeHarder });
  const out: string[] = [];
  for (;;) {
    const it = p.nextOption();
    if (it.kind === 'end') break;
    if (it.kind === 'error') { out.push(`!${it.code}@${p.badOption()}`); return out; }
    out.push(it.arg === null ? it.val : `${it.val}=${it.arg}`);
  }
  for (let l = p.nextLeftover(); l !== null; l = p.nextLeftover()) out.push(`[${l}]`);
  return out;
}

const CASES: readonly { desc: string; args: string[]; want: string[]; posix?: boolean }[] = [
  { desc: 'a bundle of short flags', args: ['-Ln'], want: ['L', 'n'] },
  { desc: 'a short option takes the next element', args: ['-L', '-t', '10.0.0.1:80'], want: ['L', 't=10.0.0.1:80'] },
  { desc: 'a short option takes the rest of its bundle', args: ['-Lt10.0.0.1:80'], want: ['L', 't=10.0.0.1:80'] },
  { desc: 'a short option skips one "=" of the rest', args: ['-t=x'], want: ['t=x'] },
  { desc: 'a required value may start with a dash', args: ['-t', '-n'], want: ['t=-n'] },
  { desc: 'long option with =value', args: ['--tcp-service=a:1'], want: ['t=a:1'] },
  { desc: 'long option with the value next', args: ['--scheduler', 'rr'], want: ['s=rr'] },
  { desc: 'long-only option', args: ['--stats', '--pe', 'sip'], want: ['stats', 'pe=sip'] },
  { desc: 'optional value present as next element', args: ['-p', '60', '-n'], want: ['p=60', 'n'] },
  { desc: 'optional value absent before a dash', args: ['-p', '-n'], want: ['p', 'n'] },
  { desc: 'optional value absent at the end', args: ['-L', '-p'], want: ['L', 'p'] },
  { desc: 'optional value glued in the bundle', args: ['-p600'], want: ['p=600'] },
  { desc: 'optional value with =', args: ['--persistent=5'], want: ['p=5'] },
  { desc: 'optional takes a non-dash word even if meant as leftover', args: ['-p', 'rr'], want: ['p=rr'] },
  { desc: 'non-options are leftovers wherever they are', args: ['a', '-L', 'b', '-n', 'c'], want: ['L', 'n', '[a]', '[b]', '[c]'] },
  { desc: 'a lone dash is a leftover', args: ['-L', '-'], want: ['L', '[-]'] },
  { desc: '-- makes the rest leftovers', args: ['-L', '--', '-n'], want: ['L', '[-n]'] },
  { desc: 'POSIXLY_CORRECT stops at the first non-option', args: ['-L', 'x', '-n'], want: ['L', '[x]', '[-n]'], posix: true },
  { desc: 'unknown long option', args: ['-L', '--foo'], want: ['L', '!BADOPT@--foo'] },
  { desc: 'long names are never abbreviated', args: ['--numer'], want: ['!BADOPT@--numer'] },
  { desc: 'unknown short option names its whole bundle', args: ['-Lq'], want: ['L', '!BADOPT@-Lq'] },
  { desc: 'a single-dash long name is a bundle of shorts', args: ['-stats'], want: ['s=tats'] },
  { desc: 'missing required value', args: ['-L', '-t'], want: ['L', '!NOARG@-t'] },
  { desc: 'missing required value for a long option', args: ['--pe'], want: ['!NOARG@--pe'] },
  { desc: 'a flag refuses =value', args: ['--numeric=1'], want: ['!UNWANTEDARG@--numeric=1'] },
  { desc: 'a short flag refuses =value in its bundle', args: ['-L=1'], want: ['!UNWANTEDARG@-L=1'] },
];

for (const c of CASES) {
  test(`getopt (popt.c): ${c.desc}`, () => {
    assert.deepEqual(scan(c.args, c.posix), c.want);
  });
}

test('getopt: badOption is the element consumed last (what ipvsadm prints in "invalid option")', () => {
  const p = new OptionParser(['prog', '-L', '--pe', 'sip', '-n'], TABLE);
  p.nextOption();
  p.nextOption();
  assert.equal(p.badOption(), 'sip');
  p.nextOption();
  assert.equal(p.badOption(), '-n');
});
