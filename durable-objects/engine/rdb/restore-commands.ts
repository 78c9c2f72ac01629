/**
 * What loading an RDB file does, as commands: each key a `RESTORE key <deadline> <payload>
 * REPLACE ABSTTL` (with IDLETIME or FREQ when the file has them; a deadline already past makes
 * RESTORE create nothing, as a master's load skips an expired key), each function library a
 * `FUNCTION LOAD REPLACE`. In batches of at most MAX_COMMANDS commands and about MAX_BYTES of
 * arguments, so each goes as one request through the HTTP API or to the primary. Arguments are
 * binary strings (engine/bytes.ts). Shared by POST /admin/import and `flaredis import FILE`.
 */
import { fromBytes } from "../bytes.ts";
import type { RdbFileEntry } from "./file.ts";
import { dumpPayload } from "./payload.ts";

export const MAX_COMMANDS = 500;
export const MAX_BYTES = 4 * 1024 * 1024;

/** The engine's bounds a key of a file must keep (engine.ts DEFAULT_LIMITS, limits.ts ELEMENT_MAX_BYTES). */
export interface KeyBounds {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly maxElementBytes: number;
}

/** Why a file's key cannot be loaded as it is (past a bound the engine keeps), or null. */
export function outOfBounds(e: RdbFileEntry, b: KeyBounds): string | null {
  if (e.kind !== "key") return null;
  const { key, value } = e.entry;
  const name = () => JSON.stringify(fromBytes(key.subarray(0, 64)));
  if (key.length > b.maxKeyBytes) return `key ${name()}… is ${key.length} bytes, past ${b.maxKeyBytes}`;
  const elements: number[] =
    value.type === "string"
      ? []
      : value.type === "list"
        ? value.items.map((x) => x.length)
        : value.type === "set"
          ? value.members.map((x) => x.length)
          : value.type === "zset"
            ? value.entries.map((x) => x.member.length)
            : value.type === "hash"
              ? value.fields.map((x) => x.field.length + x.value.length)
              : value.entries.map((x) => x.pairs.reduce((n, p) => n + p.length + 4, 0));
  if (value.type === "string" && value.value.length > b.maxValueBytes) return `key ${name()}'s value is ${value.value.length} bytes, past ${b.maxValueBytes}`;
  const largest = elements.reduce((m, n) => Math.max(m, n), 0);
  const bound = Math.min(b.maxElementBytes, b.maxValueBytes);
  return largest > bound ? `key ${name()} has an element of ${largest} bytes, past ${bound}` : null;
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

/** The entries' commands in batches (see the file's comment). */
export function* restoreBatches(entries: Iterable<RdbFileEntry>): Generator<string[][]> {
  let batch: string[][] = [];
  let bytes = 0;
  for (const e of entries) {
    const argv = restoreCommand(e);
    const size = argv.reduce((n, a) => n + a.length, 0);
    if (batch.length > 0 && (batch.length >= MAX_COMMANDS || bytes + size > MAX_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(argv);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}
