// Hash-field expiry between real node Durable Objects (primary enam; replicas wnam, weur, apac) on
// one manual clock: a field given HEXPIRE 1 is deleted by the primary's sweep on its alarm, counted
// in INFO, and gone on every replica (the HDEL replicated), kept through a replica's restart.
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ManualClock, systemClock } from "../../durable-objects/engine/clock";
import { drainAlarms, inNode, nodeApi, onOneClock, redis, stubOf } from "../support/helpers";
import { bin, str } from "../../durable-objects/sqlite/sql";

const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];
const ALL = [PRIMARY, ...REPLICAS];

let clock: ManualClock;

const catchUpAll = () => Promise.all(REPLICAS.map((r) => nodeApi(r).catchUp()));
const stat = async (node: string, name: string) => Number((await nodeApi(node).info(["stats"])).match(new RegExp(`^${name}:(\\d+)\\r$`, "m"))![1]);

/** Runs a command on `node`'s engine itself (a replica answers reads from its own keyspace). */
const on = (node: string, ...argv: (string | number)[]) =>
  inNode(stubOf(node), (n) => {
    const out = n.core.engine.run({ mode: "single", commands: [argv.map(String)], permission: "admin" }) as { outcomes: { result?: unknown; error?: string }[] };
    const o = out.outcomes[0]!;
    return o.error ?? o.result;
  });

/** The hash's fields as the node's storage holds them, past their deadline or not. */
const storedFields = (node: string, key: string) =>
  inNode(stubOf(node), (n, state) => {
    n.core.engine.storage.storeDeferred();
    const eid = state.storage.sql.exec<{ eid: number }>("SELECT eid FROM keyspace WHERE key = ?", bin(key)).toArray()[0]?.eid;
    if (eid === undefined) return [];
    return state.storage.sql.exec<{ field: ArrayBuffer }>("SELECT field FROM elements WHERE eid = ? ORDER BY field", eid).toArray().map((r) => str(r.field));
  });

beforeEach(async () => {
  clock = await onOneClock(ALL, REPLICAS);
});

afterEach(async () => {
  await drainAlarms(PRIMARY, clock);
  for (const name of ALL) await inNode(stubOf(name), (node) => void (node.clock = systemClock));
});

describe("hash-field expiry across nodes", () => {
  it("HEXPIRE 1: the sweep deletes the field at its deadline on the primary and every replica, counted in INFO", async () => {
    const before = await stat(PRIMARY, "expired_subkeys");
    await redis("HSET", "session", "token", "t", "user", "u");
    expect(await redis("HEXPIRE", "session", 1, "FIELDS", 1, "token")).toEqual([1]);
    await catchUpAll();
    for (const r of REPLICAS) expect(await on(r, "HTTL", "session", "FIELDS", 2, "token", "user")).toEqual([1, -1]);

    // The primary's alarm is armed for the field's deadline.
    const alarm = await inNode(stubOf(PRIMARY), (node) => node.alarmAt());
    expect(alarm! - clock.now()).toBeLessThanOrEqual(1000);
    clock.advance(1000);
    // Before the sweep a replica already leaves the field out, and deletes nothing itself.
    expect(await on("wnam", "HGET", "session", "token")).toBeNull();
    expect(await storedFields("wnam", "session")).toEqual(["token", "user"]);

    expect(await runDurableObjectAlarm(stubOf(PRIMARY))).toBe(true);
    expect(await storedFields(PRIMARY, "session")).toEqual(["user"]);
    expect(await stat(PRIMARY, "expired_subkeys")).toBe(before + 1);
    await catchUpAll();
    for (const r of REPLICAS) {
      expect(await storedFields(r, "session"), r).toEqual(["user"]);
      expect(await on(r, "HLEN", "session")).toBe(1);
    }
    const primary = await nodeApi(PRIMARY).digest();
    for (const r of REPLICAS) expect((await nodeApi(r).digest()).digest, r).toBe(primary.digest);

    // A restarted replica keeps the other field's state; the hash goes with its last field.
    await evictDurableObject(stubOf("apac"));
    await redis("HPEXPIRE", "session", 10, "FIELDS", 1, "user");
    clock.advance(10);
    expect(await runDurableObjectAlarm(stubOf(PRIMARY))).toBe(true);
    await catchUpAll();
    for (const r of ALL) expect(await on(r, "EXISTS", "session"), r).toBe(0);
  });

  it("a field's deadline survives the primary's restart and reaches a replica that full-syncs", async () => {
    await redis("HSET", "h", "a", "1", "b", "2");
    await redis("HPEXPIRE", "h", 5000, "FIELDS", 1, "a");
    await evictDurableObject(stubOf(PRIMARY));
    await inNode(stubOf(PRIMARY), (node) => void (node.clock = clock));
    expect(await redis("HPEXPIRETIME", "h", "FIELDS", 2, "a", "b")).toEqual([expect.any(Number), -1]);
    await inNode(stubOf("weur"), async (_n, state) => void (await state.storage.deleteAll()));
    await evictDurableObject(stubOf("weur"));
    await inNode(stubOf("weur"), (node) => void (node.clock = clock));
    await catchUpAll();
    await catchUpAll();
    expect(await on("weur", "HPEXPIRETIME", "h", "FIELDS", 2, "a", "b")).toEqual(await redis("HPEXPIRETIME", "h", "FIELDS", 2, "a", "b"));
  });
});
