// SORT and SORT_RO beyond the conformance cases (test/conformance/sort.ts, redis-server's replies):
// the bound on what one SORT sorts, BY nosort with LIMIT reading only its range, and SORT … STORE
// through a replica.
import { describe, expect, it } from "vitest";
import { MAX_SORT } from "../durable-objects/engine/commands/sort";
import { digest } from "../durable-objects/engine/sync";
import { catchUp, enginePair, fullSync, runner, soloEngine } from "./engine-pair";

const enc = (...s: string[]) => s.map((x) => new TextEncoder().encode(x));

describe("SORT", () => {
  it(`sorts at most ${MAX_SORT} elements; BY nosort with LIMIT is served on a longer list (its range read by rank)`, () => {
    const run = soloEngine();
    for (let i = 0; i <= MAX_SORT; i += 50_000) run("RPUSH", "l", ...Array.from({ length: Math.min(50_000, MAX_SORT + 1 - i) }, (_, j) => String(i + j)));
    expect(run("LLEN", "l")).toBe(MAX_SORT + 1);
    expect(() => run("SORT", "l")).toThrow(`ERR SORT of more than ${MAX_SORT} elements is not served by Flaredis`);
    expect(() => run("SORT", "l", "BY", "nosort")).toThrow(/^ERR SORT of more than/);
    expect(run("SORT", "l", "BY", "nosort", "LIMIT", 5, 3)).toEqual(enc("5", "6", "7"));
    expect(run("SORT", "l", "BY", "nosort", "DESC", "LIMIT", 0, 2)).toEqual(enc(String(MAX_SORT), String(MAX_SORT - 1)));
    expect(run("SORT_RO", "l", "BY", "nosort", "LIMIT", 99_999, 10, "GET", "#")).toEqual(enc("99999", "100000"));
  });

  it("SORT … STORE reaches a replica as the list it wrote; SORT_RO answers there as on the master", () => {
    const p = enginePair();
    fullSync(p, 1024).finish();
    const m = runner(p.master);
    m("RPUSH", "ids", "3", "1", "2");
    m("MSET", "w_1", "30", "w_2", "20", "w_3", "10");
    m("HSET", "u:1", "name", "ann");
    expect(m("SORT", "ids", "BY", "w_*", "GET", "#", "GET", "u:*->name", "STORE", "out")).toBe(6);
    catchUp(p.master, p.replica, 1 << 20);
    const r = runner(p.replica);
    expect(r("LRANGE", "out", 0, -1)).toEqual(enc("3", "", "2", "", "1", "ann"));
    expect(r("SORT_RO", "ids", "BY", "w_*", "DESC", "GET", "u:*->name")).toEqual([enc("ann")[0], null, null]);
    expect(digest(p.replica)).toBe(digest(p.master));
    expect(() => r("SORT", "ids")).toThrow(/^READONLY/);
  });
});
