// An RDB export (durable-objects/engine/export/rdb-export.ts) holds the keyspace as it was at its
// offset, whatever commands run between its chunks: keys changed, deleted, created, renamed,
// expired or grown in place before the walk reached them are written as they were; it stops, and
// says why, when the keyspace is flushed, when nobody reads it, or when the node is demoted.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { EXPORT_IDLE_MS, EXPORT_VALUE_MAX, beginExport, exportChunk } from "../../durable-objects/engine/export/rdb-export";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { rdbFileEntries, rdbFileHeader } from "../../durable-objects/engine/rdb/file";
import { restoreBatches } from "../../durable-objects/engine/rdb/restore-commands";
import { runner } from "../support/engine-pair";

function engine() {
  const clock = new ManualClock(1_000_000);
  const role = { now: "master" as "master" | "slave" };
  const e = new Engine(new MemoryStorage(), {
    clock,
    random: { next: () => 0.5, hex: (n) => "ab".repeat(n) },
    replication: {
      goodReplicas: () => 0,
      replicaRefusal: () => null,
      writeRefusal: () => null,
      info: () => ({ slaves: [], master: [], failoverState: "no-failover" }),
      fullSyncInProgress: () => false,
      role: () => role.now,
    },
  });
  return { e, run: runner(e), clock, role };
}

type Run = ReturnType<typeof runner>;
const KEYS = Array.from({ length: 40 }, (_, i) => `k${i}`);

/** Every type, some keys with deadlines, a paged string, a hash with a field deadline, a library. */
function fill(run: Run, fieldDeadline: boolean): void {
  KEYS.forEach((k, i) => {
    switch (i % 7) {
      case 0: run("SET", k, `v${i}`); break;
      case 1: run("RPUSH", k, "a", "b", String(i)); break;
      case 2: run("SADD", k, "x", "y", String(i)); break;
      case 3: run("ZADD", k, 1, "m", i, "n"); break;
      case 4: run("HSET", k, "f", "v", "g", String(i)); break;
      case 5: run("XADD", k, "1-1", "f", String(i)); break;
      case 6: run("SET", k, String(i).repeat(70_000 / String(i).length)); break;
    }
    if (i % 3 === 0) run("PEXPIRE", k, 3_600_000 + i);
  });
  run("XGROUP", "CREATE", "k5", "g", "0");
  if (fieldDeadline) run("HPEXPIRE", "k4", 5_000_000, "FIELDS", 1, "f");
  run("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)");
}

/** What a keyspace holds: each key's DUMP payload and deadline, and the libraries. */
function contents(run: Run): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const k of (run("KEYS", "*") as string[]).sort()) out.set(k, [run("DUMP", k), run("PEXPIRETIME", k)]);
  out.set("(functions)", run("FUNCTION", "DUMP"));
  return out;
}

/** Reads the export to its end, running `between(i)` before each chunk; the whole file. */
function drain(e: Engine, clock: ManualClock, id: string, between: (i: number) => void, chunk = 64): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; ; i++) {
    between(i);
    clock.advance(10);
    const bytes = exportChunk(e, id, chunk, clock.now());
    if (bytes === null) break;
    parts.push(bytes);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

/** A fresh engine loaded from the file, as POST /admin/import loads one. */
function load(file: Uint8Array, now: number): Run {
  const { run } = engine();
  const { version, body } = rdbFileHeader(file);
  for (const batch of restoreBatches(rdbFileEntries(file, body, version), now)) for (const argv of batch) run(...argv);
  return run;
}

/** A write to one of the keys (or a new one), as commands a client sends. */
const write = fc.oneof(
  fc.tuple(fc.constantFrom(...KEYS, "new1", "new2"), fc.constantFrom("DEL", "SET", "EXPIRE")).map(([k, op]) => (op === "DEL" ? ["DEL", k] : op === "SET" ? ["SET", k, "changed"] : ["PEXPIRE", k, 99])),
  fc.constantFrom(...KEYS).map((k) => ["RENAME", k, `${k}:renamed`]),
  fc.constantFrom(...KEYS.filter((_, i) => i % 7 === 1)).map((k) => ["LSET", k, 0, "z"]),
  fc.constantFrom(...KEYS.filter((_, i) => i % 7 === 4)).map((k) => ["HSET", k, "f", "w"]),
  fc.constantFrom(...KEYS.filter((_, i) => i % 7 === 6)).map((k) => ["SETRANGE", k, 5, "xy"]),
  fc.constantFrom(...KEYS.filter((_, i) => i % 7 === 5)).map((k) => ["XADD", k, "*", "f", "new"]),
  fc.constant(["ZADD", "k3", 5, "m"]),
);

describe("an RDB export", () => {
  it("holds the keyspace at its offset, whatever runs between its chunks", () => {
    fc.assert(
      fc.property(fc.array(fc.array(write, { maxLength: 4 }), { minLength: 1, maxLength: 60 }), (writes) => {
        const { e, run, clock } = engine();
        fill(run, false);
        const before = contents(run);
        const start = beginExport(e, "x", clock.now());
        expect(start.version).toBe(10);
        const file = drain(e, clock, "x", (i) => {
          for (const argv of writes[i] ?? []) {
            try {
              run(...argv);
            } catch {
              // WRONGTYPE and missing keys: the write changes nothing.
            }
          }
        });
        expect(contents(load(file, clock.now()))).toEqual(before);
      }),
      { numRuns: 40 },
    );
  });

  it("keeps a collection changed in place without its header changing (one element for another of its size)", () => {
    const { e, run, clock } = engine();
    fill(run, false);
    const before = contents(run);
    beginExport(e, "x", clock.now());
    run("LSET", "k1", 0, "z");
    run("HSET", "k4", "f", "w");
    run("SETRANGE", "k6", 5, "xy");
    expect(e.storage.saved.scan(0, null, 1000).map((s) => s.key).sort()).toEqual(["k1", "k4", "k6"]);
    expect(contents(load(drain(e, clock, "x", () => {}), clock.now()))).toEqual(before);
  });

  it("is of RDB version 12 when a hash has field deadlines, and loads with them", () => {
    const { e, run, clock } = engine();
    fill(run, true);
    const before = contents(run);
    expect(beginExport(e, "x", clock.now()).version).toBe(12);
    const file = drain(e, clock, "x", () => run("HPEXPIRE", "k11", 9_000_000, "FIELDS", 1, "g"), 1 << 20);
    expect(rdbFileHeader(file).version).toBe(12);
    expect(contents(load(file, clock.now()))).toEqual(before);
  });

  it("stops when the keyspace is flushed, and its file has no end", () => {
    const { e, run, clock } = engine();
    fill(run, false);
    beginExport(e, "x", clock.now());
    const first = exportChunk(e, "x", 64, clock.now())!;
    run("FLUSHALL");
    expect(() => exportChunk(e, "x", 64, clock.now())).toThrow(/export stopped: the keyspace was flushed/);
    expect(() => rdbFileHeader(first)).toThrow();
  });

  it("runs one at a time; one nobody read for a minute stops and gives way", () => {
    const { e, run, clock } = engine();
    fill(run, false);
    beginExport(e, "a", clock.now());
    expect(() => beginExport(e, "b", clock.now())).toThrow(/export is in progress/);
    clock.advance(EXPORT_IDLE_MS + 1);
    run("DEL", "k0");
    expect(() => exportChunk(e, "a", 64, clock.now())).toThrow(/no chunk of it was asked for in 60 s/);
    beginExport(e, "b", clock.now());
    expect(() => exportChunk(e, "a", 64, clock.now())).toThrow(/another export replaced it/);
    expect(exportChunk(e, "b", 64, clock.now())).not.toBeNull();
  });

  it("stops when its node is demoted, and is refused on a replica", () => {
    const { e, run, clock, role } = engine();
    fill(run, false);
    beginExport(e, "x", clock.now());
    role.now = "slave";
    expect(() => exportChunk(e, "x", 64, clock.now())).toThrow(/stopped being the master/);
    expect(() => beginExport(e, "y", clock.now())).toThrow(/READONLY/);
  });

  it("costs a write one saved value the first time it touches a key ahead of the walk, none behind it", () => {
    const { e, run, clock } = engine();
    fill(run, false);
    beginExport(e, "x", clock.now());
    const saved = () => e.storage.saved.scan(0, null, 1000).length;
    run("SET", "k0", "1");
    run("SET", "k0", "2");
    run("SET", "brand-new", "3");
    expect(saved()).toBe(2);
    drain(e, clock, "x", () => {}, 1 << 30);
    expect(saved()).toBe(0);
    run("SET", "k1", "after");
    expect(saved()).toBe(0);
  });

  it("writes a string past what one command reads (8 MiB), and a write during the export never fails because of it", () => {
    const { e, run, clock } = engine();
    const big = "x".repeat(9 * 1024 * 1024);
    run("SET", "big", big);
    for (let i = 0; i < 6; i++) run("SET", `six:${i}`, "y".repeat(6 * 1024 * 1024));
    run("SET", "small", "1");
    beginExport(e, "x", clock.now());
    // Each is ahead of the walk: saved before it goes (the six in one command, past 32 MiB of reads).
    run("DEL", "six:0", "six:1", "six:2", "six:3", "six:4", "six:5");
    const file = drain(e, clock, "x", (i) => void (i === 0 && run("DEL", "big")), 1 << 20);
    const restored = load(file, clock.now());
    expect((restored("STRLEN", "big") as number)).toBe(big.length);
    expect(restored("STRLEN", "six:5")).toBe(6 * 1024 * 1024);
    expect(restored("GET", "small")).toEqual(new TextEncoder().encode("1"));
  });

  it("stops, saying which key, at a value past what it holds in memory; writes go on meanwhile", () => {
    const { e, run, clock } = engine();
    run("SET", "huge", "z".repeat(EXPORT_VALUE_MAX + 1));
    run("SET", "other", "1");
    beginExport(e, "x", clock.now());
    expect(() => drain(e, clock, "x", () => {}, 64)).toThrow(/export stopped: huge holds a value of \d+ bytes, more than the 16777216 an export holds in memory/);
    beginExport(e, "y", clock.now());
    expect(run("DEL", "huge")).toBe(1);
    expect(() => exportChunk(e, "y", 64, clock.now())).toThrow(/export stopped: huge holds a value/);
  });
});
