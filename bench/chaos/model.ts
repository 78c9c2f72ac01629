/**
 * The model of the keyspace the clients write, against which every answer is checked.
 *
 * Every owned key has a set of candidate states (a value or null), each tagged with the
 * generations (a per-key counter of modelled events) that produced it. An acknowledged write maps
 * every candidate through the command (narrowed by its answer: INCR's value, APPEND's length); a
 * write whose outcome is unknown (5xx, connection error) adds the mapped candidates to the old
 * ones; a refused one (4xx) changes nothing; a timed-out one may still apply at any time, so its
 * key is only loosely checked from then on. A FLUSHALL/FLUSHDB (any client's) may apply at any
 * instant between being sent and being answered: whenever such a window meets the window since a
 * key was last modelled, null is added as a newer candidate. Keys with TTLs are not modelled
 * exactly: a read of one must give null or a value written to it.
 *
 * Failovers. Replication is asynchronous: a primary that goes down may take with it writes it
 * acknowledged but had not yet replicated, so when one does (`primaryLost`) every key may be left
 * in any state it held since its writer's last WAIT confirmed by every replica (its `trail`), and
 * a write answered by that primary from before it went down counts as unknown (`lossBoundary`).
 * A read that a node still on the lost history may have served (until it is seen on the new
 * primary's, `leftLostHistory`) is checked against the candidates but raises no floor for later
 * reads. A coordinated failover (POST /admin/failover) loses nothing: the model stays exact.
 *
 * Collections (collections/) are modelled the same way: a state is the collection's canonical
 * text (see `KeyType`), null when the key does not exist (an emptied collection is deleted). Their
 * commands change a state rather than replace it, so unknown outcomes multiply the candidates; a
 * collection key past MAX_CANDIDATES is checked loosely from then on: its candidates are dropped
 * and a read of it must only hold elements (fields, values, members) written to it.
 */
import { type Random, now } from "./context.ts";

export type Value = string | null;

/**
 * How a key's states are read back and checked: a string's, or a collection type's. A state is
 * the value (a string), or a collection's canonical text (equal collections, equal texts).
 */
export interface KeyType {
  readonly name: string;
  /** The command that reads the whole state. */
  read(key: string): string[];
  /** The state its answer shows (null: no key). */
  decode(result: unknown): Value;
  /** A collection's elements (fields, values, members) for the loose check; absent for strings (their values are checked whole). */
  elements?(state: Value): string[];
}

export const STRING: KeyType = { name: "string", read: (key) => ["GET", key], decode: (result) => (result ?? null) as Value };

/** One command of a write, modelled: `effects` on owned keys, in order. */
export interface Cmd {
  argv: string[];
  effects: Effect[];
  flush?: boolean;
  wait?: number;
}

/** What a command does to one owned key. */
export interface Effect {
  key: string;
  /** What the command makes of state x, whatever it answered (empty: it fails there). */
  next: (x: Value) => Value[];
  /** What it made of x given its answer (empty: that answer cannot come from x); `next` when absent. */
  answered?: (x: Value, reply: unknown) => Value[];
  /** The elements it may put in a collection (the loose check's), read when it is modelled. */
  adds?: () => Iterable<string>;
  /** The key whose candidates `next` takes elements from (LMOVE's source): a loosely checked one leaves this key loose too. */
  from?: string;
}

/** `next`, kept where the result fits the answer. */
export const narrowed =
  (next: (x: Value) => Value[], fits: (y: Value, reply: unknown) => boolean) =>
  (x: Value, reply: unknown): Value[] =>
    next(x).filter((y) => fits(y, reply));

// ---- Flushes -------------------------------------------------------------------------------------

/** A FLUSHALL/FLUSHDB that may have applied at any instant in [start, end] (end: Infinity while unanswered or timed out). */
export interface Flush {
  start: number;
  end: number;
  /** The request that holds it (the keys it touches are modelled in order, not by this window). */
  txn: number;
}

/** The windows in which a flush may have applied, and how often the clients may send one. */
export class Flushes {
  private readonly windows: Flush[] = [];
  private nextAt = 0;
  private readonly random: Random;
  /** False with `--without flush`. */
  private readonly enabled: boolean;

  constructor(random: Random, enabled: boolean) {
    this.random = random;
    this.enabled = enabled;
  }

  /** Flushes are rare (every 2.5-6 s at most), so most keys are exact most of the time. */
  allowed(): boolean {
    if (!this.enabled || now() < this.nextAt) return false;
    this.nextAt = now() + this.random.between(2500, 6000);
    return true;
  }

  /** A flush sent at `start` by request `txn`: open until `answered`. */
  open(start: number, txn: number): Flush {
    const flush = { start, end: Infinity, txn };
    this.windows.push(flush);
    return flush;
  }

  /** Its window: until the answer (it applied by then or never), or forever if none came. */
  answered(flush: Flush, outcome: "ok" | "unknown" | "timeout" | "refused", end: number): void {
    if (outcome === "refused") this.windows.splice(this.windows.indexOf(flush), 1);
    else flush.end = outcome === "timeout" ? Infinity : end;
  }

  /** Whether a flush may have applied in (from, to] (or [from, to] when `closed`), other than request `exclude`'s (ids start at 1). */
  in(from: number, to: number, exclude: number, closed = false): boolean {
    return this.windows.some((f) => f.txn !== exclude && f.start <= to && (closed ? f.end >= from : f.end > from));
  }
}

// ---- The model of a key --------------------------------------------------------------------------

interface Gens {
  min: number;
  max: number;
}
const MAX_CANDIDATES = 64;

export class KeyModel {
  readonly type: KeyType;
  /** Candidate states and the generations that produced them. */
  cands = new Map<Value, Gens>([[null, { min: 0, max: 0 }]]);
  /** Every value the key may ever have held (for reads without a token). */
  readonly ever = new Set<Value>([null]);
  /** A collection's elements that any write may have put in it (the loose check's). */
  readonly written = new Set<string>();
  gen = 0;
  /** The oldest generation a read may still see (the client read one at least this new). */
  floor = 0;
  /** Modelled up to this time (flushes before it are accounted for). */
  settled = 0;
  /** Exact checks off: too many candidates, or a write that may apply at any time. */
  loose: string | null = null;
  /**
   * Every state the key may have held since its writer's last WAIT answered by every replica
   * (with the generations that produced it): what a primary lost before replicating may leave.
   */
  private trail = new Map<Value, Gens>([[null, { min: 0, max: 0 }]]);
  /** States that only a lost primary's acknowledged writes had superseded (seeing one shows such a write lost). */
  private widened = new Set<Value>();

  readonly key: string;
  private readonly flushes: Flushes;

  constructor(key: string, flushes: Flushes, type: KeyType = STRING) {
    this.key = key;
    this.flushes = flushes;
    this.type = type;
  }

  /** A loose collection keeps no candidates (they would multiply without bound): only `written`. */
  get untracked(): boolean {
    return this.loose !== null && this.type.elements !== undefined;
  }

  private bound(): void {
    if (!this.untracked) return;
    this.cands.clear();
    this.trail.clear();
    this.widened.clear();
  }

  private add(v: Value, g: number): void {
    if (this.untracked) return;
    const c = this.cands.get(v);
    if (c) c.max = Math.max(c.max, g);
    else this.cands.set(v, { min: g, max: g });
    this.ever.add(v);
    this.remember(v, g);
    if (this.cands.size > MAX_CANDIDATES) this.loosen("too many candidates");
  }

  /** Adds a state to the trail (see `trail`). */
  private remember(v: Value, g: number): void {
    const t = this.trail.get(v);
    if (t) t.max = Math.max(t.max, g);
    else this.trail.set(v, { min: g, max: g });
  }

  /** Every replica held the key's current candidates (a WAIT answered by all of them): no failover can lose them. */
  durable(): void {
    this.trail = new Map([...this.cands].map(([v, g]) => [v, { ...g }]));
  }

  /**
   * A primary went down before replicating what it acknowledged: the key may now hold any state
   * of its trail, and a read may give any of them (the floor comes down to the oldest).
   */
  widen(): void {
    if (this.untracked) return;
    let floor = this.floor;
    for (const [v, g] of this.trail) {
      const c = this.cands.get(v);
      if (c) (c.min = Math.min(c.min, g.min)), (c.max = Math.max(c.max, g.max));
      else {
        this.cands.set(v, { ...g });
        this.widened.add(v);
      }
      floor = Math.min(floor, g.max);
    }
    this.floor = floor;
    if (this.cands.size > MAX_CANDIDATES) this.loosen("too many candidates after a primary was lost");
    this.bound();
  }

  loosen(why: string): void {
    this.loose ??= why;
  }

  /** Accounts for flushes that may have applied since last modelled, up to `until`. */
  settle(until: number, txn = 0): void {
    if (this.flushes.in(this.settled, until, txn)) this.add(null, ++this.gen);
    this.settled = Math.max(this.settled, until);
  }

  /** After an operation over [start, end]: a flush overlapping it may have come after it. */
  after(start: number, end: number, txn = 0): void {
    if (this.flushes.in(start, end, txn, true)) this.add(null, ++this.gen);
    this.settled = Math.max(this.settled, end);
  }

  /** The values `next` may give from the current candidates (what may be written). */
  possible(next: (x: Value) => Value[]): Value[] {
    return [...new Set([...this.cands.keys()].flatMap(next))];
  }

  /**
   * Applies a write: `next(x)` is what the command makes of state x (empty: it fails there; for
   * an acknowledged write, narrowed by its answer); `adds`, the elements it may put in a
   * collection. Returns the write's generation, or null when an acknowledged write is explained
   * by no candidate.
   */
  apply(next: (x: Value) => Value[], outcome: "ok" | "unknown" | "timeout", adds: Iterable<string> = []): number | null {
    const g = ++this.gen;
    for (const e of adds) this.written.add(e);
    if (outcome === "timeout") this.loosen("a write timed out");
    if (this.untracked) return g;
    const results = this.possible(next);
    for (const y of results) this.ever.add(y);
    if (outcome !== "ok") {
      for (const y of results) this.add(y, g);
      this.bound();
      return g;
    }
    if (results.length === 0) {
      this.loosen("an answer unexplained");
      this.bound();
      return null;
    }
    this.cands = new Map(results.map((y) => [y, { min: g, max: g }]));
    for (const y of results) this.remember(y, g);
    this.widened.clear();
    return g;
  }

  /** Whether `v` may be the state now, at least as new as generation `since` (and the floor). */
  accepts(v: Value, since = 0): boolean {
    return this.acceptsWhere((x) => x === v, since);
  }

  /** Whether a state that `shows` (a partial read's answer) may be the state now, at least as new as `since` and the floor. */
  acceptsWhere(shows: (x: Value) => boolean, since = 0): boolean {
    const from = Math.max(since, this.floor);
    for (const [x, g] of this.cands) if (g.max >= from && shows(x)) return true;
    return false;
  }

  /** Whether any candidate, however old, `shows` (a stale read tells apart from a non-monotonic one). */
  mayShow(shows: (x: Value) => boolean): boolean {
    for (const x of this.cands.keys()) if (shows(x)) return true;
    return false;
  }

  /** A read with the token saw `v` (accepted): later reads may not see older states. */
  observe(v: Value): void {
    this.observeWhere((x) => x === v);
  }

  /** A read with the token saw a state that `shows` (accepted): it was one at least as new as the oldest such candidate. */
  observeWhere(shows: (x: Value) => boolean): void {
    let min = Infinity;
    for (const [x, g] of this.cands) if (g.max >= this.floor && shows(x)) min = Math.min(min, g.min);
    if (min === Infinity) return;
    this.floor = Math.max(this.floor, min);
    for (const [x, g] of this.cands) if (g.max < this.floor) this.cands.delete(x);
  }

  /**
   * Whether the key may ever have held `v` (reads without a token, loose keys): a string written
   * to it, or a collection holding only elements written to it.
   */
  explains(v: Value): boolean {
    const { elements } = this.type;
    if (!elements) return this.ever.has(v);
    return elements(v).every((e) => this.written.has(e));
  }

  /**
   * Whether `v`, read from the new primary's history, is a state that acknowledged writes had
   * superseded before their primary went down: they were lost (as asynchronous replication allows).
   * Counted once per loss.
   */
  showsLoss(v: Value): boolean {
    if (!this.widened.has(v)) return false;
    this.widened.clear();
    return true;
  }

  /** The candidates a read may still give (for a violation's text). */
  current(): Value[] {
    return [...this.cands].filter(([, g]) => g.max >= this.floor).map(([v]) => v);
  }
}

// ---- The keyspace --------------------------------------------------------------------------------

/** A read checked only at the end, against every value written to its key. */
export interface LooseRead {
  key: string;
  value: Value;
  servedBy: string;
}

/** Everything the clients did that the final checks look at. */
export class Model {
  readonly flushes: Flushes;
  /** The owned keys, each with one writer. */
  readonly keys = new Map<string, KeyModel>();
  /** Keys with TTLs: every value written (with null), for reads. */
  readonly ttlEver = new Map<string, Set<Value>>();
  /** Reads without a token (and of TTL keys), checked at the end against every value written. */
  readonly looseReads: LooseRead[] = [];
  /** Keys that refused writes would have created: must be absent at the end. */
  readonly surrogateKeys = new Set<string>();
  private shortDeadline = 0;
  private txns = 0;
  /** A primary went down after this time (its answers to requests sent before may be lost). */
  lossBoundary = Number.NEGATIVE_INFINITY;
  /** When each node was last seen on the primary's history (after `lossBoundary`: off the lost one). */
  private readonly onHistory = new Map<string, number>();

  constructor(flushes: Flushes) {
    this.flushes = flushes;
  }

  /** Registers a client's keys: its owned keys, modelled (strings, and collections of `types`), and its keys with TTLs. */
  own(keys: readonly string[], ttlKeys: readonly string[], types: ReadonlyMap<string, KeyType> = new Map()): void {
    for (const k of keys) this.keys.set(k, new KeyModel(k, this.flushes));
    for (const [k, type] of types) this.keys.set(k, new KeyModel(k, this.flushes, type));
    for (const k of ttlKeys) this.ttlEver.set(k, new Set([null]));
  }

  key(k: string): KeyModel {
    return this.keys.get(k)!;
  }

  /** A new request's id (for the flush windows; they start at 1). */
  nextTxn(): number {
    return ++this.txns;
  }

  /**
   * The primary went down (or may have) now: acknowledged writes it had not replicated may be
   * lost. Every key may hold any state of its trail, answers to requests sent before now count as
   * unknown, and every node may serve the lost history until seen off it (`leftLostHistory`).
   */
  primaryLost(): void {
    this.lossBoundary = now();
    for (const m of this.keys.values()) m.widen();
  }

  /** `node` follows the primary's history now (a node never goes back to a lost one). */
  leftLostHistory(node: string): void {
    this.onHistory.set(node, now());
  }

  /** Whether `node` may have served a read sent at `start` from a lost history (it then raises no floor). */
  lossy(start: number, node: string): boolean {
    if (this.lossBoundary === Number.NEGATIVE_INFINITY) return false;
    const seen = this.onHistory.get(node) ?? Number.NEGATIVE_INFINITY;
    return !(seen > this.lossBoundary && start >= seen);
  }

  /** A short TTL set now passes by `deadline` (wall time). */
  shortTtlUntil(deadline: number): void {
    this.shortDeadline = Math.max(this.shortDeadline, deadline);
  }

  /** Keys with TTLs short enough to pass during the run: the latest deadline, in wall time. */
  get lastShortDeadline(): number {
    return this.shortDeadline;
  }
}

/** The keys a client owns: unusual names on purpose (and a few wholly odd ones for the first clients). */
export function ownedKeys(id: number): string[] {
  const blank = ["", " ", "\n", "\t\u00a0"][id] ?? `c${id}:_`;
  return [
    `c${id}`,
    `c${id}:plain`,
    `c${id} with spaces\nand a newline\tand a tab`,
    `c${id}:*?[glob]\\^$`,
    `c${id}:é中文🔥👩‍👩‍👧`,
    `c${id}:long:${"L".repeat(3000)}`,
    `c${id}:nul\u0000byte`,
    blank,
  ];
}
export const ttlKeys = (id: number) => [0, 1, 2, 3].map((i) => `x${id}:${i}`).concat([`x${id}:⏳`]);

export const isInteger = (v: Value) => v !== null && /^-?\d{1,15}$/.test(v);
export const utf8 = (v: Value) => Buffer.byteLength(v ?? "");
