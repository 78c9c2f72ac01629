/**
 * What a sharded deployment answers in the worker (cluster.ts): the calls that fan out to every
 * shard and how their answers are gathered, SCAN's walk over the shards, and CLUSTER.
 *
 * The nodes have no address a client could reach: every request goes to the worker's one URL,
 * which routes it. CLUSTER SLOTS, SHARDS and NODES therefore name each node by its Durable Object
 * name (`enam`, `enam.2`: protocol/shards.ts) with port 443, and an id made from that name.
 */
import { type Bytes, fromBytes, toBytes } from "../durable-objects/engine/bytes";
import type { Reply } from "../durable-objects/engine/command";
import type { Outcome } from "../durable-objects/engine/dispatch";
import { HASH_SLOTS, SLOT_SPAN, hashSlot, hashSlotAt } from "../durable-objects/engine/slot";
import { systemRandom } from "../durable-objects/engine/clock";
import { pickPositions } from "../durable-objects/engine/types/collection";
import { type SlotMap, objectName } from "../durable-objects/protocol/shards";
import type { Topology } from "../durable-objects/protocol/topology";
import type { Env } from "./env";
import { routerFor } from "./routing";
import { type OnShard, outcomesOf } from "./cluster";

/** How a call over every shard is answered: from the shards' outcomes (shard 1 first), or by its own walk. */
export type FanOut = ((outcomes: readonly Outcome[], shards: readonly number[], map: SlotMap) => Outcome) | { run(map: SlotMap, argv: readonly string[], one: OnShard): Promise<Outcome> };

/** The first error, else shard 1's answer (a change of every shard's state: FLUSHALL, SCRIPT LOAD). */
const everyShard = (outcomes: readonly Outcome[]): Outcome => outcomes.find((o) => "error" in o) ?? outcomes[0]!;

/** The first error, else the replies' `combine` (with the shard each answered for, and the map). */
const gathered =
  (combine: (replies: Reply[], shards: readonly number[], map: SlotMap) => Reply) =>
  (outcomes: readonly Outcome[], shards: readonly number[], map: SlotMap): Outcome =>
    outcomes.find((o) => "error" in o) ?? { result: combine(outcomes.map((o) => (o as { result: Reply }).result), shards, map) };

/** Whether `shard` holds `key`'s slot: during a move both shards hold its keys (the target a copy, the source until its cleanup). */
const holds = (map: SlotMap, shard: number, key: Bytes) => map.shardOf(hashSlot(fromBytes(key))) === shard;

/** KEYS: every shard's keys of the slots it holds. */
const concat = gathered((replies, shards, map) => replies.flatMap((r, i) => (r as Bytes[]).filter((k) => holds(map, shards[i]!, k))));
/** DBSIZE: the sum. */
const sum = gathered((replies) => replies.reduce<number>((n, r) => n + Number(r), 0));
/** SCRIPT EXISTS: a script exists where every shard has it. */
const everywhereOf = gathered((replies) => (replies[0] as number[]).map((_, i) => (replies.every((r) => (r as number[])[i] === 1) ? 1 : 0)));

/**
 * SCAN cursor ...: the cursor is a position of the keyspace (engine/slot.ts), so it names its
 * shard too: the shard that holds the cursor's hash slot scans from it to the end of its range of
 * slots. A page that ends there goes on in the next range's shard, while it holds fewer keys
 * than COUNT (10 by default), as one node's page would: a small keyspace comes back in one call.
 */
const scan: FanOut = {
  async run(map, argv, one) {
    const countAt = argv.findIndex((a, i) => i >= 2 && a.toUpperCase() === "COUNT");
    const count = countAt > 0 ? Number(argv[countAt + 1]) || 10 : 10;
    const text = argv[1] ?? "";
    let cursor = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
    // A cursor no position has: the first shard's SCAN answers it as given (0, or Redis's error).
    if (!(cursor < HASH_SLOTS * SLOT_SPAN)) return outcomesOf(await one(1, argv), 1)[0]!;
    const found: Bytes[] = [];
    for (;;) {
      const range = map.rangeOf(hashSlotAt(cursor));
      const outcome = outcomesOf(await one(range.shard, [argv[0]!, String(cursor), ...argv.slice(2)]), 1)[0]!;
      if ("error" in outcome) return outcome;
      const [nextBytes, keys] = outcome.result as [Bytes, Bytes[]];
      const next = Number(fromBytes(nextBytes));
      if (next !== 0 && hashSlotAt(next) <= range.to) return { result: [nextBytes, [...found, ...keys]] };
      // The shard's keys past its range are met again in the range that holds them.
      found.push(...keys.filter((k) => hashSlot(fromBytes(k)) <= range.to));
      cursor = range.to + 1 < HASH_SLOTS ? (range.to + 1) * SLOT_SPAN : 0;
      if (cursor === 0 || found.length >= count) return { result: [toBytes(String(cursor)), found] };
    }
  },
};

/** RANDOMKEY: the shards in a random order, the first that has a key of a slot it holds. */
const randomKey: FanOut = {
  async run(map, argv, one) {
    // A fair shuffle, each shard first as often (sort() with a random comparator is not).
    const shards = map.shards;
    for (const i of pickPositions(shards.length, shards.length, systemRandom.next)) {
      const shard = shards[i]!;
      const outcome = outcomesOf(await one(shard, argv), 1)[0]!;
      if ("error" in outcome || (outcome.result !== null && holds(map, shard, outcome.result as Bytes))) return outcome;
    }
    return { result: null };
  },
};

/**
 * INFO: shard 1's, its keyspace line (`db0:keys=N,expires=N,avg_ttl=N`) the sum over the shards
 * (avg_ttl weighted by each one's keys with a deadline).
 */
const info = gathered((replies) => {
  const texts = replies.map((r) => fromBytes(r as Bytes));
  const LINE = /^db0:keys=(\d+),expires=(\d+),avg_ttl=(\d+)(.*)$/m;
  let keys = 0;
  let expires = 0;
  let ttl = 0;
  for (const text of texts) {
    const m = LINE.exec(text);
    if (!m) continue;
    keys += Number(m[1]);
    expires += Number(m[2]);
    ttl += Number(m[2]) * Number(m[3]);
  }
  const first = texts[0]!;
  const line = `db0:keys=${keys},expires=${expires},avg_ttl=${expires === 0 ? 0 : Math.round(ttl / expires)}`;
  if (LINE.test(first)) return toBytes(first.replace(LINE, (_all, _k, _e, _t, rest: string) => line + rest));
  // Shard 1 holds no key: the line after its Keyspace heading, when the section was asked for.
  return toBytes(keys === 0 ? first : first.replace(/^# Keyspace\r?\n/m, (heading) => `${heading}${line}\r\n`));
});

/** The calls that fan out, by name or `name|subcommand`. */
const FAN_OUTS: Readonly<Record<string, FanOut>> = {
  keys: concat,
  dbsize: sum,
  info,
  scan,
  randomkey: randomKey,
  flushall: everyShard,
  flushdb: everyShard,
  "script|load": everyShard,
  "script|flush": everyShard,
  "script|exists": everywhereOf,
  "function|load": everyShard,
  "function|delete": everyShard,
  "function|flush": everyShard,
  "function|restore": everyShard,
  "config|set": everyShard,
  "config|resetstat": everyShard,
  "acl|setuser": everyShard,
  "acl|deluser": everyShard,
};

/** How `argv` fans out, or undefined for a call that runs in one shard. */
export function fanOutOf(argv: readonly string[]): FanOut | undefined {
  const name = argv[0]?.toLowerCase() ?? "";
  return FAN_OUTS[name] ?? (argv.length > 1 ? FAN_OUTS[`${name}|${argv[1]!.toLowerCase()}`] : undefined);
}

// ---- CLUSTER --------------------------------------------------------------------------------

/** A node's id in CLUSTER's answers: 40 hex digits of SHA-1 of its object name. */
async function nodeId(name: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(name));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const PORT = 443;

interface ShardView {
  readonly shard: number;
  readonly topology: Topology;
  readonly ranges: readonly { from: number; to: number }[];
}

function shardViews(env: Env, map: SlotMap): ShardView[] {
  return map.shards.map((shard) => ({
    shard,
    topology: routerFor(env, shard).currentTopology(),
    ranges: map.ranges.filter((r) => r.shard === shard),
  }));
}

/** A node as CLUSTER SLOTS lists it: host, port, id. */
async function slotsNode(shard: number, region: string): Promise<Reply[]> {
  const name = objectName(shard, region);
  return [toBytes(name), PORT, toBytes(await nodeId(name))];
}

async function clusterSlots(views: readonly ShardView[]): Promise<Reply> {
  const out: Reply[] = [];
  for (const v of views)
    for (const r of v.ranges)
      out.push([r.from, r.to, await slotsNode(v.shard, v.topology.primary), ...(await Promise.all(v.topology.replicas.map((n) => slotsNode(v.shard, n))))]);
  return out.sort((a, b) => ((a as number[])[0]! - (b as number[])[0]!));
}

async function clusterShards(views: readonly ShardView[]): Promise<Reply> {
  const node = async (shard: number, region: string, role: string): Promise<Reply> => {
    const name = objectName(shard, region);
    return ["id", await nodeId(name), "port", PORT, "ip", name, "endpoint", name, "hostname", name, "role", role, "replication-offset", 0, "health", "online"].map((v) =>
      typeof v === "string" ? toBytes(v) : v,
    );
  };
  return Promise.all(
    views.map(async (v) => [
      toBytes("slots"),
      v.ranges.flatMap((r) => [r.from, r.to]),
      toBytes("nodes"),
      [await node(v.shard, v.topology.primary, "master"), ...(await Promise.all(v.topology.replicas.map((n) => node(v.shard, n, "replica"))))],
    ]),
  );
}

async function clusterNodes(views: readonly ShardView[]): Promise<string> {
  const lines: string[] = [];
  for (const v of views) {
    const primaryId = await nodeId(objectName(v.shard, v.topology.primary));
    const slots = v.ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(" ");
    const address = (region: string) => `${objectName(v.shard, region)}:${PORT}@0,${objectName(v.shard, region)}`;
    const myself = v.shard === 1 ? "myself," : "";
    lines.push(`${primaryId} ${address(v.topology.primary)} ${myself}master - 0 0 ${v.topology.epoch} connected ${slots}`.trimEnd());
    for (const replica of v.topology.replicas)
      lines.push(`${await nodeId(objectName(v.shard, replica))} ${address(replica)} slave ${primaryId} 0 0 ${v.topology.epoch} connected`);
  }
  return lines.join("\n") + "\n";
}

function clusterInfo(views: readonly ShardView[]): string {
  const nodes = views.reduce((n, v) => n + 1 + v.topology.replicas.length, 0);
  const epoch = Math.max(...views.map((v) => v.topology.epoch));
  return [
    "cluster_state:ok",
    `cluster_slots_assigned:${HASH_SLOTS}`,
    `cluster_slots_ok:${HASH_SLOTS}`,
    "cluster_slots_pfail:0",
    "cluster_slots_fail:0",
    `cluster_known_nodes:${nodes}`,
    `cluster_size:${views.length}`,
    `cluster_current_epoch:${epoch}`,
    `cluster_my_epoch:${views[0]?.topology.epoch ?? 0}`,
    "cluster_stats_messages_sent:0",
    "cluster_stats_messages_received:0",
    "total_cluster_links_buffer_limit_exceeded:0",
    "",
  ].join("\r\n");
}

/** The subcommands answered here (with no argument, as Redis's arity says). */
const ANSWERED_HERE = new Set(["info", "slots", "shards", "nodes", "myid"]);

/**
 * CLUSTER in a sharded deployment: INFO, SLOTS, SHARDS, NODES and MYID here, from the slot map and
 * the shards' topologies; COUNTKEYSINSLOT and GETKEYSINSLOT in the shard that holds the slot; the
 * rest (KEYSLOT, and the errors: a wrong count, an unknown subcommand, one that changes a Redis
 * Cluster's own configuration) by shard 1's engine.
 */
export async function clusterCommand(env: Env, map: SlotMap, argv: readonly string[], one: OnShard): Promise<Outcome> {
  const sub = argv[1]?.toLowerCase() ?? "";
  if (sub === "countkeysinslot" || sub === "getkeysinslot") {
    const slot = Number(argv[2]);
    // A slot out of range: any shard answers Redis's error.
    const shard = Number.isInteger(slot) && slot >= 0 && slot < HASH_SLOTS ? map.shardOf(slot) : 1;
    return outcomesOf(await one(shard, argv), 1)[0]!;
  }
  if (!ANSWERED_HERE.has(sub) || argv.length !== 2) return outcomesOf(await one(1, argv), 1)[0]!;
  const views = shardViews(env, map);
  switch (sub) {
    case "info":
      return { result: toBytes(clusterInfo(views)) };
    case "slots":
      return { result: await clusterSlots(views) };
    case "shards":
      return { result: await clusterShards(views) };
    case "nodes":
      return { result: toBytes(await clusterNodes(views)) };
    default:
      return { result: toBytes(await nodeId(objectName(1, views[0]!.topology.primary))) };
  }
}
