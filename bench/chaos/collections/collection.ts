/**
 * What a collection type of the chaos workload provides (one file per type: hash.ts, list.ts,
 * set.ts, zset.ts, registered in index.ts): its state's canonical text, the commands a client
 * runs on its own keys of that type (each modelled as `next`, narrowed by the answer), and a
 * partial read with the answer each state gives.
 */
import type { Random } from "../context.ts";
import type { Cmd, KeyModel, KeyType, Value } from "../model.ts";

/** What a type's commands take from the client that sends them. */
export interface Writer {
  readonly random: Random;
  /** A value never written before (it names the client). */
  value(): string;
  /** The model of one of the client's keys. */
  model(key: string): KeyModel;
}

/** A read of part of a collection (HGET, LLEN, SISMEMBER, ZSCORE), and whether a state gives its answer. */
export interface Probe {
  argv: string[];
  shows(state: Value, result: unknown): boolean;
}

export interface CollectionType extends KeyType {
  readonly name: "hash" | "list" | "set" | "zset";
  elements(state: Value): string[];
  /** A client's keys of this type (a pair for lists, for LMOVE between them). */
  keys(id: number): string[];
  /** A write on one of `keys` (the client's, of this type). */
  command(w: Writer, keys: readonly string[]): Cmd;
  /** A partial read of `key`. */
  probe(random: Random, key: string): Probe;
}

/** Redis orders members, and we order fields, by their UTF-8 bytes. */
export const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** `k` distinct items of `items`, at random. */
export function some<T>(random: Random, items: readonly T[], k: number): T[] {
  const left = [...items];
  const out: T[] = [];
  while (out.length < k && left.length > 0) out.push(left.splice(Math.floor(random.next() * left.length), 1)[0]!);
  return out;
}

/** A flat reply ([a, b, c, d]) as pairs ([[a, b], [c, d]]); a lone last item stays alone, so that it matches no state. */
export function pairs(flat: unknown): unknown[][] {
  const items = Array.isArray(flat) ? flat : [flat];
  const out: unknown[][] = [];
  for (let i = 0; i < items.length; i += 2) out.push(items.slice(i, i + 2));
  return out;
}
