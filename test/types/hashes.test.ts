// Hashes on the real node (SQLite) and through replication (issue 15): element-sized storage (a
// 30,000-field hash costs a few rows per HSET and HGET, as the runtime counts them), a large
// hash deleted at once for the caller and purged on the alarm, and replicas that end with the
// primary's digest after a full sync while the hash changes.
import { runDurableObjectAlarm } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { call, inNode, nodeApi, redis, stubOf } from "../support/helpers";

const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];
const usage = async (node: string) => (await call(undefined, { method: "GET", path: `/admin/nodes/${node}/storage` })).json as { rows_read: number; rows_written: number };
const elementRows = (node: string) =>
  inNode(stubOf(node), (_n, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM elements").one().n);

beforeAll(async () => {
  await redis("FLUSHALL");
  await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
});

describe("a 30,000-field hash", () => {
  it("is built, then each HSET writes a few rows and each HGET reads a few", async () => {
    for (let batch = 0; batch < 30; batch++) {
      const args = Array.from({ length: 1000 }, (_, i) => [`f${batch * 1000 + i}`, `value-${batch * 1000 + i}`]).flat();
      expect(await redis("HSET", "big", ...args)).toBe(1000);
    }
    expect(await redis("HLEN", "big")).toBe(30_000);
    await redis("HGET", "big", "f1"); // the header is cached from here on
    const before = await usage(PRIMARY);
    for (let i = 0; i < 20; i++) await redis("HSET", "big", `f${i * 997}`, `changed-${i}`);
    const afterSet = await usage(PRIMARY);
    const written = (afterSet.rows_written - before.rows_written) / 20;
    // The field, the header, the log, and the dataset's running size (INFO used_memory) when it changes.
    expect(written).toBeLessThanOrEqual(4);
    for (let i = 0; i < 20; i++) expect(await redis("HGET", "big", `f${i * 997 + 1}`)).toBe(`value-${i * 997 + 1}`);
    const afterGet = await usage(PRIMARY);
    const read = (afterGet.rows_read - afterSet.rows_read) / 20;
    expect(read).toBeLessThanOrEqual(4);
  });

  it("reaches every replica with the primary's digest", async () => {
    const acks = await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
    const primary = await nodeApi(PRIMARY).digest();
    for (const ack of acks) expect(ack.offset).toBe(primary.offset);
    for (const r of REPLICAS) expect((await nodeApi(r).digest()).digest).toBe(primary.digest);
  });

  it("is deleted at once for the caller; its elements are purged on the alarm, on every node", async () => {
    const before = await usage(PRIMARY);
    expect(await redis("DEL", "big")).toBe(1);
    const afterDel = await usage(PRIMARY);
    expect(afterDel.rows_written - before.rows_written).toBeLessThan(200);
    expect(await redis("EXISTS", "big")).toBe(0);
    expect(await elementRows(PRIMARY)).toBeGreaterThan(29_000);
    await Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
    for (const node of [PRIMARY, ...REPLICAS]) {
      for (let i = 0; i < 40 && (await elementRows(node)) > 0; i++) await runDurableObjectAlarm(stubOf(node));
      expect(await elementRows(node), node).toBe(0);
    }
  });
});
