/**
 * The collection types, one module each (Redis keeps t_hash.c beside t_string.c): a type's
 * folder holds its operations on the overlay, its replicated effects, its commands and how it is
 * written whole; adding a type is its folder and one line here. (Strings live in the keyspace.)
 */
import type { Command } from "../command";
import type { EffectSpec } from "../effect-spec";
import type { Change, Effect } from "../keyspace";
import type { ElementRow, Entry, ValueType } from "../storage";
import { hashType } from "./hash";
import { setType } from "./set";
import { listType } from "./list";
import { zsetType } from "./zset";
import { streamType } from "./stream";

export interface TypeModule {
  readonly name: Exclude<ValueType, "string">;
  readonly commands: readonly Command<any>[];
  readonly effects: readonly EffectSpec[];
  /** The effects that write a collection of this type whole under `key` (logged in bounded pieces: `splitEffect`). */
  restore(key: string, elements: readonly ElementRow[], entry: Entry): Effect[];
  /** OBJECT ENCODING's answer for a collection of this type (`db` to look at its elements). */
  encoding(entry: Entry, db: Change): string;
}

export const TYPES: readonly TypeModule[] = [hashType, setType, listType, zsetType, streamType];

/** The module of a collection type. @throws Error for a type no module declares */
export function typeNamed(name: ValueType): TypeModule {
  const t = TYPES.find((m) => m.name === name);
  if (!t) throw new Error(`flaredis: no type module for ${name}`);
  return t;
}
