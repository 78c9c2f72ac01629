// Issue 13's replication defects end to end: the real worker (wrangler's unstable_startWorker) and
// its four nodes over loopback HTTP, as a user would meet them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODES, digestsWhenCaughtUp as digestsOf, startFlaredis, waitFor } from "./start";

let server: Awaited<ReturnType<typeof startFlaredis>>;

async function post(path: string, body: unknown, token = "dev-admin-token") {
  const r = await fetch(`${server.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as any };
}
const admin = async (path: string) => (await (await fetch(`${server.url}${path}`, { headers: { authorization: "Bearer dev-admin-token" } })).json()) as any;
const fault = (node: string, body: unknown) => post(`/admin/nodes/${node}/faults`, body);

/** Every node's digest, once all hold the primary's offset. */
const digestsWhenCaughtUp = async () => new Set((await digestsOf(server.url)).values());

beforeAll(async () => {
  server = await startFlaredis();
});
afterAll(async () => {
  await server?.dispose();
});

describe("replication end to end", () => {
  it("a far-future deadline leaves the primary serving, across a restart", async () => {
    expect((await post("/", ["SET", "forever", "v", "EXAT", "9999999999"])).json).toEqual({ result: "OK" });
    expect((await post("/", ["PEXPIREAT", "forever", "9007199254740991"])).json).toEqual({ result: 1 });
    await fault("enam", { restart: true });
    expect((await post("/", ["PING"])).json).toEqual({ result: "PONG" });
    expect((await post("/", ["PEXPIRETIME", "forever"])).json).toEqual({ result: 9007199254740991 });
    expect((await admin("/admin/topology")).primary.node).toBe("enam");
    // The alarm still fires for a nearer deadline: the key goes without being read (active expiry).
    const expired = async () => Number((await (await fetch(`${server.url}/admin/nodes/enam/info?section=stats`, { headers: { authorization: "Bearer dev-admin-token" } })).text()).match(/expired_keys:(\d+)/)![1]);
    const before = await expired();
    expect((await post("/", ["SET", "soon", "v", "PX", "50"])).json).toEqual({ result: "OK" });
    await waitFor(async () => (await expired()) !== before, 30_000, 25);
    expect(await expired()).toBe(before + 1);
  });

  it("transactions holding FLUSHALL, FLUSHDB and RENAME leave every node with the primary's digest", async () => {
    for (const tx of [
      [["SET", "a", "1"], ["FLUSHALL"], ["SET", "b", "2"]],
      [["SET", "c", "1"], ["FLUSHALL"], ["SET", "c", "2"]],
      [["SET", "r", "1"], ["RENAME", "r", "s"], ["FLUSHDB"], ["SET", "s", "2"], ["EXPIRE", "s", 100]],
    ])
      expect((await post("/multi-exec", tx)).status).toBe(200);
    expect((await digestsWhenCaughtUp()).size).toBe(1);
  });

  it("WAIT inside a transaction counts only replicas holding the transaction", async () => {
    await post("/", ["SET", "before", "v"]);
    await digestsWhenCaughtUp();
    for (const r of NODES.slice(1)) await fault(r, { link: "down" });
    try {
      const r = await post("/multi-exec", [["SET", "wk", "v"], ["WAIT", "1", "100"]]);
      expect(r.json).toEqual([{ result: "OK" }, { result: 0 }]);
    } finally {
      for (const r of NODES.slice(1)) await fault(r, { link: "up" });
    }
    expect((await digestsWhenCaughtUp()).size).toBe(1);
  });
});
