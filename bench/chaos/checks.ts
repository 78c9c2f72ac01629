/**
 * The checks at the end of the run, once faults are undone, the cluster is quiet and short TTLs
 * have passed: every node's digest equals the primary's (the main divergence check); every owned
 * key read on the primary (a collection read whole) is a candidate no older than what its client
 * read (no acknowledged write lost); every read without a token gave null or a value written to
 * that key (a collection: only elements written to it); the keys
 * that refused writes would have created are absent; and the run itself was healthy.
 */
import { sleep } from "../lib/load.ts";
import type { Cluster, Topology } from "./cluster.ts";
import { now } from "./context.ts";
import type { FaultStats } from "./faults.ts";
import { type Journal, show } from "./journal.ts";
import type { Model, Value } from "./model.ts";

export interface Digest {
  node: string;
  digest: string;
  offset: number;
}

/** Waits until every replica is up and at the primary's offset; null after `limitMs`. */
export async function quiescence(cluster: Cluster, journal: Journal, limitMs: number): Promise<Topology | null> {
  const from = now();
  let topology: Topology | null = null;
  while (now() - from < limitMs) {
    topology = (await cluster.call("/admin/topology").catch(() => null)) as Topology | null;
    if (topology && topology.replicas.every((r) => r.link === "up" && r.offset === topology!.primary.offset)) return topology;
    await sleep(100);
  }
  journal.log({ quiescence: "none", topology });
  return null;
}

/** A difference that lasts (compared up to 5 times, quiescence between) is divergence. Answers the digests, the primary's first. */
export async function compareDigests(cluster: Cluster, journal: Journal): Promise<Digest[]> {
  await cluster.refreshRoles();
  const { roles } = cluster;
  let digests: Digest[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    digests = (await Promise.all([roles.primary, ...roles.replicas].map((n) => cluster.call(`/admin/nodes/${n}/digest`)))) as Digest[];
    if (digests.every((d) => d.digest === digests[0]!.digest && d.offset === digests[0]!.offset)) break;
    journal.log({ digests, attempt });
    await sleep(500);
    await quiescence(cluster, journal, 10_000);
  }
  for (const d of digests.slice(1))
    if (d.digest !== digests[0]!.digest || d.offset !== digests[0]!.offset)
      journal.violation(`digest of ${d.node} (offset ${d.offset}) differs from the primary ${digests[0]!.node}'s (offset ${digests[0]!.offset})`, { digests });
  return digests;
}

/** No acknowledged write lost: every owned key, read on the primary, is a candidate. Answers how many were lost. */
export async function lostWrites(cluster: Cluster, journal: Journal, model: Model): Promise<number> {
  let lost = 0;
  const keys = [...model.keys.keys()];
  const finals = new Map<string, Value>();
  for (let i = 0; i < keys.length; i += 50) {
    const chunk = keys.slice(i, i + 50);
    const reply = await cluster.post("/pipeline", chunk.map((k) => model.key(k).type.read(k)), { "Flaredis-Max-Staleness": "0" });
    const answers = JSON.parse(reply.body) as { result?: unknown; error?: string }[];
    chunk.forEach((k, j) => {
      const answer = answers[j];
      if (!answer || answer.error !== undefined) return journal.violation(`final read of ${show(k)} failed: ${show(answer)}`);
      finals.set(k, model.key(k).type.decode(answer.result ?? null));
    });
  }
  const tEnd = now();
  for (const [key, value] of finals) {
    const m = model.key(key);
    m.settle(tEnd);
    if (!m.explains(value)) {
      lost++;
      journal.violation(`final value never written: ${show(key)} holds ${show(value)}`, { key });
    } else if (!m.loose && !m.accepts(value)) {
      lost++;
      journal.violation(`acknowledged write lost: ${show(key)} holds ${show(value)}, may hold only ${show(m.current())}`, { key });
    } else if (m.showsLoss(value)) journal.counts.lostToFailover++;
  }
  return lost;
}

/** Reads without a token (and of TTL keys): null or a value written to that key. Answers how many were not. */
export function neverWrittenReads(journal: Journal, model: Model): number {
  let neverWritten = 0;
  for (const r of model.looseReads) {
    const m = model.keys.get(r.key);
    if (m ? !m.explains(r.value) : model.ttlEver.get(r.key)?.has(r.value) === false) {
      neverWritten++;
      journal.violation(`read a value never written: ${show(r.key)} gave ${show(r.value)} from ${r.servedBy}`, { key: r.key });
    }
  }
  return neverWritten;
}

/** Refused keys left nothing behind. */
export async function refusedKeysAbsent(cluster: Cluster, journal: Journal, model: Model): Promise<void> {
  for (const key of model.surrogateKeys) {
    const reply = await cluster.post("/", ["EXISTS", key], { "Flaredis-Max-Staleness": "0" });
    if ((JSON.parse(reply.body) as { result?: number }).result !== 0) journal.violation(`a refused write left ${show(key)} behind`);
  }
}

/**
 * The run fails if fewer than half of the requests succeeded, no read was served by a replica, or
 * more than 10% of the faults failed to apply. Answers the share of requests that succeeded.
 */
export function healthChecks(journal: Journal, faults: FaultStats): number {
  const { counts } = journal;
  const okShare = counts.requests ? counts.requestsOk / counts.requests : 0;
  const health: string[] = [];
  if (okShare < 0.5) health.push(`only ${(okShare * 100).toFixed(0)}% of requests succeeded`);
  if (counts.replicaReads === 0) health.push("no read was served by a replica");
  if (faults.failed > Math.max(1, faults.total * 0.1)) health.push(`${faults.failed} of ${faults.total} faults failed to apply`);
  for (const h of health) journal.violation(`unhealthy run: ${h}`);
  return okShare;
}
