import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two projects: "workers" runs inside workerd through Cloudflare's vitest integration (the engine,
// the node Durable Object and the HTTP API); "e2e" runs in Node and starts the real worker with
// wrangler's unstable_startWorker, then drives it with the official @upstash/redis client.
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: {
          name: "workers",
          include: ["test/*.test.ts"],
          // Files share one Miniflare instance and its Durable Objects: run them one at a time.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
