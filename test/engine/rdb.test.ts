// RDB's value encoding and DUMP's payload (durable-objects/engine/rdb/): the payloads Debian's
// redis-server made for values in each of its encodings (test/fixtures/rdb/, made by the script
// there) read back as the values it held; what Flaredis writes reads back the same; CRC-64's check
// value; malformed, truncated and tampered payloads refused, never read past their end.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc64 } from "../../durable-objects/engine/rdb/crc64";
import { RdbError } from "../../durable-objects/engine/rdb/error";
import { ziplistEntries } from "../../durable-objects/engine/rdb/packed";
import { dumpPayload, payloadVerified, readPayload, withFooter } from "../../durable-objects/engine/rdb/payload";
import { RdbReader, RdbWriter } from "../../durable-objects/engine/rdb/reader";
import type { RdbValue } from "../../durable-objects/engine/rdb/value";
import dumps from "../fixtures/rdb/dump-payloads.json";
import { b64, fixtureForm } from "../support/rdb-values";

interface Fixture {
  key: string;
  note: string;
  type: string;
  payload: string;
  value: unknown;
}

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));
const text = (s: string) => new TextEncoder().encode(s);

const idText = (id: { ms: bigint; seq: bigint }) => `${id.ms}-${id.seq}`;

/** A stream's metadata, groups, PEL and consumers as XINFO STREAM … FULL shows them (the fixture's `full`). */
function streamInfo(v: Extract<RdbValue, { type: "stream" }>, full: unknown[]): void {
  const field = (list: unknown[], name: string) => list[list.indexOf(name) + 1];
  expect(v.entries.length).toBe(field(full, "length"));
  expect(idText(v.lastId)).toBe(field(full, "last-generated-id"));
  expect(idText(v.maxDeletedId)).toBe(field(full, "max-deleted-entry-id"));
  expect(Number(v.entriesAdded)).toBe(field(full, "entries-added"));
  expect(idText(v.firstId)).toBe(field(full, "recorded-first-entry-id"));
  const groups = field(full, "groups") as unknown[][];
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  expect(v.groups.map((g) => text(g.name)).sort()).toEqual(groups.map((g) => field(g, "name")).sort());
  for (const g of groups) {
    const mine = v.groups.find((x) => text(x.name) === field(g, "name"))!;
    expect(idText(mine.lastId)).toBe(field(g, "last-delivered-id"));
    expect(mine.entriesRead === null ? null : Number(mine.entriesRead)).toBe(field(g, "entries-read"));
    expect(mine.pending.map((p) => [idText(p.id), text(p.consumer), p.deliveryTime, Number(p.deliveryCount)])).toEqual(field(g, "pending"));
    const consumers = field(g, "consumers") as unknown[][];
    expect(mine.consumers.map((c) => [text(c.name), c.seenTime])).toEqual(consumers.map((c) => [field(c, "name"), field(c, "seen-time")]));
  }
}

describe("DUMP payloads written by redis-server", () => {
  const fixtures = (dumps as { redis_version: string; fixtures: Fixture[] }).fixtures;

  it.each(fixtures.map((f) => [f.key, f] as const))("%s reads back as the value redis-server held", (_key, f) => {
    const payload = hex(f.payload);
    expect(payloadVerified(payload)).toBe(true);
    const value = readPayload(payload);
    expect(value.type).toBe(f.type);
    // Sorted sets in score order, as ZRANGE WITHSCORES gave them.
    if (value.type === "zset") {
      const sorted = [...value.entries].sort((a, b) => a.score - b.score || (b64(a.member) < b64(b.member) ? -1 : 1));
      const expected = (f.value as [string, string][]).map(([m, s]) => [m, Number(s === "inf" ? Infinity : s === "-inf" ? -Infinity : s)]);
      expect(sorted.map((e) => [b64(e.member), e.score])).toEqual(expected);
    } else if (value.type === "stream") {
      const want = f.value as { entries: unknown; full: unknown[] };
      expect(fixtureForm(value)).toEqual(want.entries);
      streamInfo(value, want.full);
    } else expect(fixtureForm(value)).toEqual(f.value);
    // Written again by Flaredis, it reads back the same.
    expect(readPayload(dumpPayload(value))).toEqual(value);
  });

  it("covers each encoding redis-server 7.0 writes", () => {
    const types = new Set(fixtures.map((f) => f.payload.slice(0, 2)));
    // string, set, zset_2, hash, intset, hash listpack, zset listpack, quicklist 2, stream listpacks 2
    expect([...types].sort()).toEqual(["00", "02", "04", "05", "0b", "10", "11", "12", "13"]);
  });
});

describe("the payload's footer", () => {
  it("CRC-64 (Jones, reflected) has Redis's check value", () => {
    expect(crc64(text("123456789")).hex()).toBe("e9c6d914c4b8d9ca");
  });

  it("a flipped byte anywhere, a truncation or a newer version is refused before the value is read", () => {
    const payload = dumpPayload({ type: "list", items: [text("a"), text("b")] });
    for (let i = 0; i < payload.length; i++) {
      const bad = payload.slice();
      bad[i]! ^= 0x01;
      expect(payloadVerified(bad), `byte ${i}`).toBe(false);
    }
    for (let n = 0; n < payload.length; n++) expect(payloadVerified(payload.subarray(0, n))).toBe(false);
    const newer = payload.slice();
    newer[newer.length - 10] = 13;
    expect(payloadVerified(newer)).toBe(false);
  });

  it("a value that does not hold together is an RdbError even with a right checksum", () => {
    const withFooter = (body: Uint8Array) => {
      const w = new RdbWriter().raw(body).u16le(10);
      const b = w.finish();
      const out = new Uint8Array(b.length + 8);
      out.set(b);
      out.set(crc64(b).bytes(), b.length);
      return out;
    };
    const cases: [string, number[]][] = [
      ["a list claiming 3 items holding 1", [1, 3, 1, 0x61]],
      ["an empty set", [2, 0]],
      ["a duplicate set member", [2, 2, 1, 0x61, 1, 0x61]],
      ["a NaN score", [5, 1, 1, 0x61, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f]],
      ["a string longer than the payload", [0, 0x7f]],
      ["an LZF string that expands past its length", [0, 0xc3, 3, 1, 0x01, 0x61, 0x62]],
      ["an unknown type", [99]],
      ["a stream whose length is not its entries'", [19, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]],
      ["trailing bytes", [0, 1, 0x61, 0x62]],
      // Claims a value would expand to: refused before anything of that size is made.
      ["an LZF string claiming 500 MB", [0, 0xc3, 1, 0x80, 0x1d, 0xcd, 0x65, 0x00, 0x00]],
      ["a set claiming a billion members", [2, 0x80, 0x3b, 0x9a, 0xca, 0x00, 1, 0x61]],
    ];
    for (const [what, body] of cases) {
      const payload = withFooter(Uint8Array.from(body));
      expect(payloadVerified(payload), what).toBe(true);
      expect(() => readPayload(payload), what).toThrow(RdbError);
    }
  });
});

describe("streams", () => {
  const t = (x: string) => new TextEncoder().encode(x);
  it("a stream of Redis 7.2 (type 21) whose consumer never read anything (active time -1) reads", () => {
    const w = new RdbWriter().u8(21).length(0);
    for (let i = 0; i < 7; i++) w.length(0); // length, last ID, first ID, largest deleted ID
    w.length(0).length(1).string(t("g")).length(0).length(0).length(0).length(0); // entries added; one group
    w.length(1).string(t("c")).u64le(1000).raw(new Uint8Array(8).fill(0xff)).length(0); // one consumer
    const value = readPayload(withFooter(w, 11));
    expect(value).toMatchObject({ type: "stream", groups: [{ consumers: [{ seenTime: 1000, activeTime: -1 }] }] });
  });

  it("two consumer groups of one name are refused", () => {
    const group = { name: t("g"), lastId: { ms: 0n, seq: 0n }, entriesRead: 0n, pending: [], consumers: [] };
    const payload = dumpPayload({ type: "stream", entries: [], lastId: { ms: 0n, seq: 0n }, firstId: { ms: 0n, seq: 0n }, maxDeletedId: { ms: 0n, seq: 0n }, entriesAdded: 0n, groups: [group, group] });
    expect(() => readPayload(payload)).toThrow(/duplicate consumer group/);
  });
});

describe("the encodings written and read", () => {
  const bytes = fc.uint8Array({ maxLength: 40 });
  const id = fc.record({ ms: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), seq: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) });
  const idOrder = (a: { ms: bigint; seq: bigint }, b: { ms: bigint; seq: bigint }) => (a.ms < b.ms ? -1 : a.ms > b.ms ? 1 : a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0);
  const stream: fc.Arbitrary<RdbValue> = fc
    .record({
      ids: fc.uniqueArray(id, { maxLength: 250, selector: (x) => `${x.ms}-${x.seq}` }),
      pairs: fc.array(fc.array(bytes, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
      groups: fc.uniqueArray(fc.record({ name: bytes, consumers: fc.uniqueArray(bytes, { minLength: 1, maxLength: 3, selector: b64 }), pel: fc.uniqueArray(id, { maxLength: 5, selector: (x) => `${x.ms}-${x.seq}` }) }), { maxLength: 3, selector: (g) => b64(g.name) }),
    })
    .map(({ ids, pairs, groups }) => {
      const sorted = [...ids].sort(idOrder);
      const entries = sorted.map((id, i) => ({ id, pairs: pairs[i % pairs.length]!.flatMap((f) => [f, f]) }));
      const last = sorted[sorted.length - 1] ?? { ms: 0n, seq: 0n };
      return {
        type: "stream" as const,
        entries,
        lastId: last,
        firstId: sorted[0] ?? { ms: 0n, seq: 0n },
        maxDeletedId: { ms: 0n, seq: 0n },
        entriesAdded: BigInt(entries.length),
        groups: groups.map((g, gi) => ({
          name: g.name,
          lastId: last,
          entriesRead: gi % 2 === 0 ? BigInt(entries.length) : null,
          pending: g.pel.map((pid, i) => ({ id: pid, consumer: g.consumers[i % g.consumers.length]!, deliveryTime: 1_700_000_000_000 + i, deliveryCount: BigInt(i + 1) })),
          consumers: g.consumers.map((name) => ({ name, seenTime: 1_700_000_000_000, activeTime: 1_700_000_000_000 })),
        })),
      };
    });
  const value: fc.Arbitrary<RdbValue> = fc.oneof(
    stream,
    bytes.map((value) => ({ type: "string" as const, value })),
    fc.array(bytes, { minLength: 1, maxLength: 20 }).map((items) => ({ type: "list" as const, items })),
    fc.uniqueArray(bytes, { minLength: 1, maxLength: 20, selector: b64 }).map((members) => ({ type: "set" as const, members })),
    fc
      .uniqueArray(fc.record({ member: bytes, score: fc.double({ noNaN: true }) }), { minLength: 1, maxLength: 20, selector: (e) => b64(e.member) })
      .map((entries) => ({ type: "zset" as const, entries })),
    fc
      .uniqueArray(fc.record({ field: bytes, value: bytes, expiresAt: fc.option(fc.integer({ min: 1, max: 2 ** 45 })) }), {
        minLength: 1,
        maxLength: 20,
        selector: (f) => b64(f.field),
      })
      .map((fields) => ({ type: "hash" as const, fields })),
  );

  it("any value written reads back as itself (a stream's pending entries grouped by consumer); its payload is version 10 but for field deadlines (12)", () => {
    fc.assert(
      fc.property(value, (v) => {
        const payload = dumpPayload(v);
        expect(payloadVerified(payload)).toBe(true);
        const back = readPayload(payload);
        // A stream's PEL comes back in consumer order.
        if (v.type === "stream" && back.type === "stream")
          expect({ ...back, groups: back.groups.map((g) => ({ ...g, pending: [...g.pending].sort((a, b) => idOrder(a.id, b.id)) })) }).toEqual({
            ...v,
            groups: v.groups.map((g) => ({ ...g, pending: [...g.pending].sort((a, b) => idOrder(a.id, b.id)) })),
          });
        else expect(back).toEqual(v);
        const deadlines = v.type === "hash" && v.fields.some((f) => f.expiresAt !== null);
        expect(payload[payload.length - 10]).toBe(deadlines ? 12 : 10);
      }),
    );
  });

  it("lengths of every width and strings of every size", () => {
    for (const n of [0, 63, 64, 16383, 16384, 2 ** 32 - 1, 2 ** 32, 2 ** 40]) {
      const r = new RdbReader(new RdbWriter().length(n).finish());
      expect(r.length()).toBe(n);
      expect(r.done).toBe(true);
    }
    const long = new Uint8Array(70_000).fill(7);
    expect(new RdbReader(new RdbWriter().string(long).finish()).string()).toEqual(long);
  });

  it("strings as Redis writes them: canonical 32-bit integers as integers, long ones LZF-compressed when that saves, any bytes back as they were", () => {
    const written = (s: string | Uint8Array) => new RdbWriter().string(typeof s === "string" ? text(s) : s).finish();
    // Redis 7.0's own bytes for these (rdbSaveRawString): INT8, INT16, INT32, and raw ones.
    expect(written("-1")).toEqual(hex("c0ff"));
    expect(written("300")).toEqual(hex("c12c01"));
    expect(written("-2147483648")).toEqual(hex("c200000080"));
    for (const raw of ["2147483648", "-0", "01", "1.0", "+1", " 1", ""]) expect(written(raw)[0], raw).toBe(raw.length);
    const repetitive = written("ab".repeat(50));
    expect(repetitive[0]).toBe(0xc3);
    expect(repetitive.length).toBeLessThan(20);
    // Incompressible: raw.
    const random = Uint8Array.from({ length: 64 }, (_, i) => (i * 151 + 17) % 251);
    expect(written(random)[0]).toBe(64);
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.constantFrom(...["x", "yz", "0", "abc", "\u00ff"]), { maxLength: 2000 }).map((a) => text(a.join(""))), fc.integer().map((n) => text(String(n)))), (bytes) => {
        const r = new RdbReader(new RdbWriter().string(bytes).finish());
        expect(r.string()).toEqual(bytes);
        expect(r.done).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it("a ziplist (Redis before 7) of strings and every integer width", () => {
    // zlbytes, zltail, zllen, then entries [prevlen][encoding][data], then 0xFF.
    const entries = [
      [0x00, 0x03, 0x61, 0x62, 0x63], // "abc"
      [0x05, 0xf3], // inline 2
      [0x02, 0xfe, 0xf9], // int8 -7
      [0x03, 0xc0, 0x30, 0x75], // int16 30000
      [0x04, 0xf0, 0x00, 0x00, 0x80], // int24 -8388608
      [0x05, 0xd0, 0x00, 0x94, 0x35, 0x77], // int32 2000000000
      [0x06, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], // int64 max
      [0x0a, 0x40, 0x01, ...new Array(0x01).fill(0x78)], // 14-bit length 1: "x"
    ].flat();
    const total = 10 + entries.length + 1;
    const blob = Uint8Array.from([total, 0, 0, 0, 0, 0, 0, 0, 8, 0, ...entries, 0xff]);
    expect(ziplistEntries(blob).map((b) => new TextDecoder().decode(b))).toEqual(["abc", "2", "-7", "30000", "-8388608", "2000000000", "9223372036854775807", "x"]);
    expect(() => ziplistEntries(blob.subarray(0, blob.length - 2))).toThrow(RdbError);
  });
});
