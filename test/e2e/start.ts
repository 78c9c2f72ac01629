/** Starts the real worker (wrangler's unstable_startWorker) on a free loopback port. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_startWorker } from "wrangler";

export async function startFlaredis(persist = mkdtempSync(join(tmpdir(), "flaredis-e2e-")), vars: Record<string, string> = {}) {
  const worker = await unstable_startWorker({
    config: "wrangler.toml",
    bindings: Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: "plain_text", value }])),
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, persist, watch: false, logLevel: "none" },
  } as Parameters<typeof unstable_startWorker>[0]);
  await worker.ready;
  const url = String(await worker.url).replace(/\/$/, "");
  return { url, persist, dispose: () => worker.dispose() };
}

/** The four nodes of wrangler.toml's local topology. */
export const NODES = ["enam", "wnam", "weur", "apac"];

/** Every node's digest by node, once all hold the same offset (waitFor's bound). */
export async function digestsWhenCaughtUp(url: string): Promise<Map<string, string>> {
  const digestOf = async (node: string) =>
    (await (await fetch(`${url}/admin/nodes/${node}/digest`, { headers: { authorization: "Bearer dev-admin-token" } })).json()) as { node: string; offset: number; digest: string };
  let digests: { node: string; offset: number; digest: string }[] = [];
  const caughtUp = () => digests.length > 0 && digests.every((d) => d.offset === digests[0]!.offset);
  await waitFor(async () => ((digests = await Promise.all(NODES.map(digestOf))), caughtUp()), 30_000, 25);
  if (!caughtUp()) throw new Error("the replicas did not reach the primary's offset");
  return new Map(digests.map((d) => [d.node, d.digest]));
}

/** Every key SCAN returns, page by page (COUNT `count`) until the cursor comes back to 0. */
export async function scanAll(redis: { scan(cursor: string | number, opts: { count: number }): Promise<[string | number, string[]]> }, count: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | number = 0;
  do {
    const [next, page] = await redis.scan(cursor, { count });
    seen.push(...page);
    cursor = next;
  } while (String(cursor) !== "0");
  return seen;
}

/** The `data:` of each Server-Sent Event of `response`, as they come (read in the background until it ends). */
export function sseEvents(response: Response): { events: string[]; reader: ReadableStreamDefaultReader<string> } {
  const events: string[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      const parts = buffer.split("\n\n");
      buffer = parts.pop()!;
      events.push(...parts.map((p) => p.replace(/^data: /, "")));
    }
  })().catch(() => {});
  return { events, reader };
}

/**
 * Polls `check` every `everyMs` until it holds or `ms` have passed, whichever comes first; the
 * caller's assertions after it say what is missing. The bound only ends a wait that would hang: a
 * loaded machine may take many times longer than a quiet one to deliver, never a reason to fail.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 30_000, everyMs = 5): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, everyMs));
}

/** Resolves once `check` holds (waitFor's bound); throws naming `what` if it never does. */
export async function until(check: () => boolean, what: string): Promise<void> {
  await waitFor(check);
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}
