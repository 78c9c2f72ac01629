/**
 * Geo positions as Redis keeps them (src/geohash.c, geohash_helper.c): a sorted-set score that
 * interleaves 26 bits of latitude (within the Web Mercator limits, ±85.05112878) and 26 bits of
 * longitude; decoded to the centre of its cell; distances by the haversine formula on Redis's
 * Earth radius. Every step is Redis's own arithmetic, in the same order, so that GEOPOS,
 * GEODIST and GEOHASH print what redis-server prints.
 */
import { formatLongDouble, longDoubleOf } from "../../long-double";

export const LONG_MIN = -180;
export const LONG_MAX = 180;
export const LAT_MIN = -85.05112878;
export const LAT_MAX = 85.05112878;
const STEP = 26;
const EARTH_RADIUS_IN_METERS = 6372797.560856;
const D_R = Math.PI / 180.0;

/** Spreads the low 32 bits of `v` over the even bits of a 64-bit integer. */
function spread(v: bigint): bigint {
  const B = [0x5555555555555555n, 0x3333333333333333n, 0x0f0f0f0f0f0f0f0fn, 0x00ff00ff00ff00ffn, 0x0000ffff0000ffffn];
  const S = [1n, 2n, 4n, 8n, 16n];
  for (let i = 4; i >= 0; i--) v = (v | (v << S[i]!)) & B[i]!;
  return v;
}

/** The even bits of `v`, packed (spread's inverse). */
function squash(v: bigint): bigint {
  const B = [0x5555555555555555n, 0x3333333333333333n, 0x0f0f0f0f0f0f0f0fn, 0x00ff00ff00ff00ffn, 0x0000ffff0000ffffn, 0x00000000ffffffffn];
  const S = [0n, 1n, 2n, 4n, 8n, 16n];
  v &= B[0]!;
  for (let i = 1; i <= 5; i++) v = (v | (v >> S[i]!)) & B[i]!;
  return v;
}

/** C's double-to-uint32 conversion of an offset already within [0, 2^32). */
const toUint32 = (x: number) => BigInt(Math.trunc(x) >>> 0);

/** geohashEncode: the interleaved cell of (longitude, latitude) within the given ranges, or null outside the Mercator limits. */
function encode(longitude: number, latitude: number, long: readonly [number, number], lat: readonly [number, number], step = STEP): bigint | null {
  if (longitude > LONG_MAX || longitude < LONG_MIN || latitude > LAT_MAX || latitude < LAT_MIN) return null;
  if (latitude < lat[0] || latitude > lat[1] || longitude < long[0] || longitude > long[1]) return null;
  let latOffset = (latitude - lat[0]) / (lat[1] - lat[0]);
  let longOffset = (longitude - long[0]) / (long[1] - long[0]);
  latOffset *= 2 ** step;
  longOffset *= 2 ** step;
  return spread(toUint32(latOffset)) | (spread(toUint32(longOffset)) << 1n);
}

/** The sorted-set score GEOADD stores for a position (Redis's geohashEncodeWGS84 at 26 steps). */
export function geoScore(longitude: number, latitude: number): number {
  return Number(encode(longitude, latitude, [LONG_MIN, LONG_MAX], [LAT_MIN, LAT_MAX]) ?? 0n);
}

const TWO63 = 2 ** 63;
const INDEFINITE = 1n << 63n;

/**
 * C's (uint64_t) of a double as x86-64 code does it (the score of a member GEOADD did not write
 * may be anything): signed conversion below 2^63 (the "indefinite" 2^63 past the 64-bit range),
 * else 2^63 subtracted, converted and its top bit flipped back.
 */
function toUint64(x: number): bigint {
  const signed = (v: number) => (Number.isNaN(v) || v >= TWO63 || v < -TWO63 ? INDEFINITE : BigInt.asUintN(64, BigInt(Math.trunc(v))));
  return x < TWO63 ? signed(x) : signed(x - TWO63) ^ INDEFINITE;
}

/** A geohash cell: its interleaved bits at `step` bits per coordinate (Redis's GeoHashBits). */
export interface Cell {
  readonly bits: bigint;
  readonly step: number;
}

/** The cell of (longitude, latitude) at `step`, within the Mercator limits (0 bits outside them, as Redis leaves it). */
export function cellOf(longitude: number, latitude: number, step: number): Cell {
  return { bits: encode(longitude, latitude, [LONG_MIN, LONG_MAX], [LAT_MIN, LAT_MAX], step) ?? 0n, step };
}

/** A cell's bounds: [longitude min, longitude max, latitude min, latitude max] (geohashDecode). */
export function cellArea(cell: Cell): [number, number, number, number] {
  const ilato = Number(squash(cell.bits));
  const ilono = Number(squash(cell.bits >> 1n));
  const div = 2 ** cell.step;
  const latScale = LAT_MAX - LAT_MIN;
  const longScale = LONG_MAX - LONG_MIN;
  return [
    LONG_MIN + ((ilono * 1.0) / div) * longScale,
    LONG_MIN + (((ilono + 1) * 1.0) / div) * longScale,
    LAT_MIN + ((ilato * 1.0) / div) * latScale,
    LAT_MIN + (((ilato + 1) * 1.0) / div) * latScale,
  ];
}

const M64 = (1n << 64n) - 1n;
const ODD = 0xaaaaaaaaaaaaaaaan;
const EVEN = 0x5555555555555555n;

/** geohash_move_x / _y: the cell `dx` east (or west) and `dy` north (or south), wrapping within the cell grid. */
export function moveCell(cell: Cell, dx: number, dy: number): Cell {
  let bits = cell.bits;
  const shift = BigInt(64 - cell.step * 2);
  const move = (mask: bigint, other: bigint, d: number) => {
    if (d === 0) return;
    let v = bits & mask;
    const keep = bits & other;
    const zz = other >> shift;
    if (d > 0) v = (v + (zz + 1n)) & M64;
    else v = ((v | zz) - (zz + 1n)) & M64;
    v &= mask >> shift;
    bits = v | keep;
  };
  move(ODD, EVEN, dx);
  move(EVEN, ODD, dy);
  return { bits, step: cell.step };
}

/** A cell's score range [min, max): its bits aligned to 52 (scoresOfGeoHashBox). */
export function cellScores(cell: Cell): [number, number] {
  const shift = BigInt(52 - cell.step * 2);
  return [Number(cell.bits << shift), Number((cell.bits + 1n) << shift)];
}

/** C's (long long) of a score as x86-64 converts it (truncated; "indefinite" -2^63 outside): WITHHASH's reply. */
export function longLong(x: number): number | bigint {
  if (Number.isNaN(x) || x >= TWO63 || x < -TWO63) return -(2n ** 63n);
  const n = Math.trunc(x) + 0;
  return Number.isSafeInteger(n) ? n : BigInt(n);
}

/** The position a score stands for: its cell's centre, clamped to the limits (Redis's decodeGeohash). */
export function decodeScore(score: number): [number, number] {
  const [longMin, longMax, latMin, latMax] = cellArea({ bits: toUint64(score), step: STEP });
  const x = Math.min(Math.max((longMin + longMax) / 2, LONG_MIN), LONG_MAX);
  const y = Math.min(Math.max((latMin + latMax) / 2, LAT_MIN), LAT_MAX);
  return [x, y];
}

const deg = (a: number) => a * D_R;
const radToDeg = (a: number) => a / D_R;

/** geohashGetLatDistance: meters along a meridian. */
export const latDistance = (lat1: number, lat2: number) => EARTH_RADIUS_IN_METERS * Math.abs(deg(lat2) - deg(lat1));

const MERCATOR_MAX = 20037726.37;

/** geohashEstimateStepsByRadius: the cell size (in steps) a search of `meters` around `lat` starts from. */
export function stepsForRadius(meters: number, lat: number): number {
  if (meters === 0) return 26;
  let step = 1;
  while (meters < MERCATOR_MAX) {
    meters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  return Math.min(Math.max(step, 1), 26);
}

/**
 * geohashBoundingBox: [min longitude, min latitude, max longitude, max latitude] around a centre,
 * `halfHeight` and `halfWidth` meters each way (a circle's radius, or a box's halves).
 */
export function boundingBox(longitude: number, latitude: number, halfWidth: number, halfHeight: number): [number, number, number, number] {
  const latDelta = radToDeg(halfHeight / EARTH_RADIUS_IN_METERS);
  const longDeltaTop = radToDeg(halfWidth / EARTH_RADIUS_IN_METERS / Math.cos(deg(latitude + latDelta)));
  const longDeltaBottom = radToDeg(halfWidth / EARTH_RADIUS_IN_METERS / Math.cos(deg(latitude - latDelta)));
  const south = latitude < 0;
  return [
    south ? longitude - longDeltaBottom : longitude - longDeltaTop,
    latitude - latDelta,
    south ? longitude + longDeltaBottom : longitude + longDeltaTop,
    latitude + latDelta,
  ];
}

/** geohashGetDistance: meters between two positions (the latitude difference alone when the longitudes' sine is 0). */
export function distance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = deg(lon1);
  const lon2r = deg(lon2);
  const v = Math.sin((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1, lat2);
  const lat1r = deg(lat1);
  const lat2r = deg(lat2);
  const u = Math.sin((lat2r - lat1r) / 2);
  const a = u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

const ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz";

/** GEOHASH's 11 characters: the position re-encoded over the standard latitude range (±90), the 11th always '0'. */
export function geohashString(score: number): string {
  const [x, y] = decodeScore(score);
  const bits = encode(x, y, [-180, 180], [-90, 90]) ?? 0n;
  let out = "";
  for (let i = 0; i < 11; i++) out += ALPHABET[i === 10 ? 0 : Number((bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn)];
  return out;
}

/** A coordinate as GEOPOS prints it (Redis's addReplyHumanLongDouble: %.17Lf, trailing zeros dropped). */
export const coordinate = (x: number) => formatLongDouble(longDoubleOf(x));

/** A distance as Redis prints one (fixedpoint_d2string, 4 decimals: llrint of d × 10^4, ties to even). */
export function distanceText(d: number): string {
  if (d === 0) return "0.0000";
  const scaled = d * 10000;
  let n = Math.round(scaled);
  if (Math.abs(scaled % 1) === 0.5 && n % 2 !== 0) n -= 1; // llrint: ties to even
  const negative = n < 0;
  const digits = String(Math.abs(n)).padStart(5, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -4)}.${digits.slice(-4)}`;
}

/** A unit's meters (m, km, ft, mi), or null for another. */
export function unitMeters(unit: string): number | null {
  const u = unit.toLowerCase();
  return u === "m" ? 1 : u === "km" ? 1000 : u === "ft" ? 0.3048 : u === "mi" ? 1609.34 : null;
}

/** %f as C prints it (6 decimals; inf, -inf). */
export function cFixed(x: number): string {
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  // toFixed turns to exponents from 1e21; such a double is an integer, printed whole as C does.
  if (Math.abs(x) >= 1e21) return `${BigInt(x)}.000000`;
  return x.toFixed(6);
}
