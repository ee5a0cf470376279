// A VrrpHost made of the sys fakes: one FakeClock shared by every host, a FakeLan segment, a FakeIpRunner
// per host (its eth0 and addresses), a FakeFrameSender, and recorders for scripts, FIFOs and logs.
import { FakeClock } from '../../src/sys/fake/clock.ts';
import { FakeLan, type FakeLanHost } from '../../src/sys/fake/raw-socket.ts';
import { FakeIpRunner } from '../../src/sys/fake/ip.ts';
import { FakeFrameSender } from '../../src/sys/fake/garp.ts';
import type { ExecResult, LogLevel, VrrpHost } from '../../src/vrrp/host.ts';
import { resolveVrrpConfig, type VrrpConfig } from '../../src/vrrp/config.ts';
import { VrrpProcess, type TransitionEvent } from '../../src/vrrp/vrrp-process.ts';
import type { ProcessEntry } from '../../src/sys/proc-scan.ts';

export interface FakeNode {
  readonly name: string;
  readonly host: VrrpHost;
  readonly ip: FakeIpRunner;
  readonly frames: FakeFrameSender;
  readonly lanHost: FakeLanHost;
  readonly execs: { argv: readonly string[]; atUs: number; uid?: number }[];
  readonly fifo: string[];
  readonly logs: string[];
  readonly files: Map<string, string>;
  readonly fileWatchers: Map<string, () => void>;
  /** Exit codes scripted per command (first word match). */
  scriptResult: (argv: readonly string[]) => ExecResult;
  transitions: TransitionEvent[];
  /** Every onHeldChange, as the held addresses sorted and joined with ','. */
  held: string[];
  /** What listProcesses() returns (track_process). */
  processes: ProcessEntry[];
  proc: VrrpProcess | null;
}

export class FakeNet {
  readonly clock = new FakeClock();
  readonly lan: FakeLan;
  readonly nodes: FakeNode[] = [];

  constructor(latencyUs = 200) {
    this.lan = new FakeLan(this.clock, latencyUs);
  }

  node(name: string, addr: string, mac: string, addr6 = `fe80::${name.length}:${this.nodes.length + 1}`): FakeNode {
    const ip = new FakeIpRunner();
    ip.addLink('eth0', mac, [`${addr}/24`, `${addr6}/64`]);
    const lanHost = this.lan.host(name, () => ip.addressesOf('eth0').map((a) => a.split('/')[0]));
    const frames = new FakeFrameSender();
    const node: FakeNode = {
      name, ip, frames, lanHost, execs: [], fifo: [], logs: [], files: new Map(), fileWatchers: new Map(),
      scriptResult: () => ({ code: 0, signal: null, timedOut: false }), transitions: [], held: [], processes: [], proc: null,
      host: undefined as unknown as VrrpHost,
    };
    const clock = this.clock;
    (node as { host: VrrpHost }).host = {
      clock,
      openSocket: (o, cb) => lanHost.openVrrpSocket(o, cb),
      ip,
      openFrameSender: () => frames,
      watchLinks: () => null,
      exec: async (argv, _timeoutMs, identity) => {
        node.execs.push({ argv, atUs: clock.now(), ...(identity ? { uid: identity.uid } : {}) });
        return node.scriptResult(argv);
      },
      writeFifo: (_path, line) => void node.fifo.push(line),
      readFile: (p) => node.files.get(p) ?? null,
      writeFile: (p, t) => void node.files.set(p, t),
      watchFile: (p, fn) => {
        node.fileWatchers.set(p, fn);
        return { close: () => void node.fileWatchers.delete(p) };
      },
      log: (_level: LogLevel, m: string) => void node.logs.push(m),
      listProcesses: () => node.processes,
    };
    this.nodes.push(node);
    return node;
  }

  /** Start a VRRP process on a node from keepalived-style config. */
  async start(node: FakeNode, cfg: VrrpConfig): Promise<VrrpProcess> {
    const r = resolveVrrpConfig(cfg);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
    node.transitions = [];
    node.held = [];
    const proc = new VrrpProcess(r.vrrp, node.host, {
      onTransition: (e) => node.transitions.push(e),
      onHeldChange: (h) => node.held.push([...h].sort().join(',')),
    });
    node.proc = proc;
    await proc.start();
    await flush();
    return proc;
  }

  /** Advance the shared clock, letting promise jobs (ip commands) run between timers. */
  async run(us: number): Promise<void> {
    await this.clock.advance(us, flush);
    await flush();
  }
}

/** Let queued promise jobs (the fake ip runner, GARP queues) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

export function stateOf(node: FakeNode, instance = 'VI_1'): string {
  return node.proc?.status().instances.find((i) => i.name === instance)?.state ?? 'NONE';
}
