// Positions that follow a service's dest list order, for schedulers that keep a tree over the dests
// instead of walking the list on every decision.
//
// Why positions rather than array indexes: ip_vs_ctl.c (__ip_vs_update_dest) links a new dest right
// after the list head, so svc.dests[0] is always the newest dest and every insert shifts all indexes.
// Here a new dest takes the free position just in front of the current first one, so existing
// positions never move; a deleted dest leaves a hole. Position order therefore equals list order,
// which is what the kernel's "first in the list wins a tie" rules need. When the room in front is
// used up, or holes outnumber dests, everything is laid out again from svc.dests (amortised O(1)).
import type { Dest } from '../dest.ts';
import type { Scheduler } from './scheduler.ts';

const MIN_CAPACITY = 16;

export abstract class ListOrderIndex {
  /** Number of positions (a power of two). */
  protected cap = 0;
  /** Lowest position in use; positions below it are free room for new dests. */
  protected first = 0;
  /** Dest at each position, or null (free room or a hole). */
  protected byPos: (Dest | null)[] = [];
  private readonly posOf = new Map<Dest, number>();
  private live = 0;

  /** Lay out every position again from the list (list order = position order, room in front). */
  rebuild(list: readonly Dest[]): void {
    const n = list.length;
    let cap = MIN_CAPACITY;
    while (cap < 2 * n) cap *= 2;
    this.cap = cap;
    this.first = cap - n;
    this.live = n;
    this.byPos = new Array<Dest | null>(cap).fill(null);
    this.posOf.clear();
    for (let i = 0; i < n; i++) {
      const d = list[i];
      this.byPos[this.first + i] = d;
      this.posOf.set(d, this.first + i);
    }
    this.reset();
  }

  /** A dest was inserted at list[0] (the add_dest moment). */
  add(list: readonly Dest[], dest: Dest): void {
    if (this.posOf.has(dest) || this.first === 0 || list[0] !== dest) {
      this.rebuild(list);
      return;
    }
    const pos = --this.first;
    this.byPos[pos] = dest;
    this.posOf.set(dest, pos);
    this.live++;
    this.update(pos);
  }

  /** A dest was unlinked from the list (the del_dest moment). */
  remove(list: readonly Dest[], dest: Dest): void {
    const pos = this.posOf.get(dest);
    if (pos === undefined) return;
    this.posOf.delete(dest);
    this.byPos[pos] = null;
    this.live--;
    const span = this.cap - this.first;
    if (span > MIN_CAPACITY && this.live * 2 < span) this.rebuild(list);
    else this.update(pos);
  }

  /** The dest's weight, flags or connection counts changed; unknown dests (already deleted) are ignored. */
  refresh(dest: Dest): void {
    const pos = this.posOf.get(dest);
    if (pos !== undefined) this.update(pos);
  }

  /** Cheap guard for a caller that changed the list without the hooks: lay out again if the count differs. */
  sync(list: readonly Dest[]): void {
    if (list.length !== this.live) this.rebuild(list);
  }

  get size(): number {
    return this.live;
  }

  /** Allocate structures for `cap` positions and fill them from byPos. */
  protected abstract reset(): void;
  /** Position `pos` changed (its dest, or the dest's state): update the structure. */
  protected abstract update(pos: number): void;
}

/**
 * The add_dest / del_dest / load / done_service hooks of a scheduler whose decisions read an index:
 * each keeps the index in step with the list at the moment the kernel would call the hook.
 */
export function indexHooks(index: ListOrderIndex): Required<Pick<Scheduler, 'addDest' | 'delDest' | 'loadChanged' | 'done'>> {
  return {
    addDest(s, dest) {
      index.add(s.dests, dest);
    },
    delDest(s, dest) {
      index.remove(s.dests, dest);
    },
    loadChanged(dest) {
      index.refresh(dest);
    },
    done() {
      index.rebuild([]);
    },
  };
}
