/**
 * The chaos clients' string writes: a command on a client's own keys, chosen by what the model says
 * each key may hold (see model.ts), with the effects the model applies when it is acknowledged.
 */
import type { Parts, Random } from "./context.ts";
import { type Cmd, type Model, type Value, isInteger, narrowed, utf8 } from "./model.ts";

/** A far-future deadline: the largest PEXPIREAT a JavaScript number holds exactly, and EXAT's. */
export const FAR_PX = "9007199254740991";
export const FAR_EX = "9999999999";

/** What a string write needs of its client. */
export interface StringWriter {
  readonly id: number;
  readonly keys: readonly string[];
  readonly model: Model;
  readonly random: Random;
  readonly parts: Parts;
  /** A new value (each one distinct). */
  value(): string;
  /** The client's sequence number, after `value()`. */
  seq(): number;
}

/** A write on one of `w`'s keys (SET in its forms, PEXPIREAT, EXPIRE/PERSIST, INCR, APPEND, MSET, DEL, RENAME). */
export function stringCommand(w: StringWriter): Cmd {
    const key = w.random.pick(w.keys);
    const m = w.model.key(key);
    const r = w.random.next();
    const v = w.value();
    const cands = [...m.cands.keys()];
    if (r < 0.3 || cands.some((x) => utf8(x) > 4000)) return { argv: ["SET", key, v], effects: [{ key, next: () => [v] }] };
    if (r < 0.36 && w.parts.has("far-future")) return { argv: ["SET", key, v, "EXAT", FAR_EX], effects: [{ key, next: () => [v] }] };
    if (r < 0.4 && w.parts.has("far-future")) return { argv: ["SET", key, v, "PXAT", FAR_PX], effects: [{ key, next: () => [v] }] };
    if (r < 0.46 && w.parts.has("far-future")) return { argv: ["PEXPIREAT", key, FAR_PX], effects: [{ key, next: (x) => [x] }] };
    if (r < 0.5) {
      const which = Math.floor(w.random.next() * 3);
      if (which === 0) return { argv: ["SET", key, v, "KEEPTTL"], effects: [{ key, next: () => [v] }] };
      return { argv: which === 1 ? ["EXPIRE", key, "100000"] : ["PERSIST", key], effects: [{ key, next: (x) => [x] }] };
    }
    if (r < 0.6 && w.parts.has("incr") && cands.every((x) => x === null || isInteger(x))) {
      const by = w.random.next() < 0.7 ? 1 : -3;
      const incr = (x: Value) => [String(Number(x ?? 0) + by)];
      return {
        argv: by === 1 ? ["INCR", key] : ["INCRBY", key, String(by)],
        effects: [{ key, next: incr, answered: narrowed(incr, (y, reply) => y === String(reply)) }],
      };
    }
    if (r < 0.72 && w.parts.has("append")) {
      const suffix = `+${w.id}.${w.seq()}${w.seq() % 5 === 0 ? "ü" : ""}`;
      const append = (x: Value) => [(x ?? "") + suffix];
      return { argv: ["APPEND", key, suffix], effects: [{ key, next: append, answered: narrowed(append, (y, reply) => utf8(y) === Number(reply)) }] };
    }
    if (r < 0.8) {
      const other = w.random.pick(w.keys.filter((k) => k !== key));
      const u = w.value();
      return { argv: ["MSET", key, v, other, u], effects: [{ key, next: () => [v] }, { key: other, next: () => [u] }] };
    }
    if (r < 0.88) return { argv: ["DEL", key], effects: [{ key, next: () => [null] }] };
    if (w.parts.has("rename") && cands.every((x) => x !== null)) {
      const to = w.random.pick(w.keys.filter((k) => k !== key));
      // The destination's next state is the source's, read when the destination is modelled (after the source).
      let moved: Value[] = [];
      return {
        argv: ["RENAME", key, to],
        effects: [
          { key, next: (x) => (x === null ? [] : ((moved = [...w.model.key(key).cands.keys()].filter((y) => y !== null)), [null])) },
          { key: to, next: () => moved },
        ],
      };
    }
    return { argv: ["SET", key, v], effects: [{ key, next: () => [v] }] };
}
