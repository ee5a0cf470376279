// A minimal reader for classic pcap files (LINKTYPE_ETHERNET), enough for the captured VRRP samples in
// test/fixtures/vrrp/ (copied from the shared samples so the tests stand alone).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'vrrp');

export interface PcapFrame {
  readonly seconds: number;
  readonly micros: number;
  /** The whole Ethernet frame. */
  readonly frame: Uint8Array;
}

export function readPcap(name: string): PcapFrame[] {
  const buf = readFileSync(resolve(FIXTURES, name));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = dv.getUint32(0, true);
  if (magic !== 0xa1b2c3d4) throw new Error(`${name}: not a little-endian microsecond pcap`);
  if (dv.getUint32(20, true) !== 1) throw new Error(`${name}: not LINKTYPE_ETHERNET`);
  const out: PcapFrame[] = [];
  for (let off = 24; off + 16 <= buf.length;) {
    const seconds = dv.getUint32(off, true);
    const micros = dv.getUint32(off + 4, true);
    const caplen = dv.getUint32(off + 8, true);
    off += 16;
    out.push({ seconds, micros, frame: new Uint8Array(buf.subarray(off, off + caplen)) });
    off += caplen;
  }
  return out;
}

/** Hex lines of the form "[ip packet, N bytes] ..." followed by the hex line, from a sample .txt. */
export function sampleHex(name: string, label: string): Uint8Array {
  const text = readFileSync(resolve(FIXTURES, name), 'utf8');
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith(`[${label}`));
  if (i < 0) throw new Error(`${name}: no [${label} ...] section`);
  return hex(lines[i + 1].trim());
}

export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
