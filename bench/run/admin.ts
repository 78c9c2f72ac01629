/** The admin API calls the groups need: answers as text or JSON, and waiting for the replica. */
import { HttpClient } from "../lib/http.ts";
import { sleep } from "../lib/load.ts";
import type { Started } from "../lib/systems.ts";
import { ADMIN, type Bench } from "./context.ts";

/** An admin API call with the admin token; the answer's text (a non-200 throws). */
export async function adminText(f: Started, path: string, body?: unknown): Promise<string> {
  const http = new HttpClient(f.url, ADMIN, f.headers, 1);
  try {
    const reply = body === undefined ? await http.get(path) : await http.post(path, body);
    if (reply.status !== 200) throw new Error(`${path}: ${reply.status} ${reply.body}`);
    return reply.body;
  } finally {
    http.close();
  }
}

export const adminJson = async <T>(f: Started, path: string, body?: unknown): Promise<T> => JSON.parse(await adminText(f, path, body)) as T;

export interface Topology {
  primary: { offset: number };
  replicas: { node: string; offset: number; link: string; entries_shipped: number }[];
}

/** Waits until replica weur (or each of `nodes`) is up and has the primary's offset; polls the admin topology. */
export async function replicaCaughtUp(bench: Bench, f: Started, timeoutMs: number, nodes: readonly string[] = ["weur"]): Promise<Topology> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const t = await adminJson<Topology>(f, "/admin/topology");
    const synced = (node: string) => t.replicas.some((r) => r.node === node && r.link === "up" && r.offset === t.primary.offset);
    if (nodes.every(synced)) return t;
    if (performance.now() > deadline) throw new Error(`replica did not catch up: ${JSON.stringify(t)}`);
    await sleep(bench.quick ? 20 : 100);
  }
}


export async function fullSyncs(f: Started): Promise<number> {
  const text = await adminText(f, "/admin/nodes/enam/info?section=stats");
  return Number(text.match(/sync_full:(\d+)/)?.[1] ?? NaN);
}


/**
 * Waits until every replica named holds the primary's offset, from INFO replication of each node
 * (not the admin topology: its probe makes the primary push to every replica, which the cost
 * figures would count).
 */
export async function replicasCaughtUp(bench: Bench, f: Started, primary: string, replicas: readonly string[], timeoutMs: number): Promise<void> {
  const offset = async (node: string, field: string) => {
    const text = await adminText(f, `/admin/nodes/${node}/info?section=replication`);
    return Number(text.match(new RegExp(`${field}:(\\d+)`))?.[1] ?? NaN);
  };
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const target = await offset(primary, "master_repl_offset");
    const at = await Promise.all(replicas.map((r) => offset(r, "slave_repl_offset")));
    if (at.every((o) => o === target)) return;
    if (performance.now() > deadline) throw new Error(`replicas did not catch up: ${primary} at ${target}, ${replicas.map((r, i) => `${r} at ${at[i]}`).join(", ")}`);
    await sleep(bench.quick ? 20 : 100);
  }
}
