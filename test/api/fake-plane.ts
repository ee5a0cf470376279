// A DataPlane that forwards nothing: it refuses what the proxy plane refuses (DR, TUN, fwmark,
// SCTP), records every sync and can be told to fail the next one as a busy listener would.
import type { Capabilities, Check, DataPlane, DataPlaneError, DataPlaneStats } from '../../src/dataplane/dataplane.ts';
import type { DestSpec } from '../../src/core/dest.ts';
import type { Service, ServiceKey, ServiceOptions } from '../../src/core/service.ts';
import type { Director } from '../../src/core/director.ts';

export class FakePlane implements DataPlane {
  readonly capabilities: Capabilities = {
    name: 'proxy', fwd: ['masq', 'fullnat'], protocols: ['tcp', 'udp'], fwmark: false, privileged: false,
  };
  syncs = 0;
  failNextSync: DataPlaneError | null = null;
  stopped: number[] = [];
  drops: Record<string, number> = {};
  openConnections = 0;

  checkService(key: ServiceKey, _options: ServiceOptions): Check {
    if (key.kind === 'fwmark') {
      return { ok: false, error: { code: 'UNSUPPORTED_FWMARK', message: 'the proxy plane cannot see firewall marks', context: {} } };
    }
    if (key.protocol === 'sctp') {
      return { ok: false, error: { code: 'UNSUPPORTED_PROTOCOL', message: 'the proxy plane has no SCTP', context: {} } };
    }
    return { ok: true };
  }

  checkDest(_svc: Service, spec: DestSpec): Check {
    if (!this.capabilities.fwd.includes(spec.fwd)) {
      return { ok: false, error: { code: 'UNSUPPORTED_FWD', message: `the proxy plane cannot forward with ${spec.fwd}; use masq`, context: { fwd: spec.fwd } } };
    }
    return { ok: true };
  }

  async sync(_director: Director): Promise<void> {
    this.syncs++;
    const f = this.failNextSync;
    this.failNextSync = null;
    if (f) throw Object.assign(new Error(f.message), { planeError: f });
  }

  closeDest(): void {}

  async stop(graceMs: number): Promise<void> {
    this.stopped.push(graceMs);
  }

  stats(): DataPlaneStats {
    return { drops: this.drops, openConnections: this.openConnections };
  }
}
