/**
 * Pub/sub (issue 28): 100 subscribers to one channel, a quarter each from New York, San
 * Francisco, Paris and Tokyo (so Flaredis holds them at its replicas wnam, weur and apac: the
 * nearest to each), and one publisher. Two phases, for Flaredis and for redis-server in the same
 * run: the messages per second every subscriber receives while 16 publishers publish (from the
 * first PUBLISH until the last subscriber has the last message; PUBLISH itself answers once every
 * subscriber's node has sent it on), then publish-to-receive latency at half that rate, open loop:
 * each message carries its send time, and every subscriber's receipt is a sample.
 */
import { type IncomingMessage, request } from "node:http";
import Redis from "ioredis";
import { HttpClient, NEW_YORK, PARIS, cfFrom } from "../lib/http.ts";
import { quantile, round, runLoad, sleep } from "../lib/load.ts";
import type { RedisServer, Started } from "../lib/systems.ts";
import type { Bench } from "./context.ts";

export const PUBSUB_REPLICAS = ["wnam", "weur", "apac"];
const SAN_FRANCISCO = cfFrom(37.7749, -122.4194, "NA", "US");
const TOKYO = cfFrom(35.6762, 139.6503, "AS", "JP");
const PLACES = [NEW_YORK, SAN_FRANCISCO, PARIS, TOKYO];
const SUBSCRIBERS = 100;
const CHANNEL = "bench:pubsub";

/** What the subscribers received: per message, the receipt times (ms, performance.now) of each. */
class Receipts {
  readonly latencies: number[] = [];
  received = 0;
  /** A message `<sent ms>` received now. */
  got(message: string): void {
    this.received++;
    const sent = Number(message);
    if (Number.isFinite(sent) && sent > 0) this.latencies.push(performance.now() - sent);
  }
}

/** One SSE subscriber at the worker; resolves once subscribed. */
function sseSubscriber(f: Started, cf: string, receipts: Receipts): Promise<IncomingMessage> {
  const url = new URL(`${f.url}/subscribe/${CHANNEL}`);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: "POST", path: url.pathname, headers: { ...f.headers, authorization: "Bearer dev-token", accept: "text/event-stream", "MF-CF-Blob": cf } },
      (res) => {
        let buffer = "";
        let subscribed = false;
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffer += chunk;
          const events = buffer.split("\n\n");
          buffer = events.pop()!;
          for (const e of events) {
            const data = e.replace(/^data: /, "");
            if (data.startsWith("message,")) receipts.got(data.slice(data.indexOf(",", 8) + 1));
            else if (!subscribed && data.startsWith("subscribe,")) {
              subscribed = true;
              resolve(res);
            }
          }
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end("[]");
  });
}

/** The two phases against `publish`, which answers how many subscribers got the message. */
async function phases(bench: Bench, system: "flaredis" | "redis", publish: (message: string) => Promise<number>, receipts: Receipts): Promise<void> {
  const seconds = bench.quick ? 3 : 8;
  // Capacity: 16 publishers for `seconds` (warm-up included), until every subscriber has every message.
  const begun = performance.now();
  let published = 0;
  const load = await runLoad({ concurrency: 16, seconds }, async () => {
    const n = await publish("0");
    published++;
    if (n !== SUBSCRIBERS) throw new Error(`PUBLISH reached ${n} subscribers, not ${SUBSCRIBERS}`);
  });
  for (let i = 0; i < 6000 && receipts.received < published * SUBSCRIBERS; i++) await sleep(10);
  const delivered = (receipts.received / SUBSCRIBERS / (performance.now() - begun)) * 1000;
  await sleep(500);
  receipts.latencies.length = 0;
  const rate = Math.max(10, Math.floor(delivered / 4));
  const start = performance.now();
  const sends: Promise<number>[] = [];
  for (let i = 0; i < rate * seconds; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    sends.push(publish(String(performance.now())));
  }
  await Promise.all(sends);
  for (let i = 0; i < 3000 && receipts.latencies.length < rate * seconds * SUBSCRIBERS; i++) await sleep(10);
  const sorted = receipts.latencies.sort((a, b) => a - b);
  bench.record("pubsub_100_subscribers", system, {
    published_per_s: load.ops_per_s,
    delivered_msgs_per_s: round(delivered, 0),
    deliveries_per_s: round(delivered * SUBSCRIBERS, 0),
    publish_errors: load.errors,
    latency_rate_per_s: rate,
    latency_p50_ms: round(quantile(sorted, 0.5)),
    latency_p99_ms: round(quantile(sorted, 0.99)),
    received_pct: round((100 * sorted.length) / (rate * seconds * SUBSCRIBERS), 2),
  });
}

export async function flaredisPubSub(bench: Bench, f: Started): Promise<void> {
  const receipts = new Receipts();
  const subscribers = await Promise.all(Array.from({ length: SUBSCRIBERS }, (_, i) => sseSubscriber(f, PLACES[i % PLACES.length]!, receipts)));
  const http = new HttpClient(f.url, "dev-token", f.headers, 256);
  try {
    await phases(bench, "flaredis", async (message) => {
      const reply = await http.post("/", ["PUBLISH", CHANNEL, message], { "MF-CF-Blob": NEW_YORK });
      if (reply.status !== 200) throw new Error(`${reply.status} ${reply.body}`);
      return (JSON.parse(reply.body) as { result: number }).result;
    }, receipts);
  } finally {
    http.close();
    for (const s of subscribers) s.destroy();
  }
}

export async function redisPubSub(bench: Bench, master: RedisServer): Promise<void> {
  const receipts = new Receipts();
  const subscribers = Array.from({ length: SUBSCRIBERS }, () => new Redis({ port: master.port, host: "127.0.0.1", protocol: 2 } as never));
  await Promise.all(subscribers.map((s) => s.subscribe(CHANNEL)));
  for (const s of subscribers) s.on("message", (_c: string, m: string) => receipts.got(m));
  const publishers = Array.from({ length: 16 }, () => new Redis({ port: master.port, host: "127.0.0.1", protocol: 2 } as never));
  let next = 0;
  try {
    await phases(bench, "redis", (message) => publishers[next++ % publishers.length]!.publish(CHANNEL, message), receipts);
  } finally {
    for (const c of [...subscribers, ...publishers]) c.disconnect();
  }
}
