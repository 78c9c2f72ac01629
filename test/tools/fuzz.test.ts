// Fuzzing (fast-check) of everything a client controls: methods, paths, headers, bodies and
// command arrays built from real command names, and RESP frames as the replication stream
// carries them. The HTTP API never answers 5xx, and a rejected request changes nothing.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeCommand, encodeCommand } from "../../durable-objects/engine/replication/resp";
import { Engine } from "../../durable-objects/engine/engine";
import { call, redis } from "../support/helpers";

/** The replication offset and key count: every change moves one of them. */
const position = async () => [String(await redis("INFO", "replication")).match(/master_repl_offset:(\d+)/)![1], await redis("DBSIZE")];

const NAMES = ["GET", "SET", "DEL", "INCR", "INCRBYFLOAT", "EXPIRE", "PEXPIREAT", "GETEX", "SETRANGE", "APPEND", "MSET", "MGET", "KEYS", "SCAN", "TTL", "RENAME", "COPY", "WAIT", "CONFIG", "INFO", "FLUSHALL", "MULTI", "EXEC", "OBJECT", "DEBUG", "nosuch"];
const argument = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.constantFrom("EX", "PX", "NX", "XX", "KEEPTTL", "GET", "-1", "0", "9223372036854775808", "1e400", "nan", "MATCH", "COUNT", "*"),
  fc.integer({ min: -3, max: 1e6 }),
  fc.double(),
  fc.boolean(),
);
/** A command: a real name (any case) with random arguments, or anything at all. */
const command = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...NAMES), fc.boolean(), fc.array(argument, { maxLength: 5 })).map(([n, lower, a]) => [lower ? n.toLowerCase() : n, ...a]) },
  { weight: 1, arbitrary: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }) },
);
const headers = fc.record(
  {
    authorization: fc.constantFrom("Bearer dev-admin-token", "Bearer dev-token", "Bearer dev-readonly-token", "Bearer nope", "Basic x", "Bearer ", ""),
    "upstash-encoding": fc.constantFrom("base64", "BASE64", "utf8", ""),
    "upstash-sync-token": fc.oneof(fc.nat().map(String), fc.string({ maxLength: 20 }), fc.constant("99999999999999999999")),
    "flaredis-max-staleness": fc.oneof(fc.nat({ max: 10_000 }).map(String), fc.string({ maxLength: 8 })),
    "content-type": fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded"),
    "content-length": fc.nat({ max: 100 }).map(String),
  },
  { requiredKeys: [] },
);
const cf = fc.option(
  fc.record(
    { latitude: fc.oneof(fc.double(), fc.string({ maxLength: 6 })), longitude: fc.oneof(fc.double(), fc.string({ maxLength: 6 })), continent: fc.string({ maxLength: 3 }), country: fc.string({ maxLength: 3 }) },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);
/** Path-form segments, percent-encoded or raw (malformed escapes included). */
const segment = fc.oneof(argument.map((a) => encodeURIComponent(String(a))), fc.constantFrom("%", "%zz", "%E0%A4%A", "..", ""));
const request = fc.oneof(
  fc.record({ method: fc.constant("POST"), path: fc.constantFrom("/", "/pipeline", "/multi-exec"), body: fc.oneof(command.map((c) => JSON.stringify(c)), fc.array(command, { maxLength: 4 }).map((c) => JSON.stringify(c)), fc.string({ maxLength: 30 })) }),
  fc.record({ method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "HEAD"), path: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`), body: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }) }),
  fc.record({ method: fc.constantFrom("GET", "POST"), path: fc.constantFrom("/admin/topology", "/admin/nodes/enam/info", "/admin/nodes/xx/digest", "/admin/nodes/weur/faults", "/metrics", "/admin/"), body: fc.option(fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), { nil: undefined }) }),
);

describe("fuzzed HTTP requests", () => {
  beforeAll(async () => {
    await redis("FLUSHALL");
    await redis("SET", "anchor", "1");
  });

  it("never answer 5xx, and a rejected request changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(request, headers, cf, async (req, hdrs, where) => {
        // A fault request that is accepted changes the deployment, not the data: keep them out.
        if (req.path.endsWith("/faults")) hdrs.authorization = "Bearer dev-token";
        const before = await position();
        const body = req.method === "GET" || req.method === "HEAD" ? undefined : req.body;
        if (body === undefined) delete hdrs["content-length"];
        else hdrs["content-length"] = String(new TextEncoder().encode(body).length);
        const r = await call(body, { method: req.method, path: req.path, token: null, headers: hdrs, cf: where });
        expect(r.status, `${req.method} ${req.path} ${body}: ${r.text}`).toBeLessThan(500);
        const rejected =
          r.status !== 200 || r.json === undefined || (Array.isArray(r.json) ? r.json.every((o: object) => o && "error" in o) : "error" in r.json);
        if (rejected) expect(await position(), `${req.method} ${req.path} ${body}`).toEqual(before);
        // An accepted FLUSHALL (the admin token, no argument) empties the keyspace, as it should.
        else if (/flush(all|db)/i.test(`${req.path} ${body ?? ""}`)) await redis("SET", "anchor", "1");
      }),
      { numRuns: 300 },
    );
    expect(await redis("GET", "anchor")).toBe("1");
  });
});

describe("fuzzed RESP frames", () => {
  it("random bytes decode as one command or are refused with a RESP error, never anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const args = decodeCommand(bytes);
          expect(decodeCommand(encodeCommand(args))).toEqual(args);
        } catch (e) {
          expect(String(e)).toMatch(/RESP:/);
        }
      }),
    );
  });

  it("a mutated valid frame is refused or decodes to a well-formed command", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 4 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (args, at, byte) => {
        const frame = encodeCommand(args).slice();
        frame[at % frame.length] = byte;
        try {
          const decoded = decodeCommand(frame);
          expect(encodeCommand(decoded).length).toBe(frame.length);
        } catch (e) {
          expect(String(e)).toMatch(/RESP:/);
        }
      }),
    );
  });

  it("a command decoded from any frame is looked up without throwing", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 3 }), (args) => {
        const [name] = decodeCommand(encodeCommand(args)).map((b) => new TextDecoder().decode(b));
        expect(() => Engine.lookup(name!)).not.toThrow();
      }),
    );
  });
});
