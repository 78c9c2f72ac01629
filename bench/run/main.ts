/**
 * The benchmark suite (SPEC §9, issue 5):
 *
 *   npm run bench                        # the full run (several minutes; fullsync_1m included)
 *   npm run bench -- --quick             # under two minutes
 *   npm run bench -- --only redis,lag    # only the named groups
 *
 * In one run on this machine: Flaredis under workerd (primary enam, replica weur; the worker as
 * wrangler runs it, local observability off, past wrangler's dev proxy), redis-server as a master
 * and a replica on loopback, and the echo Worker (the ceiling of one HTTP request answered by one
 * Durable Object call). Every system gets the same load shape from the same client process.
 * Merges its results into bench/results/latest.json (a partial run replaces what it measured and
 * keeps the rest, each result with its run), and writes latest.md and the table between the bench
 * markers of bench/README.md (report.ts). Timings never decide a test's pass or fail; this prints the
 * targets instead.
 *
 * The groups: throughput.ts (single commands, pipelines, the echo ceiling), lag.ts (replication
 * lag at half of the SET capacity measured on its system: run first, its rate is redis-server's
 * lag's and the echo open loop's), sync.ts (full sync, partial resync, storage rows, requests and
 * cost at three replicas), idle.ts (idle: the requests, rows and dollars of a four-node
 * deployment and its sentinels with no traffic), rdb.ts (rdb: flaredis export and import beside
 * redis-cli --rdb and redis-server's load), collections.ts (hashes, sorted sets and
 * lists of 100k elements), big-collections.ts (big_collections: one call of heavy commands on
 * collections of 100k-200k elements, beside redis-server's; it starts a redis-server pair and a
 * Flaredis with a replica of its own, whatever else `--only` names), pubsub.ts (pubsub: 100 subscribers in
 * four places, messages per second and publish-to-receive latency, beside redis-server's; it starts
 * its own redis-server and a Flaredis with three replicas), bullmq.ts (bullmq: BullMQ's jobs per
 * second through `flaredis proxy`, beside the same code against a redis-server of its own),
 * shards.ts (shards: SET throughput over 1, 2 and 4 shard groups, a deployment each), dev.ts (dev:
 * the time `npm run dev` takes to answer, as a user runs it).
 */
import { parseArgs } from "node:util";
import { startEcho, startFlaredis, startRedis, startRedisPair, type Started } from "../lib/systems.ts";
import { replicaCaughtUp } from "./admin.ts";
import { Bench } from "./context.ts";
import { flaredisIdle } from "./idle.ts";
import { flaredisLag, redisLag } from "./lag.ts";
import { machine, writeReport } from "./report.ts";
import { flaredisBigCollections, redisBigCollections } from "./big-collections.ts";
import { flaredisCollections, redisCollections } from "./collections.ts";
import { ROWS_REPLICAS, flaredisFullSync, flaredisPartialResync, redisFullSync, storageRows } from "./sync.ts";
import { echoOpenLoop, echoThroughput, flaredisThroughput, redisThroughput } from "./throughput.ts";
import { PUBSUB_REPLICAS, flaredisPubSub, redisPubSub } from "./pubsub.ts";
import { rdbExportImport } from "./rdb.ts";
import { flaredisBullmq, redisBullmq } from "./bullmq.ts";
import { flaredisShards } from "./shards.ts";
import { devReady } from "./dev.ts";

const { values: args } = parseArgs({ options: { quick: { type: "boolean", default: false }, only: { type: "string" } } });
const bench = new Bench(args.quick);
/** `--only redis,fullsync`: run only the named groups (throughput, lag, psync, rows, idle, rdb, collections, big_collections, pubsub, bullmq, shards, dev, fullsync, echo, redis). */
const ONLY = args.only ? new Set(args.only.split(",")) : null;
const wanted = (group: string) => ONLY === null || ONLY.has(group);

const begun = performance.now();
const info = machine(bench.quick);
console.log(`flaredis bench${bench.quick ? " --quick" : ""}: ${info.cores} cores, ${info.cpu}, ${info.redis}; storage in ${info.storage}`);

type Group = (bench: Bench, s: Started) => Promise<void>;

/** Runs `groups` on a system `start` makes, and stops it after them. */
async function onNew(start: () => Promise<Started>, groups: Group[]): Promise<void> {
  const system = await start();
  try {
    for (const group of groups) await group(bench, system);
  } finally {
    await system.stop();
  }
}

/** A new primary enam and its replicas (weur by default), synced. */
async function syncedFlaredis(replicas: readonly string[] = ["weur"]): Promise<Started> {
  const flaredis = await startFlaredis({ replicas: replicas.join(" ") });
  await replicaCaughtUp(bench, flaredis, 30_000, replicas).catch(async (e: unknown) => {
    await flaredis.stop();
    throw e;
  });
  return flaredis;
}

// The lag first: it measures the SET capacity on its own system and runs at half of it; that rate
// (bench.lagRate) is the one redis-server's lag and the echo open loop run at.
// The open loop and the lag get systems of their own: after another group on the same
// instance, their tails also pay for the garbage it left in workerd's heap (a full collection of
// it lands in their seconds), which says more about the order of the groups than about them.
if (wanted("lag")) await onNew(() => syncedFlaredis(), [flaredisLag]);

if (wanted("redis")) {
  const redis = await startRedisPair();
  try {
    if (wanted("throughput")) await redisThroughput(bench, redis.master, redis.replica);
    if (wanted("lag")) await redisLag(bench, redis.master, redis.replica);
    if (wanted("collections")) await redisCollections(bench, redis.master, redis.replica);
  } finally {
    await redis.stop();
  }
}

if (wanted("echo")) {
  await onNew(startEcho, [echoThroughput]);
  await onNew(startEcho, [echoOpenLoop]);
}
const rest = [
  ...(wanted("throughput") ? [flaredisThroughput] : []),
  ...(wanted("psync") ? [flaredisPartialResync] : []),
  ...(wanted("collections") ? [flaredisCollections] : []),
];
if (rest.length > 0) await onNew(() => syncedFlaredis(), rest);
// The cost is figured at three replicas: a system of its own.
if (wanted("rows")) await onNew(() => syncedFlaredis(ROWS_REPLICAS), [storageRows]);
// The idle cost: the same deployment (four nodes, the sentinels), new, left without traffic.
if (wanted("idle")) await onNew(() => syncedFlaredis(ROWS_REPLICAS), [flaredisIdle]);
// RDB export and import: a primary alone and a redis-server of their own, the CLI as a user runs it.
if (wanted("rdb")) await rdbExportImport(bench, bench.quick ? 50_000 : 1_000_000);
// Big collections: Flaredis's ratios are to redis-server's times in this run, so the group runs
// both, redis-server first (a pair of its own), then a new Flaredis (its heavy data and garbage
// stay out of the other groups' systems).
if (wanted("big_collections")) {
  const redis = await startRedisPair();
  try {
    await redisBigCollections(bench, redis.master, redis.replica);
  } finally {
    await redis.stop();
  }
  await onNew(() => syncedFlaredis(), [flaredisBigCollections]);
}

// Pub/sub: redis-server's first (one of its own), then a Flaredis with a replica in three regions.
if (wanted("pubsub")) {
  const redis = await startRedisPair();
  try {
    await redisPubSub(bench, redis.master);
  } finally {
    await redis.stop();
  }
  await onNew(() => syncedFlaredis(PUBSUB_REPLICAS), [flaredisPubSub]);
}

// BullMQ: a redis-server of its own, then a Flaredis with one replica behind `flaredis proxy`.
if (wanted("bullmq")) {
  const redis = await startRedis();
  try {
    await redisBullmq(bench, redis);
  } finally {
    await redis.stop();
  }
  await onNew(() => syncedFlaredis(), [flaredisBullmq]);
}

// `npm run dev` as a user runs it: the time to its first answer, on new state and on its own.
if (wanted("dev")) await devReady(bench);

// Shards: a new deployment of 1, 2 and 4 shard groups each, the same SET load.
if (wanted("shards")) await flaredisShards(bench);

if (wanted("fullsync"))
  for (const keys of bench.quick ? [100_000] : [100_000, 1_000_000]) {
    await flaredisFullSync(bench, keys);
    await redisFullSync(bench, keys);
  }

const markdown = writeReport(info, args.only ?? null, bench.results);
console.log(`\n${markdown}`);
console.log(`bench: ${bench.results.length} results in ${Math.round((performance.now() - begun) / 1000)} s; bench/results/latest.json`);
process.exit(0);
