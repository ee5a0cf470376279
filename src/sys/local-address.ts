// The addresses configured on this host's interfaces, for ha_suspend (keepalived learns them from
// netlink, check_daemon.c / check_api.c: update_checker_activity). os.networkInterfaces() reads
// them through getifaddrs(3); a poll once a second is cheap and needs no privilege.
import { networkInterfaces } from 'node:os';

/** Every address on every interface, in Node's canonical text (IPv6 compressed, lower case, no zone). */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.add(a.address.replace(/%.*$/, ''));
  }
  return out;
}
