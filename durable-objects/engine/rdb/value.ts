/**
 * A key's value in RDB's object encoding (Redis's rdbSaveObject and rdbLoadObject): the type
 * byte, then the value. Read: every encoding Redis 7.0 to 7.4 writes for strings, lists, sets,
 * sorted sets and hashes (plain, ziplist, listpack, quicklist, intset, and 7.4's hashes with
 * field deadlines). Written: the plain encodings (RDB_TYPE_STRING, LIST, SET, ZSET_2, HASH), which
 * every Redis 7 reads; a hash with field deadlines as 7.4's HASH_METADATA, which needs RDB 12;
 * streams as stream.ts says.
 *
 * A value read is checked as Redis checks a restored one: no empty collection (a stream may be
 * empty), no duplicate member or field, no NaN score. Module values are refused.
 */
import { fromBytes } from "../bytes.ts";
import { RdbError } from "./error.ts";
import { intsetMembers, listpackEntries, ziplistEntries } from "./packed.ts";
import { parseDouble, type RdbReader, type RdbWriter } from "./reader.ts";
import { type RdbStream, STREAM_TYPES, readStream, writeStream } from "./stream.ts";

export const RDB_TYPE = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
  HASH_METADATA_PRE_GA: 22,
  HASH_LISTPACK_EX_PRE_GA: 23,
  HASH_METADATA: 24,
  HASH_LISTPACK_EX: 25,
} as const;

/** The RDB version a value written in the plain encodings needs (Redis 7.0's, so 7.0 loads it). */
export const RDB_VERSION_PLAIN = 10;
/** The RDB version of Redis 7.4, the newest this reads (hashes with field deadlines need it). */
export const RDB_VERSION_MAX = 12;

export interface HashField {
  readonly field: Uint8Array;
  readonly value: Uint8Array;
  /** The field's deadline (ms since the epoch), or null. */
  readonly expiresAt: number | null;
}

export type RdbValue =
  | { readonly type: "string"; readonly value: Uint8Array }
  | { readonly type: "list"; readonly items: readonly Uint8Array[] }
  | { readonly type: "set"; readonly members: readonly Uint8Array[] }
  | { readonly type: "zset"; readonly entries: readonly { readonly member: Uint8Array; readonly score: number }[] }
  | { readonly type: "hash"; readonly fields: readonly HashField[] }
  | RdbStream;

/** A value whose type or encoding this does not read (modules, zipmaps). */
export class UnsupportedRdbType extends RdbError {
  readonly rdbType: number;
  constructor(rdbType: number) {
    super(`RDB type ${rdbType} is not supported`);
    this.rdbType = rdbType;
  }
}

/** Writes `value` (its type byte and its encoding); the RDB version it needs. */
export function writeValue(w: RdbWriter, value: RdbValue): number {
  switch (value.type) {
    case "string":
      w.u8(RDB_TYPE.STRING).string(value.value);
      return RDB_VERSION_PLAIN;
    case "list":
      w.u8(RDB_TYPE.LIST).length(value.items.length);
      for (const item of value.items) w.string(item);
      return RDB_VERSION_PLAIN;
    case "set":
      w.u8(RDB_TYPE.SET).length(value.members.length);
      for (const member of value.members) w.string(member);
      return RDB_VERSION_PLAIN;
    case "zset":
      w.u8(RDB_TYPE.ZSET_2).length(value.entries.length);
      for (const { member, score } of value.entries) w.string(member).binaryDouble(score);
      return RDB_VERSION_PLAIN;
    case "hash": {
      let min: number | null = null;
      for (const f of value.fields) if (f.expiresAt !== null && (min === null || f.expiresAt < min)) min = f.expiresAt;
      if (min === null) {
        w.u8(RDB_TYPE.HASH).length(value.fields.length);
        for (const f of value.fields) w.string(f.field).string(f.value);
        return RDB_VERSION_PLAIN;
      }
      // Redis 7.4's layout: the earliest deadline, then [ttl][field][value] with each deadline
      // relative to it, plus one (0: none).
      w.u8(RDB_TYPE.HASH_METADATA).u64le(min).length(value.fields.length);
      for (const f of value.fields) w.length(f.expiresAt === null ? 0 : f.expiresAt - min + 1).string(f.field).string(f.value);
      return RDB_VERSION_MAX;
    }
    case "stream":
      writeStream(w, value);
      return RDB_VERSION_PLAIN;
  }
}

/** Reads a value of RDB type `type` (its type byte already read). @throws RdbError */
export function readValue(type: number, r: RdbReader): RdbValue {
  r.startValue();
  /** A count from the input, held to the value's element bound before anything is read. */
  const counted = (n: number) => {
    r.elements(n);
    return n;
  };
  /** A packed blob's elements, held to the bound while it is decoded. */
  const packed = (decode: (blob: Uint8Array, max: number) => Uint8Array[]) => {
    const items = decode(r.string(), r.elementsAllowed);
    r.elements(items.length);
    return items;
  };
  switch (type) {
    case RDB_TYPE.STRING:
      return { type: "string", value: r.string() };
    case RDB_TYPE.LIST:
      return list(repeat(counted(r.length()), () => r.string()));
    case RDB_TYPE.LIST_ZIPLIST:
      return list(packed(ziplistEntries));
    case RDB_TYPE.LIST_QUICKLIST:
      return list(repeat(r.length(), () => packed(ziplistEntries)).flat());
    case RDB_TYPE.LIST_QUICKLIST_2:
      return list(
        repeat(r.length(), () => {
          const container = r.length();
          if (container === 1) return [r.string(), counted(1)][0] as Uint8Array;
          if (container === 2) return packed(listpackEntries);
          throw new RdbError(`quicklist container ${container}`);
        }).flat(),
      );
    case RDB_TYPE.SET:
      return set(repeat(counted(r.length()), () => r.string()));
    case RDB_TYPE.SET_INTSET:
      return set(packed(intsetMembers));
    case RDB_TYPE.SET_LISTPACK:
      return set(packed(listpackEntries));
    case RDB_TYPE.ZSET:
    case RDB_TYPE.ZSET_2:
      return zset(repeat(counted(r.length()), () => ({ member: r.string(), score: type === RDB_TYPE.ZSET_2 ? r.binaryDouble() : r.textDouble() })));
    case RDB_TYPE.ZSET_ZIPLIST:
    case RDB_TYPE.ZSET_LISTPACK: {
      const flat = packed(type === RDB_TYPE.ZSET_ZIPLIST ? ziplistEntries : listpackEntries);
      if (flat.length % 2 !== 0) throw new RdbError("sorted set with an odd number of entries");
      return zset(repeat(flat.length / 2, (i) => ({ member: flat[2 * i]!, score: parseDouble(flat[2 * i + 1]!) })));
    }
    case RDB_TYPE.HASH:
      return hash(repeat(counted(r.length()), () => ({ field: r.string(), value: r.string(), expiresAt: null })));
    case RDB_TYPE.HASH_ZIPLIST:
    case RDB_TYPE.HASH_LISTPACK: {
      const flat = packed(type === RDB_TYPE.HASH_ZIPLIST ? ziplistEntries : listpackEntries);
      if (flat.length % 2 !== 0) throw new RdbError("hash with an odd number of entries");
      return hash(repeat(flat.length / 2, (i) => ({ field: flat[2 * i]!, value: flat[2 * i + 1]!, expiresAt: null })));
    }
    case RDB_TYPE.HASH_METADATA:
    case RDB_TYPE.HASH_METADATA_PRE_GA: {
      const min = type === RDB_TYPE.HASH_METADATA ? r.u64le() : 0;
      return hash(
        repeat(counted(r.length()), () => {
          const ttl = r.length();
          const expiresAt = ttl === 0 ? null : type === RDB_TYPE.HASH_METADATA ? ttl + min - 1 : ttl;
          return { expiresAt, field: r.string(), value: r.string() };
        }),
      );
    }
    case RDB_TYPE.HASH_LISTPACK_EX:
    case RDB_TYPE.HASH_LISTPACK_EX_PRE_GA: {
      if (type === RDB_TYPE.HASH_LISTPACK_EX) r.u64le();
      // Triples: field, value, deadline (absolute ms; 0 none).
      const flat = packed(listpackEntries);
      if (flat.length % 3 !== 0) throw new RdbError("hash listpack with deadlines not in triples");
      return hash(
        repeat(flat.length / 3, (i) => {
          const at = Number(new TextDecoder().decode(flat[3 * i + 2]!));
          if (!Number.isSafeInteger(at) || at < 0) throw new RdbError("malformed field deadline");
          return { field: flat[3 * i]!, value: flat[3 * i + 1]!, expiresAt: at === 0 ? null : at };
        }),
      );
    }
    case STREAM_TYPES.V1:
    case STREAM_TYPES.V2:
    case STREAM_TYPES.V3:
      return readStream(type, r);
    default:
      throw new UnsupportedRdbType(type);
  }
}

function repeat<T>(n: number, read: (i: number) => T): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(read(i));
  return out;
}

function distinct(items: readonly Uint8Array[], what: string): void {
  const seen = new Set<string>();
  for (const item of items) {
    const k = fromBytes(item);
    if (seen.has(k)) throw new RdbError(`duplicate ${what}`);
    seen.add(k);
  }
}

function nonEmpty(n: number): void {
  if (n === 0) throw new RdbError("empty collection");
}

function list(items: Uint8Array[]): RdbValue {
  nonEmpty(items.length);
  return { type: "list", items };
}

function set(members: Uint8Array[]): RdbValue {
  nonEmpty(members.length);
  distinct(members, "set member");
  return { type: "set", members };
}

function zset(entries: { member: Uint8Array; score: number }[]): RdbValue {
  nonEmpty(entries.length);
  distinct(
    entries.map((e) => e.member),
    "sorted set member",
  );
  if (entries.some((e) => Number.isNaN(e.score))) throw new RdbError("sorted set score is NaN");
  return { type: "zset", entries };
}

function hash(fields: HashField[]): RdbValue {
  nonEmpty(fields.length);
  distinct(
    fields.map((f) => f.field),
    "hash field",
  );
  return { type: "hash", fields };
}
