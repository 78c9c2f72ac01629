// HyperLogLog values byte for byte as redis-server 7.0.15 writes them (MurmurHash64A, registers,
// sparse opcodes and their merges, the dense packing): the fixtures below are its GET replies for
// the same adds, or their SHA-256, and its PFCOUNT for them; and HLLs through a replica. The
// differential fuzzer (test/interop/fuzz/catalog-hll.ts) compares the rest against redis-server.
import { describe, expect, it } from "vitest";
import { digest } from "../../durable-objects/engine/replication/sync";
import { catchUp, enginePair, fullSync, runner, soloEngine } from "../support/engine-pair";

/** redis-server 7.0.15, after FLUSHALL (see each test for the adds). */
const REDIS = {
  sparse: "SFlMTAEAAAAAAAAAAAAAgDaEPIBAqaQOiECQhEBsnASIQOKAQTWIQNOAQR2IQImAQRaMQZCACYBA4IBAlIBBV4RAooBAg4RAXYRA4YRBmYRAgYA8hEBHhAeAQE6AQI+ECYRAUYQmhEElhEDTgEJjgECigEBLjEBvgEILjEF5gEFHgEFjgEBmhED5jAGEIYgRgEGChEBigDCIQHmEIoBA3oRA04hARYAKiEIAkBGEQMGEAYBBE4RAhIwWhCKAQKiEQOGAQiqEQQOEFoBBF4RBZYxBToAmgAWAQFmAQOyILohBPIgDgEBbhBuAP4BAm4AhhEEuiECPkEB+gECEgEFfgDOEQHmEQZOEQFiQLoBAaoQNgDmAE4BAmogogECM",
  one: "SFlMTAEAAAAAAAAAAAAAgHGmhE5X",
  dense: "fcf4cccaaeea5f93db22b38218ed82e4d5c05c3234c60376f84c46c1af999e2b",
  merged: "f9a92b56538c927bceea2244c7dacceb07f7d4020da631909e58a0dce60052e5",
  big: "a5442d9d2758e1cc1d5b5e25b2f23877b50f7d9f9c05af91344eb34799f41d5a",
};

const range = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

const engine = soloEngine;

const base64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
async function sha256(b: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", b))].map((x) => x.toString(16).padStart(2, "0")).join("");
}
/** `v` with Redis's cached cardinality `n` written in its header (as its PFCOUNT leaves it). */
function withCache(v: Uint8Array, n: number): Uint8Array {
  const out = v.slice();
  new DataView(out.buffer).setBigUint64(8, BigInt(n), true);
  return out;
}

describe("HyperLogLog as redis-server writes it", () => {
  it("a sparse HLL: the same bytes and count", () => {
    const run = engine();
    expect(run("PFADD", "one", "a")).toBe(1);
    expect(base64(run("GET", "one") as Uint8Array)).toBe(REDIS.one);
    expect(run("PFADD", "sparse", ...range("e", 0, 100))).toBe(1);
    expect(run("PFADD", "sparse", ...range("e", 0, 100))).toBe(0);
    expect(base64(run("GET", "sparse") as Uint8Array)).toBe(REDIS.sparse);
    expect(run("PFCOUNT", "sparse")).toBe(100);
  });

  it("dense HLLs, PFMERGE and a union count: the same bytes and counts", async () => {
    const run = engine();
    run("PFADD", "sparse", ...range("e", 0, 100));
    run("PFADD", "dense", ...range("x", 0, 5000));
    expect(run("STRLEN", "dense")).toBe(12304);
    expect(await sha256(run("GET", "dense") as Uint8Array)).toBe(REDIS.dense);
    expect(run("PFCOUNT", "dense")).toBe(4970);
    // Two adds (a request takes at most 100,000 arguments); a dense value does not depend on their order.
    run("PFADD", "big", ...range("y", 0, 50_000));
    run("PFADD", "big", ...range("y", 50_000, 100_000));
    expect(run("PFCOUNT", "big")).toBe(100651);
    expect(await sha256(withCache(run("GET", "big") as Uint8Array, 100651))).toBe(REDIS.big);
    expect(run("PFMERGE", "m", "sparse", "dense")).toBe("OK");
    expect(await sha256(run("GET", "m") as Uint8Array)).toBe(REDIS.merged);
    expect(run("PFCOUNT", "m")).toBe(5070);
    expect(run("PFCOUNT", "sparse", "dense", "big", "missing")).toBe(105878);
  });

  it("refuses values that are not HLLs, with Redis's errors", () => {
    const run = engine();
    run("SET", "s", "hello");
    run("LPUSH", "l", "a");
    expect(() => run("PFADD", "s", "a")).toThrow("WRONGTYPE Key is not a valid HyperLogLog string value.");
    expect(() => run("PFCOUNT", "s")).toThrow("WRONGTYPE Key is not a valid HyperLogLog string value.");
    expect(() => run("PFADD", "l", "a")).toThrow("WRONGTYPE Operation against a key holding the wrong kind of value");
    expect(() => run("PFMERGE", "d", "l")).toThrow("WRONGTYPE Operation against a key holding the wrong kind of value");
    // A sparse value whose runs do not cover the 16,384 registers is corrupted.
    run("PFADD", "h", "a");
    run("APPEND", "h", "\u0001");
    expect(() => run("PFCOUNT", "h")).toThrow("INVALIDOBJ Corrupted HLL object detected");
    // A run past the last register after runs that cover them all is corrupted too, for a merge as
    // for a count (redis-server since CVE-2025-32023: break became an error).
    run("PFADD", "v", "a");
    run("APPEND", "v", "é");
    expect(() => run("PFCOUNT", "v", "v")).toThrow("INVALIDOBJ Corrupted HLL object detected");
    expect(() => run("PFMERGE", "w", "v")).toThrow("INVALIDOBJ Corrupted HLL object detected");
    expect(run("PFCOUNT", "missing")).toBe(0);
    expect(run("PFADD", "new")).toBe(1);
    expect(run("PFADD", "new")).toBe(0);
    expect(run("PFCOUNT", "new")).toBe(0);
  });

  it("keeps what a PFADD added before a corrupted value stopped it, as redis-server does", () => {
    const run = engine();
    run("PFADD", "k0", "e59", "x389419", "e44", "e19");
    run("SETRANGE", "k0", "18", "3.5"); // ZERO opcodes past the last register
    expect(() => run("PFADD", "k0", "e6", "e42", "e9", "e56", "x666914")).toThrow("INVALIDOBJ Corrupted HLL object detected");
    // e6 and e42 were added; e9 found the corruption (the fuzzer's seed 32, replies of redis-server 7.0.15).
    expect(base64(run("GET", "k0") as Uint8Array)).toBe("SFlMTAEAAAAAAAAAAAAAgEIvMy41gFlWgEHFhEJIjFS0hEcP");
  });

  it("reaches a replica: sparse, promoted to dense and merged, the replica's digest is the master's", () => {
    const pair = enginePair();
    const { master, replica } = pair;
    const run = runner(master);
    fullSync(pair, 100).finish();
    for (let i = 0; i < 40; i++) run("PFADD", "h", ...range(`r${i}-`, 0, 20));
    run("PFADD", "d", ...range("x", 0, 5000));
    run("PFMERGE", "m", "h", "d");
    run("PFMERGE", "h2", "h");
    run("PFADD", "h2", "one more");
    catchUp(master, replica, 64 * 1024 * 1024);
    expect(digest(replica)).toBe(digest(master));
  });

  it("PFCOUNT of one key stores its count as redis-server's does, and replicates it; a replica writes nothing and asks for the master", () => {
    const pair = enginePair();
    fullSync(pair, 100).finish();
    const run = runner(pair.master);
    run("PFADD", "sparse", ...range("e", 0, 100));
    run("PFADD", "other", "x");
    catchUp(pair.master, pair.replica, 64 * 1024 * 1024);
    const read = (...argv: string[]) => pair.replica.run({ mode: "single", commands: [argv], permission: "readonly" });
    // The replica answers, writes nothing, and says a master would have written.
    expect(read("PFCOUNT", "sparse")).toEqual({ outcomes: [{ result: 100 }], offset: pair.replica.log.offset, forMaster: true });
    expect(base64(runner(pair.replica)("GET", "sparse") as Uint8Array)).toBe(REDIS.sparse);
    expect(read("PFCOUNT", "sparse", "other")).not.toHaveProperty("forMaster"); // of several keys: nothing stored, as in Redis
    // The master stores the count: redis-server's bytes after its PFCOUNT (the fixture, with its count).
    expect(run("PFCOUNT", "sparse")).toBe(100);
    const counted = base64(withCache(Uint8Array.from(atob(REDIS.sparse), (c) => c.charCodeAt(0)), 100));
    expect(base64(run("GET", "sparse") as Uint8Array)).toBe(counted);
    const offset = pair.master.log.offset;
    expect(run("PFCOUNT", "sparse")).toBe(100); // fresh: read from the header, nothing written
    expect(pair.master.log.offset).toBe(offset);
    catchUp(pair.master, pair.replica, 64 * 1024 * 1024);
    expect(base64(runner(pair.replica)("GET", "sparse") as Uint8Array)).toBe(counted);
    expect(read("PFCOUNT", "sparse")).not.toHaveProperty("forMaster");
    // A PFADD that grows a register makes the count stale again; one that does not leaves it.
    run("PFADD", "sparse", "e1");
    expect(base64(run("GET", "sparse") as Uint8Array)).toBe(counted);
    run("PFADD", "sparse", "new element");
    expect((run("GET", "sparse") as Uint8Array)[15]! & 0x80).toBe(0x80);
    expect(digest(pair.replica)).not.toBe(digest(pair.master));
    catchUp(pair.master, pair.replica, 64 * 1024 * 1024);
    expect(digest(pair.replica)).toBe(digest(pair.master));
  });

  it("PFDEBUG and PFSELFTEST answer as redis-server's (7.0.15's replies), and TODENSE reaches a replica", () => {
    const pair = enginePair();
    fullSync(pair, 100).finish();
    const run = runner(pair.master);
    expect(run("PFADD", "h", "a", "b", "c", "hello", "world")).toBe(1);
    expect(run("PFDEBUG", "ENCODING", "h")).toBe("sparse");
    expect(new TextDecoder().decode(run("PFDEBUG", "DECODE", "h") as Uint8Array)).toBe("Z:2742 v:3,1 Z:5693 v:1,1 Z:779 v:1,1 Z:3494 v:2,1 Z:3068 v:1,1 Z:603");
    expect(run("PFDEBUG", "todense", "h")).toBe(1);
    expect(run("PFDEBUG", "ENCODING", "h")).toBe("dense");
    expect(run("PFDEBUG", "TODENSE", "h")).toBe(0);
    expect(() => run("PFDEBUG", "DECODE", "h")).toThrow("ERR HLL encoding is not sparse");
    expect(run("PFCOUNT", "h")).toBe(5);
    expect(run("STRLEN", "h")).toBe(12304);
    expect(() => run("PFDEBUG", "ENCODING", "missing")).toThrow("ERR The specified key does not exist");
    expect(() => run("PFDEBUG", "NOPE", "missing")).toThrow("ERR The specified key does not exist");
    expect(() => run("PFDEBUG", "NOPE", "h")).toThrow("ERR Unknown PFDEBUG subcommand 'NOPE'");
    run("SET", "s", "not an hll");
    expect(() => run("PFDEBUG", "ENCODING", "s")).toThrow("WRONGTYPE Key is not a valid HyperLogLog string value.");
    run("LPUSH", "l", "x");
    expect(() => run("PFDEBUG", "ENCODING", "l")).toThrow("WRONGTYPE Operation against a key holding the wrong kind of value");
    expect(() => run("PFDEBUG", "ENCODING")).toThrow("ERR wrong number of arguments for 'pfdebug' command");
    expect(run("PFSELFTEST")).toBe("OK");
    expect(() => run("PFSELFTEST", "x")).toThrow("ERR wrong number of arguments for 'pfselftest' command");
    // GETREG turns a sparse value dense too: its non-zero registers are redis-server's.
    run("PFADD", "g", "a", "b", "c", "hello", "world");
    const registers = run("PFDEBUG", "GETREG", "g") as number[];
    expect(registers.length).toBe(16384);
    expect(Object.fromEntries(registers.flatMap((v, i) => (v === 0 ? [] : [[i, v]])))).toEqual({ 2742: 3, 8436: 1, 9216: 1, 12711: 2, 15780: 1 });
    expect(run("PFDEBUG", "ENCODING", "g")).toBe("dense");
    catchUp(pair.master, pair.replica, 64 * 1024 * 1024);
    expect(runner(pair.replica)("STRLEN", "g")).toBe(12304); // dense there too (PFDEBUG is a write: READONLY on a replica)
    expect(digest(pair.replica)).toBe(digest(pair.master));
  });
});
