/**
 * The table of replicated effects, each declared once (effect.ts `defineEffect`) by its module: the
 * keyspace's own (generic/effects.ts: DEL, deadlines, RENAME, COPY, FLUSHALL), each type's
 * (types/<type>/effects.ts), the set algebra's STORE and the function libraries' FUNCTION; and
 * the stream's MULTI ... EXEC framing (framing.ts). The master applies each key effect and records
 * it (`Change.apply`, through `applyKeyEffect`); a replica decodes each frame once
 * (`decodeEffect`) and applies it through the same function. Effects
 * are deterministic and small: what happened, not the command that asked for it (INCR is logged
 * as the SET of its result, EXPIRE as PEXPIREAT), and no larger than the change where that is
 * deterministic (APPEND as APPEND, SETRANGE as SETRANGE, never the whole resulting value).
 *
 * A key-level effect's `apply` runs only when the key does not already reflect the effect (its
 * `mod` is below the effect's end offset `at`; see protocol.ts) and stamps what it writes with
 * `at`. An element-level effect (a collection's HSET, HDEL...) is judged element by element, by
 * each element's own `mod`: one collection may span snapshot chunks read at different offsets.
 * While `fuzzy` (the replica's keyspace mixes chunks read after `at`), a collection's count may be
 * off and is not trusted to delete it; the replica recounts once consistent (sync.ts).
 */
import { type Bytes, fromBytes } from "../bytes";
import { flushall, genericEffects, pexpireat } from "../generic/effects";
import type { Change, Effect } from "../keyspace";
import { functionEffect } from "../scripting/effects";
import type { ElementRow, Entry } from "../storage";
import { typeNamed, TYPES } from "../types";
import { store } from "../types/algebra";
import { type AnyEffect, type EffectCall, type EffectHost, type GlobalEffect, type KeyEffect, call } from "./effect";
import { isExec, isMulti } from "./framing";
import { decodeCommand } from "./resp";

export { FullSyncNeeded } from "./effect";

/** Every effect: the keyspace's own, FLUSHALL, each type's (strings' among them), STORE, FUNCTION. */
export const EFFECTS: readonly AnyEffect[] = [...genericEffects, flushall, ...TYPES.flatMap((t) => t.effects), store, functionEffect];

const BY_NAME = new Map<string, AnyEffect>();
for (const effect of EFFECTS) {
  if (BY_NAME.has(effect.name)) throw new Error(`flaredis: effect ${effect.name} declared twice`);
  BY_NAME.set(effect.name, effect);
}

/** A frame of the stream, decoded once: the framing of a group, or an effect with its arguments. */
export type DecodedFrame =
  | { readonly kind: "multi" }
  | { readonly kind: "exec" }
  | { readonly kind: "global"; readonly effect: GlobalEffect<unknown>; readonly args: unknown }
  | { readonly kind: "key"; readonly effect: KeyEffect<unknown>; readonly key: string; readonly args: unknown };

/**
 * Decodes a frame of the stream.
 * @throws Error for an effect this code does not know, or arguments it never writes (a newer master: the replica resyncs).
 */
export function decodeEffect(frame: Bytes): DecodedFrame {
  if (isMulti(frame)) return { kind: "multi" };
  if (isExec(frame)) return { kind: "exec" };
  return decodeArgv(decodeCommand(frame));
}

/** The effect a frame's first word names, in any case. */
const effectNamed = (name: Bytes): AnyEffect | undefined => BY_NAME.get(fromBytes(name).toUpperCase());

function decodeArgv(argv: readonly Bytes[]): DecodedFrame {
  const effect = effectNamed(argv[0]!);
  if (!effect) throw new Error(`replication: unknown effect ${fromBytes(argv[0]!)}`);
  if (effect.kind === "global") return { kind: "global", effect, args: effect.decode(argv.slice(1)) };
  if (argv.length < 2) throw new Error(`replication: ${effect.name} without a key`);
  return { kind: "key", effect, key: fromBytes(argv[1]!), args: effect.decode(argv.slice(2)) };
}

/**
 * Applies a decoded effect that ends at offset `at`: a key-level one unless the key already
 * reflects it (its `mod` >= `at`: it came in a snapshot chunk read at or after `at`); a global
 * one to `host`. Framing is not applied (the caller groups by it).
 */
export function applyDecoded(decoded: DecodedFrame, change: Change, host: EffectHost, at: number, fuzzy = false): void {
  if (decoded.kind === "global") decoded.effect.apply(host, decoded.args, at);
  else if (decoded.kind === "key") applyKeyEffect(change, decoded.effect, decoded.key, decoded.args, at, fuzzy);
}

/**
 * Applies `effect` on `key` ending at offset `at`, unless the key already reflects it (a key-level
 * effect's key has a `mod` at or past `at`). The one way a key changes, on a master as on a
 * replica: the master applies its own effects at offsets past every stored one (`Change.apply`).
 */
export function applyKeyEffect<A>(change: Change, effect: KeyEffect<A>, key: string, args: A, at: number, fuzzy: boolean): void {
  const current = change.peek(key);
  if (effect.scope === "key" && current !== null && (current.mod ?? 0) >= at) return;
  effect.apply(change, key, args, at, current, fuzzy);
}

/**
 * The keys a frame of the stream writes (WATCH's check), read from its name and key alone: its
 * key, and RENAME's and COPY's destination; none for framing or a change of the function
 * libraries; null for FLUSHALL (every key). A frame this code does not know writes its key.
 */
export function keysWrittenBy(frame: Bytes): string[] | null {
  if (isMulti(frame) || isExec(frame)) return [];
  const argv = decodeCommand(frame);
  const effect = effectNamed(argv[0]!);
  if (effect?.kind === "global") return effect.writesEveryKey ? null : [];
  if (argv.length < 2) return [];
  const key = fromBytes(argv[1]!);
  return effect?.alsoWrites ? [key, ...effect.alsoWrites(effect.decode(argv.slice(2)))] : [key];
}

/**
 * The effects that write `entry` whole (RENAME's and COPY's destination during a full sync, when
 * they are not logged as themselves; an inline string's always): its value, or its elements (its
 * type's own effects), then its deadline.
 */
export function restoreEffects(entry: Entry, elements: readonly ElementRow[]): EffectCall[] {
  const out = typeNamed(entry.type).restore(elements, entry);
  // An inline string's SET carries its deadline.
  const carried = entry.type === "string" && entry.eid === undefined;
  if (entry.expiresAt !== null && !carried) out.push(call(pexpireat, entry.expiresAt));
  return out;
}

/** Most bytes of one effect of a splittable kind (see `splitEffect`). */
const EFFECT_BYTES = 64 * 1024;

/**
 * A large element-level effect as several of the same kind, each of about EFFECT_BYTES (never
 * splitting an element's arguments): one command's effect then never makes a backlog row near
 * SQLite's 2 MB row limit. Others are returned as they are.
 */
export function splitEffect(effect: Effect, maxBytes = EFFECT_BYTES): Effect[] {
  const [name, key, ...args] = effect;
  const spec = BY_NAME.get(String(name));
  const group = spec?.kind === "key" ? spec.group : undefined;
  if (group === undefined) return [effect];
  const size = (a: string | Bytes) => (typeof a === "string" ? a.length * 3 : a.length);
  let total = 0;
  for (const a of args) total += size(a);
  if (total <= maxBytes) return [effect];
  const out: Effect[] = [];
  let batch: (string | Bytes)[] = [];
  let bytes = 0;
  for (let i = 0; i < args.length; i += group) {
    const element = args.slice(i, i + group);
    batch.push(...element);
    for (const a of element) bytes += size(a);
    if (bytes >= maxBytes) {
      out.push([name!, key!, ...batch]);
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) out.push([name!, key!, ...batch]);
  return out;
}
