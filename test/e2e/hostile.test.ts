// Hostile requests (issue 13) against the real worker over loopback HTTP: a key's bytes are
// decided once at the edge, so no replica diverges (defect 3), and only GET and POST run
// commands (defect 6).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestsWhenCaughtUp as digestsOf, startFlaredis } from "./start";

let server: Awaited<ReturnType<typeof startFlaredis>>;

beforeAll(async () => {
  server = await startFlaredis();
});
afterAll(async () => {
  await server?.dispose();
});

async function send(path: string, body?: BodyInit, method = "POST", token = "dev-token") {
  const r = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}` }, body });
  const text = await r.text();
  return { status: r.status, text, json: text ? JSON.parse(text) : undefined };
}

const command = async (...argv: string[]) => (await send("/", JSON.stringify(argv))).json;

describe("lone surrogates and invalid UTF-8 in JSON are refused at the edge; bytes come as bytes", () => {
  it("refuses both writes of the probe, takes the path form's binary body, and every node keeps the primary's digest", async () => {
    expect(await command("SET", "hs:before", "v")).toEqual({ result: "OK" });
    // JSON escapes in the body: a lone high and a lone low surrogate.
    for (const body of ['["SET","hs:\\ud800","A"]', '["SET","hs:\\udc00","B"]']) {
      const r = await send("/", body);
      expect(r.status, body).toBe(400);
      expect(r.json.error, body).toMatch(/^ERR .*UTF-16 surrogate/);
    }
    // Raw bytes that are not UTF-8 in a JSON body are refused; as the path form's last argument
    // they are the value, byte for byte (Upstash's form for binary values).
    const bad = new Uint8Array([...new TextEncoder().encode('["SET","hs:x","'), 0xff, ...new TextEncoder().encode('"]')]);
    expect((await send("/", bad)).status).toBe(400);
    expect((await send("/set/hs:y", new Uint8Array([0x61, 0xed, 0xa0, 0x80]))).status).toBe(200);
    expect((await command("KEYS", "hs:*")).result.sort()).toEqual(["hs:before", "hs:y"]);
    expect((await command("STRLEN", "hs:y")).result).toBe(4);
    expect(await command("SET", "hs:after", "w")).toEqual({ result: "OK" });
    expect(new Set((await digestsOf(server.url)).values()).size).toBe(1);
  });
});

describe("HEAD (and methods other than GET and POST) run nothing", () => {
  it("HEAD /flushall with the read-write token leaves the data", async () => {
    expect(await command("SET", "hm:keep", "v")).toEqual({ result: "OK" });
    for (const method of ["HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"]) {
      for (const path of ["/flushall", "/set/hm:keep/changed", "/del/hm:keep", "/admin/topology"]) {
        const r = await send(path, undefined, method);
        expect([404, 405], `${method} ${path}`).toContain(r.status);
      }
    }
    expect(await command("GET", "hm:keep")).toEqual({ result: "v" });
    expect((await send("/get/hm:keep", undefined, "GET")).json).toEqual({ result: "v" });
  });
});
