// The nearest-region choice for real places (issue 4's table), with the local topology's
// replicas (wnam weur apac) and with every region, and the continent fallback.
import { describe, expect, it } from "vitest";
import { REGIONS, type Region } from "../../durable-objects/protocol/topology";
import { byDistance, distanceKm, locate } from "../../worker/regions";

const PLACES: [place: string, lat: number, lon: number, localReplica: Region, anyRegion: Region][] = [
  ["Paris", 48.86, 2.35, "weur", "weur"],
  ["Frankfurt", 50.11, 8.68, "weur", "weur"],
  ["Tokyo", 35.68, 139.69, "apac", "apac"],
  ["Sydney", -33.87, 151.21, "apac", "oc"],
  ["Sao Paulo", -23.55, -46.63, "weur", "sam"],
  ["San Francisco", 37.77, -122.42, "wnam", "wnam"],
  ["New York", 40.71, -74.01, "wnam", "enam"],
  ["Johannesburg", -26.2, 28.05, "apac", "afr"], // Singapore (8,660 km) is nearer than Paris (8,720 km)
];

describe("nearest region", () => {
  for (const [place, lat, lon, localReplica, anyRegion] of PLACES)
    it(`${place}: ${localReplica} among the local replicas, ${anyRegion} among all regions`, () => {
      expect(byDistance({ lat, lon }, ["wnam", "weur", "apac"])[0]).toBe(localReplica);
      expect(byDistance({ lat, lon }, REGIONS)[0]).toBe(anyRegion);
    });

  it("measures great-circle distances (Paris-New York about 5,840 km)", () => {
    expect(distanceKm({ lat: 48.86, lon: 2.35 }, { lat: 40.71, lon: -74.01 })).toBeCloseTo(5837, -1);
    expect(distanceKm({ lat: 10, lon: 20 }, { lat: 10, lon: 20 })).toBe(0);
  });

  it("locates a client by its country's continent when that is all it has", () => {
    const local = ["wnam", "weur", "apac"] as Region[];
    expect(byDistance(locate({ country: "DE" })!, local)[0]).toBe("weur");
    expect(byDistance(locate({ country: "jp" })!, local)[0]).toBe("apac");
    expect(byDistance(locate({ country: "US" })!, REGIONS)[0]).toBe("enam");
    expect(byDistance(locate({ country: "BR" })!, REGIONS)[0]).toBe("sam");
    expect(locate({ country: "XX" })).toBeNull();
    expect(locate({ country: "DE", continent: "AS" })).toEqual(locate({ continent: "AS" }));
  });

  it("locates a client by coordinates (strings too, as request.cf has them), else by continent", () => {
    expect(locate({ latitude: "48.86", longitude: "2.35", continent: "AS" })).toEqual({ lat: 48.86, lon: 2.35 });
    expect(byDistance(locate({ continent: "EU" })!, ["wnam", "weur", "apac"])[0]).toBe("weur");
    expect(byDistance(locate({ continent: "OC" })!, ["wnam", "weur", "apac"])[0]).toBe("apac");
    expect(locate({ latitude: "x", longitude: "2" })).toBeNull();
    expect(locate({})).toBeNull();
    expect(locate(undefined)).toBeNull();
  });
});
