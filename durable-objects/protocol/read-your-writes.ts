/**
 * Key-aware read-your-writes: what a client's sync token says of its own writes, so that a
 * replica behind the client's position may still serve a read of keys the client did not write
 * (or whose writes it already holds) at once, instead of waiting or handing the read on.
 *
 * The token carries the position the client has seen (replid, offset), and the keys of its most
 * recent writes, each as a 32-bit digest with the offset of that write. Writes older than the
 * ones kept are covered by `floor`: any write of the client's at or below it may be on any key,
 * so a replica serves early only once it holds `floor`. A token without key information has
 * `floor` = its offset: the replica must hold the whole position, as before.
 *
 * A read of a key the client wrote moves that key's offset up to the position that answered it
 * (`addReads`): a later read of the key is never served by a replica older than that answer, so
 * another client's write seen once (a FLUSHALL, a SET) stays seen.
 *
 * What this gives up: a read of other keys may be served by a replica older than a read the
 * client made before (monotonic reads across keys); a read of a key the client wrote never is.
 */
import { type Command, allKeysOf, flagsOf } from "../engine/command";
import { Engine } from "../engine/engine";
import type { Position } from "../engine/replication/protocol";

/** The keys a token keeps at most; older writes raise its floor instead. */
export const TOKEN_KEYS = 32;

export interface WrittenKeys {
  /** Every write of the client's at or below this offset may be on any key. */
  readonly floor: number;
  /** Key digest (`keyDigest`) → the offset of the client's last write of that key, above `floor`. */
  readonly keys: Readonly<Record<string, number>>;
}

/** A key's digest in a token: FNV-1a over its bytes, 8 hex digits (a collision only makes a read wait). */
export function keyDigest(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    const b = key.charCodeAt(i);
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/**
 * `written` after a batch that wrote `keys` (null: a write of no named key, FLUSHALL, which may
 * touch any) at `offset`, keeping the TOKEN_KEYS most recent writes.
 */
export function addWrites(written: WrittenKeys, keys: readonly string[] | null, offset: number): WrittenKeys {
  if (keys === null) return { floor: Math.max(written.floor, offset), keys: {} };
  const all = new Map(Object.entries(written.keys));
  for (const k of keys) all.set(keyDigest(k), offset);
  const sorted = [...all].sort((a, b) => b[1] - a[1]);
  let floor = written.floor;
  for (const [, at] of sorted.slice(TOKEN_KEYS)) floor = Math.max(floor, at);
  return { floor, keys: Object.fromEntries(sorted.slice(0, TOKEN_KEYS).filter(([, at]) => at > floor)) };
}

/**
 * `written` after a read of `keys` answered at `offset`: each of them the client wrote (and the
 * token still names) is held to that offset from then on. Keys it did not write stay out (the
 * token keeps TOKEN_KEYS keys, for the client's writes).
 */
export function addReads(written: WrittenKeys, keys: readonly string[], offset: number): WrittenKeys {
  let raised: Record<string, number> | null = null;
  for (const k of keys) {
    const digest = keyDigest(k);
    const at = written.keys[digest];
    if (at === undefined || at >= offset) continue;
    raised ??= { ...written.keys };
    raised[digest] = offset;
  }
  return raised === null ? written : { floor: written.floor, keys: raised };
}

/**
 * Whether a node whose log holds the positions `holds` answers, on the history `replid`, can serve
 * a read of `keys` for a client at `position` with `written`, though it may not hold `position`
 * itself: it holds the floor and every write of the client's to those keys. Only on the token's
 * own history: an answer from another one would carry that history's (lower) position, and the
 * client's next token would forget what it had seen. `keys` null (a read of no named key, KEYS,
 * DBSIZE, SCAN) never can.
 */
export function holdsOwnWrites(holds: (p: Position) => boolean, replid: string, position: Position, written: WrittenKeys, keys: readonly string[] | null): boolean {
  if (keys === null || replid !== position.replid || !holds({ replid: position.replid, offset: written.floor })) return false;
  for (const k of keys) {
    const at = written.keys[keyDigest(k)];
    if (at !== undefined && !holds({ replid: position.replid, offset: at })) return false;
  }
  return true;
}

/**
 * The keys named by the commands of a batch that `counts` selects (`undefined`: an unknown
 * command), or null when one of them names none: a command of no named key (FLUSHALL, KEYS,
 * DBSIZE, SCAN), a container (MEMORY STATS: the whole dataset) or a script (`anykeys`) may touch
 * any key. Undefined when it selects no command. The worker reads a batch's writes with it, a
 * replica its reads.
 */
export function batchKeys(commands: readonly (readonly string[])[], counts: (command: Command | undefined, argv: readonly string[]) => boolean): string[] | null | undefined {
  const keys: string[] = [];
  let selected = false;
  for (const argv of commands) {
    const command = Engine.lookup(argv[0] ?? "");
    if (!counts(command, argv)) continue;
    selected = true;
    if (!command?.keys || command.subcommands || flagsOf(command, argv).includes("anykeys")) return null;
    keys.push(...allKeysOf(command, argv));
  }
  return selected ? keys : undefined;
}
