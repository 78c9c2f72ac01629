// GET /admin/export: the primary's keyspace as an RDB file, streamed a chunk at a time, holding
// the keyspace as it was when the export began while writes run between its chunks; the file
// loads back (POST /admin/import) as the same data; an export stopped by FLUSHALL ends the stream
// with an error; only the admin token may export, and one export runs at a time.
import { describe, expect, it } from "vitest";
import { rdbFileEntries, rdbFileHeader } from "../../durable-objects/engine/rdb/file";
import { BASE, TOKENS, call, nodeApi, redis, worker } from "../support/helpers";

const get = (path: string, token: string = TOKENS.admin) => worker.fetch(`${BASE}${path}`, { headers: { authorization: `Bearer ${token}` } });

/** Reads a stream to its end. */
async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>, first: Uint8Array[] = []): Promise<Uint8Array> {
  const parts = [...first];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

/** The file's keys and their string values (a collection: its type). */
function keysOf(file: Uint8Array): Map<string, string> {
  const { version, body } = rdbFileHeader(file);
  const out = new Map<string, string>();
  for (const e of rdbFileEntries(file, body, version))
    if (e.kind === "key") out.set(new TextDecoder().decode(e.entry.key), e.entry.value.type === "string" ? new TextDecoder().decode(e.entry.value.value) : e.entry.value.type);
  return out;
}

const digest = async () => (await nodeApi("enam").digest()).digest;

describe("GET /admin/export", () => {
  it("holds the keyspace as it began while writes run between its chunks", async () => {
    await redis("FLUSHALL");
    // About 3 MiB of strings: several chunks of 1 MiB.
    const value = "v".repeat(1000);
    for (let i = 0; i < 3000; i += 500) await call(Array.from({ length: 500 }, (_, j) => ["SET", `key:${i + j}`, `${i + j}:${value}`]), { path: "/pipeline" });
    await redis("RPUSH", "list", "a", "b");
    const response = await get("/admin/export");
    expect(response.status).toBe(200);
    expect(response.headers.get("flaredis-rdb-version")).toBe("10");
    expect(response.headers.get("flaredis-keys")).toBe("3001");
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="flaredis-.*\.rdb"$/);
    const reader = response.body!.getReader();
    const first = await reader.read();
    // Every key changed, some deleted, new ones added, after the first chunk was read.
    await call(Array.from({ length: 3000 }, (_, i) => (i % 2 === 0 ? ["SET", `key:${i}`, "changed"] : ["DEL", `key:${i}`])), { path: "/pipeline" });
    await redis("SET", "created-later", "1");
    await redis("RPUSH", "list", "c");
    const file = await readAll(reader, [first.value!]);
    const keys = keysOf(file);
    expect(keys.size).toBe(3001);
    for (let i = 0; i < 3000; i++) expect(keys.get(`key:${i}`)?.slice(0, 10)).toBe(`${i}:${value}`.slice(0, 10));
    expect(keys.has("created-later")).toBe(false);
  });

  it("loads back as the same data", async () => {
    await redis("FLUSHALL");
    await call(
      [
        ["SET", "s", "text", "PX", "3600000"],
        ["RPUSH", "l", "a", "b", "c"],
        ["SADD", "st", "x", "y"],
        ["ZADD", "z", "1.5", "m", "-2", "n"],
        ["HSET", "h", "f", "v"],
        ["XADD", "x", "1-1", "f", "v"],
        ["XGROUP", "CREATE", "x", "g", "0"],
      ],
      { path: "/pipeline" },
    );
    const before = await digest();
    const file = new Uint8Array(await (await get("/admin/export")).arrayBuffer());
    await redis("FLUSHALL");
    const r = await worker.fetch(`${BASE}/admin/import`, { method: "POST", headers: { authorization: `Bearer ${TOKENS.admin}` }, body: file });
    expect(r.status).toBe(200);
    expect(await digest()).toBe(before);
    expect(await redis("PTTL", "s")).toBeGreaterThan(3_500_000);
  });

  it("ends its stream with an error when FLUSHALL empties the keyspace under it", async () => {
    await redis("FLUSHALL");
    const value = "v".repeat(1000);
    await call(Array.from({ length: 2500 }, (_, i) => ["SET", `key:${i}`, value]), { path: "/pipeline" });
    const reader = (await get("/admin/export")).body!.getReader();
    await reader.read();
    await redis("FLUSHALL");
    await expect(readAll(reader)).rejects.toThrow(/the keyspace was flushed/);
  });

  it("is refused to other tokens; a second export waits for the first", async () => {
    expect((await get("/admin/export", TOKENS.readwrite)).status).toBe(403);
    await redis("FLUSHALL");
    await call(Array.from({ length: 2500 }, (_, i) => ["SET", `key:${i}`, "v".repeat(1000)]), { path: "/pipeline" });
    const first = await get("/admin/export");
    const reader = first.body!.getReader();
    await reader.read();
    const second = await get("/admin/export");
    expect(second.status).toBe(409);
    expect(await second.text()).toMatch(/export is in progress/);
    await reader.cancel();
    const third = await get("/admin/export");
    expect(third.status).toBe(200);
    expect(keysOf(new Uint8Array(await third.arrayBuffer())).size).toBe(2500);
  });
});
