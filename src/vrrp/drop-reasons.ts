// Every reason a received VRRP packet is not acted on. Each is a stable name (a metric label and a log
// word); `keepalived` names the counter or log line keepalived uses for the same case (vrrp.c
// vrrp_check_packet, vrrp_scheduler.c vrrp_dispatcher_read), so figures can be compared.

export const DROP_REASONS = {
  too_short: { keepalived: 'log "VRRP packet too short"', text: 'shorter than the IP, AH and VRRP headers' },
  truncated: { keepalived: 'log "message truncated"', text: 'larger than the receive buffer (MSG_TRUNC)' },
  unknown_vrid: { keepalived: 'log "Unknown VRID"', text: 'no instance here uses this VRID on this socket' },
  not_running: { keepalived: 'ignored in FAULT/INIT', text: 'the instance is in INIT, FAULT or stopped and reads nothing' },
  cast_mismatch: { keepalived: 'addr_list_err "Expected multicast/unicast"', text: 'multicast advert on a unicast instance or the reverse' },
  ah_mismatch: { keepalived: 'authtype_mismatch "AH header"', text: 'AH header present without auth_type AH, or missing with it' },
  length_mismatch: { keepalived: 'packet_len_err', text: 'length differs from what the address count implies' },
  ttl_invalid: { keepalived: 'ip_ttl_err', text: 'multicast TTL / hop limit is not 255 (RFC 3768 §7.1)' },
  version_mismatch: { keepalived: 'vers_err', text: 'VRRP version differs from the instance version' },
  auth_type_invalid: { keepalived: 'invalid_authtype', text: 'v2 auth type is not 0, 1 or 2' },
  auth_type_mismatch: { keepalived: 'authtype_mismatch', text: 'v2 auth type differs from the configured one' },
  auth_pass_invalid: { keepalived: 'auth_failure "invalid passwd"', text: 'v2 PASS password differs' },
  ah_not_vrrp: { keepalived: 'VRRP_PACKET_DROP', text: 'AH header protects another protocol' },
  ah_icv_invalid: { keepalived: 'auth_failure "invalid IPSEC HMAC-MD5"', text: 'AH HMAC-MD5-96 does not verify' },
  ah_spi_invalid: { keepalived: 'auth_failure "invalid IPSEC SPI"', text: 'AH SPI is not the sender address' },
  ah_replay: { keepalived: 'auth_failure "sequence number already processed"', text: 'AH sequence number not above the last one' },
  interval_mismatch: { keepalived: 'VRRP_PACKET_DROP "advertisement interval mismatch"', text: 'v2 advert interval differs from ours' },
  type_invalid: { keepalived: 'invalid_type_rcvd', text: 'VRRP type is not 1 (ADVERTISEMENT)' },
  addr_count_mismatch: { keepalived: 'addr_list_err "unexpected ip number count"', text: 'address count differs from our virtual_ipaddress count' },
  ip_length_mismatch: { keepalived: 'packet_len_err "ip_tot_len mismatch"', text: 'IPv4 total length differs from the bytes received' },
  checksum_invalid: { keepalived: 'chk_err', text: 'VRRP checksum does not verify' },
  addr_list_mismatch: { keepalived: 'addr_list_err "not present in MASTER advert"', text: 'one of our virtual addresses is missing from the advert' },
  unicast_src_not_peer: { keepalived: 'log "not a unicast peer"', text: 'unicast advert from an address not in unicast_peer (check_unicast_src)' },
  unicast_ttl_out_of_range: { keepalived: 'ip_ttl_err "TTL/HL not in range"', text: 'unicast TTL outside the peer min_ttl..max_ttl' },
} as const;

export type DropReason = keyof typeof DROP_REASONS;

export const DROP_REASON_NAMES = Object.keys(DROP_REASONS) as DropReason[];
