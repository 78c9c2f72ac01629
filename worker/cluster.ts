/**
 * A batch over the shard groups (protocol/shards.ts), as a Redis Cluster client and its nodes
 * would run it, inside the worker. Each call goes where its keys' hash slot is held; a call whose
 * keys span slots answers CROSSSLOT, as in Redis Cluster (MULTI/EXEC and scripts are judged as a
 * whole: all their keys, with a transaction's WATCH, in one slot). A call without keys (PING,
 * PUBLISH, WAIT, EVAL with no key) runs in the batch's home shard: that of its first call with
 * keys, else shard 1. The keyspace as a whole (KEYS, SCAN, DBSIZE, FLUSHALL, RANDOMKEY) and the
 * server's state (SCRIPT LOAD, FUNCTION LOAD, CONFIG SET, ACL SETUSER...) fan out to every shard
 * and their answers are gathered (cluster-commands.ts); CLUSTER is answered here.
 *
 * A pipeline is cut before and after each fan-out; between cuts its calls run as one pipeline per
 * shard, the shards in parallel, and the replies are put back in the calls' order. Each shard's
 * sub-batch is routed by that shard's router (routing.ts), so a shard whose primary is down
 * answers its own calls with MASTERDOWN while the others serve theirs.
 *
 * The sync token (sync-token.ts) holds one position per shard: `<shard 1's>;<shard 2's>;…`, each
 * the token of that shard's history; with one shard it is that shard's token, as before.
 */
import type { Outcome } from "../durable-objects/engine/dispatch";
import type { Batch } from "../durable-objects/engine/engine";
import { allKeysOf } from "../durable-objects/engine/command";
import { Engine } from "../durable-objects/engine/engine";
import { RedisError, errors } from "../durable-objects/engine/errors";
import type { BatchResult } from "../durable-objects/engine/batch";
import { hashSlot } from "../durable-objects/engine/slot";
import { isGuardRefusal } from "../durable-objects/engine/slot-guard";
import type { SlotMap } from "../durable-objects/protocol/shards";
import { refreshSlotMap, slotMapOf } from "./slot-map";
import { type FanOut, clusterCommand, fanOutOf } from "./cluster-commands";
import type { Env } from "./env";
import { type RouteOptions, routerFor } from "./routing";
import { type SyncToken, nextSyncToken, parseSyncToken, readKeys, writtenKeys } from "./sync-token";

/** What a batch's run answers: its result, who served it, how stale, and the response's sync token. */
export interface Routed {
  readonly result: BatchResult;
  readonly servedBy: string;
  readonly staleness?: number;
  readonly token: string;
}

/** What a request asks of the nodes, but its position: that comes from its token, per shard. */
export type ClusterRouteOptions = Omit<RouteOptions, "position" | "written">;

/** Redis Cluster's refusal of keys in more than one slot. */
export const crossSlot = () => new RedisError("CROSSSLOT Keys in request don't hash to the same slot");

/** The keys a call names (none for an unknown command: its node answers the error). */
function keysOfCall(argv: readonly string[]): string[] {
  const command = Engine.lookup(argv[0] ?? "");
  return command ? allKeysOf(command, argv) : [];
}

/** The hash slot of a call's keys: null for none, "cross" for keys in several slots. */
export function slotOfCall(argv: readonly string[]): number | null | "cross" {
  let slot: number | null = null;
  for (const key of keysOfCall(argv)) {
    const s = hashSlot(key);
    if (slot !== null && s !== slot) return "cross";
    slot = s;
  }
  return slot;
}

const PUBSUB = new Set(["publish", "spublish", "pubsub"]);

/** Where one call of a pipeline goes. */
type Place = { readonly shard: number | null } | { readonly error: RedisError } | { readonly fanOut: FanOut } | { readonly cluster: true };

function placeOf(map: SlotMap, argv: readonly string[]): Place {
  const name = argv[0]?.toLowerCase() ?? "";
  if (name === "cluster") return { cluster: true };
  // The subscriptions are shard 1's (worker/subscribe.ts): a message is published there.
  if (PUBSUB.has(name)) return { shard: 1 };
  const fanOut = fanOutOf(argv);
  if (fanOut) return { fanOut };
  const slot = slotOfCall(argv);
  if (slot === "cross") return { error: crossSlot() };
  return { shard: slot === null ? null : map.shardOf(slot) };
}

/** The shard tokens a request's `upstash-sync-token` carries, by shard (index 0: shard 1). */
export function shardTokens(header: string | null, shards: number): (SyncToken | null)[] {
  const parts = header === null ? [] : header.split(";");
  return Array.from({ length: shards }, (_, i) => parseSyncToken(parts[i] ?? null));
}

/**
 * The token a WATCH's keys were watched at: the part of `header` for their shard. (The keys are in
 * one slot: `runBatch` answers CROSSSLOT otherwise.)
 */
export function watchToken(env: Env, header: string | null, keys: readonly string[]): SyncToken | null {
  const map = slotMapOf(env);
  if (map.top === 1) return parseSyncToken(header);
  const shard = keys.length === 0 ? 1 : map.shardOf(hashSlot(keys[0]!));
  return shardTokens(header, map.top)[shard - 1]!;
}

/**
 * The token a batch runs with in `shard`: the client's, raised to the target's position of a move
 * of a slot its calls name into this shard (`SlotMap.arrivals`) when the client sent any token,
 * so that what it wrote on the source before the move is read back from the target's replicas.
 * A token of another history (the target failed over since) stands as it is.
 */
export function tokenFor(map: SlotMap, shard: number, commands: readonly (readonly string[])[], token: SyncToken | null, sentAny: boolean): SyncToken | null {
  if (!sentAny || map.arrivals.length === 0) return token;
  let floor: { replid: string; offset: number } | null = null;
  for (const argv of commands) {
    for (const key of keysOfCall(argv)) {
      const a = map.arrivalOf(shard, hashSlot(key));
      if (a && (floor === null || (a.replid === floor.replid && a.offset > floor.offset))) floor = a;
    }
  }
  if (floor === null) return token;
  if (token !== null && (token.position.replid !== floor.replid || token.position.offset >= floor.offset)) return token;
  return { position: { replid: floor.replid, offset: floor.offset }, written: { floor: floor.offset, keys: {} } };
}

/** One run on one shard: the node's result, or the refusal that kept it from running (MASTERDOWN). */
export type ShardRun = { readonly result: BatchResult } | { readonly refused: RedisError };

/** Runs one call on a shard (CLUSTER's and the fan-outs' calls). */
export type OnShard = (shard: number, argv: readonly string[]) => Promise<ShardRun>;

/** The outcomes of a run, or `count` times its error (a batch refused or rejected as a whole). */
export function outcomesOf(run: ShardRun, count: number): Outcome[] {
  if ("result" in run && "outcomes" in run.result) return run.result.outcomes;
  const error = "refused" in run ? run.refused.message : "error" in run.result ? run.result.error : errors.execAbort().message;
  return Array.from({ length: count }, () => ({ error }));
}

/** The batch's calls over the shards, the whole request's state as it runs. */
class ClusterRun {
  readonly tokens: (SyncToken | null)[];
  /** The response's token parts, by shard; a shard not asked keeps the client's. */
  readonly parts: string[];
  readonly servedBy = new Set<string>();
  staleness: number | undefined;
  /** The client sent a token of ours (read-your-writes applies). */
  private readonly sentAny: boolean;

  constructor(
    private readonly env: Env,
    /** The request's batch: who runs it (its mode and calls are each run's own). */
    private readonly base: Batch,
    readonly map: SlotMap,
    header: string | null,
    private readonly options: ClusterRouteOptions,
  ) {
    this.tokens = shardTokens(header, map.top);
    this.sentAny = this.tokens.some((t) => t !== null && t.position.replid !== "");
    const parts = header === null ? [] : header.split(";");
    this.parts = this.tokens.map((t, i) => (t === null ? "" : (parts[i] ?? "").trim()));
  }

  /** Runs `batch` on `shard`'s nodes; a thrown refusal (MASTERDOWN) is the run's. */
  async on(shard: number, batch: Batch): Promise<ShardRun> {
    const token = tokenFor(this.map, shard, batch.commands, this.tokens[shard - 1] ?? null, this.sentAny);
    try {
      const reply = await routerFor(this.env, shard).route(batch, {
        ...this.options,
        position: token?.position ?? null,
        ...(token ? { written: token.written } : {}),
      });
      const { result } = reply;
      this.parts[shard - 1] = nextSyncToken(token, reply.replid, result.offset, "aborted" in result ? null : writtenKeys(batch.commands), readKeys(batch.commands));
      // The request's later calls in this shard read what these wrote.
      this.tokens[shard - 1] = parseSyncToken(this.parts[shard - 1]!);
      this.servedBy.add(shard === 1 ? reply.servedBy : `${reply.servedBy}.${shard}`);
      if (reply.staleness !== undefined) this.staleness = Math.max(this.staleness ?? 0, reply.staleness);
      return { result };
    } catch (e) {
      if (e instanceof RedisError) return { refused: e };
      throw e;
    }
  }

  /** `argv` alone on `shard`. */
  readonly one: OnShard = (shard, argv) => this.on(shard, { ...this.base, mode: "single", commands: [argv] });

  /** Each shard's outcome of one call (`argv` alone), shards 1 to N. */
  async everywhere(argv: readonly string[]): Promise<Outcome[]> {
    const runs = await Promise.all(this.map.shards.map((shard) => this.one(shard, argv)));
    return runs.map((r) => outcomesOf(r, 1)[0]!);
  }

  /** The request's batch as it is, on `shard`. @throws RedisError the refusal that kept it from running (MASTERDOWN) */
  async whole(shard: number): Promise<Routed> {
    const ran = await this.on(shard, this.base);
    if ("refused" in ran) throw ran.refused;
    return this.routed(ran.result);
  }

  routed(result: BatchResult): Routed {
    return {
      result,
      servedBy: this.servedBy.size === 0 ? "edge" : [...this.servedBy].join(", "),
      ...(this.staleness !== undefined ? { staleness: this.staleness } : {}),
      token: this.parts.join(";"),
    };
  }
}

/**
 * Runs a batch of a sharded deployment (see the module comment).
 * @throws RedisError when the batch went to one shard and that shard could not run it (MASTERDOWN)
 */
export async function runSharded(env: Env, batch: Batch, header: string | null, options: ClusterRouteOptions): Promise<Routed> {
  const run = new ClusterRun(env, batch, slotMapOf(env), header, options);
  if (batch.mode === "multi") return runTransaction(run, batch);
  const places = batch.commands.map((argv) => placeOf(run.map, argv));
  // One shard for every call (a single command, most pipelines): the batch as it is.
  const shards = new Set(places.map((p) => ("shard" in p ? p.shard : -1)));
  shards.delete(null);
  if (!shards.has(-1) && shards.size <= 1) return run.whole([...shards][0] ?? 1);
  const outcomes: Outcome[] = new Array(batch.commands.length);
  for (let i = 0; i < batch.commands.length; ) {
    const place = places[i]!;
    const argv = batch.commands[i]!;
    if ("error" in place) outcomes[i++] = { error: place.error.message };
    else if ("cluster" in place) outcomes[i++] = await clusterCommand(env, run.map, argv, run.one);
    else if ("fanOut" in place)
      outcomes[i++] = typeof place.fanOut === "function" ? place.fanOut(await run.everywhere(argv), run.map.shards, run.map) : await place.fanOut.run(run.map, argv, run.one);
    else {
      // A run of calls up to the next fan-out: one pipeline per shard, in parallel.
      let end = i;
      while (end < places.length && "shard" in places[end]!) end++;
      await runSegment(run, batch, places as { shard: number | null }[], i, end, outcomes);
      i = end;
    }
  }
  // A single call refused before any node ran it (CROSSSLOT): its error, as an unsharded one's.
  if (batch.mode === "single" && run.servedBy.size === 0 && "error" in outcomes[0]!) throw new RedisError(outcomes[0].error);
  return run.routed({ outcomes, offset: 0 });
}

/** Calls [from, to) of a pipeline, each in its shard (a keyless one in the segment's home shard). */
async function runSegment(run: ClusterRun, batch: Batch, places: readonly { shard: number | null }[], from: number, to: number, outcomes: Outcome[]): Promise<void> {
  const home = places.slice(from, to).find((p) => p.shard !== null)?.shard ?? 1;
  const groups = new Map<number, number[]>();
  for (let i = from; i < to; i++) {
    const shard = places[i]!.shard ?? home;
    let group = groups.get(shard);
    if (!group) groups.set(shard, (group = []));
    group.push(i);
  }
  await Promise.all(
    [...groups].map(async ([shard, indexes]) => {
      const ran = await run.on(shard, { ...batch, mode: "pipeline", commands: indexes.map((i) => batch.commands[i]!) });
      const got = outcomesOf(ran, indexes.length);
      indexes.forEach((index, j) => (outcomes[index] = got[j]!));
    }),
  );
}

/** A MULTI/EXEC: every key of it (its WATCH's too) in one slot, run in that slot's shard. */
async function runTransaction(run: ClusterRun, batch: Batch): Promise<Routed> {
  let slot: number | null = null;
  for (const argv of [...(batch.watch ? [["WATCH", ...batch.watch.keys]] : []), ...batch.commands]) {
    const s = slotOfCall(argv);
    if (s === "cross" || (s !== null && slot !== null && s !== slot)) throw crossSlot();
    slot ??= s;
  }
  return run.whole(slot === null ? 1 : run.map.shardOf(slot));
}

/** How many times a call refused by a slot's guard (it moved, or is moving) is sent again. */
const GUARD_RETRIES = 40;
/** The wait before sending such a call again: a frozen range is copied in well under a second. */
const GUARD_RETRY_MS = 50;

/**
 * Runs a batch where it belongs: with one shard, on its nodes as routing.ts routes it; with
 * several, over them (`runSharded`). `header` is the request's sync token. A call a node refused
 * because its slot moved or is moving (engine/slot-guard.ts: nothing of it ran) is sent again,
 * after the worker asked for the new slot map, where it now belongs (a transaction whole).
 * @throws RedisError when the nodes could not run it (MASTERDOWN), or for keys in several slots
 */
export async function runBatch(env: Env, batch: Batch, header: string | null, options: ClusterRouteOptions): Promise<Routed> {
  let routed = await runOnce(env, batch, header, options);
  for (let attempt = 0; attempt < GUARD_RETRIES; attempt++) {
    const { result } = routed;
    const refused = "error" in result ? (isGuardRefusal(result.error) ? batch.commands.map((_, i) => i) : []) : result.outcomes.flatMap((o, i) => ("error" in o && isGuardRefusal(o.error) ? [i] : []));
    if (refused.length === 0) break;
    await refreshSlotMap(env);
    await new Promise((r) => setTimeout(r, GUARD_RETRY_MS));
    let again: Routed;
    try {
      again = await runOnce(env, { ...batch, commands: refused.map((i) => batch.commands[i]!) }, routed.token, options);
    } catch (e) {
      // The calls sent again could not run (MASTERDOWN): their error, the others' replies kept.
      if (!(e instanceof RedisError) || !("outcomes" in result) || refused.length === batch.commands.length) throw e;
      const outcomes = [...result.outcomes];
      for (const index of refused) outcomes[index] = { error: e.message };
      return { ...routed, result: { ...result, outcomes } };
    }
    let merged: BatchResult = again.result;
    if ("outcomes" in result && refused.length < batch.commands.length) {
      // The calls sent again answer in their own places (a batch-level error: in each of them).
      const got = outcomesOf({ result: again.result }, refused.length);
      const outcomes = [...result.outcomes];
      refused.forEach((index, j) => (outcomes[index] = got[j]!));
      merged = { ...result, outcomes };
    }
    routed = { ...again, result: merged, servedBy: [...new Set([...routed.servedBy.split(", "), ...again.servedBy.split(", ")])].join(", ") };
  }
  return routed;
}

/** One run of a batch: whole on shard 1's nodes when the map has no other shard (no call is placed), else over the shards. */
async function runOnce(env: Env, batch: Batch, header: string | null, options: ClusterRouteOptions): Promise<Routed> {
  const map = slotMapOf(env);
  return map.top > 1 ? runSharded(env, batch, header, options) : new ClusterRun(env, batch, map, header, options).whole(1);
}
