/**
 * `flaredis export FILE` and `flaredis import FILE`: RDB files on this machine, written from and
 * loaded into Flaredis through the HTTP API.
 *
 * Export: GET /admin/export (the admin token), the keyspace at one offset as an RDB file that
 * redis-server loads (version 10, Redis 7.0; or 12, Redis 7.4, when a hash has field deadlines),
 * streamed to FILE.partial and renamed when whole.
 *
 * Import: the file is read and checked whole first (magic, version, checksum, every value, the
 * engine's bounds), so a malformed or truncated file changes nothing; then it is loaded as
 * `RESTORE … REPLACE ABSTTL` and `FUNCTION LOAD REPLACE` pipelines (engine/rdb/restore-commands.ts);
 * `--flush` empties the keyspace first. Running it again is safe.
 */
import { closeSync, createReadStream, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { systemClock } from "../durable-objects/engine/clock.ts";
import { Crc64 } from "../durable-objects/engine/rdb/crc64.ts";
import { RdbError } from "../durable-objects/engine/rdb/error.ts";
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
}

/** Writes a response's body to `file` (through FILE.partial, renamed when whole); its byte count. */
export async function download(response: Response, file: string, total?: number): Promise<number> {
  const partial = `${file}.partial`;
  const fd = openSync(partial, "w");
  // A backup's size is known ahead; an export's only at its end (then a count and a rate, no bar).
  const bar = progress(total ?? null, "bytes");
  let bytes = 0;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      writeSync(fd, chunk);
      bytes += chunk.length;
      bar.add(chunk.length);
    }
  } finally {
    closeSync(fd);
    bar.done();
  }
  await checkEnd(partial, bytes);
  renameSync(partial, file);
  return bytes;
}

/**
 * Checks that `file` (of `size` bytes) ends as an RDB file does: EOF, then the CRC-64 of what is
 * before it. A stream cut short is refused here rather than left looking whole.
 */
async function checkEnd(file: string, size: number): Promise<void> {
  const tail = Buffer.alloc(9);
  const fd = openSync(file, "r");
  try {
    if (size >= 9) readSync(fd, tail, 0, 9, size - 9);
  } finally {
    closeSync(fd);
  }
  const crc = new Crc64();
  if (size >= 9) for await (const chunk of createReadStream(file, { end: size - 9 })) crc.update(chunk as Buffer);
  const zero = tail.subarray(1).every((b) => b === 0);
  if (size < 9 || tail[0] !== 255 || (!zero && !Buffer.from(crc.bytes()).equals(tail.subarray(1)))) {
    rmSync(file, { force: true });
    throw new Error(`the file ended before its end of file and checksum (${size} bytes): it was not written whole`);
  }
}

/** Resolves to the exit code. */
export async function runExport(options: ExportOptions): Promise<number> {
  const response = await new FlaredisHttp(options.url, options.token).admin("/admin/export");
  const keys = response.headers.get("flaredis-keys");
  const version = Number(response.headers.get("flaredis-rdb-version"));
  const bytes = await download(response, options.file);
  console.log(`exported ${keys} keys at offset ${response.headers.get("flaredis-offset")} to ${options.file} (${bytes} bytes, RDB version ${version}: redis-server ${version > 10 ? "7.4" : "7.0"} or later loads it)`);
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
  for (const batch of restoreBatches(file.entries(), systemClock.now())) {
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
