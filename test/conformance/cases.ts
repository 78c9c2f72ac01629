/**
 * Command cases, written once and run against every engine: the engine alone on in-memory
 * storage (`engine.test.ts`), and the node through the HTTP API (`http.test.ts`). Each case starts
 * from an empty keyspace. Expected values are in the JSON form of a reply (bulk strings as text).
 */

import { stringsCases } from "./strings";
import { keysCases } from "./keys";
import { hashesCases } from "./hashes";
import { hashTtlCases } from "./hash-ttl";
import { setsCases } from "./sets";
import { listsCases } from "./lists";
import { zsetsCases } from "./zsets";
import { bitmapsCases } from "./bitmaps";
import { geoCases } from "./geo";
import { sortCases } from "./sort";
import { streamsCases } from "./streams";

/** A time-dependent reply: any integer in [min, max]. */
export interface Between {
  readonly between: readonly [number, number];
}
/** An array whose order is unspecified (KEYS, SCAN). */
export interface Unordered {
  readonly unordered: readonly unknown[];
}
export type Expected = null | number | bigint | string | Between | Unordered | readonly Expected[];

export interface Step {
  readonly cmd: readonly (string | number)[];
  /** The reply; or `error`, a prefix of the expected error text. */
  readonly reply?: Expected;
  readonly error?: string;
}

export interface Case {
  readonly name: string;
  readonly steps: readonly Step[];
}

/** A list element long enough that 129 of them pass Redis's 8 KB listpack bound too. */

/** Every case, one file per family. */
export const cases: readonly Case[] = [...stringsCases, ...keysCases, ...hashesCases, ...hashTtlCases, ...setsCases, ...listsCases, ...zsetsCases, ...bitmapsCases, ...geoCases, ...sortCases, ...streamsCases];
