// Hostile HTTP requests (issue 13, the edge's share): each is refused at the edge with a clear
// error and nothing applied, or, for numbers, stored exactly as sent. Keys carry the "hh:" prefix
// (no FLUSHALL: other files share the nodes).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { REQUEST_LIMITS } from "../../durable-objects/engine/limits";
import { app } from "../../worker/app";
import { readBody } from "../../worker/request";
import { BASE, TOKENS, call, redis, worker } from "../support/helpers";

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...new TextEncoder().encode(p)] : p)));

/** Sends raw bytes (not re-encoded by JSON.stringify) with the read-write token. */
async function raw(body: BodyInit, path = "/", method = "POST") {
  const r = await worker.fetch(`${BASE}${path}`, { method, headers: { authorization: `Bearer ${TOKENS.readwrite}` }, body });
  const text = await r.text();
  return { status: r.status, text, json: text ? JSON.parse(text) : undefined };
}

describe("arguments that are not well-formed Unicode", () => {
  it("refuses a lone surrogate (a JSON escape) in any argument, nothing applied", async () => {
    for (const [path, body] of [
      ["/", '["SET","hh:s3\\ud800","A"]'],
      ["/", '["SET","hh:s3","\\udc00"]'],
      ["/", '["SET","hh:s3","a\\ud83d"]'],
      ["/pipeline", '[["SET","hh:s3","ok"],["SET","hh:s3\\udc00","B"]]'],
      ["/multi-exec", '[["SET","hh:s3","ok"],["SET","hh:s3\\udc00","B"]]'],
    ]) {
      const r = await raw(body!, path);
      expect(r.status, body).toBe(400);
      expect(r.json.error, body).toMatch(/^ERR .*(UTF-16|Unicode)/);
    }
    expect(await redis("KEYS", "hh:s3*")).toEqual([]);
  });

  it("refuses invalid UTF-8 in a JSON body, nothing applied", async () => {
    for (const [path, body] of [
      ["/", bytes('["SET","hh:u8","', [0xff], '"]')],
      ["/", bytes('["SET","hh:u8","', [0xed, 0xa0, 0x80], '"]')], // an encoded surrogate
      ["/pipeline", bytes('[["SET","hh:u8",', '"', [0xc3], '"]]')], // a truncated sequence
      ["/", bytes('["SET","hh:u8","x', [0xc0, 0xaf], '"]')], // an overlong encoding
    ] as const) {
      const r = await raw(body, path);
      expect(r.status, path).toBe(400);
      expect(r.json.error, path).toMatch(/^ERR .*UTF-8/);
    }
    expect(await redis("EXISTS", "hh:u8")).toBe(0);
  });

  it("takes the path form's body and percent-escapes as bytes, any bytes (Upstash's binary form)", async () => {
    const base64 = { "upstash-encoding": "base64" };
    // The body, byte for byte, as the last argument: an overlong encoding and a lone 0xFF kept.
    expect((await raw(bytes("x", [0xc0, 0xaf, 0xff]), "/set/hh:u8")).json).toEqual({ result: "OK" });
    expect((await call(["GET", "hh:u8"], { headers: base64 })).json).toEqual({ result: btoa("x\xc0\xaf\xff") });
    // %XX is the byte XX, whether or not the bytes are UTF-8.
    for (const [path, key] of [["/set/hh:p3%ED%A0%80/v", "hh:p3\xed\xa0\x80"], ["/set/hh:p3%FF/v", "hh:p3\xff"], ["/set/hh:p3%C3%A9/v", "hh:p3\xc3\xa9"]] as const) {
      expect((await call(undefined, { method: "GET", path, token: TOKENS.readwrite })).json, path).toEqual({ result: "OK" });
      const scan = await call(["SCAN", "0", "MATCH", "hh:p3*", "COUNT", "1000"], { headers: base64 });
      expect(scan.json.result[1], path).toContain(btoa(key));
    }
    expect(await redis("GET", "hh:p3é")).toBe("v");
    // A % that is not followed by two hex digits is no escape at all.
    for (const path of ["/set/hh:p4%ZZ/v", "/set/hh:p4/%", "/set/hh:p4/%C"]) {
      const r = await call(undefined, { method: "GET", path, token: TOKENS.readwrite });
      expect(r.status, path).toBe(400);
      expect(r.json.error, path).toMatch(/^ERR malformed percent-encoding/);
    }
    expect(await redis("EXISTS", "hh:p4")).toBe(0);
  });

  it("reads base64 string arguments beside JSON numbers, which are their text (Flaredis-Request-Encoding: base64)", async () => {
    const headers = { "flaredis-request-encoding": "base64", "upstash-encoding": "base64" };
    const k = btoa("hh:b64\xff");
    const r = await call([["SET", k, 10].map((a) => (a === "SET" ? btoa(a) : a)), [btoa("INCRBYFLOAT"), k, 1.5], [btoa("EXPIRE"), k, 100], [btoa("GET"), k]], { path: "/pipeline", headers });
    expect(r.json).toEqual([{ result: "OK" }, { result: btoa("11.5") }, { result: 1 }, { result: btoa("11.5") }]);
    const bad = await call([btoa("GET"), "not base64!"], { headers });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/^ERR an argument is not valid base64/);
  });

  it("keeps well-formed text, surrogate pairs included", async () => {
    expect((await raw('["SET","hh:ok\\ud83d\\ude00","\\u00e9\\ud83d\\ude00"]')).json).toEqual({ result: "OK" });
    expect(await redis("GET", "hh:ok😀")).toBe("é😀");
    expect((await raw(bytes('["SET","hh:ok8","', [0xf0, 0x9f, 0x98, 0x80], '"]'))).json).toEqual({ result: "OK" });
    expect(await redis("GET", "hh:ok8")).toBe("😀");
    expect((await call(undefined, { method: "GET", path: "/set/hh:ok%F0%9F%98%80p/v" })).json).toEqual({ result: "OK" });
    expect(await redis("GET", "hh:ok😀p")).toBe("v");
  });
});

describe("only GET and POST reach commands", () => {
  it("HEAD (routed as GET by Hono) and other methods run nothing, on command and admin paths", async () => {
    await redis("SET", "hh:m6", "keep");
    for (const method of ["HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      for (const path of ["/set/hh:m6/changed", "/del/hh:m6", "/set/hh:m6n/v", "/admin/topology", "/admin/nodes/enam/digest", "/"]) {
        for (const token of [TOKENS.readwrite, TOKENS.admin]) {
          const r = await call(undefined, { method, path, token });
          expect(r.status, `${method} ${path}`).toBe(405);
          expect(r.headers.get("allow")).toBe("GET, POST");
        }
      }
    }
    expect(await redis("GET", "hh:m6")).toBe("keep");
    expect(await redis("EXISTS", "hh:m6n")).toBe(0);
  });

  it("GET and POST still do", async () => {
    expect((await call(undefined, { method: "GET", path: "/set/hh:m6g/v" })).json).toEqual({ result: "OK" });
    expect((await call(undefined, { method: "POST", path: "/get/hh:m6g" })).json).toEqual({ result: "v" });
    expect((await call(undefined, { method: "GET", path: "/admin/topology" })).status).toBe(200);
  });
});

describe("a request's work is bounded before its body is parsed", () => {
  const { maxCommands, maxArguments } = REQUEST_LIMITS;

  it("refuses a 700,000-command pipeline before running any of it, and the node still serves", async () => {
    await redis("DEL", "h:");
    // 14 bytes a command: 9.8 MB, under the 10 MiB body limit.
    const body = `[${'["INCR","h:"],'.repeat(700_000 - 1)}["INCR","h:"]]`;
    for (const path of ["/pipeline", "/multi-exec"]) {
      const r = await raw(body, path);
      expect(r.status).toBe(413);
      expect(r.json.error).toBe(`ERR too many commands in one request. Limit: ${maxCommands}, Actual: 700000`);
      expect(await redis("PING")).toBe("PONG");
      expect(await redis("GET", "h:")).toBeNull();
    }
  });

  it("refuses too many arguments over all commands, or in one command", async () => {
    const nine = Array.from({ length: 9 }, (_, i) => `"hh:a${i}"`).join(",");
    // maxCommands commands of 10 arguments each (maxArguments), then one more argument.
    const exact = `[${Array(maxCommands).fill(`["DEL",${nine}]`).join(",")}]`;
    const over = `${exact.slice(0, -2)},"hh:a9"]]`;
    const r = await raw(over, "/pipeline");
    expect(r.status).toBe(413);
    expect(r.json.error).toBe(`ERR too many arguments in one request. Limit: ${maxArguments}, Actual: ${maxArguments + 1}`);
    const single = `["MGET"${',"hh:a"'.repeat(maxArguments)}]`;
    const one = await raw(single);
    expect(one.status).toBe(413);
    expect(one.json.error).toBe(`ERR too many arguments in one request. Limit: ${maxArguments}, Actual: ${maxArguments + 1}`);
    // Values nested where no argument may be are counted too (JSON.parse would build them all).
    const nested = await raw(`["GET",[${"0,".repeat(maxArguments)}0]]`);
    expect(nested.status).toBe(413);
  });

  it("runs a pipeline of exactly the bounds", async () => {
    const nine = Array.from({ length: 9 }, (_, i) => `"hh:a${i}"`).join(",");
    const exact = `[${Array(maxCommands).fill(`["DEL",${nine}]`).join(",")}]`;
    const r = await raw(exact, "/pipeline");
    expect(r.status).toBe(200);
    expect(r.json).toHaveLength(maxCommands);
    const incr = await raw(`[${Array(maxCommands).fill('["INCR","hh:n8"]').join(",")}]`, "/pipeline");
    expect(incr.status).toBe(200);
    expect(await redis("GET", "hh:n8")).toBe(String(maxCommands));
  });

  it("counts by JSON structure, not by the brackets and commas inside strings", async () => {
    const tricky = `"[,],\\"[,]\\\\"`; // a string of brackets, commas, escaped quotes and a backslash
    const body = `[${Array(maxCommands).fill(`["SET","hh:t8",${tricky}]`).join(",")}]`;
    const r = await raw(body, "/pipeline");
    expect(r.status).toBe(200);
    expect(await redis("GET", "hh:t8")).toBe('[,],"[,]\\');
  });
});

describe("numbers keep their text; a body that cannot be read is a 400", () => {
  it("stores a JSON number's source text, however large or precise", async () => {
    const cases: [string, string][] = [
      ["12345678901234567890", "12345678901234567890"],
      ["-9007199254740993", "-9007199254740993"],
      ["1e21", "1e21"],
      ["1.50", "1.50"],
      ["0.1", "0.1"],
      ["-0", "-0"],
      ["10", "10"],
      ["true", "true"],
      ["false", "false"],
    ];
    for (const [json, stored] of cases) {
      expect((await raw(`["SET","hh:n13",${json}]`)).json, json).toEqual({ result: "OK" });
      expect(await redis("GET", "hh:n13"), json).toBe(stored);
    }
    const p = await raw('[["SET","hh:n13a",12345678901234567890],["INCRBY","hh:n13b",9007199254740993]]', "/pipeline");
    expect(p.text).toBe('[{"result":"OK"},{"result":9007199254740993}]');
    expect(await redis("GET", "hh:n13a")).toBe("12345678901234567890");
    expect(await redis("GET", "hh:n13b")).toBe("9007199254740993");
  });

  it("answers 400 ERR malformed request body when the body stream fails, nothing applied", async () => {
    // The app's own fetch, in this isolate: through a service binding the runtime ends the body
    // short instead of passing the error on (the worker would see truncated JSON).
    for (const path of ["/", "/pipeline", "/set/hh:b13"]) {
      for (const headers of [{}, { "content-length": "100" }]) {
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('["SET","hh:b13",'));
          },
          pull(controller) {
            controller.error(new Error("connection reset"));
          },
        });
        const request = new Request(`${BASE}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKENS.readwrite}`, ...headers },
          body,
          duplex: "half",
        } as RequestInit);
        const r = await app.fetch(request, env);
        expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(400);
        expect(await r.json(), path).toEqual({ error: "ERR malformed request body" });
      }
    }
    expect(await redis("EXISTS", "hh:b13")).toBe(0);
  });

  it("bounds the wait for a body that stalls (a declared length never sent): 408, after no data for idleMs", async () => {
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('["SET","hh:i13",'));
      },
      // never more, never closed: a client that keeps the connection open
    });
    const request = new Request(BASE, { method: "POST", headers: { "content-length": "100" }, body: stalled, duplex: "half" } as RequestInit);
    await expect(readBody(request, { idleMs: 50 })).rejects.toMatchObject({
      status: 408,
      message: "ERR timed out reading the request body: no data for 50 ms",
    });
  });

  it("refuses more than maxBytes whatever the Content-Length says, chunked or not", async () => {
    const body = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(JSON.stringify(["SET", "hh:cl13", "x".repeat(200)])));
          controller.close();
        },
      });
    for (const headers of [{ "content-length": "10" }, { "content-length": "10", "transfer-encoding": "chunked" }]) {
      const request = new Request(BASE, { method: "POST", headers, body: body(), duplex: "half" } as RequestInit);
      await expect(readBody(request, { maxBytes: 100 }), JSON.stringify(headers)).rejects.toMatchObject({ status: 413 });
    }
  });

  it("lets a slow body that keeps sending finish (the bound is between chunks, not on the whole)", async () => {
    // Five gaps of 150 ms: 750 ms in all, past the 500 ms bound, with 350 ms to spare per gap
    // for a loaded machine's late timers.
    const parts = ['["SET",', '"hh:s13",', '"slow"', "]"];
    const slow = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((r) => setTimeout(r, 150));
        const part = parts.shift();
        if (part === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(part));
      },
    });
    const request = new Request(BASE, { method: "POST", body: slow, duplex: "half" } as RequestInit);
    expect(await readBody(request, { idleMs: 500 })).toBe('["SET","hh:s13","slow"]');
  });
});
