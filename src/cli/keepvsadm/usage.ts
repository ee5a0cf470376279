// ipvsadm.c: version() and usage_exit(), with the program name as invoked (argv[0]).
// keepvs additions are marked "(keepvs)": the twos scheduler, --fullnat, --proxy-protocol, --exact-path,
// --explain/--client.

/** ipvsadm.c: version() — the compile-time IPVS version (1.2.1), not the running one. */
export const VERSION_LINE = 'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n';

/** The Makefile's SCHEDULERS file, plus twos (net/netfilter/ipvs/ip_vs_twos.c) which keepvs has. */
const SCHEDULERS = 'rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh|twos';
/** The Makefile's PERSISTENCE_ENGINES file. */
const PE_LIST = 'sip';

export function usageText(program: string): string {
  const p = program;
  return VERSION_LINE
    + 'Usage:\n'
    + `  ${p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n`
    + `  ${p} -D virtual-service\n`
    + `  ${p} -C\n`
    + `  ${p} -R\n`
    + `  ${p} -S [-n]\n`
    + `  ${p} -a|e virtual-service -r server-address [options]\n`
    + `  ${p} -d virtual-service -r server-address\n`
    + `  ${p} -L|l [virtual-service] [options]\n`
    + `  ${p} -Z [virtual-service]\n`
    + `  ${p} --set tcp tcpfin udp\n`
    + `  ${p} --start-daemon {master|backup} [daemon-options]\n`
    + `  ${p} --stop-daemon {master|backup}\n`
    + `  ${p} --explain virtual-service --client address[:port]\n`
    + `  ${p} -h\n\n`
    + 'Commands:\n'
    + 'Either long or short options are allowed.\n'
    + '  --add-service     -A        add virtual service with options\n'
    + '  --edit-service    -E        edit virtual service with options\n'
    + '  --delete-service  -D        delete virtual service\n'
    + '  --clear           -C        clear the whole table\n'
    + '  --restore         -R        restore rules from stdin\n'
    + '  --save            -S        save rules to stdout\n'
    + '  --add-server      -a        add real server with options\n'
    + '  --edit-server     -e        edit real server with options\n'
    + '  --delete-server   -d        delete real server\n'
    + '  --list            -L|-l     list the table\n'
    + '  --zero            -Z        zero counters in a service or all services\n'
    + '  --set tcp tcpfin udp        set connection timeout values\n'
    + '  --start-daemon              start connection sync daemon\n'
    + '  --stop-daemon               stop connection sync daemon\n'
    + '  --explain                   show which real server a client gets, and why (keepvs)\n'
    + '  --help            -h        display this help message\n\n'
    + 'virtual-service:\n'
    + '  --tcp-service|-t  service-address   service-address is host[:port]\n'
    + '  --udp-service|-u  service-address   service-address is host[:port]\n'
    + '  --sctp-service    service-address   service-address is host[:port]\n'
    + '  --fwmark-service|-f fwmark          fwmark is an integer greater than zero\n'
    + '\n'
    + 'Options:\n'
    + '  --ipv6         -6                   fwmark entry uses IPv6\n'
    + `  --scheduler    -s scheduler         one of ${SCHEDULERS},\n`
    + '                                      the default scheduler is wlc.\n'
    + `  --pe            engine              alternate persistence engine may be ${PE_LIST},\n`
    + '                                      not set by default.\n'
    + '  --persistent   -p [timeout]         persistent service\n'
    + '  --netmask      -M netmask           persistent granularity mask\n'
    + '  --real-server  -r server-address    server-address is host (and port)\n'
    + '  --gatewaying   -g                   gatewaying (direct routing) (default)\n'
    + '  --ipip         -i                   ipip encapsulation (tunneling)\n'
    + '  --masquerading -m                   masquerading (NAT)\n'
    + '  --fullnat                           full NAT: source and destination rewritten (keepvs)\n'
    + '  --proxy-protocol v1|v2|none         PROXY protocol header to real servers, with -A|E\n'
    + '                                      (service default) or -a|e (this server) (keepvs)\n'
    + '  --exact-path                        nft data plane: the core decides every new\n'
    + '                                      connection, with -A|E (keepvs)\n'
    + '  --tun-type      type                one of ipip|gue|gre,\n'
    + '                                      the default tunnel type is ipip.\n'
    + '  --tun-port      port                tunnel destination port\n'
    + '  --tun-nocsum                        tunnel encapsulation without checksum\n'
    + '  --tun-csum                          tunnel encapsulation with checksum\n'
    + '  --tun-remcsum                       tunnel encapsulation with remote checksum\n'
    + '  --weight       -w weight            capacity of real server\n'
    + '  --u-threshold  -x uthreshold        upper threshold of connections\n'
    + '  --l-threshold  -y lthreshold        lower threshold of connections\n'
    + '  --connection   -c                   output of current IPVS connections\n'
    + '  --timeout                           output of timeout (tcp tcpfin udp)\n'
    + '  --daemon                            output of daemon information\n'
    + '  --stats                             output of statistics information\n'
    + '  --rate                              output of rate information\n'
    + '  --exact                             expand numbers (display exact values)\n'
    + '  --thresholds                        output of thresholds information\n'
    + '  --persistent-conn                   output of persistent connection info\n'
    + '  --tun-info                          output of tunnel information\n'
    + '  --nosort                            disable sorting output of service/server entries\n'
    + '  --sort                              does nothing, for backwards compatibility\n'
    + '  --ops          -o                   one-packet scheduling\n'
    + '  --numeric      -n                   numeric output of addresses and ports\n'
    + '  --sched-flags  -b flags             scheduler flags (comma-separated)\n'
    + '  --client       address[:port]       client for --explain (keepvs)\n'
    + 'Daemon Options:\n'
    + '  --syncid sid                        syncid for connection sync (default=255)\n'
    + '  --sync-maxlen length                Max sync message length (default=1472)\n'
    + '  --mcast-interface interface         multicast interface for connection sync\n'
    + '  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)\n'
    + '  --mcast-port port                   UDP port (default=8848)\n'
    + '  --mcast-ttl ttl                     Multicast TTL (default=1)\n';
}

/** ipvsadm.c: tryhelp_exit */
export function tryHelpText(program: string): string {
  return `Try \`${program} -h' or '${program} --help' for more information.\n`;
}
