// Notifications as keepalived sends them (vrrp_notify.c): the state-specific script runs exactly as
// configured; the generic `notify` script gets "INSTANCE|GROUP NAME STATE PRIORITY" appended (groups
// pass priority 0); FIFO lines read `INSTANCE "VI_1" MASTER 100`. Pure: builds argv lists and lines.
import type { NotifyRole, NotifyScripts, ScriptUserConfig } from './config.ts';
import type { NotifyEvent, NotifyState } from './fsm.ts';
import { splitWords } from './vip.ts';

export type NotifyKind = 'INSTANCE' | 'GROUP';

export interface NotifyCommands {
  /** Commands to run, each as argv. */
  readonly commands: readonly (readonly string[])[];
  /** Per command, the account written after it in the configuration (null = script_user / the default). */
  readonly users: readonly (ScriptUserConfig | null)[];
  /** The FIFO line (with its newline). */
  readonly fifoLine: string;
}

/** DELETED: an instance a reload removed, with notify_deleted (keepalived 2.2 VRRP_STATE_DELETED). */
export type NotifyStateName = NotifyState | 'DELETED';

function roleFor(state: NotifyStateName): NotifyRole {
  switch (state) {
    case 'MASTER': return 'master';
    case 'BACKUP': return 'backup';
    case 'FAULT': return 'fault';
    case 'STOP': return 'stop';
    case 'DELETED': return 'deleted';
  }
}

export function stateNotify(kind: NotifyKind, name: string, state: NotifyStateName, priority: number, scripts: NotifyScripts): NotifyCommands {
  const commands: string[][] = [];
  const users: (ScriptUserConfig | null)[] = [];
  const role = roleFor(state);
  const specific = scripts[role] ?? null;
  if (specific) {
    commands.push(splitWords(specific));
    users.push(scripts.users?.[role] ?? null);
  }
  const prio = kind === 'GROUP' ? 0 : priority;
  if (scripts.generic) {
    commands.push([...splitWords(scripts.generic), kind, name, state, String(prio)]);
    users.push(scripts.users?.generic ?? null);
  }
  return { commands, users, fifoLine: fifoLine(kind, name, state, prio) };
}

/** MASTER_RX_LOWER_PRI runs notify_master_rx_lower_pri as configured; the priority events only go to the FIFO. */
export function eventNotify(name: string, event: NotifyEvent, priority: number, scripts: NotifyScripts): NotifyCommands {
  const commands: string[][] = [];
  const users: (ScriptUserConfig | null)[] = [];
  if (event === 'MASTER_RX_LOWER_PRI' && scripts.masterRxLowerPri) {
    commands.push(splitWords(scripts.masterRxLowerPri));
    users.push(scripts.users?.masterRxLowerPri ?? null);
  }
  return { commands, users, fifoLine: fifoLine('INSTANCE', name, event, priority) };
}

export function fifoLine(kind: NotifyKind, name: string, state: string, priority: number): string {
  return `${kind} "${name}" ${state} ${priority}\n`;
}
