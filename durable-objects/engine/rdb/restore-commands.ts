/**
 * What loading an RDB file does, as commands: each key a `RESTORE key <deadline> <payload>
 * REPLACE ABSTTL` (with IDLETIME or FREQ when the file has them), each function library a
 * `FUNCTION LOAD REPLACE`; a key already past its deadline is left out, as a master's load skips
 * it. In batches that each fit one request: at most MAX_COMMANDS commands, MAX_BYTES of arguments
 * and MAX_LOG_BYTES of what they would add to the replication log (small elements grow there:
 * each is logged with its framing, about 16 bytes). Arguments are binary strings
 * (engine/bytes.ts). Shared by POST /admin/import and `flaredis import FILE`.
 */
import { fromBytes } from "../bytes.ts";
import { RdbError } from "./error.ts";
import { type RdbFileEntry, rdbFileEntries, rdbFileHeader } from "./file.ts";
import { dumpPayload } from "./payload.ts";
import type { RdbValue } from "./value.ts";

export const MAX_COMMANDS = 500;
export const MAX_BYTES = 4 * 1024 * 1024;
export const MAX_LOG_BYTES = 8 * 1024 * 1024;

/** The engine's bounds a key of a file must keep (engine.ts DEFAULT_LIMITS, limits.ts). */
export interface KeyBounds {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly maxElementBytes: number;
  /** What one request may add to the replication log (limits.ts REQUEST_LIMITS.maxLogBytes). */
  readonly maxLogBytes: number;
  /** A payload that must travel in one HTTP request (the CLI's: the API's 10 MiB body, as base64). */
  readonly maxPayloadBytes?: number;
}

/** Each element's bytes (a string: none), and about what the value's RESTORE adds to the log. */
function sizes(value: RdbValue): { elements: number[]; log: number; payload: number } {
  const elements: number[] =
    value.type === "string"
      ? []
      : value.type === "list"
        ? value.items.map((x) => x.length)
        : value.type === "set"
          ? value.members.map((x) => x.length)
          : value.type === "zset"
            ? value.entries.map((x) => x.member.length + 8)
            : value.type === "hash"
              ? value.fields.map((x) => x.field.length + x.value.length)
              : value.entries.map((x) => x.pairs.reduce((n, p) => n + p.length + 4, 16));
  const data = value.type === "string" ? value.value.length : elements.reduce((n, x) => n + x, 0);
  return { elements, log: 64 + data + 16 * elements.length, payload: 16 + data + 5 * elements.length };
}

/** Why a file's key cannot be loaded as it is (past a bound the engine keeps), or null. */
export function outOfBounds(e: RdbFileEntry, b: KeyBounds): string | null {
  if (e.kind !== "key") return null;
  const { key, value } = e.entry;
  const name = () => JSON.stringify(fromBytes(key.subarray(0, 64)));
  if (key.length > b.maxKeyBytes) return `key ${name()}… is ${key.length} bytes, past ${b.maxKeyBytes}`;
  if (value.type === "string" && value.value.length > b.maxValueBytes) return `key ${name()}'s value is ${value.value.length} bytes, past ${b.maxValueBytes}`;
  const { elements, log, payload } = sizes(value);
  const largest = elements.reduce((m, n) => Math.max(m, n), 0);
  const bound = Math.min(b.maxElementBytes, b.maxValueBytes);
  if (largest > bound) return `key ${name()} has an element of ${largest} bytes, past ${bound}`;
  if (log > b.maxLogBytes) return `key ${name()} would add about ${log} bytes to the replication log in one request, past ${b.maxLogBytes}`;
  if (b.maxPayloadBytes !== undefined && payload > b.maxPayloadBytes) return `key ${name()}'s serialized value is about ${payload} bytes, past ${b.maxPayloadBytes} for one request`;
  return null;
}

/** A file checked whole: what it holds, and the entries again to load them from. */
export interface CheckedFile {
  readonly version: number;
  readonly keys: number;
  readonly functions: number;
  entries(): Generator<RdbFileEntry>;
}

/**
 * Checks a whole file before anything of it is loaded: its magic, version and checksum, every value
 * read, every key held to `bounds`. @throws RdbError saying why it cannot be loaded
 */
export function checkFile(bytes: Uint8Array, bounds: KeyBounds): CheckedFile {
  const header = rdbFileHeader(bytes);
  const entries = () => rdbFileEntries(bytes, header.body, header.version);
  let keys = 0;
  let functions = 0;
  for (const e of entries()) {
    const why = outOfBounds(e, bounds);
    if (why) throw new RdbError(why);
    if (e.kind === "key") keys++;
    else functions++;
  }
  return { version: header.version, keys, functions, entries };
}

/** The command that loads one entry of a file. */
export function restoreCommand(e: RdbFileEntry): string[] {
  if (e.kind === "function") return ["FUNCTION", "LOAD", "REPLACE", fromBytes(e.code)];
  const { key, value, expiresAt, idleSeconds, frequency } = e.entry;
  const argv = ["RESTORE", fromBytes(key), String(expiresAt ?? 0), fromBytes(dumpPayload(value)), "REPLACE", "ABSTTL"];
  if (idleSeconds !== undefined) argv.push("IDLETIME", String(idleSeconds));
  else if (frequency !== undefined) argv.push("FREQ", String(frequency));
  return argv;
}

/** The entries' commands in batches (see the file's comment); keys past their deadline at `now` left out. */
export function* restoreBatches(entries: Iterable<RdbFileEntry>, now: number): Generator<string[][]> {
  let batch: string[][] = [];
  let bytes = 0;
  let log = 0;
  for (const e of entries) {
    if (e.kind === "key" && e.entry.expiresAt !== null && e.entry.expiresAt <= now) continue;
    const argv = restoreCommand(e);
    const size = argv.reduce((n, a) => n + a.length, 0);
    const logged = e.kind === "key" ? sizes(e.entry.value).log : size;
    if (batch.length > 0 && (batch.length >= MAX_COMMANDS || bytes + size > MAX_BYTES || log + logged > MAX_LOG_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
      log = 0;
    }
    batch.push(argv);
    bytes += size;
    log += logged;
  }
  if (batch.length > 0) yield batch;
}
