// DUMP and RESTORE: every type serialized and created again the same (TTLs, hash field
// deadlines), the payloads redis-server wrote restored as the values it held, Redis's checks and
// texts in its order, IDLETIME and FREQ, and RESTORE's replication (a replica gets the same value).
import { describe, expect, it } from "vitest";
import { fromBytes } from "../../durable-objects/engine/bytes";
import { crc64 } from "../../durable-objects/engine/rdb/crc64";
import { digest } from "../../durable-objects/engine/replication/sync";
import { catchUp, enginePair, fullSync, runner } from "../support/engine-pair";
import dumps from "../fixtures/rdb/dump-payloads.json";

const hex = (s: string) => fromBytes(Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16))));
const text = (v: unknown) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v);
const texts = (v: unknown) => (Array.isArray(v) ? v.map(text) : text(v));
const b64 = (v: unknown) => btoa(fromBytes(v as Uint8Array));

/** Everything a key holds, in a form to compare (type, contents, TTL in ms). */
function contents(run: ReturnType<typeof runner>, key: string): unknown {
  const type = run("TYPE", key);
  const ttl = run("PTTL", key);
  switch (type) {
    case "string":
      return { type, ttl, value: text(run("GET", key)) };
    case "list":
      return { type, ttl, value: texts(run("LRANGE", key, 0, -1)) };
    case "set":
      return { type, ttl, value: (texts(run("SMEMBERS", key)) as string[]).sort() };
    case "zset":
      return { type, ttl, value: texts(run("ZRANGE", key, 0, -1, "WITHSCORES")) };
    case "hash": {
      const flat = texts(run("HGETALL", key)) as string[];
      const fields = flat.filter((_, i) => i % 2 === 0).sort();
      return { type, ttl, value: fields.map((f) => [f, text(run("HGET", key, f)), run("HPTTL", key, "FIELDS", 1, f)]) };
    }
    default:
      return { type, ttl };
  }
}

describe("DUMP then RESTORE", () => {
  it("every type comes back the same under another name, with the TTL RESTORE gives it", () => {
    const { master } = enginePair();
    const run = runner(master);
    run("SET", "s", "hello");
    run("SET", "n", "12345");
    run("RPUSH", "l", "a", "1", "-7", "x".repeat(100));
    run("SADD", "st", "1", "2", "apple");
    run("ZADD", "z", "1", "a", "-2.5", "b", "inf", "c");
    run("HSET", "h", "f1", "v1", "f2", "v2", "f3", "v3");
    run("HPEXPIRE", "h", 60_000, "FIELDS", 1, "f2");
    for (const key of ["s", "n", "l", "st", "z", "h"]) {
      const payload = run("DUMP", key) as Uint8Array;
      expect(run("RESTORE", `${key}:copy`, 0, fromBytes(payload))).toBe("OK");
      expect(contents(run, `${key}:copy`)).toEqual(contents(run, key));
    }
    // A hash with a field deadline needs RDB 12 (Redis 7.4); the others 10 (Redis 7.0).
    const version = (key: string) => {
      const p = run("DUMP", key) as Uint8Array;
      return p[p.length - 10];
    };
    expect(["s", "l", "st", "z"].map(version)).toEqual([10, 10, 10, 10]);
    expect(version("h")).toBe(12);
    expect(run("DUMP", "missing")).toBeNull();
  });

  it("payloads redis-server wrote restore as the values it held", () => {
    const { master } = enginePair();
    const run = runner(master);
    for (const f of dumps.fixtures) {
      expect(run("RESTORE", f.key, 0, hex(f.payload)), f.key).toBe("OK");
      expect(run("TYPE", f.key)).toBe(f.type);
      const held = (v: unknown) => (v as unknown[]).map(b64);
      if (f.type === "string") expect(b64(run("GET", f.key))).toBe(f.value);
      if (f.type === "list") expect(held(run("LRANGE", f.key, 0, -1))).toEqual(f.value);
      if (f.type === "set") expect(held(run("SMEMBERS", f.key)).sort()).toEqual(f.value);
      if (f.type === "hash") {
        const flat = held(run("HGETALL", f.key));
        const pairs = flat.filter((_, i) => i % 2 === 0).map((field, i) => [field, flat[2 * i + 1]]);
        expect(pairs.sort()).toEqual(f.value);
      }
      if (f.type === "stream") {
        const want = f.value as { entries: [string, string[]][]; full: unknown[] };
        const got = (run("XRANGE", f.key, "-", "+") as [Uint8Array, Uint8Array[]][]).map(([id, pairs]) => [text(id), pairs.map(b64)]);
        expect(got).toEqual(want.entries);
        const field = (list: unknown[], name: string) => list[list.indexOf(name) + 1];
        const info = (run("XINFO", "STREAM", f.key, "FULL") as unknown[]).map(texts);
        for (const name of ["length", "last-generated-id", "max-deleted-entry-id", "entries-added", "recorded-first-entry-id"]) expect(field(info, name), name).toEqual(field(want.full, name));
        const groups = (field(want.full, "groups") as unknown[][]).map((g) => [field(g, "name"), field(g, "last-delivered-id"), field(g, "entries-read"), field(g, "pending")]);
        const mine = (run("XINFO", "GROUPS", f.key) as unknown[][]).map((g) => g.map(texts));
        expect(mine.map((g) => [field(g, "name"), field(g, "last-delivered-id"), field(g, "entries-read")])).toEqual(groups.map((g) => g.slice(0, 3)));
        for (const [name, , , pending] of groups) {
          const rows = (run("XPENDING", f.key, name as string, "-", "+", 100) as unknown[][]).map((p) => [text(p[0]), text(p[1]), p[3]]);
          expect(rows).toEqual((pending as [string, string, number, number][]).map(([id, consumer, , count]) => [id, consumer, count]));
        }
      }
      if (f.type === "zset") {
        const flat = run("ZRANGE", f.key, 0, -1, "WITHSCORES") as Uint8Array[];
        // Scores compared as numbers: redis-server 7.0 prints them with %.17g, Flaredis as 7.2 does.
        const got = flat.filter((_, i) => i % 2 === 0).map((m, i) => [b64(m), Number(text(flat[2 * i + 1]))]);
        expect(got).toEqual((f.value as [string, string][]).map(([m, s]) => [m, Number(s)]));
      }
    }
  });

  it("TTL: relative, ABSTTL, 0 for none; one already past creates nothing (and REPLACE's key is gone)", () => {
    const { master, clock } = enginePair();
    const run = runner(master);
    run("SET", "k", "v");
    const payload = fromBytes(run("DUMP", "k") as Uint8Array);
    run("RESTORE", "rel", 5000, payload);
    expect(run("PTTL", "rel")).toBe(5000);
    run("RESTORE", "abs", clock.now() + 7000, payload, "ABSTTL");
    expect(run("PTTL", "abs")).toBe(7000);
    run("RESTORE", "none", 0, payload);
    expect(run("PTTL", "none")).toBe(-1);
    expect(run("RESTORE", "past", clock.now() - 1, payload, "ABSTTL")).toBe("OK");
    expect(run("EXISTS", "past")).toBe(0);
    expect(run("RESTORE", "k", 1, payload, "ABSTTL", "REPLACE")).toBe("OK");
    expect(run("EXISTS", "k")).toBe(0);
  });

  it("Redis's checks, in its order, each changing nothing", () => {
    const { master } = enginePair();
    const run = runner(master);
    run("SET", "k", "v");
    const good = fromBytes(run("DUMP", "k") as Uint8Array);
    const bad = good.slice(0, -1) + String.fromCharCode(good.charCodeAt(good.length - 1) ^ 1);
    const err = (...argv: (string | number)[]) => {
      try {
        run(...argv);
        return "no error";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(err("RESTORE", "k", 0, good)).toBe("BUSYKEY Target key name already exists.");
    expect(err("RESTORE", "k", "x", good, "BOGUS")).toBe("ERR syntax error");
    expect(err("RESTORE", "k", "x", good)).toBe("BUSYKEY Target key name already exists.");
    expect(err("RESTORE", "new", "x", good)).toBe("ERR value is not an integer or out of range");
    expect(err("RESTORE", "new", -1, good)).toBe("ERR Invalid TTL value, must be >= 0");
    expect(err("RESTORE", "new", 0, bad)).toBe("ERR DUMP payload version or checksum are wrong");
    expect(err("RESTORE", "new", 0, "short")).toBe("ERR DUMP payload version or checksum are wrong");
    expect(err("RESTORE", "new", 0, good, "IDLETIME", -1)).toBe("ERR Invalid IDLETIME value, must be >= 0");
    expect(err("RESTORE", "new", 0, good, "FREQ", 256)).toBe("ERR Invalid FREQ value, must be >= 0 and <= 255");
    expect(err("RESTORE", "new", 0, good, "IDLETIME", 1, "FREQ", 1)).toBe("ERR syntax error");
    expect(err("RESTORE", "new", 0, good, "IDLETIME")).toBe("ERR syntax error");
    // A right checksum over a value that does not hold together (an empty set).
    const empty = String.fromCharCode(2, 0, 10, 0) + "\0".repeat(8);
    expect(err("RESTORE", "new", 0, fixCrc(empty))).toBe("ERR Bad data format");
    expect(run("EXISTS", "new")).toBe(0);
    expect(text(run("GET", "k"))).toBe("v");
    // Module data is not restored: said so.
    expect(err("RESTORE", "new", 0, fixCrc(String.fromCharCode(7, 0, 10, 0) + "\0".repeat(8)))).toMatch(/^ERR RESTORE of RDB type 7 \(module data\) is not supported by Flaredis/);
  });

  it("IDLETIME under an LRU policy and FREQ under an LFU one set OBJECT IDLETIME and FREQ", () => {
    const { master } = enginePair();
    const run = runner(master);
    run("SET", "k", "v");
    const payload = fromBytes(run("DUMP", "k") as Uint8Array);
    run("RESTORE", "idle", 0, payload, "IDLETIME", 1000);
    expect(run("OBJECT", "IDLETIME", "idle")).toBe(1000);
    run("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
    run("RESTORE", "hot", 0, payload, "FREQ", 200);
    expect(run("OBJECT", "FREQ", "hot")).toBe(200);
  });

  it("a stream with its groups, consumers and pending entries comes back the same; XREADGROUP goes on from it", () => {
    const { master } = enginePair();
    const run = runner(master);
    for (let i = 1; i <= 150; i++) run("XADD", "s", `${i}-1`, "n", String(i), ...(i % 10 === 0 ? ["extra", "x"] : []));
    run("XDEL", "s", "3-1");
    run("XGROUP", "CREATE", "s", "g", "0");
    run("XREADGROUP", "GROUP", "g", "alice", "COUNT", 5, "STREAMS", "s", ">");
    run("XREADGROUP", "GROUP", "g", "bob", "COUNT", 2, "STREAMS", "s", ">");
    run("XACK", "s", "g", "2-1");
    run("XGROUP", "CREATE", "s", "empty", "$");
    run("RESTORE", "copy", 0, fromBytes(run("DUMP", "s") as Uint8Array));
    const same = (...argv: (string | number)[]) => expect(texts(run(...argv.map((a) => (a === "$KEY" ? "copy" : a))))).toEqual(texts(run(...argv.map((a) => (a === "$KEY" ? "s" : a)))));
    same("XRANGE", "$KEY", "-", "+");
    same("XLEN", "$KEY");
    same("XPENDING", "$KEY", "g", "-", "+", 100);
    for (const key of ["s", "copy"]) run("XREADGROUP", "GROUP", "g", "carol", "COUNT", 3, "STREAMS", key, ">");
    same("XPENDING", "$KEY", "g");
    const info = (key: string) => (run("XINFO", "STREAM", key) as unknown[]).map(texts);
    expect(info("copy")).toEqual(info("s"));
  });

  it("a replica gets what RESTORE created, of every type, deadlines included", () => {
    const p = enginePair();
    const { master, replica } = p;
    fullSync(p, 1 << 20).finish();
    const run = runner(master);
    run("RPUSH", "l", "a", "b");
    run("SADD", "s", "x", "y");
    run("ZADD", "z", "1", "m");
    run("HSET", "h", "f", "v", "g", "w");
    run("HPEXPIRE", "h", 60_000, "FIELDS", 1, "g");
    run("SET", "str", "value");
    run("XADD", "x", "1-1", "f", "v");
    run("XGROUP", "CREATE", "x", "g", "0");
    run("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">");
    for (const key of ["l", "s", "z", "h", "str", "x"]) run("RESTORE", `${key}:r`, 30_000, fromBytes(run("DUMP", key) as Uint8Array));
    run("RESTORE", "l", 0, fromBytes(run("DUMP", "s") as Uint8Array), "REPLACE");
    catchUp(master, replica, 1 << 20);
    expect(digest(replica)).toEqual(digest(master));
  });
});

/** A payload body (type, value, version) with its CRC-64 footer put right. */
function fixCrc(withRoom: string): string {
  const body = Uint8Array.from(withRoom.slice(0, -8), (c) => c.charCodeAt(0));
  return fromBytes(body) + fromBytes(crcOf(body));
}

const crcOf = (b: Uint8Array) => crc64(b).bytes();
