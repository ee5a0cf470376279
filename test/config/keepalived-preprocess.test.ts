// keepalived's line reader: include (and its variants and include_check), @ID conditional lines,
// $NAME parameters, the ~SEQ / ~LST generators and the brace splitting, seen through the model they
// produce and the diagnostics (with file:line:col) they give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadKeepalivedConfig, type LoadResult } from '../../src/config/keepalived/load.ts';
import { memoryKeepalivedHost, type MemoryHostOptions } from '../../src/config/keepalived/memory-host.ts';

const MAIN = '/etc/keepalived/keepalived.conf';

function load(text: string, o: { files?: Record<string, string>; configId?: string | null; host?: MemoryHostOptions } = {}): LoadResult {
  const host = memoryKeepalivedHost({ ...o.host, files: { [MAIN]: text, ...o.files } });
  return loadKeepalivedConfig(MAIN, { host, configId: o.configId });
}

function rsAddrs(r: LoadResult, vs = 0): string[] {
  return r.config!.virtualServers[vs].realServers.map((x) => `${x.addr.text}:${x.port}/${x.weight}`);
}

const VS = (body: string): string => `virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n${body}\n}\n`;

test('include: relative to the including file, globs, braces, nested', () => {
  const r = load('include conf.d/*.conf\n', {
    files: {
      '/etc/keepalived/conf.d/10-global.conf': 'global_defs {\n router_id from_include\n}\n',
      '/etc/keepalived/conf.d/20-vs.conf': 'include ../vs/{a,b}.inc\n',
      '/etc/keepalived/vs/a.inc': VS(' real_server 10.0.0.2 80 {\n }'),
      '/etc/keepalived/vs/b.inc': 'virtual_server 10.0.0.9 80 {\n protocol UDP\n lb_algo rr\n lb_kind NAT\n real_server 10.0.0.3 80 {\n }\n}\n',
    },
  });
  assert.equal(r.exitCode, 0, JSON.stringify(r.diagnostics));
  assert.equal(r.config!.globalDefs.routerId, 'from_include');
  assert.deepEqual(r.config!.virtualServers.map((v) => v.target.kind === 'addr' && v.target.addr.text), ['10.0.0.1', '10.0.0.9']);
  assert.deepEqual(r.config!.files, [MAIN, '/etc/keepalived/conf.d/10-global.conf', '/etc/keepalived/conf.d/20-vs.conf', '/etc/keepalived/vs/a.inc', '/etc/keepalived/vs/b.inc']);
});

test('include problems: what each variant and include_check make of a missing file', async (t) => {
  const rows = [
    { desc: 'include: a missing file is only noted (keepalived -t exits 0)', text: 'include nothere.conf\n', exit: 0, klass: 'OK' },
    { desc: 'includem: a missing file is an error; keepalived exits 6 after reading', text: 'includem nothere.conf\n', exit: 6, klass: 'FILE_NOT_FOUND' },
    { desc: 'includew: no match for a wildcard is an error', text: 'includew none*.conf\n', exit: 6, klass: 'FILE_NOT_FOUND' },
    { desc: 'include: no match for a wildcard is fine', text: 'include none*.conf\n', exit: 0, klass: 'OK' },
    { desc: 'includeb: one brace alternative missing is an error', text: 'includeb {x,nothere}.inc\n', exit: 6, klass: 'FILE_NOT_FOUND', files: { '/etc/keepalived/x.inc': '' } },
    { desc: 'include_check (all checks) in global_defs applies to later includes', text: 'global_defs {\n include_check\n}\ninclude nothere.conf\n', exit: 6, klass: 'FILE_NOT_FOUND' },
    { desc: 'include_check -match switches the missing-file check off again', text: 'global_defs {\n include_check -match\n}\ninclude nothere.conf\n', exit: 0, klass: 'OK' },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const r = load(row.text, { files: row.files });
      assert.equal(r.exitCode, row.exit);
      const d = r.diagnostics.find((x) => x.code === 'INCLUDE_MISSING');
      assert.ok(d, 'an INCLUDE_MISSING diagnostic');
      assert.equal(d.klass, row.klass);
      assert.equal(d.at!.file, MAIN);
    });
  }
});

test('@ID lines: kept for the config id, @^ID for every other id', async (t) => {
  const text = '@high global_defs {\n@high router_id hi\n@high }\n@^high global_defs {\n@^high router_id not_hi\n@^high }\n';
  const rows = [
    { desc: '-i high', id: 'high', want: 'hi' },
    { desc: '-i low', id: 'low', want: 'not_hi' },
    { desc: 'default id: the short host name', id: undefined, want: 'not_hi' },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const r = load(text, { configId: row.id });
      assert.equal(r.exitCode, 0);
      assert.equal(r.config!.globalDefs.routerId, row.want);
    });
  }
  await t.test('the default id is the host name up to its first dot', () => {
    const r = load('@lb1 global_defs {\n@lb1 router_id mine\n@lb1 }\n', { host: { hostname: 'lb1.example.com' } });
    assert.equal(r.config!.globalDefs.routerId, 'mine');
  });
});

test('$NAME parameters: $X and ${X}, multi-line, predefined, undefined left as written', async (t) => {
  await t.test('substitution in words and inside a word with braces', () => {
    const r = load('$VIP=10.1.1.1\n$P=8080\nvirtual_server $VIP ${P} {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n real_server 10.1.1.${P}0 80 {\n }\n real_server 10.1.1.2 ${P} {\n }\n}\n');
    assert.equal(r.config!.virtualServers[0].target.kind === 'addr' && r.config!.virtualServers[0].target.port, 8080);
    assert.ok(r.diagnostics.some((d) => d.message.includes("Invalid real server ip address/port 10.1.1.80800/80")), 'a ${P} inside a word is substituted too');
  });
  await t.test('a multi-line definition expands to several lines', () => {
    const r = load(`$RS=\\\n real_server 10.0.0.2 80 { \\\n  weight 3 \\\n }\n${VS(' $RS')}`);
    assert.equal(r.exitCode, 0, JSON.stringify(r.diagnostics));
    assert.deepEqual(rsAddrs(r), ['10.0.0.2:80/3']);
  });
  await t.test('$NAME must be followed by a blank, "," or ")": $VIPx is not $VIP', () => {
    const r = load(`$VIP=10.0.0.1\nglobal_defs {\n router_id $VIPx\n}\n`);
    assert.equal(r.config!.globalDefs.routerId, '$VIPx');
  });
  await t.test('${_HASH} and ${_BANG}: a substituted ! or # is re-read as a comment (keepalived decomments again)', () => {
    const r = load('global_defs {\n router_id a${_HASH}b\n}\n');
    assert.equal(r.config!.globalDefs.routerId, 'a');
  });
  await t.test('${_INSTANCE} is the config id', () => {
    const r = load('global_defs {\n router_id lb-${_INSTANCE}\n}\n', { configId: 'west' });
    assert.equal(r.config!.globalDefs.routerId, 'lb-west');
  });
  await t.test('${_RANDOM 5 5} and ${_ENV NAME} (keepalived 2.3, a keepvs extension for 2.2)', () => {
    const r = load('global_defs {\n router_id x${_RANDOM 5 5}-${_ENV SITE}\n}\n', { host: { env: { SITE: 'ams' } } });
    assert.equal(r.config!.globalDefs.routerId, 'x5-ams');
  });
  await t.test('a later definition overrides an earlier one from that point on', () => {
    const r = load('$N=1\n$N=2\nglobal_defs {\n router_id n$N\n}\n');
    assert.equal(r.config!.globalDefs.routerId, 'n2');
  });
});

test('~SEQ and ~LST generate lines', async (t) => {
  await t.test('~SEQ(var, start, end) and ~SEQ(var, start, step, end)', () => {
    const r = load(VS('~SEQ(n, 2, 4) real_server 10.0.0.$n 80 { weight $n }\n~SEQ(m, 20, -10, 0) real_server 10.0.1.$m 80 { weight 1 }'));
    assert.deepEqual(rsAddrs(r), ['10.0.0.2:80/2', '10.0.0.3:80/3', '10.0.0.4:80/4', '10.0.1.20:80/1', '10.0.1.10:80/1', '10.0.1.0:80/1']);
  });
  await t.test('~SEQx writes hex', () => {
    const r = load(VS('~SEQx(h, 9, 11) real_server 10.0.0.$h 80 { weight 1 }'));
    assert.deepEqual(rsAddrs(r).map((a) => a.split(':')[0]), ['10.0.0.9']);
    assert.ok(r.diagnostics.some((d) => d.message.startsWith('VRRP parsed') || d.message.includes('Invalid real server ip address/port 10.0.0.a/80')));
  });
  await t.test('an undefined ${NAME} stays as written, and its braces then split the line, as in keepalived', () => {
    const r = load('~SEQ(h, 1) $H$h=1\nglobal_defs {\n router_id ${Ha}\n}\n');
    assert.equal(r.config!.globalDefs.routerId, '$');
    assert.deepEqual(r.diagnostics.map((d) => d.message), ["Unknown keyword '$H$h=1'", "Unexpected '{' - ignoring", "Unknown keyword 'Ha'", "Unknown keyword '}'"]);
  });
  await t.test('~LST with several variables per line', () => {
    const r = load(VS('~LST({ip,w}, {10.0.0.10,1}, {10.0.0.11,5}) real_server $ip 80 { weight $w }'));
    assert.deepEqual(rsAddrs(r), ['10.0.0.10:80/1', '10.0.0.11:80/5']);
  });
  await t.test('~LST with one variable', () => {
    const r = load(VS('~LST(last, 7, 8) real_server 10.0.0.$last 80 { }'));
    assert.deepEqual(rsAddrs(r), ['10.0.0.7:80/1', '10.0.0.8:80/1']);
  });
  await t.test('bad generators are reported where they are', () => {
    const r = load('~SEQ(n) foo\n~SEQ(n, 1, 0, 5) foo\n');
    assert.deepEqual(r.diagnostics.filter((d) => d.code === 'GENERATOR').map((d) => [d.at!.line, d.message]), [
      [1, "Invalid ~SEQ definition '~SEQ(n) foo'"], [1, "Invalid ~SEQ specification '~SEQ(n) foo'"],
      [2, "Invalid ~SEQ values '~SEQ(n, 1, 0, 5) foo'"], [2, "Invalid ~SEQ specification '~SEQ(n, 1, 0, 5) foo'"],
    ]);
    assert.equal(r.exitCode, 5);
  });
});

test('braces may sit anywhere on a line; each is read as a line of its own', () => {
  const r = load('virtual_server 10.0.0.1 80 { protocol TCP\n lb_algo rr ; lb_kind DR\n real_server 10.0.0.2 80 { weight 2 } }\n');
  assert.deepEqual(rsAddrs(r), ['10.0.0.2:80/2']);
  // ';' is not a separator: lb_algo takes "rr" and ignores the rest, so no method is set.
  assert.ok(r.diagnostics.some((d) => d.message.endsWith('no forwarding method set, setting default NAT')));
});

test('structure errors: unknown keywords, braces, quotes, with positions', async (t) => {
  const rows = [
    {
      desc: 'an unknown keyword warns and the rest is still read (exit 5)',
      text: 'global_defs {\n  bogus_kw 1\n  router_id ok\n}\n', exit: 5,
      want: [['UNKNOWN_KEYWORD', 2, 3, "Unknown keyword 'bogus_kw'"]],
    },
    {
      desc: "an unknown block's lines are read in the enclosing section, and its '}' closes that section",
      text: VS(' foo {\n  weight 2\n }\n real_server 10.0.0.2 80 {\n }'), exit: 5,
      want: [['UNKNOWN_KEYWORD', 5, 2, "Unknown keyword 'foo'"], ['UNEXPECTED_OPEN_BRACE', 5, 6, "Unexpected '{' - ignoring"],
        ['UNKNOWN_KEYWORD', 8, 2, "Unknown keyword 'real_server'"], ['UNEXPECTED_OPEN_BRACE', 8, 26, "Unexpected '{' - ignoring"],
        ['UNKNOWN_KEYWORD', 9, 2, "Unknown keyword '}'"], ['UNKNOWN_KEYWORD', 10, 1, "Unknown keyword '}'"],
        ['NOTHING_CONFIGURED', 1, 1, 'Virtual server [10.0.0.1]:tcp:80 has no real servers - ignoring']],
    },
    {
      desc: "a block keyword without '{'",
      text: 'global_defs\n router_id x\n}\n', exit: 5,
      // The parent reads router_id inside global_defs; the other processes skip global_defs, so they
      // read router_id and the '}' at the top level.
      want: [['MISSING_OPEN_BRACE', 2, 2, "Missing '{' at beginning of configuration block"], ['EXTRA_CLOSE_BRACE', 3, 1, "Extra '}' found"],
        ['UNKNOWN_KEYWORD', 2, 2, "Unknown keyword 'router_id'"], ['UNKNOWN_KEYWORD', 3, 1, "Unknown keyword '}'"]],
    },
    {
      desc: 'a block left open',
      text: 'global_defs {\n router_id x\n', exit: 5,
      want: [['MISSING_CLOSE_BRACE', null, null, "There are 1 missing '}'s or extra '{'s"]],
    },
    {
      desc: 'an unclosed quote',
      text: 'global_defs {\n router_id "abc\n}\n', exit: 5,
      want: [['UNTERMINATED_QUOTE', 2, 2, `Unterminated quote 'router_id "abc'`], ['UNTERMINATED_QUOTE', 2, 2, `Unmatched quote: 'router_id "abc'`],
        ['MISSING_PARAMETER', 2, 2, 'routerid name missing - ignoring']],
    },
    {
      desc: 'a keyword missing its value: keepalived stops (exit 2); keepvs reports and reads on',
      text: VS(' lb_algo\n real_server 10.0.0.2 80 {\n }'), exit: 2,
      want: [['MISSING_PARAMETER', 5, 9, '*** Configuration line starting `lb_algo` is missing a parameter after keyword `lb_algo` at word position 2']],
    },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const r = load(row.text);
      assert.deepEqual(r.diagnostics.filter((d) => d.klass !== 'OK').map((d) => [d.code, d.at?.line ?? null, d.at?.col ?? null, d.message]), row.want);
      assert.equal(r.exitCode, row.exit);
    });
  }
});

test('an escaped # that keepalived child processes re-read as a comment is explained', () => {
  const r = load('global_defs {\n  notification_email { ops@example.com admin\\#1@example.com }\n}\n');
  assert.equal(r.exitCode, 5, 'the second read leaves a block open, as in keepalived');
  assert.ok(r.diagnostics.some((d) => d.code === 'ESCAPED_COMMENT' && d.at!.line === 2));
  assert.deepEqual(r.config!.globalDefs.notificationEmail, ['ops@example.com', 'admin#1@example.com']);
});
