import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Three projects. "workers" runs inside workerd through Cloudflare's vitest integration (the
// engine, the node Durable Object, the HTTP API, and whole clusters of nodes and sentinels on the
// in-memory transport), with the sentinel Durable Objects switched off so that nothing but the
// test moves the nodes' clocks. "sentinels" runs the same way with wrangler.toml's sentinels on:
// failover through the sentinel Durable Objects and the admin API. "e2e" runs in Node and starts
// the real worker with wrangler's unstable_startWorker, then drives it with the official
// @upstash/redis client.
const workerd = (name: string, include: string[], bindings: Record<string, string> = {}) => ({
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" }, miniflare: { bindings } })],
  test: {
    name,
    include,
    // Files share one Miniflare instance and its Durable Objects: run them one at a time.
    fileParallelism: false,
    // The limit only catches a hang: how long a test took never decides its pass or fail, and a
    // loaded CI machine takes twice as long as a quiet one over the same work.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

export default defineConfig({
  test: {
    projects: [
      workerd("workers", ["test/{engine,types,replication,routing,failover,api,scripting,tools}/*.test.ts"], { FLAREDIS_SENTINELS: "" }),
      workerd("sentinels", ["test/sentinels/*.test.ts"]),
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
