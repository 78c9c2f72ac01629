/**
 * Both sides, started for a session: the real worker and a redis-server of our own; or ones
 * already running (`--url`, `--redis-port`). The worker is started as the e2e tests start it
 * (`e2e`: behind wrangler's dev proxy, 11-16 ms a request here) or as the bench does
 * (`direct`: the runtime's own address, local observability off, 3-5 ms a request; the same
 * worker, wrangler.toml's topology), which `npm run fuzz` uses for long runs.
 */
import { startFlaredis } from "../../e2e/start.ts";
import { FlaredisClient, RespConnection, startRedisServer } from "./clients.ts";
import { Differential } from "./runner.ts";
import { Recording, type Replay, type Transcript } from "./transcript.ts";

export interface Systems {
  readonly differential: Differential;
  readonly redisVersion: string;
  readonly flaredisUrl: string;
  /** With `record`: redis-server's side, written down. */
  readonly recording?: Recording;
  /** With `transcript`: redis-server's side as recorded. */
  readonly replay?: Replay;
  stop(): Promise<void>;
}

export interface SystemsOptions {
  readonly url?: string;
  readonly redisPort?: number;
  readonly runtime?: "e2e" | "direct";
  /** Write redis-server's side down (transcript.ts), after an earlier transcript's programs if given. */
  readonly record?: boolean | Transcript;
  /** A recorded redis-server instead of a live one. */
  readonly transcript?: Replay;
}

/** The worker as the bench starts it (imported only then: the bench's module turns local observability off). */
async function startDirect(): Promise<{ url: string; dispose(): Promise<void> }> {
  const { startFlaredis: startBench } = await import("../../../bench/lib/systems.ts");
  const started = await startBench({ replicas: "wnam weur apac" });
  return { url: started.url, dispose: started.stop };
}

export async function startSystems(options: SystemsOptions = {}): Promise<Systems> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    let url = options.url;
    if (url === undefined) {
      const flaredis = options.runtime === "direct" ? await startDirect() : await startFlaredis();
      stops.push(flaredis.dispose);
      url = flaredis.url;
    }
    if (options.transcript) {
      const replay = options.transcript;
      const redisVersion = replay.transcript.redisVersion;
      return {
        differential: new Differential(replay, new FlaredisClient(url), redisVersion),
        redisVersion,
        flaredisUrl: url,
        replay,
        stop,
      };
    }
    let redis: RespConnection;
    let redisVersion: string;
    if (options.redisPort === undefined) {
      const server = await startRedisServer();
      stops.push(server.stop);
      redis = server.client;
      redisVersion = server.version;
    } else {
      redis = await RespConnection.open(options.redisPort);
      const connection = redis;
      stops.push(async () => connection.close());
      const info = await redis.send("INFO", "server");
      redisVersion = Buffer.isBuffer(info) ? (/redis_version:(\S+)/.exec(info.toString())?.[1] ?? "0") : "0";
    }
    const recording = options.record ? new Recording(redis, redisVersion, options.record === true ? undefined : options.record) : undefined;
    return {
      differential: new Differential(recording ?? redis, new FlaredisClient(url), redisVersion),
      redisVersion,
      flaredisUrl: url,
      ...(recording ? { recording } : {}),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
