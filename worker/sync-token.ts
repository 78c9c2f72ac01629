/**
 * The `upstash-sync-token` header: the replication position a response reflects, which the client
 * sends back so that a replica serves its next read only once it holds what the client has seen.
 * It names the history (the replid) as well as the offset: after a failover onto another history
 * the same offset may hold other writes, and a bare offset would let a read go back in time.
 *
 * It also carries the client's own recent writes (protocol/read-your-writes.ts): a replica behind
 * the position may serve a read of keys the client did not write at once. Opaque to clients:
 * `<replid>:<offset>` or `<replid>:<offset>:<floor>:<digest>.<offset>,…`.
 */
import { flagsOf } from "../durable-objects/engine/command";
import type { Position } from "../durable-objects/engine/replication/protocol";
import { TOKEN_KEYS, type WrittenKeys, addReads, addWrites, batchKeys } from "../durable-objects/protocol/read-your-writes";

export interface SyncToken {
  readonly position: Position;
  /** The client's own writes up to `position` (with no key information: floor = offset). */
  readonly written: WrittenKeys;
}

/** The token of a position, with the client's writes when it has any above the position's floor. */
export function formatSyncToken(replid: string, offset: number, written?: WrittenKeys): string {
  if (written === undefined || written.floor >= offset) return `${replid}:${offset}`;
  const keys = Object.entries(written.keys)
    .map(([digest, at]) => `${digest}.${at}`)
    .join(",");
  return `${replid}:${offset}:${written.floor}:${keys}`;
}

const TOKEN = /^([0-9a-f]{40}):(\d{1,16})(?::(\d{1,16}):((?:[0-9a-f]{8}\.\d{1,16})(?:,[0-9a-f]{8}\.\d{1,16}){0,63})?)?$/;

/**
 * What a request's token says: null for no token (absent or empty). A token that is not ours
 * (another format, an older release's bare offset) names no history a replica holds, so the
 * primary serves that read: it never goes back in time.
 */
export function parseSyncToken(header: string | null): SyncToken | null {
  if (header === null || header.trim() === "") return null;
  const m = TOKEN.exec(header.trim());
  if (!m) return { position: { replid: "", offset: 0 }, written: { floor: 0, keys: {} } };
  const offset = Number(m[2]);
  const position = { replid: m[1]!, offset };
  if (m[3] === undefined) return { position, written: { floor: offset, keys: {} } };
  // A floor or a write past the position is not one this worker wrote: the whole position then.
  const floor = Number(m[3]);
  const entries = (m[4] ?? "").split(",").filter((e) => e !== "").map((e) => e.split(".") as [string, string]);
  if (floor > offset || entries.length > TOKEN_KEYS || entries.some(([, at]) => Number(at) > offset || Number(at) <= floor))
    return { position, written: { floor: offset, keys: {} } };
  return { position, written: { floor, keys: Object.fromEntries(entries.map(([d, at]) => [d, Number(at)])) } };
}

/**
 * The token of a response no node served (refused at the edge): the client's own, each shard's
 * part (`;`-separated, worker/cluster.ts) as this worker writes it, a part not ours left empty.
 */
export function echoedSyncToken(header: string | null): string {
  if (header === null) return "";
  const parts = header.split(";").map((part) => {
    const seen = parseSyncToken(part);
    return seen === null || seen.position.replid === "" ? "" : formatSyncToken(seen.position.replid, seen.position.offset, seen.written);
  });
  return parts.every((p) => p === "") ? "" : parts.join(";");
}

/**
 * The token a response carries: the position it reflects (never behind the one the client sent
 * on the same history: a replica may have answered early, see read-your-writes.ts), and the
 * client's writes, with those of this batch (`wrote`: their keys, null for a write of no named
 * key) at the response's offset, and its written keys that this batch read (`read`) held to that
 * offset. After a failover onto another history, the new position alone.
 */
export function nextSyncToken(sent: SyncToken | null, replid: string, offset: number, wrote: { keys: string[] | null } | null, read: readonly string[] | null = null): string {
  const same = sent !== null && sent.position.replid === replid;
  const at = same ? Math.max(sent.position.offset, offset) : offset;
  // No token: no write of the client's is known. Another history: its writes cannot be placed.
  let written: WrittenKeys = same ? sent.written : { floor: sent === null ? 0 : at, keys: {} };
  if (same && read !== null) written = addReads(written, read, offset);
  if (wrote !== null) written = addWrites(written, wrote.keys, offset);
  return formatSyncToken(replid, at, written);
}

/** The keys the read commands of a batch name (null: one of them names none, or the batch reads nothing). */
export function readKeys(commands: readonly (readonly string[])[]): string[] | null {
  return batchKeys(commands, (command, argv) => (command ? flagsOf(command, argv).includes("readonly") : false)) ?? null;
}

/**
 * The keys the write commands of a batch name (null: one of them writes no named key, FLUSHALL,
 * so any key), or null for `wrote` when the batch writes nothing.
 */
export function writtenKeys(commands: readonly (readonly string[])[]): { keys: string[] | null } | null {
  const writes = (flags: readonly string[]) => flags.includes("write") || flags.includes("maywrite");
  const keys = batchKeys(commands, (command, argv) => (command ? writes(flagsOf(command, argv)) : false));
  return keys === undefined ? null : { keys };
}
