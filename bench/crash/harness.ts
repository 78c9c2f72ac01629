/**
 * The crash harness (issue 23): `wrangler dev` killed with SIGKILL at random moments under the
 * mixed writer (writer.ts), at least `crashes` times, started again on the same state each time;
 * after each restart every acknowledged write must be there once (check.ts) and the four nodes'
 * digests equal once the replicas caught up. Kills come either while requests are in flight or
 * right after the writers went quiet, a large pipeline of SETs last (keys still deferred: the
 * restart must replay the log from its marker, and each effect only once). Seeded: every choice
 * comes from `seed` (the timing of replies does not).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Random } from "../chaos/context.ts";
import { HttpClient } from "../lib/http.ts";
import { sleep } from "../lib/load.ts";
import { STORAGE_ROOT, freePort } from "../lib/systems.ts";
import { checkKeys, compareDigests } from "./check.ts";
import { ADMIN_TOKEN, DevServer } from "./server.ts";
import { Ledger, Writer } from "./writer.ts";

export interface CrashOptions {
  readonly crashes?: number;
  readonly seed?: number;
  readonly writers?: number;
  /** Loopback port of the dev server (a free one by default). */
  readonly port?: number;
  /** Keep the persist directory (it is kept anyway when the run fails). */
  readonly keep?: boolean;
}

export interface CrashResult {
  readonly ok: boolean;
  /** One line: crashes, keys checked, lost, twice, digests equal, seconds. */
  readonly summary: string;
  readonly persist: string;
}

/** keys_deferred on the primary, or -1 if it did not answer. */
async function keysDeferred(admin: HttpClient): Promise<number> {
  try {
    const r = await admin.get("/admin/nodes/enam/storage", {}, 1000);
    return (JSON.parse(r.body) as { keys_deferred: number }).keys_deferred;
  } catch {
    return -1;
  }
}

export async function runCrash(options: CrashOptions = {}): Promise<CrashResult> {
  const crashes = options.crashes ?? 20;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rnd = new Random(seed);
  const persist = mkdtempSync(join(STORAGE_ROOT, "flaredis-crash-"));
  const server = new DevServer(persist, options.port ?? (await freePort()));
  const ledger = new Ledger();
  const writers = Array.from({ length: options.writers ?? 4 }, (_, i) => new Writer(i, rnd, ledger));
  const began = Date.now();
  const kills = { inFlight: 0, strings: 0, quiet: 0, deferred: 0 };
  const totals = { keyReads: 0, lost: 0, twice: 0, wrong: 0, digestsEqual: 0, digestChecks: 0, applied: 0, notApplied: 0, inPart: 0 };
  let keys = 0;
  let killedAt = 0;
  let fatal: string | null = null;
  console.log(`crash: ${crashes} crashes, seed ${seed}, ${writers.length} writers; wrangler dev on ${server.url}, state in ${persist}`);
  try {
    for (let cycle = 0; cycle <= crashes; cycle++) {
      const startMs = await server.start();
      const http = new HttpClient(server.url, "dev-token", {}, writers.length + 2);
      const admin = new HttpClient(server.url, ADMIN_TOKEN, {}, 8);
      try {
        if (cycle > 0) {
          const c = await checkKeys(admin, ledger, killedAt);
          const d = await compareDigests(admin);
          keys = c.keys;
          totals.keyReads += c.keys;
          totals.lost += c.lost;
          totals.twice += c.twice;
          totals.wrong += c.wrong;
          totals.applied += c.applied;
          totals.notApplied += c.notApplied;
          totals.inPart += c.inPart;
          totals.digestChecks++;
          if (d.equal) totals.digestsEqual++;
          else ledger.violation({ kind: "wrong", key: "(digests)", detail: `after restart ${cycle}: digests not equal within 30 s: ${d.detail}` });
          console.log(
            `  restart ${cycle}: up in ${(startMs / 1000).toFixed(1)} s; ${c.keys} keys checked (${c.pendingKeys} under an unanswered request; unanswered found applied ${c.applied}, not ${c.notApplied}, in part ${c.inPart}): ` +
              `lost ${c.lost}, twice ${c.twice}, wrong ${c.wrong}; replicas caught up and digests ${d.equal ? "equal" : "NOT EQUAL"} in ${d.ms} ms` +
              `${d.primary === "enam" ? "" : ` (primary ${d.primary})`}${d.equal ? "" : `: ${d.detail}`}`,
          );
        }
        if (cycle === crashes) break;
        // Write for 0.3-3 s, then kill: with requests in flight, or right after quiescence.
        const writeMs = rnd.between(300, 3000);
        // In flight: the mixed writer, or strings only (keys deferred while non-idempotent writes are under way).
        const mode = rnd.pick(["in flight", "in flight", "in flight, strings", "quiet", "quiet"] as const);
        const quiet = mode === "quiet";
        for (const w of writers) {
          w.rnd = new Random(Math.floor(rnd.next() * 2 ** 32));
          w.frozen.clear();
          w.stringsOnly = mode === "in flight, strings";
        }
        let stop = false;
        const before = { ...ledger.counts };
        const running = writers.map((w) => w.run(http, () => stop));
        await sleep(writeMs);
        let deferred: number;
        if (quiet) {
          stop = true;
          await Promise.all(running);
          await writers[0]!.send(http, "pipeline", writers[0]!.bulk());
          await sleep(rnd.between(0, 100));
          deferred = await keysDeferred(admin);
        } else {
          deferred = await keysDeferred(admin);
          stop = true;
        }
        killedAt = Date.now();
        await server.kill();
        await Promise.all(running);
        kills[quiet ? "quiet" : mode === "in flight" ? "inFlight" : "strings"]++;
        if (deferred > 0) kills.deferred++;
        const c = ledger.counts;
        console.log(
          `kill ${cycle + 1}/${crashes} (${mode}) after ${Math.round(writeMs)} ms of writing: ` +
            `${c.acked - before.acked} requests acknowledged (${c.commands - before.commands} commands), ${c.unanswered - before.unanswered} unanswered; keys_deferred ${deferred >= 0 ? deferred : "? (no answer within 1 s)"}`,
        );
      } finally {
        http.close();
        admin.close();
      }
    }
  } catch (e) {
    fatal = e instanceof Error ? (e.stack ?? e.message) : String(e);
    ledger.violation({ kind: "wrong", key: "(harness)", detail: fatal });
  } finally {
    await server.kill();
  }
  const ok = ledger.violations.length === 0;
  const byKind = new Map<string, string[]>();
  for (const v of ledger.violations) byKind.set(v.kind, [...(byKind.get(v.kind) ?? []), `${v.key}: ${v.detail}`]);
  for (const [kind, list] of byKind) {
    console.log(`violations: ${kind}: ${list.length}`);
    for (const line of list.slice(0, 8)) console.log(`  ${line.slice(0, 1500)}`);
  }
  if (ok && !options.keep) rmSync(persist, { recursive: true, force: true });
  else console.log(`state kept in ${persist} (wrangler's output: ${server.logPath})`);
  const c = ledger.counts;
  const errors = [...ledger.errors].map(([k, n]) => `${k} ${n}`).join(", ");
  const summary =
    `crash ${ok ? "PASS" : "FAIL"}: ${totals.digestChecks} crashes (${kills.inFlight} in flight, ${kills.strings} in flight on strings only, ${kills.quiet} quiet; keys deferred at ${kills.deferred}), ` +
    `seed ${seed}, ${writers.length} writers; requests ${c.requests} (acknowledged ${c.acked}, ${c.commands} commands, refused ${c.refused}; unanswered ${c.unanswered}: found applied ${totals.applied}, not ${totals.notApplied}, in part ${totals.inPart}; errors: ${errors || "none"}); ` +
    `keys checked ${keys} (${totals.keyReads} reads); lost ${totals.lost}, twice ${totals.twice}, wrong ${totals.wrong}; ` +
    `digests equal ${totals.digestsEqual}/${totals.digestChecks}; violations ${ledger.violations.length}; ${Math.round((Date.now() - began) / 1000)} s`;
  return { ok, summary, persist };
}
