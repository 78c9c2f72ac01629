/**
 * The value types, one module each (Redis keeps t_hash.c beside t_string.c): a type's folder
 * holds its operations on the overlay, its replicated effects, its commands and how it is written
 * whole; adding a type is its folder and one line here. (A string's storage, inline or paged, is
 * the keyspace's own: keyspace/pages.ts.)
 */
import type { Command } from "../command";
import type { EffectCall, KeyEffect } from "../replication/effect";
import type { Change } from "../keyspace";
import type { ElementRow, Entry, ValueType } from "../storage";
import { stringType } from "./string";
import { hashType } from "./hash";
import { setType } from "./set";
import { listType } from "./list";
import { zsetType } from "./zset";
import { streamType } from "./stream";
import type { AlgebraStore } from "./algebra";
import type { FieldDeadlineIndex } from "./hash/field-index";
import type { OrderIndex } from "./order";
import type { ZsetIndex } from "./zset/range";

export interface TypeModule {
  readonly name: ValueType;
  readonly commands: readonly Command<any>[];
  readonly effects: readonly KeyEffect<any>[];
  /** The effects that write a value of this type whole, from its elements (a string's: its pages) (logged in bounded pieces: `splitEffect`). */
  restore(elements: readonly ElementRow[], entry: Entry): EffectCall[];
  /** OBJECT ENCODING's answer for a value of this type (`db` to look at its elements). */
  encoding(entry: Entry, db: Change): string;
}

export const TYPES: readonly TypeModule[] = [stringType, hashType, setType, listType, zsetType, streamType];

/** The module of a collection type. @throws Error for a type no module declares */
export function typeNamed(name: ValueType): TypeModule {
  const t = TYPES.find((m) => m.name === name);
  if (!t) throw new Error(`flaredis: no type module for ${name}`);
  return t;
}

/** Each type's own queries over the stored elements (Storage.indexes), declared in its folder. */
export interface TypeIndexes {
  /** Lists' and sorted sets' order (types/order.ts). */
  readonly order: OrderIndex;
  /** Sorted sets' ranges (types/zset/range.ts). */
  readonly zset: ZsetIndex;
  /** Set algebra over sets and sorted sets (types/algebra.ts). */
  readonly algebra: AlgebraStore;
  /** Hashes' fields by deadline (types/hash/field-index.ts). */
  readonly hashFields: FieldDeadlineIndex;
}
