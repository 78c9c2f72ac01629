/**
 * The engine: runs batches of Redis commands (one command, a pipeline, or a MULTI) against a
 * keyspace and a replication log kept in one `Storage`. It is synchronous and free of Worker
 * globals: a Durable Object drives it, and tests drive it directly with `MemoryStorage`.
 *
 * Order of checks for every call, in one place: unknown command, arity, permission, role
 * (READONLY on a replica) and the replication refusals (`admit`); then, on a master with
 * maxmemory set, before a command flagged `denyoom` (a MULTI holding one): eviction, committed
 * on its own, and OOM when nothing more can go (eviction.ts); then key sizes and the command's
 * own parse, which run with it. A MULTI is admitted whole before anything runs, as Redis queues
 * it: a refusal there discards it (EXECABORT) and changes nothing; an error of a command's own
 * (a syntax error, a wrong type, a value out of range) is that command's reply, and the others run.
 */
import { type Config, configGet, configSet, loadConfig } from "./config";
import { type Command, type Flag, type RequestBudget, type Server, WaitForReplicas, flagsOf } from "./command";
import { Dispatcher, type Outcome, type Prepared } from "./dispatch";
import { RedisError, errors } from "./errors";
import { Functions } from "./scripting/functions";
import type { RdbExport } from "./export/rdb-export";
import { MAX_REQUEST_SCRIPT_MS, ScriptRunner } from "./scripting/runner";
import { Scripts } from "./scripting/scripts";
import { AccessTracker, Evictor } from "./eviction";
import { renderInfo, resetStats } from "./info";
import { type Change, type Effect, Keyspace, type Role } from "./keyspace";
import { NO_REPLICATION, type ReplicationView } from "./replication/view";
import { Acl } from "./acl/acl";
import type { Batch, BatchResult, EngineOptions, Stats } from "./batch";
import { PROTO_MAX_BULK_LEN, REQUEST_LIMITS, overBounds } from "./limits";
import { ReplicationLog } from "./replication/log";
import { type Storage, deadlinesOf } from "./storage";
import { expireFieldsOf } from "./types/hash/hash";
import { replayDeferred } from "./replication/sync";
import { type Watch, writtenSince } from "./watch";
import { Notifications } from "./notify";
import { isGuardRefusal } from "./slot-guard";
import { type AclUser, deny, noPermission } from "./acl/users";

export type { Watch };

export type { Permission } from "./command";
export type { Outcome } from "./dispatch";
export type { Batch, BatchResult, EngineOptions, Mode, Stats } from "./batch";

export const DEFAULT_LIMITS = { maxKeyBytes: 32 * 1024, maxValueBytes: PROTO_MAX_BULK_LEN, cacheBytes: 16 * 1024 * 1024 };

export class Engine {
  readonly keyspace: Keyspace;
  readonly log: ReplicationLog;
  readonly stats: Stats = { expiredKeys: 0, expiredSubkeys: 0, keyspaceHits: 0, keyspaceMisses: 0, commandsProcessed: 0, evictedKeys: 0,
    syncFull: 0, syncPartialOk: 0, syncPartialErr: 0 };
  /** Key accesses for LRU and LFU eviction, in memory (eviction.ts). */
  readonly access: AccessTracker;
  /** Calls per command name (Redis's cmdstat calls), since the node (re)started. */
  readonly commandCalls = new Map<string, number>();
  /** The role the options fixed (engine tests), when the replication view does not tell it. */
  private readonly fixedRole: Role;
  readonly startedAt: number;
  /** CONFIG parameters, persisted; the version grows with every CONFIG SET (replicas adopt it). */
  config: Config;
  configVersion: number;
  /** What the node tells the engine of replication (see `ReplicationView`). */
  readonly replication: ReplicationView;
  /** Redis functions: libraries kept in storage and replicated (scripting/functions.ts). */
  readonly functions: Functions;
  /** EVAL's script cache, this node's (scripting/scripts.ts). */
  readonly scripts: Scripts;
  /** The RDB export in progress or last run (export/rdb-export.ts), or null. */
  exporting: RdbExport | null = null;
  /** Keyspace notifications made by committed changes, for the node to publish (notify.ts). */
  readonly notifications = new Notifications();
  /** ACL users (kept in the CONFIG), the user a batch runs as, the ACL LOG (acl/acl.ts). */
  readonly acl: Acl;
  private readonly maxKeyBytes: number;
  /** Earliest deadline committed since `takeDeadline` was last called. */
  private newDeadline: number | null = null;
  private readonly server: Server;
  private readonly evictor: Evictor;
  private readonly dispatch: Dispatcher;

  /** master or slave: asked of the replication view, so that nothing but the node's topology sets it. */
  get role(): Role {
    return this.replication.role?.() ?? this.fixedRole;
  }

  constructor(
    readonly storage: Storage,
    readonly options: EngineOptions,
  ) {
    this.fixedRole = options.role ?? "master";
    this.replication = options.replication ?? NO_REPLICATION;
    this.maxKeyBytes = options.maxKeyBytes ?? DEFAULT_LIMITS.maxKeyBytes;
    this.keyspace = new Keyspace(storage, {
      maxValueBytes: options.maxValueBytes ?? DEFAULT_LIMITS.maxValueBytes,
      cacheBytes: options.cacheBytes ?? DEFAULT_LIMITS.cacheBytes,
    });
    this.config = loadConfig(storage.meta.get("config"));
    this.configVersion = Number(storage.meta.get("config_version") ?? 0);
    this.acl = new Acl(() => this.config, (acl) => this.adoptConfig({ ...this.config, acl }, this.configVersion + 1), options.clock);
    this.notifications.configure(this.config.other?.["notify-keyspace-events"]);
    this.log = new ReplicationLog(storage, options.random, this.config["repl-backlog-size"]);
    this.startedAt = options.clock.now();
    this.access = new AccessTracker(options.random);
    this.evictor = new Evictor(storage.keys, storage.deadlines, this.access, options.random);
    const log = this.log;
    const replication = this.replication;
    const runner = new ScriptRunner({
      call: (argv, ctx, calls) => {
        // A command's own keepsWrites is the script's affair: the script's outcome decides what stays.
        const kept = this.dispatch.keptWrites;
        const logged = ctx.db.effects.length;
        try {
          const outcome = this.dispatch.execute(this.dispatch.admitFromScript(argv, ctx.permission, calls, ctx.user), ctx.db, true, ctx.permission, { request: ctx.request, ...(ctx.user ? { user: ctx.user } : {}) });
          return { outcome, logBytes: effectBytes(ctx.db.effects, logged) };
        } catch (e) {
          return { outcome: { error: messageOf(e) }, logBytes: 0 };
        } finally {
          this.dispatch.keptWrites = kept;
        }
      },
      maxLogBytes: REQUEST_LIMITS.maxLogBytes,
      maxRequestMs: options.scriptWorkPerRequestMs ?? MAX_REQUEST_SCRIPT_MS,
      // Redis's loglevel: a message below it is dropped (debug 0, verbose 1, notice 2, warning 3).
      logs: (level) => options.log !== undefined && level >= ["debug", "verbose", "notice", "warning"].indexOf(this.config.other.loglevel ?? "notice"),
      log: (level, message) => options.log?.(level, message),
      logged: (ctx) => effectBytes(ctx.db.effects),
      // redis.acl_check_cmd: the token's permission, and an ACL user's rules.
      permits: (argv, ctx) => {
        const allowed = Dispatcher.permits(argv, ctx.permission);
        return allowed === true && ctx.user ? deny(ctx.user, Engine.lookup(argv[0]!)!, argv) === null : allowed;
      },
      busyThresholdMs: () => this.config["busy-reply-threshold"],
      writeRefusal: () => this.dispatch.writeRefusal(),
    });
    this.functions = new Functions(runner, storage.meta);
    this.scripts = new Scripts(runner);
    const engine = this;
    this.server = {
      scripts: this.scripts,
      functions: this.functions,
      acl: this.acl,
      get cluster() {
        return (options.cluster ?? false) || engine.config.slots !== undefined;
      },
      random: options.random,
      info: (sections) => this.info(sections),
      configGet: (patterns) => configGet(this.config, patterns),
      configSet: (pairs) => this.adoptConfig(configSet(this.config, pairs), this.configVersion + 1),
      resetStats: () => resetStats(this.stats),
      get offset() {
        return log.offset;
      },
      compactEffects: () => !replication.fullSyncInProgress(),
      usage: (key) => {
        const now = options.clock.now();
        return {
          lfu: this.config["maxmemory-policy"].endsWith("-lfu"),
          idleMs: this.access.idleMs(key, now, this.startedAt),
          frequency: this.access.frequency(key, now),
        };
      },
    };
    this.dispatch = new Dispatcher({
      get role() {
        return engine.role;
      },
      maxKeyBytes: this.maxKeyBytes,
      server: this.server,
      commandCalls: this.commandCalls,
      stats: this.stats,
      replicaRefusal: () => replication.replicaRefusal(),
      writeRefusal: () => replication.writeRefusal(),
      enoughReplicas: () => this.enoughReplicas(),
      acl: this.acl,
      get notifying() {
        return engine.notifications.on;
      },
      get slotGuard() {
        return engine.config.slots;
      },
    });
    // Writes the storage had kept in memory when the node last stopped come back from the log.
    replayDeferred(this);
    // An export does not outlive its node: what one a restart interrupted had saved goes.
    this.transaction(() => storage.saved.clear());
  }

  /**
   * Runs a batch. Single and pipeline calls each succeed or fail alone; a MULTI applies all of
   * its calls or, when one is rejected before running, none. Everything the batch commits is
   * written in one storage transaction. A batch past the request bounds (REQUEST_LIMITS) is
   * refused whole, also when its effects would grow the log past the request's bound (found as
   * they are made: the batch's transaction is then rolled back, nothing applied).
   * A WAIT's offset is the log's after the writes before it: in a MULTI, after the whole MULTI.
   */
  run(batch: Batch): BatchResult {
    const now = this.options.clock.now();
    let args = 0;
    for (const argv of batch.commands) args += argv.length;
    const refusal = overBounds(batch.commands.length, args);
    if (refusal) return { error: refusal.message, offset: this.log.offset };
    let user: AclUser | undefined;
    try {
      user = this.acl.resolve(batch.user);
    } catch (e) {
      return { error: messageOf(e), offset: this.log.offset };
    }
    const as = user ? { user } : {};
    // What the request's changes have logged and read: held to the request's bounds.
    const budget: RequestBudget = { log: 0, reads: 0, scriptMs: 0, replyValues: 0, replyBytes: 0 };
    const charge = (change: Change) => {
      const bytes = effectBytes(change.effects);
      if (budget.log + bytes > REQUEST_LIMITS.maxLogBytes) throw errors.logTooLarge(REQUEST_LIMITS.maxLogBytes);
      budget.log += bytes;
    };
    if (batch.mode === "multi") {
      // As Redis queues a MULTI: a command it refuses to queue (unknown, wrong arity, not
      // permitted, a write a replica or a refusing master would not take) discards the whole
      // transaction; any other error is that command's reply when EXEC runs it.
      const prepared: Prepared[] = [];
      for (const argv of batch.commands) {
        try {
          prepared.push(this.dispatch.admit(argv, batch.permission, user, "multi", !batch.slotMove));
        } catch (e) {
          if (!(e instanceof RedisError)) throw e;
          // A slot moving away (slot-guard.ts): the whole transaction goes to its new shard.
          return { error: isGuardRefusal(e.message) ? e.message : errors.execAbort().message, offset: this.log.offset };
        }
      }
      let overMemory = false;
      if (prepared.some((p) => this.needsRoom(p.flags))) {
        let refusal: RedisError | null;
        try {
          refusal = this.transaction(() => this.makeRoom(now));
        } catch (e) {
          return { error: messageOf(e), offset: this.log.offset };
        }
        // Redis refuses to queue a denyoom command while over maxmemory: EXEC then aborts.
        if (refusal && prepared.some((p) => p.flags.includes("denyoom"))) return { error: errors.execAbort().message, offset: this.log.offset };
        overMemory = refusal !== null;
      }
      // WATCH: the user may watch its keys (a WATCH sent with the transaction was not admitted alone);
      // checked after eviction (which may delete a watched key) and before anything runs.
      if (batch.watch && user) {
        const denial = deny(user, Engine.lookup("watch")!, ["WATCH", ...batch.watch.keys]);
        if (denial) {
          this.acl.denied(user.name, denial, "toplevel");
          return { error: noPermission(denial).message, offset: this.log.offset };
        }
      }
      if (batch.watch && writtenSince(this.log, this.keyspace, batch.watch, now)) return { outcomes: [], offset: this.log.offset, aborted: true };
      let outcomes: Outcome[];
      try {
        outcomes = this.transaction(() => {
          const change = this.keyspace.begin(now, this.role, this.log.offset, budget);
          const results = prepared.map((p) => this.dispatch.execute(p, change, true, batch.permission, { overMemory, request: budget, inMulti: true, ...as }));
          charge(change);
          this.commit(change);
          return results;
        });
      } catch (e) {
        return { error: messageOf(e), offset: this.log.offset };
      }
      for (const o of outcomes) if ("result" in o && o.result instanceof WaitForReplicas) o.result.offset = this.log.offset;
      return { outcomes, offset: this.log.offset };
    }
    let forMaster: true | undefined;
    const one = (argv: readonly string[], alone: boolean): Outcome => {
      let change = this.keyspace.begin(now, this.role, this.log.offset, budget);
      let outcome: Outcome;
      try {
        const p = this.dispatch.admit(argv, batch.permission, user, "toplevel", !batch.slotMove);
        let overMemory = false;
        if (this.needsRoom(p.flags)) {
          // Only writes get here, inside the batch's transaction.
          const refusal = this.makeRoom(now);
          if (refusal && p.flags.includes("denyoom")) throw refusal;
          overMemory = refusal !== null;
          change = this.keyspace.begin(now, this.role, this.log.offset, budget);
        }
        this.dispatch.keptWrites = false;
        outcome = this.dispatch.execute(p, change, false, batch.permission, { overMemory, request: budget, mayBlock: batch.blocking === true, ...as });
      } catch (e) {
        outcome = { error: messageOf(e) };
      }
      // A command that failed is not committed (what it wrote to storage directly goes too),
      // unless its error keeps what it wrote (RedisError.keepsWrites).
      const kept = "error" in outcome && this.dispatch.keptWrites;
      if (change.forMaster) forMaster = true;
      this.dispatch.keptWrites = false;
      if ("error" in outcome && !kept) change.abandon();
      if ("result" in outcome || kept) {
        charge(change); // past the bound: out of the batch's transaction, nothing applied
        if (alone && change.dirty) this.transaction(() => this.commit(change));
        else this.commit(change);
        if ("result" in outcome && outcome.result instanceof WaitForReplicas) outcome.result.offset = this.log.offset;
      }
      return outcome;
    };
    // Reads write nothing, unless one finds a key expired (the master then deletes it): a batch of
    // reads runs outside a transaction (the hot path of a replica), and such a deletion commits alone.
    try {
      const outcomes = batch.commands.every(Engine.isRead)
        ? batch.commands.map((argv) => one(argv, true))
        : this.transaction(() => batch.commands.map((argv) => one(argv, false)));
      return { outcomes, offset: this.log.offset, ...(forMaster ? { forMaster } : {}) };
    } catch (e) {
      return { error: messageOf(e), offset: this.log.offset };
    }
  }

  /** The command a name denotes, or undefined (case-insensitive). */
  static lookup(name: string): Command | undefined {
    return Dispatcher.lookup(name);
  }

  /** A call of a known command flagged `readonly` and not `primary` (what a replica may serve). */
  static isRead(this: void, argv: readonly string[]): boolean {
    const command = Engine.lookup(argv[0] ?? "");
    const flags = command ? flagsOf(command, argv) : undefined;
    return flags !== undefined && flags.includes("readonly") && !flags.includes("primary");
  }

  /**
   * Makes `config` this node's settings, persisted. CONFIG SET uses it, and a replica for the
   * master's settings: they apply to the whole deployment.
   */
  adoptConfig(config: Config, version: number): void {
    this.config = config;
    this.configVersion = version;
    this.notifications.configure(config.other?.["notify-keyspace-events"]);
    this.storage.meta.set("config", JSON.stringify(config));
    this.storage.meta.set("config_version", version);
    this.log.backlogBytes = config["repl-backlog-size"];
  }

  /** `min-replicas-to-write`: enough replicas acknowledged within `min-replicas-max-lag`. */
  enoughReplicas(): boolean {
    const min = this.config["min-replicas-to-write"];
    return this.role !== "master" || min === 0 || this.replication.goodReplicas(this.config["min-replicas-max-lag"] * 1000) >= min;
  }

  /** A command that may grow the dataset (or a script, which may), on a master with a memory bound. */
  private needsRoom(flags: readonly Flag[]): boolean {
    return this.role === "master" && this.config.maxmemory > 0 && (flags.includes("denyoom") || flags.includes("evicts"));
  }

  /**
   * Evicts keys per `maxmemory-policy` until the dataset is within `maxmemory`, committed as DELs
   * (the caller holds a storage transaction), whether or not that suffices.
   * @returns the OOM error when it did not and nothing more can go, else null
   */
  private makeRoom(now: number): RedisError | null {
    const change = this.keyspace.begin(now, this.role, this.log.offset);
    const { evicted, refusal } = this.evictor.makeRoom(change, this.config);
    this.stats.evictedKeys += evicted;
    this.commit(change);
    return refusal;
  }

  private commit(change: Change): void {
    this.stats.expiredKeys += change.expired;
    this.stats.expiredSubkeys += change.expiredFields;
    this.stats.keyspaceHits += change.hits;
    this.stats.keyspaceMisses += change.misses;
    this.access.record(change, this.config["maxmemory-policy"].endsWith("-lfu"), this.role === "slave");
    // Before the dirty check: a command that changed nothing may still notify (LTRIM, PFMERGE).
    if (this.role === "master") this.notifications.collect(change.events);
    if (!change.dirty) return;
    this.exporting?.preserve(change);
    this.log.append(change.effects);
    this.keyspace.commit(change, this.log.offset);
    for (const { after } of change.touched.values())
      for (const at of after ? deadlinesOf(after) : []) if (this.newDeadline === null || at < this.newDeadline) this.newDeadline = at;
  }

  /** What a replica read since its last report, for the master's LRU/LFU (sent on its ACKs); empty on a master. */
  accessReport(): [string, number][] {
    return this.role === "slave" ? this.access.takeReport() : [];
  }

  /** A replica's report (`accessReport`) folded into this master's LRU/LFU, as accesses now. */
  foldAccessReport(report: readonly (readonly [string, number])[]): void {
    if (this.role !== "master") return;
    this.access.fold(report, this.options.clock.now(), this.config["maxmemory-policy"].endsWith("-lfu"));
  }

  /**
   * Runs `fn` in one storage transaction; on failure, in-memory state is re-read from storage.
   * The log entries it appends are written at its end, together (one row).
   */
  transaction<T>(fn: () => T): T {
    const outer = !this.log.deferred;
    const mark = this.log.offset;
    this.log.deferred = true;
    try {
      return this.storage.transaction(() => {
        const result = fn();
        // The transaction's log entries are written as one run (replication/log.ts).
        if (outer) this.log.flush();
        return result;
      });
    } catch (e) {
      this.keyspace.reset();
      // A nested transaction rolled back alone: the entries of the one around it stay pending.
      if (outer) this.log.reset();
      else this.log.dropPendingFrom(mark);
      throw e;
    } finally {
      if (outer) this.log.deferred = false;
    }
  }

  /**
   * Active expiry: deletes up to `limit` keys past their deadline (each replicated as DEL), then
   * hash fields past theirs (HDEL). Only a master expires; a replica waits for its DELs and HDELs.
   * @returns how many keys and fields were removed.
   */
  sweep(limit = 1000): number {
    if (this.role !== "master") return 0;
    const now = this.options.clock.now();
    const due = this.storage.deadlines.due(now, limit);
    const hashes = due.length < limit ? this.storage.deadlines.dueFieldKeys(now, limit - due.length) : [];
    if (due.length === 0 && hashes.length === 0) return 0;
    return this.transaction(() => {
      const change = this.keyspace.begin(now, this.role, this.log.offset);
      for (const key of due) change.get(key);
      const removed = due.length + expireFieldsOf(change, hashes, limit - due.length);
      this.commit(change);
      return removed;
    });
  }

  /**
   * Deletes up to `limit` elements of dropped collections (a DEL of a large collection leaves its
   * elements to this, so the DEL itself is cheap). @returns how many were deleted
   */
  purge(limit = 1000): number {
    const n = this.transaction(() => this.storage.elements.purge(limit));
    if (n < limit) this.keyspace.garbage = false;
    return n;
  }

  /** The earliest key deadline in storage, or null. */
  nextDeadline(): number | null {
    return this.storage.deadlines.nextDeadline();
  }

  /** The earliest deadline committed since the last call (to re-arm an alarm), or null. */
  takeDeadline(): number | null {
    const d = this.newDeadline;
    this.newDeadline = null;
    return d;
  }

  info(sections: readonly string[]): string {
    return renderInfo(this, sections);
  }
}

/** About how many bytes effects take in the log (their RESP framing, closely enough for a bound), from the one at `from` on. */
function effectBytes(effects: readonly Effect[], from = 0): number {
  let n = 0;
  for (let i = from; i < effects.length; i++) for (const arg of effects[i]!) n += 16 + arg.length;
  return n;
}

function messageOf(e: unknown): string {
  if (e instanceof RedisError) return e.message;
  throw e;
}
