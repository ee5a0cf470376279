// keepvsadm's argv handling against ipvsadm.c (parse_options, process_options, generic_opt_check,
// tunnel_opt_check, parse_service, parse_sched_flags): which command lines are accepted, with what
// defaults, and the exact error text and exit code of each refusal. Expected values are read off
// ipvsadm.c by hand (messages are fail() texts + "\n"; fail exits 2, tryhelp_exit and popt errors 255).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine, VALIDITY, COMMANDS, OPTION_NAMES } from '../../src/cli/keepvsadm/parse.ts';
import { ServicesDb } from '../../src/config/endpoint.ts';

const DB = new ServicesDb('http\t\t80/tcp\t\twww # WorldWideWeb HTTP\ndomain\t\t53/udp\nsip\t\t5060/tcp\n');
const HOSTS: Record<string, number[]> = { web1: [10, 0, 0, 9] };
const ENV = {
  program: 'ipvsadm',
  hosts: (name: string) => (HOSTS[name] ? Uint8Array.from(HOSTS[name]) : null),
  services: (name: string, proto: number) => DB.portOf(name, proto === 6 ? 'tcp' : proto === 17 ? 'udp' : 'sctp'),
};

const TRY = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n";
const SVC = ['-t', '10.0.0.1:80'];
const RS = [...SVC, '-r', '10.0.0.2'];
const TCP80 = { protocol: 'tcp', vip: '10.0.0.1', port: 80 };
const DEFAULT_OPTS = { scheduler: 'wlc', persistent: null, netmask: null, pe: null, ops: false, schedFlags: [] };

type Want = { err: string; code: number; fatal?: boolean } | { cmd: Record<string, unknown> };

const ROWS: readonly { desc: string; args: string[]; want: Want }[] = [
  // -A / -E
  { desc: '-A defaults: wlc, not persistent', args: ['-A', ...SVC], want: { cmd: { cmd: 'add-service', service: TCP80, options: DEFAULT_OPTS } } },
  { desc: '-E also defaults the scheduler to wlc', args: ['-E', ...SVC], want: { cmd: { cmd: 'edit-service', options: DEFAULT_OPTS } } },
  { desc: '-p without a value is 360 s', args: ['-A', ...SVC, '-p'], want: { cmd: { options: { ...DEFAULT_OPTS, persistent: 360 } } } },
  { desc: '-p with a value and -s', args: ['-A', ...SVC, '-p', '60', '-s', 'rr'], want: { cmd: { options: { ...DEFAULT_OPTS, scheduler: 'rr', persistent: 60 } } } },
  { desc: '-p 0 is below the range 1..MAX_TIMEOUT', args: ['-A', ...SVC, '-p', '0'], want: { err: "invalid timeout value `0' specified\n", code: 2 } },
  { desc: '-p 2678401 is above 31 days', args: ['-A', ...SVC, '-p', '2678401'], want: { err: "invalid timeout value `2678401' specified\n", code: 2 } },
  { desc: '-p 2678400 is the maximum', args: ['-A', ...SVC, '-p', '2678400'], want: { cmd: { options: { ...DEFAULT_OPTS, persistent: 2678400 } } } },
  { desc: 'port 0 needs persistence', args: ['-A', '-t', '10.0.0.1'], want: { err: 'Zero port specified for non-persistent service\n', code: 2 } },
  { desc: 'port 0 with persistence is fine', args: ['-A', '-t', '10.0.0.1', '-p'], want: { cmd: { service: { ...TCP80, port: 0 } } } },
  { desc: '-o on TCP', args: ['-A', ...SVC, '-o'], want: { err: 'One-Packet Scheduling is only for UDP virtual services\n', code: 2 } },
  { desc: '-o on UDP', args: ['-A', '-u', '10.0.0.1:53', '-o'], want: { cmd: { service: { protocol: 'udp', vip: '10.0.0.1', port: 53 }, options: { ...DEFAULT_OPTS, ops: true } } } },
  { desc: '-o on a fwmark service', args: ['-A', '-f', '1', '-o'], want: { cmd: { service: { fwmark: 1, family: 4 }, options: { ...DEFAULT_OPTS, ops: true } } } },
  { desc: 'sh flags with sh, flag-3 kept', args: ['-A', ...SVC, '-s', 'sh', '-b', 'sh-port,flag-3'], want: { cmd: { options: { ...DEFAULT_OPTS, scheduler: 'sh', schedFlags: ['sh-port', 'flag-3'] } } } },
  { desc: 'flag-1 under sh is sh-fallback', args: ['-A', ...SVC, '-s', 'sh', '-b', 'flag-1'], want: { cmd: { options: { ...DEFAULT_OPTS, scheduler: 'sh', schedFlags: ['sh-fallback'] } } } },
  { desc: 'sh flag with the default wlc', args: ['-A', ...SVC, '-b', 'sh-port'], want: { err: "incompatible scheduler flag `sh-port'\n", code: 2 } },
  { desc: 'unknown sched flag', args: ['-A', ...SVC, '-s', 'sh', '-b', 'sh-port,,foo'], want: { err: "invalid scheduler flag `foo'\n", code: 2 } },
  { desc: '-b is read after every option: -s may follow', args: ['-A', ...SVC, '-b', 'mh-port', '-s', 'mh'], want: { cmd: { options: { ...DEFAULT_OPTS, scheduler: 'mh', schedFlags: ['mh-port'] } } } },
  { desc: 'sched flag errors come before the validity table', args: ['-L', '-b', 'foo'], want: { err: "invalid scheduler flag `foo'\n", code: 2 } },
  { desc: 'IPv4 netmask', args: ['-A', ...SVC, '-p', '-M', '255.255.255.0'], want: { cmd: { options: { ...DEFAULT_OPTS, persistent: 360, netmask: '255.255.255.0' } } } },
  { desc: 'netmask by inet_aton', args: ['-A', ...SVC, '-M', '0xffffff00'], want: { cmd: { options: { ...DEFAULT_OPTS, netmask: '255.255.255.0' } } } },
  { desc: 'bad IPv4 netmask', args: ['-A', ...SVC, '-M', 'bad!'], want: { err: 'illegal virtual server persistent mask specified\n', code: 2 } },
  { desc: 'IPv6 prefix', args: ['-A', '-t', '[2001:db8::1]:80', '-p', '-M', '64'], want: { cmd: { service: { protocol: 'tcp', vip: '2001:db8::1', port: 80 }, options: { ...DEFAULT_OPTS, persistent: 360, netmask: '64' } } } },
  { desc: 'IPv6 prefix out of range', args: ['-A', '-t', '[2001:db8::1]:80', '-M', '129'], want: { err: 'illegal ipv6 netmask specified\n', code: 2 } },
  { desc: 'a v6 service resets an earlier -M to 128', args: ['-A', '-M', '255.0.0.0', '-t', '[2001:db8::1]:80'], want: { cmd: { options: DEFAULT_OPTS } } },
  { desc: 'fwmark IPv6', args: ['-A', '-f', '1', '-6', '-p'], want: { cmd: { service: { fwmark: 1, family: 6 } } } },
  { desc: '-6 before -f (fail adds a second newline)', args: ['-A', '-6', '-f', '1'], want: { err: '-6 used before -f\n\n', code: 2 } },
  { desc: '--pe', args: ['-A', ...SVC, '-p', '--pe', 'sip'], want: { cmd: { options: { ...DEFAULT_OPTS, persistent: 360, pe: 'sip' } } } },
  { desc: '--sort is a no-op accepted with any command', args: ['-A', ...SVC, '--sort'], want: { cmd: { cmd: 'add-service' } } },
  { desc: 'scheduler names are cut to 15 characters', args: ['-A', ...SVC, '-s', 'abcdefghijklmnopq'], want: { cmd: { options: { ...DEFAULT_OPTS, scheduler: 'abcdefghijklmno' } } } },
  { desc: '-r with -A', args: ['-A', ...SVC, '-r', '10.0.0.2'], want: { err: "Illegal 'real-server' option with the 'add-service' command\n", code: 2 } },
  { desc: '-A without a service', args: ['-A'], want: { err: "You need to supply the 'service-address' option for the 'add-service' command\n", code: 2 } },
  { desc: 'two services', args: ['-A', ...SVC, '-u', '10.0.0.1:53'], want: { err: "multiple 'service-address' options specified\n", code: 2 } },
  { desc: 'a second command is an invalid option', args: ['-A', ...SVC, '-E'], want: { err: "invalid option `-E'\n", code: 2 } },
  { desc: 'a second command in a bundle names the bundle', args: ['-LA'], want: { err: "invalid option `-LA'\n", code: 2 } },
  { desc: '-h after the command', args: ['-L', '-h'], want: { err: "invalid option `-h'\n", code: 2 } },
  { desc: 'value errors come in argv order, before a later popt error', args: ['-A', '-t', 'bad!', '--foo'], want: { err: 'illegal virtual server address[:port] specified\n', code: 2 } },

  // service addresses (parse_service)
  { desc: 'an all-digit address is refused', args: ['-A', '-t', '1234'], want: { err: 'illegal virtual server address[:port] specified\n', code: 2 } },
  { desc: 'host and service names', args: ['-A', '-t', 'web1:http'], want: { cmd: { service: { protocol: 'tcp', vip: '10.0.0.9', port: 80 } } } },
  { desc: 'service name alias', args: ['-A', '-t', 'web1:www'], want: { cmd: { service: { protocol: 'tcp', vip: '10.0.0.9', port: 80 } } } },
  { desc: 'service names are per protocol', args: ['-A', '-u', 'web1:http'], want: { err: 'illegal virtual server address[:port] specified\n', code: 2 } },
  { desc: 'unknown host', args: ['-A', '-t', 'nohost:80'], want: { err: 'illegal virtual server address[:port] specified\n', code: 2 } },
  { desc: 'port out of range', args: ['-A', '-t', '10.0.0.1:65536'], want: { err: 'illegal virtual server address[:port] specified\n', code: 2 } },
  { desc: 'bracketed v6 needs a port', args: ['-A', '-t', '[2001:db8::1]', '-p'], want: { err: 'illegal virtual server address[:port] specified\n', code: 2 } },
  { desc: 'bare v6 has no port', args: ['-A', '-t', '2001:db8::1', '-p'], want: { cmd: { service: { protocol: 'tcp', vip: '2001:db8::1', port: 0 } } } },
  { desc: 'IPv4 in brackets loses its port', args: ['-A', '-t', '[10.0.0.1]:80', '-p'], want: { cmd: { service: { ...TCP80, port: 0 } } } },
  { desc: 'inet_aton short form', args: ['-A', '-t', '10.1:80'], want: { cmd: { service: TCP80 } } },
  { desc: 'port by strtol: sign accepted', args: ['-A', '-t', '10.0.0.1:+80'], want: { cmd: { service: TCP80 } } },
  { desc: 'SCTP service', args: ['-A', '--sctp-service', '10.0.0.1:80'], want: { cmd: { service: { ...TCP80, protocol: 'sctp' } } } },
  { desc: 'fwmark 0', args: ['-A', '-f', '0'], want: { err: "invalid fwmark value `0' specified\n", code: 2 } },
  { desc: 'fwmark above UINT_MAX', args: ['-A', '-f', '4294967296'], want: { err: "invalid fwmark value `4294967296' specified\n", code: 2 } },
  { desc: 'fwmark UINT_MAX', args: ['-A', '-f', '4294967295'], want: { cmd: { service: { fwmark: 4294967295, family: 4 } } } },

  // -D -C
  { desc: '-D with -s', args: ['-D', ...SVC, '-s', 'rr'], want: { err: "Illegal 'scheduler' option with the 'delete-service' command\n", code: 2 } },
  { desc: '-D', args: ['-D', ...SVC], want: { cmd: { cmd: 'delete-service', service: TCP80 } } },
  { desc: '-C', args: ['-C'], want: { cmd: { cmd: 'flush' } } },
  { desc: '-C -n', args: ['-C', '-n'], want: { err: "Illegal 'numeric' option with the 'flush' command\n", code: 2 } },

  // -L
  { desc: '-L', args: ['-L'], want: { cmd: { cmd: 'list', target: { kind: 'all' } } } },
  { desc: '-Ln', args: ['-Ln'], want: { cmd: { cmd: 'list', target: { kind: 'all' } } } },
  { desc: '-lnc', args: ['-lnc'], want: { cmd: { cmd: 'list', target: { kind: 'connections' } } } },
  { desc: '-L service', args: ['-L', ...SVC], want: { cmd: { cmd: 'list', target: { kind: 'service', service: TCP80 } } } },
  { desc: '-L --timeout', args: ['-L', '--timeout'], want: { cmd: { cmd: 'list', target: { kind: 'timeout' } } } },
  { desc: '-L --daemon', args: ['-L', '--daemon'], want: { cmd: { cmd: 'list', target: { kind: 'daemon' } } } },
  { desc: '-c and a service are exclusive', args: ['-L', '-c', ...SVC], want: { err: "The option 'service-address' conflicts with the 'connection' option in the 'list' command\n", code: 2 } },
  { desc: '--timeout with --stats', args: ['-L', '--timeout', '--stats'], want: { err: 'options conflicts in the list command\n', code: 2 } },
  { desc: '-c with --rate', args: ['-L', '-c', '--rate'], want: { err: 'options conflicts in the list command\n', code: 2 } },
  { desc: '--daemon with --persistent-conn', args: ['-L', '--daemon', '--persistent-conn'], want: { err: 'options conflicts in the list command\n', code: 2 } },
  { desc: '-c with --persistent-conn is allowed', args: ['-L', '-c', '--persistent-conn'], want: { cmd: { target: { kind: 'connections' } } } },
  { desc: 'every list display option at once', args: ['-l', '--nosort', '--exact', '--tun-info', '--rate', '--stats', '--thresholds', '--persistent-conn', '--syncid', '1'], want: { cmd: { cmd: 'list' } } },
  { desc: '-L -s', args: ['-L', '-s', 'rr'], want: { err: "Illegal 'scheduler' option with the 'list' command\n", code: 2 } },
  { desc: '-L with a leftover', args: ['-L', 'extra'], want: { err: 'unexpected argument extra\n', code: 2 } },
  { desc: '--stats twice', args: ['-L', '--stats', '--stats'], want: { err: "multiple 'stats' options specified\n", code: 2 } },
  { desc: '-L -6 without -f', args: ['-L', '-6'], want: { err: '-6 used before -f\n\n', code: 2 } },

  // -a -e -d
  { desc: '-a defaults: DR, weight 1, the service port', args: ['-a', ...RS], want: { cmd: { cmd: 'add-server', service: TCP80, dest: { addr: '10.0.0.2', port: 80, fwd: 'route', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: null } } } },
  { desc: 'DR forces the service port', args: ['-a', ...SVC, '-r', '10.0.0.2:8080'], want: { cmd: { dest: { addr: '10.0.0.2', port: 80, fwd: 'route', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: null } } } },
  { desc: 'NAT keeps its port', args: ['-a', ...SVC, '-r', '10.0.0.2:8080', '-m'], want: { cmd: { dest: { addr: '10.0.0.2', port: 8080, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: null } } } },
  { desc: 'FULLNAT keeps its port', args: ['-a', ...SVC, '-r', '10.0.0.2:8080', '--fullnat'], want: { cmd: { dest: { addr: '10.0.0.2', port: 8080, fwd: 'fullnat', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: null } } } },
  { desc: 'TUN forces the port, default ipip', args: ['-a', ...SVC, '-r', '10.0.0.2:8080', '-i'], want: { cmd: { dest: { addr: '10.0.0.2', port: 80, fwd: 'tunnel', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: { type: 'ipip', port: 0, csum: 'nocsum' } } } } },
  { desc: 'fwmark services keep the given port', args: ['-a', '-f', '5', '-r', '10.0.0.2:8080'], want: { cmd: { service: { fwmark: 5, family: 4 }, dest: { addr: '10.0.0.2', port: 8080, fwd: 'route', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: null } } } },
  { desc: '-r before -t: the service port is not known yet', args: ['-a', '-r', '10.0.0.2', ...SVC, '-m'], want: { cmd: { dest: { addr: '10.0.0.2', port: 0, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: null } } } },
  { desc: 'two methods', args: ['-a', ...RS, '-m', '-g'], want: { err: "multiple 'forwarding-method' options specified\n", code: 2 } },
  { desc: '--fullnat and -m', args: ['-a', ...RS, '--fullnat', '-m'], want: { err: "multiple 'forwarding-method' options specified\n", code: 2 } },
  { desc: '-a without -r', args: ['-a', ...SVC], want: { err: "You need to supply the 'real-server' option for the 'add-server' command\n", code: 2 } },
  { desc: '-a without a service', args: ['-a', '-r', '10.0.0.2'], want: { err: "You need to supply the 'service-address' option for the 'add-server' command\n", code: 2 } },
  { desc: 'bad real server', args: ['-a', ...SVC, '-r', 'nohost'], want: { err: 'illegal real server address[:port] specified\n', code: 2 } },
  { desc: 'weight 65536', args: ['-a', ...RS, '-w', '65536'], want: { err: 'illegal weight specified\n', code: 2 } },
  { desc: 'weight -1', args: ['-a', ...RS, '-w', '-1'], want: { err: 'illegal weight specified\n', code: 2 } },
  { desc: 'weight with trailing junk', args: ['-a', ...RS, '-w', '5x'], want: { err: 'illegal weight specified\n', code: 2 } },
  { desc: 'weight with a leading blank (strtol)', args: ['-a', ...RS, '-w', ' 5'], want: { cmd: { dest: { addr: '10.0.0.2', port: 80, fwd: 'route', weight: 5, uThreshold: 0, lThreshold: 0, tunnel: null } } } },
  { desc: 'thresholds', args: ['-a', ...RS, '-x', '100', '-y', '50'], want: { cmd: { dest: { addr: '10.0.0.2', port: 80, fwd: 'route', weight: 1, uThreshold: 100, lThreshold: 50, tunnel: null } } } },
  { desc: 'threshold above INT_MAX', args: ['-a', ...RS, '-x', '2147483648'], want: { err: 'illegal u_threshold specified\n', code: 2 } },
  { desc: 'lower threshold junk', args: ['-a', ...RS, '-y', 'x'], want: { err: 'illegal l_threshold specified\n', code: 2 } },
  { desc: 'v6 dest behind a v4 service, NAT', args: ['-a', ...SVC, '-r', '[2001:db8::2]:80', '-m'], want: { err: 'Different address family is allowed only for tunneling servers\n', code: 2 } },
  { desc: 'v6 dest behind a v4 service, TUN', args: ['-a', ...SVC, '-r', '[2001:db8::2]:80', '-i'], want: { cmd: { dest: { addr: '2001:db8::2', port: 80, fwd: 'tunnel', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: { type: 'ipip', port: 0, csum: 'nocsum' } } } } },
  { desc: 'tunnel options with DR', args: ['-a', ...RS, '--tun-type', 'gue'], want: { err: 'Tunnel options conflict with forward method\n', code: 2 } },
  { desc: 'gue needs a port', args: ['-a', ...RS, '-i', '--tun-type', 'gue'], want: { err: "You need to supply the 'tun-port' option for the 'gue' tunnel type\n", code: 2 } },
  { desc: 'two checksum options', args: ['-a', ...RS, '-i', '--tun-type', 'gue', '--tun-port', '6080', '--tun-csum', '--tun-remcsum'], want: { err: "The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type\n", code: 2 } },
  { desc: 'gre has no remote checksum', args: ['-a', ...RS, '-i', '--tun-type', 'gre', '--tun-remcsum'], want: { err: "Illegal 'tun-remcsum' option with the 'gre' tunnel type\n", code: 2 } },
  { desc: 'ipip takes no port', args: ['-a', ...RS, '-i', '--tun-port', '6080'], want: { err: "Illegal 'tun-port' option with the 'ipip' tunnel type\n", code: 2 } },
  { desc: 'gue with port and remote checksum', args: ['-a', ...RS, '-i', '--tun-type', 'gue', '--tun-port', '6080', '--tun-remcsum'], want: { cmd: { dest: { addr: '10.0.0.2', port: 80, fwd: 'tunnel', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: { type: 'gue', port: 6080, csum: 'remcsum' } } } } },
  { desc: 'gre with checksum', args: ['-e', ...RS, '-i', '--tun-type', 'gre', '--tun-csum'], want: { cmd: { cmd: 'edit-server', dest: { addr: '10.0.0.2', port: 80, fwd: 'tunnel', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: { type: 'gre', port: 0, csum: 'csum' } } } } },
  { desc: 'unknown tunnel type', args: ['-a', ...RS, '-i', '--tun-type', 'vxlan'], want: { err: 'illegal tunnel type specified\n', code: 2 } },
  { desc: 'tunnel port 0', args: ['-a', ...RS, '-i', '--tun-port', '0'], want: { err: 'illegal tunnel port specified\n', code: 2 } },
  { desc: '-e with -s', args: ['-e', ...RS, '-s', 'rr'], want: { err: "Illegal 'scheduler' option with the 'edit-server' command\n", code: 2 } },
  { desc: '-d with -w', args: ['-d', ...RS, '-w', '3'], want: { err: "Illegal 'weight' option with the 'delete-server' command\n", code: 2 } },
  { desc: '-d', args: ['-d', ...RS], want: { cmd: { cmd: 'delete-server', service: TCP80, dest: { addr: '10.0.0.2', port: 80 } } } },
  { desc: '-d keeps a NAT port', args: ['-d', ...SVC, '-r', '10.0.0.2:8080'], want: { cmd: { dest: { addr: '10.0.0.2', port: 8080 } } } },

  // --set -Z -S -R
  { desc: '--set', args: ['--set', '10', '0', '30'], want: { cmd: { cmd: 'set', timeouts: { tcp: 10, tcpfin: 0, udp: 30 } } } },
  { desc: '--set with two values', args: ['--set', '1', '2'], want: { err: '--set option requires 3 timeout values\n', code: 2 } },
  { desc: '--set with a bad value', args: ['--set', '1', '2', 'x'], want: { err: "invalid timeout value `x' specified\n", code: 2 } },
  { desc: '--set with four values', args: ['--set', '1', '2', '3', '4'], want: { err: 'unexpected argument 4\n', code: 2 } },
  { desc: '--set with -n among the values', args: ['--set', '1', '-n', '2', '3'], want: { err: "Illegal 'numeric' option with the 'set' command\n", code: 2 } },
  { desc: '--set with a negative value is a popt error', args: ['--set', '-1', '2', '3'], want: { err: '-1: unknown option\n', code: 255, fatal: false } },
  { desc: '-Z everything', args: ['-Z'], want: { cmd: { cmd: 'zero', service: null } } },
  { desc: '-Z one service', args: ['-Z', ...SVC], want: { cmd: { cmd: 'zero', service: TCP80 } } },
  { desc: '-Z 0.0.0.0:0 is everything (libipvs sends no service)', args: ['-Z', '-t', '0.0.0.0:0'], want: { cmd: { cmd: 'zero', service: null } } },
  { desc: '-Z -n', args: ['-Z', '-n'], want: { err: "Illegal 'numeric' option with the 'zero' command\n", code: 2 } },
  { desc: '-S -n', args: ['-S', '-n'], want: { cmd: { cmd: 'save' } } },
  { desc: '-S -c', args: ['-S', '-c'], want: { err: "Illegal 'connection' option with the 'save' command\n", code: 2 } },
  { desc: '-R', args: ['-R'], want: { cmd: { cmd: 'restore' } } },
  { desc: '-R -n', args: ['-R', '-n'], want: { err: "Illegal 'numeric' option with the 'restore' command\n", code: 2 } },

  // sync daemon
  { desc: '--start-daemon master, eth0 default', args: ['--start-daemon', 'master'], want: { cmd: { cmd: 'start-daemon', daemon: { state: 'master', mcastInterface: 'eth0', syncid: 0, mcastGroup: null, mcastPort: 0, mcastTtl: 0, syncMaxlen: 0 } } } },
  { desc: '--start-daemon foo', args: ['--start-daemon', 'foo'], want: { err: 'illegal start-daemon parameter specified\n', code: 2 } },
  { desc: '--stop-daemon foo (its own wording)', args: ['--stop-daemon', 'foo'], want: { err: 'illegal start_daemon specified\n', code: 2 } },
  { desc: 'syncid 256', args: ['--start-daemon', 'master', '--syncid', '256'], want: { err: 'illegal syncid specified\n', code: 2 } },
  { desc: 'unicast mcast group', args: ['--start-daemon', 'backup', '--mcast-group', '10.0.0.1'], want: { err: "invalid IPv4 mcast-group `10.0.0.1'\n", code: 2 } },
  { desc: 'IPv6 non-multicast group', args: ['--start-daemon', 'backup', '--mcast-group', '2001:db8::1'], want: { err: "invalid IPv6 mcast-group `2001:db8::1'\n", code: 2 } },
  { desc: 'daemon options', args: ['--start-daemon', 'backup', '--mcast-group', '224.0.0.81', '--mcast-port', '8848', '--mcast-ttl', '1', '--sync-maxlen', '1472', '--mcast-interface', 'eth1'], want: { cmd: { daemon: { state: 'backup', mcastInterface: 'eth1', syncid: 0, mcastGroup: '224.0.0.81', mcastPort: 8848, mcastTtl: 1, syncMaxlen: 1472 } } } },
  { desc: 'sync-maxlen above 65507', args: ['--start-daemon', 'master', '--sync-maxlen', '65508'], want: { err: 'illegal sync-maxlen specified\n', code: 2 } },
  { desc: '--stop-daemon with --mcast-port', args: ['--stop-daemon', 'master', '--mcast-port', '8848'], want: { err: "Illegal 'mcast-port' option with the 'stop-daemon' command\n", code: 2 } },

  // first option, help, popt errors
  { desc: 'no command first', args: ['-n', '-L'], want: { err: TRY, code: 255 } },
  { desc: 'a leftover only', args: ['foo'], want: { err: TRY, code: 255 } },
  { desc: 'a bad first option', args: ['--foo'], want: { err: TRY, code: 255 } },
  { desc: 'a missing value first', args: ['--start-daemon'], want: { err: TRY, code: 255 } },
  { desc: 'an unknown later option', args: ['-L', '--foo'], want: { err: '--foo: unknown option\n', code: 255, fatal: false } },
  { desc: 'a missing value later', args: ['-A', '-t'], want: { err: '-t: missing argument\n', code: 255, fatal: false } },
  { desc: 'an unwanted value', args: ['-L', '--numeric=yes'], want: { err: '--numeric=yes: option does not take an argument\n', code: 255, fatal: false } },

  // --explain (keepvs)
  { desc: '--explain', args: ['--explain', ...SVC, '--client', '198.18.0.9:40000'], want: { cmd: { cmd: 'explain', service: TCP80, client: { addr: '198.18.0.9', port: 40000 } } } },
  { desc: '--explain client without port', args: ['--explain', ...SVC, '--client', '198.18.0.9'], want: { cmd: { client: { addr: '198.18.0.9', port: 0 } } } },
  { desc: '--explain without --client', args: ['--explain', ...SVC], want: { err: "You need to supply the 'client' option for the 'explain' command\n", code: 2 } },
  { desc: '--client with -A', args: ['-A', ...SVC, '--client', '1.2.3.4'], want: { err: "Illegal 'client' option with the 'add-service' command\n", code: 2 } },
  { desc: 'bad --client', args: ['--explain', ...SVC, '--client', 'nohost'], want: { err: 'illegal client address[:port] specified\n', code: 2 } },

  // --proxy-protocol (keepvs): a service default with -A/-E, a dest's own choice with -a/-e
  { desc: '-A --proxy-protocol v2', args: ['-A', ...SVC, '--proxy-protocol', 'v2'], want: { cmd: { cmd: 'add-service', options: { ...DEFAULT_OPTS, proxyProtocol: 'v2' } } } },
  { desc: '-E --proxy-protocol v1', args: ['-E', ...SVC, '-s', 'rr', '--proxy-protocol', 'v1'], want: { cmd: { cmd: 'edit-service', options: { ...DEFAULT_OPTS, scheduler: 'rr', proxyProtocol: 'v1' } } } },
  { desc: '-A --proxy-protocol none is sent as written', args: ['-A', ...SVC, '--proxy-protocol', 'none'], want: { cmd: { options: { ...DEFAULT_OPTS, proxyProtocol: 'none' } } } },
  { desc: '-A without --proxy-protocol sends no field', args: ['-A', ...SVC], want: { cmd: { options: DEFAULT_OPTS } } },
  { desc: '-a --proxy-protocol none: off for this dest', args: ['-a', ...RS, '-m', '--proxy-protocol', 'none'], want: { cmd: { cmd: 'add-server', dest: { addr: '10.0.0.2', port: 80, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: null, proxyProtocol: 'none' } } } },
  { desc: '-e --proxy-protocol v1', args: ['-e', ...RS, '-m', '--proxy-protocol', 'v1'], want: { cmd: { cmd: 'edit-server', dest: { addr: '10.0.0.2', port: 80, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: null, proxyProtocol: 'v1' } } } },
  { desc: '-a on a UDP service with v2', args: ['-a', '-u', '10.0.0.1:53', '-r', '10.0.0.2', '-m', '--proxy-protocol', 'v2'], want: { cmd: { dest: { addr: '10.0.0.2', port: 53, fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0, tunnel: null, proxyProtocol: 'v2' } } } },
  { desc: 'a bad --proxy-protocol value', args: ['-A', ...SVC, '--proxy-protocol', 'v3'], want: { err: "invalid proxy-protocol value `v3' specified\n", code: 2 } },
  { desc: '--proxy-protocol values are exact (no V2)', args: ['-a', ...RS, '--proxy-protocol', 'V2'], want: { err: "invalid proxy-protocol value `V2' specified\n", code: 2 } },
  { desc: '--proxy-protocol twice', args: ['-A', ...SVC, '--proxy-protocol', 'v1', '--proxy-protocol', 'v2'], want: { err: "multiple 'proxy-protocol' options specified\n", code: 2 } },
  { desc: '--proxy-protocol without a value', args: ['-A', ...SVC, '--proxy-protocol'], want: { err: '--proxy-protocol: missing argument\n', code: 255, fatal: false } },
  { desc: '-A -u with v1 (no UDP form)', args: ['-A', '-u', '10.0.0.1:53', '--proxy-protocol', 'v1'], want: { err: 'PROXY protocol v1 is only for TCP virtual services; use v2\n', code: 2 } },
  { desc: '-a -u with v1 (no UDP form)', args: ['-a', '-u', '10.0.0.1:53', '-r', '10.0.0.2', '-m', '--proxy-protocol', 'v1'], want: { err: 'PROXY protocol v1 is only for TCP virtual services; use v2\n', code: 2 } },
  { desc: '--proxy-protocol with -L', args: ['-L', '--proxy-protocol', 'v2'], want: { err: "Illegal 'proxy-protocol' option with the 'list' command\n", code: 2 } },
  { desc: '--proxy-protocol with -d', args: ['-d', ...RS, '--proxy-protocol', 'v2'], want: { err: "Illegal 'proxy-protocol' option with the 'delete-server' command\n", code: 2 } },
  { desc: '--proxy-protocol with -S', args: ['-S', '--proxy-protocol', 'v2'], want: { err: "Illegal 'proxy-protocol' option with the 'save' command\n", code: 2 } },
  // --exact-path (keepvs): force the core-decided (NFQUEUE) path on the nft plane, with -A/-E
  { desc: '-A --exact-path', args: ['-A', ...SVC, '-s', 'wrr', '--exact-path'], want: { cmd: { cmd: 'add-service', options: { ...DEFAULT_OPTS, scheduler: 'wrr', exactPath: true } } } },
  { desc: '-E --exact-path', args: ['-E', ...SVC, '--exact-path'], want: { cmd: { cmd: 'edit-service', options: { ...DEFAULT_OPTS, exactPath: true } } } },
  { desc: '--exact-path twice', args: ['-A', ...SVC, '--exact-path', '--exact-path'], want: { err: "multiple 'exact-path' options specified\n", code: 2 } },
  { desc: '--exact-path takes no value', args: ['-A', ...SVC, '--exact-path=yes'], want: { err: '--exact-path=yes: option does not take an argument\n', code: 255, fatal: false } },
  { desc: '--exact-path with -a', args: ['-a', ...RS, '-m', '--exact-path'], want: { err: "Illegal 'exact-path' option with the 'add-server' command\n", code: 2 } },
  { desc: '--exact (ipvsadm\'s -X) is still the list option', args: ['-L', '--exact'], want: { cmd: { cmd: 'list' } } },
];

function partialMatch(actual: Record<string, unknown>, want: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(want)) assert.deepEqual(actual[k], v, `field ${k}`);
}

for (const row of ROWS) {
  test(`parse (ipvsadm.c): ${row.desc}: ${row.args.join(' ')}`, () => {
    const r = parseCommandLine(row.args, ENV);
    if ('err' in row.want) {
      assert.equal(r.ok, false, 'refused');
      if (r.ok) return;
      assert.equal(r.exit.stderr, row.want.err);
      assert.equal(r.exit.code, row.want.code);
      assert.equal(r.exit.stdout, '');
      assert.equal(r.exit.fatal, row.want.fatal ?? true);
    } else {
      assert.equal(r.ok, true, r.ok ? '' : r.exit.stderr);
      if (!r.ok) return;
      partialMatch(r.command as unknown as Record<string, unknown>, row.want.cmd);
    }
  });
}

test('parse: -h prints the usage on stdout and exits 0; -v the version', () => {
  const h = parseCommandLine(['-h', '--foo'], ENV);
  assert.ok(!h.ok);
  assert.equal(h.exit.code, 0);
  assert.equal(h.exit.stderr, '');
  assert.ok(h.exit.stdout.startsWith('ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\nUsage:\n  ipvsadm -A|E virtual-service [-s scheduler]'));
  assert.ok(h.exit.stdout.endsWith('  --mcast-ttl ttl                     Multicast TTL (default=1)\n'));
  const v = parseCommandLine(['--version'], ENV);
  assert.ok(!v.ok);
  assert.deepEqual(v.exit, { stdout: 'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n', stderr: '', code: 0, fatal: true });
});

test('parse: list format flags follow the options', () => {
  const r = parseCommandLine(['-L', '-n', '--stats', '--exact', '--nosort'], ENV);
  assert.ok(r.ok && r.command.cmd === 'list');
  assert.deepEqual(r.command.format, { numeric: true, rule: false, stats: true, rate: false, thresholds: false, persistentConn: false, nosort: true, exact: true, tunInfo: false });
  const s = parseCommandLine(['-S'], ENV);
  assert.ok(s.ok && s.command.cmd === 'save' && s.command.format.rule && !s.command.format.numeric);
});

// Every command × every option: the verdict of ipvsadm.c's commands_v_options, written out by hand
// below in the C table's notation (columns -n -c svc -s -p -M -r fwd -w -x -y -mc tot dmn -st -rt
// thr -pc srt sid -ex ops -pe -b grp port ttl size tinf type tprt nocs csum remc, then keepvs's
// client and proxy-protocol) and checked through parseCommandLine with a sample value per option.
const C_TABLE: Readonly<Record<string, string>> = {
  'add-service':    'x x + . . . x x x x x x x x x x x x x x x . . . x x x x x x x x x x x . .',
  'edit-service':   'x x + . . . x x x x x x x x x x x x x x x . . . x x x x x x x x x x x . .',
  'delete-service': 'x x + x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x',
  'flush':          'x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x',
  'list':           '. 1 1 x x x x x x x x x 1 1 . . . . . . . x x x x x x x . x x x x x x x x',
  'add-server':     'x x + x x x + . . . . x x x x x x x x x x x x x x x x x x . . . . . x . x',
  'delete-server':  'x x + x x x + x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x',
  'edit-server':    'x x + x x x + . . . . x x x x x x x x x x x x x x x x x x . . . . . x . x',
  'set':            'x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x',
  'start-daemon':   'x x x x x x x x x x x . x x x x x x x . x x x x . . . . x x x x x x x x x',
  'stop-daemon':    'x x x x x x x x x x x x x x x x x x x . x x x x x x x x x x x x x x x x x',
  'restore':        'x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x',
  'save':           '. x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x',
  'zero':           'x x . x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x',
  'explain':        'x x + x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x + x x',
};

test('parse: the validity table is ipvsadm.c commands_v_options (plus keepvs client/explain/proxy-protocol/exact-path)', () => {
  assert.deepEqual(Object.keys(C_TABLE), [...COMMANDS]);
  for (const cmd of COMMANDS) assert.equal(VALIDITY[cmd], C_TABLE[cmd].replaceAll(' ', ''), cmd);
  assert.equal(OPTION_NAMES.length, 37);
});

/** One sample per option column, argv form. */
const SAMPLE: Readonly<Record<string, string[]>> = {
  'numeric': ['-n'], 'connection': ['-c'], 'service-address': ['-t', '10.0.0.1:80'], 'scheduler': ['-s', 'rr'],
  'persistent': ['-p', '60'], 'netmask': ['-M', '255.255.255.0'], 'real-server': ['-r', '10.0.0.2'],
  'forwarding-method': ['-m'], 'weight': ['-w', '2'], 'u-threshold': ['-x', '5'], 'l-threshold': ['-y', '1'],
  'mcast-interface': ['--mcast-interface', 'eth1'], 'timeout': ['--timeout'], 'daemon': ['--daemon'],
  'stats': ['--stats'], 'rate': ['--rate'], 'thresholds': ['--thresholds'], 'persistent-conn': ['--persistent-conn'],
  'nosort': ['--nosort'], 'syncid': ['--syncid', '3'], 'exact': ['--exact'], 'ops': ['-o'], 'pe': ['--pe', 'sip'],
  'sched-flags': ['-b', 'flag-1'], 'mcast-group': ['--mcast-group', '224.0.0.81'], 'mcast-port': ['--mcast-port', '8848'],
  'mcast-ttl': ['--mcast-ttl', '2'], 'sync-maxlen': ['--sync-maxlen', '1000'], 'tun-info': ['--tun-info'],
  'tun-type': ['--tun-type', 'ipip'], 'tun-port': ['--tun-port', '6080'], 'tun-nocsum': ['--tun-nocsum'],
  'tun-csum': ['--tun-csum'], 'tun-remcsum': ['--tun-remcsum'], 'client': ['--client', '1.2.3.4'],
  'proxy-protocol': ['--proxy-protocol', 'v2'], 'exact-path': ['--exact-path'],
};

/** The least each command needs so that only the sampled option decides. */
const BASE: Readonly<Record<string, string[]>> = {
  'add-service': ['-A', '-t', '10.0.0.1:53'], 'edit-service': ['-E', '-t', '10.0.0.1:53'], 'delete-service': ['-D', '-t', '10.0.0.1:53'],
  'flush': ['-C'], 'list': ['-L'], 'add-server': ['-a', '-t', '10.0.0.1:53', '-r', '10.0.0.3', '-i'],
  'delete-server': ['-d', '-t', '10.0.0.1:53', '-r', '10.0.0.3'], 'edit-server': ['-e', '-t', '10.0.0.1:53', '-r', '10.0.0.3', '-i'],
  'set': ['--set', '1', '2', '3'], 'start-daemon': ['--start-daemon', 'master'], 'stop-daemon': ['--stop-daemon', 'master'],
  'restore': ['-R'], 'save': ['-S'], 'zero': ['-Z'], 'explain': ['--explain', '-t', '10.0.0.1:53', '--client', '1.2.3.9'],
};
const BASE_HAS: Readonly<Record<string, string[]>> = {
  'add-service': ['service-address'], 'edit-service': ['service-address'], 'delete-service': ['service-address'],
  'add-server': ['service-address', 'real-server', 'forwarding-method'], 'delete-server': ['service-address', 'real-server'],
  'edit-server': ['service-address', 'real-server', 'forwarding-method'], 'explain': ['service-address', 'client'],
};

test('parse: every command × every option gives the verdict of the table', () => {
  const table = Object.fromEntries(Object.entries(C_TABLE).map(([k, v]) => [k, v.replaceAll(' ', '')]));
  for (const cmd of COMMANDS) {
    OPTION_NAMES.forEach((name, j) => {
      if ((BASE_HAS[cmd] ?? []).includes(name)) return;
      // -u so that -o is legal; -t in SAMPLE would be a second service.
      const base = BASE[cmd].map((a) => a === '-t' ? '-u' : a);
      const r = parseCommandLine([...base, ...SAMPLE[name]], ENV);
      const verdict = table[cmd][j];
      const what = `${cmd} + ${name}`;
      if (verdict === 'x') {
        assert.ok(!r.ok, what);
        assert.equal(r.exit.stderr, `Illegal '${name}' option with the '${cmd}' command\n`, what);
      } else {
        // Allowed by the table; any refusal must come from a later, specific check.
        if (!r.ok) assert.doesNotMatch(r.exit.stderr, /command\n$/, `${what}: ${r.exit.stderr}`);
      }
    });
  }
});
