// keepalived's signals (style-and-ecosystem.md B2): TERM/INT stop, HUP reload, USR1 data dump,
// USR2 stats dump. --signum answers with the numbers keepalived's does for these; keepalived's JSON
// (SIGRTMIN+2) and STATS_CLEAR (SIGRTMAX-1) have no counterpart, because Node cannot catch
// real-time signals and one would kill the daemon.
import { constants } from 'node:os';

export interface SignalActions {
  stop(signal: 'SIGTERM' | 'SIGINT'): void;
  reload(): void;
  dumpData(): void;
  dumpStats(): void;
}

/** keepalived --signum=NAME names, and the signal each stands for here. */
export const SIGNAL_FUNCTIONS: Readonly<Record<string, NodeJS.Signals>> = {
  STOP: 'SIGTERM',
  RELOAD: 'SIGHUP',
  DATA: 'SIGUSR1',
  STATS: 'SIGUSR2',
};

/** The number keepvs --signum=NAME prints, or null when keepvs has no such function. */
export function signum(name: string): number | null {
  const sig = SIGNAL_FUNCTIONS[name.toUpperCase()];
  return sig ? constants.signals[sig] : null;
}

/** Install the handlers; returns a function that removes them. */
export function installSignals(actions: SignalActions, proc: NodeJS.Process = process): () => void {
  const table: [NodeJS.Signals, () => void][] = [
    ['SIGTERM', () => actions.stop('SIGTERM')],
    ['SIGINT', () => actions.stop('SIGINT')],
    ['SIGHUP', () => actions.reload()],
    ['SIGUSR1', () => actions.dumpData()],
    ['SIGUSR2', () => actions.dumpStats()],
  ];
  for (const [sig, fn] of table) proc.on(sig, fn);
  return () => {
    for (const [sig, fn] of table) proc.off(sig, fn);
  };
}
