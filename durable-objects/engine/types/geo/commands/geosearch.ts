import { parseFloat64, parseInteger } from "../../../args";
import { toBytes } from "../../../bytes";
import { type Reply, defineCommand, key, keysAfter } from "../../../command";
import { RedisError, errors } from "../../../errors";
import type { Change } from "../../../keyspace";
import { Zset } from "../../zset/zset";
import {
  type Cell, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN, boundingBox, cFixed, cellArea, cellOf, cellScores, coordinate, decodeScore,
  distance, distanceText, latDistance, longLong, moveCell, stepsForRadius, unitMeters,
} from "../geohash";

type Kind = "georadius" | "georadius_ro" | "georadiusbymember" | "georadiusbymember_ro" | "geosearch" | "geosearchstore";

interface Shape {
  /** The centre, once known (FROMMEMBER of a missing key leaves it unknown: the reply is empty). */
  xy: [number, number] | null;
  /** Meters per unit. */
  conversion: number;
  radius?: number;
  box?: { width: number; height: number };
}

interface Search {
  readonly kind: Kind;
  readonly source: string;
  readonly store: string | null;
  readonly storeDist: boolean;
  readonly withDist: boolean;
  readonly withHash: boolean;
  readonly withCoord: boolean;
  readonly sort: "none" | "asc" | "desc";
  readonly count: number;
  readonly any: boolean;
  readonly shape: Shape;
}

const float = (s: string, message?: string) => {
  try {
    return parseFloat64(s);
  } catch (e) {
    throw message === undefined ? e : new RedisError(`ERR ${message}`);
  }
};

function lonLat(lon: string, lat: string): [number, number] {
  const x = float(lon);
  const y = float(lat);
  if (x < LONG_MIN || x > LONG_MAX || y < LAT_MIN || y > LAT_MAX) throw new RedisError(`ERR invalid longitude,latitude pair ${cFixed(x)},${cFixed(y)}`);
  return [x, y];
}

function unit(s: string): number {
  const m = unitMeters(s);
  if (m === null) throw new RedisError("ERR unsupported unit provided. please use M, KM, FT, MI");
  return m;
}

function radius(value: string, u: string, shape: Shape): void {
  const r = float(value, "need numeric radius");
  if (r < 0) throw new RedisError("ERR radius cannot be negative");
  shape.radius = r;
  shape.conversion = unit(u);
}

/** A member's position. @throws ERR could not decode requested zset member */
function memberPosition(zset: Zset, member: string): [number, number] {
  const score = zset.score(member);
  if (score === null) throw new RedisError("ERR could not decode requested zset member");
  return decodeScore(score);
}

/**
 * georadiusGeneric's parsing, in its order: the source key is looked up first (WRONGTYPE before
 * anything), then the command's fixed arguments, then the options left to right (a bad value
 * answers at once), then the checks between options.
 */
function parse(db: Change, kind: Kind, argv: readonly string[], name: string): { search: Search; zset: Zset | null } {
  const sourceAt = kind === "geosearchstore" ? 1 : 0;
  const zset = Zset.find(db, argv[sourceAt]!);
  const shape: Shape = { xy: null, conversion: 1 };
  let base: number;
  let store: string | null = kind === "geosearchstore" ? argv[0]! : null;
  if (kind === "georadius" || kind === "georadius_ro") {
    base = 5;
    shape.xy = lonLat(argv[1]!, argv[2]!);
    radius(argv[3]!, argv[4]!, shape);
  } else if (kind === "georadiusbymember" || kind === "georadiusbymember_ro") {
    base = 4;
    if (zset !== null) {
      shape.xy = memberPosition(zset, argv[1]!);
      radius(argv[2]!, argv[3]!, shape);
    }
  } else base = kind === "geosearchstore" ? 2 : 1;
  const search = kind === "geosearch" || kind === "geosearchstore";
  const noStore = kind === "georadius_ro" || kind === "georadiusbymember_ro";
  let withDist = false, withHash = false, withCoord = false, any = false, storeDist = false;
  let fromMember = false, fromLonLat = false, byRadius = false, byBox = false;
  let sort: Search["sort"] = "none";
  let count = 0;
  const rest = argv.slice(base);
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!.toLowerCase();
    const left = rest.length - i - 1;
    if (arg === "withdist") withDist = true;
    else if (arg === "withhash") withHash = true;
    else if (arg === "withcoord") withCoord = true;
    else if (arg === "any") any = true;
    else if (arg === "asc") sort = "asc";
    else if (arg === "desc") sort = "desc";
    else if (arg === "count" && left >= 1) {
      count = parseInteger(rest[++i]!);
      if (count <= 0) throw new RedisError("ERR COUNT must be > 0");
    } else if ((arg === "store" || arg === "storedist") && left >= 1 && !noStore && !search) {
      store = rest[++i]!;
      storeDist = arg === "storedist";
    } else if (arg === "storedist" && kind === "geosearchstore") storeDist = true;
    else if (arg === "frommember" && left >= 1 && search && !fromLonLat) {
      const member = rest[++i]!;
      if (zset !== null) shape.xy = memberPosition(zset, member);
      fromMember = true;
    } else if (arg === "fromlonlat" && left >= 2 && search && !fromMember) {
      shape.xy = lonLat(rest[i + 1]!, rest[i + 2]!);
      i += 2;
      fromLonLat = true;
    } else if (arg === "byradius" && left >= 2 && search && !byBox) {
      radius(rest[i + 1]!, rest[i + 2]!, shape);
      delete shape.box;
      i += 2;
      byRadius = true;
    } else if (arg === "bybox" && left >= 3 && search && !byRadius) {
      const width = float(rest[i + 1]!, "need numeric width");
      const height = float(rest[i + 2]!, "need numeric height");
      if (height < 0 || width < 0) throw new RedisError("ERR height or width cannot be negative");
      shape.conversion = unit(rest[i + 3]!);
      shape.box = { width, height };
      delete shape.radius;
      i += 3;
      byBox = true;
    } else throw errors.syntax();
  }
  if (store !== null && (withDist || withHash || withCoord))
    throw new RedisError(`ERR ${kind === "geosearchstore" ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS"} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
  if (search && !(fromMember || fromLonLat)) throw new RedisError(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${name}`);
  if (search && !(byRadius || byBox)) throw new RedisError(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${name}`);
  if (any && !count) throw new RedisError("ERR the ANY argument requires COUNT argument");
  return { search: { kind, source: argv[sourceAt]!, store, storeDist, withDist, withHash, withCoord, sort, count, any, shape }, zset };
}

interface Point {
  readonly member: string;
  readonly score: number;
  readonly xy: [number, number];
  readonly dist: number;
}

/** geohashCalculateAreasByShapeWGS84: the centre cell and its (useful) neighbours, in Redis's order. */
function cellsFor(shape: Shape): (Cell | null)[] {
  const [longitude, latitude] = shape.xy!;
  const halfWidth = shape.conversion * (shape.box ? shape.box.width / 2 : shape.radius!);
  const halfHeight = shape.conversion * (shape.box ? shape.box.height / 2 : shape.radius!);
  const [minLon, minLat, maxLon, maxLat] = boundingBox(longitude, latitude, halfWidth, halfHeight);
  let meters = shape.box ? Math.sqrt((shape.box.width / 2) * (shape.box.width / 2) + (shape.box.height / 2) * (shape.box.height / 2)) : shape.radius!;
  meters *= shape.conversion;
  let steps = stepsForRadius(meters, latitude);
  const around = (step: number) => {
    const centre = cellOf(longitude, latitude, step);
    return {
      centre,
      n: moveCell(centre, 0, 1), s: moveCell(centre, 0, -1), e: moveCell(centre, 1, 0), w: moveCell(centre, -1, 0),
      ne: moveCell(centre, 1, 1), nw: moveCell(centre, -1, 1), se: moveCell(centre, 1, -1), sw: moveCell(centre, -1, -1),
    };
  };
  let c = around(steps);
  const decrease = cellArea(c.n)[3] < maxLat || cellArea(c.s)[2] > minLat || cellArea(c.e)[1] < maxLon || cellArea(c.w)[0] > minLon;
  if (steps > 1 && decrease) c = around(--steps);
  const area = cellArea(c.centre);
  const out: Record<"n" | "s" | "e" | "w" | "ne" | "nw" | "se" | "sw", Cell | null> = { n: c.n, s: c.s, e: c.e, w: c.w, ne: c.ne, nw: c.nw, se: c.se, sw: c.sw };
  if (steps >= 2) {
    if (area[2] < minLat) out.s = out.sw = out.se = null;
    if (area[3] > maxLat) out.n = out.ne = out.nw = null;
    if (area[0] < minLon) out.w = out.sw = out.nw = null;
    if (area[1] > maxLon) out.e = out.se = out.ne = null;
  }
  return [c.centre, out.n, out.s, out.e, out.w, out.ne, out.nw, out.se, out.sw];
}

/** geoWithinShape: the point's position and distance when it lies in the shape. */
function within(shape: Shape, score: number): { xy: [number, number]; dist: number } | null {
  const xy = decodeScore(score);
  const [cx, cy] = shape.xy!;
  if (shape.radius !== undefined) {
    const dist = distance(cx, cy, xy[0], xy[1]);
    return dist > shape.radius * shape.conversion ? null : { xy, dist };
  }
  const width = shape.box!.width * shape.conversion;
  const height = shape.box!.height * shape.conversion;
  if (latDistance(xy[1], cy) > height / 2) return null;
  if (distance(xy[0], xy[1], cx, xy[1]) > width / 2) return null;
  return { xy, dist: distance(cx, cy, xy[0], xy[1]) };
}

/** membersOfAllNeighbors: the points in each cell's score range, cell by cell (a cell equal to the last one read is skipped), up to `limit` with ANY. */
function pointsIn(zset: Zset, shape: Shape, limit: number): Point[] {
  const found: Point[] = [];
  let last: Cell | null = null;
  for (const cell of cellsFor(shape)) {
    if (cell === null) continue;
    if (last !== null && cell.bits === last.bits && cell.step === last.step) continue;
    if (found.length > 0 && limit > 0 && found.length >= limit) break;
    const [min, max] = cellScores(cell);
    for (const row of zset.range({ by: "score", min: { value: min, ex: false }, max: { value: max, ex: true } }, false, 0, -1)) {
      const hit = within(shape, row.score ?? 0);
      if (hit !== null) found.push({ member: row.field, score: row.score ?? 0, ...hit });
      if (found.length > 0 && limit > 0 && found.length >= limit) break;
    }
    last = cell;
  }
  return found;
}

function run(db: Change, s: Search, zset: Zset | null): Reply {
  if (zset === null || s.shape.xy === null) {
    if (s.store === null) return [];
    db.delete(s.store);
    return 0;
  }
  const sort = s.count !== 0 && s.sort === "none" && !s.any ? "asc" : s.sort;
  const points = pointsIn(zset, s.shape, s.any ? s.count : 0);
  if (sort !== "none") points.sort((a, b) => (sort === "asc" ? a.dist - b.dist : b.dist - a.dist));
  const taken = s.count === 0 ? points : points.slice(0, s.count);
  if (s.store !== null) {
    return Zset.store(db, s.store, taken.map((p) => ({ field: p.member, score: s.storeDist ? p.dist / s.shape.conversion : p.score })));
  }
  const options = (s.withDist ? 1 : 0) + (s.withHash ? 1 : 0) + (s.withCoord ? 1 : 0);
  return taken.map((p): Reply => {
    if (options === 0) return toBytes(p.member);
    const item: Reply[] = [toBytes(p.member)];
    if (s.withDist) item.push(toBytes(distanceText(p.dist / s.shape.conversion)));
    if (s.withHash) item.push(longLong(p.score));
    if (s.withCoord) item.push([toBytes(coordinate(p.xy[0])), toBytes(coordinate(p.xy[1]))]);
    return item;
  });
}

/** The keys after STORE or STOREDIST in `argv` (the destinations GEORADIUS's key spec cannot declare). */
const storeKeys = (argv: readonly string[]): string[] => keysAfter(argv, ["store", "storedist"]);

/** A command of the GEORADIUS/GEOSEARCH family, which Redis's georadiusGeneric serves. */
function family(kind: Kind, arity: number, write: boolean) {
  return defineCommand({
    name: kind,
    arity,
    flags: write ? ["write", "denyoom"] : ["readonly"],
    keys: kind === "geosearchstore" ? key(1, 2) : key(1),
    // GEORADIUS's STORE and STOREDIST destinations, among its options.
    ...(write && kind !== "geosearchstore" ? { otherKeys: storeKeys } : {}),
    parse: (argv, name) => ({ argv, name }),
    run: ({ db }, a): Reply => {
      // Parsed when run: Redis looks the source key up before it reads the options.
      const { search, zset } = parse(db, kind, a.argv, a.name);
      return run(db, search, zset);
    },
  });
}

/** GEOSEARCH key FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h unit [ASC|DESC] [COUNT n [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH] @see https://redis.io/docs/latest/commands/geosearch/ */
export const geosearch = family("geosearch", -7, false);
/** GEOSEARCHSTORE dest src ... [STOREDIST] @see https://redis.io/docs/latest/commands/geosearchstore/ */
export const geosearchstore = family("geosearchstore", -8, true);
/** GEORADIUS key lon lat radius unit [...] [STORE key|STOREDIST key] @see https://redis.io/docs/latest/commands/georadius/ */
export const georadius = family("georadius", -6, true);
export const georadiusRo = family("georadius_ro", -6, false);
/** GEORADIUSBYMEMBER key member radius unit [...] @see https://redis.io/docs/latest/commands/georadiusbymember/ */
export const georadiusbymember = family("georadiusbymember", -5, true);
export const georadiusbymemberRo = family("georadiusbymember_ro", -5, false);
