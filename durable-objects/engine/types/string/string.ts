/**
 * The string type's own parts besides its commands and effects: how a string is written whole
 * (RENAME's or COPY's destination during a full sync) and how OBJECT ENCODING names it. Strings
 * are stored by the keyspace itself (inline in the key's row, or in pages: keyspace/pages.ts).
 */
import { fromBytes } from "../../bytes";
import { isInt64 } from "../../args";
import { PAGE_BYTES, pageNumber } from "../../keyspace/page-layout";
import type { ElementRow, Entry } from "../../storage";
import { type EffectCall, call } from "../../replication/effect";
import { set, setArgs, setrange } from "./effects";

/**
 * A string written whole: one SET (its deadline with it), or a paged string's stored pages in
 * order (the last one among them), each a SETRANGE at its place.
 */
export function restoreString(pages: readonly ElementRow[], entry: Entry): EffectCall[] {
  if (entry.eid === undefined) return [call(set, setArgs(entry.value, entry.expiresAt, entry.encoding))];
  return pages.map((page) => call(setrange, { offset: pageNumber(page.field) * PAGE_BYTES, bytes: page.value }));
}

/**
 * Redis's string encodings: a string changed in place (APPEND, SETRANGE) is `raw`; else a 64-bit
 * integer as string2ll reads it is `int` (unless written as text: INCRBYFLOAT's), up to 44 bytes
 * `embstr`, longer `raw`.
 */
export function stringEncoding(e: Entry): string {
  if (e.encoding === "raw") return "raw";
  if (e.encoding !== "text" && e.value.length <= 20 && isInt64(fromBytes(e.value))) return "int";
  return e.value.length <= 44 ? "embstr" : "raw";
}
