/**
 * The real worker with `flaredis proxy` in front of it (one per token), and a redis-server of our
 * own when it is installed, started before a file's tests and stopped after them: what the tests
 * that run a library or a command against both start. Read the fields inside the tests (they are
 * set in beforeAll).
 */
import Redis from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { startFlaredis } from "../e2e/start";
import { type RedisServer, startRedisServer } from "./fuzz/clients";
import { tool } from "./need-tool";
import { type ProxyProcess, startProxy } from "./proxy-process";

export interface SideBySide {
  server: Awaited<ReturnType<typeof startFlaredis>>;
  /** The proxy with the first token; `proxies` one per token, in order. */
  proxy: ProxyProcess;
  proxies: ProxyProcess[];
  /** redis-server, when installed. */
  reference: RedisServer | undefined;
}

export function sideBySide(tokens: readonly string[] = ["dev-token"]): SideBySide {
  const t = { proxies: [] as ProxyProcess[], reference: undefined } as unknown as SideBySide;
  beforeAll(async () => {
    t.server = await startFlaredis();
    for (const token of tokens) t.proxies.push(await startProxy(t.server.url, token));
    t.proxy = t.proxies[0]!;
    if (!tool("redis-server", "redis-server").skip) t.reference = await startRedisServer();
  });
  afterAll(async () => {
    for (const p of t.proxies) p.stop();
    await t.reference?.stop();
    await t.server?.dispose();
  });
  return t;
}

/** Each call's answer on `port` through one ioredis connection, an error as `error: <text>`. */
export async function answersOn(port: number, calls: readonly (readonly string[])[]): Promise<unknown[]> {
  const c = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  try {
    const out: unknown[] = [];
    for (const argv of calls) out.push(await c.call(argv[0]!, ...argv.slice(1)).then((v) => v, (e: Error) => `error: ${e.message}`));
    return out;
  } finally {
    c.disconnect();
  }
}
