// Geo search on a real node (SQLite) reads the geohash ranges it needs, not the set (issue 27):
// on 20,000 points, a 30 km GEOSEARCH reads rows in proportion to its answer, as the runtime counts
// them. Replies themselves are pinned against redis-server by the differential fuzzer
// (test/interop/fuzz/catalog-geo.ts) and test/conformance/geo.ts.
import { beforeAll, describe, expect, it } from "vitest";
import { call, redis } from "../support/helpers";

const usage = async () => (await call(undefined, { method: "GET", path: "/admin/nodes/enam/storage" })).json as { rows_read: number };

beforeAll(async () => {
  await redis("FLUSHALL");
  // A grid of 200 x 100 points, 0.1 degree apart (about 8 by 11 km), around (0, 45).
  for (let row = 0; row < 100; row += 5) {
    const args: (string | number)[] = [];
    for (let r = row; r < row + 5; r++) for (let c = 0; c < 200; c++) args.push((-10 + c * 0.1).toFixed(1), (40 + r * 0.1).toFixed(1), `p${r}:${c}`);
    expect(await redis("GEOADD", "grid", ...args)).toBe(1000);
  }
});

describe("GEOSEARCH on 20,000 points", () => {
  it("reads rows in proportion to its answer, not to the set", async () => {
    const before = await usage();
    const found = (await redis("GEOSEARCH", "grid", "FROMLONLAT", 0, 45, "BYRADIUS", 30, "km", "ASC")) as string[];
    const read = (await usage()).rows_read - before.rows_read;
    expect(found[0]).toBe("p50:100");
    expect(found.length).toBeGreaterThan(20);
    expect(found.length).toBeLessThan(60);
    // The nine geohash cells around the centre hold a few times the answer; never the 20,000.
    expect(read).toBeLessThanOrEqual(20 * found.length);
    expect(read).toBeLessThan(2_000);
  });
});
