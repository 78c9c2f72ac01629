// The sync token's key-aware read-your-writes (worker/sync-token.ts, protocol/read-your-writes.ts):
// what a token carries of the client's writes, how it grows and stays bounded, and when a replica
// behind the token's position may serve a read.
import { describe, expect, it } from "vitest";
import { TOKEN_KEYS, addWrites, holdsOwnWrites, keyDigest } from "../../durable-objects/protocol/read-your-writes";
import { formatSyncToken, nextSyncToken, parseSyncToken, readKeys, writtenKeys } from "../../worker/sync-token";

const R = "a".repeat(40);
const R2 = "b".repeat(40);

describe("the sync token", () => {
  it("reads an old token as the whole position (floor = offset), and a foreign one as no history", () => {
    expect(parseSyncToken(`${R}:100`)).toEqual({ position: { replid: R, offset: 100 }, written: { floor: 100, keys: {} } });
    expect(parseSyncToken("12345")).toEqual({ position: { replid: "", offset: 0 }, written: { floor: 0, keys: {} } });
    expect(parseSyncToken("")).toBeNull();
  });

  it("carries the client's writes: each key's digest and offset, above a floor; round-trips", () => {
    const token = nextSyncToken(null, R, 120, { keys: ["a", "b"] });
    expect(token).toBe(`${R}:120:0:${keyDigest("a")}.120,${keyDigest("b")}.120`);
    const parsed = parseSyncToken(token)!;
    expect(parsed.written).toEqual({ floor: 0, keys: { [keyDigest("a")]: 120, [keyDigest("b")]: 120 } });
    expect(formatSyncToken(R, 120, parsed.written)).toBe(token);
  });

  it("never goes back on one history; a read adds nothing; another history starts over from its position", () => {
    const sent = parseSyncToken(nextSyncToken(null, R, 120, { keys: ["a"] }))!;
    const read = nextSyncToken(sent, R, 90, null); // a replica behind answered
    expect(read).toBe(`${R}:120:0:${keyDigest("a")}.120`);
    expect(nextSyncToken(sent, R2, 5, null)).toBe(`${R2}:5`);
    expect(nextSyncToken(sent, R, 150, { keys: null })).toBe(`${R}:150`); // FLUSHALL: any key
  });

  it("keeps the 32 most recent keys; older writes raise the floor", () => {
    let w = { floor: 0, keys: {} as Record<string, number> };
    for (let i = 1; i <= TOKEN_KEYS + 3; i++) w = addWrites(w, [`k${i}`], i * 10);
    expect(Object.keys(w.keys)).toHaveLength(TOKEN_KEYS);
    expect(w.floor).toBe(30);
    expect(w.keys[keyDigest("k4")]).toBe(40);
    expect(w.keys[keyDigest("k3")]).toBeUndefined();
  });

  it("refuses key lists it could not have written: a write past the position, or at or below the floor", () => {
    const whole = { floor: 100, keys: {} };
    expect(parseSyncToken(`${R}:100:50:${keyDigest("a")}.101`)!.written).toEqual(whole);
    expect(parseSyncToken(`${R}:100:50:${keyDigest("a")}.50`)!.written).toEqual(whole);
    expect(parseSyncToken(`${R}:100:150:${keyDigest("a")}.100`)!.written).toEqual(whole);
  });

  it("names the keys of a batch's writes (null for a write of any key), nothing for reads", () => {
    expect(writtenKeys([["GET", "a"], ["SET", "b", "1"], ["MSET", "c", "1", "d", "2"], ["ZUNIONSTORE", "e", "2", "f", "g"]])).toEqual({
      keys: ["b", "c", "d", "e", "f", "g"],
    });
    expect(writtenKeys([["GET", "a"]])).toBeNull();
    expect(writtenKeys([["SET", "a", "1"], ["FLUSHALL"]])).toEqual({ keys: null });
    // A script may write keys it does not declare: any key (it named only its KEYS before the fix).
    expect(writtenKeys([["EVAL", "redis.call('set', 'k', 'v')", "0"]])).toEqual({ keys: null });
    expect(writtenKeys([["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "1", "a"]])).toEqual({ keys: null });
    expect(writtenKeys([["EVAL", "#!lua flags=no-writes\nreturn 1", "0"]])).toBeNull();
    // Destinations among the options: GEORADIUS's STORE and STOREDIST; SORT's are any key.
    expect(writtenKeys([["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d1", "storedist", "d2"]])).toEqual({ keys: ["g", "d1", "d2"] });
    expect(writtenKeys([["SORT", "l", "STORE", "d"]])).toEqual({ keys: null });
  });
});

describe("a replica behind the client's position", () => {
  const holdsUpTo = (offset: number) => (p: { replid: string; offset: number }) => p.replid === R && p.offset <= offset;
  const position = { replid: R, offset: 200 };
  const written = { floor: 100, keys: { [keyDigest("mine")]: 200, [keyDigest("old")]: 150 } };

  it("never serves a read of a written key older than the client's last read of it (another client's FLUSHALL seen once stays seen)", () => {
    // The client wrote "old" at 150; another client's FLUSHALL at 180; a replica at 190 answered
    // the client's read of "old" (null). A replica at 160 holds the client's write, not the flush.
    const afterRead = parseSyncToken(nextSyncToken({ position, written }, R, 190, null, readKeys([["GET", "old"], ["GET", "other"]])))!;
    expect(afterRead.written.keys[keyDigest("old")]).toBe(190);
    expect(afterRead.written.keys[keyDigest("other")]).toBeUndefined(); // not written: the token stays small
    expect(holdsOwnWrites(holdsUpTo(160), R, position, afterRead.written, ["old"])).toBe(false);
    expect(holdsOwnWrites(holdsUpTo(160), R, position, afterRead.written, ["other"])).toBe(true);
    // A read answered early by a replica behind the key's write changes nothing; reads of no named key neither.
    expect(parseSyncToken(nextSyncToken({ position, written }, R, 140, null, readKeys([["GET", "old"]])))!.written).toEqual(written);
    expect(readKeys([["KEYS", "*"]])).toBeNull();
    expect(readKeys([["SET", "a", "1"]])).toBeNull();
  });

  it("serves a read of keys whose own writes it holds, on the token's history only, never one of no named key nor one past the floor", () => {
    expect(holdsOwnWrites(holdsUpTo(160), R, position, written, ["other", "old"])).toBe(true);
    expect(holdsOwnWrites(holdsUpTo(160), R, position, written, ["mine"])).toBe(false);
    expect(holdsOwnWrites(holdsUpTo(140), R, position, written, ["old"])).toBe(false);
    expect(holdsOwnWrites(holdsUpTo(90), R, position, written, ["other"])).toBe(false); // below the floor
    expect(holdsOwnWrites(holdsUpTo(160), R, position, written, null)).toBe(false);
    expect(holdsOwnWrites(() => false, R, position, written, ["other"])).toBe(false); // a history without the floor
    // A replica now on another history (after a failover) that still holds the token's floor as its
    // previous one: its answer would carry its own, lower position, and the client would forget
    // its write. Only the token's own history answers early.
    expect(holdsOwnWrites(() => true, R2, position, written, ["other"])).toBe(false);
  });
});
