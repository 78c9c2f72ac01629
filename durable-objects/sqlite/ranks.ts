/**
 * The rank index: counts of a collection's elements per range of its order, kept in SQLite, so
 * that a rank (ZRANK, ZCOUNT, LINDEX) and the element at a rank (ZRANGE by index, the RANDMEMBER
 * family, SPOP) read a few dozen rows whatever the collection's size (an OFFSET or a count walks
 * every row it skips).
 *
 * Layout: a B-tree of counts over the collection's order, one row per node in `ranks(eid, level,
 * score, field, n)`. A node covers the elements from its own key (score, field) up to the next
 * node's key at its level; `n` is how many there are. Level 0 nodes (leaves) hold up to
 * 2 * LEAF elements; a node of level L + 1 covers up to 2 * FAN nodes of level L, and its key is
 * the key of the first of them, so each level's keys are a subset of the level below's. The first
 * node of every level starts at the sentinel key, below every element. The top level is read
 * whole; `ranked(eid, by_score, top)` says a collection has an index, in which order and how high.
 *
 * Orders: sorted sets and lists by (score, field) (a list's score is its element's position), over
 * the `elements_by_score` index; hashes and sets by field, over the primary key (their nodes' score
 * is 0).
 *
 * Cost: adding or removing elements writes, once per command, one row per node whose count moved
 * (one row per level for a single element: one for up to about 8k elements, two for up to about
 * half a million), a split of a full node a few more; a collection of fewer
 * than BUILD_AT elements has no index (counting it directly reads as few rows). Ranks read the top
 * level, one path down and a part of each node's siblings (the part on the element's side). A
 * bulk pick reads the children of each node it descends into (kept in memory until the collection
 * is next written: `readChildren`), then its elements in one statement (by score, one per 97
 * leaves): in workerd a statement costs about 30 us and a row handed to JavaScript 1 to 3, where
 * SQLite's own step is a tenth of a microsecond.
 */
import { type ElementRow } from "../engine/storage";
import { type OrderKey, compareKeys } from "../engine/types/order";
import { NodeCache } from "./node-cache";
import { pickAt, toRow } from "./rank-picks";
import { type Row, type Sql, bin, str } from "./sql";

/**
 * Elements per leaf after a split; a leaf splits past twice as many. A pick walks half a leaf on
 * average; 64 until 2026-12, so a stored leaf may hold up to 128 (`select` reads those apart).
 */
const LEAF = 32;
/** Nodes per parent after a split; a parent splits past twice as many. */
const FAN = 32;
/** A collection gets an index at this many elements, and loses it below DROP_BELOW. */
export const BUILD_AT = 128;
const DROP_BELOW = 32;
/** Picks that are at least one in this many of the elements up to the last are read in one pass. */
const WHOLE_READ = 8;
/** Collections whose index state is kept in memory (a read each, per collection, otherwise). */
const META_CACHE = 4096;
/** The nodes' keys kept in memory for reads (`readChildren`), in bytes of their fields, about. */
const NODE_CACHE_BYTES = 8 * 2 ** 20;

interface Meta {
  readonly byScore: boolean;
  readonly top: number;
}

interface Node extends OrderKey {
  readonly n: number;
}

/** A node and the key of the node after it at its level (null: the last). */
interface Span {
  readonly node: Node;
  readonly next: OrderKey | null;
}

/** The element order's SQL: its ORDER BY, and the condition "key op ?". */
function order(byScore: boolean) {
  return byScore
    ? { by: (dir = "") => `score ${dir}, field ${dir}`, cmp: (op: string) => `(score, field) ${op} (?, ?)`, args: (k: OrderKey) => [k.score, bin(k.field)] }
    : { by: (dir = "") => `field ${dir}`, cmp: (op: string) => `field ${op} ?`, args: (k: OrderKey) => [bin(k.field)] };
}

/** The condition on rows of `ranks` (always by (score, field)). */
const nodeCmp = (op: string) => `(score, field) ${op} (?, ?)`;
const nodeArgs = (k: OrderKey) => [k.score, bin(k.field)];

/** The largest offset within a leaf: a leaf holds at most 2 * LEAF elements (it splits past them). */
const MAX_OFFSET = 2 * LEAF - 1;

export class Ranks {
  private readonly metas = new Map<number, Meta | null>();
  /** Elements added (+1) or removed (-1) per indexed collection since its counts were last written (`flush`). */
  private readonly pending = new Map<number, { key: OrderKey; delta: number }[]>();
  /**
   * Nodes the reads (`rank`, `select`) read, per collection: a node's children, by the node's
   * level and span. A collection's entry goes whenever its index is written (`flush`, `build`,
   * `drop`), before the write, and all of them when a transaction rolls back; the writes
   * themselves read the table (`children`). Least recently read collections go past
   * NODE_CACHE_BYTES. Reads of a collection that does not change read its upper levels once.
   */
  private readonly nodes = new NodeCache<Node>(NODE_CACHE_BYTES);

  constructor(private readonly sql: Sql) {}

  /** The sentinel key: below every element in that order. */
  private sentinel(byScore: boolean): OrderKey {
    return { score: byScore ? -Infinity : 0, field: "" };
  }

  /** Whether `eid` has an index, and of what shape. */
  meta(eid: number): Meta | null {
    const cached = this.metas.get(eid);
    if (cached !== undefined) return cached;
    const row = this.sql.first<{ by_score: number; top: number }>("SELECT by_score, top FROM ranked WHERE eid = ?", eid);
    const meta = row === null ? null : { byScore: row.by_score === 1, top: row.top };
    this.remember(eid, meta);
    return meta;
  }

  private remember(eid: number, meta: Meta | null): void {
    this.metas.delete(eid);
    this.metas.set(eid, meta);
    if (this.metas.size > META_CACHE) this.metas.delete(this.metas.keys().next().value!);
  }

  /** Forgets what is cached and recorded (a transaction rolled back). */
  reset(): void {
    this.metas.clear();
    this.pending.clear();
    this.nodes.clear();
  }

  /** `children`, from the cache when this collection's index has not been written since they were read. */
  private readChildren(eid: number, level: number, from: OrderKey, to: OrderKey | null): Node[] {
    const id = `${level}\u0000${from.score}\u0000${from.field}\u0000${to === null ? "" : `${to.score}\u0000${to.field}`}`;
    return this.nodes.get(eid, id) ?? this.nodes.put(eid, id, this.children(eid, level, from, to));
  }

  /** After a change wrote elements of `eid`, which now has `count`: writes its counts, builds or drops its index. */
  settle(eid: number, count: number, byScore: boolean): void {
    this.flush(eid);
    const meta = this.meta(eid);
    if (meta === null && count >= BUILD_AT) this.build(eid, byScore);
    else if (meta !== null && count < DROP_BELOW) this.drop(eid, true);
  }

  /** Writes every collection's recorded counts (before a transaction commits: nothing stays in memory). */
  flushAll(): void {
    for (const eid of [...this.pending.keys()]) this.flush(eid);
  }

  /** Before a change writes `writes` elements of `eid` (of `count` now): a bulk write drops the index, rebuilt once after. */
  plan(eid: number, writes: number, count: number): void {
    if (writes > Math.max(LEAF, count / 4) && this.meta(eid) !== null) this.drop(eid, true);
  }

  /** The index of `eid` goes (its rows with it when `rows`; else the purge of its elements takes them). */
  drop(eid: number, rows: boolean): void {
    this.pending.delete(eid);
    this.nodes.forget(eid);
    if (this.meta(eid) === null) return;
    this.sql.exec("DELETE FROM ranked WHERE eid = ?", eid);
    if (rows) this.sql.exec("DELETE FROM ranks WHERE eid = ?", eid);
    this.remember(eid, null);
  }

  /** Every index goes (FLUSHALL). */
  clear(): void {
    this.nodes.clear();
    this.sql.exec("DELETE FROM ranked");
    this.sql.exec("DELETE FROM ranks");
    this.metas.clear();
    this.pending.clear();
  }

  /** Builds the index of `eid` from its elements: one pass over them in SQL, a row per LEAF of them. */
  build(eid: number, byScore: boolean): void {
    const o = order(byScore);
    const s = this.sentinel(byScore);
    this.nodes.forget(eid);
    this.sql.exec("DELETE FROM ranks WHERE eid = ?", eid);
    this.sql.exec(
      `INSERT INTO ranks (eid, level, score, field, n)
       SELECT ?, 0, CASE WHEN i = 0 THEN ? ELSE s END, CASE WHEN i = 0 THEN x'' ELSE f END, min(?, total - i)
       FROM (SELECT ${byScore ? "score" : "0"} AS s, field AS f, row_number() OVER (ORDER BY ${o.by()}) - 1 AS i, count(*) OVER () AS total
             FROM elements WHERE eid = ?)
       WHERE i % ? = 0`,
      eid,
      s.score,
      LEAF,
      eid,
      LEAF,
    );
    if (this.count(eid, 0) === 0) this.sql.exec("INSERT INTO ranks (eid, level, score, field, n) VALUES (?, 0, ?, x'', 0)", eid, s.score);
    let top = 0;
    while (this.count(eid, top) > 2 * FAN) {
      this.sql.exec(
        `INSERT INTO ranks (eid, level, score, field, n)
         SELECT ?, ?, s, f, total FROM (
           SELECT score AS s, field AS f, row_number() OVER (ORDER BY score, field) - 1 AS i,
             sum(n) OVER (ORDER BY score, field ROWS BETWEEN CURRENT ROW AND ? FOLLOWING) AS total
           FROM ranks WHERE eid = ? AND level = ?)
         WHERE i % ? = 0`,
        eid,
        top + 1,
        FAN - 1,
        eid,
        top,
        FAN,
      );
      top++;
    }
    this.sql.exec("INSERT OR REPLACE INTO ranked (eid, by_score, top) VALUES (?, ?, ?)", eid, byScore ? 1 : 0, top);
    this.remember(eid, { byScore, top });
  }

  private count(eid: number, level: number): number {
    return this.sql.first<{ c: number }>("SELECT count(*) AS c FROM ranks WHERE eid = ? AND level = ?", eid, level)!.c;
  }

  /** The key of the node after `key` at `level`, or null. */
  private nextKey(eid: number, level: number, key: OrderKey): OrderKey | null {
    const row = this.sql.first<Row>(
      `SELECT score, field FROM ranks WHERE eid = ? AND level = ? AND ${nodeCmp(">")} ORDER BY score, field LIMIT 1`,
      eid,
      level,
      ...nodeArgs(key),
    );
    return row === null ? null : { score: row.score as number, field: str(row.field) };
  }

  /** An element at `key` joined collection `eid` (call only when it was not there); counted at `settle`. */
  inserted(eid: number, key: OrderKey): void {
    this.record(eid, key, 1);
  }

  /** The element at `key` left collection `eid`; counted at `settle`. */
  deleted(eid: number, key: OrderKey): void {
    this.record(eid, key, -1);
  }

  private record(eid: number, key: OrderKey, delta: number): void {
    if (this.meta(eid) === null) return;
    let list = this.pending.get(eid);
    if (!list) this.pending.set(eid, (list = []));
    list.push({ key, delta });
  }

  /**
   * Writes the counts `eid`'s recorded changes moved: each node one write, however many of its
   * elements changed (rows written are what a write costs); then splits the nodes now over-full
   * and drops those emptied.
   */
  private flush(eid: number): void {
    const list = this.pending.get(eid);
    if (!list) return;
    this.pending.delete(eid);
    this.nodes.forget(eid);
    const meta = this.meta(eid);
    if (meta === null) return;
    const moved = new Map<string, { level: number; node: OrderKey; delta: number }>();
    for (const { key, delta } of list)
      for (let level = 0; level <= meta.top; level++) {
        const node = this.locate(eid, level, key);
        const id = `${level}\u0000${node.score}\u0000${node.field}`;
        const m = moved.get(id);
        if (m) m.delta += delta;
        else moved.set(id, { level, node, delta });
      }
    const after: { level: number; node: Node }[] = [];
    for (const { level, node, delta } of moved.values()) {
      if (delta === 0) continue;
      const row = this.sql.first<Row>(
        "UPDATE ranks SET n = n + ? WHERE eid = ? AND level = ? AND score = ? AND field = ? RETURNING score, field, n",
        delta,
        eid,
        level,
        node.score,
        bin(node.field),
      )!;
      after.push({ level, node: { score: row.score as number, field: str(row.field), n: row.n as number } });
    }
    // Emptied nodes, from the top down (a node's removal takes the nodes below it in its range).
    for (const { level, node } of [...after].sort((a, b) => b.level - a.level)) if (node.n === 0) this.dropEmpty(eid, meta, level, node);
    for (const { level, node } of after) if (level === 0 && node.n > 2 * LEAF) this.split(eid, 0, node);
  }

  /**
   * An emptied node goes, unless it starts its parent's range (or the level): the levels above
   * name its key. What it covered joins the node before it, which covers nothing more.
   */
  private dropEmpty(eid: number, meta: Meta, level: number, node: Node): void {
    if (same(node, this.sentinel(meta.byScore))) return;
    if (level < meta.top && same(this.locate(eid, level + 1, node), node)) return;
    const next = this.nextKey(eid, level, node);
    this.sql.exec(
      `DELETE FROM ranks WHERE eid = ? AND level <= ? AND ${nodeCmp(">=")}${next ? ` AND ${nodeCmp("<")}` : ""}`,
      eid,
      level,
      ...nodeArgs(node),
      ...(next ? nodeArgs(next) : []),
    );
  }

  /**
   * Splits an over-full node into pieces of LEAF elements (a leaf) or FAN children, when it holds
   * more than twice that; then its parent, which has more children now, and past the top level's
   * bound a level above it.
   */
  private split(eid: number, level: number, node: Node): void {
    const meta = this.meta(eid)!;
    const next = this.nextKey(eid, level, node);
    const parts: { key: OrderKey; n: number }[] = [];
    if (level === 0) {
      if (node.n <= 2 * LEAF) return;
      const o = order(meta.byScore);
      const keys = this.sql
        .exec<Row>(
          `SELECT ${meta.byScore ? "score" : "0 AS score"}, field FROM elements WHERE eid = ? AND ${o.cmp(">=")}${next ? ` AND ${o.cmp("<")}` : ""} ORDER BY ${o.by()}`,
          eid,
          ...o.args(node),
          ...(next ? o.args(next) : []),
        )
        .toArray();
      // The counts and the elements disagree (they never should): the index is made again from the elements.
      if (keys.length !== node.n) return this.build(eid, meta.byScore);
      for (let i = LEAF; i < keys.length; i += LEAF) parts.push({ key: { score: keys[i]!.score as number, field: str(keys[i]!.field) }, n: Math.min(LEAF, keys.length - i) });
    } else {
      const children = this.children(eid, level - 1, node, next);
      if (children.length <= 2 * FAN) return;
      for (let i = FAN; i < children.length; i += FAN) parts.push({ key: children[i]!, n: children.slice(i, i + FAN).reduce((sum, c) => sum + c.n, 0) });
    }
    let moved = 0;
    for (const p of parts) {
      this.sql.exec("INSERT INTO ranks (eid, level, score, field, n) VALUES (?, ?, ?, ?, ?)", eid, level, p.key.score, bin(p.key.field), p.n);
      moved += p.n;
    }
    this.sql.exec("UPDATE ranks SET n = n - ? WHERE eid = ? AND level = ? AND score = ? AND field = ?", moved, eid, level, node.score, bin(node.field));
    if (level < meta.top) {
      this.split(eid, level + 1, this.locate(eid, level + 1, node));
      return;
    }
    if (this.count(eid, level) <= 2 * FAN) return;
    // The top level is read whole: past 2 * FAN nodes it gets a level above it, split at once.
    const total = this.sql.first<{ t: number }>("SELECT sum(n) AS t FROM ranks WHERE eid = ? AND level = ?", eid, level)!.t;
    const root = { ...this.sentinel(meta.byScore), n: total };
    this.sql.exec("INSERT INTO ranks (eid, level, score, field, n) VALUES (?, ?, ?, ?, ?)", eid, level + 1, root.score, bin(root.field), total);
    this.sql.exec("UPDATE ranked SET top = ? WHERE eid = ?", level + 1, eid);
    this.remember(eid, { byScore: meta.byScore, top: level + 1 });
    this.split(eid, level + 1, root);
  }

  /** The nodes of `level` from `from` up to (not with) `to`, in order. */
  private children(eid: number, level: number, from: OrderKey, to: OrderKey | null): Node[] {
    return this.sql
      .exec<Row>(
        `SELECT score, field, n FROM ranks WHERE eid = ? AND level = ? AND ${nodeCmp(">=")}${to ? ` AND ${nodeCmp("<")}` : ""} ORDER BY score, field`,
        eid,
        level,
        ...nodeArgs(from),
        ...(to ? nodeArgs(to) : []),
      )
      .toArray()
      .map((r) => ({ score: r.score as number, field: str(r.field), n: r.n as number }));
  }

  /**
   * How many elements of `eid` come before `key` in its order (by (score, field) when `byScore`).
   * Indexed: the top level (`readChildren`), then one node per level, counting the siblings on the
   * side of the collection the key is in; else a count of the elements before it (a small one).
   */
  rank(eid: number, key: OrderKey, byScore: boolean): number {
    this.flush(eid);
    const o = order(byScore);
    const meta = this.meta(eid);
    if (meta === null)
      return this.sql.first<{ c: number }>(`SELECT count(*) AS c FROM elements WHERE eid = ? AND ${o.cmp("<")}`, eid, ...o.args(key))!.c;
    const top = this.readChildren(eid, meta.top, this.sentinel(meta.byScore), null);
    let j = 0;
    while (j + 1 < top.length && !before(key, top[j + 1]!)) j++;
    let prefix = 0;
    let total = 0;
    top.forEach((t, i) => {
      if (i < j) prefix += t.n;
      total += t.n;
    });
    let span: Span = { node: top[j]!, next: top[j + 1] ?? null };
    // The side of the collection the key is in: siblings are counted from that end.
    const fromEnd = prefix + span.node.n / 2 > total / 2;
    for (let level = meta.top - 1; level >= 0; level--) {
      const parent = span;
      const node = this.locate(eid, level, key);
      if (!fromEnd) {
        prefix += this.sum(eid, level, parent.node, node);
        span = { node, next: null }; // not needed counting from the start
        continue;
      }
      // The node's range ends where the next node of its level starts: its parent's end when it is the last child.
      const next = this.nextKey(eid, level, node);
      const last = next === null || (parent.next !== null && same(next, parent.next));
      prefix += parent.node.n - node.n - (last ? 0 : this.sum(eid, level, next, parent.next));
      span = { node, next };
    }
    const leaf = span.node;
    if (!fromEnd) return prefix + this.countElements(o, eid, leaf, key);
    // From the leaf's end: its elements at or after the key are counted.
    const after = this.sql.first<{ c: number }>(
      `SELECT count(*) AS c FROM elements WHERE eid = ? AND ${o.cmp(">=")}${span.next ? ` AND ${o.cmp("<")}` : ""}`,
      eid,
      ...o.args(key),
      ...(span.next ? o.args(span.next) : []),
    )!.c;
    return prefix + leaf.n - after;
  }

  /** Elements from `from` up to (not with) `to`. */
  private countElements(o: ReturnType<typeof order>, eid: number, from: OrderKey, to: OrderKey): number {
    return this.sql.first<{ c: number }>(`SELECT count(*) AS c FROM elements WHERE eid = ? AND ${o.cmp(">=")} AND ${o.cmp("<")}`, eid, ...o.args(from), ...o.args(to))!.c;
  }

  /** The node of `level` covering `key`. */
  private locate(eid: number, level: number, key: OrderKey): Node {
    const row = this.sql.first<Row>(
      `SELECT score, field, n FROM ranks WHERE eid = ? AND level = ? AND ${nodeCmp("<=")} ORDER BY score DESC, field DESC LIMIT 1`,
      eid,
      level,
      ...nodeArgs(key),
    )!;
    return { score: row.score as number, field: str(row.field), n: row.n as number };
  }

  /** The sum of the counts of the nodes of `level` from `from` up to (not with) `to` (null: the end). */
  private sum(eid: number, level: number, from: OrderKey, to: OrderKey | null): number {
    return this.sql.first<{ s: number | null }>(
      `SELECT sum(n) AS s FROM ranks WHERE eid = ? AND level = ? AND ${nodeCmp(">=")}${to ? ` AND ${nodeCmp("<")}` : ""}`,
      eid,
      level,
      ...nodeArgs(from),
      ...(to ? nodeArgs(to) : []),
    )!.s ?? 0;
  }

  /**
   * The elements of `eid` at `ranks` (ascending; repeats allowed), one per rank, in that order.
   * Indexed: the top level, the children of each node a rank falls in, down to the leaves, then
   * one statement for the elements (each a seek to its leaf and an offset within it: rank-picks.ts);
   * else the collection's first elements up to the largest rank (a small collection).
   */
  select(eid: number, ranks: readonly number[], byScore: boolean): ElementRow[] {
    if (ranks.length === 0) return [];
    this.flush(eid);
    const o = order(byScore);
    const meta = this.meta(eid);
    const last = ranks[ranks.length - 1]!;
    // A small collection, or picks that cover a good part of it: read in order up to the last one.
    if (meta === null || ranks.length * WHOLE_READ >= last) {
      const rows = this.sql
        .exec<Row>(`SELECT field, value, score, mod_offset FROM elements WHERE eid = ? ORDER BY ${o.by()} LIMIT ?`, eid, last + 1)
        .toArray()
        .map(toRow);
      return ranks.map((r) => rows[r]!).filter((r) => r !== undefined);
    }
    // Down the levels: at each, the nodes the ranks fall in (their spans), found among the
    // children (cached: `readChildren`) of the nodes found a level above.
    let leaves = locateRanks(this.readChildren(eid, meta.top, this.sentinel(meta.byScore), null), null, 0, ranks);
    for (let level = meta.top - 1; level >= 0; level--)
      leaves = leaves.flatMap((l) => locateRanks(this.readChildren(eid, level, l.span.node, l.span.next), l.span.next, l.start, l.ranks));
    return pickAt(this.sql, eid, leaves.map((l) => ({ key: l.span.node, start: l.start, ranks: l.ranks })), byScore, MAX_OFFSET);
  }

}

/** A node some ranks fall in: its span, the rank of its first element, and those ranks (ascending). */
interface Located {
  readonly span: Span;
  readonly start: number;
  readonly ranks: number[];
}

/** The nodes of `nodes` (in order, the first starting at rank `start`, the last followed by `end`) that `ranks` fall in. */
function locateRanks(nodes: readonly Node[], end: OrderKey | null, start: number, ranks: readonly number[]): Located[] {
  const out: Located[] = [];
  let i = 0;
  nodes.forEach((node, k) => {
    const mine: number[] = [];
    while (i < ranks.length && ranks[i]! < start + node.n) mine.push(ranks[i++]!);
    if (mine.length > 0) out.push({ span: { node, next: nodes[k + 1] ?? end }, start, ranks: mine });
    start += node.n;
  });
  return out;
}

/** True when `a` comes before `b` in (score, field) order (fields as SQLite compares TEXT: by bytes). */
const before = (a: OrderKey, b: OrderKey): boolean => compareKeys(a, b) < 0;

function same(a: OrderKey, b: OrderKey): boolean {
  return a.score === b.score && a.field === b.field;
}
