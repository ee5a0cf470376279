// keepalived.conf's lexical rules (lib/parser.c: decomment, alloc_strvec_r,
// alloc_strvec_quoted_escaped), its number readers (read_unsigned, read_int, read_timer) and the
// glob it uses for include (GLOB_BRACE | GLOB_MARK).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decomment, makeLine, splitWords, splitQuotedEscaped } from '../../src/config/keepalived/lexer.ts';
import { readInt, readUnsigned, readTimer, checkTrueFalse } from '../../src/config/keepalived/numbers.ts';
import { expandBraces, glob, segmentMatcher } from '../../src/config/keepalived/glob.ts';
import { memoryConfigFs } from '../../src/config/keepalived/memory-host.ts';

test('decomment: comments, escaped comment characters, quotes, trailing blanks, continuation', async (t) => {
  const rows = [
    { desc: '# starts a comment', in: 'router_id abc # note', out: 'router_id abc', open: false },
    { desc: '! starts a comment', in: 'router_id abc ! note', out: 'router_id abc', open: false },
    { desc: 'leading blanks go', in: '   \t priority 100', out: 'priority 100', open: false },
    { desc: '# inside double quotes is kept', in: 'script "a # b" # c', out: 'script "a # b"', open: false },
    { desc: '\\# outside quotes is a literal #', in: 'router_id a\\#b', out: 'router_id a#b', open: false },
    { desc: '\\! outside quotes is a literal !', in: 'x a\\!b', out: 'x a!b', open: false },
    { desc: '\\# inside quotes keeps its backslash', in: 'x "a\\#b"', out: 'x "a\\#b"', open: false },
    { desc: "single quotes do not protect (only '\"' does)", in: "x 'a # b'", out: "x 'a", open: false },
    { desc: 'a trailing backslash is kept (multi-line definitions)', in: '$X=abc   \\', out: '$X=abc\\', open: false },
    { desc: 'an unclosed quote is flagged', in: 'router_id "abc', out: 'router_id "abc', open: true },
    { desc: 'a comment-only line becomes empty', in: '   # all comment', out: '', open: false },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const d = decomment(makeLine('f', 1, row.in));
      assert.equal(d.line.text, row.out);
      assert.equal(d.unterminatedQuote, row.open);
    });
  }
});

test('decomment keeps the physical column of every character', () => {
  const d = decomment(makeLine('f', 3, '    virtual_server a\\#b 80'));
  const w = splitWords(d.line);
  assert.deepEqual(w.tokens.map((x) => [x.text, x.at.col]), [['virtual_server', 5], ['a#b', 20], ['80', 25]]);
  assert.equal(w.tokens[0].at.line, 3);
});

test('splitWords: blanks separate, a "..." word keeps its blanks, a quote also ends a word', async (t) => {
  const rows = [
    { desc: 'plain words', in: 'a b\tc', out: ['a', 'b', 'c'], unmatched: false },
    { desc: 'quoted word with blanks', in: 'notify "/bin/x a b" root', out: ['notify', '/bin/x a b', 'root'], unmatched: false },
    { desc: 'a quote in the middle ends the word and starts another', in: 'abc"d e"f', out: ['abc', 'd e', 'f'], unmatched: false },
    { desc: 'empty quotes give an empty word', in: 'x ""', out: ['x', ''], unmatched: false },
    { desc: 'an unmatched quote keeps the words before it', in: 'router_id "abc', out: ['router_id'], unmatched: true },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const r = splitWords(makeLine('f', 1, row.in));
      assert.deepEqual(r.tokens.map((x) => x.text), row.out);
      assert.equal(r.unmatched, row.unmatched);
    });
  }
});

test('splitQuotedEscaped: script command lines', async (t) => {
  const rows = [
    { desc: 'double and single quotes, adjacent pieces joined', in: `abcd" efg h jkl "mnop 'x y'z`, out: ['abcd efg h jkl mnop', 'x yz'] },
    { desc: 'escapes', in: 'a\\tb \\x41\\101 \\cA \\"q\\"', out: ['a\tb', 'AA', '\x01', '"q"'] },
    { desc: 'escape inside double quotes', in: '"a\\"b"', out: ['a"b'] },
    { desc: 'whitespace inside quotes kept', in: `'  spaced  '`, out: ['  spaced  '] },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const r = splitQuotedEscaped(row.in);
      assert.ok(r.ok);
      assert.deepEqual(r.ok && r.words, row.out);
    });
  }
  await t.test('an unclosed quote is an error naming the quote', () => {
    assert.deepEqual(splitQuotedEscaped(`x 'abc`), { ok: false, reason: 'unmatched-quote', quote: "'" });
  });
  await t.test('a trailing backslash is an error', () => {
    assert.deepEqual(splitQuotedEscaped('x \\'), { ok: false, reason: 'trailing-backslash' });
  });
});

test('number readers: keepalived -t refuses what is out of range, with its messages', async (t) => {
  const msgs: string[] = [];
  const p = (_c: unknown, _k: unknown, m: string): void => { msgs.push(m); };
  const rows: { desc: string; run: () => number | null; value: number | null; msg?: string }[] = [
    { desc: 'unsigned in range', run: () => readUnsigned('42', 1, 255, p), value: 42 },
    { desc: 'unsigned with a + and leading blanks', run: () => readUnsigned('  +7', 0, 9, p), value: 7 },
    { desc: 'unsigned empty reads 0 (strtoul finds the end at once)', run: () => readUnsigned('', 0, 9, p), value: 0 },
    { desc: 'unsigned negative', run: () => readUnsigned('-1', 0, 9, p), value: null, msg: "negative number '-1'" },
    { desc: 'unsigned garbage', run: () => readUnsigned('12ab', 0, 99, p), value: null, msg: "invalid number '12ab'" },
    { desc: 'unsigned too large for 32 bits', run: () => readUnsigned('4294967296', 0, 4294967295, p), value: null, msg: "number '4294967296' outside unsigned integer range" },
    { desc: 'unsigned out of range', run: () => readUnsigned('300', 1, 255, p), value: null, msg: "number '300' outside range [1, 255]" },
    { desc: 'int negative in range', run: () => readInt('-253', -253, 253, p), value: -253 },
    { desc: 'int out of range', run: () => readInt('254', -253, 253, p), value: null, msg: "number '254' outside range [-253, 253]" },
    { desc: 'timer with fractions', run: () => readTimer('1.5', 1, 0, p), value: 1_500_000 },
    { desc: 'timer without integer part', run: () => readTimer('.25', 1, 0, p), value: 250_000 },
    { desc: 'timer zero below a minimum of 1 us', run: () => readTimer('0', 1, 4294967295, p), value: null, msg: "number '0' outside range [0.000001, 4294.967295]" },
    { desc: 'timer with too many decimals is rounded and accepted', run: () => readTimer('0.0000015', 1, 0, p), value: 2, msg: "number '0.0000015' has too many decimal places" },
    { desc: 'timer negative', run: () => readTimer('-1', 0, 0, p), value: null, msg: "negative number '-1'" },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      msgs.length = 0;
      assert.equal(row.run(), row.value);
      if (row.msg) assert.deepEqual(msgs.slice(0, 1), [row.msg]);
      else assert.deepEqual(msgs, []);
    });
  }
  await t.test('booleans are the six lower-case words', () => {
    assert.deepEqual(['on', 'yes', 'true', 'off', 'no', 'false', 'On', '1'].map(checkTrueFalse), [true, true, true, false, false, false, null, null]);
  });
});

test('glob: braces expand in order, wildcards skip dot files, missing files are counted', async (t) => {
  const fs = memoryConfigFs({
    '/etc/k/a.conf': '', '/etc/k/b.conf': '', '/etc/k/.hidden.conf': '', '/etc/k/sub/c.conf': '', '/etc/k/x.part': '',
  });
  await t.test('brace expansion, nested', () => {
    assert.deepEqual(expandBraces('a{b,c{d,e}}f'), ['abf', 'acdf', 'acef']);
  });
  await t.test('* matches, sorted, no dot files', () => {
    assert.deepEqual(glob('*.conf', '/etc/k', fs).paths, ['a.conf', 'b.conf']);
  });
  await t.test('absolute pattern with a wildcard directory', () => {
    assert.deepEqual(glob('/etc/*/sub/*.conf', '/', fs).paths, ['/etc/k/sub/c.conf']);
  });
  await t.test('a directory match is marked with a trailing slash', () => {
    assert.deepEqual(glob('s*', '/etc/k', fs).paths, ['sub/']);
  });
  await t.test('braces: each alternative in turn; a missing one counts as missing', () => {
    const g = glob('{x.part,nope.part,a.conf}', '/etc/k', fs);
    assert.deepEqual(g.paths, ['x.part', 'a.conf']);
    assert.equal(g.missingFiles, 1);
  });
  await t.test('no match in an existing directory: wildcards used, nothing missing', () => {
    const g = glob('*.none', '/etc/k', fs);
    assert.deepEqual([g.paths, g.haveWildcards, g.missingFiles, g.missingDirs], [[], true, 0, 0]);
  });
  await t.test('a wildcard under a missing directory counts a missing directory', () => {
    assert.equal(glob('/nowhere/*.conf', '/', fs).missingDirs, 1);
  });
  await t.test('character classes', () => {
    assert.equal(segmentMatcher('[ab].conf')('a.conf'), true);
    assert.equal(segmentMatcher('[!ab].conf')('a.conf'), false);
  });
});
