// The reader behind `ipvsadm -R` (config_stream.c: config_stream_read), quirk for quirk, so a file
// restores under keepvsadm exactly as it does under ipvsadm:
//  - a line is split at spaces, tabs and carriage returns; there is no quoting;
//  - every token that is exactly "ipvsadm" is dropped, wherever it stands on the line;
//  - '#' is NOT a comment: config_stream_read tests for it only in the one blank character that
//    follows a token, which can never be '#', so "# note" reaches the option parser as arguments
//    (the ipvsadm-restore script strips lines starting with '#' before piping them in);
//  - a line with no tokens is returned empty (restore_table skips it); a single-token line such
//    as "-C" is a command like any other;
//  - at the end of the input, a last line without a newline is still returned — unless it ends
//    in two or more blank characters: the blank-skipping loop then meets EOF and throws the whole
//    line away (and reading stops).
// The -S side is written by src/cli/keepvsadm/format.ts (ipvsadm.c prints rules and listings with
// one function, print_service_entry). keepvs's extensions (--fullnat, and --proxy-protocol at the end
// of an -A/-a line) are plain tokens here, so a keepvs -S file restores through this reader unchanged;
// ipvsadm itself would refuse those lines.

/** config_stream.c: the token pattern %[^ \t\n\r] and its one-character tail %1[ \t\n\r]. */
function isBreak(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/**
 * Split restore input into command lines, each a list of tokens (without a program name).
 * Lines with no tokens are kept (as []), so callers see the same sequence restore_table does.
 */
export function readRestoreLines(text: string): string[][] {
  const lines: string[][] = [];
  let pos = 0;
  const n = text.length;

  // One call of config_stream_read: the tokens of the next line, or null at the end.
  const readLine = (): string[] | null => {
    const tokens: string[] = [];
    for (;;) {
      if (pos >= n) return tokens.length === 0 ? null : tokens;
      if (isBreak(text[pos])) {
        // fscanf matched nothing: skip blanks by hand up to the newline.
        for (;;) {
          if (pos >= n) return null;
          const c = text[pos++];
          if (c === '\n') return tokens;
          if (c === ' ' || c === '\t' || c === '\r') continue;
          pos--;
          break;
        }
        continue;
      }
      let end = pos;
      while (end < n && !isBreak(text[end])) end++;
      const token = text.slice(pos, end);
      pos = end;
      const tail = pos < n ? text[pos++] : null;
      if (token !== 'ipvsadm') tokens.push(token);
      if (tail === '\n') return tokens;
    }
  };

  for (;;) {
    const line = readLine();
    if (line === null) return lines;
    lines.push(line);
  }
}
