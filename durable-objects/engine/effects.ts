/**
 * The replicated effects, each declared once: how the master records it (`encode`, called by the
 * keyspace overlay when a command changes a key) and how a replica applies it (`apply`). Effects
 * are deterministic and small: what happened, not the command that asked for it (INCR is logged
 * as the SET of its result, EXPIRE as PEXPIREAT), and no larger than the change where that is
 * deterministic (APPEND as APPEND, SETRANGE as SETRANGE, never the whole resulting value).
 *
 * `apply` runs only when the key does not already reflect the effect (its `mod` is below the
 * effect's end offset `at`; see replication.ts) and stamps what it writes with `at`.
 */
import { type Bytes, concatBytes, fromBytes, overwriteBytes } from "./bytes";
import type { Change, Effect } from "./keyspace";
import type { Entry } from "./storage";

interface EffectSpec {
  readonly name: string;
  /** Applies the effect's arguments (after the key) to `current`, the key's entry or null. */
  apply(change: Change, key: string, args: readonly Bytes[], at: number, current: Entry | null): void;
}

const integer = (b: Bytes) => Number(fromBytes(b));

/** SET key value [PXAT ms]: the whole value (SET, INCR's result, MSET, RENAME's destination...). */
const set: EffectSpec = {
  name: "SET",
  apply: (change, key, [value, , pxat], at) =>
    change.writeAsTold(key, { type: "string", value: value!, expiresAt: pxat ? integer(pxat) : null }, at),
};

const del: EffectSpec = {
  name: "DEL",
  apply: (change, key, _args, at, current) => {
    if (current !== null) change.writeAsTold(key, null, at);
  },
};

const pexpireat: EffectSpec = {
  name: "PEXPIREAT",
  apply: (change, key, [at], stamp, current) => {
    if (current !== null) change.writeAsTold(key, { ...current, expiresAt: integer(at!) }, stamp);
  },
};

const persist: EffectSpec = {
  name: "PERSIST",
  apply: (change, key, _args, at, current) => {
    if (current !== null) change.writeAsTold(key, { ...current, expiresAt: null }, at);
  },
};

/** APPEND key suffix: a missing key starts empty; the deadline stays. */
const append: EffectSpec = {
  name: "APPEND",
  apply: (change, key, [suffix], at, current) => {
    const value = current === null ? suffix! : concatBytes([current.value, suffix!]);
    change.writeAsTold(key, { type: "string", value, expiresAt: current?.expiresAt ?? null }, at);
  },
};

/** SETRANGE key offset bytes: zero-padded as Redis does; the deadline stays. */
const setrange: EffectSpec = {
  name: "SETRANGE",
  apply: (change, key, [offset, bytes], at, current) => {
    const value = overwriteBytes(current?.value ?? new Uint8Array(0), integer(offset!), bytes!);
    change.writeAsTold(key, { type: "string", value, expiresAt: current?.expiresAt ?? null }, at);
  },
};

const SPECS = new Map([set, del, pexpireat, persist, append, setrange].map((s) => [s.name, s]));

/** How the master records each effect (the overlay calls these; the arguments are the effect's). */
export const encode = {
  set: (key: string, value: Bytes, expiresAt: number | null): Effect =>
    expiresAt === null ? ["SET", key, value] : ["SET", key, value, "PXAT", String(expiresAt)],
  del: (key: string): Effect => ["DEL", key],
  deadline: (key: string, expiresAt: number | null): Effect =>
    expiresAt === null ? ["PERSIST", key] : ["PEXPIREAT", key, String(expiresAt)],
  append: (key: string, suffix: Bytes): Effect => ["APPEND", key, suffix],
  setrange: (key: string, offset: number, bytes: Bytes): Effect => ["SETRANGE", key, String(offset), bytes],
  flushall: (): Effect => ["FLUSHALL"],
};

/** True for the effect that empties the keyspace (it is not about one key). */
export const isFlush = (argv: readonly Bytes[]) => fromBytes(argv[0]!).toUpperCase() === "FLUSHALL";

/**
 * Applies one keyed effect that ends at offset `at`, unless the key already reflects it
 * (its `mod` >= `at`: it came in a snapshot chunk read at or after `at`).
 * @throws Error for an effect this code does not know (a newer master: the replica resyncs).
 */
export function applyEffect(change: Change, argv: readonly Bytes[], at: number): void {
  const spec = SPECS.get(fromBytes(argv[0]!).toUpperCase());
  if (!spec) throw new Error(`replication: unknown effect ${fromBytes(argv[0]!)}`);
  const key = fromBytes(argv[1]!);
  const current = change.peek(key);
  if (current !== null && (current.mod ?? 0) >= at) return;
  spec.apply(change, key, argv.slice(2), at, current);
}
