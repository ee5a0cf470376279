// keepalived-like text log lines (DESIGN.md; style-and-ecosystem.md B1: users grep keepalived's
// messages, so text beats JSON here). With -l/--log-console a line is "<ctime>: message", as
// keepalived prints to the console; without -l keepalived would go to syslog, and keepvs writes the
// syslog-shaped "keepvs[PID]: message" to stderr instead (journald adds the time), until a syslog
// sink exists. Debug lines appear only with -D/--log-detail.
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface Logger {
  log(level: LogLevel, message: string): void;
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export interface LoggerOptions {
  /** -l: console format with a timestamp. */
  readonly console: boolean;
  /** -D: include debug lines. */
  readonly detail: boolean;
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
  readonly pid?: number;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** strftime("%c") in the C locale, which keepalived's console lines start with: "Mon Nov 24 08:15:00 2025". */
export function ctime(d: Date): string {
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} `
    + `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

export function createLogger(opts: LoggerOptions): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = opts.now ?? (() => new Date());
  const pid = opts.pid ?? process.pid;
  const log = (level: LogLevel, message: string): void => {
    if (level === 'debug' && !opts.detail) return;
    for (const part of message.split('\n')) {
      write(opts.console ? `${ctime(now())}: ${part}` : `keepvs[${pid}]: ${part}`);
    }
  };
  return {
    log,
    error: (m) => log('error', m),
    warn: (m) => log('warn', m),
    info: (m) => log('info', m),
    debug: (m) => log('debug', m),
  };
}
