/**
 * Where each region is, for sending a read to the nearest replica: one reference point per
 * Cloudflare Durable Objects location hint.
 *
 * Source of the hints and the area each covers: Cloudflare's Durable Objects documentation,
 * "Data location" > "Supported locations" (wnam Western North America, enam Eastern North
 * America, sam South America, weur Western Europe, eeur Eastern Europe, apac Asia-Pacific,
 * oc Oceania, afr Africa, me Middle East). Each point is a major Cloudflare metro of that area,
 * at its city centre's coordinates; the continent points are rough population centres, used only
 * when a request's latitude and longitude are unknown. A country's continent comes from the
 * `countries-list` package (ISO 3166-1 codes, as `request.cf.country` has them).
 */
import { countries } from "countries-list";
import type { Region } from "../durable-objects/protocol/topology";

export interface Point {
  readonly lat: number;
  readonly lon: number;
}

export const REGION_POINTS: Readonly<Record<Region, Point & { readonly city: string }>> = {
  wnam: { city: "San Jose", lat: 37.34, lon: -121.89 },
  enam: { city: "Ashburn", lat: 39.04, lon: -77.49 },
  sam: { city: "São Paulo", lat: -23.55, lon: -46.63 },
  weur: { city: "Paris", lat: 48.86, lon: 2.35 },
  eeur: { city: "Warsaw", lat: 52.23, lon: 21.01 },
  apac: { city: "Singapore", lat: 1.35, lon: 103.82 },
  oc: { city: "Sydney", lat: -33.87, lon: 151.21 },
  afr: { city: "Johannesburg", lat: -26.2, lon: 28.05 },
  me: { city: "Dubai", lat: 25.2, lon: 55.27 },
};

/** `request.cf.continent` codes. */
export const CONTINENT_POINTS: Readonly<Record<string, Point>> = {
  NA: { lat: 39.8, lon: -98.6 },
  SA: { lat: -15.8, lon: -55.0 },
  EU: { lat: 50.1, lon: 9.7 },
  AS: { lat: 30.0, lon: 105.0 },
  OC: { lat: -27.0, lon: 140.0 },
  AF: { lat: 2.0, lon: 20.0 },
  AN: { lat: -75.0, lon: 0.0 },
};

const EARTH_RADIUS_KM = 6371;
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance in km (haversine). */
export function distanceKm(a: Point, b: Point): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The fields of `request.cf` that locate a client. */
export interface ClientLocation {
  readonly latitude?: string | number;
  readonly longitude?: string | number;
  readonly continent?: string;
  readonly country?: string;
}

/**
 * Where a client is: its coordinates, else its continent's point, else its country's continent's
 * point, else null (unknown).
 */
export function locate(cf: ClientLocation | undefined): Point | null {
  const lat = Number(cf?.latitude);
  const lon = Number(cf?.longitude);
  if (cf?.latitude !== undefined && cf?.longitude !== undefined && Number.isFinite(lat) && Number.isFinite(lon))
    return { lat, lon };
  const country = cf?.country ? countries[cf.country.toUpperCase() as keyof typeof countries] : undefined;
  const continent = cf?.continent ?? country?.continent;
  return (continent && CONTINENT_POINTS[continent]) || null;
}

/** `nodes` ordered nearest first to `from` (ties by name, so the order is stable). */
export function byDistance(from: Point, nodes: readonly Region[]): Region[] {
  return [...nodes]
    .map((node) => ({ node, km: distanceKm(from, REGION_POINTS[node]) }))
    .sort((a, b) => a.km - b.km || a.node.localeCompare(b.node))
    .map((x) => x.node);
}
