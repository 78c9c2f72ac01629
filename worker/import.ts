/**
 * POST /admin/import (admin token): loads an RDB file written by redis-server 7.x (or by
 * Flaredis) into the keyspace, as Redis loads one: every key of database 0 with its deadline, and
 * the function libraries. The file is checked whole first (its magic, version and CRC-64, then
 * every value read and held to the engine's bounds), so a malformed, truncated or unloadable file
 * is refused with a 400 that says why and changes nothing; then it is applied through the primary
 * as `RESTORE … REPLACE ABSTTL` pipelines (engine/rdb/restore-commands.ts), which replicate as any
 * write. `?flush=1` empties the keyspace first (the file then replaces it, as loading does in
 * Redis); without it, the file's keys replace keys of the same name and others stay.
 *
 * Bodies up to IMPORT_MAX_BYTES: larger files go through `flaredis import FILE`, which reads the
 * file where it is and sends the same commands.
 */
import { systemClock } from "../durable-objects/engine/clock";
import type { Batch } from "../durable-objects/engine/engine";
import { DEFAULT_LIMITS } from "../durable-objects/engine/engine";
import { ELEMENT_MAX_BYTES, REQUEST_LIMITS, maxValueBytesOf } from "../durable-objects/engine/limits";
import { RdbError } from "../durable-objects/engine/rdb/error";
import { type CheckedFile, checkFile, restoreBatches } from "../durable-objects/engine/rdb/restore-commands";
import type { Env } from "./env";
import { RequestError, shardedRefusal } from "./errors";
import { refreshSlotMap } from "./slot-map";
import { readBodyBytes } from "./request";
import { route } from "./routing";

/** The largest file POST /admin/import takes (the worker holds it in memory while it loads it). */
export const IMPORT_MAX_BYTES = 32 * 1024 * 1024;

export interface ImportReport {
  readonly version: number;
  readonly keys: number;
  readonly functions: number;
  /** RESTOREs and FUNCTION LOADs that answered OK. */
  readonly loaded: number;
}

/** Loads the request's RDB file (see the file's comment). */
export async function importRdb(env: Env, request: Request, flush: boolean): Promise<ImportReport> {
  return importBytes(env, await readBodyBytes(request, { maxBytes: IMPORT_MAX_BYTES }), flush);
}

/** Loads an RDB file's bytes (POST /admin/import, a backup's restore). */
export async function importBytes(env: Env, bytes: Uint8Array, flush: boolean): Promise<ImportReport> {
  if ((await refreshSlotMap(env)).top > 1) throw shardedRefusal("an RDB import (and so a backup's restore)");
  const bounds = {
    maxKeyBytes: DEFAULT_LIMITS.maxKeyBytes,
    maxValueBytes: maxValueBytesOf(env.FLAREDIS_MAX_VALUE_BYTES),
    maxElementBytes: ELEMENT_MAX_BYTES,
    maxLogBytes: REQUEST_LIMITS.maxLogBytes,
  };
  let file: CheckedFile;
  try {
    file = checkFile(bytes, bounds);
  } catch (e) {
    if (e instanceof RdbError) throw new RequestError(`ERR the RDB file cannot be loaded: ${e.message}; nothing was changed`, 400);
    throw e;
  }
  const { version, keys, functions } = file;
  const run = async (commands: string[][]) => {
    const batch: Batch = { mode: "pipeline", commands, permission: "admin" };
    const { result } = await route(env, batch, { cf: undefined, position: null, maxStalenessMs: null });
    if ("error" in result) throw new RequestError(result.error, 503);
    return result.outcomes;
  };
  if (flush) await run([["FLUSHALL"]]);
  let loaded = 0;
  for (const batch of restoreBatches(file.entries(), systemClock.now())) {
    const outcomes = await run(batch);
    const failed = outcomes.findIndex((o) => "error" in o);
    loaded += failed < 0 ? outcomes.length : failed;
    if (failed >= 0) {
      const error = (outcomes[failed] as { error: string }).error;
      throw new RequestError(`${error} (loading the RDB file stopped after ${loaded} of ${keys + functions} keys and libraries; loading it again is safe)`, 503);
    }
  }
  return { version, keys, functions, loaded };
}
