/**
 * The chaos run (issue 5): `npm run chaos -- --seconds N [--seed S] [--clients C] [--without parts] [--crashes N]`
 * (loopback only, bounded in time, seeded). With every check passed, `--crashes N` (default 5) then
 * runs the crash harness (bench/crash) on its own dev server: N kill -9s, its result in the summary.
 *
 * Flaredis runs under workerd with its local topology (primary enam; replicas wnam, weur, apac).
 * Clients at four places run a mixed workload on keys they own (client.ts; each key has one
 * writer, so its history is known: model.ts) while faults are injected, several at once
 * (faults.ts). The clients check every answer as it comes; at the end (faults undone,
 * quiescence, short TTLs past) checks.ts compares the nodes' digests and reads back every key.
 *
 * Failovers are faults too (failover.ts): the primary taken down (the sentinels must promote a
 * replica, the old primary must come back as its replica; the model allows the loss of what it
 * acknowledged but had not replicated), sentinels restarted, and coordinated failovers, one or
 * two at once, whose answers must be true; a watcher checks that epochs never go back and that
 * every primary change has a cause.
 *
 * Every 1.5-3.5 s a prober holds the clients until replicas have caught up and runs one write
 * and WAIT alone (a WAIT that counts replicas at the offset before a transaction's writes only
 * shows on a quiet system). `--without flush,surrogates,...` leaves parts of the workload out,
 * to find which one a violation needs (see PARTS in context.ts; `collections` leaves out the
 * hashes, lists, sets and sorted sets each client owns, see collections/).
 * Not checked: that the primary's expiry keeps running (an alarm that throws on a far-future
 * deadline leaves expired keys undeleted, which the digest, blind to logically expired keys,
 * does not see); the per-replica WAIT check sees only replicas that the router lets serve.
 * The operations go to bench/results/chaos-history.jsonl (journal.ts); the last line printed is
 * the summary.
 */
import { parseArgs } from "node:util";
import { sleep } from "../lib/load.ts";
import { startFlaredis } from "../lib/systems.ts";
import { runCrash } from "../crash/harness.ts";
import { compareDigests, healthChecks, lostWrites, neverWrittenReads, quiescence, refusedKeysAbsent } from "./checks.ts";
import { Client, type ClientContext } from "./client.ts";
import { Cluster, NODES, PLACES } from "./cluster.ts";
import { Parts, Random, now } from "./context.ts";
import { Failovers, watchTopology } from "./failover.ts";
import { type FaultContext, FaultStats, injectFaults, restoreAll } from "./faults.ts";
import { HISTORY_PATH, Journal } from "./journal.ts";
import { Flushes, type KeyModel, Model, STRING } from "./model.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    seed: { type: "string" },
    clients: { type: "string", default: "8" },
    // Parts of the workload to leave out, to find which one a violation needs: e.g. --without surrogates,flush
    without: { type: "string", default: "" },
    // Then, if every check passed, the crash run (bench/crash) with this many kill -9s; 0 for none.
    crashes: { type: "string", default: "5" },
  },
});
const parts = new Parts(args.without);
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
if (!(SECONDS > 0 && SECONDS <= 3600)) throw new Error("--seconds must be between 1 and 3600");
const seed = Number(args.seed ?? Math.floor(Math.random() * 2 ** 31));
const random = new Random(seed);
const journal = new Journal();
const model = new Model(new Flushes(random, parts.has("flush")));
const { counts } = journal;
const faultStats = new FaultStats();
const failovers = new Failovers();

const system = await startFlaredis({ replicas: NODES.slice(1).join(" ") });
const cluster = new Cluster(system);

let exitCode = 1;
let summary = "";
try {
  await cluster.call("/", ["SET", "chaos:start", "1"]);
  await cluster.startCountingFullSyncs();
  const context: ClientContext = { random, parts, journal, model, clients: CLIENTS, outage: () => failovers.outageSince !== null };
  const clients = Array.from({ length: CLIENTS }, (_, i) => new Client(i, PLACES[i % PLACES.length]!, system, context));
  const end = now() + SECONDS * 1000;
  const stopping = () => now() >= end;
  const ctx: FaultContext = {
    admin: (path, body) => cluster.try(path, body),
    roles: cluster.roles,
    refreshRoles: () => cluster.refreshRoles(),
    random,
    log: (entry) => journal.log(entry),
    stopping,
    violation: (text, entry) => journal.violation(text, entry),
    record: (name, result) => faultStats.add(name, result),
    failovers,
    losses: model,
  };
  const injector = injectFaults(ctx, faultStats);
  const watcher = watchTopology(ctx);
  const syncsCounter = (async () => {
    while (!stopping()) {
      await sleep(1000);
      await cluster.countFullSyncs().catch(() => undefined);
    }
  })();
  // Every 1.5-3.5 s the prober holds the clients, lets replicas catch up, and runs a WAIT alone.
  let hold: Promise<void> | null = null;
  let stepping = 0;
  const prober = (async () => {
    while (parts.has("probe") && parts.has("wait") && !stopping()) {
      await sleep(random.between(1500, 3500));
      if (stopping()) break;
      let release = () => {};
      hold = new Promise<void>((resolve) => (release = resolve));
      const from = now();
      while (stepping > 0 && now() - from < 10_000) await sleep(5);
      await sleep(150);
      await random
        .pick(clients)
        .probeWait()
        .catch((e) => journal.log({ probe: String(e) }));
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
  await Promise.all([...clients.map(loop), injector, syncsCounter, prober, watcher]);
  for (const c of clients) c.close();

  // Undo every fault, then wait for quiescence: every replica up and at the primary's offset.
  await restoreAll(ctx);
  const quiet = now();
  let topology = await quiescence(cluster, journal, 60_000);
  if (!topology) journal.violation("no quiescence within 60 s");
  const quiescenceMs = Math.round(now() - quiet);
  // Short TTLs past (the primary's expiry sends DELs), then quiet again: digests may then be compared.
  const untilExpired = model.lastShortDeadline + 300 - Date.now();
  if (untilExpired > 0) await sleep(untilExpired);
  topology = (await quiescence(cluster, journal, 30_000)) ?? topology;

  const digests = await compareDigests(cluster, journal);
  const lost = await lostWrites(cluster, journal, model);
  const neverWritten = neverWrittenReads(journal, model);
  await refusedKeysAbsent(cluster, journal, model);
  await cluster.countFullSyncs();

  const okShare = healthChecks(journal, faultStats);
  const by = (prefix: string) => journal.violationsOf(prefix);
  // Loosely checked keys: strings, and collections (by type), each with why.
  const strings = [...model.keys.values()].filter((m) => m.type === STRING);
  const collections = [...model.keys.values()].filter((m) => m.type !== STRING);
  const looseWhy = (keys: KeyModel[], byType: boolean) => {
    const why: Record<string, number> = {};
    for (const m of keys) {
      if (!m.loose) continue;
      const reason = byType ? `${m.type.name}: ${m.loose}` : m.loose;
      why[reason] = (why[reason] ?? 0) + 1;
    }
    return why;
  };
  const loose = strings.filter((m) => m.loose).length;
  const looseCollections = collections.filter((m) => m.loose).length;
  const byCount = (kinds: Record<string, number>) =>
    Object.entries(kinds)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
  const errors = byCount(journal.errorKinds);
  exitCode = journal.violations.length === 0 ? 0 : 1;
  summary =
    `chaos ${exitCode === 0 ? "PASS" : "FAIL"}: ${SECONDS} s, seed ${seed}, ${CLIENTS} clients; ` +
    `writes ${counts.ops} (acknowledged ${counts.acked}, refused ${counts.refused}, unknown ${counts.unknown}; transactions ${counts.transactions}, flushes ${counts.flushes}, TTL ops ${counts.ttlOps}); ` +
    `WAIT ${counts.waits} (in MULTI ${counts.waitsInMulti}, on a quiet system ${counts.probes}, confirmed ${counts.waitConfirmed}, by every replica ${counts.waitAll}, checked on ${counts.waitNodesSeen} replica reads); ` +
    `reads ${counts.reads} (with token ${counts.tokenReads}, by replicas ${counts.replicaReads}); ` +
    `requests ${counts.requests} (ok ${(okShare * 100).toFixed(1)}%; errors: ${errors || "none"}); lone-surrogate probes ${counts.surrogateProbes}; ` +
    `faults ${faultStats.total} applied/refused/failed (${faultStats}); ${failovers.summary()}; ` +
    `write errors during outages: ${byCount(journal.outageWriteErrors) || "none"}; answers from a primary gone down meanwhile (counted unknown) ${counts.ackedBeforeLoss}; keys seen without acknowledged writes lost to a primary down (allowed) ${counts.lostToFailover}; token reads a lost history may have served ${counts.lossyReads}; full syncs ${cluster.fullSyncs}; primary at the end ${cluster.roles.primary}; quiescence ${quiescenceMs} ms; ` +
    `digests equal ${digests.every((d) => d.digest === digests[0]!.digest) ? "yes" : "NO"}; lost writes ${lost}; stale token reads ${by("stale")}; non-monotonic reads ${by("non-monotonic")}; ` +
    `WAIT violations ${by("WAIT")}; unexplained answers ${by("write answer")}; never-written reads ${neverWritten}; loosely checked keys ${loose}/${strings.length}${loose ? ` (${byCount(looseWhy(strings, false))})` : ""}; ` +
    `collections: commands ${counts.collectionWrites}, token reads ${counts.collectionReads} whole and ${counts.collectionProbes} in part, loosely checked ${looseCollections}/${collections.length}${looseCollections ? ` (${byCount(looseWhy(collections, true))})` : ""}; violations ${journal.violations.length}`;
} finally {
  cluster.close();
  await system.stop();
  await journal.close();
}
// Violations by kind (the text before its first colon), the first few of each.
const kinds = new Map<string, string[]>();
for (const v of journal.violations) {
  const kind = v.split(":")[0]!.replace(/ \(offset \d+\)| \d+ replica\(s\).*/g, "");
  if (!kinds.has(kind)) kinds.set(kind, []);
  kinds.get(kind)!.push(v);
}
for (const [kind, list] of kinds) {
  console.log(`violations: ${kind}: ${list.length}`);
  for (const v of list.slice(0, 3)) console.log(`  ${v.slice(0, 400)}`);
}
console.log(`history: ${HISTORY_PATH}`);
console.log(summary);
if (exitCode === 0 && Number(args.crashes) > 0) {
  const crash = await runCrash({ crashes: Number(args.crashes), seed });
  if (!crash.ok) exitCode = 1;
  console.log(`${summary.replace(/^chaos PASS/, crash.ok ? "chaos PASS" : "chaos FAIL")}; ${crash.summary}`);
}
process.exit(exitCode);
