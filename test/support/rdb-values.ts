/** RDB values in the form the fixtures of test/fixtures/rdb/ hold them, for the tests that compare with redis-server's. */
import type { RdbValue } from "../../durable-objects/engine/rdb/value";

export const b64 = (b: Uint8Array): string => btoa(String.fromCharCode(...b));

/**
 * A value as the fixture scripts write what redis-server answered: bytes as base64; sets and
 * hashes sorted; a sorted set in score order with numeric scores; a stream's entries as [id, pairs].
 */
export function fixtureForm(v: RdbValue): unknown {
  switch (v.type) {
    case "string":
      return b64(v.value);
    case "list":
      return v.items.map(b64);
    case "set":
      return v.members.map(b64).sort();
    case "zset":
      return [...v.entries].sort((a, b) => a.score - b.score || (b64(a.member) < b64(b.member) ? -1 : 1)).map((e) => [b64(e.member), e.score]);
    case "hash":
      return v.fields.map((f) => [b64(f.field), b64(f.value)]).sort();
    case "stream":
      return v.entries.map((e) => [`${e.id.ms}-${e.id.seq}`, e.pairs.map(b64)]);
  }
}
