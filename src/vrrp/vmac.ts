// use_vmac: the macvlan interface that carries an instance's virtual MAC, as keepalived 2.2.7 builds it
// (vrrp_vmac.c netlink_link_add_vmac / netlink_link_del_vmac, vrrp_if_config.c set_interface_parameters /
// reset_interface_parameters):
//  * a macvlan in *private* mode on the instance's interface, named vrrp.VRID unless named, with MAC
//    00:00:5e:00:01:VRID, or 00:00:5e:00:02:VRID for IPv6 (RFC 5798 §7.3). Private mode also hands the vmac the frames another router sends
//    from the same virtual MAC (the kernel's macvlan treats them as "from" our own port), which is how a
//    BACKUP hears its MASTER;
//  * on the vmac: arp_ignore 1 (answer ARP only for its own addresses, the VIPs), accept_local 1 (hear
//    an advert sent from a local address), rp_filter 0 (receive while it has no address of its own), and
//    IPv6 off unless IPv6 addresses go on it (no link-local address, no DAD from the virtual MAC);
//  * on the base interface, while a vmac uses it: arp_ignore 1 and arp_filter 1, so the base never answers
//    ARP for a VIP with the real MAC; the earlier values come back when the last vmac on it goes;
//  * IPv6 instead: no kernel-generated link-local address on the vmac (addrgenmode none, RFC 5798 §7.4
//    wants adverts from a real router address), but the base's link-local address (or mcast_src_ip /
//    unicast_src_ip, or the EUI-64 address of the base's MAC) added to it, so adverts leave from the
//    vmac with the same source address as without it; the IPv4 sysctls are not touched;
//  * brought up after that, deleted on stop (and when a reload removes the instance).
// An interface of that name left by a crashed run is reused only after it was deleted, and only when it
// is a macvlan (never a physical interface). `ip` does the netlink work; sysctls go through /proc/sys.
import type { ResolvedInstance, ResolvedVmac } from './config.ts';
import type { VrrpHost } from './host.ts';
import type { LinkInfo } from '../sys/ip.ts';

/** Written on the vmac (vrrp_if_config.c vmac_sysctl). */
export const VMAC_SYSCTLS: readonly (readonly [string, string])[] = [['arp_ignore', '1'], ['accept_local', '1'], ['rp_filter', '0']];
/** Written on the base interface (vrrp_if_config.c parent_sysctl). */
export const BASE_SYSCTLS: readonly (readonly [string, string])[] = [['arp_ignore', '1'], ['arp_filter', '1']];

export function sysctlPath(family: 4 | 6, ifname: string, key: string): string {
  return `/proc/sys/net/ipv${family}/conf/${ifname}/${key}`;
}

/** `ip` arguments that create the vmac (still down). */
export function vmacAddArgs(base: string, v: ResolvedVmac): string[] {
  return ['link', 'add', 'link', base, 'name', v.name, 'address', v.mac, 'type', 'macvlan', 'mode', 'private'];
}

/** The interface an instance's addresses (without their own `dev`) and GARPs use: the vmac, else its interface. */
export function vipInterface(c: ResolvedInstance): string | null {
  return c.vmac?.name ?? c.interface;
}

/** The interface its VRRP sockets use: the vmac, unless vmac_xmit_base (or no vmac). */
export function advertInterface(c: ResolvedInstance): string | null {
  return c.vmac && !c.vmac.xmitBase ? c.vmac.name : c.interface;
}

/** The modified EUI-64 link-local address of a MAC (RFC 4291 appendix A), keepalived's make_link_local_address. */
export function linkLocalFromMac(mac: Uint8Array): string {
  const h = (a: number, b: number) => ((a << 8) | b).toString(16);
  return `fe80::${h(mac[0] ^ 0x02, mac[1])}:${h(mac[2], 0xff)}:${h(0xfe, mac[3])}:${h(mac[4], mac[5])}`;
}

/** The address an IPv6 vmac carries: the configured source, else the base's link-local address, else its EUI-64 one. */
export function vmacLinkLocal(c: ResolvedInstance, base: LinkInfo | undefined): string | null {
  if (c.srcAddr?.family === 6) return c.srcAddr.text;
  const ll = base?.addrs.find((a) => a.family === 6 && a.address.toLowerCase().startsWith('fe80'));
  if (ll) return ll.address;
  return base?.mac ? linkLocalFromMac(base.mac) : null;
}

interface BaseUse {
  users: number;
  /** Values found before we changed them; null = nothing changed (they were 1 already). */
  saved: Map<string, string> | null;
}

/** Creates and deletes the vmacs of one VRRP process, and keeps the base interfaces' ARP settings. */
export class VmacManager {
  private readonly host: VrrpHost;
  /** vmac name → its base interface (null: IPv6, the base left as it was), for the vmacs this process created. */
  private readonly created = new Map<string, string | null>();
  private readonly bases = new Map<string, BaseUse>();

  constructor(host: VrrpHost) {
    this.host = host;
  }

  has(name: string): boolean {
    return this.created.has(name);
  }

  names(): string[] {
    return [...this.created.keys()];
  }

  /** Create and bring up the instance's vmac; false (logged) when it could not be made. `baseLink`: its interface as read now. */
  async create(c: ResolvedInstance, baseLink?: LinkInfo): Promise<boolean> {
    const v = c.vmac;
    const base = c.interface;
    if (!v || !base) return false;
    if (this.created.has(v.name)) return true;
    const h = this.host;
    let r = await h.ip.run(vmacAddArgs(base, v));
    if (!r.ok && /File exists/i.test(r.stderr)) {
      // Left by an earlier run (a crash), or another interface of that name: only a macvlan is removed.
      const show = await h.ip.run(['-d', '-j', 'link', 'show', 'dev', v.name]);
      let kind: string | undefined;
      try {
        kind = (JSON.parse(show.stdout || '[]') as { linkinfo?: { info_kind?: string } }[])[0]?.linkinfo?.info_kind;
      } catch {
        kind = undefined;
      }
      if (kind !== 'macvlan') {
        h.log('error', `(${c.name}) cannot create VMAC interface ${v.name}: an interface of that name exists and is not a macvlan`);
        return false;
      }
      h.log('info', `vmac: Removing old VMAC interface ${v.name} for vrrp_instance ${c.name}`);
      await h.ip.run(['link', 'del', 'dev', v.name]);
      r = await h.ip.run(vmacAddArgs(base, v));
    }
    if (!r.ok) {
      h.log('error', `(${c.name}): Unable to create VMAC interface ${v.name}: ${r.command}: ${r.stderr}`);
      return false;
    }
    h.log('info', `(${c.name}): Success creating VMAC interface ${v.name}`);
    if (c.family === 6) {
      this.created.set(v.name, null);
      const gen = await h.ip.run(['link', 'set', 'dev', v.name, 'addrgenmode', 'none']);
      if (!gen.ok) h.log('info', `vmac: Error setting ADDR_GEN_MODE to NONE: ${gen.stderr}`);
      const ll = vmacLinkLocal(c, baseLink);
      const add = ll ? await h.ip.run(['-6', 'addr', 'add', `${ll}/64`, 'dev', v.name, 'nodad']) : null;
      if (!add?.ok) h.log('info', `Adding link-local address to vmac failed${add ? `: ${add.stderr}` : ': the base interface has none'}`);
    } else {
      this.created.set(v.name, base);
      for (const [k, val] of VMAC_SYSCTLS) this.sysctl(4, v.name, k, val);
      // keepalived link_set_ipv6(false) unless IPv6 excluded addresses will live on the vmac.
      const v6 = c.evips.some((e) => e.addr.family === 6 && (e.dev ?? v.name) === v.name);
      if (!v6) this.sysctl(6, v.name, 'disable_ipv6', '1');
      this.useBase(base);
    }
    const up = await h.ip.run(['link', 'set', 'dev', v.name, 'up']);
    if (!up.ok) h.log('error', `(${c.name}) ${up.command}: ${up.stderr}`);
    return true;
  }

  /** Delete a vmac this process created; the base's ARP settings come back with its last vmac. */
  async remove(name: string, instance: string): Promise<void> {
    if (!this.created.has(name)) return;
    const base = this.created.get(name) ?? null;
    this.created.delete(name);
    const r = await this.host.ip.run(['link', 'del', 'dev', name]);
    if (r.ok || /Cannot find device/i.test(r.stderr)) this.host.log('info', `vmac: Success removing VMAC interface ${name} for vrrp_instance ${instance}`);
    else this.host.log('error', `vmac: Error removing VMAC interface ${name} for vrrp_instance ${instance}: ${r.stderr}`);
    if (base !== null) this.releaseBase(base);
  }

  private useBase(base: string): void {
    const u = this.bases.get(base);
    if (u) {
      u.users++;
      return;
    }
    const saved = new Map<string, string>();
    for (const [k] of BASE_SYSCTLS) {
      const cur = this.host.readFile(sysctlPath(4, base, k));
      if (cur !== null) saved.set(k, cur.trim());
    }
    const already = BASE_SYSCTLS.every(([k, val]) => saved.get(k) === val);
    if (!already) for (const [k, val] of BASE_SYSCTLS) this.sysctl(4, base, k, val);
    this.bases.set(base, { users: 1, saved: already ? null : saved });
  }

  private releaseBase(base: string): void {
    const u = this.bases.get(base);
    if (!u || --u.users > 0) return;
    this.bases.delete(base);
    for (const [k, val] of u.saved ?? []) this.sysctl(4, base, k, val);
  }

  private sysctl(family: 4 | 6, ifname: string, key: string, value: string): void {
    try {
      this.host.writeFile(sysctlPath(family, ifname, key), `${value}\n`);
    } catch (e) {
      this.host.log('warn', `vmac: cannot set ${sysctlPath(family, ifname, key)} to ${value}: ${(e as Error).message}`);
    }
  }
}
