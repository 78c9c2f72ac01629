/**
 * The chaos run (issue 5): `npm run chaos -- --seconds N` (loopback only, bounded in time).
 *
 * Flaredis runs under workerd with its local topology (primary enam; replicas wnam, weur, apac;
 * the failover fault moves the primary). Clients at four places write their own keys (some
 * writes confirmed with WAIT) and read, with and without their sync token, while faults are
 * injected at random (see FAULTS: a new fault, such as a primary lost and failed over by the
 * sentinel, is one more entry). At the end every fault is undone,
 * the run waits for quiescence and checks:
 *   - every node's digest is equal to the primary's;
 *   - no acknowledged write is lost: each key holds its client's last acknowledged value, or a
 *     later one whose answer the client never saw;
 *   - no read with a sync token returns a value older than the client's own last write to it;
 *   - reads with the token are monotonic per client and key;
 *   - a read without a token returns null or a value some client wrote.
 * The operations go to bench/results/chaos-history.jsonl; the last line printed is the summary.
 */
import { createWriteStream, mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { HttpClient, cfFrom } from "./lib/http.ts";
import { sleep } from "./lib/load.ts";
import { type Started, startFlaredis } from "./lib/systems.ts";

const { values: args } = parseArgs({
  options: { seconds: { type: "string", default: "60" }, seed: { type: "string" }, clients: { type: "string", default: "8" } },
});
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

const NODES = ["enam", "wnam", "weur", "apac"] as const;
/** Who is primary now: a failover fault moves it (refreshed from /admin/topology before each fault). */
const roles = { primary: "enam", replicas: ["wnam", "weur", "apac"] };
const PLACES = [
  cfFrom(48.8566, 2.3522, "EU", "FR"), // Paris -> weur
  cfFrom(35.6762, 139.6503, "AS", "JP"), // Tokyo -> apac
  cfFrom(37.7749, -122.4194, "NA", "US"), // San Francisco -> wnam
  cfFrom(40.7128, -74.006, "NA", "US"), // New York -> nearest replica of enam
];
const KEYS_PER_CLIENT = 8;

mkdirSync("bench/results", { recursive: true });
const historyPath = "bench/results/chaos-history.jsonl";
const history = createWriteStream(historyPath);
const begun = performance.now();
const log = (entry: Record<string, unknown>) => history.write(`${JSON.stringify({ t: Math.round(performance.now() - begun), ...entry })}\n`);

const counts = {
  writes: 0,
  acked: 0,
  unknown: 0,
  waits: 0,
  waitConfirmed: 0,
  reads: 0,
  tokenReads: 0,
  replicaReads: 0,
  requestErrors: 0,
  faults: {} as Record<string, number>,
};
const violations: string[] = [];
function violation(text: string, entry: Record<string, unknown>): void {
  violations.push(text);
  log({ violation: text, ...entry });
}

// ---- What clients saw ----------------------------------------------------------------------------

/** Values are `<client>:<seq>`; seq grows per client, so a value's age can be compared. */
const seqOf = (value: unknown): number => (typeof value === "string" ? Number(value.split(":")[1]) : -1);
/** Per key: the last acknowledged seq, and later seqs whose outcome is unknown. */
const acknowledged = new Map<string, number>();
const uncertain = new Map<string, Set<number>>();
const written = new Set<string>();

class Client {
  private readonly http: HttpClient;
  private token = "";
  private seq = 0;
  /** Per key: the newest seq this client read with its token (monotonic reads). */
  private readonly lastRead = new Map<string, number>();

  readonly id: number;
  private readonly place: string;

  constructor(id: number, place: string, system: Started) {
    this.id = id;
    this.place = place;
    this.http = new HttpClient(system.url, "dev-token", system.headers, 2);
  }

  private key(i: number): string {
    return `chaos:${this.id}:${i}`;
  }

  private async call(argv: string[], withToken: boolean) {
    const headers: Record<string, string> = { "MF-CF-Blob": this.place };
    if (withToken && this.token) headers["upstash-sync-token"] = this.token;
    const reply = await this.http.post("/", argv, headers);
    const token = reply.headers["upstash-sync-token"];
    // Like @upstash/redis: keep the newest position any answer showed.
    if (typeof token === "string" && /^\d+$/.test(token) && Number(token) > Number(this.token || 0)) this.token = token;
    return { status: reply.status, servedBy: String(reply.headers["flaredis-served-by"]), body: JSON.parse(reply.body || "{}") as { result?: unknown; error?: string } };
  }

  async step(): Promise<void> {
    const roll = random();
    const key = this.key(Math.floor(random() * KEYS_PER_CLIENT));
    try {
      if (roll < 0.5) await this.write(key, random() < 0.2);
      else if (roll < 0.8) await this.read(key, true);
      else await this.read(`chaos:${Math.floor(random() * CLIENTS)}:${Math.floor(random() * KEYS_PER_CLIENT)}`, false);
    } catch (e) {
      counts.requestErrors++;
      log({ client: this.id, error: String(e) });
    }
  }

  private async write(key: string, confirm: boolean): Promise<void> {
    const value = `${this.id}:${++this.seq}`;
    counts.writes++;
    written.add(value);
    let outcome: "ok" | "unknown" = "unknown";
    try {
      const r = await this.call(["SET", key, value], true);
      if (r.status === 200 && r.body.result === "OK") outcome = "ok";
      log({ client: this.id, op: "set", key, value, status: r.status, servedBy: r.servedBy, error: r.body.error });
    } finally {
      if (outcome === "ok") {
        counts.acked++;
        acknowledged.set(key, this.seq);
        uncertain.get(key)?.clear();
      } else {
        counts.unknown++;
        if (!uncertain.has(key)) uncertain.set(key, new Set());
        uncertain.get(key)!.add(this.seq);
      }
    }
    if (outcome === "ok" && confirm) {
      counts.waits++;
      const r = await this.call(["WAIT", "1", "200"], true);
      if (r.status === 200 && Number(r.body.result) >= 1) counts.waitConfirmed++;
      log({ client: this.id, op: "wait", status: r.status, result: r.body.result });
    }
  }

  private async read(key: string, withToken: boolean): Promise<void> {
    const r = await this.call(["GET", key], withToken);
    counts.reads++;
    log({ client: this.id, op: "get", key, token: withToken ? this.token : null, status: r.status, servedBy: r.servedBy, value: r.body.result });
    if (r.status !== 200) {
      counts.requestErrors++;
      return;
    }
    if (r.servedBy.startsWith("replica:")) counts.replicaReads++;
    const value = r.body.result;
    if (value !== null && !written.has(String(value))) violation(`read a value never written: ${String(value)}`, { key });
    if (!withToken) return;
    counts.tokenReads++;
    const seq = value === null ? -1 : seqOf(value);
    const own = key.startsWith(`chaos:${this.id}:`);
    const mine = acknowledged.get(key) ?? -1;
    if (own && seq < mine) violation(`stale read with token: ${key} gave seq ${seq}, last acknowledged ${mine}`, { key, servedBy: r.servedBy });
    const before = this.lastRead.get(key) ?? -1;
    if (own && seq < before) violation(`non-monotonic read: ${key} gave seq ${seq} after ${before}`, { key, servedBy: r.servedBy });
    if (own) this.lastRead.set(key, Math.max(before, seq));
  }

  close(): void {
    this.http.close();
  }
}

// ---- Faults --------------------------------------------------------------------------------------

interface Fault {
  readonly name: string;
  /** Injects the fault and, after a while, undoes it (returns once undone). */
  run(ctx: FaultContext): Promise<void>;
}

interface FaultContext {
  admin(path: string, body?: unknown): Promise<unknown>;
  command(argv: string[]): Promise<unknown>;
  stopping(): boolean;
}

const restoreAfter = async (ctx: FaultContext, ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until && !ctx.stopping()) await sleep(50);
};

/** The faults injected at random; a new one is one more entry. */
const FAULTS: readonly Fault[] = [
  {
    name: "replica-link-cut",
    async run(ctx) {
      const node = pick(roles.replicas);
      await ctx.admin(`/admin/nodes/${node}/faults`, { link: "down" });
      await restoreAfter(ctx, between(300, 3000));
      await ctx.admin(`/admin/nodes/${node}/faults`, { link: "up" });
    },
  },
  {
    name: "primary-link-cut",
    async run(ctx) {
      const node = roles.primary;
      await ctx.admin(`/admin/nodes/${node}/faults`, { link: "down" });
      await restoreAfter(ctx, between(300, 2000));
      await ctx.admin(`/admin/nodes/${node}/faults`, { link: "up" });
    },
  },
  {
    name: "replica-slow-link",
    async run(ctx) {
      const node = pick(roles.replicas);
      await ctx.admin(`/admin/nodes/${node}/faults`, { delay: Math.round(between(20, 400)) });
      await restoreAfter(ctx, between(500, 3000));
      await ctx.admin(`/admin/nodes/${node}/faults`, { delay: 0 });
    },
  },
  {
    name: "replica-restart",
    async run(ctx) {
      await ctx.admin(`/admin/nodes/${pick(roles.replicas)}/faults`, { restart: true });
    },
  },
  {
    name: "primary-restart",
    async run(ctx) {
      await ctx.admin(`/admin/nodes/${roles.primary}/faults`, { restart: true });
    },
  },
  {
    // A coordinated failover to a random replica while clients write (POST /admin/failover).
    name: "failover",
    async run(ctx) {
      await ctx.admin("/admin/failover", { to: pick(roles.replicas) });
    },
  },
  {
    // The replica misses more than the backlog holds, so it must full-sync while clients write.
    name: "backlog-overrun",
    async run(ctx) {
      const node = pick(roles.replicas);
      await ctx.command(["CONFIG", "SET", "repl-backlog-size", "16384"]);
      await ctx.admin(`/admin/nodes/${node}/faults`, { link: "down" });
      try {
        for (let i = 0; i < 4; i++) {
          const burst = Array.from({ length: 100 }, (_, j) => ["SET", `chaos:burst:${j}`, "x".repeat(100)]);
          await ctx.admin("/pipeline", burst);
        }
      } finally {
        await ctx.admin(`/admin/nodes/${node}/faults`, { link: "up" });
        await restoreAfter(ctx, 1000);
        await ctx.command(["CONFIG", "SET", "repl-backlog-size", "1mb"]);
      }
    },
  },
];

// ---- The run -------------------------------------------------------------------------------------

const system = await startFlaredis({ replicas: NODES.slice(1).join(" ") });
const admin = new HttpClient(system.url, "dev-admin-token", system.headers, 4);
async function adminCall(path: string, body?: unknown): Promise<unknown> {
  const reply = body === undefined ? await admin.get(path) : await admin.post(path, body);
  if (reply.status !== 200) throw new Error(`${path}: ${reply.status} ${reply.body}`);
  return path.includes("/info") ? reply.body : JSON.parse(reply.body);
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
    const now = Number(text.match(/sync_full:(\d+)/)?.[1] ?? 0);
    const last = lastSyncFull.get(node) ?? 0;
    fullSyncs += now >= last ? now - last : now;
    lastSyncFull.set(node, now);
  }
}

let exitCode = 1;
let summary = "";
try {
  await adminCall("/", ["SET", "chaos:start", "1"]);
  await countFullSyncs();
  fullSyncs = 0;
  const clients = Array.from({ length: CLIENTS }, (_, i) => new Client(i, PLACES[i % PLACES.length]!, system));
  const end = performance.now() + SECONDS * 1000;
  const stopping = () => performance.now() >= end;
  const ctx: FaultContext = { admin: adminCall, command: (argv) => adminCall("/", argv), stopping };
  const injector = (async () => {
    while (!stopping()) {
      await sleep(between(500, 2000));
      if (stopping()) break;
      await countFullSyncs().catch(() => undefined);
      await refreshRoles().catch(() => undefined);
      const fault = pick(FAULTS);
      counts.faults[fault.name] = (counts.faults[fault.name] ?? 0) + 1;
      log({ fault: fault.name });
      try {
        await fault.run(ctx);
      } catch (e) {
        log({ fault: fault.name, error: String(e) });
      }
    }
  })();
  await Promise.all([...clients.map(async (c) => { while (!stopping()) await c.step(); }), injector]);
  for (const c of clients) c.close();

  // Undo every fault, then wait for quiescence: every replica up and at the primary's offset.
  for (const node of NODES) {
    await adminCall(`/admin/nodes/${node}/faults`, { link: "up" });
    await adminCall(`/admin/nodes/${node}/faults`, { delay: 0 });
  }
  await adminCall("/", ["CONFIG", "SET", "repl-backlog-size", "1mb"]);
  const quiet = performance.now();
  let topology: { primary: { offset: number }; replicas: { node: string; link: string; offset: number }[] } | null = null;
  for (;;) {
    topology = (await adminCall("/admin/topology")) as typeof topology;
    if (topology!.replicas.every((r) => r.link === "up" && r.offset === topology!.primary.offset)) break;
    if (performance.now() - quiet > 60_000) {
      violation("no quiescence within 60 s", { topology });
      break;
    }
    await sleep(100);
  }
  const quiescenceMs = Math.round(performance.now() - quiet);

  // Digests.
  await refreshRoles();
  const digests = (await Promise.all([roles.primary, ...roles.replicas].map((n) => adminCall(`/admin/nodes/${n}/digest`)))) as {
    node: string;
    digest: string;
    offset: number;
  }[];
  for (const d of digests.slice(1))
    if (d.digest !== digests[0]!.digest || d.offset !== digests[0]!.offset)
      violation(`digest of ${d.node} differs from the primary's`, { digests });

  // No acknowledged write lost (read from the primary: Flaredis-Max-Staleness 0).
  let lost = 0;
  for (const [key, seq] of acknowledged) {
    const reply = await admin.post("/", ["GET", key], { "Flaredis-Max-Staleness": "0" });
    const finalSeq = seqOf((JSON.parse(reply.body) as { result: unknown }).result);
    const later = uncertain.get(key) ?? new Set();
    if (finalSeq !== seq && !(finalSeq > seq && later.has(finalSeq))) {
      lost++;
      violation(`acknowledged write lost: ${key} holds seq ${finalSeq}, last acknowledged ${seq}`, { key });
    }
  }
  await countFullSyncs();
  const faults = Object.entries(counts.faults).map(([k, v]) => `${k} ${v}`).join(", ");
  const stale = violations.filter((v) => v.startsWith("stale")).length;
  const nonMonotonic = violations.filter((v) => v.startsWith("non-monotonic")).length;
  exitCode = violations.length === 0 ? 0 : 1;
  summary =
    `chaos ${exitCode === 0 ? "PASS" : "FAIL"}: ${SECONDS} s, seed ${seed}, ${CLIENTS} clients; ` +
    `writes ${counts.writes} (acknowledged ${counts.acked}, unknown ${counts.unknown}, WAIT-confirmed ${counts.waitConfirmed}/${counts.waits}); ` +
    `reads ${counts.reads} (with token ${counts.tokenReads}, by replicas ${counts.replicaReads}); request errors ${counts.requestErrors}; ` +
    `faults ${Object.values(counts.faults).reduce((a, b) => a + b, 0)} (${faults}); full syncs ${fullSyncs}; primary at the end ${roles.primary}; quiescence ${quiescenceMs} ms; ` +
    `digests equal ${digests.every((d) => d.digest === digests[0]!.digest) ? "yes" : "NO"}; lost writes ${lost}; stale token reads ${stale}; non-monotonic reads ${nonMonotonic}; violations ${violations.length}`;
} finally {
  admin.close();
  await system.stop();
  await new Promise<void>((resolve) => history.end(resolve));
}
for (const v of violations.slice(0, 20)) console.log(`violation: ${v}`);
console.log(`history: ${historyPath}`);
console.log(summary);
process.exit(exitCode);
