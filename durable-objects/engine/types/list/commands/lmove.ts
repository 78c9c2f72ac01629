import { type Bytes } from "../../../bytes";
import { type Change } from "../../../keyspace";
import { defineCommand, key } from "../../../command";
import { parseEnd } from "../args";
import { type End, List } from "../list";

/**
 * Pops from `from` of `source` and pushes onto `to` of `destination` (the same list rotates) →
 * the element, or nil without a source. The destination's type is checked before anything moves.
 * Replicated as LDEL on the source and LPUT on the destination.
 */
export function move(db: Change, source: string, destination: string, from: End, to: End): Bytes | null {
  const src = List.find(db, source);
  if (src === null) return null;
  const dst = destination === source ? src : List.find(db, destination);
  if (dst === src && src.length === 1) return src.at(0)!.value; // the list stays as it is
  const [value] = src.pop(from, 1);
  (dst ?? List.findOrCreate(db, destination)).push([value!], to);
  return value!;
}

/** LMOVE source destination LEFT|RIGHT LEFT|RIGHT @see https://redis.io/docs/latest/commands/lmove/ */
export default defineCommand({
  name: "lmove",
  arity: 5,
  flags: ["write", "denyoom"],
  keys: key(1, 2),
  parse: ([source, destination, from, to]) => ({ source: source!, destination: destination!, from: parseEnd(from!), to: parseEnd(to!) }),
  run: ({ db }, a) => move(db, a.source, a.destination, a.from, a.to),
});

/** RPOPLPUSH source destination (LMOVE source destination RIGHT LEFT) @see https://redis.io/docs/latest/commands/rpoplpush/ */
export const rpoplpush = defineCommand({
  name: "rpoplpush",
  arity: 3,
  flags: ["write", "denyoom"],
  keys: key(1, 2),
  parse: ([source, destination]) => ({ source: source!, destination: destination! }),
  run: ({ db }, a) => move(db, a.source, a.destination, "right", "left"),
});
