/** Throughput of single commands and 100-command pipelines: Flaredis, the echo ceiling and Redis. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { HttpClient, NEW_YORK, PARIS } from "../lib/http.ts";
import { openLoop, runLoad } from "../lib/load.ts";
import type { RedisServer, Started } from "../lib/systems.ts";
import { type Bench, CONCURRENCY, PIPELINE_CONCURRENCY, TOKEN, VALUE, VALUE_UTF8, clients, load, pipelineOf, servedBy } from "./context.ts";

/** Alternating rounds of ASCII and UTF-8 names for get_utf8 and set_utf8. */
const UTF8_ROUNDS = 4;

/**
 * The `set` benchmark's operation: worker `w`'s i-th SET of a 100-byte value on one of 1,000 keys,
 * from New York, served by the primary (enam). The lag group measures the SET capacity with it too.
 */
export const setOp =
  (http: HttpClient) =>
  async (w: number, i: number): Promise<void> =>
    servedBy(await http.post("/", ["SET", `key:${(w * 7919 + i) % 1000}`, VALUE], { "MF-CF-Blob": NEW_YORK }), "primary:enam");

export async function flaredisThroughput(bench: Bench, f: Started): Promise<void> {
  const http = new HttpClient(f.url, TOKEN, f.headers, CONCURRENCY);
  try {
    // Keys the reads find (and a replica that has them).
    for (let i = 0; i < 1000; i += 100)
      await http.post("/pipeline", pipelineOf(100, (j) => ["SET", `key:${i + j}`, VALUE]), { "MF-CF-Blob": NEW_YORK });
    await http.post("/", ["WAIT", "1", "5000"]);
    bench.record(
      "get",
      "flaredis",
      load(
        await runLoad({ concurrency: CONCURRENCY, seconds: bench.seconds }, async (w, i) => {
          servedBy(await http.post("/", ["GET", `key:${(w * 7919 + i) % 1000}`], { "MF-CF-Blob": PARIS }), "replica:weur");
        }),
      ),
    );
    bench.record("set", "flaredis", load(await runLoad({ concurrency: CONCURRENCY, seconds: bench.seconds }, setOp(http))));
    // The same with names and values that are UTF-8 text beyond ASCII (bytes inside: issue 33),
    // in rounds that alternate with ASCII names, so that the machine's drift over a run (±30%
    // between 15 s loads here) falls on both alike: each figure the mean of its rounds.
    const utf8Key = (n: number) => `ключ:é:${n}`;
    for (let i = 0; i < 1000; i += 100)
      await http.post("/pipeline", pipelineOf(100, (j) => ["SET", utf8Key(i + j), VALUE_UTF8]), { "MF-CF-Blob": NEW_YORK });
    await http.post("/", ["WAIT", "1", "5000"]);
    const kinds = [
      { name: "get_utf8", command: (key: string) => ["GET", key], from: PARIS, served: "replica:weur", ascii: VALUE },
      { name: "set_utf8", command: (key: string, value?: string) => ["SET", key, value!], from: NEW_YORK, served: "primary:enam", ascii: VALUE },
    ];
    for (const kind of kinds) {
      const rounds = { ascii: [] as number[], utf8: [] as number[] };
      for (let round = 0; round < UTF8_ROUNDS; round++)
        for (const names of ["ascii", "utf8"] as const) {
          const keyOf = names === "ascii" ? (n: number) => `key:${n}` : utf8Key;
          const value = names === "ascii" ? VALUE : VALUE_UTF8;
          const { ops_per_s } = await runLoad({ concurrency: CONCURRENCY, seconds: Math.max(2, bench.seconds / UTF8_ROUNDS) }, async (w, i) => {
            servedBy(await http.post("/", kind.command(keyOf((w * 7919 + i) % 1000), value), { "MF-CF-Blob": kind.from }), kind.served);
          });
          rounds[names].push(ops_per_s);
        }
      const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
      bench.record(kind.name, "flaredis", { ops_per_s: mean(rounds.utf8), ascii_ops_per_s: mean(rounds.ascii) });
    }
    // @upstash/ratelimit's sliding-window script, as the library sends it (EVALSHA of its own
    // text), on one identifier per worker with a limit no run reaches: each call reads two
    // windows and increments one, as a request that is let through does.
    const script = slidingWindowScript();
    const sha = String((JSON.parse((await http.post("/", ["SCRIPT", "LOAD", script])).body) as { result: string }).result);
    bench.record(
      "evalsha_ratelimit",
      "flaredis",
      load(
        await runLoad({ concurrency: CONCURRENCY, seconds: bench.seconds }, async (w) => {
          const now = Date.now();
          const window = Math.floor(now / 60_000);
          const keys = [`rl:${w}:${window}`, `rl:${w}:${window - 1}`];
          servedBy(await http.post("/", ["EVALSHA", sha, "2", ...keys, "1000000000", String(now), "60000", "1"], { "MF-CF-Blob": NEW_YORK }), "primary:enam");
        }),
      ),
    );
    const gets = pipelineOf(100, (j) => ["GET", `key:${j * 10}`]);
    const sets = pipelineOf(100, (j) => ["SET", `key:${j * 10}`, VALUE]);
    const pipelined = { concurrency: PIPELINE_CONCURRENCY, seconds: bench.seconds, per: 100 };
    bench.record(
      "pipeline_get_100",
      "flaredis",
      { ops_per_s: (await runLoad(pipelined, async () => servedBy(await http.post("/pipeline", gets, { "MF-CF-Blob": PARIS }), "replica:weur"))).ops_per_s },
    );
    bench.record(
      "pipeline_set_100",
      "flaredis",
      { ops_per_s: (await runLoad(pipelined, async () => servedBy(await http.post("/pipeline", sets, { "MF-CF-Blob": NEW_YORK }), "primary:enam"))).ops_per_s },
    );
  } finally {
    http.close();
  }
}

/** @upstash/ratelimit's single-region sliding-window script, read from the installed library. */
function slidingWindowScript(): string {
  const source = readFileSync(createRequire(import.meta.url).resolve("@upstash/ratelimit"), "utf8");
  const script = /var slidingWindowLimitScript = `([^`]*)`/.exec(source)?.[1];
  if (!script) throw new Error("@upstash/ratelimit's sliding-window script was not found in its bundle");
  return script;
}

/** One request to the echo Worker, shaped as Flaredis's GET from Paris. */
async function echoGet(http: HttpClient, key: string): Promise<void> {
  const reply = await http.post("/", ["GET", key], { "MF-CF-Blob": PARIS });
  if (reply.status !== 200) throw new Error(reply.body);
}

/**
 * The rate of the echo open loop, and where it comes from: the lag's (half of Flaredis's SET
 * capacity, measured by the lag group earlier in this run: main.ts runs it first); when the lag
 * group did not run, half of the echo's own capacity measured just before (echoThroughput); else
 * 1,000/s.
 */
function echoOpenRate(bench: Bench): { rate_per_s: number; rate_from: string } {
  if (bench.lagRate) return { rate_per_s: bench.lagRate.rate_per_s, rate_from: "repl_lag's rate (half of Flaredis's SET capacity)" };
  const echo = bench.results.find((r) => r.name === "echo" && r.system === "workerd")?.ops_per_s;
  if (typeof echo === "number" && echo > 0) return { rate_per_s: Math.round(echo / 2), rate_from: "half of the echo's capacity (lag not run)" };
  return { rate_per_s: 1000, rate_from: "1,000/s (no capacity measured)" };
}

/**
 * The runtime's own tail at the lag's rate: one request answered by one Durable Object call,
 * open loop at the rate repl_lag ran at (it needs a write, a push and a read in that time).
 */
export async function echoOpenLoop(bench: Bench, e: Started): Promise<void> {
  const http = new HttpClient(e.url, TOKEN, e.headers, 64);
  const { rate_per_s, rate_from } = echoOpenRate(bench);
  try {
    bench.record("echo_open_lag_rate", "workerd", {
      ...(await openLoop(rate_per_s, bench.quick ? 5 : 15, () => echoGet(http, "key:1"))),
      rate_per_s,
      rate_from,
    });
  } finally {
    http.close();
  }
}

export async function echoThroughput(bench: Bench, e: Started): Promise<void> {
  const http = new HttpClient(e.url, TOKEN, e.headers, CONCURRENCY);
  try {
    bench.record(
      "echo",
      "workerd",
      load(
        await runLoad({ concurrency: CONCURRENCY, seconds: bench.seconds }, (w, i) => echoGet(http, `key:${(w * 7919 + i) % 1000}`)),
      ),
    );
    // The same, with a SQLite row committed per request: Flaredis's SET writes at least that.
    bench.record(
      "echo_durable",
      "workerd",
      load(
        await runLoad({ concurrency: CONCURRENCY, seconds: bench.seconds }, async (w, i) => {
          const reply = await http.post("/durable", ["SET", `key:${(w * 7919 + i) % 1000}`, VALUE], { "MF-CF-Blob": PARIS });
          if (reply.status !== 200) throw new Error(reply.body);
        }),
      ),
    );
  } finally {
    http.close();
  }
}

export async function redisThroughput(bench: Bench, master: RedisServer, replica: RedisServer): Promise<void> {
  const setup = await master.client();
  for (let i = 0; i < 1000; i += 100) await Promise.all(setup.pipeline(pipelineOf(100, (j) => ["SET", `key:${i + j}`, VALUE])));
  await setup.call("WAIT", 1, 5000);
  setup.close();
  const readers = await clients(replica, CONCURRENCY);
  const writers = await clients(master, CONCURRENCY);
  const ok = (reply: unknown) => {
    if (reply instanceof Error) throw reply;
  };
  try {
    bench.record(
      "get",
      "redis",
      load(await runLoad({ concurrency: CONCURRENCY, seconds: bench.seconds }, async (w, i) => ok(await readers[w]!.send("GET", `key:${(w * 7919 + i) % 1000}`)))),
    );
    bench.record(
      "set",
      "redis",
      load(await runLoad({ concurrency: CONCURRENCY, seconds: bench.seconds }, async (w, i) => ok(await writers[w]!.send("SET", `key:${(w * 7919 + i) % 1000}`, VALUE)))),
    );
    const gets = pipelineOf(100, (j) => ["GET", `key:${j * 10}`]);
    const sets = pipelineOf(100, (j) => ["SET", `key:${j * 10}`, VALUE]);
    const pipelined = { concurrency: PIPELINE_CONCURRENCY, seconds: bench.seconds, per: 100 };
    bench.record("pipeline_get_100", "redis", {
      ops_per_s: (await runLoad(pipelined, async (w) => (await Promise.all(readers[w]!.pipeline(gets))).forEach(ok))).ops_per_s,
    });
    bench.record("pipeline_set_100", "redis", {
      ops_per_s: (await runLoad(pipelined, async (w) => (await Promise.all(writers[w]!.pipeline(sets))).forEach(ok))).ops_per_s,
    });
  } finally {
    for (const c of [...readers, ...writers]) c.close();
  }
}
