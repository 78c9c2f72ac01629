// Property tests (fast-check): the RESP codec, number parsing and formatting, glob matching, an
// expiry model check of the engine, and random request bodies against the HTTP API.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { parseInt64 } from "../../durable-objects/engine/args";
import { formatLongDouble, longDoubleOf, parseLongDouble } from "../../durable-objects/engine/long-double";
import { fromBytes, fromText, toBytes, toText } from "../../durable-objects/engine/bytes";
import { decodeEffect } from "../../durable-objects/engine/replication/effects";
import { ManualClock } from "../../durable-objects/engine/clock";
import { compileGlob } from "../../durable-objects/engine/glob";
import { decodeCommand, encodeCommand } from "../../durable-objects/engine/replication/resp";
import { newEngine, run } from "../support/fixtures";
import { call, redis } from "../support/helpers";

/** A binary string (engine/bytes.ts): any bytes, each a code unit. */
const binaryString = (maxLength: number) => fc.uint8Array({ maxLength }).map((b) => String.fromCharCode(...b));

describe("codecs and parsing", () => {
  it("RESP frames decode to what was encoded", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 8 }), (args) => {
        expect(decodeCommand(encodeCommand(args))).toEqual(args);
      }),
    );
  });

  it("RESP frames of binary strings hold their bytes, every byte value, lengths of any digit count", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(binaryString(40), binaryString(1200), fc.uint8Array({ maxLength: 120 }), fc.constantFrom("\xff\x00\x80", "\xc3\xa9")), {
          minLength: 1,
          maxLength: 12,
        }),
        (args) => {
          expect(decodeCommand(encodeCommand(args))).toEqual(args.map((a) => (typeof a === "string" ? Uint8Array.from(a, (c) => c.charCodeAt(0)) : a)));
        },
      ),
    );
  });

  it("bytes and binary strings convert both ways, on every path (short, ASCII, UTF-8, any bytes); text through its UTF-8", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }).map((b) => b.map((x) => x & 0x7f))), (bytes) => {
        const s = fromBytes(bytes);
        expect(s.length).toBe(bytes.length);
        for (let i = 0; i < s.length; i++) expect(s.charCodeAt(i)).toBe(bytes[i]);
        expect(toBytes(s)).toEqual(bytes);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (text) => {
        const bin = fromText(text);
        expect(toBytes(bin)).toEqual(new TextEncoder().encode(text));
        expect(toText(bin)).toBe(text);
      }),
    );
    expect(() => toBytes("é€")).toThrow(/binary string holds U\+20AC/);
    expect(toText("\xff\xc3\xa9")).toBe("\ufffdé");
  });

  it("a FLUSHALL effect is known in any case and nothing else is taken for one", () => {
    const name = (s: string) => {
      try {
        const d = decodeEffect(encodeCommand([s, "k"]));
        return d.kind === "global" ? d.effect.name : d.kind === "key" ? d.effect.name : d.kind;
      } catch {
        return "unknown";
      }
    };
    for (const yes of ["FLUSHALL", "flushall", "FlushAll"]) expect(name(yes), yes).toBe("FLUSHALL");
    for (const no of ["FLUSHAL", "FLUSHALLL", "FLUSHALX", "FLUSHDB", "F\u00ccUSHALL", "", "fLUSHALL\u0000"]) expect(name(no), no).not.toBe("FLUSHALL");
  });

  it("RESP decoding rejects truncated frames", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 }), fc.nat(), (args, cut) => {
        const frame = encodeCommand(args);
        const at = cut % frame.length;
        expect(() => decodeCommand(frame.subarray(0, at))).toThrow();
      }),
    );
  });

  it("int64 parsing round-trips and refuses the out-of-range", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        expect(parseInt64(n.toString())).toBe(n);
      }),
    );
    for (const bad of ["9223372036854775808", "-9223372036854775809", "+1", "01", " 1", "1 ", "", "1e3", "0x10"])
      expect(() => parseInt64(bad), bad).toThrow(/not an integer/);
  });

  it("long doubles print as %.17Lf without trailing zeros and read back to the same", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 }), (x) => {
        const s = formatLongDouble(longDoubleOf(x));
        expect(s).not.toMatch(/e/i);
        // 17 decimals: a value read back is the printed one, printed again the same.
        expect(formatLongDouble(parseLongDouble(s) ?? longDoubleOf(0))).toBe(s);
      }),
    );
  });

  it("a glob of escaped literal text matches exactly that text", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (s, other) => {
        const escaped = s.replace(/[*?[\]\\]/g, "\\$&");
        const re = compileGlob(escaped);
        expect(re.test(s)).toBe(true);
        expect(re.test(other)).toBe(other === s);
        expect(compileGlob("*").test(s)).toBe(true);
      }),
    );
  });

  it("any pattern compiles (KEYS and SCAN MATCH never fail on a pattern)", () => {
    const patternChar = fc.constantFrom("*", "?", "[", "]", "^", "-", "\\", "a", "z", "/", ".", "(", "\xc3\xa9", "\xff", "\x00");
    fc.assert(
      fc.property(fc.array(patternChar, { maxLength: 12 }).map((cs) => cs.join("")), binaryString(20), (p, s) => {
        expect(typeof compileGlob(p).test(s)).toBe("boolean");
      }),
      { numRuns: 500 },
    );
  });
});

describe("expiry model", () => {
  type Op =
    | { op: "set"; key: number; ttl: number | null }
    | { op: "get"; key: number }
    | { op: "advance"; ms: number }
    | { op: "sweep" };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant("set" as const), key: fc.nat(5), ttl: fc.option(fc.integer({ min: 1, max: 100 })) }),
    fc.record({ op: fc.constant("get" as const), key: fc.nat(5) }),
    fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 60 }) }),
    fc.record({ op: fc.constant("sweep" as const) }),
  );

  it("never returns a key after its deadline, and always returns a live one", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const clock = new ManualClock(1_000_000);
        const engine = newEngine(clock);
        const model = new Map<number, { value: string; deadline: number | null }>();
        ops.forEach((o, i) => {
          if (o.op === "set") {
            const argv = ["SET", `k${o.key}`, `v${i}`, ...(o.ttl === null ? [] : ["PX", String(o.ttl)])];
            run(engine, ...argv);
            model.set(o.key, { value: `v${i}`, deadline: o.ttl === null ? null : clock.now() + o.ttl });
          } else if (o.op === "get") {
            const m = model.get(o.key);
            const live = m && (m.deadline === null || m.deadline > clock.now());
            const r = run(engine, "GET", `k${o.key}`) as { result: Uint8Array | null };
            expect(r.result === null ? null : fromBytes(r.result)).toBe(live ? m.value : null);
          } else if (o.op === "advance") clock.advance(o.ms);
          else engine.sweep();
        });
        const live = [...model.values()].filter((m) => m.deadline === null || m.deadline > clock.now()).length;
        engine.sweep(Infinity);
        expect(engine.keyspace.keyCount).toBe(live);
      }),
    );
  });
});

describe("random request bodies", () => {
  beforeAll(async () => {
    await redis("FLUSHALL");
    await redis("SET", "anchor", "1");
  });

  const json = fc.jsonValue({ maxDepth: 3 });
  const argument = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.double());
  const command = fc.array(argument, { maxLength: 6 });
  const body = fc.oneof(
    json.map((v) => JSON.stringify(v)),
    command.map((c) => JSON.stringify(c)),
    fc.string({ maxLength: 40 }),
    fc.array(command, { maxLength: 4 }).map((c) => JSON.stringify(c)),
  );
  const path = fc.constantFrom("/", "/pipeline", "/multi-exec");

  /** Every change is logged, so the replication offset (and the key count) tell whether one happened. */
  const position = async () => [String(await redis("INFO", "replication")).match(/master_repl_offset:(\d+)/)![1], await redis("DBSIZE")];

  it("never answer 5xx, and a rejected request changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(body, path, fc.boolean(), async (text, where, readonly) => {
        const before = await position();
        const r = await call(text, { path: where, token: readonly ? "dev-readonly-token" : "dev-admin-token" });
        expect(r.status, `${where} ${text}: ${r.text}`).toBeLessThan(500);
        const rejected = r.status !== 200 || (Array.isArray(r.json) ? r.json.every((o: object) => "error" in o) : "error" in r.json);
        if (rejected) expect(await position()).toEqual(before);
      }),
      { numRuns: 150 },
    );
    expect(await redis("GET", "anchor")).toBe("1");
  });
});
