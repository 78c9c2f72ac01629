/**
 * The collection types of the chaos workload, registered once: each client owns a hash, a pair
 * of lists, a set and a sorted set (`collectionKeys`), and writes them with its type's commands
 * or, now and then, with the commands every key takes (DEL, EXPIRE, PERSIST).
 */
import type { Cmd, Value } from "../model.ts";
import type { CollectionType, Writer } from "./collection.ts";
import { HASH } from "./hash.ts";
import { LIST } from "./list.ts";
import { SET } from "./set.ts";
import { ZSET } from "./zset.ts";

export type { CollectionType, Probe, Writer } from "./collection.ts";

export const COLLECTIONS: readonly CollectionType[] = [HASH, LIST, SET, ZSET];

/** A client's collection keys, each with its type. */
export function collectionKeys(id: number): Map<string, CollectionType> {
  return new Map(COLLECTIONS.flatMap((type) => type.keys(id).map((key) => [key, type] as const)));
}

/** DEL, EXPIRE (far: nothing expires) or PERSIST on `key`; DEL's and EXPIRE's answers say whether it existed. */
function anyKey(w: Writer, key: string): Cmd {
  const existed = (x: Value, n: unknown) => (x !== null) === (n === 1);
  const r = w.random.next();
  if (r < 0.6) return { argv: ["DEL", key], effects: [{ key, next: () => [null], answered: (x, n) => (existed(x, n) ? [null] : []) }] };
  if (r < 0.85) return { argv: ["EXPIRE", key, "100000"], effects: [{ key, next: (x) => [x], answered: (x, n) => (existed(x, n) ? [x] : []) }] };
  return { argv: ["PERSIST", key], effects: [{ key, next: (x) => [x] }] };
}

/** A write on one of client `id`'s collections. */
export function collectionCommand(w: Writer, id: number): Cmd {
  const type = w.random.pick(COLLECTIONS);
  const keys = type.keys(id);
  return w.random.next() < 0.12 ? anyKey(w, w.random.pick(keys)) : type.command(w, keys);
}
