// The HTTP API's contract: request forms, auth, encodings, headers, and every bad input of SPEC
// section 2 (each gets its error and changes nothing).
import { beforeEach, describe, expect, it } from "vitest";
import { BASE, TOKENS, call, redis } from "../support/helpers";

beforeEach(async () => {
  await redis("FLUSHALL");
});

/** The keyspace's observable state: every key and value, and the replication offset. */
async function state() {
  const keys: string[] = (await redis("KEYS", "*")).sort();
  const values = keys.length ? await redis("MGET", ...keys) : [];
  const info: string = await redis("INFO", "replication");
  return { keys, values, offset: info.match(/master_repl_offset:(\d+)/)![1] };
}

describe("request forms", () => {
  it("takes POST / with a JSON array of strings, numbers and booleans", async () => {
    expect((await call(["SET", "k", 10])).json).toEqual({ result: "OK" });
    expect((await call(["GET", "k"])).json).toEqual({ result: "10" });
    expect((await call(["SET", "b", true])).json).toEqual({ result: "OK" });
    expect((await call(["GET", "b"])).json).toEqual({ result: "true" });
    expect((await call(["SET", "f", 1.5])).json).toEqual({ result: "OK" });
    expect(await redis("GET", "f")).toBe("1.5");
  });

  it("takes the path form, GET or POST, with percent-encoded segments and the body as last argument", async () => {
    expect((await call(undefined, { method: "GET", path: "/set/a%2Fb/x%20y" })).json).toEqual({ result: "OK" });
    expect((await call(undefined, { method: "GET", path: "/get/a%2Fb" })).json).toEqual({ result: "x y" });
    expect((await call("body value", { path: "/set/k" })).json).toEqual({ result: "OK" });
    expect((await call(undefined, { method: "GET", path: "/get/k" })).json).toEqual({ result: "body value" });
    expect((await call(undefined, { method: "GET", path: "/set/ex/v/EX/100" })).json).toEqual({ result: "OK" });
    expect(await redis("TTL", "ex")).toBe(100);
    expect((await call(undefined, { method: "GET", path: "/ping" })).json).toEqual({ result: "PONG" });
  });

  it("runs a pipeline in order, each command on its own, always 200", async () => {
    const r = await call([["SET", "a", "1"], ["INCR", "a"], ["NOPE"], ["GET"], ["INCR", "s"], ["GET", "a"]], { path: "/pipeline" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual([
      { result: "OK" },
      { result: 2 },
      { error: "ERR unknown command 'NOPE', with args beginning with: " },
      { error: "ERR wrong number of arguments for 'get' command" },
      { result: 1 },
      { result: "2" },
    ]);
    expect(r.json[2]).not.toHaveProperty("result");
  });

  it("runs multi-exec atomically; a queue-time error rejects it whole and applies nothing", async () => {
    const ok = await call([["SET", "a", "1"], ["INCR", "a"], ["GET", "a"]], { path: "/multi-exec" });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual([{ result: "OK" }, { result: 2 }, { result: "2" }]);
    const before = await state();
    for (const bad of [
      [["SET", "x", "1"], ["NOSUCH", "y"]],
      [["SET", "x", "1"], ["GET"]],
    ]) {
      const r = await call(bad, { path: "/multi-exec" });
      expect(r.status).toBe(400);
      expect(r.json.error).toBe("EXECABORT Transaction discarded because of previous errors.");
    }
    expect(await state()).toEqual(before);
    // Any other error is its command's reply in EXEC's array, and the others run (Redis's EXEC).
    const mixed = await call([["SET", "x", "1"], ["SET", "y", "1", "NX", "XX"], ["INCRBY", "x", "1.5"], ["INCR", "x"]], { path: "/multi-exec" });
    expect(mixed.status).toBe(200);
    expect(mixed.json).toEqual([{ result: "OK" }, { error: "ERR syntax error" }, { error: "ERR value is not an integer or out of range" }, { result: 2 }]);
  });

  it("NOPERM inside a multi-exec with the read-only token rejects it whole", async () => {
    const r = await call([["GET", "a"], ["SET", "a", "1"]], { path: "/multi-exec", token: TOKENS.readonly });
    expect(r.json.error).toBe("EXECABORT Transaction discarded because of previous errors.");
    expect(await redis("EXISTS", "a")).toBe(0);
  });
});

describe("auth", () => {
  it("answers 401 WRONGPASS without a token or with a wrong one", async () => {
    for (const token of [null, "wrong", "dev-token-", ""]) {
      const r = await call(["SET", "k", "v"], { token, headers: { "upstash-sync-token": "17" } });
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: "WRONGPASS invalid or missing auth token" });
      expect(r.headers.get("flaredis-served-by")).toBe("edge");
      // A token that is not ours (an older release's bare offset) is not written back.
      expect(r.headers.get("upstash-sync-token")).toBe("");
    }
    expect(await redis("EXISTS", "k")).toBe(0);
  });

  it("takes the token from ?_token=", async () => {
    const r = await call(["PING"], { token: null, path: `/?_token=${TOKENS.readwrite}` });
    expect(r.json).toEqual({ result: "PONG" });
  });

  it("gives the read-only token non-heavy reads only: NOPERM and nothing written otherwise", async () => {
    await redis("SET", "k", "v");
    const before = await state();
    for (const cmd of [["SET", "k", "x"], ["DEL", "k"], ["INCR", "n"], ["FLUSHALL"], ["KEYS", "*"], ["SCAN", "0"]]) {
      const r = await call(cmd, { token: TOKENS.readonly });
      expect(r.status).toBe(403);
      expect(r.json).toEqual({ error: `NOPERM this user has no permissions to run the '${cmd[0]!.toLowerCase()}' command` });
    }
    const pipeline = await call([["GET", "k"], ["SET", "k", "y"]], { path: "/pipeline", token: TOKENS.readonly });
    expect(pipeline.json).toEqual([{ result: "v" }, { error: "NOPERM this user has no permissions to run the 'set' command" }]);
    expect((await call(["GET", "k"], { token: TOKENS.readonly })).json).toEqual({ result: "v" });
    expect(await state()).toEqual(before);
  });

  it("lets the read-write token run writes", async () => {
    expect((await call(["SET", "k", "v"], { token: TOKENS.readwrite })).json).toEqual({ result: "OK" });
  });
});

describe("bad input changes nothing", () => {
  beforeEach(async () => {
    await redis("SET", "keep", "1");
  });

  const cases: [name: string, send: () => ReturnType<typeof call>, status: number, error: RegExp][] = [
    ["arity", () => call(["GET"]), 400, /^ERR wrong number of arguments for 'get' command$/],
    ["arity on a write", () => call(["SET", "keep"]), 400, /^ERR wrong number of arguments for 'set' command$/],
    ["unknown command", () => call(["FOO", "keep"]), 400, /^ERR unknown command 'FOO'/],
    ["non-integer INCR", () => call(["INCR", "keep2"]).then(() => call(["INCRBY", "keep", "x"])), 400, /^ERR value is not an integer/],
    ["malformed JSON", () => call('["SET","keep",'), 400, /^ERR failed to parse request body: invalid JSON$/],
    ["a non-array body", () => call('{"cmd":"SET"}'), 400, /^ERR a command must be a JSON array/],
    ["an empty command", () => call([]), 400, /^ERR empty command$/],
    ["a null argument", () => call(["SET", "keep", null]), 400, /^ERR command arguments must be strings, numbers or booleans$/],
    ["a nested argument", () => call(["SET", "keep", ["x"]]), 400, /^ERR command arguments/],
    ["a non-array pipeline", () => call(["SET", "keep", "2"], { path: "/pipeline" }), 400, /^ERR a command must be a JSON array/],
    ["an object pipeline", () => call({ a: 1 }, { path: "/pipeline" }), 400, /^ERR a pipeline must be a JSON array/],
    ["an empty multi-exec", () => call([], { path: "/multi-exec" }), 400, /^ERR empty pipeline$/],
    [
      "an 11 MiB request",
      () => call(["SET", "keep", "x".repeat(11 * 1024 * 1024)]),
      413,
      /^ERR max request size exceeded\. Limit: 10485760 bytes, Actual: 1153435\d bytes$/,
    ],
    [
      "a 33 KiB key",
      () => call(["SET", "k".repeat(33 * 1024), "v"]),
      400,
      /^ERR max key size exceeded\. Limit: 32768 bytes, Actual: 33792 bytes$/,
    ],
    [
      "a string past 512 MiB",
      () => call(["SETRANGE", "keep", 512 * 1024 * 1024, "v"]),
      400,
      /^ERR string exceeds maximum allowed size \(proto-max-bulk-len\)$/,
    ],
  ];

  for (const [name, send, status, error] of cases) {
    it(`${name}: ${status}`, async () => {
      const before = await state();
      const r = await send();
      expect(r.status).toBe(status);
      expect(r.json.error).toMatch(error);
      expect(r.json).not.toHaveProperty("result");
      expect(await state()).toEqual({ ...before, ...(name === "non-integer INCR" ? { keys: ["keep", "keep2"], values: ["1", "1"], offset: expect.any(String) } : {}) });
    });
  }

  it("an 11 MiB pipeline is refused before it is read", async () => {
    const r = await call([["SET", "a", "x".repeat(6 * 1024 * 1024)], ["SET", "b", "y".repeat(5 * 1024 * 1024)]], { path: "/pipeline" });
    expect(r.status).toBe(413);
    expect(await redis("EXISTS", "a", "b")).toBe(0);
  });

  it("answers 404 for unknown routes, 405 with Allow for methods other than GET and POST", async () => {
    for (const [method, path] of [["GET", "/"], ["GET", "/admin/nothing"], ["POST", "/metrics"]] as const) {
      const r = await call(undefined, { method, path });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.json.error).toMatch(/^ERR not found/);
    }
    for (const [method, path] of [["PUT", "/set/a/b"], ["DELETE", "/"], ["PATCH", "/"], ["OPTIONS", "/get/a"]] as const) {
      const r = await call(undefined, { method, path });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get("allow")).toBe("GET, POST");
      expect(r.json).toEqual({ error: "ERR method not allowed (GET and POST only)" });
    }
  });

  it("never reflects a request's headers: a refused request's sync token is ours or empty", async () => {
    const hostile = "<img src=x onerror=alert(1)>";
    for (const token of [null, "wrong-token", TOKENS.readonly]) {
      const r = await call(["SET", "a", "b"], { token, headers: { "upstash-sync-token": hostile, "Flaredis-Max-Staleness": "soon" } });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.text).not.toContain("<img");
      expect(r.headers.get("upstash-sync-token")).toBe("");
    }
    // A well-formed token comes back as it was seen.
    const ours = `${"ab".repeat(20)}:42`;
    const r = await call(["SET", "a", "b"], { token: "wrong-token", headers: { "upstash-sync-token": ` ${ours} ` } });
    expect(r.status).toBe(401);
    expect(r.headers.get("upstash-sync-token")).toBe(ours);
  });
});

describe("encodings and headers", () => {
  it("base64-encodes every string in the result, nested too, but numbers, nulls and OK", async () => {
    const b64 = { "Upstash-Encoding": "base64" };
    expect((await call(["SET", "k", "héllo"], { headers: b64 })).json).toEqual({ result: "OK" });
    expect((await call(["GET", "k"], { headers: b64 })).json).toEqual({ result: btoa("h\xc3\xa9llo") });
    expect((await call(["MGET", "k", "nope"], { headers: b64 })).json).toEqual({ result: [btoa("h\xc3\xa9llo"), null] });
    expect((await call(["STRLEN", "k"], { headers: b64 })).json).toEqual({ result: 6 });
    expect((await call(["PING"], { headers: b64 })).json).toEqual({ result: btoa("PONG") });
    expect((await call(["SCAN", "0"], { headers: b64 })).json).toEqual({ result: [btoa("0"), [btoa("k")]] });
    expect((await call(["INCR", "k"], { headers: b64 })).json).toEqual({ error: "ERR value is not an integer or out of range" });
    const pipeline = await call([["GET", "k"], ["TYPE", "k"]], { path: "/pipeline", headers: b64 });
    expect(pipeline.json).toEqual([{ result: btoa("h\xc3\xa9llo") }, { result: btoa("string") }]);
  });

  it("returns bytes exactly with base64 (GETRANGE splitting a UTF-8 sequence)", async () => {
    await redis("SET", "k", "é");
    const r = await call(["GETRANGE", "k", 0, 0], { headers: { "Upstash-Encoding": "base64" } });
    expect(r.json).toEqual({ result: btoa("\xc3") });
  });

  it("carries Flaredis-Served-By and an upstash-sync-token that moves with writes", async () => {
    const a = await call(["SET", "k", "v"]);
    expect(a.headers.get("flaredis-served-by")).toBe("primary:enam");
    const t1 = a.headers.get("upstash-sync-token");
    expect(t1).toMatch(/^[0-9a-f]{40}:\d+(:\d+:[0-9a-f.,]+)?$/); // the position, then the client's written keys
    const b = await call(["GET", "k"], { headers: { "upstash-sync-token": t1! } });
    expect(b.headers.get("upstash-sync-token")).toBe(t1);
    const c = await call(["SET", "k", "w"], { headers: { "upstash-sync-token": "" } });
    const offsetOf = (token: string | null) => Number(token!.split(":")[1]);
    expect(offsetOf(c.headers.get("upstash-sync-token"))).toBeGreaterThan(offsetOf(t1));
    const bad = await call(["GET"]);
    expect(bad.headers.get("flaredis-served-by")).toBe("primary:enam");
  });

  it("writes integers beyond 2^53 exactly", async () => {
    await redis("SET", "big", "9223372036854775800");
    const r = await call(["INCRBY", "big", 7]);
    expect(r.text).toBe('{"result":9223372036854775807}');
  });
});

describe("a deployment without token secrets", () => {
  it("answers 503 to every request, never runs open", async () => {
    const { default: worker } = await import("../../worker/index");
    const { env } = await import("cloudflare:workers");
    const bare = { ...env, FLAREDIS_TOKEN: undefined, FLAREDIS_READONLY_TOKEN: undefined, FLAREDIS_ADMIN_TOKEN: undefined };
    for (const [path, token] of [["/", TOKENS.admin], ["/get/k", null], ["/pipeline", "anything"]] as const) {
      const request = new Request(`${BASE}${path}`, {
        method: "POST",
        body: '["GET","k"]',
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      const r = await worker.fetch(request, bare as never, {} as ExecutionContext);
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({ error: expect.stringMatching(/^ERR flaredis is not configured: set the FLAREDIS_TOKEN/) });
    }
  });
});
