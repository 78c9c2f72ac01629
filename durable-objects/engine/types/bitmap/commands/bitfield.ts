import { parseInt64 } from "../../../args";
import { type Reply, defineCommand, integerReply, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { bitOffset, fieldType } from "../args";
import type { Change } from "../../../keyspace";
import { INLINE_MAX } from "../../../keyspace/page-layout";
import { type FieldType, type Overflow, addField, readField, writeField } from "../bits";
import { setRange } from "../../string/writes";

interface FieldOp {
  readonly op: "GET" | "SET" | "INCRBY";
  readonly type: FieldType;
  readonly offset: number;
  readonly n: bigint;
  readonly overflow: Overflow;
}

/** The subcommands in order (OVERFLOW applies to those after it), as Redis parses them. */
function parseOps(args: readonly string[]): FieldOp[] {
  const ops: FieldOp[] = [];
  let overflow: Overflow = "WRAP";
  for (let j = 0; j < args.length; j++) {
    const name = args[j]!.toUpperCase();
    const left = args.length - j - 1;
    if (name === "OVERFLOW" && left >= 1) {
      const o = args[++j]!.toUpperCase();
      if (o !== "WRAP" && o !== "SAT" && o !== "FAIL") throw new RedisError("ERR Invalid OVERFLOW type specified");
      overflow = o;
      continue;
    }
    if (!((name === "GET" && left >= 2) || ((name === "SET" || name === "INCRBY") && left >= 3))) throw errors.syntax();
    const type = fieldType(args[j + 1]!);
    const offset = bitOffset(args[j + 2]!, type.bits);
    const n = name === "GET" ? 0n : parseInt64(args[j + 3]!);
    ops.push({ op: name as FieldOp["op"], type, offset, n, overflow });
    j += name === "GET" ? 2 : 3;
  }
  return ops;
}

/** One field's value after `op` (null: an overflow under FAIL). */
function applied(o: FieldOp, old: bigint): bigint | null {
  // An unsigned SET's value is the 64-bit pattern of the signed integer given.
  return o.op === "INCRBY" ? addField(old, o.n, o.type, o.overflow) : addField(o.type.signed ? o.n : BigInt.asUintN(64, o.n), 0n, o.type, o.overflow);
}

/**
 * BITFIELD on a paged string (keyspace/page-layout.ts): each field read from the bytes that hold
 * it and each write logged as a SETRANGE of those bytes, so the command touches only their pages.
 */
function fieldByField(db: Change, key: string, ops: readonly FieldOp[], length: number, reach: number): Reply {
  if (reach > length) setRange(db, key, reach - 1, Uint8Array.of(0));
  return ops.map((o): Reply => {
    const from = Math.floor(o.offset / 8);
    const window = new Uint8Array(Math.floor((o.offset + o.type.bits - 1) / 8) + 1 - from);
    const e = db.get(key);
    if (e !== null) window.set(db.stringBytes(e, from, Math.min(from + window.length, db.stringLength(e))));
    const old = readField(window, o.offset - from * 8, o.type);
    if (o.op === "GET") return integerReply(old);
    const next = applied(o, old);
    if (next === null) return null;
    writeField(window, o.offset - from * 8, o.type, next);
    setRange(db, key, from, window);
    return integerReply(o.op === "INCRBY" ? next : old);
  });
}

function bitfield(readonly: boolean) {
  return defineCommand({
    name: readonly ? "bitfield_ro" : "bitfield",
    arity: -2,
    flags: readonly ? ["readonly"] : ["write", "denyoom"],
    keys: key(1),
    parse: ([k, ...rest]) => {
      const ops = parseOps(rest);
      if (readonly && ops.some((o) => o.op !== "GET")) throw new RedisError("ERR BITFIELD_RO only supports the GET subcommand");
      return { key: k!, ops };
    },
    run: ({ db }, a): Reply => {
      const e = db.lookupString(a.key);
      const length = e === null ? 0 : db.stringLength(e);
      const writes = a.ops.filter((o) => o.op !== "GET");
      // Writes make room up to the farthest bit any of them reaches, as Redis does, whatever they then do.
      const reach = Math.max(0, ...writes.map((o) => Math.floor((o.offset + o.type.bits - 1) / 8) + 1));
      // Refused before anything that large is allocated (an offset may reach 512 MB).
      if (writes.length > 0) db.checkSize(Math.max(length, reach));
      if (Math.max(length, reach) > INLINE_MAX) return fieldByField(db, a.key, a.ops, length, reach);
      const current = e === null ? null : db.stringValue(e);
      if (writes.length === 0) return a.ops.map((o) => integerReply(readField(current ?? new Uint8Array(0), o.offset, o.type)));
      const value = new Uint8Array(Math.max(length, reach));
      if (current !== null) value.set(current);
      const replies = a.ops.map((o): Reply => {
        const old = readField(value, o.offset, o.type);
        if (o.op === "GET") return integerReply(old);
        const next = applied(o, old);
        if (next === null) return null;
        writeField(value, o.offset, o.type, next);
        return integerReply(o.op === "INCRBY" ? next : old);
      });
      // Logged as one SETRANGE from the first byte that changed to the last (or to the new end).
      const before = current ?? new Uint8Array(0);
      let first = -1;
      let last = value.length > before.length ? value.length - 1 : -1;
      for (let i = 0; i < before.length; i++)
        if (value[i] !== before[i]) {
          if (first < 0) first = i;
          last = Math.max(last, i);
        }
      if (first < 0 && value.length > before.length) first = before.length;
      if (first >= 0) setRange(db, a.key, first, value.slice(first, last + 1));
      // Nothing changed: the string is still made raw, as Redis unshares it for any write.
      else if (db.get(a.key)?.encoding !== "raw") setRange(db, a.key, 0, value.slice(0, 1));
      return replies;
    },
  });
}

/**
 * BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
 * [OVERFLOW WRAP|SAT|FAIL] ...: one reply per GET, SET (the old value) and INCRBY (the new one),
 * nil for an overflow under FAIL (nothing written). Types i1..i64 and u1..u63; `#N` offsets count
 * fields. @see https://redis.io/docs/latest/commands/bitfield/
 */
export default bitfield(false);

/** BITFIELD_RO key [GET type offset] ...: GETs only. @see https://redis.io/docs/latest/commands/bitfield_ro/ */
export const bitfieldRo = bitfield(true);
