// RDB files (durable-objects/engine/rdb/file.ts): one saved by Debian's redis-server
// (test/fixtures/rdb/, made by the script there) read as the keys, deadlines and function library
// it held; files Flaredis writes read back the same; truncated, altered, newer and other-database
// files refused before a key is taken; and loading one as RESTORE commands on an engine.
import { describe, expect, it } from "vitest";
import { crc64 } from "../../durable-objects/engine/rdb/crc64";
import { RdbError } from "../../durable-objects/engine/rdb/error";
import { RdbFileWriter, type RdbFileEntry, rdbFileEntries, rdbFileHeader } from "../../durable-objects/engine/rdb/file";
import { outOfBounds, restoreBatches } from "../../durable-objects/engine/rdb/restore-commands";
import type { RdbValue } from "../../durable-objects/engine/rdb/value";
import { enginePair, runner } from "../support/engine-pair";
import saved from "../fixtures/rdb/redis-rdb.json";
import { fixtureForm } from "../support/rdb-values";

const fileBytes = () => Uint8Array.from(atob(saved.rdb), (c) => c.charCodeAt(0));
const text = (s: string) => new TextEncoder().encode(s);

/** Every entry of a file (header checked first). */
function entries(bytes: Uint8Array): { version: number; aux: Map<string, string>; all: RdbFileEntry[] } {
  const { version, aux, body } = rdbFileHeader(bytes);
  return { version, aux, all: [...rdbFileEntries(bytes, body, version)] };
}

describe("an RDB file saved by redis-server", () => {
  it("reads as the keys, deadlines and function library it held", () => {
    const { version, aux, all } = entries(fileBytes());
    expect(version).toBe(10);
    expect(aux.get("redis-ver")).toBe(saved.redis_version);
    const keys = all.flatMap((e) => (e.kind === "key" ? [e.entry] : []));
    const byName = new Map(keys.map((k) => [new TextDecoder().decode(k.key), k]));
    expect([...byName.keys()].sort()).toEqual(saved.keys.map((k) => k.key));
    for (const want of saved.keys) {
      const got = byName.get(want.key)!;
      expect(got.value.type, want.key).toBe(want.type);
      // Scores as redis-server printed them: inf, -inf, %.17g.
      const expected = want.type === "zset" ? (want.value as [string, string][]).map(([m, x]) => [m, x === "inf" ? Infinity : x === "-inf" ? -Infinity : Number(x)]) : want.value;
      expect(fixtureForm(got.value), want.key).toEqual(expected);
      expect(got.expiresAt ?? -1, want.key).toBe(want.expiresAt);
    }
    const functions = all.flatMap((e) => (e.kind === "function" ? [new TextDecoder().decode(e.code)] : []));
    expect(functions).toHaveLength(1);
    expect(functions[0]).toMatch(/^#!lua name=fixturelib/);
  });

  it("loads on an engine as RESTORE commands: the same contents, deadlines and library", () => {
    const { master, clock } = enginePair();
    const run = runner(master);
    const bytes = fileBytes();
    const { version, body } = rdbFileHeader(bytes);
    for (const batch of restoreBatches(rdbFileEntries(bytes, body, version), clock.now()))
      for (const argv of batch) {
        const reply = run(...argv);
        expect(reply instanceof Uint8Array ? new TextDecoder().decode(reply) : reply, argv[0]).toBe(argv[0] === "RESTORE" ? "OK" : "fixturelib");
      }
    expect(run("DBSIZE")).toBe(saved.keys.length);
    expect(run("PEXPIRETIME", "s:ttl")).toBe(saved.keys.find((k) => k.key === "s:ttl")!.expiresAt);
    expect(run("FCALL", "hello", 0)).toEqual(text("hi"));
  });

  it("is refused whole when truncated anywhere, altered anywhere, of a newer version, or not RDB", () => {
    const bytes = fileBytes();
    for (const n of [0, 5, 9, 100, bytes.length - 9, bytes.length - 1]) expect(() => rdbFileHeader(bytes.subarray(0, n)), `${n} bytes`).toThrow(RdbError);
    for (const at of [10, 200, 5000, bytes.length - 20]) {
      const altered = bytes.slice();
      altered[at]! ^= 0x40;
      expect(() => rdbFileHeader(altered), `byte ${at}`).toThrow(/checksum/);
    }
    const newer = bytes.slice();
    newer.set(text("0013"), 5);
    expect(() => rdbFileHeader(newer)).toThrow(/version 13/);
    expect(() => rdbFileHeader(text("hello, world, not an rdb"))).toThrow(/magic/);
  });
});

describe("loading a file in requests", () => {
  const t = (x: string) => new TextEncoder().encode(x);
  const bounds = { maxKeyBytes: 32 * 1024, maxValueBytes: 512 * 1024 * 1024, maxElementBytes: 1024 * 1024, maxLogBytes: 32 * 1024 * 1024 };
  const key = (name: string, value: RdbValue, expiresAt: number | null = null): RdbFileEntry => ({ kind: "key", entry: { key: t(name), value, expiresAt } });

  it("batches by what they add to the log, not only by their payload: small elements grow there", () => {
    // 100 sets of 5,000 two-byte members: 1 MB of payload, about 8 MB of log.
    const sets = Array.from({ length: 100 }, (_, i) => key(`s${i}`, { type: "set", members: Array.from({ length: 5000 }, (_, j) => t(String(j % 100).padStart(2, "0") + String.fromCharCode(65 + Math.floor(j / 100)))) }));
    const batches = [...restoreBatches(sets, 0)];
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect(b.length * 5000 * 18).toBeLessThanOrEqual(8 * 1024 * 1024 + 5000 * 18);
  });

  it("leaves out a key already past its deadline, and refuses one too large for one request before anything loads", () => {
    const batches = [...restoreBatches([key("gone", { type: "string", value: t("v") }, 5), key("kept", { type: "string", value: t("v") }, 50)], 10)];
    expect(batches.flat().map((argv) => argv[1])).toEqual(["kept"]);
    const huge = key("huge", { type: "list", items: new Array<Uint8Array>(40_000).fill(new Uint8Array(1024)) });
    expect(outOfBounds(huge, bounds)).toMatch(/replication log in one request/);
    expect(outOfBounds(key("big", { type: "string", value: new Uint8Array(8 * 1024 * 1024) }), { ...bounds, maxPayloadBytes: 7 * 1024 * 1024 })).toMatch(/for one request/);
  });
});

describe("RDB files Flaredis writes", () => {
  const values: [string, RdbValue, number | null][] = [
    ["s", { type: "string", value: text("v") }, null],
    ["l", { type: "list", items: [text("a"), text("b")] }, 4_102_444_800_000],
    ["st", { type: "set", members: [text("x")] }, null],
    ["z", { type: "zset", entries: [{ member: text("m"), score: -1.5 }] }, null],
    ["h", { type: "hash", fields: [{ field: text("f"), value: text("v"), expiresAt: null }] }, null],
  ];

  it("read back as what was written, in streamed pieces, with a checksum redis would verify", () => {
    const w = new RdbFileWriter(10, [["redis-bits", "64"]], values.length, 1);
    const pieces: Uint8Array[] = [w.take()];
    for (const [key, value, at] of values) {
      w.key(text(key), value, at);
      pieces.push(w.take());
    }
    w.functionLibrary(text("#!lua name=lib\nredis.register_function('f', function() return 1 end)"));
    pieces.push(w.end());
    const bytes = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of pieces) bytes.set(p, (at += p.length) - p.length);
    const { version, all } = entries(bytes);
    expect(version).toBe(10);
    expect(all.filter((e) => e.kind === "key").map((e) => e.kind === "key" && [new TextDecoder().decode(e.entry.key), e.entry.value, e.entry.expiresAt])).toEqual(values);
    expect(all.filter((e) => e.kind === "function")).toHaveLength(1);
  });

  it("a field deadline needs version 12; a key of another database is refused", () => {
    const w = new RdbFileWriter(10, [], 1, 0);
    expect(() => w.key(text("h"), { type: "hash", fields: [{ field: text("f"), value: text("v"), expiresAt: 5 }] }, null)).toThrow(/needs RDB version 12/);
    // The magic and version, SELECTDB 1, a string key "k" = "v", EOF and the checksum.
    const head = new Uint8Array([...text("REDIS0010"), 0xfe, 1, 0, 1, 0x6b, 1, 0x76, 0xff]);
    const file = new Uint8Array([...head, ...crc64(head).bytes()]);
    const { version, body: start } = rdbFileHeader(file);
    expect(() => [...rdbFileEntries(file, start, version)]).toThrow(/database 1/);
  });
});
