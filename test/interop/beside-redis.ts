/**
 * The real worker with `flaredis proxy` in front of it and a redis-server of our own, each with an
 * ioredis client: what the tests that hold Flaredis beside redis-server start before them.
 */
import Redis from "ioredis";
import { startFlaredis } from "../e2e/start";
import { type RedisServer, startRedisServer } from "./fuzz/clients";
import { type ProxyProcess, startProxy } from "./proxy-process";

export interface BesideRedis {
  /** The worker's URL. */
  readonly url: string;
  /** ioredis through the proxy, and straight to redis-server. */
  readonly flaredis: Redis;
  readonly redis: Redis;
  stop(): Promise<void>;
}

export async function startBesideRedis(token = "dev-token"): Promise<BesideRedis> {
  const server = await startFlaredis();
  let proxy: ProxyProcess | undefined;
  let reference: RedisServer | undefined;
  const clients: Redis[] = [];
  const stop = async () => {
    for (const c of clients) c.disconnect();
    proxy?.stop();
    await reference?.stop();
    await server.dispose();
  };
  try {
    proxy = await startProxy(server.url, token);
    reference = await startRedisServer();
    const flaredis = new Redis({ port: proxy.port, host: "127.0.0.1", lazyConnect: true });
    const redis = new Redis({ port: reference.port, host: "127.0.0.1", lazyConnect: true });
    clients.push(flaredis, redis);
    await flaredis.connect();
    await redis.connect();
    return { url: server.url, flaredis, redis, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
