/**
 * `flaredis export FILE` and `flaredis import FILE`: RDB files on this machine, written from and
 * loaded into Flaredis through the HTTP API.
 *
 * Export: SCAN, then each key's PEXPIRETIME and DUMP, written as an RDB file that redis-server
 * loads (engine/rdb/file.ts): version 10 (Redis 7.0), or 12 (Redis 7.4) when a hash has field
 * deadlines; the function libraries (FUNCTION DUMP) after the keys. Each batch is read as it is
 * then: keys written during an export may be newer than others (stop writes for a point-in-time
 * file). Written to FILE.partial and renamed when whole.
 *
 * Import: the file is read and checked whole first (magic, version, checksum, every value, the
 * engine's bounds), so a malformed or truncated file changes nothing; then it is loaded as
 * `RESTORE … REPLACE ABSTTL` and `FUNCTION LOAD REPLACE` pipelines (engine/rdb/restore-commands.ts);
 * `--flush` empties the keyspace first. Running it again is safe.
 */
import { closeSync, createReadStream, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { fromBytes } from "../durable-objects/engine/bytes.ts";
import { Crc64 } from "../durable-objects/engine/rdb/crc64.ts";
import { RdbError } from "../durable-objects/engine/rdb/error.ts";
import { RdbFileWriter } from "../durable-objects/engine/rdb/file.ts";
import { RdbReader } from "../durable-objects/engine/rdb/reader.ts";
import { type CheckedFile, checkFile, restoreBatches } from "../durable-objects/engine/rdb/restore-commands.ts";
import { FlaredisHttp } from "./http.ts";
import { progress } from "./progress.ts";
import { type Reply, fromOutcome, isError } from "./reply.ts";

/**
 * The engine's bounds (engine.ts DEFAULT_LIMITS, limits.ts), and one HTTP request's (10 MiB of
 * JSON, the payload as base64): a file's key past them is refused before anything is loaded. A
 * deployment that lowered FLAREDIS_MAX_VALUE_BYTES refuses such a value while it loads.
 */
const BOUNDS = { maxKeyBytes: 32 * 1024, maxValueBytes: 512 * 1024 * 1024, maxElementBytes: 1024 * 1024, maxLogBytes: 32 * 1024 * 1024, maxPayloadBytes: 7 * 1024 * 1024 };

/** Runs commands; their replies, or throws the first error (the request's, or a command's). */
async function replies(http: FlaredisHttp, commands: string[][]): Promise<Reply[]> {
  const outcomes = await http.send("pipeline", commands);
  if (!Array.isArray(outcomes)) throw new Error(outcomes === null ? "no answer" : outcomes.error);
  return outcomes.map((o, i) => fromOutcome(o, commands[i]));
}

export interface ExportOptions {
  url: string;
  token: string;
  file: string;
  batch: number;
}

/** Resolves to the exit code. */
export async function runExport(options: ExportOptions): Promise<number> {
  const http = new FlaredisHttp(options.url, options.token);
  const [size] = await replies(http, [["DBSIZE"]]);
  const total = Number(size);
  const partial = `${options.file}.partial`;
  const fd = openSync(partial, "w");
  let version = 10;
  let written = 0;
  const bar = progress(total, "keys");
  try {
    const w = new RdbFileWriter(12, [["redis-bits", "64"], ["ctime", String(Math.floor(Date.now() / 1000))], ["aof-base", "0"]], total, 0);
    writeSync(fd, w.take());
    let cursor = "0";
    do {
      const [scan] = await replies(http, [["SCAN", cursor, "COUNT", String(options.batch)]]);
      if (isError(scan!)) throw new Error(scan.error);
      const [next, keys] = scan as [Uint8Array, Uint8Array[]];
      cursor = fromBytes(next);
      const names = keys.map(fromBytes);
      const answers = names.length > 0 ? await replies(http, names.flatMap((k) => [["PEXPIRETIME", k], ["DUMP", k]])) : [];
      for (const [i, key] of keys.entries()) {
        const at = answers[2 * i]!;
        const payload = answers[2 * i + 1]!;
        if (isError(payload)) throw new Error(`DUMP ${names[i]}: ${payload.error}`);
        // Gone since SCAN saw it.
        if (payload === null || at === -2n) continue;
        const bytes = payload as Uint8Array;
        version = Math.max(version, bytes[bytes.length - 10]!);
        w.dumped(key, bytes, typeof at === "bigint" && at > 0n ? Number(at) : null);
        written++;
      }
      writeSync(fd, w.take());
      bar.add(keys.length);
    } while (cursor !== "0");
    const [libraries] = await replies(http, [["FUNCTION", "DUMP"]]);
    if (libraries instanceof Uint8Array) {
      const r = new RdbReader(libraries, 0, libraries.length - 10);
      while (!r.done) {
        if (r.u8() !== 245) throw new Error("FUNCTION DUMP answered what is not a library");
        w.functionLibrary(r.string());
      }
    }
    writeSync(fd, w.take());
    writeSync(fd, Uint8Array.of(255));
  } finally {
    closeSync(fd);
  }
  bar.done();
  // The version is known once every key was seen: the header says it, and the checksum covers it.
  const patch = openSync(partial, "r+");
  try {
    writeSync(patch, new TextEncoder().encode(String(version).padStart(4, "0")), 0, 4, 5);
  } finally {
    closeSync(patch);
  }
  const crc = new Crc64();
  for await (const chunk of createReadStream(partial)) crc.update(chunk as Buffer);
  const tail = openSync(partial, "a");
  try {
    writeSync(tail, crc.bytes());
  } finally {
    closeSync(tail);
  }
  renameSync(partial, options.file);
  console.log(`exported ${written} keys to ${options.file} (RDB version ${version}: redis-server ${version > 10 ? "7.4" : "7.0"} or later loads it)`);
  return 0;
}

export interface FileImportOptions {
  url: string;
  token: string;
  file: string;
  flush: boolean;
}

/** Resolves to the exit code: 0, or 1 when the file was refused or a command failed. */
export async function runFileImport(options: FileImportOptions): Promise<number> {
  const bytes = new Uint8Array(readFileSync(options.file));
  let file: CheckedFile;
  try {
    file = checkFile(bytes, BOUNDS);
  } catch (e) {
    if (!(e instanceof RdbError)) throw e;
    console.error(`flaredis: ${options.file} cannot be loaded: ${e.message}; nothing was changed`);
    return 1;
  }
  const { keys, version } = file;
  const http = new FlaredisHttp(options.url, options.token);
  if (options.flush) await replies(http, [["FLUSHALL"]]);
  const bar = progress(keys, "keys");
  let loaded = 0;
  for (const batch of restoreBatches(file.entries(), Date.now())) {
    const answers = await replies(http, batch);
    const failed = answers.findIndex(isError);
    if (failed >= 0) {
      bar.done();
      console.error(`flaredis: ${(answers[failed] as { error: string }).error} (stopped after ${loaded + failed} of ${keys} keys; loading again is safe)`);
      return 1;
    }
    loaded += batch.length;
    bar.add(batch.filter((argv) => argv[0] === "RESTORE").length);
  }
  bar.done();
  const [size] = await replies(http, [["DBSIZE"]]);
  console.log(`imported ${keys} keys from ${options.file} (RDB version ${version}); Flaredis has ${String(size)} keys`);
  return 0;
}
