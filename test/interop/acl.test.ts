// ACL users beside redis-server, through `flaredis proxy` (issue 35, acceptance 2): the same
// ACL SETUSER, then ioredis and node-redis connecting as that user (AUTH user pass, HELLO 3 AUTH)
// get the same replies and NOPERM texts from both; a wrong password is WRONGPASS at connect; the
// ACL commands' answers (SETUSER's errors, GETUSER, LIST's line, DRYRUN, LOG's fields) are equal;
// and the user still works through the proxy after POST /admin/failover.
import Redis from "ioredis";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";
import { tool } from "./need-tool";
import { answersOn, sideBySide } from "./side-by-side";

const redisServer = tool("redis-server", "redis-server");

const t = sideBySide(["dev-token", "dev-admin-token"]);


/** A reply, or an error's text. */
const settle = (p: Promise<unknown>) => p.then((v) => (v instanceof Buffer ? v.toString() : v), (e: Error) => `error: ${e.message}`);

/** The same calls on redis-server and on Flaredis (as the admin through the proxy): their answers side by side. */
async function asAdmin(calls: string[][]): Promise<{ redis: unknown[]; flaredis: unknown[] }> {
  return { redis: await answersOn(t.reference!.port, calls), flaredis: await answersOn(t.proxies[1]!.port, calls) };
}

describe.skipIf(redisServer.skip && !process.env.FLAREDIS_INTEROP_REQUIRED)("ACL users beside redis-server", () => {
  it("ACL SETUSER, GETUSER, LIST, DRYRUN and their errors answer as redis-server's", async () => {
    const { redis, flaredis } = await asAdmin([
      ["ACL", "SETUSER", "app", "on", ">secret", "~app:*", "+@read", "+@write", "-@dangerous"],
      ["ACL", "SETUSER", "u", "foo"],
      ["ACL", "SETUSER", "u", "+@nope"],
      ["ACL", "SETUSER", "u", "+nope"],
      ["ACL", "SETUSER", "u", "#abc"],
      ["ACL", "SETUSER", "u", "<nopw"],
      ["ACL", "SETUSER", "a b"],
      ["ACL", "SETUSER", "u", "on", "nopass", "~a*", "%R~r*", "&ch*", "-@all", "+@read"],
      ["ACL", "SETUSER", "u", "allkeys"],
      ["ACL", "SETUSER", "u", "~more"],
      ["ACL", "GETUSER", "u"],
      ["ACL", "GETUSER", "nobody"],
      ["ACL", "DRYRUN", "app", "set", "app:1", "v"],
      ["ACL", "DRYRUN", "app", "set", "other", "v"],
      ["ACL", "DRYRUN", "app", "flushall"],
      ["ACL", "DRYRUN", "app", "get"],
      ["ACL", "DRYRUN", "nobody", "get", "x"],
      ["ACL", "DRYRUN", "app", "nope"],
      ["ACL", "CAT", "nope"],
      ["ACL", "GENPASS", "0"],
      ["ACL", "LOG", "x"],
      ["ACL", "DELUSER", "u", "nobody"],
      ["ACL", "LOAD"],
    ]);
    expect(flaredis).toEqual(redis);
    const line = (all: unknown) => (all as string[]).find((l) => l.startsWith("user app "));
    const lists = await asAdmin([["ACL", "LIST"]]);
    // Redis 7.0 compacts the command rules; the rest of the line is the same.
    const head = (l: string | undefined) => l?.slice(0, l.indexOf(" resetchannels") + " resetchannels".length);
    expect(head(line(lists.flaredis[0]))).toBe(head(line(lists.redis[0])));
    expect(line(lists.flaredis[0])).toMatch(/ resetchannels -@all \+@read \+@write -@dangerous$/);
  });

  it("ioredis and node-redis as the user: the same replies and NOPERM texts; a wrong password is WRONGPASS", async () => {
    for (const [name, port] of [["redis-server", t.reference!.port], ["flaredis", t.proxy.port]] as const) {
      const app = new Redis({ port, host: "127.0.0.1", username: "app", password: "secret", maxRetriesPerRequest: 0 });
      expect(await app.set("app:x", "1"), name).toBe("OK");
      expect(await app.get("app:x"), name).toBe("1");
      expect(await settle(app.set("other:x", "1")), name).toBe("error: NOPERM this user has no permissions to access one of the keys used as arguments");
      expect(await settle(app.flushall()), name).toBe("error: NOPERM this user has no permissions to run the 'flushall' command");
      expect(await settle(app.publish("ch", "m")), name).toBe("error: NOPERM this user has no permissions to run the 'publish' command");
      app.disconnect();
      const client = createClient({ socket: { port, host: "127.0.0.1", reconnectStrategy: false }, username: "app", password: "secret", RESP: 3 });
      await client.connect();
      expect(await client.set("app:y", "2"), name).toBe("OK");
      expect(await settle(client.set("other:y", "2")), name).toBe("error: NOPERM this user has no permissions to access one of the keys used as arguments");
      await client.quit();
      const wrong = createClient({ socket: { port, host: "127.0.0.1", reconnectStrategy: false }, username: "app", password: "wrong" });
      wrong.on("error", () => {});
      expect(await settle(wrong.connect()), name).toBe("error: WRONGPASS invalid username-password pair or user is disabled.");
    }
    // The worker tells the primary of a refused token in the background: asked until it is there (bounded).
    let { redis, flaredis } = await asAdmin([["ACL", "LOG", "3"]]);
    for (let i = 0; i < 40 && !JSON.stringify(flaredis).includes('"auth"'); i++) {
      await new Promise((r) => setTimeout(r, 25));
      ({ redis, flaredis } = await asAdmin([["ACL", "LOG", "3"]]));
    }
    // A failed authentication's object is the command that tried: HELLO here; over HTTP (the proxy's way) the token is an AUTH.
    const fields = (entries: unknown) => (entries as unknown[][]).map((e) => [e[1], e[3], e[5], e[3] === "auth" ? "AUTH" : e[7], e[9]]);
    expect(fields(flaredis[0])).toEqual(fields(redis[0]));
  });

  it("the user still works through the proxy after a failover", async () => {
    const failover = await fetch(`${t.server.url}/admin/failover`, {
      method: "POST",
      headers: { authorization: "Bearer dev-admin-token", "content-type": "application/json" },
      body: JSON.stringify({ to: "weur" }),
    });
    expect(await failover.json()).toMatchObject({ primary: "weur" });
    const app = new Redis({ port: t.proxy.port, host: "127.0.0.1", username: "app", password: "secret", maxRetriesPerRequest: 0 });
    expect(await app.set("app:after", "1")).toBe("OK");
    expect(await settle(app.set("other:after", "1"))).toBe("error: NOPERM this user has no permissions to access one of the keys used as arguments");
    app.disconnect();
  });
});
