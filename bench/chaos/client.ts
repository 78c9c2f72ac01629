/**
 * The workload client. Clients at four places run a mixed workload on keys they own (each key
 * has one writer, so its history is known: see model.ts) while faults are injected.
 *
 * The workload covers what replicates differently: SET (plain, far-future EXAT/PXAT deadlines),
 * PEXPIREAT far in the future, EXPIRE/PERSIST, INCR, APPEND, MSET, RENAME, DEL; transactions
 * (`/multi-exec`) holding any of those, sometimes FLUSHALL/FLUSHDB, sometimes WAIT; WAIT after a
 * write; keys with TTLs (short and long) in a keyspace of their own; unusual keys (empty, blank,
 * long, non-ASCII, emoji, NUL, spaces/newlines/glob characters); and now and then a key with a
 * lone surrogate, which must be refused (4xx) and change nothing. FLUSHALL/FLUSHDB are sent with
 * the read-write token (the command table flags them `write`, not `admin`). Each client also
 * owns a hash, a pair of lists, a set and a sorted set (collections/), written with their
 * commands alone or in transactions, with WAIT after them, DEL/EXPIRE on them, and read whole
 * (HGETALL, LRANGE, SMEMBERS, ZRANGE WITHSCORES) or in part (HGET, LLEN, SISMEMBER, ZSCORE).
 *
 * Checked as it runs: a read with the client's sync token of its own key gives a candidate (else
 * "stale read with token") no older than the newest it read before ("non-monotonic read"; a
 * partial read, a candidate that gives its answer); an
 * acknowledged answer the model cannot explain ("write answer unexplained"); every WAIT answer
 * (outside or inside a transaction, see `checkWait`); lone-surrogate keys refused with 4xx.
 * A WAIT answered by every replica makes the client's keys durable in the model (no failover may
 * lose them); after a write fails for want of a primary the client only reads for a while.
 */
import { HttpClient, TimeoutError } from "../lib/http.ts";
import type { Started } from "../lib/systems.ts";
import { NEAR, NODES, REQUEST_TIMEOUT_MS } from "./cluster.ts";
import { type Parts, type Random, now } from "./context.ts";
import { type Journal, show } from "./journal.ts";
import { type CollectionType, type Writer, collectionCommand, collectionKeys } from "./collections/index.ts";
import { type Cmd, type Model, STRING, type Value, ownedKeys, ttlKeys } from "./model.ts";
import { FAR_EX, FAR_PX, stringCommand } from "./string-commands.ts";

/** How many replicas the topology has, whichever node is the primary. */
const REPLICAS = NODES.length - 1;

/** What a client works with, shared by every client of the run. */
export interface ClientContext {
  readonly random: Random;
  readonly parts: Parts;
  readonly journal: Journal;
  readonly model: Model;
  /** How many clients the run has (a client reads the others' keys too). */
  readonly clients: number;
  /** Whether the primary is down and no replica promoted yet (write errors are counted apart then). */
  outage(): boolean;
}

// ---- Requests ------------------------------------------------------------------------------------

interface Answer {
  /** HTTP status; 0 when no answer came (then `error` says why). */
  status: number;
  servedBy: string;
  token: string | null;
  body: unknown;
  error?: string;
  timedOut: boolean;
  /** A failed request's kind (`<status> <error prefix>`, `timeout`, `network <code>`); absent when it succeeded. */
  kind?: string;
}

/** A refused request applied nothing; a failed one (5xx, no answer) may have. */
export const refused = (a: Answer) => a.status >= 400 && a.status < 500;

async function send(http: HttpClient, journal: Journal, path: string, body: unknown, headers: Record<string, string>, counted = true): Promise<Answer> {
  if (counted) journal.counts.requests++;
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
    if (a.status >= 200 && a.status < 300) journal.counts.requestsOk++;
    else {
      const kind = a.status === 0 ? a.error!.split(" ").slice(0, 2).join(" ") : `${a.status} ${(a.error ?? "").split(" ")[0] || "?"}`;
      journal.errorKinds[kind] = (journal.errorKinds[kind] ?? 0) + 1;
      a.kind = kind;
    }
  }
  return a;
}

// ---- Clients -------------------------------------------------------------------------------------

export class Client {
  private readonly http: HttpClient;
  /** The sync token of the latest answer to a request that carried it (opaque, as @upstash/redis keeps it). */
  private token = "";
  private seq = 0;
  private readonly keys: string[];
  private readonly ttl: string[];
  /** The client's collections (none with `--without collections`). */
  private readonly collections: Map<string, CollectionType>;
  private readonly writer: Writer;

  readonly id: number;
  private readonly place: string;
  private readonly random: Random;
  private readonly parts: Parts;
  private readonly journal: Journal;
  private readonly counts: Journal["counts"];
  private readonly model: Model;
  private readonly clients: number;
  private readonly outage: () => boolean;

  constructor(id: number, place: string, system: Started, ctx: ClientContext) {
    this.id = id;
    this.place = place;
    this.random = ctx.random;
    this.parts = ctx.parts;
    this.journal = ctx.journal;
    this.counts = ctx.journal.counts;
    this.model = ctx.model;
    this.clients = ctx.clients;
    this.outage = ctx.outage;
    this.http = new HttpClient(system.url, "dev-token", system.headers, 4);
    this.keys = ownedKeys(id);
    this.ttl = ttlKeys(id);
    this.collections = this.parts.has("collections") ? collectionKeys(id) : new Map();
    this.model.own(this.keys, this.ttl, this.collections);
    this.writer = { random: this.random, value: () => this.value(), model: (key) => this.model.key(key) };
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
    const a = await send(this.http, this.journal, path, body, headers);
    if (withToken && a.token !== null) this.token = a.token;
    return a;
  }

  async step(): Promise<void> {
    const roll = this.random.next();
    // After a write failed for want of a primary, only reads for a while (as a client backs off):
    // every write whose outcome is unknown adds candidates to its key.
    if (now() < this.writesPausedUntil) await (roll < 0.6 ? this.readOwn() : this.readAny());
    else if (roll < 0.45) await this.write();
    else if (roll < 0.52) await (this.parts.has("multi") ? this.transaction() : this.write());
    else if (roll < 0.72) await this.readOwn();
    else if (roll < 0.84) await this.readAny();
    else if (roll < 0.97) await (this.parts.has("ttl") ? this.ttlOp() : this.readOwn());
    else if (roll < 0.985) await this.flush();
    else await (this.parts.has("surrogates") ? this.surrogate() : this.readOwn());
  }

  // -- writes

  /** A write command on owned keys, chosen by what the model says the key may hold. */
  private command(): Cmd {
    if (this.collections.size > 0 && this.random.next() < 0.45) {
      this.counts.collectionWrites++;
      return collectionCommand(this.writer, this.id);
    }
    return stringCommand({ id: this.id, keys: this.keys, model: this.model, random: this.random, parts: this.parts, value: () => this.value(), seq: () => this.seq });
  }

  private async write(): Promise<void> {
    const cmd = this.command();
    const sentAt = now();
    const outcome = await this.run([cmd], false);
    if (outcome === null || this.random.next() >= 0.25 || !this.parts.has("wait")) return;
    // WAIT after an acknowledged write, sent with the token (it names the client's writes).
    const n = this.random.pick([1, 1, 2, 3, 3]);
    this.counts.waits++;
    const a = await this.call("/", ["WAIT", String(n), String(this.random.pick([50, 100, 300]))]);
    this.journal.log({ client: this.id, op: "wait", n, status: a.status, result: a.body });
    if (a.status !== 200) return;
    const k = Number((a.body as { result: unknown }).result);
    await this.checkWait(k, outcome, "WAIT", sentAt);
    // Every replica holds every write this client made (WAIT counts the primary's offset at the
    // time): no failover can lose them, so the keys' trails start again from here.
    if (k === REPLICAS) {
      this.counts.waitAll++;
      for (const key of [...this.keys, ...this.collections.keys()]) this.model.key(key).durable();
    }
  }

  private async transaction(): Promise<void> {
    this.counts.transactions++;
    const cmds: Cmd[] = Array.from({ length: 1 + Math.floor(this.random.next() * 3) }, () => this.command());
    if (this.model.flushes.allowed()) cmds.splice(Math.floor(this.random.next() * (cmds.length + 1)), 0, { argv: [this.random.pick(["FLUSHALL", "FLUSHDB"])], effects: [], flush: true });
    let waitAt = -1;
    if (this.random.next() < 0.4 && this.parts.has("wait")) {
      waitAt = this.random.next() < 0.75 ? cmds.length : Math.floor(this.random.next() * (cmds.length + 1));
      cmds.splice(waitAt, 0, { argv: ["WAIT", this.random.pick(["1", "1", "2"]), "100"], effects: [], wait: 1 });
    }
    const sentAt = now();
    const gens = await this.run(cmds, true);
    if (gens === null || waitAt < 0) return;
    this.counts.waitsInMulti++;
    this.counts.waits++;
    const reply = (this.lastOutcomes?.[waitAt] ?? {}) as { result?: unknown };
    if (reply.result === undefined) return;
    // The writes before the WAIT in the transaction (it applies whole, so the later ones too).
    const before = new Map([...gens].filter(([k]) => cmds.slice(0, waitAt).some((c) => c.effects.some((e) => e.key === k))));
    await this.checkWait(Number(reply.result), before, "WAIT in MULTI", sentAt);
  }

  private lastOutcomes: unknown[] | null = null;
  /** No write before this time (see `step`). */
  private writesPausedUntil = 0;

  /**
   * WAIT on a quiet system (the prober holds every other client): replicas have acknowledged
   * everything before, so a WAIT that counted them for the offset before the transaction's
   * writes would answer at once while a slow replica still lacks them.
   */
  async probeWait(): Promise<void> {
    const key = this.random.pick(this.keys);
    const v = this.value();
    const set: Cmd = { argv: ["SET", key, v], effects: [{ key, next: () => [v] }] };
    const inMulti = this.random.next() < 0.7;
    const sentAt = now();
    const gens = await this.run(inMulti ? [set, { argv: ["WAIT", "1", "100"], effects: [], wait: 1 }] : [set], inMulti);
    if (gens === null) return;
    this.counts.waits++;
    this.counts.probes++;
    if (inMulti) {
      this.counts.waitsInMulti++;
      const reply = (this.lastOutcomes?.[1] ?? {}) as { result?: unknown };
      if (reply.result !== undefined) await this.checkWait(Number(reply.result), gens, "WAIT in MULTI", sentAt);
      return;
    }
    const a = await this.call("/", ["WAIT", "1", "100"]);
    if (a.status === 200) await this.checkWait(Number((a.body as { result: unknown }).result), gens, "WAIT", sentAt);
  }

  /**
   * Sends one command (`/`) or a transaction (`/multi-exec`) and models its effects. Returns, when
   * everything was acknowledged, the generation of each owned key's last write; else null.
   */
  private async run(cmds: Cmd[], multi: boolean): Promise<Map<string, number> | null> {
    this.counts.ops++;
    const txn = this.model.nextTxn();
    const touched = [...new Set(cmds.flatMap((c) => c.effects.map((e) => e.key)))];
    const start = now();
    const outageAtStart = this.outage();
    const flush = cmds.some((c) => c.flush) ? this.model.flushes.open(start, txn) : null;
    const a = await this.call(multi ? "/multi-exec" : "/", multi ? cmds.map((c) => c.argv) : cmds[0]!.argv);
    const end = now();
    this.journal.log({ client: this.id, op: multi ? "multi" : cmds[0]!.argv[0], argv: cmds.map((c) => c.argv.map((x) => x.slice(0, 60))), status: a.status, servedBy: a.servedBy, body: a.body });
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
    if (a.status === 0 || a.status >= 500) this.writesPausedUntil = now() + this.random.between(300, 1000);
    if (a.kind !== undefined && (this.outage() || outageAtStart)) {
      const errors = this.journal.outageWriteErrors;
      errors[a.kind] = (errors[a.kind] ?? 0) + 1;
    }
    // Answered by a primary that went down since the request was sent: what it acknowledged may
    // not have reached the replica promoted in its place (asynchronous replication).
    if (start < this.model.lossBoundary && outcomes.some((o) => o === "ok")) {
      this.counts.ackedBeforeLoss++;
      outcomes = outcomes.map((o) => (o === "ok" ? "unknown" : o));
    }
    this.lastOutcomes = replies;
    // The flush's window: until the answer (it applied by then or never), or forever if none came.
    if (flush) {
      const out = outcomes[cmds.findIndex((c) => c.flush)]!;
      this.model.flushes.answered(flush, out, end);
      if (out === "ok") this.counts.flushes++;
    }
    for (const k of touched) this.model.key(k).settle(end, txn);
    const gens = new Map<string, number>();
    cmds.forEach((c, i) => {
      const out = outcomes[i]!;
      if (c.flush && out !== "refused") {
        // Inside the transaction, in order: the keys it touches are null at this point.
        for (const k of touched) gens.set(k, this.model.key(k).apply(() => [null], out === "ok" ? "ok" : out) ?? -1);
      }
      if (out === "refused") return;
      for (const e of c.effects) {
        const m = this.model.key(e.key);
        const reply = (replies[i] as { result?: unknown } | undefined)?.result;
        // Unanswered, it may have taken any element the source may have held (see `Effect.from`).
        if (e.from !== undefined && out !== "ok" && this.model.key(e.from).untracked) m.loosen("an element moved from a loosely checked key");
        const next = out === "ok" && e.answered ? (x: Value) => e.answered!(x, reply) : e.next;
        const g = m.apply(next, out, e.adds?.());
        if (g === null) this.journal.violation(`write answer unexplained: ${c.argv[0]} on ${show(e.key)} answered ${show(reply)}, the key may hold only ${show([...m.cands.keys()])}`, { key: e.key });
        gens.set(e.key, g ?? -1);
      }
    });
    for (const k of touched) this.model.key(k).after(start, end, txn);
    const all = outcomes.every((o) => o === "ok");
    if (all) this.counts.acked++;
    else if (outcomes.some((o) => o === "unknown" || o === "timeout")) this.counts.unknown++;
    else this.counts.refused++;
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
   * Not after a primary went down since the write was sent (`sentAt`): a new primary that lacks
   * the write makes the replicas that held it full-sync without it.
   */
  private async checkWait(k: number, writes: Map<string, number>, what: string, sentAt: number): Promise<void> {
    this.journal.log({ client: this.id, wait: what, answered: k });
    if (!Number.isInteger(k) || k < 0 || k > NODES.length - 1) {
      this.journal.violation(`${what} answered ${k}, not a replica count`, {});
      return;
    }
    if (k === 0 || writes.size === 0) return;
    this.counts.waitConfirmed++;
    this.counts.waitChecks++;
    const lacking = new Set<string>();
    const seen = new Set<string>();
    for (const node of NODES) {
      for (const [key, gen] of writes) {
        if (gen < 0) continue;
        const m = this.model.key(key);
        const a = await this.call("/", m.type.read(key), false, NEAR[node]!);
        const end = now();
        if (a.status !== 200 || !a.servedBy.startsWith("replica:")) continue;
        const by = a.servedBy.slice("replica:".length);
        seen.add(by);
        m.settle(end);
        const v = m.type.decode((a.body as { result: unknown }).result);
        if (!m.loose && !m.accepts(v, gen)) {
          lacking.add(by);
          this.journal.log({ client: this.id, waitCheck: what, key: key.slice(0, 60), node: by, value: v, candidates: [...m.cands.keys()] });
        }
      }
    }
    this.counts.waitNodesSeen += seen.size;
    // A primary lost meanwhile: a replica that held the write may have full-synced since from a
    // new primary that did not (asynchronous replication); the reads prove nothing then.
    if (this.model.lossBoundary >= sentAt) return;
    if (lacking.size > NODES.length - 1 - k)
      this.journal.violation(`${what} answered ${k} but ${lacking.size} replica(s) (${[...lacking].join(", ")}) served reads without the write`, { keys: [...writes.keys()] });
  }

  // -- reads

  /**
   * A read of an own key with the token: a string, or a collection read whole or, 40% of the
   * time, in part (then every candidate that gives the answer may be the state).
   */
  private async readOwn(): Promise<void> {
    const collection = this.collections.size > 0 && this.random.next() < 0.45;
    const key = this.random.pick(collection ? [...this.collections.keys()] : this.keys);
    const m = this.model.key(key);
    const probe = collection && this.random.next() < 0.4 ? this.collections.get(key)!.probe(this.random, key) : null;
    const argv = probe?.argv ?? m.type.read(key);
    const start = now();
    const a = await this.call("/", argv);
    const end = now();
    this.counts.reads++;
    if (collection) this.counts[probe ? "collectionProbes" : "collectionReads"]++;
    this.journal.log({ client: this.id, op: argv[0], key: key.slice(0, 60), argv: argv.slice(2), token: true, status: a.status, servedBy: a.servedBy, value: a.body });
    if (a.status !== 200) return;
    this.counts.tokenReads++;
    if (a.servedBy.startsWith("replica:")) this.counts.replicaReads++;
    m.settle(end);
    const result = (a.body as { result: unknown }).result;
    const v = probe ? null : m.type.decode(result);
    const shows = probe ? (x: Value) => probe.shows(x, result) : (x: Value) => x === v;
    const what = probe ? `${argv[0]} ${show(key)} ${show(argv.slice(2))} answered ${show(result)}` : `${show(key)} gave ${show(v)}`;
    if (m.loose) {
      if (!probe) this.model.looseReads.push({ key, value: v, servedBy: a.servedBy });
      return;
    }
    if (!m.mayShow(shows)) this.journal.violation(`stale read with token: ${what} from ${a.servedBy}, may hold only ${show([...m.cands.keys()])}`, { key, candidates: [...m.cands.keys()] });
    else if (!m.acceptsWhere(shows)) this.journal.violation(`non-monotonic read: ${what} from ${a.servedBy}, older than a value read before`, { key });
    // A read the lost primary's history may have served says nothing of what the new one holds.
    else if (this.model.lossy(start, a.servedBy.slice(a.servedBy.indexOf(":") + 1))) this.counts.lossyReads++;
    else {
      if (!probe && m.showsLoss(v)) this.counts.lostToFailover++;
      m.observeWhere(shows);
    }
  }

  /** A read of any key (owned by anyone: a string, a collection, a key with a TTL), without a token, or with it. */
  private async readAny(): Promise<void> {
    const owner = Math.floor(this.random.next() * this.clients);
    const r = this.random.next();
    const collections = this.collections.size > 0;
    const key =
      r < (collections ? 0.5 : 0.7)
        ? this.random.pick(ownedKeys(owner))
        : r < 0.7
          ? this.random.pick([...collectionKeys(owner).keys()])
          : this.random.pick(ttlKeys(owner));
    const type = this.model.keys.get(key)?.type ?? STRING;
    const withToken = this.random.next() < 0.3;
    const a = await this.call("/", type.read(key), withToken);
    this.counts.reads++;
    this.journal.log({ client: this.id, op: type.read(key)[0], key: key.slice(0, 60), token: withToken, status: a.status, servedBy: a.servedBy, value: a.body });
    if (a.status !== 200) return;
    if (withToken) this.counts.tokenReads++;
    if (a.servedBy.startsWith("replica:")) this.counts.replicaReads++;
    this.model.looseReads.push({ key, value: type.decode((a.body as { result: unknown }).result), servedBy: a.servedBy });
  }

  // -- keys with TTLs

  private async ttlOp(): Promise<void> {
    const key = this.random.pick(this.ttl);
    const ever = this.model.ttlEver.get(key)!;
    const v = this.value();
    const short = String(Math.round(this.random.between(30, 1500)));
    const argv = this.random.pick([
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
    if (argv.includes(short) || argv[0] === "EXPIRE") this.model.shortTtlUntil(Date.now() + 1500);
    this.counts.ttlOps++;
    const a = await this.call("/", argv);
    this.journal.log({ client: this.id, op: argv[0], key, argv: argv.slice(2), status: a.status, servedBy: a.servedBy, body: a.body });
    if (argv[0] === "GET" && a.status === 200) {
      this.counts.reads++;
      if (a.servedBy.startsWith("replica:")) this.counts.replicaReads++;
      this.model.looseReads.push({ key, value: (a.body as { result: Value }).result, servedBy: a.servedBy });
    }
  }

  // -- flushes and refused keys

  private async flush(): Promise<void> {
    if (!this.model.flushes.allowed()) return this.readOwn();
    await this.run([{ argv: [this.random.pick(["FLUSHALL", "FLUSHDB"])], effects: [], flush: true }], false);
  }

  /**
   * A key with a lone surrogate cannot be stored as UTF-8 without changing it: it must be refused
   * (4xx), and nothing may appear under the key it would become (U+FFFD in its place).
   */
  private async surrogate(): Promise<void> {
    this.counts.surrogateProbes++;
    const key = `s${this.id}:${this.random.pick(["\ud800", "\udfff", "a\ud83d"])}x`;
    const argv = this.random.next() < 0.5 ? ["SET", key, this.value()] : ["MSET", `s${this.id}:ok`, "1", key, this.value()];
    const a = await send(this.http, this.journal, "/", argv, { "MF-CF-Blob": this.place }, false);
    this.journal.log({ client: this.id, op: "surrogate", argv: argv[0], status: a.status, body: a.body });
    if (!refused(a) && a.status !== 0) this.journal.violation(`a key with a lone surrogate was not refused: ${argv[0]} answered ${a.status} ${show(a.body)}`);
    this.model.surrogateKeys.add(key.replace(/[\ud800-\udfff]/g, "\ufffd"));
    this.model.surrogateKeys.add(`s${this.id}:ok`);
  }

  close(): void {
    this.http.close();
  }
}
