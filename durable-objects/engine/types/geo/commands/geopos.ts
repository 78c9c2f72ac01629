import { type Reply, defineCommand, key } from "../../../command";
import { toBytes } from "../../../bytes";
import { Zset } from "../../zset/zset";
import { coordinate, decodeScore, distance, distanceText, geohashString, unitMeters } from "../geohash";
import { RedisError, errors } from "../../../errors";

/** A read-only command answering, for each member of a geo key, `reply(score)`, or nil when the member (or key) is missing. */
function perMember(name: string, reply: (score: number) => Reply) {
  return defineCommand({
    name,
    arity: -2,
    flags: ["readonly"],
    keys: key(1),
    parse: ([k, ...members]) => ({ key: k!, members }),
    run: ({ db }, a): Reply => {
      const zset = Zset.find(db, a.key);
      return a.members.map((m) => {
        const score = zset?.score(m) ?? null;
        return score === null ? null : reply(score);
      });
    },
  });
}

/** GEOPOS key [member ...]: each member's [longitude, latitude], or nil. @see https://redis.io/docs/latest/commands/geopos/ */
export default perMember("geopos", (score) => decodeScore(score).map((c) => toBytes(coordinate(c))));

/** GEOHASH key [member ...]: each member's 11-character geohash, or nil. @see https://redis.io/docs/latest/commands/geohash/ */
export const geohash = perMember("geohash", (score) => toBytes(geohashString(score)));

/**
 * GEODIST key member1 member2 [M|KM|FT|MI]: the distance with 4 decimals, or nil when either is
 * missing. @see https://redis.io/docs/latest/commands/geodist/
 */
export const geodist = defineCommand({
  name: "geodist",
  arity: -4,
  flags: ["readonly"],
  keys: key(1),
  parse: ([k, m1, m2, ...rest]) => {
    if (rest.length > 1) throw errors.syntax();
    const meters = rest.length === 1 ? unitMeters(rest[0]!) : 1;
    if (meters === null) throw new RedisError("ERR unsupported unit provided. please use M, KM, FT, MI");
    return { key: k!, m1: m1!, m2: m2!, meters };
  },
  run: ({ db }, a): Reply => {
    const zset = Zset.find(db, a.key);
    if (zset === null) return null;
    const s1 = zset.score(a.m1);
    const s2 = zset.score(a.m2);
    if (s1 === null || s2 === null) return null;
    const [x1, y1] = decodeScore(s1);
    const [x2, y2] = decodeScore(s2);
    return toBytes(distanceText(distance(x1, y1, x2, y2) / a.meters));
  },
});
