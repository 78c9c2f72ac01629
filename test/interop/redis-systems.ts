/**
 * For a test file that compares Flaredis with redis-server: the real worker and a redis-server of
 * our own, started before the file's tests (unless redis-server is missing and not required:
 * the tests then skip, need-tool.ts) and stopped after them.
 */
import { afterAll, beforeAll } from "vitest";
import { type Systems, startSystems } from "./fuzz/systems";
import { type Tool, assertInstalled, tool } from "./need-tool";

export function redisSystems(): { readonly redisServer: Tool; systems(): Systems } {
  const redisServer = tool("redis-server", "redis-server");
  let systems: Systems | undefined;
  beforeAll(async () => {
    if (redisServer.skip) return;
    assertInstalled(redisServer);
    systems = await startSystems();
  });
  afterAll(async () => {
    await systems?.stop();
  });
  return {
    redisServer,
    systems: () => {
      if (!systems) throw new Error("the systems are not started (redis-server is missing)");
      return systems;
    },
  };
}
