/**
 * The string type's replicated effects (see replication/effects.ts for the rules): the whole value
 * (SET), or no more than the change where that is deterministic (APPEND, SETRANGE: never the
 * whole resulting value).
 */
import { type Bytes, fromBytes, toBytes } from "../../bytes";
import { defineEffect, numberArg } from "../../replication/effect";
import type { StringEncoding } from "../../storage";

export interface SetArgs {
  readonly value: Bytes;
  readonly expiresAt: number | null;
  readonly encoding?: StringEncoding;
}

/** SET's arguments, `encoding` only when there is one (the frame names it only then). */
export const setArgs = (value: Bytes, expiresAt: number | null, encoding: StringEncoding | undefined): SetArgs =>
  encoding ? { value, expiresAt, encoding } : { value, expiresAt };

/**
 * SET key value [PXAT ms] [ENCODING raw|text]: the whole value (SET, INCR's result, MSET,
 * RENAME's destination...). ENCODING is Flaredis's own: the string's Entry.encoding, so that
 * OBJECT ENCODING answers on a replica as on the master (INCRBYFLOAT's result is text).
 */
export const set = defineEffect<SetArgs>({
  name: "SET",
  rows: 2,
  scope: "key",
  encode: ({ value, expiresAt, encoding }) => [
    value,
    ...(expiresAt === null ? [] : ["PXAT", String(expiresAt)]),
    ...(encoding ? ["ENCODING", encoding] : []),
  ],
  decode: ([value, ...options]) => {
    let expiresAt: number | null = null;
    let encoding: StringEncoding | undefined;
    for (let i = 0; i + 1 < options.length; i += 2) {
      const name = fromBytes(options[i]!);
      if (name === "PXAT") expiresAt = numberArg(options[i + 1]!);
      else if (name === "ENCODING") encoding = fromBytes(options[i + 1]!) === "raw" ? "raw" : "text";
    }
    return setArgs(value!, expiresAt, encoding);
  },
  example: { value: toBytes("v\x00\xff"), expiresAt: 1_700_000_000_000, encoding: "raw" },
  apply: (change, key, { value, expiresAt, encoding }, at) => change.putString(key, value, expiresAt, encoding, at),
});

/** APPEND key suffix: a missing key starts empty; the deadline stays; an existing string is changed in place (raw). */
export const append = defineEffect<Bytes>({
  name: "APPEND",
  rows: 1,
  scope: "key",
  encode: (suffix) => [suffix],
  decode: ([suffix]) => suffix!,
  example: toBytes("tail"),
  apply: (change, key, suffix, at, current) => void change.appendAt(key, current, current === null ? 0 : change.stringLength(current), suffix, at),
});

/** SETRANGE key offset bytes: zero-padded as Redis does; the deadline stays. */
export const setrange = defineEffect<{ readonly offset: number; readonly bytes: Bytes }>({
  name: "SETRANGE",
  rows: 1,
  scope: "key",
  encode: ({ offset, bytes }) => [String(offset), bytes],
  decode: ([offset, bytes]) => ({ offset: numberArg(offset!), bytes: bytes! }),
  example: { offset: 3, bytes: toBytes("xyz") },
  apply: (change, key, { offset, bytes }, at, current) => {
    if (bytes.length > 0) change.writeStringAt(key, current, offset, bytes, true, at);
  },
});

export const stringEffects = [set, append, setrange];
