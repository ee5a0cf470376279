// The -R reader against config_stream.c (config_stream_read), traced by hand through its fscanf
// formats "%4096[^ \t\n\r]%1[ \t\n\r]" and the blank-skipping fgetc loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRestoreLines } from '../../src/config/ipvsadm/rules.ts';

const ROWS: readonly { desc: string; input: string; want: string[][] }[] = [
  { desc: 'lines split at blanks', input: '-A -t 10.0.0.1:80 -s wlc\n-C\n', want: [['-A', '-t', '10.0.0.1:80', '-s', 'wlc'], ['-C']] },
  { desc: 'tabs, runs of blanks, CRLF', input: '-A\t-t  10.0.0.1:80\r\n', want: [['-A', '-t', '10.0.0.1:80']] },
  { desc: 'leading blanks', input: '   -C\n', want: [['-C']] },
  { desc: 'empty and blank lines come back empty', input: '\n  \t\n-C\n', want: [[], [], ['-C']] },
  { desc: '"ipvsadm" tokens are dropped anywhere', input: 'ipvsadm -A ipvsadm -t x:1\nipvsadm\n', want: [['-A', '-t', 'x:1'], []] },
  { desc: '# is not a comment', input: '# saved rules\n-C # flush\n', want: [['#', 'saved', 'rules'], ['-C', '#', 'flush']] },
  { desc: 'a last line without newline is read', input: '-C\n-L -n', want: [['-C'], ['-L', '-n']] },
  { desc: 'a last line ending in one blank is read', input: '-L -n ', want: [['-L', '-n']] },
  { desc: 'a last line ending in two blanks is lost', input: '-C\n-L -n  ', want: [['-C']] },
  { desc: 'trailing blanks after the last newline end the input', input: '-C\n  ', want: [['-C']] },
  { desc: 'nothing', input: '', want: [] },
  { desc: 'a lone "ipvsadm" at the end yields nothing', input: '-C\nipvsadm', want: [['-C']] },
];

for (const r of ROWS) {
  test(`restore reader (config_stream.c): ${r.desc}`, () => {
    assert.deepEqual(readRestoreLines(r.input), r.want);
  });
}
