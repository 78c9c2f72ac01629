// Bitmaps on a master and a replica engine (in-memory storage): each write is logged as the bytes
// it changed (a SETRANGE), never as the value, and the replica ends with the master's digest.
// Replies themselves are pinned against redis-server in test/conformance/bitmaps.ts and by the
// differential fuzzer (test/interop/fuzz/catalog-bitmaps.ts).
import { describe, expect, it } from "vitest";
import { digest } from "../../durable-objects/engine/replication/sync";
import { catchUp, enginePair, fullSync } from "../support/engine-pair";

function pair() {
  const p = enginePair();
  const { master, replica } = p;
  const run = (...argv: (string | number)[]) => {
    const out = master.run({ mode: "single", commands: [argv.map(String)], permission: "admin" }) as { outcomes: { result?: unknown; error?: string }[] };
    return out.outcomes[0]!;
  };
  /** The bytes the log grew by while `f` ran. */
  const logged = (f: () => void) => {
    const before = master.log.offset;
    f();
    return master.log.offset - before;
  };
  /** A full sync (the replica starts empty), then the log from there. */
  const sync = () => fullSync(p, 100).finish();
  return { master, replica, run, logged, sync, catchUp: () => catchUp(master, replica, 64 * 1024 * 1024) };
}

describe("bitmaps through replication", () => {
  it("logs a SETBIT on a 512 KiB string as one byte, and the replica ends equal", () => {
    const { master, replica, run, logged, sync, catchUp } = pair();
    expect(run("SETBIT", "big", 512 * 1024 * 8 - 1, 1).result).toBe(0);
    sync();
    expect(logged(() => expect(run("SETBIT", "big", 12345, 1).result).toBe(0))).toBeLessThan(100);
    expect(logged(() => expect(run("SETBIT", "big", 12345, 1).result).toBe(1))).toBe(0);
    expect(logged(() => expect(run("BITFIELD", "big", "SET", "u16", 800, 65535, "INCRBY", "i8", 4000, -5, "GET", "u8", 0).result).toEqual([0, -5, 0]))).toBeLessThan(600);
    expect(run("BITCOUNT", "big").result).toBe(1 + 1 + 16 + 7);
    // BITOP's result is logged whole (a SET), as it is a new value.
    expect(run("BITOP", "NOT", "inv", "big").result).toBe(512 * 1024);
    catchUp();
    expect(digest(replica)).toBe(digest(master));
    expect(replica.log.offset).toBe(master.log.offset);
  });

  it("makes room for a BITFIELD write that overflows under FAIL, on the replica too", () => {
    const { master, replica, run, logged, sync, catchUp } = pair();
    sync();
    expect(run("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", 16, 300).result).toEqual([null]);
    expect(run("STRLEN", "k").result).toBe(3);
    // A write that changes nothing logs nothing (the string is already raw).
    expect(logged(() => expect(run("BITFIELD", "k", "SET", "u8", 0, 0).result).toEqual([0]))).toBe(0);
    catchUp();
    expect(digest(replica)).toBe(digest(master));
    expect(replica.run({ mode: "single", commands: [["STRLEN", "k"]], permission: "admin" })).toMatchObject({ outcomes: [{ result: 3 }] });
  });

  it("writes a BITFIELD or SETBIT at 512 MB into the one page it touches, never the whole value", () => {
    const { run } = pair();
    // 4294967000 bits is a 512 MB string: stored in pages, so no byte array over 64 MiB is made
    // (one made meanwhile fails the test); past 512 MiB the write is refused and nothing changes.
    const Real = globalThis.Uint8Array;
    globalThis.Uint8Array = new Proxy(Real, {
      construct(target, args) {
        if (typeof args[0] === "number" && args[0] > 64 * 2 ** 20) throw new Error(`allocated ${args[0]} bytes`);
        return Reflect.construct(target, args);
      },
    });
    try {
      expect(run("SETRANGE", "k", 512 * 1024 * 1024, "x").error).toMatch(/^ERR string exceeds maximum allowed size/);
      expect(run("EXISTS", "k").result).toBe(0);
      expect(run("BITFIELD", "k", "SET", "u8", 4294967000, 1).result).toEqual([0]);
      expect(run("SETBIT", "k", 4294967295, 1).result).toBe(0);
      expect(run("BITFIELD_RO", "k", "GET", "u8", 4294967000).result).toEqual([1]);
      expect(run("BITCOUNT", "k").result).toBe(2);
    } finally {
      globalThis.Uint8Array = Real;
    }
    expect(run("STRLEN", "k").result).toBe(512 * 1024 * 1024);
  });
});
