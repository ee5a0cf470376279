// The core's error catalogue. Each code is stable (API bodies and metrics use it) and carries the
// errno the kernel returns for the same mistake, so keepvsadm can print ipvsadm's exact text
// (libipvs.c: ipvs_strerror maps (operation, errno) to a message).

export const CORE_ERRORS = {
  ADDR_INVALID: { errno: 'EINVAL', text: 'invalid address' },
  PORT_INVALID: { errno: 'EINVAL', text: 'port out of range 0..65535' },
  PROTOCOL_INVALID: { errno: 'EINVAL', text: 'protocol must be tcp, udp or sctp' },
  FWMARK_INVALID: { errno: 'EINVAL', text: 'firewall mark out of range 1..4294967295' },
  SERVICE_EXISTS: { errno: 'EEXIST', text: 'Service already exists' },
  SERVICE_NOT_FOUND: { errno: 'ESRCH', text: 'No such service' },
  DEST_EXISTS: { errno: 'EEXIST', text: 'Destination already exists' },
  DEST_NOT_FOUND: { errno: 'ENOENT', text: 'No such destination' },
  SCHEDULER_NOT_FOUND: { errno: 'ENOENT', text: 'Scheduler or persistence engine not found' },
  PE_NOT_FOUND: { errno: 'ENOENT', text: 'Scheduler or persistence engine not found' },
  SCHED_FLAG_INCOMPATIBLE: { errno: 'EINVAL', text: 'incompatible scheduler flag' },
  ZERO_PORT_NON_PERSISTENT: { errno: 'EINVAL', text: 'Zero port specified for non-persistent service' },
  ONE_PACKET_NOT_UDP: { errno: 'EINVAL', text: 'One-Packet Scheduling is only for UDP virtual services' },
  TIMEOUT_INVALID: { errno: 'EINVAL', text: 'persistence timeout out of range 1..2678400' },
  NETMASK_INVALID: { errno: 'EINVAL', text: 'invalid netmask' },
  WEIGHT_RANGE: { errno: 'ERANGE', text: 'weight out of range 0..65535' },
  THRESHOLD_RANGE: { errno: 'ERANGE', text: 'threshold out of range' },
  LOWER_ABOVE_UPPER: { errno: 'ERANGE', text: 'lower threshold is above the upper threshold' },
  FAMILY_MISMATCH: { errno: 'EAFNOSUPPORT', text: 'Different address family is allowed only for tunneling servers' },
  TUNNEL_INVALID: { errno: 'EINVAL', text: 'invalid tunnel options' },
  PROXY_PROTOCOL_INVALID: { errno: 'EINVAL', text: 'invalid PROXY protocol choice' },
  TOO_MANY_DESTS: { errno: 'EINVAL', text: 'too many destinations for the scheduler table' },
  SET_TIMEOUT_INVALID: { errno: 'EINVAL', text: 'timeout out of range 0..2678400' },
  NO_DEST_AVAILABLE: { errno: 'ENOENT', text: 'no destination available' },
  INVALID: { errno: 'EINVAL', text: 'invalid argument' },
} as const;

export type CoreErrorCode = keyof typeof CORE_ERRORS;
export type Errno = (typeof CORE_ERRORS)[CoreErrorCode]['errno'];

export interface CoreError {
  readonly code: CoreErrorCode;
  readonly errno: Errno;
  readonly message: string;
  readonly context: Readonly<Record<string, unknown>>;
}

export function coreError(code: CoreErrorCode, message?: string, context: Record<string, unknown> = {}): CoreError {
  const def = CORE_ERRORS[code];
  return { code, errno: def.errno, message: message ?? def.text, context };
}
