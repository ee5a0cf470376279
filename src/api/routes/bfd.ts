// GET /v1/bfd (keepvs addition): the bfd_instance sessions keepvs -f runs for its BFD_CHECKs, each with
// its state, diagnostics, discriminators, timers and packet counters, and the BFD process's totals
// with every refused datagram by reason (src/check/bfd/process.ts). No BFD process (no -f, or no
// BFD_CHECK names a bfd_instance): no sessions, stats null.
import { type Handler, json } from '../router.ts';

export const bfdSessions: Handler = (_req, ctx) => {
  const s = ctx.bfd?.() ?? null;
  return json({ sessions: s ? s.sessions : [], stats: s ? s.stats : null });
};
