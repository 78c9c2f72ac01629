// Redis's FAILOVER command over HTTP (issue 35): alone in a request, with the admin token, it is the
// coordinated failover of POST /admin/failover. TO names the replica (the port is read, not used);
// without TO the replica with the largest offset is promoted; its options are checked with
// redis-server 7.0's texts; in a pipeline, or with another token, it is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFlaredis } from "./start";

let server: Awaited<ReturnType<typeof startFlaredis>>;

beforeAll(async () => {
  server = await startFlaredis();
});
afterAll(async () => {
  await server?.dispose();
});

async function send(command: unknown[], token = "dev-admin-token", path = "") {
  const r = await fetch(`${server.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(command) });
  return { status: r.status, json: (await r.json()) as unknown };
}

const primary = async () => ((await (await fetch(`${server.url}/admin/topology`, { headers: { authorization: "Bearer dev-admin-token" } })).json()) as { primary: { node: string } }).primary.node;

describe("FAILOVER", () => {
  it("switches the primary to the replica named, or to the one with the largest offset, and checks its options as Redis", async () => {
    expect(await send(["SET", "k", "v"])).toMatchObject({ status: 200 });
    expect(await send(["FAILOVER", "TO", "weur", "6379"])).toEqual({ status: 200, json: { result: "OK" } });
    expect(await primary()).toBe("weur");
    expect(await send(["GET", "k"])).toMatchObject({ json: { result: "v" } });
    expect(await send(["FAILOVER"])).toEqual({ status: 200, json: { result: "OK" } });
    expect(await primary()).not.toBe("weur");

    expect(await send(["FAILOVER", "TO", "nowhere", "1"])).toEqual({ status: 400, json: { error: "ERR FAILOVER target HOST and PORT is not a replica." } });
    expect(await send(["FAILOVER", "TO", "weur", "x"])).toEqual({ status: 400, json: { error: "ERR value is not an integer or out of range" } });
    expect(await send(["FAILOVER", "TO", "weur", "1", "FORCE"])).toEqual({ status: 400, json: { error: "ERR FAILOVER with force option requires both a timeout and target HOST and IP." } });
    expect(await send(["FAILOVER", "TIMEOUT", "0"])).toEqual({ status: 400, json: { error: "ERR FAILOVER timeout must be greater than 0" } });
    expect(await send(["FAILOVER", "BOGUS"])).toEqual({ status: 400, json: { error: "ERR syntax error" } });
    expect((await send(["FAILOVER", "ABORT"])).json).toMatchObject({ error: expect.stringContaining("FAILOVER ABORT is not supported by Flaredis") });
    expect(await send(["FAILOVER"], "dev-token")).toMatchObject({ status: 403 });
    expect(await send([["FAILOVER"]], "dev-admin-token", "/pipeline")).toEqual({
      status: 200,
      json: [{ error: "ERR FAILOVER is not supported by Flaredis (FAILOVER switches the primary through the sentinels: send it alone in a request, with the admin token)" }],
    });
  }, 60_000);
});
