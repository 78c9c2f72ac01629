/**
 * Lists of rank-index nodes kept in memory for reads, per collection (ranks.ts `readChildren`):
 * each list under an id its reader chooses (a node's level and span). A collection's lists go
 * whenever its index is written (`forget`, before the write) and all of them when a transaction
 * rolls back (`clear`); least recently read collections go once the lists pass `maxBytes`, about
 * (64 bytes a node, and its key's characters).
 */
export class NodeCache<T extends { readonly field: string }> {
  private readonly byEid = new Map<number, { lists: Map<string, T[]>; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The list under `id` for `eid`, or undefined; a read makes the collection the most recent. */
  get(eid: number, id: string): T[] | undefined {
    const entry = this.byEid.get(eid);
    if (!entry) return undefined;
    this.byEid.delete(eid);
    this.byEid.set(eid, entry);
    return entry.lists.get(id);
  }

  /** Keeps `list` under `id` for `eid`, then drops the least recent collections past the bound. @returns list */
  put(eid: number, id: string, list: T[]): T[] {
    let entry = this.byEid.get(eid);
    if (!entry) this.byEid.set(eid, (entry = { lists: new Map(), bytes: 0 }));
    const bytes = list.reduce((sum, node) => sum + NODE_BYTES + 2 * node.field.length, NODE_BYTES + 2 * id.length);
    entry.lists.set(id, list);
    entry.bytes += bytes;
    this.bytes += bytes;
    while (this.bytes > this.maxBytes && this.byEid.size > 1) this.forget(this.byEid.keys().next().value!);
    return list;
  }

  /** Drops the lists of `eid` (its index is about to be written). */
  forget(eid: number): void {
    const entry = this.byEid.get(eid);
    if (!entry) return;
    this.byEid.delete(eid);
    this.bytes -= entry.bytes;
  }

  /** Drops every list. */
  clear(): void {
    this.byEid.clear();
    this.bytes = 0;
  }
}

/** What a cached node costs besides its field's characters. */
const NODE_BYTES = 64;
