// Backups to R2 (worker/backups.ts, Miniflare's local R2 bucket bound as BACKUPS): one made by the
// Cron Trigger or POST /admin/backups restores to the same data after FLUSHALL; the newest
// FLAREDIS_BACKUP_KEEP are kept; a backup downloads as the RDB file it is; a missing one is a 404.
import { createScheduledController, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { rdbFileHeader } from "../../durable-objects/engine/rdb/file";
import worker from "../../worker/index";
import type { Env } from "../../worker/env";
import { BACKUP_PART_BYTES } from "../../worker/backups";
import { BASE, TOKENS, call, nodeApi, redis, worker as helperWorker } from "../support/helpers";

const admin = (path: string, method = "GET") => helperWorker.fetch(`${BASE}${path}`, { method, headers: { authorization: `Bearer ${TOKENS.admin}` } });
const digest = async () => (await nodeApi("enam").digest()).digest;
const listed = async () => ((await (await admin("/admin/backups")).json()) as { kept: number; backups: { name: string; bytes: number; keys: number; uploaded: number }[] });

async function fill() {
  await redis("FLUSHALL");
  await call(
    [
      ["SET", "s", "text", "PX", "3600000"],
      ["RPUSH", "l", "a", "b", "c"],
      ["SADD", "st", "x", "y"],
      ["ZADD", "z", "1.5", "m"],
      ["HSET", "h", "f", "v"],
      ["XADD", "x", "1-1", "f", "v"],
    ],
    { path: "/pipeline" },
  );
}

describe("backups to R2", () => {
  it("one made by the Cron Trigger restores to the same data after FLUSHALL", async () => {
    await fill();
    const before = await digest();
    const controller = createScheduledController({ scheduledTime: new Date("2026-12-05T03:00:00Z"), cron: "0 3 * * *" });
    const waits: Promise<unknown>[] = [];
    await worker.scheduled!(controller, env as unknown as Env, { waitUntil: (p: Promise<unknown>) => void waits.push(p), passThroughOnException() {} } as unknown as ExecutionContext);
    await Promise.all(waits);
    const { backups } = await listed();
    const name = backups.find((b) => b.name.startsWith("flaredis-2026-12-05T03-00-00"))!.name;
    expect(name).toBeDefined();
    await redis("FLUSHALL");
    const r = await admin(`/admin/backups/${name}/restore`, "POST");
    expect(r.status).toBe(200);
    expect(await digest()).toBe(before);
  });

  it("POST /admin/backups makes one that downloads as its RDB file; the newest kept ones stay", async () => {
    await fill();
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await admin("/admin/backups", "POST");
      expect(r.status).toBe(200);
      made.push(((await r.json()) as { name: string }).name);
    }
    const { kept, backups } = await listed();
    expect(kept).toBe(7);
    expect(backups.length).toBeLessThanOrEqual(7);
    expect(backups[0]!.name).toBe(made[2]);
    expect(backups[0]!.keys).toBe(6);
    const file = new Uint8Array(await (await admin(`/admin/backups/${made[2]}`)).arrayBuffer());
    expect(file.length).toBe(backups[0]!.bytes);
    expect(rdbFileHeader(file).version).toBe(10);
  });

  it("keeps only FLAREDIS_BACKUP_KEEP, the newest", async () => {
    await fill();
    const local = { ...(env as unknown as Env), FLAREDIS_BACKUP_KEEP: "2" };
    const { makeBackup, listBackups } = await import("../../worker/backups");
    for (let i = 0; i < 3; i++) await makeBackup(local, Date.parse("2027-01-01T00:00:00Z") + i * 1000);
    const names = (await listBackups(local)).map((b) => b.name);
    expect(names).toHaveLength(2);
    expect(names[0]).toMatch(/^flaredis-2027-01-01T00-00-02/);
    expect(names[1]).toMatch(/^flaredis-2027-01-01T00-00-01/);
  });

  it("uploads a backup larger than a part in parts", async () => {
    await redis("FLUSHALL");
    // Letters a generator picks: LZF finds little to take out of them (the file stays past a part).
    let seed = 1;
    const letters = (n: number) => Array.from({ length: n }, () => String.fromCharCode(97 + ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 16) % 26)).join("");
    for (let i = 0; i < 120; i += 20) await call(Array.from({ length: 20 }, (_, j) => ["SET", `big:${i + j}`, letters(100_000)]), { path: "/pipeline" });
    const before = await digest();
    const made = (await (await admin("/admin/backups", "POST")).json()) as { name: string; bytes: number };
    expect(made.bytes).toBeGreaterThan(BACKUP_PART_BYTES);
    await redis("FLUSHALL");
    expect((await admin(`/admin/backups/${made.name}/restore`, "POST")).status).toBe(200);
    expect(await digest()).toBe(before);
  });

  it("SAVE, BGSAVE and LASTSAVE make and list backups, for the admin token, each alone in a request", async () => {
    await fill();
    const before = (await listed()).backups.length;
    expect(await redis("SAVE")).toBe("OK");
    const newest = (await listed()).backups[0]!;
    expect(await redis("LASTSAVE")).toBe(Math.floor(newest.uploaded / 1000));
    expect(await redis("BGSAVE")).toBe("Background saving started");
    // The background upload lands while the test asks again (each ask is a request, no timer).
    let count = 0;
    for (let i = 0; i < 500 && (count = (await listed()).backups.length) < Math.min(before + 2, 7); i++);
    expect(count).toBe(Math.min(before + 2, 7));
    const readwrite = await call(["BGSAVE"], { token: TOKENS.readwrite });
    expect(readwrite.status).toBe(403);
    expect(readwrite.json.error).toBe("NOPERM this user has no permissions to run the 'bgsave' command");
    const piped = await call([["LASTSAVE"]], { path: "/pipeline" });
    expect(piped.json[0].error).toMatch(/LASTSAVE is not supported by Flaredis \(SAVE, BGSAVE and LASTSAVE make and list backups: send each alone in a request/);
    expect((await call(["BGSAVE", "NOW"])).json.error).toBe("ERR syntax error");
    // With Upstash-Encoding: base64, a status other than OK comes base64-encoded, as every reply's does.
    const encoded = await call(["BGSAVE"], { headers: { "upstash-encoding": "base64" } });
    expect(encoded.json).toEqual({ result: btoa("Background saving started") });
    const newestName = () => listed().then((l) => l.backups[0]!.name);
    const last = await newestName();
    for (let i = 0; i < 500 && (await newestName()) === last; i++);
  });

  it("a backup that does not exist is a 404", async () => {
    expect((await admin("/admin/backups/flaredis-none.rdb")).status).toBe(404);
    expect((await admin("/admin/backups/flaredis-none.rdb/restore", "POST")).status).toBe(404);
  });
});
