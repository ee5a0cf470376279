// An IpRunner for tests: records every command and keeps a model of interfaces and their addresses, so
// `ip -j addr show` reflects what earlier `ip addr add/del` did. Routes and rules are recorded as sets.
import type { IpResult, IpRunner } from '../ip.ts';

export interface FakeLink {
  name: string;
  index: number;
  mac: string;
  up: boolean;
  addrs: { family: 4 | 6; address: string; prefixlen: number }[];
}

export class FakeIpRunner implements IpRunner {
  readonly commands: string[] = [];
  readonly links = new Map<string, FakeLink>();
  readonly routes = new Set<string>();
  readonly rules = new Set<string>();
  /** Make commands matching this fail (e.g. /route add/). */
  failOn: RegExp | null = null;

  addLink(name: string, mac: string, addrs: string[] = [], up = true): FakeLink {
    const link: FakeLink = {
      name, index: this.links.size + 2, mac, up,
      addrs: addrs.map((a) => {
        const [address, p] = a.split('/');
        const family = address.includes(':') ? 6 as const : 4 as const;
        return { family, address, prefixlen: Number(p ?? (family === 4 ? 32 : 128)) };
      }),
    };
    this.links.set(name, link);
    return link;
  }

  /** Addresses on a link, as "addr/prefix". */
  addressesOf(name: string): string[] {
    return (this.links.get(name)?.addrs ?? []).map((a) => `${a.address}/${a.prefixlen}`);
  }

  private result(command: string, ok: boolean, stdout = '', stderr = ''): IpResult {
    return { ok, code: ok ? 0 : 2, stdout, stderr, command };
  }

  async run(args: readonly string[]): Promise<IpResult> {
    const command = `ip ${args.join(' ')}`;
    this.commands.push(command);
    if (this.failOn && this.failOn.test(command)) return this.result(command, false, '', 'RTNETLINK answers: Operation not permitted');
    const a = args[0] === '-4' || args[0] === '-6' ? args.slice(1) : [...args];
    if (a[0] === '-j' && a[1] === 'addr' && a[2] === 'show') {
      const out = [...this.links.values()].map((l) => ({
        ifindex: l.index, ifname: l.name, flags: l.up ? ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'] : ['BROADCAST', 'MULTICAST'],
        mtu: 1500, address: l.mac,
        addr_info: l.addrs.map((x, i) => ({ family: x.family === 4 ? 'inet' : 'inet6', local: x.address, prefixlen: x.prefixlen, secondary: i > 0 && x.family === 4, scope: 'global' })),
      }));
      return this.result(command, true, JSON.stringify(out));
    }
    if (a[0] === 'addr' && (a[1] === 'add' || a[1] === 'del')) {
      const [address, p] = a[2].split('/');
      const dev = a[a.indexOf('dev') + 1];
      const link = this.links.get(dev);
      if (!link) return this.result(command, false, '', `Cannot find device "${dev}"`);
      const i = link.addrs.findIndex((x) => x.address === address);
      if (a[1] === 'add') {
        if (i >= 0) return this.result(command, false, '', 'RTNETLINK answers: File exists');
        link.addrs.push({ family: address.includes(':') ? 6 : 4, address, prefixlen: Number(p) });
      } else {
        if (i < 0) return this.result(command, false, '', 'RTNETLINK answers: Cannot assign requested address');
        link.addrs.splice(i, 1);
      }
      return this.result(command, true);
    }
    if (a[0] === 'link' && a[1] === 'add' && a[2] === 'link') {
      // `link add link BASE name NAME address MAC type macvlan ...` (use_vmac): a new link, down.
      const name = a[a.indexOf('name') + 1];
      if (!this.links.has(a[3])) return this.result(command, false, '', `Cannot find device "${a[3]}"`);
      if (this.links.has(name)) return this.result(command, false, '', 'RTNETLINK answers: File exists');
      this.addLink(name, a.includes('address') ? a[a.indexOf('address') + 1] : '02:00:00:00:00:00', [], false);
      return this.result(command, true);
    }
    if (a[0] === 'link' && (a[1] === 'del' || a[1] === 'set') && a[2] === 'dev') {
      const link = this.links.get(a[3]);
      if (!link) return this.result(command, false, '', `Cannot find device "${a[3]}"`);
      if (a[1] === 'del') this.links.delete(a[3]);
      else if (a[4] === 'up' || a[4] === 'down') link.up = a[4] === 'up';
      return this.result(command, true);
    }
    if (a[0] === 'route' || a[0] === 'rule') {
      const set = a[0] === 'route' ? this.routes : this.rules;
      const key = a.slice(2).join(' ');
      if (a[1] === 'add') {
        if (set.has(key)) return this.result(command, false, '', 'RTNETLINK answers: File exists');
        set.add(key);
      } else if (a[1] === 'del') {
        if (!set.delete(key)) return this.result(command, false, '', 'RTNETLINK answers: No such process');
      }
      return this.result(command, true);
    }
    return this.result(command, true);
  }
}
