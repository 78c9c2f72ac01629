/**
 * The chaos run (issue 5): `npm run chaos -- --seconds N [--seed S] [--clients C]` (loopback
 * only, bounded in time, seeded).
 *
 * Flaredis runs under workerd with its local topology (primary enam; replicas wnam, weur, apac).
 * Clients at four places run a mixed workload on keys they own (each key has one writer, so its
 * history is known) while faults are injected, several at once (see FAULTS and the injector).
 *
 * The workload covers what replicates differently: SET (plain, far-future EXAT/PXAT deadlines),
 * PEXPIREAT far in the future, EXPIRE/PERSIST, INCR, APPEND, MSET, RENAME, DEL; transactions
 * (`/multi-exec`) holding any of those, sometimes FLUSHALL/FLUSHDB, sometimes WAIT; WAIT after a
 * write; keys with TTLs (short and long) in a keyspace of their own; unusual keys (empty, blank,
 * long, non-ASCII, emoji, NUL, spaces/newlines/glob characters); and now and then a key with a
 * lone surrogate, which must be refused (4xx) and change nothing.
 *
 * The model. Every owned key has a set of candidate states (a value or null), each tagged with
 * the generations (a per-key counter of modelled events) that produced it. An acknowledged write
 * maps every candidate through the command (narrowed by its answer: INCR's value, APPEND's
 * length); a write whose outcome is unknown (5xx, connection error) adds the mapped candidates to
 * the old ones; a refused one (4xx) changes nothing; a timed-out one may still apply at any time,
 * so its key is only loosely checked from then on. A FLUSHALL/FLUSHDB (any client's) may apply
 * at any instant between being sent and being answered: whenever such a window meets the window
 * since a key was last modelled, null is added as a newer candidate. Keys with TTLs are not
 * modelled exactly: a read of one must give null or a value written to it.
 *
 * Checks:
 *   - during the run: a read with the client's sync token of its own key gives a candidate
 *     (else "stale read with token") no older than the newest it read before ("non-monotonic
 *     read"); an acknowledged answer the model cannot explain ("write answer unexplained");
 *   - every WAIT answer (outside or inside a transaction): see `checkWait`;
 *   - lone-surrogate keys refused with 4xx, and nothing written under a replacement key;
 *   - at the end (faults undone, quiescence, short TTLs past): every node's digest equals the
 *     primary's (the main divergence check); every owned key read on the primary is a candidate
 *     no older than what its client read (no acknowledged write lost); every read without a token
 *     gave null or a value written to that key;
 *   - the run fails if fewer than half of the requests succeeded, no read was served by a
 *     replica, or more than 10% of the faults failed to apply.
 * Every 1.5-3.5 s a prober holds the clients until replicas have caught up and runs one write
 * and WAIT alone (a WAIT that counts replicas at the offset before a transaction's writes only
 * shows on a quiet system). FLUSHALL/FLUSHDB are sent with the read-write token (the command
 * table flags them `write`, not `admin`). `--without flush,surrogates,...` leaves parts of the
 * workload out, to find which one a violation needs.
 * Not checked: that the primary's expiry keeps running (an alarm that throws on a far-future
 * deadline leaves expired keys undeleted, which the digest, blind to logically expired keys,
 * does not see); the per-replica WAIT check sees only replicas that the router lets serve.
 * The operations go to bench/results/chaos-history.jsonl; the last line printed is the summary.
 */
import { createWriteStream, mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { HttpClient, TimeoutError, cfFrom } from "./lib/http.ts";
import { sleep } from "./lib/load.ts";
import { type Started, startFlaredis } from "./lib/systems.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    seed: { type: "string" },
    clients: { type: "string", default: "8" },
    // Parts of the workload to leave out, to find which one a violation needs: e.g. --without surrogates,flush
    without: { type: "string", default: "" },
  },
});
const PARTS = ["surrogates", "flush", "multi", "wait", "probe", "ttl", "far-future", "rename", "append", "incr"] as const;
const without = new Set(args.without.split(",").filter(Boolean));
for (const w of without) if (!(PARTS as readonly string[]).includes(w)) throw new Error(`--without: one of ${PARTS.join(", ")}`);
const has = (part: (typeof PARTS)[number]) => !without.has(part);
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
if (!(SECONDS > 0 && SECONDS <= 3600)) throw new Error("--seconds must be between 1 and 3600");

/** A small seeded generator (mulberry32), so a run can be repeated with --seed. */
const seed = Number(args.seed ?? Math.floor(Math.random() * 2 ** 31));
let state = seed >>> 0;
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const between = (lo: number, hi: number) => lo + random() * (hi - lo);
const now = () => performance.now();

const NODES = ["enam", "wnam", "weur", "apac"] as const;
/** Who is primary now: failovers move it (refreshed from /admin/topology before each fault). */
const roles = { primary: "enam", replicas: ["wnam", "weur", "apac"] };
/** A client near each node (its nearest replica is that node when it is a replica). */
const NEAR: Record<string, string> = {
  weur: cfFrom(48.8566, 2.3522, "EU", "FR"), // Paris
  apac: cfFrom(35.6762, 139.6503, "AS", "JP"), // Tokyo
  wnam: cfFrom(37.7749, -122.4194, "NA", "US"), // San Francisco
  enam: cfFrom(40.7128, -74.006, "NA", "US"), // New York
};
const PLACES = [NEAR.weur!, NEAR.apac!, NEAR.wnam!, NEAR.enam!];
/** A request left unanswered this long is abandoned (a failover holds writes up to 5 s). */
const REQUEST_TIMEOUT_MS = 20_000;
/** A far-future deadline: the largest PEXPIREAT a JavaScript number holds exactly, and EXAT's. */
const FAR_PX = "9007199254740991";
const FAR_EX = "9999999999";

mkdirSync("bench/results", { recursive: true });
const historyPath = "bench/results/chaos-history.jsonl";
const history = createWriteStream(historyPath);
const begun = now();
const log = (entry: Record<string, unknown>) => history.write(`${JSON.stringify({ t: Math.round(now() - begun), ...entry })}\n`);

const counts = {
  ops: 0,
  acked: 0,
  refused: 0,
  unknown: 0,
  transactions: 0,
  flushes: 0,
  waits: 0,
  waitsInMulti: 0,
  waitConfirmed: 0,
  waitChecks: 0,
  waitNodesSeen: 0,
  reads: 0,
  tokenReads: 0,
  replicaReads: 0,
  ttlOps: 0,
  probes: 0,
  surrogateProbes: 0,
  requests: 0,
  requestsOk: 0,
};
/** Failed requests by kind: `<status> <error prefix>`, `timeout`, `network <code>`. */
const errorKinds: Record<string, number> = {};
const violations: string[] = [];
function violation(text: string, entry: Record<string, unknown> = {}): void {
  violations.push(text);
  log({ violation: text, ...entry });
}
const show = (v: unknown) => JSON.stringify(v)?.slice(0, 80);

// ---- Requests ------------------------------------------------------------------------------------

interface Answer {
  /** HTTP status; 0 when no answer came (then `thrown`). */
  status: number;
  servedBy: string;
  token: string | null;
  body: unknown;
  error?: string;
  timedOut: boolean;
}

/** A refused request applied nothing; a failed one (5xx, no answer) may have. */
const refused = (a: Answer) => a.status >= 400 && a.status < 500;

async function send(http: HttpClient, path: string, body: unknown, headers: Record<string, string>, counted = true): Promise<Answer> {
  if (counted) counts.requests++;
  let a: Answer;
  try {
    const reply = await http.post(path, body, headers, REQUEST_TIMEOUT_MS);
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(reply.body || "null");
    } catch {
      parsed = reply.body;
    }
    const token = reply.headers["upstash-sync-token"];
    const error = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as { error?: string }).error : undefined;
    a = { status: reply.status, servedBy: String(reply.headers["flaredis-served-by"]), token: typeof token === "string" ? token : null, body: parsed, timedOut: false };
    if (error !== undefined) a.error = error;
  } catch (e) {
    const timedOut = e instanceof TimeoutError;
    a = { status: 0, servedBy: "none", token: null, body: null, error: timedOut ? "timeout" : `network ${(e as { code?: string }).code ?? String(e)}`, timedOut };
  }
  if (counted) {
    if (a.status >= 200 && a.status < 300) counts.requestsOk++;
    else {
      const kind = a.status === 0 ? a.error!.split(" ").slice(0, 2).join(" ") : `${a.status} ${(a.error ?? "").split(" ")[0] || "?"}`;
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    }
  }
  return a;
}

// ---- Flushes -------------------------------------------------------------------------------------

/** A FLUSHALL/FLUSHDB that may have applied at any instant in [start, end] (end: Infinity while unanswered or timed out). */
interface Flush {
  start: number;
  end: number;
  /** The request that holds it (the keys it touches are modelled in order, not by this window). */
  txn: number;
}
const flushes: Flush[] = [];
/** Whether a flush may have applied in (from, to] (or [from, to] when `closed`), other than request `exclude`'s (ids start at 1). */
function flushIn(from: number, to: number, exclude: number, closed = false): boolean {
  return flushes.some((f) => f.txn !== exclude && f.start <= to && (closed ? f.end >= from : f.end > from));
}
let nextFlushAt = 0;
/** Flushes are rare (every 2.5-6 s at most), so most keys are exact most of the time. */
function flushAllowed(): boolean {
  if (!has("flush") || now() < nextFlushAt) return false;
  nextFlushAt = now() + between(2500, 6000);
  return true;
}

// ---- The model of a key --------------------------------------------------------------------------

type Value = string | null;
interface Gens {
  min: number;
  max: number;
}
const MAX_CANDIDATES = 64;

class KeyModel {
  /** Candidate states and the generations that produced them. */
  cands = new Map<Value, Gens>([[null, { min: 0, max: 0 }]]);
  /** Every value the key may ever have held (for reads without a token). */
  readonly ever = new Set<Value>([null]);
  gen = 0;
  /** The oldest generation a read may still see (the client read one at least this new). */
  floor = 0;
  /** Modelled up to this time (flushes before it are accounted for). */
  settled = 0;
  /** Exact checks off: too many candidates, or a write that may apply at any time. */
  loose: string | null = null;

  readonly key: string;

  constructor(key: string) {
    this.key = key;
  }

  private add(v: Value, g: number): void {
    const c = this.cands.get(v);
    if (c) c.max = Math.max(c.max, g);
    else this.cands.set(v, { min: g, max: g });
    this.ever.add(v);
    if (this.cands.size > MAX_CANDIDATES) this.loosen("too many candidates");
  }

  loosen(why: string): void {
    this.loose ??= why;
  }

  /** Accounts for flushes that may have applied since last modelled, up to `until`. */
  settle(until: number, txn = 0): void {
    if (flushIn(this.settled, until, txn)) this.add(null, ++this.gen);
    this.settled = Math.max(this.settled, until);
  }

  /** After an operation over [start, end]: a flush overlapping it may have come after it. */
  after(start: number, end: number, txn = 0): void {
    if (flushIn(start, end, txn, true)) this.add(null, ++this.gen);
    this.settled = Math.max(this.settled, end);
  }

  /** The values `next` may give from the current candidates (what may be written). */
  possible(next: (x: Value) => Value[]): Value[] {
    return [...new Set([...this.cands.keys()].flatMap(next))];
  }

  /**
   * Applies a write: `next(x)` is what the command makes of state x (empty: it fails there);
   * `fits(y)` narrows by its answer. Returns the write's generation, or null when an acknowledged
   * write is explained by no candidate.
   */
  apply(next: (x: Value) => Value[], outcome: "ok" | "unknown" | "timeout", fits: (y: Value) => boolean = () => true): number | null {
    const g = ++this.gen;
    const results = this.possible(next).filter((y) => outcome !== "ok" || fits(y));
    for (const y of results) this.ever.add(y);
    if (outcome === "timeout") this.loosen("a write timed out");
    if (outcome !== "ok") {
      for (const y of results) this.add(y, g);
      return g;
    }
    if (results.length === 0) {
      this.loosen("an answer unexplained");
      return null;
    }
    this.cands = new Map(results.map((y) => [y, { min: g, max: g }]));
    return g;
  }

  /** Whether `v` may be the state now, at least as new as generation `since` (and the floor). */
  accepts(v: Value, since = 0): boolean {
    const c = this.cands.get(v);
    return c !== undefined && c.max >= Math.max(since, this.floor);
  }

  /** A read with the token saw `v` (accepted): later reads may not see older states. */
  observe(v: Value): void {
    const c = this.cands.get(v);
    if (!c) return;
    this.floor = Math.max(this.floor, c.min);
    for (const [x, g] of this.cands) if (g.max < this.floor) this.cands.delete(x);
  }
}

const models = new Map<string, KeyModel>();
/** Keys with TTLs: every value written (with null), for reads. */
const ttlEver = new Map<string, Set<Value>>();
/** Reads without a token (and of TTL keys), checked at the end against every value written. */
const looseReads: { key: string; value: Value; servedBy: string }[] = [];

/** The keys a client owns: unusual names on purpose (and a few wholly odd ones for the first clients). */
function ownedKeys(id: number): string[] {
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
const ttlKeys = (id: number) => [0, 1, 2, 3].map((i) => `x${id}:${i}`).concat([`x${id}:⏳`]);

const isInteger = (v: Value) => v !== null && /^-?\d{1,15}$/.test(v);
const utf8 = (v: Value) => Buffer.byteLength(v ?? "");

// ---- Clients -------------------------------------------------------------------------------------

/** One command of a write, modelled: `effects` on owned keys, in order. */
interface Cmd {
  argv: string[];
  effects: { key: string; next: (x: Value) => Value[]; fits?: (reply: unknown) => (y: Value) => boolean }[];
  flush?: boolean;
  wait?: number;
}

class Client {
  private readonly http: HttpClient;
  /** The sync token of the latest answer to a request that carried it (opaque, as @upstash/redis keeps it). */
  private token = "";
  private seq = 0;
  private readonly keys: string[];
  private readonly ttl: string[];

  readonly id: number;
  private readonly place: string;

  constructor(id: number, place: string, system: Started) {
    this.id = id;
    this.place = place;
    this.http = new HttpClient(system.url, "dev-token", system.headers, 4);
    this.keys = ownedKeys(id);
    this.ttl = ttlKeys(id);
    for (const k of this.keys) models.set(k, new KeyModel(k));
    for (const k of this.ttl) ttlEver.set(k, new Set([null]));
  }

  private value(): string {
    const n = ++this.seq;
    const flavour = n % 7 === 0 ? " é🔥\n" : n % 11 === 0 ? "*?[" : "";
    return `v${this.id}.${n}${flavour}`;
  }

  /** A request as the client's own: its sync token goes along and the answer's replaces it. */
  private async call(path: string, body: unknown, withToken = true, place = this.place): Promise<Answer> {
    const headers: Record<string, string> = { "MF-CF-Blob": place };
    if (withToken) headers["upstash-sync-token"] = this.token;
    const a = await send(this.http, path, body, headers);
    if (withToken && a.token !== null) this.token = a.token;
    return a;
  }

  async step(): Promise<void> {
    const roll = random();
    if (roll < 0.45) await this.write();
    else if (roll < 0.52) await (has("multi") ? this.transaction() : this.write());
    else if (roll < 0.72) await this.readOwn();
    else if (roll < 0.84) await this.readAny();
    else if (roll < 0.97) await (has("ttl") ? this.ttlOp() : this.readOwn());
    else if (roll < 0.985) await this.flush();
    else await (has("surrogates") ? this.surrogate() : this.readOwn());
  }

  // -- writes

  /** A write command on owned keys, chosen by what the model says the key may hold. */
  private command(): Cmd {
    const key = pick(this.keys);
    const m = models.get(key)!;
    const r = random();
    const v = this.value();
    const cands = [...m.cands.keys()];
    if (r < 0.3 || cands.some((x) => utf8(x) > 4000)) return { argv: ["SET", key, v], effects: [{ key, next: () => [v] }] };
    if (r < 0.36 && has("far-future")) return { argv: ["SET", key, v, "EXAT", FAR_EX], effects: [{ key, next: () => [v] }] };
    if (r < 0.4 && has("far-future")) return { argv: ["SET", key, v, "PXAT", FAR_PX], effects: [{ key, next: () => [v] }] };
    if (r < 0.46 && has("far-future")) return { argv: ["PEXPIREAT", key, FAR_PX], effects: [{ key, next: (x) => [x] }] };
    if (r < 0.5) {
      const which = Math.floor(random() * 3);
      if (which === 0) return { argv: ["SET", key, v, "KEEPTTL"], effects: [{ key, next: () => [v] }] };
      return { argv: which === 1 ? ["EXPIRE", key, "100000"] : ["PERSIST", key], effects: [{ key, next: (x) => [x] }] };
    }
    if (r < 0.6 && has("incr") && cands.every((x) => x === null || isInteger(x))) {
      const by = random() < 0.7 ? 1 : -3;
      return {
        argv: by === 1 ? ["INCR", key] : ["INCRBY", key, String(by)],
        effects: [{ key, next: (x) => [String(Number(x ?? 0) + by)], fits: (reply) => (y) => y === String(reply) }],
      };
    }
    if (r < 0.72 && has("append")) {
      const suffix = `+${this.id}.${this.seq}${this.seq % 5 === 0 ? "ü" : ""}`;
      return { argv: ["APPEND", key, suffix], effects: [{ key, next: (x) => [(x ?? "") + suffix], fits: (reply) => (y) => utf8(y) === Number(reply) }] };
    }
    if (r < 0.8) {
      const other = pick(this.keys.filter((k) => k !== key));
      const w = this.value();
      return { argv: ["MSET", key, v, other, w], effects: [{ key, next: () => [v] }, { key: other, next: () => [w] }] };
    }
    if (r < 0.88) return { argv: ["DEL", key], effects: [{ key, next: () => [null] }] };
    if (has("rename") && cands.every((x) => x !== null)) {
      const to = pick(this.keys.filter((k) => k !== key));
      // The destination's next state is the source's, read when the destination is modelled (after the source).
      let moved: Value[] = [];
      return {
        argv: ["RENAME", key, to],
        effects: [
          { key, next: (x) => (x === null ? [] : ((moved = [...models.get(key)!.cands.keys()].filter((y) => y !== null)), [null])) },
          { key: to, next: () => moved },
        ],
      };
    }
    return { argv: ["SET", key, v], effects: [{ key, next: () => [v] }] };
  }

  private async write(): Promise<void> {
    const cmd = this.command();
    const outcome = await this.run([cmd], false);
    if (outcome === null || random() >= 0.25 || !has("wait")) return;
    // WAIT after an acknowledged write, sent with the token (it names the client's writes).
    const n = pick([1, 1, 1, 2, 3]);
    counts.waits++;
    const a = await this.call("/", ["WAIT", String(n), String(pick([50, 100, 300]))]);
    log({ client: this.id, op: "wait", n, status: a.status, result: a.body });
    if (a.status === 200) await this.checkWait(Number((a.body as { result: unknown }).result), outcome, "WAIT");
  }

  private async transaction(): Promise<void> {
    counts.transactions++;
    const cmds: Cmd[] = Array.from({ length: 1 + Math.floor(random() * 3) }, () => this.command());
    if (flushAllowed()) cmds.splice(Math.floor(random() * (cmds.length + 1)), 0, { argv: [pick(["FLUSHALL", "FLUSHDB"])], effects: [], flush: true });
    let waitAt = -1;
    if (random() < 0.4 && has("wait")) {
      waitAt = random() < 0.75 ? cmds.length : Math.floor(random() * (cmds.length + 1));
      cmds.splice(waitAt, 0, { argv: ["WAIT", pick(["1", "1", "2"]), "100"], effects: [], wait: 1 });
    }
    const gens = await this.run(cmds, true);
    if (gens === null || waitAt < 0) return;
    counts.waitsInMulti++;
    counts.waits++;
    const reply = (this.lastOutcomes?.[waitAt] ?? {}) as { result?: unknown };
    if (reply.result === undefined) return;
    // The writes before the WAIT in the transaction (it applies whole, so the later ones too).
    const before = new Map([...gens].filter(([k]) => cmds.slice(0, waitAt).some((c) => c.effects.some((e) => e.key === k))));
    await this.checkWait(Number(reply.result), before, "WAIT in MULTI");
  }

  private lastOutcomes: unknown[] | null = null;

  /**
   * WAIT on a quiet system (the prober holds every other client): replicas have acknowledged
   * everything before, so a WAIT that counted them for the offset before the transaction's
   * writes would answer at once while a slow replica still lacks them.
   */
  async probeWait(): Promise<void> {
    const key = pick(this.keys);
    const v = this.value();
    const set: Cmd = { argv: ["SET", key, v], effects: [{ key, next: () => [v] }] };
    const inMulti = random() < 0.7;
    const gens = await this.run(inMulti ? [set, { argv: ["WAIT", "1", "100"], effects: [], wait: 1 }] : [set], inMulti);
    if (gens === null) return;
    counts.waits++;
    counts.probes++;
    if (inMulti) {
      counts.waitsInMulti++;
      const reply = (this.lastOutcomes?.[1] ?? {}) as { result?: unknown };
      if (reply.result !== undefined) await this.checkWait(Number(reply.result), gens, "WAIT in MULTI");
      return;
    }
    const a = await this.call("/", ["WAIT", "1", "100"]);
    if (a.status === 200) await this.checkWait(Number((a.body as { result: unknown }).result), gens, "WAIT");
  }

  /**
   * Sends one command (`/`) or a transaction (`/multi-exec`) and models its effects. Returns, when
   * everything was acknowledged, the generation of each owned key's last write; else null.
   */
  private async run(cmds: Cmd[], multi: boolean): Promise<Map<string, number> | null> {
    counts.ops++;
    const txn = ++txnIds;
    const touched = [...new Set(cmds.flatMap((c) => c.effects.map((e) => e.key)))];
    const start = now();
    const flush: Flush | null = cmds.some((c) => c.flush) ? { start, end: Infinity, txn } : null;
    if (flush) flushes.push(flush);
    const a = await this.call(multi ? "/multi-exec" : "/", multi ? cmds.map((c) => c.argv) : cmds[0]!.argv);
    const end = now();
    log({ client: this.id, op: multi ? "multi" : cmds[0]!.argv[0], argv: cmds.map((c) => c.argv.map((x) => x.slice(0, 60))), status: a.status, servedBy: a.servedBy, body: a.body });
    // Per command: its outcome. A whole answer refused: nothing applied; no answer: unknown.
    let outcomes: ("ok" | "unknown" | "timeout" | "refused")[];
    let replies: unknown[] = [];
    if (a.status === 200) {
      replies = multi ? (Array.isArray(a.body) ? a.body : []) : [a.body];
      outcomes = cmds.map((_, i) => {
        const r = replies[i] as { result?: unknown; error?: string } | undefined;
        return r && "result" in r ? "ok" : r && "error" in r ? "refused" : "unknown";
      });
    } else if (refused(a)) outcomes = cmds.map(() => "refused");
    else outcomes = cmds.map(() => (a.timedOut ? "timeout" : "unknown"));
    this.lastOutcomes = replies;
    // The flush's window: until the answer (it applied by then or never), or forever if none came.
    if (flush) {
      const out = outcomes[cmds.findIndex((c) => c.flush)]!;
      if (out === "refused") flushes.splice(flushes.indexOf(flush), 1);
      else flush.end = out === "timeout" ? Infinity : end;
      if (out === "ok") counts.flushes++;
    }
    for (const k of touched) models.get(k)!.settle(end, txn);
    const gens = new Map<string, number>();
    cmds.forEach((c, i) => {
      const out = outcomes[i]!;
      if (c.flush && out !== "refused") {
        // Inside the transaction, in order: the keys it touches are null at this point.
        for (const k of touched) gens.set(k, models.get(k)!.apply(() => [null], out === "ok" ? "ok" : out) ?? -1);
      }
      if (out === "refused") return;
      for (const e of c.effects) {
        const m = models.get(e.key)!;
        const reply = (replies[i] as { result?: unknown } | undefined)?.result;
        const g = m.apply(e.next, out, e.fits && out === "ok" ? e.fits(reply) : undefined);
        if (g === null) violation(`write answer unexplained: ${c.argv[0]} on ${show(e.key)} answered ${show(reply)}, the key may hold only ${show([...m.cands.keys()])}`, { key: e.key });
        gens.set(e.key, g ?? -1);
      }
    });
    for (const k of touched) models.get(k)!.after(start, end, txn);
    const all = outcomes.every((o) => o === "ok");
    if (all) counts.acked++;
    else if (outcomes.some((o) => o === "unknown" || o === "timeout")) counts.unknown++;
    else counts.refused++;
    return all ? gens : null;
  }

  /**
   * Checks a WAIT answer. WAIT n answering k >= 1 says the primary and k replicas held the
   * client's writes when it answered. Nodes never lose what they applied: a restart keeps the
   * keyspace, a full sync replaces it with the (newer) primary's, which holds the write or what
   * superseded it (the client writes nothing before this check ends; another client's flush is
   * in the model). So, read right after through each replica (a client placed near it, no token,
   * served-by naming who answered), at most 3 - k of the 4 nodes may be seen without the write:
   * more is a WAIT that confirmed what replicas did not hold. A replica that did not serve (link
   * down, lagging: the router skips it) is not counted, so the check can miss, never wrongly fail.
   */
  private async checkWait(k: number, writes: Map<string, number>, what: string): Promise<void> {
    log({ client: this.id, wait: what, answered: k });
    if (!Number.isInteger(k) || k < 0 || k > NODES.length - 1) {
      violation(`${what} answered ${k}, not a replica count`, {});
      return;
    }
    if (k === 0 || writes.size === 0) return;
    counts.waitConfirmed++;
    counts.waitChecks++;
    const lacking = new Set<string>();
    const seen = new Set<string>();
    for (const node of NODES) {
      for (const [key, gen] of writes) {
        if (gen < 0) continue;
        const m = models.get(key)!;
        const a = await this.call("/", ["GET", key], false, NEAR[node]!);
        const end = now();
        if (a.status !== 200 || !a.servedBy.startsWith("replica:")) continue;
        const by = a.servedBy.slice("replica:".length);
        seen.add(by);
        m.settle(end);
        const v = (a.body as { result: Value }).result;
        if (!m.loose && !m.accepts(v, gen)) {
          lacking.add(by);
          log({ client: this.id, waitCheck: what, key: key.slice(0, 60), node: by, value: v, candidates: [...m.cands.keys()] });
        }
      }
    }
    counts.waitNodesSeen += seen.size;
    if (lacking.size > NODES.length - 1 - k)
      violation(`${what} answered ${k} but ${lacking.size} replica(s) (${[...lacking].join(", ")}) served reads without the write`, { keys: [...writes.keys()] });
  }

  // -- reads

  private async readOwn(): Promise<void> {
    const key = pick(this.keys);
    const m = models.get(key)!;
    const a = await this.call("/", ["GET", key]);
    const end = now();
    counts.reads++;
    log({ client: this.id, op: "get", key: key.slice(0, 60), token: true, status: a.status, servedBy: a.servedBy, value: a.body });
    if (a.status !== 200) return;
    counts.tokenReads++;
    if (a.servedBy.startsWith("replica:")) counts.replicaReads++;
    m.settle(end);
    const v = (a.body as { result: Value }).result;
    if (m.loose) return void looseReads.push({ key, value: v, servedBy: a.servedBy });
    if (!m.cands.has(v)) violation(`stale read with token: ${show(key)} gave ${show(v)} from ${a.servedBy}, may hold only ${show([...m.cands.keys()])}`, { key });
    else if (!m.accepts(v)) violation(`non-monotonic read: ${show(key)} gave ${show(v)} from ${a.servedBy}, older than a value read before`, { key });
    else m.observe(v);
  }

  /** A read of any key (owned by anyone, with a TTL or not), without a token, or with it. */
  private async readAny(): Promise<void> {
    const owner = Math.floor(random() * CLIENTS);
    const key = random() < 0.7 ? pick(ownedKeys(owner)) : pick(ttlKeys(owner));
    const withToken = random() < 0.3;
    const a = await this.call("/", ["GET", key], withToken);
    counts.reads++;
    log({ client: this.id, op: "get", key: key.slice(0, 60), token: withToken, status: a.status, servedBy: a.servedBy, value: a.body });
    if (a.status !== 200) return;
    if (withToken) counts.tokenReads++;
    if (a.servedBy.startsWith("replica:")) counts.replicaReads++;
    looseReads.push({ key, value: (a.body as { result: Value }).result, servedBy: a.servedBy });
  }

  // -- keys with TTLs

  private async ttlOp(): Promise<void> {
    const key = pick(this.ttl);
    const ever = ttlEver.get(key)!;
    const v = this.value();
    const short = String(Math.round(between(30, 1500)));
    const argv = pick([
      ["SET", key, v, "PX", short],
      ["SET", key, v, "PX", short],
      ["SET", key, v, "PX", "3600000"],
      ["SET", key, v, "EX", "3600"],
      ["SET", key, v],
      ["EXPIRE", key, "1"],
      ["PEXPIRE", key, short],
      ["PEXPIREAT", key, FAR_PX],
      ["SET", key, v, "EXAT", FAR_EX],
      ["PERSIST", key],
      ["GET", key],
    ]);
    if (argv[0] === "SET") ever.add(v);
    if (argv.includes(short) || argv[0] === "EXPIRE") lastShortDeadline = Math.max(lastShortDeadline, Date.now() + 1500);
    counts.ttlOps++;
    const a = await this.call("/", argv);
    log({ client: this.id, op: argv[0], key, argv: argv.slice(2), status: a.status, servedBy: a.servedBy, body: a.body });
    if (argv[0] === "GET" && a.status === 200) {
      counts.reads++;
      if (a.servedBy.startsWith("replica:")) counts.replicaReads++;
      looseReads.push({ key, value: (a.body as { result: Value }).result, servedBy: a.servedBy });
    }
  }

  // -- flushes and refused keys

  private async flush(): Promise<void> {
    if (!flushAllowed()) return this.readOwn();
    await this.run([{ argv: [pick(["FLUSHALL", "FLUSHDB"])], effects: [], flush: true }], false);
  }

  /**
   * A key with a lone surrogate cannot be stored as UTF-8 without changing it: it must be refused
   * (4xx), and nothing may appear under the key it would become (U+FFFD in its place).
   */
  private async surrogate(): Promise<void> {
    counts.surrogateProbes++;
    const key = `s${this.id}:${pick(["\ud800", "\udfff", "a\ud83d"])}x`;
    const argv = random() < 0.5 ? ["SET", key, this.value()] : ["MSET", `s${this.id}:ok`, "1", key, this.value()];
    const a = await send(this.http, "/", argv, { "MF-CF-Blob": this.place }, false);
    log({ client: this.id, op: "surrogate", argv: argv[0], status: a.status, body: a.body });
    if (!refused(a) && a.status !== 0) violation(`a key with a lone surrogate was not refused: ${argv[0]} answered ${a.status} ${show(a.body)}`);
    surrogateKeys.add(key.replace(/[\ud800-\udfff]/g, "\ufffd"));
    surrogateKeys.add(`s${this.id}:ok`);
  }

  close(): void {
    this.http.close();
  }
}
let txnIds = 0;
/** Keys with TTLs short enough to pass during the run: the latest deadline, in wall time. */
let lastShortDeadline = 0;
/** Keys that refused writes would have created: must be absent at the end. */
const surrogateKeys = new Set<string>();

// ---- Faults --------------------------------------------------------------------------------------

type FaultResult = "applied" | "refused" | "failed";

interface Fault {
  readonly name: string;
  /** Injects the fault and, after a while, undoes it. */
  run(ctx: FaultContext): Promise<FaultResult>;
}

interface FaultContext {
  /** An admin call; a 2xx answer is ok. */
  admin(path: string, body?: unknown): Promise<{ status: number; text: string }>;
  stopping(): boolean;
}

const ok = (r: { status: number }) => r.status >= 200 && r.status < 300;

const restoreAfter = async (ctx: FaultContext, ms: number) => {
  const until = now() + ms;
  while (now() < until && !ctx.stopping()) await sleep(50);
};

/** An undo is retried (a concurrent restart of the same node may fail one call). */
async function undo(ctx: FaultContext, path: string, body: unknown): Promise<boolean> {
  for (let i = 0; i < 4; i++) {
    if (ok(await ctx.admin(path, body))) return true;
    await sleep(250);
  }
  return false;
}

/** A fault that sets something on a node and, after `ms`, sets it back. */
async function toggle(ctx: FaultContext, node: string, on: unknown, off: unknown, ms: number): Promise<FaultResult> {
  const path = `/admin/nodes/${node}/faults`;
  const applied = ok(await ctx.admin(path, on));
  await restoreAfter(ctx, ms);
  const undone = await undo(ctx, path, off);
  return applied && undone ? "applied" : "failed";
}

/** The faults injected at random, several at once (the same node too); a new one is one more entry. */
const FAULTS: readonly Fault[] = [
  { name: "replica-link-cut", run: (ctx) => toggle(ctx, pick(roles.replicas), { link: "down" }, { link: "up" }, between(300, 3000)) },
  { name: "primary-link-cut", run: (ctx) => toggle(ctx, roles.primary, { link: "down" }, { link: "up" }, between(300, 2000)) },
  { name: "replica-slow-link", run: (ctx) => toggle(ctx, pick(roles.replicas), { delay: Math.round(between(20, 400)) }, { delay: 0 }, between(500, 3000)) },
  { name: "primary-slow", run: (ctx) => toggle(ctx, roles.primary, { delay: Math.round(between(20, 200)) }, { delay: 0 }, between(300, 1500)) },
  {
    name: "replica-restart",
    run: async (ctx) => (ok(await ctx.admin(`/admin/nodes/${pick(roles.replicas)}/faults`, { restart: true })) ? "applied" : "failed"),
  },
  {
    name: "primary-restart",
    run: async (ctx) => (ok(await ctx.admin(`/admin/nodes/${roles.primary}/faults`, { restart: true })) ? "applied" : "failed"),
  },
  {
    // A coordinated failover to a random replica while clients write. 409: the target could not
    // catch up (a documented refusal); 400 for a target that another failover made primary meanwhile.
    name: "failover",
    async run(ctx) {
      const to = pick(roles.replicas);
      const r = await ctx.admin("/admin/failover", { to });
      if (ok(r)) return "applied";
      if (r.status === 409) return "refused";
      if (r.status === 400) {
        await refreshRoles().catch(() => undefined);
        if (!roles.replicas.includes(to)) return "refused";
      }
      log({ fault: "failover", to, status: r.status, text: r.text.slice(0, 200) });
      return "failed";
    },
  },
  {
    // The replica misses more than the backlog holds, so it must full-sync while clients write.
    name: "backlog-overrun",
    async run(ctx) {
      const node = pick(roles.replicas);
      const path = `/admin/nodes/${node}/faults`;
      let good = ok(await ctx.admin("/", ["CONFIG", "SET", "repl-backlog-size", "16384"]));
      good = ok(await ctx.admin(path, { link: "down" })) && good;
      try {
        for (let i = 0; i < 4; i++) {
          const burst = Array.from({ length: 100 }, (_, j) => ["SET", `chaos:burst:${j}`, "x".repeat(100)]);
          good = ok(await ctx.admin("/pipeline", burst)) && good;
        }
      } finally {
        good = (await undo(ctx, path, { link: "up" })) && good;
        await restoreAfter(ctx, 1000);
        good = (await undo(ctx, "/", ["CONFIG", "SET", "repl-backlog-size", "1mb"])) && good;
      }
      return good ? "applied" : "failed";
    },
  },
];
const faultStats: Record<string, Record<FaultResult, number>> = {};

// ---- The run -------------------------------------------------------------------------------------

const system = await startFlaredis({ replicas: NODES.slice(1).join(" ") });
const admin = new HttpClient(system.url, "dev-admin-token", system.headers, 8);
/** An admin call that answers whatever came (status 0: no answer). */
async function adminTry(path: string, body?: unknown): Promise<{ status: number; text: string }> {
  try {
    const reply = body === undefined ? await admin.get(path, {}, REQUEST_TIMEOUT_MS) : await admin.post(path, body, {}, REQUEST_TIMEOUT_MS);
    return { status: reply.status, text: reply.body };
  } catch (e) {
    return { status: 0, text: String(e) };
  }
}
async function adminCall(path: string, body?: unknown): Promise<unknown> {
  const r = await adminTry(path, body);
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.text}`);
  return path.includes("/info") ? r.text : JSON.parse(r.text);
}
/** Reads who is primary now. */
async function refreshRoles(): Promise<void> {
  const t = (await adminCall("/admin/topology")) as { primary: { node: string }; replicas: { node: string }[] };
  roles.primary = t.primary.node;
  roles.replicas = t.replicas.map((r) => r.node);
}
/**
 * Full syncs served, by every node (a failover moves the serving). INFO's sync_full starts again
 * at 0 when a node restarts, so it is sampled before every fault and summed; one that falls has
 * been reset.
 */
let fullSyncs = 0;
const lastSyncFull = new Map<string, number>();
async function countFullSyncs(): Promise<void> {
  for (const node of NODES) {
    const text = String(await adminCall(`/admin/nodes/${node}/info?section=stats`));
    const count = Number(text.match(/sync_full:(\d+)/)?.[1] ?? 0);
    const last = lastSyncFull.get(node) ?? 0;
    fullSyncs += count >= last ? count - last : count;
    lastSyncFull.set(node, count);
  }
}

type Topology = { primary: { node: string; offset: number }; replicas: { node: string; link: string; offset: number }[] };
/** Waits until every replica is up and at the primary's offset; false after `limitMs`. */
async function quiescence(limitMs: number): Promise<Topology | null> {
  const from = now();
  let topology: Topology | null = null;
  while (now() - from < limitMs) {
    topology = (await adminCall("/admin/topology").catch(() => null)) as Topology | null;
    if (topology && topology.replicas.every((r) => r.link === "up" && r.offset === topology!.primary.offset)) return topology;
    await sleep(100);
  }
  log({ quiescence: "none", topology });
  return null;
}

let exitCode = 1;
let summary = "";
try {
  await adminCall("/", ["SET", "chaos:start", "1"]);
  await countFullSyncs();
  fullSyncs = 0;
  const clients = Array.from({ length: CLIENTS }, (_, i) => new Client(i, PLACES[i % PLACES.length]!, system));
  const end = now() + SECONDS * 1000;
  const stopping = () => now() >= end;
  const ctx: FaultContext = { admin: adminTry, stopping };
  // A new fault every 0.3-1.5 s without waiting for the others, at most 3 at once.
  const active = new Set<Promise<void>>();
  const injector = (async () => {
    while (!stopping()) {
      await sleep(between(300, 1500));
      if (stopping()) break;
      if (active.size >= 3) continue;
      await refreshRoles().catch(() => undefined);
      const fault = pick(FAULTS);
      log({ fault: fault.name, active: active.size });
      // eslint-disable-next-line prefer-const
      let running: Promise<void> | undefined = undefined;
      running = (async () => {
        await sleep(0);
        let result: FaultResult;
        try {
          result = await fault.run(ctx);
        } catch (e) {
          log({ fault: fault.name, error: String(e) });
          result = "failed";
        }
        log({ fault: fault.name, result });
        const s = (faultStats[fault.name] ??= { applied: 0, refused: 0, failed: 0 });
        s[result]++;
        active.delete(running!);
      })();
      active.add(running);
    }
    await Promise.all(active);
  })();
  const syncsCounter = (async () => {
    while (!stopping()) {
      await sleep(1000);
      await countFullSyncs().catch(() => undefined);
    }
  })();
  // Every 1.5-3.5 s the prober holds the clients, lets replicas catch up, and runs a WAIT alone.
  let hold: Promise<void> | null = null;
  let stepping = 0;
  const prober = (async () => {
    while (has("probe") && has("wait") && !stopping()) {
      await sleep(between(1500, 3500));
      if (stopping()) break;
      let release = () => {};
      hold = new Promise<void>((resolve) => (release = resolve));
      const from = now();
      while (stepping > 0 && now() - from < 10_000) await sleep(5);
      await sleep(150);
      await pick(clients).probeWait().catch((e) => log({ probe: String(e) }));
      hold = null;
      release();
    }
  })();
  const loop = async (c: Client) => {
    while (!stopping()) {
      if (hold) await hold;
      stepping++;
      try {
        await c.step();
      } finally {
        stepping--;
      }
    }
  };
  await Promise.all([...clients.map(loop), injector, syncsCounter, prober]);
  for (const c of clients) c.close();

  // Undo every fault, then wait for quiescence: every replica up and at the primary's offset.
  for (const node of NODES) {
    await undo(ctx, `/admin/nodes/${node}/faults`, { link: "up" });
    await undo(ctx, `/admin/nodes/${node}/faults`, { delay: 0 });
  }
  await undo(ctx, "/", ["CONFIG", "SET", "repl-backlog-size", "1mb"]);
  const quiet = now();
  let topology = await quiescence(60_000);
  if (!topology) violation("no quiescence within 60 s");
  const quiescenceMs = Math.round(now() - quiet);
  // Short TTLs past (the primary's expiry sends DELs), then quiet again: digests may then be compared.
  const untilExpired = lastShortDeadline + 300 - Date.now();
  if (untilExpired > 0) await sleep(untilExpired);
  topology = (await quiescence(30_000)) ?? topology;

  // Digests: a difference that lasts (compared up to 5 times, quiescence between) is divergence.
  await refreshRoles();
  let digests: { node: string; digest: string; offset: number }[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    digests = (await Promise.all([roles.primary, ...roles.replicas].map((n) => adminCall(`/admin/nodes/${n}/digest`)))) as typeof digests;
    if (digests.every((d) => d.digest === digests[0]!.digest && d.offset === digests[0]!.offset)) break;
    log({ digests, attempt });
    await sleep(500);
    await quiescence(10_000);
  }
  for (const d of digests.slice(1))
    if (d.digest !== digests[0]!.digest || d.offset !== digests[0]!.offset)
      violation(`digest of ${d.node} (offset ${d.offset}) differs from the primary ${digests[0]!.node}'s (offset ${digests[0]!.offset})`, { digests });

  // No acknowledged write lost: every owned key, read on the primary, is a candidate.
  let lost = 0;
  const keys = [...models.keys()];
  const finals = new Map<string, Value>();
  for (let i = 0; i < keys.length; i += 50) {
    const chunk = keys.slice(i, i + 50);
    const reply = await admin.post("/pipeline", chunk.map((k) => ["GET", k]), { "Flaredis-Max-Staleness": "0" });
    const answers = JSON.parse(reply.body) as { result?: Value; error?: string }[];
    chunk.forEach((k, j) => {
      const answer = answers[j];
      if (!answer || answer.error !== undefined) return violation(`final read of ${show(k)} failed: ${show(answer)}`);
      finals.set(k, answer.result ?? null);
    });
  }
  const tEnd = now();
  for (const [key, value] of finals) {
    const m = models.get(key)!;
    m.settle(tEnd);
    if (!m.ever.has(value)) {
      lost++;
      violation(`final value never written: ${show(key)} holds ${show(value)}`, { key });
    } else if (!m.loose && !m.accepts(value)) {
      lost++;
      violation(`acknowledged write lost: ${show(key)} holds ${show(value)}, may hold only ${show([...m.cands].filter(([, g]) => g.max >= m.floor).map(([v]) => v))}`, { key });
    }
  }
  // Reads without a token (and of TTL keys): null or a value written to that key.
  let neverWritten = 0;
  for (const r of looseReads) {
    const ever = models.get(r.key)?.ever ?? ttlEver.get(r.key);
    if (ever && !ever.has(r.value)) {
      neverWritten++;
      violation(`read a value never written: ${show(r.key)} gave ${show(r.value)} from ${r.servedBy}`, { key: r.key });
    }
  }
  // Refused keys left nothing behind.
  for (const key of surrogateKeys) {
    const reply = await admin.post("/", ["EXISTS", key], { "Flaredis-Max-Staleness": "0" });
    if ((JSON.parse(reply.body) as { result?: number }).result !== 0) violation(`a refused write left ${show(key)} behind`);
  }
  await countFullSyncs();

  const totalFaults = Object.values(faultStats).reduce((a, s) => a + s.applied + s.refused + s.failed, 0);
  const failedFaults = Object.values(faultStats).reduce((a, s) => a + s.failed, 0);
  const okShare = counts.requests ? counts.requestsOk / counts.requests : 0;
  const health: string[] = [];
  if (okShare < 0.5) health.push(`only ${(okShare * 100).toFixed(0)}% of requests succeeded`);
  if (counts.replicaReads === 0) health.push("no read was served by a replica");
  if (failedFaults > Math.max(1, totalFaults * 0.1)) health.push(`${failedFaults} of ${totalFaults} faults failed to apply`);
  for (const h of health) violation(`unhealthy run: ${h}`);
  const by = (prefix: string) => violations.filter((v) => v.startsWith(prefix)).length;
  const loose = [...models.values()].filter((m) => m.loose).length;
  const faults = Object.entries(faultStats)
    .map(([k, s]) => `${k} ${s.applied}/${s.refused}/${s.failed}`)
    .join(", ");
  const errors = Object.entries(errorKinds)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  exitCode = violations.length === 0 ? 0 : 1;
  summary =
    `chaos ${exitCode === 0 ? "PASS" : "FAIL"}: ${SECONDS} s, seed ${seed}, ${CLIENTS} clients; ` +
    `writes ${counts.ops} (acknowledged ${counts.acked}, refused ${counts.refused}, unknown ${counts.unknown}; transactions ${counts.transactions}, flushes ${counts.flushes}, TTL ops ${counts.ttlOps}); ` +
    `WAIT ${counts.waits} (in MULTI ${counts.waitsInMulti}, on a quiet system ${counts.probes}, confirmed ${counts.waitConfirmed}, checked on ${counts.waitNodesSeen} replica reads); ` +
    `reads ${counts.reads} (with token ${counts.tokenReads}, by replicas ${counts.replicaReads}); ` +
    `requests ${counts.requests} (ok ${(okShare * 100).toFixed(1)}%; errors: ${errors || "none"}); lone-surrogate probes ${counts.surrogateProbes}; ` +
    `faults ${totalFaults} applied/refused/failed (${faults}); full syncs ${fullSyncs}; primary at the end ${roles.primary}; quiescence ${quiescenceMs} ms; ` +
    `digests equal ${digests.every((d) => d.digest === digests[0]!.digest) ? "yes" : "NO"}; lost writes ${lost}; stale token reads ${by("stale")}; non-monotonic reads ${by("non-monotonic")}; ` +
    `WAIT violations ${by("WAIT")}; unexplained answers ${by("write answer")}; never-written reads ${neverWritten}; loosely checked keys ${loose}/${models.size}; violations ${violations.length}`;
} finally {
  admin.close();
  await system.stop();
  await new Promise<void>((resolve) => history.end(resolve));
}
// Violations by kind (the text before its first colon), the first few of each.
const kinds = new Map<string, string[]>();
for (const v of violations) {
  const kind = v.split(":")[0]!.replace(/ \(offset \d+\)| \d+ replica\(s\).*/g, "");
  if (!kinds.has(kind)) kinds.set(kind, []);
  kinds.get(kind)!.push(v);
}
for (const [kind, list] of kinds) {
  console.log(`violations: ${kind}: ${list.length}`);
  for (const v of list.slice(0, 3)) console.log(`  ${v.slice(0, 400)}`);
}
console.log(`history: ${historyPath}`);
console.log(summary);
process.exit(exitCode);
