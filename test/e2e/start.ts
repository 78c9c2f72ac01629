/** Starts the real worker (wrangler's unstable_startWorker) on a free loopback port. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_startWorker } from "wrangler";

export async function startFlaredis(persist = mkdtempSync(join(tmpdir(), "flaredis-e2e-"))) {
  const worker = await unstable_startWorker({
    config: "wrangler.toml",
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, persist, watch: false, logLevel: "none" },
  } as Parameters<typeof unstable_startWorker>[0]);
  await worker.ready;
  const url = String(await worker.url).replace(/\/$/, "");
  return { url, persist, dispose: () => worker.dispose() };
}
