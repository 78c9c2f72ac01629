/** Entry point: the HTTP API, the Cron Trigger's backups, and the Durable Object classes they talk to. */
import { app } from "./app";
import { makeBackup } from "./backups";
import type { Env } from "./env";

export { FlaredisNode } from "../durable-objects/node/flaredis-node";
export { FlaredisSentinel } from "../durable-objects/sentinel/flaredis-sentinel";
export { FlaredisCluster } from "../durable-objects/cluster/flaredis-cluster";

export default {
  fetch: app.fetch,
  /** wrangler.toml's `[triggers] crons`: a backup to the BACKUPS bucket, when one is bound. */
  async scheduled(controller, env, ctx) {
    // Awaited, not left to waitUntil (which ends 30 s after a response): a scheduled handler has
    // minutes. A failed backup (an export already running, the bucket unreachable) is said in the
    // logs; the next runs as planned.
    if (!env.BACKUPS) return;
    try {
      await makeBackup(env, controller.scheduledTime);
    } catch (e) {
      console.error("flaredis: the scheduled backup failed:", e);
    }
  },
} satisfies ExportedHandler<Env>;
