// Pub/sub with the official @upstash/redis client (issue 28): `subscribe` and `psubscribe` as the
// client sends them (SSE at POST /subscribe/<channel>), against the real worker; 1,000 messages
// published with `publish` arrive in order, at a replica. (The client JSON-parses a pmessage
// strictly: patterns get objects here.)
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sseEvents, startFlaredis, until } from "./start";

let server: Awaited<ReturnType<typeof startFlaredis>>;
let redis: Redis;

beforeAll(async () => {
  server = await startFlaredis();
  redis = new Redis({ url: server.url, token: "dev-token", retry: false });
});
afterAll(async () => {
  await server?.dispose();
});


describe("pub/sub with @upstash/redis", () => {
  it("subscribe receives 1,000 messages in order; psubscribe the matching ones; publish counts both", async () => {
    const got: unknown[] = [];
    const patterned: unknown[] = [];
    const subscribed: number[] = [];
    const sub = redis.subscribe(["orders"]);
    sub.on("subscribe", (n) => subscribed.push(n as number));
    sub.on("message", ({ message }) => got.push(message));
    const psub = redis.psubscribe(["ord*"]);
    psub.on("pmessage", ({ channel, message }) => patterned.push(`${channel}:${JSON.stringify(message)}`));
    await until(() => subscribed.length === 1, "the subscription");
    for (let i = 0; i < 50 && (await redis.publish("orders", { warm: "up" })) < 2; i++);
    await until(() => patterned.length > 0 && got.length > 0, "the pattern subscription");
    got.length = 0;
    patterned.length = 0;
    for (let i = 0; i < 1000; i++) expect(await redis.publish("orders", { n: i })).toBe(2);
    await until(() => got.length === 1000 && patterned.length === 1000, "1,000 messages");
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => ({ n: i })));
    expect(patterned[999]).toBe('orders:{"n":999}');
    expect(await redis.publish("ordinal", { x: 1 })).toBe(1);
    await sub.unsubscribe();
    await psub.unsubscribe();
  }, 120_000);
});

describe("keyspace notifications", () => {
  it("with notify-keyspace-events Ex, a subscriber at a replica gets __keyevent@0__:expired for a key whose TTL ran out at the primary", async () => {
    const config = async (value: string) =>
      (await fetch(server.url, { method: "POST", headers: { authorization: "Bearer dev-admin-token" }, body: JSON.stringify(["CONFIG", "SET", "notify-keyspace-events", value]) })).json();
    expect(await config("Ex")).toEqual({ result: "OK" });
    // An SSE subscription from Paris: held by the replica weur.
    const response = await fetch(`${server.url}/subscribe/${encodeURIComponent("__keyevent@0__:expired")}`, {
      method: "POST",
      headers: { authorization: "Bearer dev-token", accept: "text/event-stream", "MF-CF-Blob": JSON.stringify({ latitude: "48.86", longitude: "2.35" }) },
      body: "[]",
    });
    expect(response.headers.get("flaredis-served-by")).toBe("replica:weur");
    const { events, reader } = sseEvents(response);
    await until(() => events.some((e) => e.startsWith("subscribe,")), "the subscription");
    expect(await redis.set("session:1", "v", { px: 100 })).toBe("OK");
    await until(() => events.includes("message,__keyevent@0__:expired,session:1"), "the expired event");
    // Only the expiry: SET's own event is of a class not asked for.
    expect(events.filter((e) => e.startsWith("message,"))).toEqual(["message,__keyevent@0__:expired,session:1"]);
    await reader.cancel();
    expect(await config("")).toEqual({ result: "OK" });
  }, 60_000);
});
