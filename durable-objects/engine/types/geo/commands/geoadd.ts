import { parseFloat64 } from "../../../args";
import { defineCommand, key } from "../../../command";
import { RedisError, errors } from "../../../errors";
import { type AddMode, Zset } from "../../zset/zset";
import { LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN, cFixed, geoScore } from "../geohash";

/**
 * GEOADD key [NX|XX] [CH] longitude latitude member [...]: members added (with CH, added or
 * moved), as ZADD of their geohash scores, which it is in Redis too (and is logged as).
 * @see https://redis.io/docs/latest/commands/geoadd/
 */
export default defineCommand({
  name: "geoadd",
  arity: -5,
  flags: ["write", "denyoom"],
  keys: key(1),
  parse: ([k, ...rest]) => {
    const seen = new Set<string>();
    let i = 0;
    for (; i < rest.length; i++) {
      const option = rest[i]!.toUpperCase();
      if (option !== "NX" && option !== "XX" && option !== "CH") break;
      seen.add(option);
    }
    const tail = rest.slice(i);
    if (tail.length % 3 !== 0 || (seen.has("NX") && seen.has("XX")) || tail.length === 0) throw errors.syntax();
    const pairs: [number, string][] = [];
    for (let j = 0; j < tail.length; j += 3) {
      const longitude = parseFloat64(tail[j]!);
      const latitude = parseFloat64(tail[j + 1]!);
      if (longitude < LONG_MIN || longitude > LONG_MAX || latitude < LAT_MIN || latitude > LAT_MAX)
        throw new RedisError(`ERR invalid longitude,latitude pair ${cFixed(longitude)},${cFixed(latitude)}`);
      pairs.push([geoScore(longitude, latitude), tail[j + 2]!]);
    }
    const mode: AddMode = seen.has("NX") ? { only: "new" } : { only: seen.has("XX") ? "existing" : "any", compare: null };
    return { key: k!, mode, ch: seen.has("CH"), pairs };
  },
  run: ({ db }, a) => {
    if (a.mode.only === "existing" && Zset.find(db, a.key) === null) return 0;
    const out = Zset.findOrCreate(db, a.key).add(a.pairs, a.mode, false);
    return a.ch ? out.added + out.updated : out.added;
  },
});
