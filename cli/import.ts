/**
 * `flaredis import redis://host:port`: a live copy of a running Redis into Flaredis, key by key
 * with Redis's own means (SCAN, then PTTL and DUMP of each key, then RESTORE … REPLACE on
 * Flaredis), in batches, a few in flight; resumable (the SCAN cursor is kept in a state file after
 * each batch, and `--resume` goes on from it; a key copied twice is the same key); a progress bar
 * on a terminal; at the end, both sides' key counts.
 *
 * SCAN returns every key that exists for the whole scan at least once; a key written during the
 * copy may be copied as it was when its batch read it (run it again, or stop writes, for an exact
 * copy). A key whose value Flaredis cannot restore (past its bounds) is counted and named.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { FlaredisHttp } from "./http.ts";
import { progress } from "./progress.ts";
import { type ApiOutcome, JsonNumber } from "./reply.ts";
import { RedisSource, SourceError } from "./redis-source.ts";

export interface ImportOptions {
  url: string;
  token: string;
  /** redis://[user:password@]host[:port][/db] */
  source: string;
  /** Keys per SCAN and per RESTORE pipeline. */
  batch: number;
  /** Go on from the state file's cursor. */
  resume: boolean;
  /** Where the cursor is kept between batches. */
  state: string;
}

interface ImportState {
  source: string;
  cursor: string;
  copied: number;
  failed: number;
}

/**
 * Payload bytes per RESTORE request: well within the API's 10 MiB body as base64, and within what
 * one request may add to the replication log (32 MiB): an element takes at least 2 bytes of a
 * payload (an intset's) and is logged as its text with about 16 bytes of framing, at most about 11
 * times as much, so 2 MiB logs at most about 22 MiB.
 */
const REQUEST_PAYLOAD_BYTES = 2 * 1024 * 1024;

/** The source URL without its password (what the state file names). */
const safeSource = (source: string): string => {
  const u = new URL(source);
  u.password = "";
  return u.toString();
};

/** Resolves to the exit code: 0, or 1 when a key could not be copied. */
export async function runImport(options: ImportOptions): Promise<number> {
  const http = new FlaredisHttp(options.url, options.token);
  const source = await RedisSource.open(options.source);
  try {
    let state: ImportState = { source: safeSource(options.source), cursor: "0", copied: 0, failed: 0 };
    if (options.resume) {
      if (!existsSync(options.state)) throw new Error(`--resume: no state file ${options.state}`);
      const saved = JSON.parse(readFileSync(options.state, "utf8")) as ImportState;
      if (saved.source !== state.source) throw new Error(`--resume: ${options.state} is of another source (${saved.source})`);
      state = saved;
    }
    const total = Number(await source.call(["DBSIZE"]));
    const bar = progress(total, "keys");
    bar.add(state.copied + state.failed);
    const started = performance.now();
    let firstError = "";
    const failedKeys: string[] = [];
    do {
      const scanned = (await source.call(["SCAN", state.cursor, "COUNT", String(options.batch)])) as [Buffer, Buffer[]];
      const keys = scanned[1];
      const replies = await source.pipeline(keys.flatMap((k) => [["PTTL", k], ["DUMP", k]]));
      const restores: string[][] = [];
      for (const [i, key] of keys.entries()) {
        const ttl = replies[2 * i];
        const payload = replies[2 * i + 1];
        if (ttl instanceof SourceError || payload instanceof SourceError) throw ttl instanceof SourceError ? ttl : payload;
        // Gone since SCAN saw it, or expiring now (PTTL 0: less than a millisecond left): nothing to copy.
        if (payload === null || ttl === -2 || ttl === 0) continue;
        const ms = typeof ttl === "number" && ttl > 0 ? ttl : 0;
        restores.push(["RESTORE", key.toString("latin1"), String(ms), (payload as Buffer).toString("latin1"), "REPLACE"]);
      }
      // Requests within the HTTP API's 10 MiB (arguments travel as base64): a key too large for
      // one request fails alone, with the API's error.
      for (let from = 0; from < restores.length; ) {
        let to = from;
        for (let bytes = 0; to < restores.length && (to === from || bytes + restores[to]![3]!.length < REQUEST_PAYLOAD_BYTES); to++) bytes += restores[to]![3]!.length;
        const outcomes = await http.send("pipeline", restores.slice(from, to));
        // In pipeline mode a request refused whole answers its error for each command.
        for (const [i, outcome] of (Array.isArray(outcomes) ? outcomes : []).entries()) {
          if ("error" in outcome) {
            // The connection itself failing is not a key's fault: stop, to be resumed.
            if (outcome.error.startsWith("ERR flaredis: cannot reach")) throw new Error(outcome.error);
            state.failed++;
            firstError ||= outcome.error;
            if (failedKeys.length < 10) failedKeys.push(restores[from + i]![1]!);
          } else state.copied++;
        }
        from = to;
      }
      bar.add(keys.length);
      state.cursor = scanned[0].toString("latin1");
      writeFileSync(options.state, `${JSON.stringify(state)}\n`);
    } while (state.cursor !== "0");
    bar.done();
    const seconds = (performance.now() - started) / 1000;
    const [after] = (await http.send("single", [["DBSIZE"]])) as ApiOutcome[];
    const ours = after === undefined ? "?" : "error" in after ? `? (${after.error})` : after.result instanceof JsonNumber ? after.result.source : String(after.result);
    const theirs = Number(await source.call(["DBSIZE"]));
    console.log(`imported ${state.copied} keys from ${state.source} in ${seconds.toFixed(1)} s; the source has ${theirs} keys, Flaredis ${ours}`);
    rmSync(options.state, { force: true });
    if (state.failed > 0) {
      console.error(`${state.failed} keys were not copied (${failedKeys.join(", ")}${state.failed > failedKeys.length ? ", …" : ""}); the first error: ${firstError}`);
      return 1;
    }
    return 0;
  } finally {
    source.close();
  }
}
