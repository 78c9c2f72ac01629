/**
 * The `upstash-sync-token` header: the replication position a response reflects, which the client
 * sends back so that a replica serves its next read only once it holds that position. It names
 * the history (the replid) as well as the offset: after a failover onto another history the same
 * offset may hold other writes, and a bare offset would let a read go back in time. Opaque to
 * clients (`<replid>:<offset>` today).
 */
import type { Position } from "../durable-objects/engine/replication";

/** The token of a position. */
export function formatSyncToken(replid: string, offset: number): string {
  return `${replid}:${offset}`;
}

/**
 * The position a request's token names: null for no token (absent or empty). A token that is not
 * ours (another format, an older release's bare offset) names no history a replica holds, so the
 * primary serves that read: it never goes back in time.
 */
export function parseSyncToken(header: string | null): Position | null {
  if (header === null || header.trim() === "") return null;
  const m = /^([0-9a-f]{40}):(\d{1,16})$/.exec(header.trim());
  return m ? { replid: m[1]!, offset: Number(m[2]) } : { replid: "", offset: 0 };
}
