// What the nft plane needs from the host before it loads anything, checked at start and reported
// with the exact missing piece: privileges (CAP_NET_ADMIN; root has it), the programs it runs, and
// the sysctls forwarding depends on. Sysctls are reported, never changed, unless the operator asked
// for it (fixSysctls). Pure: the inputs are read by the caller (sys/nft.ts).

/** include/uapi/linux/capability.h: CAP_NET_ADMIN is capability 12. */
export const CAP_NET_ADMIN = 12;

/** Effective capabilities from /proc/self/status ("CapEff:\t000001ffffffffff"). */
export function effectiveCaps(status: string): bigint {
  const m = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

export function hasCap(caps: bigint, cap: number): boolean {
  return ((caps >> BigInt(cap)) & 1n) === 1n;
}

export interface SysctlFinding {
  readonly name: string;
  readonly have: string | null;
  readonly want: string;
  /** Why the plane needs it. */
  readonly why: string;
}

/**
 * The sysctls the director needs. ip_forward: NAT, FULLNAT and DR all forward (LVS-HOWTO; G3 of
 * kernel-dataplane.md). rp_filter: DR and NAT see asymmetric paths; strict mode (1) drops them
 * (the kernel uses max(all, iface)). nf_conntrack_acct: the packet/byte counters of the connection view.
 */
export function sysctlFindings(read: (name: string) => string | null, interfaces: readonly string[]): SysctlFinding[] {
  const out: SysctlFinding[] = [];
  const want = (name: string, value: string, why: string, ok: (v: string) => boolean) => {
    const have = read(name);
    if (have === null || !ok(have)) out.push({ name, have, want: value, why });
  };
  want('net.ipv4.ip_forward', '1', 'the director forwards every connection to a real server', (v) => v === '1');
  want('net.ipv4.conf.all.rp_filter', '0', 'strict reverse-path filtering drops asymmetric LVS traffic', (v) => v !== '1');
  for (const i of interfaces) {
    want(`net.ipv4.conf.${i}.rp_filter`, '0', 'strict reverse-path filtering drops asymmetric LVS traffic', (v) => v !== '1');
  }
  want('net.netfilter.nf_conntrack_acct', '1', 'per-connection packet and byte counters (InPkts/OutPkts, -L --stats)', (v) => v === '1');
  return out;
}

export function findingText(f: SysctlFinding): string {
  return `sysctl ${f.name} is ${f.have ?? 'missing'}, should be ${f.want}: ${f.why}`;
}
