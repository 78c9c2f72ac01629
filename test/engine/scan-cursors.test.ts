// HSCAN, SSCAN and ZSCAN page through collections whose fields are long: their cursors name the
// last field returned and pass 64 bits, and they take them back (a regression of 9a67014, where
// cursors past 64 bits were refused as Redis refuses them: every page after the first failed
// with "ERR invalid cursor" once a field had 8 bytes or more). Any other integer past 64 bits
// stays invalid, as in Redis.
import { describe, expect, it } from "vitest";
import { fromBytes } from "../../durable-objects/engine/bytes";
import { soloEngine } from "../support/engine-pair";

const engine = soloEngine;

const text = (r: unknown): unknown => (r instanceof Uint8Array ? fromBytes(r) : Array.isArray(r) ? r.map(text) : r);

describe("element cursors", () => {
  const names = Array.from({ length: 100 }, (_, i) => `field:${String(i).padStart(4, "0")}:é-long-name`);

  for (const [scan, fill, step] of [
    ["HSCAN", (run: ReturnType<typeof engine>) => run("HSET", "c", ...names.flatMap((n) => [n, "v"])), 2],
    ["SSCAN", (run: ReturnType<typeof engine>) => run("SADD", "c", ...names), 1],
    ["ZSCAN", (run: ReturnType<typeof engine>) => run("ZADD", "c", ...names.flatMap((n, i) => [String(i), n])), 2],
  ] as const) {
    it(`${scan} pages to the end through cursors past 64 bits, each element once`, () => {
      const run = engine();
      fill(run);
      const seen: string[] = [];
      let cursor = "0";
      let pages = 0;
      do {
        const [next, items] = text(run(scan, "c", cursor, "COUNT", "7")) as [string, string[]];
        for (let i = 0; i < items.length; i += step) seen.push(items[i]!);
        cursor = next;
        pages++;
        if (cursor !== "0") expect(BigInt(cursor) > 2n ** 64n).toBe(true);
      } while (cursor !== "0" && pages < 100);
      expect(seen.sort()).toEqual([...names].sort());
      expect(pages).toBe(Math.ceil(names.length / 7));
    });
  }

  it("refuses an integer past 64 bits that is not one of its cursors", () => {
    const run = engine();
    run("HSET", "h", "aaaaaaaaaaaa", "1", "bbbbbbbbbbbb", "2");
    const [cursor] = text(run("HSCAN", "h", "0", "COUNT", "1")) as [string];
    expect(() => run("HSCAN", "h", (BigInt(cursor) + 1n).toString())).toThrow("ERR invalid cursor");
    expect(() => run("HSCAN", "h", "18446744073709551616")).toThrow("ERR invalid cursor");
    expect(() => run("HSCAN", "h", `-${cursor}`)).toThrow("ERR invalid cursor");
    expect(text(run("HSCAN", "h", cursor))).toEqual(["0", ["bbbbbbbbbbbb", "2"]]);
    // Checked as Redis parses a cursor: before the key is looked up.
    run("LPUSH", "l", "x");
    for (const k of ["missing", "l"]) for (const scan of ["HSCAN", "SSCAN", "ZSCAN"]) expect(() => run(scan, k, "18446744073709551616")).toThrow("ERR invalid cursor");
  });
});
