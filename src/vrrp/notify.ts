// Notifications as keepalived sends them (vrrp_notify.c): the state-specific script runs exactly as
// configured; the generic `notify` script gets "INSTANCE|GROUP NAME STATE PRIORITY" appended (groups
// pass priority 0); FIFO lines read `INSTANCE "VI_1" MASTER 100`. Pure: builds argv lists and lines.
import type { NotifyScripts } from './config.ts';
import type { NotifyEvent, NotifyState } from './fsm.ts';
import { splitWords } from './vip.ts';

export type NotifyKind = 'INSTANCE' | 'GROUP';

export interface NotifyCommands {
  /** Commands to run, each as argv. */
  readonly commands: readonly (readonly string[])[];
  /** The FIFO line (with its newline). */
  readonly fifoLine: string;
}

function scriptFor(s: NotifyScripts, state: NotifyState): string | null {
  switch (state) {
    case 'MASTER': return s.master;
    case 'BACKUP': return s.backup;
    case 'FAULT': return s.fault;
    case 'STOP': return s.stop;
  }
}

export function stateNotify(kind: NotifyKind, name: string, state: NotifyState, priority: number, scripts: NotifyScripts): NotifyCommands {
  const commands: string[][] = [];
  const specific = scriptFor(scripts, state);
  if (specific) commands.push(splitWords(specific));
  const prio = kind === 'GROUP' ? 0 : priority;
  if (scripts.generic) commands.push([...splitWords(scripts.generic), kind, name, state, String(prio)]);
  return { commands, fifoLine: fifoLine(kind, name, state, prio) };
}

/** MASTER_RX_LOWER_PRI runs notify_master_rx_lower_pri as configured; the priority events only go to the FIFO. */
export function eventNotify(name: string, event: NotifyEvent, priority: number, scripts: NotifyScripts): NotifyCommands {
  const commands: string[][] = [];
  if (event === 'MASTER_RX_LOWER_PRI' && scripts.masterRxLowerPri) commands.push(splitWords(scripts.masterRxLowerPri));
  return { commands, fifoLine: fifoLine('INSTANCE', name, event, priority) };
}

export function fifoLine(kind: NotifyKind, name: string, state: string, priority: number): string {
  return `${kind} "${name}" ${state} ${priority}\n`;
}
