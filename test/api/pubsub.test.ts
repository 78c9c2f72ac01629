// Pub/sub (issue 28): a subscriber is an SSE response the worker holds, fed by a hibernatable
// WebSocket at the nearest node; PUBLISH runs on the primary and reaches every region over the
// replication pushes. Messages arrive in publish order, once; PUBLISH counts the subscribers that
// got it in every region; PUBSUB answers over every node; a client that goes away unsubscribes.
import { describe, expect, it } from "vitest";
import { BASE, TOKENS, call, onOneClock, redis, worker } from "../support/helpers";

const PRIMARY = "enam";
const REPLICAS = ["wnam", "weur", "apac"];
const PARIS = { latitude: "48.86", longitude: "2.35", continent: "EU" };
const TOKYO = { latitude: "35.68", longitude: "139.69", continent: "AS" };
const NEW_YORK = { latitude: "40.71", longitude: "-74.01", continent: "NA" };

/** An SSE subscription: its events' data, read as they come. */
async function subscribe(path: string, cf: Record<string, unknown>) {
  const response = await worker.fetch(`${BASE}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKENS.readwrite}`, accept: "text/event-stream" },
    body: "[]",
    cf,
  } as RequestInit);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/event-stream");
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const queue: string[] = [];
  return {
    servedBy: response.headers.get("flaredis-served-by"),
    /** The next `n` events' data. */
    async next(n: number): Promise<string[]> {
      while (queue.length < n) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended after ${queue.length} events`);
        buffer += decoder.decode(value, { stream: true });
        const events = buffer.split("\n\n");
        buffer = events.pop()!;
        for (const e of events) queue.push(e.replace(/^data: /, ""));
      }
      return queue.splice(0, n);
    },
    close: () => reader.cancel(),
  };
}

const publish = (channel: string, message: string, cf = TOKYO) => call(["PUBLISH", channel, message], { token: TOKENS.readwrite, cf });

describe("pub/sub over SSE", () => {
  it("a subscriber at a replica gets 1,000 messages published from another region, in order, once; PUBLISH counts every region's", async () => {
    await onOneClock([PRIMARY, ...REPLICAS], REPLICAS);
    const paris = await subscribe("/subscribe/news", PARIS);
    expect(paris.servedBy).toBe("replica:weur");
    expect(await paris.next(1)).toEqual(["subscribe,news,1"]);
    const pattern = await subscribe("/psubscribe/ne*", TOKYO);
    expect(pattern.servedBy).toBe("replica:apac");
    expect(await pattern.next(1)).toEqual(["psubscribe,ne*,1"]);
    for (let i = 0; i < 1000; i++) expect((await publish("news", `m${i}`)).json).toEqual({ result: 2 });
    expect(await paris.next(1000)).toEqual(Array.from({ length: 1000 }, (_, i) => `message,news,m${i}`));
    expect(await pattern.next(1000)).toEqual(Array.from({ length: 1000 }, (_, i) => `pmessage,ne*,news,m${i}`));
    // A pipeline's PUBLISHes go out together, each counted, in order.
    const piped = await call(Array.from({ length: 20 }, (_, i) => ["PUBLISH", "news", `p${i}`]), { token: TOKENS.readwrite, cf: TOKYO, path: "/pipeline" });
    expect(piped.json).toEqual(Array.from({ length: 20 }, () => ({ result: 2 })));
    expect(await paris.next(20)).toEqual(Array.from({ length: 20 }, (_, i) => `message,news,p${i}`));
    expect(await pattern.next(20)).toEqual(Array.from({ length: 20 }, (_, i) => `pmessage,ne*,news,p${i}`));
    // Another channel reaches the pattern only; one nobody listens to, nobody.
    expect((await publish("nest", "x", NEW_YORK)).json).toEqual({ result: 1 });
    expect(await pattern.next(1)).toEqual(["pmessage,ne*,nest,x"]);
    expect((await publish("other", "x")).json).toEqual({ result: 0 });
    expect(await redis("PUBSUB", "CHANNELS")).toEqual(["news"]);
    expect(await redis("PUBSUB", "NUMSUB", "news", "none")).toEqual(["news", 1, "none", 0]);
    expect(await redis("PUBSUB", "NUMPAT")).toBe(1);
    // A client that goes away is unsubscribed at the next message (its write fails).
    await paris.close();
    await publish("news", "after");
    for (let i = 0; i < 50 && (await redis("PUBSUB", "NUMSUB", "news"))[1] !== 0; i++) await publish("news", "again");
    expect(await redis("PUBSUB", "NUMSUB", "news")).toEqual(["news", 0]);
    await pattern.close();
  });

  it("a subscription goes to the next node when the nearest is down: with every replica down, the primary holds it", async () => {
    const fault = (node: string, body: object) => call(body, { path: `/admin/nodes/${node}/faults` });
    try {
      for (const r of REPLICAS) expect((await fault(r, { down: true })).status).toBe(200);
      const paris = await subscribe("/subscribe/fallback", PARIS);
      expect(paris.servedBy).toBe("primary:enam");
      expect(await paris.next(1)).toEqual(["subscribe,fallback,1"]);
      expect((await publish("fallback", "here", NEW_YORK)).json).toEqual({ result: 1 });
      expect(await paris.next(1)).toEqual(["message,fallback,here"]);
      await paris.close();
    } finally {
      for (const r of REPLICAS) await fault(r, { down: false });
    }
  });

  it("a subscriber that leaves 8 MiB unread is dropped, as Redis drops one past its output buffer limit", async () => {
    const slow = await subscribe("/subscribe/firehose", PARIS);
    expect(await slow.next(1)).toEqual(["subscribe,firehose,1"]);
    // Nothing reads `slow` from here: 1 MiB messages pile up in the worker until it lets go.
    const mib = "x".repeat(1024 * 1024);
    let counted = 1;
    for (let i = 0; i < 40 && counted > 0; i++) counted = (await publish("firehose", mib)).json.result;
    expect(counted).toBe(0);
    expect(await redis("PUBSUB", "NUMSUB", "firehose")).toEqual(["firehose", 0]);
  });

  it("the body form, SUBSCRIBE to several channels, and the errors of the connection commands over the plain API", async () => {
    const response = await worker.fetch(`${BASE}/`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKENS.readwrite}`, accept: "text/event-stream" },
      body: JSON.stringify(["SUBSCRIBE", "a", "b"]),
      cf: PARIS,
    } as RequestInit);
    const reader = response.body!.getReader();
    let text = "";
    while (!text.includes("subscribe,b,2")) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toBe("data: subscribe,a,1\n\ndata: subscribe,b,2\n\n");
    expect((await publish("b", "hello")).json).toEqual({ result: 1 });
    while (!text.includes("hello")) text += new TextDecoder().decode((await reader.read()).value);
    expect(text.endsWith("data: message,b,hello\n\n")).toBe(true);
    await reader.cancel();
    const plain = await call(["SUBSCRIBE", "a"], { token: TOKENS.readwrite });
    expect(plain.json.error).toMatch(/^ERR SUBSCRIBE is not supported by Flaredis \(a subscription is a Server-Sent Events response/);
    expect((await call(["PUBSUB", "NUMSUB"], { token: TOKENS.readwrite })).json).toEqual({ result: [] });
  });
});
