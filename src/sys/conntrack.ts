// Reading the kernel's connection tracking table for the nft plane's connection view: the
// conntrack(8) tool (conntrack-tools), `conntrack -L` filtered by keepvs's mark tag. Its text
// output, one entry a line: "tcp 6 431999 ESTABLISHED src=… dst=… sport=… dport=… [packets=…
// bytes=…] src=… dst=… sport=… dport=… [packets=… bytes=…] [ASSURED] mark=… use=1".
import { spawn } from 'node:child_process';

export interface ConntrackTuple {
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport: number;
  readonly packets: number;
  readonly bytes: number;
}

export interface ConntrackEntry {
  readonly protocol: string;
  /** Seconds left. */
  readonly timeout: number;
  /** TCP/SCTP state name, or '' for UDP. */
  readonly state: string;
  readonly orig: ConntrackTuple;
  readonly reply: ConntrackTuple;
  readonly mark: number;
  readonly assured: boolean;
}

/** Parse `conntrack -L` text (lines it cannot read are skipped). */
export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words.length < 4 || !/^\d+$/.test(words[1] ?? '')) continue;
    const protocol = words[0];
    const timeout = Number(words[2]);
    let state = '';
    if (words[3] && !words[3].includes('=')) state = words[3];
    const tuples: Record<string, string>[] = [{}, {}];
    let t = -1;
    let mark = 0;
    let assured = false;
    for (const w of words.slice(3)) {
      if (w === '[ASSURED]') { assured = true; continue; }
      const eq = w.indexOf('=');
      if (eq < 0) continue;
      const k = w.slice(0, eq);
      const v = w.slice(eq + 1);
      if (k === 'src') t++;
      if (k === 'mark') { mark = Number(v) >>> 0; continue; }
      if (t >= 0 && t < 2) tuples[t][k] = v;
    }
    if (t < 1) continue;
    const tuple = (r: Record<string, string>): ConntrackTuple => ({
      src: r.src ?? '', dst: r.dst ?? '', sport: Number(r.sport ?? 0), dport: Number(r.dport ?? 0),
      packets: Number(r.packets ?? 0), bytes: Number(r.bytes ?? 0),
    });
    out.push({ protocol, timeout, state, orig: tuple(tuples[0]), reply: tuple(tuples[1]), mark, assured });
  }
  return out;
}

/** `conntrack -L -f FAMILY --mark VALUE/MASK` (IPv4 by default), parsed. Rejects when the tool is missing. */
export function dumpConntrack(mark: number, mask: number, family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<ConntrackEntry[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('conntrack', ['-L', '-f', family, '--mark', `${mark >>> 0}/${mask >>> 0}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', (e) => reject(new Error(`conntrack: ${e.message} (apt-get install conntrack)`)));
    child.on('close', (code) => (code === 0 ? resolve(parseConntrack(out)) : reject(new Error(`conntrack -L: ${err.trim()}`))));
  });
}
