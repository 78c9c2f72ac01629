/**
 * Big collections (issue 23), beside redis-server in the same run: the cost of one call of
 * commands whose work grows with a collection or a count (random members with repeats, set and
 * sorted-set algebra, COPY, LPOS without a match, ZRANK of the last member, and ZRANDMEMBER of
 * 100,000 with the read-only token) on a 100k-member sorted set, a 200k-field hash, a 100k-member
 * set and a 200k-element list (`--quick`: a tenth of each); and SETBIT at bit 2^32-1 and SETRANGE
 * at byte 100,000,000, whose first call makes a new 512 MB or 100 MB string (Flaredis: one page).
 *
 * Method: both systems are filled the same way (pipelines of 10 HSET/ZADD/SADD/RPUSH commands of
 * 1,000 elements each, to the primary or master), and the replica must have caught up before
 * anything is timed. Then each command runs sequentially, one call at a time (a closed loop of
 * one): a warm-up call, then REPS timed calls (fewer when they pass the command's time budget),
 * and the figure is the median, `ms`, per system. Flaredis's warm-up time is kept as `first_ms`:
 * a read of a collection that was not written since also finds its rank index's upper nodes in
 * the node's memory (sqlite/ranks.ts), as redis-server finds everything there. `big_ping`, a PING
 * timed the same way, is each system's floor for one call in this run (no target). The reads go
 * through the replica (Flaredis: the request's `MF-CF-Blob` says Paris, so weur serves it;
 * redis-server: its replica), the writes
 * (SUNIONSTORE, ZUNIONSTORE, COPY) to the primary enam or the master, and after each write the
 * replica catches up (untimed) before the next call. redis-server's calls are timed on a
 * connection of their own (the bench's RespClient), from the command's write to its parsed reply:
 * the parse of a complete reply is part of what a client pays (RespClient's cost is linear in the
 * reply's size), as Flaredis's calls are timed to the HTTP body's last byte and then its JSON
 * parsed. Flaredis's calls have a 60 s client timeout: one that passes it is recorded as an error,
 * and the node is given time to finish it before the next command. Besides its `ms`, Flaredis's
 * result has `x_redis` (its median over redis-server's, from this run), `rows_read` per call (the
 * SQLite rows the serving node's cursors read, from GET /admin/nodes/<node>/storage, averaged over
 * the timed calls) and, for the writes, `rows_written`. Each call starts once both nodes' row
 * counters have stood still for 200 ms, and its rows are counted until they stand still again: what
 * a call leaves to the background (the purge of a collection it replaced) is its own, not the next
 * call's. `served_by`, kept in latest.json, names the node that answered (a read that a replica
 * does not answer within the worker's 10 s node-call timeout goes to the primary);
 * `background_rows`, that the counters still moved after 60 s.
 */
import { HttpClient, NEW_YORK, PARIS, TimeoutError } from "../lib/http.ts";
import { quantile, round, sleep } from "../lib/load.ts";
import type { RedisServer, Started } from "../lib/systems.ts";
import { adminJson, replicaCaughtUp } from "./admin.ts";
import { type Bench, TOKEN } from "./context.ts";

export const READONLY_TOKEN = "dev-readonly-token";
/** A Flaredis call's client timeout. */
const CALL_TIMEOUT_MS = 60_000;
/** Timed calls per command (after one warm-up), and the time past which a command stops early. */
const REPS = 5;
const BUDGET_MS = 120_000;
/** Before each call, both nodes' row counters must stay still for QUIET_MS (waiting up to QUIET_WAIT_MS). */
const QUIET_MS = 200;
const QUIET_WAIT_MS = 60_000;
/** Elements per fill command, and fill commands per request (pipeline). */
const PER_COMMAND = 1000;
const PER_PIPELINE = 10;
const VALUE = "v".repeat(50);

interface Sizes {
  readonly z: number;
  readonly h: number;
  readonly s: number;
  readonly l: number;
}

const sizesOf = (bench: Bench): Sizes => {
  const d = bench.quick ? 10 : 1;
  return { z: 100_000 / d, h: 200_000 / d, s: 100_000 / d, l: 200_000 / d };
};

const Z = "big:z";
const H = "big:h";
const S = "big:s";
const L = "big:l";

export interface BigOp {
  readonly name: string;
  readonly argv: string[];
  /** A read through the replica; otherwise a write to the primary. */
  readonly read: boolean;
  /** Sent with the read-only token. */
  readonly readonly?: boolean;
  /** Why a reply is wrong, or null when it is right. */
  readonly check: (reply: unknown) => string | null;
  /** A floor for the others (a call that does no work), not held to a target. */
  readonly floor?: true;
  /** A write to a string stored in pages (issue 27): held to its own target, its first call on a new key. */
  readonly paged?: true;
}

const length = (n: number) => (r: unknown) => (Array.isArray(r) && r.length === n ? null : `expected ${n} elements, got ${Array.isArray(r) ? r.length : JSON.stringify(r)}`);
const equals = (x: unknown) => (r: unknown) => (r === x ? null : `expected ${JSON.stringify(x)}, got ${JSON.stringify(r)?.slice(0, 80)}`);

/** The commands, in the order they run. */
export function bigOps(sizes: Sizes): BigOp[] {
  return [
    { name: "big_zrandmember_-2000", argv: ["ZRANDMEMBER", Z, "-2000"], read: true, check: length(2000) },
    { name: "big_zrandmember_-300", argv: ["ZRANDMEMBER", Z, "-300"], read: true, check: length(300) },
    { name: "big_hrandfield_-3000", argv: ["HRANDFIELD", H, "-3000"], read: true, check: length(3000) },
    { name: "big_srandmember_-2000", argv: ["SRANDMEMBER", S, "-2000"], read: true, check: length(2000) },
    { name: "big_sunionstore", argv: ["SUNIONSTORE", "big:u", S, S], read: false, check: equals(sizes.s) },
    { name: "big_zunionstore", argv: ["ZUNIONSTORE", "big:u", "2", Z, Z], read: false, check: equals(sizes.z) },
    { name: "big_copy_replace", argv: ["COPY", H, "big:hcopy", "REPLACE"], read: false, check: equals(1) },
    { name: "big_sinter_8", argv: ["SINTER", S, S, S, S, S, S, S, S], read: true, check: length(sizes.s) },
    { name: "big_lpos_nomatch", argv: ["LPOS", L, "nope"], read: true, check: equals(null) },
    { name: "big_zrank_last", argv: ["ZRANK", Z, member(sizes.z - 1)], read: true, check: equals(sizes.z - 1) },
    { name: "big_zrandmember_-100000_ro", argv: ["ZRANDMEMBER", Z, "-100000"], read: true, readonly: true, check: length(100_000) },
    { name: BIG_PING, argv: ["PING"], read: true, check: equals("PONG"), floor: true },
    // The warm-up call (`first_ms`) is on a new key: a 512 MB and a 100 MB string in one page each.
    { name: "big_setbit_2^32-1", argv: ["SETBIT", "big:bits", "4294967295", "1"], read: false, check: (r) => (r === 0 || r === 1 ? null : `got ${JSON.stringify(r)}`), paged: true },
    { name: "big_setrange_1e8", argv: ["SETRANGE", "big:range", "100000000", "x"], read: false, check: equals(100_000_001), paged: true },
  ];
}

/** The names of the results held to the report's targets, and the floor's. */
export const BIG_PING = "big_ping";
export const BIG_NAMES = bigOps({ z: 1, h: 1, s: 1, l: 1 }).filter((op) => !op.floor && !op.paged).map((op) => op.name);
export const PAGED_NAMES = bigOps({ z: 1, h: 1, s: 1, l: 1 }).filter((op) => op.paged).map((op) => op.name);
export const BIG_ZRANK = "big_zrank_last";
export const BIG_RANDOM_100K = "big_zrandmember_-100000_ro";

/** Members sort as their numbers do (fixed width), and each one's score is its number. */
function member(i: number): string {
  return `m${String(i).padStart(6, "0")}`;
}

/** The fill, 1,000 elements per command: z (score i, member i), h, s and l. */
function fillCommands(sizes: Sizes): string[][] {
  const out: string[][] = [];
  const commands = (key: string, n: number, command: string, element: (i: number) => string[]) => {
    for (let i = 0; i < n; i += PER_COMMAND)
      out.push([command, key, ...Array.from({ length: Math.min(PER_COMMAND, n - i) }, (_, j) => element(i + j)).flat()]);
  };
  commands(Z, sizes.z, "ZADD", (i) => [String(i), member(i)]);
  commands(H, sizes.h, "HSET", (i) => [`f${i}`, VALUE]);
  commands(S, sizes.s, "SADD", (i) => [member(i)]);
  commands(L, sizes.l, "RPUSH", (i) => [`e${i}:${VALUE}`]);
  return out;
}

/** What a command's timed calls came to: their times, and the first error or wrong answer that ended them. */
interface Timed {
  /** The warm-up call's time (its first call: what a cold node pays). */
  readonly first?: number;
  readonly ms: number[];
  readonly error: string | null;
}

/**
 * One warm-up call, then up to REPS timed ones (at least one), fewer when the command's time
 * passes BUDGET_MS; `call` answers its milliseconds, or throws. A failing call ends the command.
 */
async function timeCalls(call: (timed: boolean) => Promise<number>): Promise<Timed> {
  const ms: number[] = [];
  let spent = 0;
  let first: number | undefined;
  try {
    first = await call(false);
    spent += first;
    while (ms.length < REPS && (ms.length === 0 || spent < BUDGET_MS)) {
      const t = await call(true);
      ms.push(t);
      spent += t;
    }
    return { first, ms, error: null };
  } catch (e) {
    return { first, ms, error: e instanceof Error ? e.message : String(e) };
  }
}

const median = (ms: readonly number[]) => round(quantile([...ms].sort((a, b) => a - b), 0.5), 2);

export async function redisBigCollections(bench: Bench, master: RedisServer, replica: RedisServer): Promise<void> {
  const sizes = sizesOf(bench);
  const writer = await master.client();
  const timedWriter = await master.client();
  const timedReader = await replica.client();
  try {
    const fill = fillCommands(sizes);
    for (let i = 0; i < fill.length; i += PER_PIPELINE)
      for (const reply of await Promise.all(writer.pipeline(fill.slice(i, i + PER_PIPELINE)))) if (reply instanceof Error) throw reply;
    await writer.call("WAIT", 1, 60_000);
    for (const op of bigOps(sizes)) {
      const client = op.read ? timedReader : timedWriter;
      const timed = await timeCalls(async () => {
        const t0 = performance.now();
        const reply = await client.send(...op.argv);
        const ms = performance.now() - t0;
        if (reply instanceof Error) throw reply;
        const wrong = op.check(reply);
        if (wrong !== null) throw new Error(`${op.argv[0]}: ${wrong}`);
        if (!op.read) await writer.call("WAIT", 1, 60_000);
        return ms;
      });
      bench.record(op.name, "redis", { ...(timed.ms.length > 0 ? { ms: median(timed.ms) } : {}), calls: timed.ms.length, ...(timed.error ? { error: timed.error } : {}) });
    }
  } finally {
    writer.close();
    timedWriter.close();
    timedReader.close();
  }
}

interface Usage {
  rows_read: number;
  rows_written: number;
}

export async function flaredisBigCollections(bench: Bench, f: Started): Promise<void> {
  const sizes = sizesOf(bench);
  const http = new HttpClient(f.url, TOKEN, f.headers, 1);
  const readonly = new HttpClient(f.url, READONLY_TOKEN, f.headers, 1);
  const usage = (node: string) => adminJson<Usage>(f, `/admin/nodes/${node}/storage`);
  let latest = { enam: await usage("enam"), weur: await usage("weur") };
  /**
   * Waits until neither node reads or writes rows in the background (a dropped collection's
   * elements are purged after the command that dropped it: that work is the call's, and would
   * otherwise count, and cost time, in the next one); the counters then, or null when they were
   * still moving after QUIET_WAIT_MS.
   */
  const quiet = async (): Promise<typeof latest | null> => {
    const deadline = performance.now() + QUIET_WAIT_MS;
    const same = (a: Usage, b: Usage) => a.rows_read === b.rows_read && a.rows_written === b.rows_written;
    for (;;) {
      const previous = { enam: await usage("enam"), weur: await usage("weur") };
      await sleep(QUIET_MS);
      latest = { enam: await usage("enam"), weur: await usage("weur") };
      if (same(previous.enam, latest.enam) && same(previous.weur, latest.weur)) return latest;
      if (performance.now() > deadline) return null;
    }
  };
  try {
    const fill = fillCommands(sizes);
    for (let i = 0; i < fill.length; i += PER_PIPELINE) {
      const reply = await http.post("/pipeline", fill.slice(i, i + PER_PIPELINE), { "MF-CF-Blob": NEW_YORK }, CALL_TIMEOUT_MS);
      if (reply.status !== 200) throw new Error(`fill: ${reply.status} ${reply.body.slice(0, 200)}`);
      const failed = (JSON.parse(reply.body) as { error?: string }[]).find((o) => o.error !== undefined);
      if (failed) throw new Error(`fill: ${failed.error}`);
    }
    await replicaCaughtUp(bench, f, 300_000);
    for (const op of bigOps(sizes)) {
      const where = { "MF-CF-Blob": op.read ? PARIS : NEW_YORK };
      const expected = op.read ? "replica:weur" : "primary:enam";
      const client = op.readonly ? readonly : http;
      const servedBy = new Set<string>();
      let rowsRead = 0;
      let rowsWritten = 0;
      let firstRowsWritten: number | undefined;
      let noisy = false;
      const timed = await timeCalls(async (counted) => {
        let before = await quiet();
        if (before === null) {
          noisy ||= counted;
          before = latest;
        }
        const t0 = performance.now();
        const reply = await client.post("/", op.argv, where, CALL_TIMEOUT_MS);
        const ms = performance.now() - t0;
        const by = String(reply.headers["flaredis-served-by"]);
        const body = JSON.parse(reply.body) as { result?: unknown; error?: string };
        if (reply.status !== 200 || body.error !== undefined) throw new Error(`${op.argv[0]}: ${reply.status} ${body.error ?? reply.body.slice(0, 200)} (served by ${by})`);
        const wrong = op.check(body.result);
        if (wrong !== null) throw new Error(`${op.argv[0]}: ${wrong}`);
        const node = by.split(":")[1] === "enam" ? "enam" : "weur";
        // The call's rows include what it left to do in the background (a purge of what it replaced).
        let after = await quiet();
        if (after === null) {
          noisy ||= counted;
          after = latest;
        }
        if (counted) {
          servedBy.add(by);
          rowsRead += after[node].rows_read - before[node].rows_read;
          rowsWritten += after[node].rows_written - before[node].rows_written;
        } else firstRowsWritten = after[node].rows_written - before[node].rows_written;
        if (!op.read) await replicaCaughtUp(bench, f, 300_000);
        return ms;
      });
      // A call abandoned at the client's timeout runs on: the next command waits until the node answers again.
      if (timed.error !== null && /no answer within/.test(timed.error)) await settle(bench, client, op, where);
      if (!op.read) await replicaCaughtUp(bench, f, 300_000);
      const calls = timed.ms.length;
      const redis = bench.results.find((r) => r.name === op.name && r.system === "redis")?.ms;
      const ms = calls > 0 ? median(timed.ms) : NaN;
      bench.record(op.name, "flaredis", {
        ...(calls > 0 ? { ms } : {}),
        ...(timed.first !== undefined ? { first_ms: round(timed.first, 2) } : {}),
        ...(calls > 0 && typeof redis === "number" && redis > 0 ? { x_redis: round(ms / redis, 1) } : {}),
        ...(calls > 0 ? { rows_read: round(rowsRead / calls, 1) } : {}),
        ...(calls > 0 && !op.read ? { rows_written: round(rowsWritten / calls, 1) } : {}),
        ...(firstRowsWritten !== undefined && !op.read ? { first_rows_written: firstRowsWritten } : {}),
        calls,
        served_by: servedBy.size > 0 ? [...servedBy].join(", ") : "none",
        // Some call's rows were counted while the nodes still read or wrote rows in the background.
        ...(noisy ? { background_rows: true } : {}),
        expected_by: expected,
        ...(timed.error ? { error: timed.error } : {}),
      });
    }
  } finally {
    http.close();
    readonly.close();
  }
}

/** Waits (up to 5 minutes) until the node that serves `op` answers a cheap command in time again. */
async function settle(bench: Bench, client: HttpClient, op: BigOp, where: Record<string, string>): Promise<void> {
  const deadline = performance.now() + 300_000;
  while (performance.now() < deadline) {
    try {
      // A write's node is the primary: a read with no staleness allowed goes there.
      const primaryOnly: Record<string, string> = op.read ? {} : { "Flaredis-Max-Staleness": "0" };
      const reply = await client.post("/", ["EXISTS", op.argv[1]!], { ...where, ...primaryOnly }, CALL_TIMEOUT_MS);
      if (reply.status === 200) return;
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
    }
    await sleep(bench.quick ? 100 : 1000);
  }
}
