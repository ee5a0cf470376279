// The one piece of the nft plane outside its own table. This kernel has no nft `queue` statement
// (CONFIG_NFT_QUEUE unset; kernel-dataplane.md G4), only the xtables NFQUEUE target, which nft(8)
// cannot write; iptables-nft can, in iptables' `mangle` table (prerouting priority -150). keepvs
// keeps a chain of its own there, KEEPVS, jumped to from the end of PREROUTING (so a user's MARK
// rules for fwmark services, appended before keepvs started, have run), and holds only:
// - packets tagged "to the queue" (0x6c……) by keepvs's classify chain (priority -160);
// - new connections carrying the fwmark of a queue-path fwmark service.
// --queue-bypass: with no consumer bound the packet is accepted, and keepvs's settle chain then
// applies the configured failure behaviour (in-kernel fallback or drop).
import type { NftModel } from './model.ts';
import { QUEUE_TAG, hex } from './marks.ts';

export const QUEUE_CHAIN = 'KEEPVS';

export function queueRuleArgs(m: NftModel): string[][] {
  const target = ['-j', 'NFQUEUE', '--queue-num', String(m.queueNum), '--queue-bypass'];
  const rules: string[][] = [['-m', 'mark', '--mark', `${hex(QUEUE_TAG)}/0xff000000`, ...target]];
  for (const s of m.services) {
    if (s.path === 'queue' && s.match.kind === 'fwmark') {
      rules.push(['-m', 'mark', '--mark', String(s.match.fwmark), '-m', 'conntrack', '--ctstate', 'NEW', ...target]);
    }
  }
  return rules;
}

/** Whether the model needs the queue at all. */
export function needsQueue(m: NftModel): boolean {
  return m.services.some((s) => s.path === 'queue');
}
