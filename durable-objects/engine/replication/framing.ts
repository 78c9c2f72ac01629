/**
 * MULTI ... EXEC around the effects of one commit (MSET, RENAME, a MULTI), as Redis propagates a
 * transaction: a replica applies a group at once, and a read of the stream (a PSYNC's entries, a
 * batch a replica applies) ends on a whole group.
 */
import { bytesEqual } from "../bytes";
import type { Effect } from "../keyspace";
import type { LogEntry } from "./protocol";
import { encodeCommand } from "./resp";

export const MULTI_FRAME = encodeCommand(["MULTI"]);
export const EXEC_FRAME = encodeCommand(["EXEC"]);

/** A commit's effects as the stream carries them: one alone, several in a MULTI group. */
export const framed = (effects: readonly Effect[]): readonly Effect[] => (effects.length === 1 ? effects : [["MULTI"], ...effects, ["EXEC"]]);

export const isMulti = (frame: Uint8Array): boolean => bytesEqual(frame, MULTI_FRAME);
export const isExec = (frame: Uint8Array): boolean => bytesEqual(frame, EXEC_FRAME);

/** The index just past the group that starts at `i` (one entry, or MULTI ... EXEC), or null if cut. */
export function groupEnd(entries: readonly LogEntry[], i: number): number | null {
  if (!isMulti(entries[i]!.frame)) return i + 1;
  for (let j = i + 1; j < entries.length; j++) if (isExec(entries[j]!.frame)) return j + 1;
  return null;
}
