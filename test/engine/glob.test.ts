// Glob matching (KEYS, SCAN MATCH): Redis's syntax over a key's bytes (text as its UTF-8), in steps bounded by
// pattern length x key length whatever the pattern (issue 13, defect 5), and KEYS's reply bound.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromBytes, fromText, type Bytes } from "../../durable-objects/engine/bytes";
import { compileGlob } from "../../durable-objects/engine/glob";
import { REQUEST_LIMITS } from "../../durable-objects/engine/limits";
import { newEngine, run } from "../support/fixtures";
import { redis } from "../support/helpers";

const encoder = new TextEncoder();
const a = (n: number) => "a".repeat(n);

/** The patterns of the issue (25 s and 5-24 s with the RegExp), and others that backtrack. */
const hostile: readonly (readonly [pattern: string, keys: readonly string[]])[] = [
  ["*a*a*a*a*a*a*a*a*a*a*a*ab", [a(40)]],
  ["*a*a*a*a*b", [200, 220, 240, 260].map(a)],
  [`*${a(30)}b`, [a(300)]],
  [`*${a(10)}b*${a(10)}b*c`, [`${a(10)}b`.repeat(30)]],
  ["*?*?*?*?*?*?*?*?*?*?b", [a(200)]],
  ["*[a-z]*[^b]*[ab]*?*\\a*c", [a(250)]],
];

/**
 * Redis's stringmatchlen, read straight off the pattern and memoised on (pattern position, key
 * position), as an independent reference for the compiled matcher.
 */
function reference(pattern: Bytes, key: Bytes): boolean {
  const memo = new Map<number, boolean>();
  const at = (i: number, j: number): boolean => {
    const id = i * (key.length + 1) + j;
    let r = memo.get(id);
    if (r === undefined) memo.set(id, (r = step(i, j)));
    return r;
  };
  const step = (i: number, j: number): boolean => {
    if (i === pattern.length) return j === key.length;
    const c = String.fromCharCode(pattern[i]!);
    if (c === "*") return at(i + 1, j) || (j < key.length && at(i, j + 1));
    if (j === key.length) return false;
    const b = key[j]!;
    if (c === "?") return at(i + 1, j + 1);
    if (c === "\\" && i + 1 < pattern.length) return pattern[i + 1] === b && at(i + 2, j + 1);
    if (c !== "[") return pattern[i] === b && at(i + 1, j + 1);
    let k = i + 1;
    const negated = pattern[k] === 0x5e;
    if (negated) k++;
    let hit = false;
    for (;;) {
      if (k === pattern.length) break; // unclosed: the class ends with the pattern
      if (pattern[k] === 0x5c && k + 1 < pattern.length) {
        hit ||= pattern[k + 1] === b;
        k += 2;
      } else if (pattern[k] === 0x5d) {
        k++;
        break;
      } else if (pattern.length - k >= 3 && pattern[k + 1] === 0x2d) {
        const [lo, hi] = [pattern[k]!, pattern[k + 2]!].sort((x, y) => x - y);
        hit ||= lo! <= b && b <= hi!;
        k += 3;
      } else {
        hit ||= pattern[k] === b;
        k++;
      }
    }
    return hit !== negated && at(k, j + 1);
  };
  return at(0, 0);
}

describe("glob matcher", () => {
  it("takes steps bounded by pattern length x key length on backtracking patterns", () => {
    for (const [pattern, keys] of hostile) {
      const glob = compileGlob(pattern);
      for (const key of keys) {
        for (const k of [key, `${key}b`, `${key}c`]) {
          const expected = reference(encoder.encode(pattern), encoder.encode(k));
          expect(glob.test(k), `${pattern} on ${k.length} bytes`).toBe(expected);
          expect(glob.steps, `${pattern} on ${k.length} bytes`).toBeLessThanOrEqual(2 * (pattern.length + 1) * (k.length + 1));
        }
      }
    }
  });

  it("agrees with a reference matcher on random patterns and keys", () => {
    const patternChar = fc.constantFrom("*", "?", "[", "]", "^", "-", "\\", "a", "b", "c", "é");
    const keyChar = fc.constantFrom("a", "b", "c", "-", "]", "^", "\\", "[", "*", "é");
    const text = (char: fc.Arbitrary<string>, maxLength: number) => fc.array(char, { maxLength }).map((cs) => cs.join(""));
    fc.assert(
      fc.property(text(patternChar, 10), fc.array(text(keyChar, 8), { minLength: 1, maxLength: 5 }), (pattern, keys) => {
        const glob = compileGlob(fromText(pattern));
        for (const key of keys) {
          const k = encoder.encode(key);
          expect(glob.test(fromText(key)), JSON.stringify([pattern, key])).toBe(reference(encoder.encode(pattern), k));
          expect(glob.steps).toBeLessThanOrEqual(2 * (encoder.encode(pattern).length + 1) * (k.length + 1));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("follows Redis on classes, escapes and bytes", () => {
    const cases: [pattern: string, key: string, matches: boolean][] = [
      ["user:[12]*", "user:10", true],
      ["user:[^1]", "user:2", true],
      ["user:[^1]", "user:1", false],
      ["h\\[x\\]", "h[x]", true],
      ["[z-a]", "m", true], // reversed range
      ["[a-]", "_", true], // "a-]" is the range ]..a, and the class is left unclosed
      ["[abc", "b", true], // unclosed: the class runs to the end of the pattern
      ["[abc", "[abc", false],
      ["[^", "x", true],
      ["[]", "", false],
      ["[^]", "]", true],
      ["[\\]]", "]", true],
      ["\\", "\\", true],
      ["a\\*", "a*", true],
      ["a\\*", "ab", false],
      ["?", "é", false], // a byte, not a character
      ["??", "é", true],
      ["[é]", "é", false],
      ["*", "", true],
      ["**", "", true],
      ["", "", true],
      ["", "a", false],
      ["ключ*", "ключ 🔑", true],
    ];
    for (const [pattern, key, matches] of cases) expect(compileGlob(fromText(pattern)).test(fromText(key)), `${pattern} on ${key}`).toBe(matches);
  });
});

const strings = (reply: unknown) => (reply as Bytes[]).map(fromBytes).sort();

describe("KEYS and SCAN on an engine", () => {
  it("answer hostile patterns at once", () => {
    const engine = newEngine();
    const keys = [a(40), `${a(40)}b`, ...[200, 220, 240, 260].map(a), `${a(260)}b`];
    for (const k of keys) run(engine, "SET", k, "1");
    for (const [pattern] of hostile.slice(0, 2)) {
      const expected = keys.filter((k) => reference(encoder.encode(pattern), encoder.encode(k))).sort();
      expect(expected.length).toBeGreaterThan(0);
      expect(strings((run(engine, "KEYS", pattern) as { result: unknown }).result)).toEqual(expected);
      const scan = run(engine, "SCAN", "0", "MATCH", pattern, "COUNT", "100") as { result: [Bytes, Bytes[]] };
      expect(fromBytes(scan.result[0])).toBe("0");
      expect(strings(scan.result[1])).toEqual(expected);
    }
  });

  it("KEYS stops with an error past its reply bound, and changes nothing", () => {
    const engine = newEngine();
    const size = 32_000;
    const count = Math.ceil(REQUEST_LIMITS.maxKeysReplyBytes / size) + 1;
    for (let i = 0; i < count; i++) run(engine, "SET", `${String(i).padStart(4, "0")}${a(size - 4)}`, "1");
    run(engine, "SET", "small", "1");
    expect(run(engine, "KEYS", "*")).toEqual({
      error: `ERR KEYS reply exceeds ${REQUEST_LIMITS.maxKeysReplyBytes} bytes; use SCAN`,
    });
    expect(strings((run(engine, "KEYS", "s*") as { result: unknown }).result)).toEqual(["small"]);
    expect(strings((run(engine, "KEYS", "000[0-9]*") as { result: unknown }).result)).toHaveLength(10);
    expect(run(engine, "DBSIZE")).toEqual({ result: count + 1 });
  });
});

describe("KEYS and SCAN over HTTP", () => {
  it("answer hostile patterns correctly", async () => {
    const prefix = `glob13:${crypto.randomUUID()}:`;
    const keys = [a(40), `${a(40)}b`, ...[200, 220, 240, 260].map(a), `${a(260)}b`].map((k) => prefix + k);
    for (const k of keys) await redis("SET", k, "1");
    try {
      for (const [pattern] of hostile.slice(0, 2)) {
        const full = prefix + pattern;
        const expected = keys.filter((k) => reference(encoder.encode(full), encoder.encode(k))).sort();
        expect(expected.length).toBeGreaterThan(0);
        expect(((await redis("KEYS", full)) as string[]).sort()).toEqual(expected);
        const found: string[] = [];
        let cursor = "0";
        do {
          const [next, page] = (await redis("SCAN", cursor, "MATCH", full, "COUNT", 1000)) as [string, string[]];
          found.push(...page);
          cursor = next;
        } while (cursor !== "0");
        expect(found.sort()).toEqual(expected);
      }
    } finally {
      await redis("DEL", ...keys);
    }
  });
});
