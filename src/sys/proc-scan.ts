// The processes running on this machine, read from /proc, for VRRP's track_process. keepalived learns
// about forks and exits from the kernel's proc connector (keepalived/core/track_process.c), which needs
// CAP_NET_ADMIN and a netlink socket; keepvs reads /proc on a timer instead. What is read is what
// keepalived reads at its start: the command name from /proc/PID/stat (the field in parentheses, the
// kernel's 15-byte comm), the process state (zombies are skipped) and the NUL-separated argv from
// /proc/PID/cmdline.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessEntry {
  readonly pid: number;
  /** /proc/PID/stat's comm: at most 15 bytes, what `ps -o comm` shows. */
  readonly comm: string;
  /** /proc/PID/cmdline split at NUL bytes; empty for kernel threads. */
  readonly argv: readonly string[];
}

/** Parse /proc/PID/stat: null for a zombie or an unreadable line. */
export function parseStat(text: string): { comm: string; state: string } | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const state = text.slice(close + 2, close + 3);
  if (state === 'Z') return null;
  return { comm: text.slice(open + 1, close), state };
}

/** /proc/PID/cmdline: arguments separated (and ended) by NUL bytes. */
export function parseCmdline(text: string): string[] {
  const parts = text.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Every live process; ones that vanish while being read are skipped. */
export function readProcesses(procDir = '/proc'): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  let names: string[];
  try {
    names = readdirSync(procDir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^[1-9][0-9]*$/.test(name)) continue;
    try {
      const st = parseStat(readFileSync(`${procDir}/${name}/stat`, 'latin1'));
      if (!st) continue;
      const argv = parseCmdline(readFileSync(`${procDir}/${name}/cmdline`, 'latin1'));
      out.push({ pid: Number(name), comm: st.comm, argv });
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}
