// A list's pops on a real node (SQLite) read the rows they remove, not a page of the list, as the
// runtime counts them: the master finds them by position (its LDEL effect's own apply, in pages
// that grow from a few rows), and writes each element's deletion without reading it again.
import { beforeAll, describe, expect, it } from "vitest";
import { call, redis } from "../support/helpers";

const usage = async () => (await call(undefined, { method: "GET", path: "/admin/nodes/enam/storage" })).json as { rows_read: number };
const readBy = async (...argv: (string | number)[]) => {
  const before = (await usage()).rows_read;
  const reply = await redis(...argv);
  return { reply, read: (await usage()).rows_read - before };
};

beforeAll(async () => {
  await redis("FLUSHALL");
  for (let i = 0; i < 4; i++) await redis("RPUSH", "big", ...Array.from({ length: 500 }, (_, j) => `v${i * 500 + j}`));
  await redis("LLEN", "big"); // the header cached from here on
});

describe("pops on a 2,000-element list", () => {
  it("LPOP and RPOP of one read a few rows", async () => {
    const left = await readBy("LPOP", "big");
    expect(left.reply).toBe("v0");
    expect(left.read).toBeLessThan(16);
    const right = await readBy("RPOP", "big");
    expect(right.reply).toBe("v1999");
    expect(right.read).toBeLessThan(16);
  });
});
