// ACL users over HTTP against the real worker (issue 35, acceptance 2): a user made with
// `ACL SETUSER app on >secret ~app:* +@read +@write -@dangerous` is the bearer token
// `app:secret` for @upstash/redis unchanged; it can SET app:x, gets NOPERM for SET other:x and
// FLUSHALL (refused at the edge, logged in the primary's ACL LOG), reads at a replica, and still
// works after POST /admin/failover. The proxy's AUTH is in test/interop/acl.test.ts.
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFlaredis, waitFor } from "./start";

let server: Awaited<ReturnType<typeof startFlaredis>>;

beforeAll(async () => {
  server = await startFlaredis();
});
afterAll(async () => {
  await server?.dispose();
});

async function send(token: string, command: unknown[], headers: Record<string, string> = {}) {
  const r = await fetch(server.url, { method: "POST", headers: { authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify(command) });
  return { status: r.status, servedBy: r.headers.get("flaredis-served-by"), json: (await r.json()) as { result?: unknown; error?: string } };
}

describe("ACL users over HTTP", () => {
  it("a user is a bearer token: SET app:x, NOPERM for other:x and FLUSHALL, and the same after a failover", async () => {
    expect(await send("dev-admin-token", ["ACL", "SETUSER", "app", "on", ">secret", "~app:*", "+@read", "+@write", "-@dangerous"])).toMatchObject({ status: 200, json: { result: "OK" } });
    const app = new Redis({ url: server.url, token: "app:secret", retry: false });
    expect(await app.set("app:x", "1")).toBe("OK");
    expect(await app.get("app:x")).toBe(1);
    await expect(app.set("other:x", "1")).rejects.toThrow("NOPERM this user has no permissions to access one of the keys used as arguments");
    await expect(app.flushall()).rejects.toThrow("NOPERM this user has no permissions to run the 'flushall' command");
    // Refused at the edge: no node answered it.
    const refused = await send("app:secret", ["FLUSHALL"]);
    expect(refused).toMatchObject({ status: 403, servedBy: "edge" });
    // A pipeline's commands are each the node's to judge.
    const pipeline = await fetch(`${server.url}/pipeline`, {
      method: "POST",
      headers: { authorization: "Bearer app:secret" },
      body: JSON.stringify([["SET", "app:p", "1"], ["SET", "other:p", "1"]]),
    });
    expect(await pipeline.json()).toEqual([{ result: "OK" }, { error: "NOPERM this user has no permissions to access one of the keys used as arguments" }]);
    // AUTH alone in a request checks credentials, whatever the request's own token.
    expect(await send("dev-token", ["AUTH", "app", "secret"])).toMatchObject({ status: 200, json: { result: "OK" } });
    expect(await send("dev-token", ["AUTH", "app", "nope"])).toMatchObject({ status: 401, json: { error: "WRONGPASS invalid username-password pair or user is disabled." } });
    expect(await send("app:secret", ["AUTH", "dev-token"])).toMatchObject({ status: 200, json: { result: "OK" } });
    // A wrong password, an unknown user, the admin API: refused.
    expect((await send("app:wrong", ["GET", "app:x"])).status).toBe(401);
    expect((await send("nobody:secret", ["GET", "app:x"])).status).toBe(401);
    expect((await fetch(`${server.url}/admin/topology`, { headers: { authorization: "Bearer app:secret" } })).status).toBe(403);
    // A read served by a replica holds the user to its rules too.
    const paris = JSON.stringify({ latitude: "48.86", longitude: "2.35" });
    expect(await send("app:secret", ["GET", "app:x"], { "MF-CF-Blob": paris })).toMatchObject({ status: 200, json: { result: "1" } });
    // The edge's refusals reach the primary's ACL LOG.
    const log = await send("dev-admin-token", ["ACL", "LOG"]);
    expect(JSON.stringify(log.json.result)).toContain('"reason","command","context","toplevel","object","flushall","username","app"');

    // Subscriptions are checked at the edge: the command (app has no @pubsub), then the channels.
    const subscribe = (token: string, channel: string) =>
      fetch(`${server.url}/subscribe/${channel}`, { method: "POST", headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, body: "[]" });
    const denied = await subscribe("app:secret", "news:1");
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({ error: "NOPERM this user has no permissions to run the 'subscribe' command" });
    expect(await send("dev-admin-token", ["ACL", "SETUSER", "reader", "on", ">r", "+@all", "&news:*"])).toMatchObject({ json: { result: "OK" } });
    // The worker's copy of the users learns of a new one within 100 ms of the last time it asked.
    await waitFor(async () => (await send("reader:r", ["PING"])).status !== 401, 30_000, 25);
    const other = await subscribe("reader:r", "sports");
    expect(await other.json()).toEqual({ error: "NOPERM this user has no permissions to access one of the channels used as arguments" });
    const news = await subscribe("reader:r", "news:1");
    expect(news.status).toBe(200);
    await news.body?.cancel();

    const failover = await fetch(`${server.url}/admin/failover`, {
      method: "POST",
      headers: { authorization: "Bearer dev-admin-token", "content-type": "application/json" },
      body: JSON.stringify({ to: "weur" }),
    });
    expect(await failover.json()).toMatchObject({ primary: "weur" });
    expect(await app.set("app:y", "2")).toBe("OK");
    await expect(app.set("other:y", "1")).rejects.toThrow("NOPERM");
    expect(await send("dev-admin-token", ["ACL", "WHOAMI"])).toMatchObject({ json: { result: "admin" } });
    expect((await send("dev-admin-token", ["ACL", "USERS"])).json.result).toEqual(["admin", "app", "default", "reader", "readonly"]);
    // Deleted, the user opens nothing (the worker's copy is asked again within seconds; the node refuses at once).
    expect(await send("dev-admin-token", ["ACL", "DELUSER", "app"])).toMatchObject({ json: { result: 1 } });
    const after = await send("app:secret", ["SET", "app:z", "1"], { "Flaredis-Max-Staleness": "0" });
    expect(after.status).toBe(401);
  }, 60_000);
});
