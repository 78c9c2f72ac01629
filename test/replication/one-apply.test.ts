/**
 * A master makes every change by applying its effects, as its replicas apply them (Change.apply):
 * after any commands, what the master stores is what a replica built from the stream, row for
 * row (each key's record and each element, offsets aside), and OBJECT ENCODING answers alike.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Engine } from "../../durable-objects/engine/engine";
import { eachKey } from "../../durable-objects/engine/storage";
import { catchUp, enginePair, fullSync, runner } from "../support/engine-pair";

const keys = ["a", "b", "{t}c", "d\u00ff"];
const word = fc.constantFrom("x", "y", "", "\u00ff", "10", "-0", "3.5");
const key = fc.constantFrom(...keys);
const small = fc.integer({ min: -3, max: 6 }).map(String);

/** One command of any type, on a few keys shared by every type (so WRONGTYPE and overwrites happen). */
const command: fc.Arbitrary<string[]> = fc.oneof(
  fc.tuple(fc.constantFrom("SET", "APPEND", "GETSET", "SETNX"), key, word).map((c) => [...c]),
  fc.tuple(key, small, word).map(([k, o, v]) => ["SETRANGE", k, String(Math.abs(Number(o))), v]),
  fc.tuple(fc.constantFrom("INCR", "DECR", "DEL", "PERSIST", "GETDEL"), key).map((c) => [...c]),
  fc.tuple(key, small).map(([k, n]) => ["INCRBYFLOAT", k, `${n}.5`]),
  fc.tuple(key, fc.integer({ min: 1, max: 100_000 })).map(([k, ms]) => ["PEXPIRE", k, String(ms)]),
  fc.tuple(key, key).map(([a, b]) => ["RENAME", a, b]),
  fc.tuple(key, key).map(([a, b]) => ["COPY", a, b, "REPLACE"]),
  fc.tuple(key, fc.array(fc.tuple(word, word), { minLength: 1, maxLength: 3 })).map(([k, p]) => ["HSET", k, ...p.flat()]),
  fc.tuple(key, word, small).map(([k, f, n]) => ["HINCRBY", k, f, n]),
  fc.tuple(key, fc.array(word, { minLength: 1, maxLength: 3 })).map(([k, f]) => ["HDEL", k, ...f]),
  fc.tuple(key, fc.constantFrom("NX", "XX", "GT", "LT"), fc.array(word, { minLength: 1, maxLength: 3 })).map(([k, c, f]) => ["HPEXPIRE", k, "50000", c, "FIELDS", String(f.length), ...f]),
  fc.tuple(key, fc.array(word, { minLength: 1, maxLength: 2 })).map(([k, f]) => ["HPERSIST", k, "FIELDS", String(f.length), ...f]),
  fc.tuple(fc.constantFrom("SADD", "SREM"), key, fc.array(word, { minLength: 1, maxLength: 4 })).map(([c, k, m]) => [c, k, ...m]),
  fc.tuple(key, key).map(([a, b]) => ["SMOVE", a, b, "x"]),
  fc.tuple(key, fc.constantFrom<string[]>([], ["INCR"], ["NX"], ["GT"]), fc.array(fc.tuple(small, word), { minLength: 1, maxLength: 3 })).map(([k, o, p]) => ["ZADD", k, ...o, ...(o.includes("INCR") ? p.slice(0, 1) : p).flat()]),
  fc.tuple(key, fc.array(word, { minLength: 1, maxLength: 3 })).map(([k, m]) => ["ZREM", k, ...m]),
  fc.tuple(key, small, small).map(([k, a, b]) => ["ZREMRANGEBYRANK", k, a, b]),
  fc.tuple(fc.constantFrom("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"), key, key, key).map(([c, d, x, y]) => (c === "ZDIFFSTORE" ? [c, d, "2", x, y] : [c, d, "2", x, y, "WEIGHTS", "-1", "2"])),
  fc.tuple(fc.constantFrom("SUNIONSTORE", "SINTERSTORE", "SDIFFSTORE"), key, key, key).map((c) => [...c]),
  fc.tuple(fc.constantFrom("LPUSH", "RPUSH"), key, fc.array(word, { minLength: 1, maxLength: 4 })).map(([c, k, v]) => [c, k, ...v]),
  fc.tuple(fc.constantFrom("LPOP", "RPOP"), key, fc.integer({ min: 1, max: 3 })).map(([c, k, n]) => [c, k, String(n)]),
  fc.tuple(key, small, small).map(([k, a, b]) => ["LTRIM", k, a, b]),
  fc.tuple(key, small, word).map(([k, n, v]) => ["LREM", k, n, v]),
  fc.tuple(key, fc.constantFrom("BEFORE", "AFTER"), word, word).map(([k, w, p, v]) => ["LINSERT", k, w, p, v]),
  fc.tuple(key, small, word).map(([k, i, v]) => ["LSET", k, i, v]),
  fc.tuple(key, key).map(([a, b]) => ["LMOVE", a, b, "LEFT", "RIGHT"]),
  fc.tuple(key, word, word).map(([k, f, v]) => ["XADD", k, "MAXLEN", "3", "*", f || "f", v]),
  fc.tuple(key).map(([k]) => ["XGROUP", "CREATE", k, "g", "0", "MKSTREAM"]),
  fc.tuple(key).map(([k]) => ["XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", k, ">"]),
  fc.tuple(key, small).map(([k, n]) => ["XTRIM", k, "MAXLEN", String(Math.abs(Number(n)))]),
  fc.tuple(key, word, word).map(([k, e, v]) => ["PFADD", k, e, v]),
  fc.tuple(key, small).map(([k, n]) => ["SETBIT", k, String(Math.abs(Number(n)) * 9), "1"]),
);

/** Every stored key's record and elements, offsets aside, in storage order. */
function rows(engine: Engine): unknown[] {
  const out: unknown[] = [];
  for (const { key, entry } of eachKey(engine.storage.keys, 256, true)) {
    const { mod: _, ...record } = entry;
    const elements: unknown[] = [];
    if (entry.eid !== undefined) {
      delete (record as { eid?: number }).eid;
      // The bound of a hash's field deadlines is the master's own (kept exact by its sweep).
      delete (record as { fieldsExpireAt?: number }).fieldsExpireAt;
      for (let after: string | null = null; ; ) {
        const page = engine.storage.elements.page(entry.eid, after, 256);
        for (const { mod: __, ...el } of page) elements.push(el);
        if (page.length < 256) break;
        after = page[page.length - 1]!.field;
      }
    }
    out.push({ key, record, elements, encoding: runner(engine)("OBJECT", "ENCODING", key) });
  }
  return out;
}

describe("one apply on master and replica", () => {
  for (const syncing of [false, true])
    it(`a master stores what its effects build on a replica, row for row${syncing ? " (a full sync in progress: RENAME, COPY and *STORE written whole)" : ""}`, () => {
      fc.assert(
        fc.property(fc.array(fc.oneof({ weight: 5, arbitrary: command.map((c) => [c]) }, { weight: 1, arbitrary: fc.array(command, { minLength: 1, maxLength: 4 }) }), { minLength: 1, maxLength: 80, size: "max" }), (program) => {
          const p = enginePair();
          fullSync(p, 4096).finish();
          p.syncing.now = syncing;
          for (const step of program)
            if (step.length === 1) p.master.run({ mode: "single", commands: step, permission: "admin" });
            else p.master.run({ mode: "multi", commands: step, permission: "admin" });
          catchUp(p.master, p.replica, 512);
          expect(rows(p.replica)).toEqual(rows(p.master));
        }),
        { numRuns: 150 },
      );
    });
});
