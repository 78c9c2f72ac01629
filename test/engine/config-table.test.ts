// CONFIG against redis-server 7.0.15's own answers (test/data/redis-config.json, captured by
// test/data/capture-redis-config.mjs): CONFIG GET * lists every parameter it lists; CONFIG SET of
// each to the value CONFIG GET gives answers as it did (OK, or the same error for its immutable and
// protected parameters); the probes it answered (a word, 0, the int64 ends, the uint64 end) are
// answered the same, so kinds, ranges and texts match; aliases, duplicates, normalized values.
import { describe, expect, it } from "vitest";
import { Engine } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { ManualClock } from "../../durable-objects/engine/clock";
import fixture from "../data/redis-config.json";
import { newEngine, run } from "../support/fixtures";

/** A reply as the fixture keeps it: "OK", or "-" and the error's text, CONFIG SET's own start as "-- ". */
const answer = (o: { result?: unknown; error?: string }) =>
  "error" in o && o.error !== undefined ? `-${o.error}`.replace(/^-ERR CONFIG SET failed \(possibly related to argument '[^']*'\) - /, "-- ") : String(o.result);
const text = (b: unknown) => (b instanceof Uint8Array ? new TextDecoder().decode(b) : String(b));
/** CONFIG GET's name/value pairs, as text. */
const get = (engine: Engine, ...patterns: string[]): string[] => {
  const o = run(engine, "CONFIG", "GET", ...patterns);
  if ("error" in o) throw new Error(o.error);
  return (o.result as unknown[]).map(text);
};
const pairs = (flat: string[]) => new Map(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]));

/** Where redis-server's answer depends on its machine: bind tries the address (Flaredis listens on none). */
const MACHINE = new Set(["bind"]);

describe("CONFIG, parameter by parameter, as redis-server 7.0 answers", () => {
  it("CONFIG GET * lists every parameter redis-server lists, and no other", () => {
    const listed = pairs(get(newEngine(), "*"));
    expect([...listed.keys()].sort()).toEqual(fixture.params.map((p) => p.name).sort());
  });

  it("CONFIG SET of each to the value CONFIG GET gives answers as redis-server's did", () => {
    const differ: string[] = [];
    for (const p of fixture.params) {
      const engine = newEngine();
      const value = pairs(get(engine, p.name)).get(p.name)!;
      const got = answer(run(engine, "CONFIG", "SET", p.name, value));
      if (got !== p.self) differ.push(`${p.name} ${JSON.stringify(value)}: ${got} (redis-server: ${p.self})`);
    }
    expect(differ).toEqual([]);
  });

  it("each probe redis-server answered is answered alike: kinds, ranges and error texts", () => {
    const differ: string[] = [];
    for (const p of fixture.params.filter((p) => !MACHINE.has(p.name)))
      for (const [probe, want] of Object.entries(p.probes)) {
        const arg = { word: "flaredis-probe", zero: "0", llmin: "-9223372036854775808", llmax: "9223372036854775807", ullmax: "18446744073709551615" }[probe]!;
        const got = answer(run(newEngine(), "CONFIG", "SET", p.name, arg));
        if (got !== want) differ.push(`${p.name} ${arg}: ${got} (redis-server: ${want})`);
      }
    expect(differ).toEqual([]);
  });
});

describe("CONFIG's other rules", () => {
  it("an alias reads and sets the parameter it names; a name given twice is refused, nothing set", () => {
    const engine = newEngine();
    expect(answer(run(engine, "CONFIG", "SET", "slave-priority", "7", "hash-max-ziplist-entries", "100"))).toBe("OK");
    expect(get(engine, "replica-priority", "hash-max-listpack-entries")).toEqual(["replica-priority", "7", "hash-max-listpack-entries", "100"]);
    expect(engine.config["replica-priority"]).toBe(7);
    // An alias and its parameter are two names to Redis: the later one wins.
    expect(answer(run(engine, "CONFIG", "SET", "min-slaves-to-write", "1", "min-replicas-to-write", "2"))).toBe("OK");
    expect(engine.config["min-replicas-to-write"]).toBe(2);
    expect(run(engine, "CONFIG", "SET", "hz", "20", "HZ", "30")).toEqual({ error: "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter" });
    expect(get(engine, "hz")).toEqual(["hz", "10"]);
    // Redis's hidden parameters: by exact name only.
    expect(get(engine, "key-load-delay", "key-load*")).toEqual(["key-load-delay", "0"]);
    expect(answer(run(engine, "CONFIG", "SET", "watchdog-period", "100"))).toBe("OK");
    expect(answer(run(engine, "CONFIG", "SET", "rdb-key-save-delay", "-5"))).toBe("OK");
    // A name is answered as written, once; a glob's matches in lowercase.
    expect(get(engine, "MaxMemory", "maxmemory", "hz*")).toEqual(["MaxMemory", "0", "hz", "10"]);
    expect(run(engine, "CONFIG", "SET", "MAXMEMORY", "x")).toEqual({ error: "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value" });
    expect(run(engine, "CONFIG", "SET", "hz")).toEqual({ error: "ERR wrong number of arguments for 'config|set' command" });
    expect(run(engine, "CONFIG", "SET", "hz", "1", "x")).toEqual({ error: "ERR syntax error" });
    expect(run(engine, "CONFIG", "SET", "hz", "20", "databases", "4")).toEqual({ error: "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config" });
    expect(get(engine, "hz")).toEqual(["hz", "10"]);
  });

  it("values are shown as Redis normalizes them", () => {
    const engine = newEngine();
    const set = (name: string, value: string) => {
      expect(answer(run(engine, "CONFIG", "SET", name, value))).toBe("OK");
      return get(engine, name)[1];
    };
    expect(set("notify-keyspace-events", "Ex")).toBe("xE");
    expect(set("notify-keyspace-events", "KEA")).toBe("AKE");
    expect(set("notify-keyspace-events", "Emn")).toBe("nEm");
    expect(set("notify-keyspace-events", "AKEmnd")).toBe("AKEm");
    expect(set("client-output-buffer-limit", "pubsub 1mb 2mb 3")).toBe("normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2097152 3");
    expect(set("maxmemory-clients", "10%")).toBe("10%");
    expect(set("maxmemory-clients", "1mb")).toBe("1048576");
    expect(set("appendfsync", "ALWAYS")).toBe("always");
    expect(set("shutdown-on-sigint", "force save")).toBe("save force");
    expect(set("shutdown-on-sigint", "default save")).toBe("save");
    expect(set("latency-tracking-info-percentiles", "50 99.99")).toBe("50 99.99");
    expect(set("latency-tracking-info-percentiles", "99.12345678 0x10")).toBe("99.123457 16");
    expect(set("maxmemory-clients", "0%")).toBe("0");
    expect(set("maxmemory-clients", "18446744073709551615")).toBe("1%");
    expect(set("save", "+60 1 3600 0")).toBe("60 1 3600 0");
    expect(set("oom-score-adj-values", "+1 0 ")).toBe("1 0 0");
    expect(set("client-output-buffer-limit", "normal 1 1 +5")).toBe("normal 1 1 5 slave 268435456 67108864 60 pubsub 1048576 2097152 3");
    expect(set("client-output-buffer-limit", "")).toBe("normal 1 1 5 slave 268435456 67108864 60 pubsub 1048576 2097152 3");
    const refused = (name: string, value: string) => answer(run(engine, "CONFIG", "SET", name, value));
    expect(refused("hz", "010")).toBe("-- argument couldn't be parsed into an integer");
    expect(refused("hz", "-0")).toBe("-- argument couldn't be parsed into an integer");
    expect(refused("save", "0 1")).toBe("-- Invalid save parameters");
    expect(refused("shutdown-on-sigterm", "save nosave")).toBe("-- shutdown options SAVE and NOSAVE can't be used simultaneously");
    expect(refused("maxmemory-clients", "050%")).toBe("-- argument must be a memory or percent value");
    expect(refused("proc-title-template", "{title} {bogus}")).toBe("-- template format is invalid or contains unknown variables");
    expect(refused("cluster-announce-hostname", "a_b")).toBe("-- Hostnames may only contain alphanumeric characters, hyphens or dots");
    expect(set("hll-sparse-max-bytes", "1kb")).toBe("1024");
    expect(run(engine, "CONFIG", "SET", "maxmemory-clients", "101%")).toEqual({
      error: "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100",
    });
  });

  it("CONFIG RESETSTAT zeroes INFO's stats; CONFIG REWRITE answers as Redis without a config file; CONFIG HELP", () => {
    const engine = newEngine();
    run(engine, "GET", "missing");
    expect(engine.stats.keyspaceMisses).toBe(1);
    expect(answer(run(engine, "CONFIG", "RESETSTAT"))).toBe("OK");
    expect(engine.stats.keyspaceMisses).toBe(0);
    expect(engine.stats.commandsProcessed).toBe(0);
    expect(run(engine, "CONFIG", "RESETSTAT", "x")).toEqual({ error: "ERR wrong number of arguments for 'config|resetstat' command" });
    expect(run(engine, "CONFIG", "REWRITE")).toEqual({ error: "ERR The server is running without a config file" });
    expect((run(engine, "CONFIG", "HELP") as { result: unknown[] }).result.map(text).at(-1)).toBe("    Prints this help.");
  });

  it("a parameter with no effect is kept across a restart", () => {
    const storage = new MemoryStorage();
    const clock = new ManualClock();
    const options = { clock, random: { next: () => 0.5, hex: (n: number) => "ab".repeat(n) }, node: "test" };
    run(new Engine(storage, options), "CONFIG", "SET", "hz", "42", "notify-keyspace-events", "Ex");
    expect(get(new Engine(storage, options), "hz", "notify-keyspace-events")).toEqual(["hz", "42", "notify-keyspace-events", "xE"]);
  });
});
