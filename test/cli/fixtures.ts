// Snapshots for the keepvsadm tests: a table with every listing feature (sorting, sched flags,
// persistence with mask and pe, ops, IPv6 fwmark, tunnels of each type, K/M/G/T numbers), given in
// an order that the listing must re-sort.
import type { ConnSnapshot, DestSnapshot, InfoSnapshot, ServiceSnapshot, StatsSnapshot } from '../../src/core/snapshot.ts';

export const INFO: InfoSnapshot = { ipvsVersion: '1.2.1', connTableSize: 4096, keepvsVersion: '0.1.0', dataplane: 'proxy' };

export function stats(c: Partial<StatsSnapshot['counters']> = {}, r: Partial<StatsSnapshot['rates']> = {}): StatsSnapshot {
  return {
    counters: { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0, ...c },
    rates: { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0, ...r },
  };
}

export function dest(d: Partial<DestSnapshot> & Pick<DestSnapshot, 'addr' | 'port'>): DestSnapshot {
  return {
    family: d.addr.includes(':') ? 6 : 4, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0, activeConns: 0,
    inactConns: 0, persistConns: 0, overloaded: false, tunnel: null, stats: stats(), ...d,
  };
}

export function service(s: Partial<ServiceSnapshot> & Pick<ServiceSnapshot, 'kind'>): ServiceSnapshot {
  return {
    protocol: null, vip: null, port: 0, fwmark: 0, family: 4, scheduler: 'wlc', flags: 0, timeout: 0,
    netmask: s.family === 6 ? '128' : '255.255.255.255', pe: null, stats: stats(), dests: [], ...s,
  };
}

const BIG = { conns: 123456789, inpkts: 99999999, outpkts: 100000000, inbytes: 123456789012345, outbytes: 0 };

/** Services in creation order (not listing order); dests newest first, as the kernel keeps them. */
export const SERVICES: readonly ServiceSnapshot[] = [
  service({
    kind: 'fwmark', fwmark: 2, family: 6, scheduler: 'mh', flags: 0x1 | 0x8 | 0x10, timeout: 300, netmask: '64', pe: 'sip',
    dests: [
      dest({ addr: '2001:db8::5', port: 0, fwd: 'tunnel', weight: 2, tunnel: { type: 'gue', port: 6080, csum: 'remcsum' } }),
      dest({ addr: '2001:db8::4', port: 0, fwd: 'tunnel', weight: 3, tunnel: { type: 'gre', port: 0, csum: 'csum' } }),
    ],
  }),
  service({
    kind: 'addr', protocol: 'udp', vip: '10.0.0.1', port: 53, scheduler: 'sh', flags: 0x1 | 0x4 | 0x8 | 0x10, timeout: 360,
    netmask: '255.255.255.0', stats: stats(BIG),
    dests: [dest({ addr: '10.0.1.2', port: 53, fwd: 'route', weight: 5, inactConns: 1, stats: stats(BIG, { cps: 123456789, inbps: 123456789 }) })],
  }),
  service({ kind: 'fwmark', fwmark: 1, scheduler: 'rr', dests: [dest({ addr: '10.0.1.2', port: 0, fwd: 'tunnel' })] }),
  service({
    kind: 'addr', protocol: 'tcp', vip: '10.0.0.1', port: 80,
    stats: stats({ conns: 1234, inpkts: 56789, outpkts: 45678, inbytes: 3456789, outbytes: 123456789012 }, { cps: 12, inpps: 340, outpps: 310, inbps: 27000, outbps: 1900000 }),
    dests: [
      dest({ addr: '10.0.0.3', port: 80, weight: 0 }),
      dest({
        addr: '10.0.0.2', port: 80, weight: 1, activeConns: 12, inactConns: 340, persistConns: 3, uThreshold: 100, lThreshold: 50,
        stats: stats({ conns: 617, inpkts: 28394, outpkts: 22839, inbytes: 1728394, outbytes: 61728394506 }, { cps: 6, inpps: 170, outpps: 155, inbps: 13500, outbps: 950000 }),
      }),
    ],
  }),
];

function conn(c: Partial<ConnSnapshot> & Pick<ConnSnapshot, 'caddr' | 'cport' | 'vaddr' | 'vport' | 'daddr' | 'dport' | 'state' | 'expiresInMs'>): ConnSnapshot {
  return { protocol: 'tcp', family: c.caddr.includes(':') ? 6 : 4, template: false, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, ...c };
}

/** In the daemon's order (ipvsadm -c prints /proc/net/ip_vs_conn unsorted). */
export const CONNECTIONS: readonly ConnSnapshot[] = [
  conn({ caddr: '192.168.1.20', cport: 55746, vaddr: '10.0.0.1', vport: 80, daddr: '10.0.0.2', dport: 80, state: 'ESTABLISHED', expiresInMs: 897999 }),
  conn({ caddr: '192.168.1.21', cport: 40022, vaddr: '10.0.0.1', vport: 80, daddr: '10.0.0.3', dport: 80, state: 'FIN_WAIT', expiresInMs: 118500 }),
  conn({ protocol: 'udp', caddr: '192.168.1.22', cport: 5353, vaddr: '10.0.0.1', vport: 53, daddr: '10.0.1.2', dport: 53, state: 'UDP', expiresInMs: 299999 }),
  conn({ template: true, caddr: '192.168.1.20', cport: 0, vaddr: '10.0.0.1', vport: 443, daddr: '10.0.0.2', dport: 443, state: 'NONE', expiresInMs: 358000 }),
  conn({ protocol: 'ip', template: true, caddr: '192.168.1.20', cport: 0, vaddr: '0.0.0.1', vport: 0, daddr: '10.0.1.2', dport: 0, state: 'NONE', expiresInMs: 898001 }),
  conn({ protocol: 'sctp', caddr: '192.168.1.23', cport: 3868, vaddr: '10.0.0.1', vport: 3868, daddr: '10.0.0.4', dport: 3868, state: 'ESTABLISHED', expiresInMs: 5000 }),
  conn({ caddr: '2001:db8::100', cport: 40000, vaddr: '2001:db8::1', vport: 80, daddr: '2001:db8::2', dport: 80, state: 'SYN_RECV', expiresInMs: 59999 }),
  conn({ caddr: '192.168.1.24', cport: 1000, vaddr: '10.0.0.1', vport: 80, daddr: '10.0.0.2', dport: 80, state: 'CLOSE', expiresInMs: 6000000 }),
  conn({ caddr: '192.168.1.25', cport: 1001, vaddr: '10.0.0.1', vport: 80, daddr: '10.0.0.2', dport: 80, state: 'TIME_WAIT', expiresInMs: -5 }),
];
