// The VRRP room's error and warning catalogue. Codes are stable (API bodies, logs, tests). keepalived
// reports most instance mistakes and runs on with a corrected value (vrrp.c vrrp_complete_instance), so
// most entries are warnings; the errors stop the instance from running. `text` is the generic meaning;
// each diagnostic carries its own message naming the instance and field.

export const VRRP_ERRORS = {
  // Configuration, fatal for the instance.
  VRID_INVALID: { severity: 'error', text: 'virtual_router_id must be 1..255' },
  PRIORITY_INVALID: { severity: 'error', text: 'priority must be 1..255' },
  ADDR_INVALID: { severity: 'error', text: 'not a valid IP address' },
  FAMILY_MIXED: { severity: 'error', text: 'virtual_ipaddress mixes IPv4 and IPv6' },
  NO_VIP: { severity: 'error', text: 'VRRPv3 and strict mode need at least one virtual_ipaddress' },
  NO_INTERFACE: { severity: 'error', text: 'an instance needs an interface, or unicast_src_ip with unicast peers' },
  UNICAST_IN_STRICT: { severity: 'error', text: 'unicast peers are not supported in strict mode' },
  USE_VMAC_UNSUPPORTED: { severity: 'error', text: 'use_ipvlan is not supported yet' },
  VALUE_INVALID: { severity: 'error', text: 'value out of range or malformed' },
  DUPLICATE_INSTANCE: { severity: 'error', text: 'two instances share a name, or a VRID on the same interface and family' },
  SCRIPT_UNKNOWN: { severity: 'error', text: 'track_script names no vrrp_script' },
  TRACK_FILE_UNKNOWN: { severity: 'error', text: 'track_file names no track_file block' },
  TRACK_PROCESS_UNKNOWN: { severity: 'error', text: 'track_process names no vrrp_track_process block' },
  // Configuration, corrected and reported (keepalived's "... - resetting", "rounding", "ignoring").
  ADVERT_INT_ROUNDED: { severity: 'warning', text: 'advert_int rounded to what the version can carry' },
  AUTH_IGNORED: { severity: 'warning', text: 'authentication ignored (VRRPv3, strict mode, IPv6 AH, or no password)' },
  AUTH_PASS_TRUNCATED: { severity: 'warning', text: 'auth_pass truncated to 8 characters' },
  NOPREEMPT_IGNORED: { severity: 'warning', text: 'nopreempt ignored with state MASTER or priority 255' },
  PREEMPT_DELAY_IGNORED: { severity: 'warning', text: 'preempt_delay ignored with state MASTER, nopreempt or strict mode' },
  STRICT_RESET: { severity: 'warning', text: 'an option was reset because strict mode forbids it' },
  STATE_CLEARED: { severity: 'warning', text: 'initial state MASTER cleared (AH needs a received advert first; strict needs priority 255)' },
  VERSION_FORCED: { severity: 'warning', text: 'IPv6 instances use VRRPv3' },
  NO_VIP_WARNING: { severity: 'warning', text: 'no virtual_ipaddress; at least one is sensible' },
  VIPS_MOVED_TO_EXCLUDED: { severity: 'warning', text: 'more addresses than fit in an advert; the excess is not advertised' },
  FIRST_IPV6_VIP_NOT_LINK_LOCAL: { severity: 'warning', text: 'the first IPv6 virtual address should be link-local' },
  UNICAST_WITHOUT_PEERS: { severity: 'warning', text: 'a unicast keyword without unicast_peer: multicast is used' },
  MCAST_DST_WITH_UNICAST: { severity: 'warning', text: 'mcast_dst_ip ignored with unicast peers' },
  SYNC_GROUP_MEMBER_UNKNOWN: { severity: 'warning', text: 'sync group names an instance that does not exist; ignored' },
  SYNC_GROUP_WEIGHT_IGNORED: { severity: 'warning', text: 'weighted trackers of a sync group member are ignored (sync_group_tracking_weight not set)' },
  SYNC_GROUP_SINGLE: { severity: 'warning', text: 'sync group has only one instance' },
  ROUTE_UNSUPPORTED: { severity: 'warning', text: 'a virtual_routes / virtual_rules entry keepvs cannot apply; skipped' },
  ACCEPT_IGNORED: { severity: 'warning', text: 'accept/no_accept needs a firewall keepvs does not manage yet; addresses always accept' },
  // Run time.
  SOCKET_FAILED: { severity: 'error', text: 'the raw VRRP socket could not be opened' },
  SEND_FAILED: { severity: 'error', text: 'an advertisement could not be sent' },
  IP_COMMAND_FAILED: { severity: 'error', text: 'an `ip` command failed (address, route or rule change)' },
  INTERFACE_MISSING: { severity: 'error', text: 'the interface does not exist or has no usable address' },
  NOTIFY_FAILED: { severity: 'error', text: 'a notify script could not be run' },
} as const;

export type VrrpErrorCode = keyof typeof VRRP_ERRORS;
export type Severity = 'error' | 'warning';

export interface VrrpDiagnostic {
  readonly code: VrrpErrorCode;
  readonly severity: Severity;
  /** Where: "vrrp_instance VI_1: advert_int". */
  readonly where: string;
  readonly message: string;
}

export function diagnostic(code: VrrpErrorCode, where: string, message?: string): VrrpDiagnostic {
  const def = VRRP_ERRORS[code];
  return { code, severity: def.severity, where, message: message ?? def.text };
}

/** A thrown run-time failure at an edge (socket, ip command), with its stable code. */
export class VrrpError extends Error {
  readonly code: VrrpErrorCode;
  readonly context: Readonly<Record<string, unknown>>;
  constructor(code: VrrpErrorCode, message: string, context: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.context = context;
  }
}
