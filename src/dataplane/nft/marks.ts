// The packet-mark layout the nft plane shares between its nftables chains, the NFQUEUE consumer,
// the policy-routing rules of DR and the conntrack view. One 32-bit meta/ct mark carries, for a new
// connection to a virtual service:
//   0x6b00xxxx  "backend": the dest the connection goes to (xxxx = the plane's backend id, 1..65535);
//               copied to the ct mark, so conntrack entries name their dest (conntrack -L shows mark=…)
//   0x6c00xxxx  "to the queue": a queue-path service (xxxx = the service's index) still waiting for
//               the core's decision; the NFQUEUE rule in iptables' mangle table matches this tag
// Tags sit in the top byte so a user's own small fwmarks (-f N, policy routing) never collide.
export const MARK_TAG_MASK = 0xff000000;
export const BACKEND_TAG = 0x6b000000;
export const QUEUE_TAG = 0x6c000000;
export const MARK_ID_MASK = 0x0000ffff;
export const MAX_BACKEND_ID = 0xffff;

/** Routing tables of DR backends: BASE + backend id (outside the usual 1..255 and 253..255). */
export const DR_TABLE_BASE = 0x6b0000;
/** ip rule preference of the DR fwmark rules; the local-table rule is moved just below them. */
export const DR_RULE_PREF = 90;
export const LOCAL_RULE_PREF = 100;
/** rtnetlink protocol tag on every ip rule/route keepvs adds, so a restart after a crash finds them. */
export const RT_PROTO_KEEPVS = 107;

export function backendMark(id: number): number {
  return (BACKEND_TAG | (id & MARK_ID_MASK)) >>> 0;
}

export function queueMark(serviceIndex: number): number {
  return (QUEUE_TAG | (serviceIndex & MARK_ID_MASK)) >>> 0;
}

export function isBackendMark(mark: number): boolean {
  return ((mark & MARK_TAG_MASK) >>> 0) === BACKEND_TAG;
}

export function markId(mark: number): number {
  return mark & MARK_ID_MASK;
}

export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Backend ids, stable for the life of a (service, dest) pair so a weight change, a quiesce or a
 * reload never renumbers a live dest (its conntrack entries and DR flow-map entries name it by
 * mark). Freed ids are reused only after every other id has been handed out once.
 */
export class BackendIds {
  readonly #byKey = new Map<string, number>();
  readonly #used = new Set<number>();
  #next = 1;

  get(key: string): number | undefined {
    return this.#byKey.get(key);
  }

  take(key: string): number {
    const have = this.#byKey.get(key);
    if (have !== undefined) return have;
    if (this.#used.size >= MAX_BACKEND_ID) throw new Error(`more than ${MAX_BACKEND_ID} real servers on the nft plane`);
    while (this.#used.has(this.#next)) this.#next = this.#next >= MAX_BACKEND_ID ? 1 : this.#next + 1;
    const id = this.#next;
    this.#next = id >= MAX_BACKEND_ID ? 1 : id + 1;
    this.#byKey.set(key, id);
    this.#used.add(id);
    return id;
  }

  /** Keep only these keys; the others' ids are released. */
  retain(keys: ReadonlySet<string>): void {
    for (const [k, id] of this.#byKey) {
      if (keys.has(k)) continue;
      this.#byKey.delete(k);
      this.#used.delete(id);
    }
  }

  entries(): IterableIterator<[string, number]> {
    return this.#byKey.entries();
  }
}
