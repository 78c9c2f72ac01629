// POST /admin/import: an RDB file saved by redis-server (test/fixtures/rdb/) loaded through the
// worker: the same keys, contents, deadlines and function library, replicated; `?flush=1`
// replaces the keyspace, without it other keys stay; a truncated, altered or unloadable file is
// refused with a 400 that says why, and nothing changes; only the admin token may import.
import { describe, expect, it } from "vitest";
import { BASE, TOKENS, redis, worker } from "../support/helpers";
import saved from "../fixtures/rdb/redis-rdb.json";

const fileBytes = () => Uint8Array.from(atob(saved.rdb), (c) => c.charCodeAt(0));

async function importFile(body: Uint8Array, query = "", token: string = TOKENS.admin) {
  const response = await worker.fetch(`${BASE}/admin/import${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
    body,
  });
  const text = await response.text();
  return { status: response.status, text, json: text.startsWith("{") ? JSON.parse(text) : undefined };
}

describe("POST /admin/import", () => {
  it("loads redis-server's file: every key with its contents and deadline, and its function library", async () => {
    await redis("FLUSHALL");
    await redis("SET", "stays", "1");
    const r = await importFile(fileBytes());
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ version: 10, keys: saved.keys.length, functions: 1, loaded: saved.keys.length + 1 });
    expect(await redis("DBSIZE")).toBe(saved.keys.length + 1);
    expect(await redis("GET", "s:text")).toBe("hello");
    expect(await redis("LLEN", "l:big")).toBe(500);
    expect(await redis("ZSCORE", "z:small", "b")).toBe("2.5");
    expect(await redis("HGET", "h:big", "f299")).toBe("v299");
    expect(await redis("PEXPIRETIME", "s:ttl")).toBe(saved.keys.find((k) => k.key === "s:ttl")!.expiresAt);
    expect(await redis("FCALL", "hello", "0")).toBe("hi");
    expect(await redis("GET", "stays")).toBe("1");
  });

  it("?flush=1 replaces the keyspace", async () => {
    await redis("SET", "gone", "1");
    const r = await importFile(fileBytes(), "?flush=1");
    expect(r.status).toBe(200);
    expect(await redis("EXISTS", "gone")).toBe(0);
    expect(await redis("DBSIZE")).toBe(saved.keys.length);
  });

  it("refuses a truncated, altered or not-RDB file with a 400 saying why, and changes nothing", async () => {
    await redis("FLUSHALL");
    await redis("SET", "before", "1");
    const bytes = fileBytes();
    const altered = bytes.slice();
    altered[1000]! ^= 1;
    for (const [body, why] of [
      [bytes.subarray(0, bytes.length - 100), /truncated|checksum/],
      [altered, /checksum/],
      [new TextEncoder().encode("not an rdb file at all"), /magic/],
    ] as const) {
      const r = await importFile(body, "?flush=1");
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(why);
      expect(r.json.error).toMatch(/nothing was changed/);
    }
    expect(await redis("DBSIZE")).toBe(1);
    expect(await redis("GET", "before")).toBe("1");
  });

  it("is the admin token's", async () => {
    expect((await importFile(fileBytes(), "", TOKENS.readwrite)).status).toBe(403);
  });
});
