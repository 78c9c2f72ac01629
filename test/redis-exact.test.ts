// Replies that must be redis-server's exactly (issue 31's cases, each found by a differential run
// against Redis 7.0.15): every expected reply below is what redis-server answered.
import { describe, expect, it } from "vitest";
import type { Engine } from "../durable-objects/engine/engine";
import { newEngine } from "./fixtures";

/** Runs commands one by one (a pipeline), each reply as text, arrays as arrays, errors as { error }. */
function replies(e: Engine, ...commands: string[][]): unknown[] {
  const r = e.run({ mode: "pipeline", commands, permission: "admin" });
  if (!("outcomes" in r)) throw new Error(r.error);
  const plain = (x: unknown): unknown => (x instanceof Uint8Array ? new TextDecoder().decode(x) : Array.isArray(x) ? x.map(plain) : x);
  return r.outcomes.map((o) => ("error" in o ? { error: o.error } : plain(o.result)));
}

describe("64-bit arguments take the whole long long range", () => {
  it("GETRANGE, ZRANGE (ranks and LIMIT), LRANGE, LINDEX, ZREMRANGEBYRANK, SRANDMEMBER", () => {
    const e = newEngine();
    expect(
      replies(
        e,
        ["SET", "k", "hello"],
        ["GETRANGE", "k", "-10", "9223372036854775807"],
        ["GETRANGE", "k", "9223372036854775807", "-9223372036854775808"],
        ["ZADD", "z", "1", "a", "1", "b", "1", "c", "1", "d", "1", "e"],
        ["ZRANGE", "z", "(b", "[e", "BYLEX", "REV", "LIMIT", "-9223372036854775808", "1"],
        ["ZRANGE", "z", "(b", "[e", "BYLEX", "LIMIT", "1", "-9223372036854775808"],
        ["ZRANGE", "z", "0", "9223372036854775807"],
        ["ZRANGE", "z", "-9223372036854775808", "9223372036854775807"],
        ["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "9223372036854775807", "1"],
        ["LPUSH", "l", "a", "b", "c"],
        ["LRANGE", "l", "-9223372036854775808", "9223372036854775807"],
        ["LINDEX", "l", "9223372036854775807"],
        ["SRANDMEMBER", "nope", "9223372036854775807"],
        ["ZREMRANGEBYRANK", "nope", "-9223372036854775808", "9223372036854775807"],
      ),
    ).toEqual([
      "OK",
      "hello",
      "",
      5,
      [],
      ["d", "e"],
      ["a", "b", "c", "d", "e"],
      ["a", "b", "c", "d", "e"],
      [],
      3,
      ["c", "b", "a"],
      null,
      [],
      0,
    ]);
  });
});

describe("a key is looked up (and its type checked) before most range checks, as Redis does", () => {
  it("the RANDMEMBER family: WRONGTYPE, or [] for a missing key, before the bound on picks", () => {
    const e = newEngine();
    const wrongType = { error: "WRONGTYPE Operation against a key holding the wrong kind of value" };
    expect(
      replies(
        e,
        ["SET", "x", "1"],
        ["HRANDFIELD", "x", "1000000"],
        ["HRANDFIELD", "h", "1000000"],
        ["HRANDFIELD", "h", "-1000000"],
        ["ZRANDMEMBER", "x", "1000000", "WITHSCORES"],
        ["SRANDMEMBER", "x", "-1000000"],
        ["SADD", "s", "a"],
        ["SRANDMEMBER", "s", "1000000"],
        ["SRANDMEMBER", "s", "-1000000"],
      ),
    ).toEqual(["OK", wrongType, [], [], wrongType, wrongType, 1, ["a"], { error: "ERR value is out of range" }]);
  });
});

describe("OBJECT ENCODING of strings", () => {
  it("is raw once a string is changed in place (APPEND to one, SETRANGE), until it is written whole again", () => {
    const e = newEngine();
    const enc = (k: string) => ["OBJECT", "ENCODING", k];
    expect(
      replies(
        e,
        ["SET", "a", "abc"], enc("a"), ["SETRANGE", "a", "1", "x"], enc("a"),
        ["APPEND", "b", "12"], enc("b"), ["APPEND", "b", "3"], enc("b"), ["SET", "b", "5"], enc("b"),
        ["SETRANGE", "c", "0", "7"], enc("c"), ["INCR", "c"], enc("c"),
        ["COPY", "a", "d"], enc("d"), ["EXPIRE", "a", "100"], enc("a"), ["INCRBYFLOAT", "e", "1.5"], enc("e"),
        ["GETEX", "a", "PERSIST"], enc("a"), ["RENAME", "a", "f"], enc("f"),
      ),
    ).toEqual([
      "OK", "embstr", 3, "raw",
      2, "int", 3, "raw", "OK", "int",
      1, "raw", 8, "int",
      1, "raw", 1, "raw", "1.5", "embstr",
      "axc", "raw", "OK", "raw",
    ]);
  });
});

describe("lex ranges over members of different scores", () => {
  it("are walked as Redis walks them, in (score, member) order", () => {
    const e = newEngine();
    replies(e, ["ZADD", "l", "3", "a", "1", "b", "2", "c", "1", "d", "5", "e", "0", "f", "2", "g"]);
    const all = ["f", "b", "d", "c", "g", "a", "e"];
    expect(
      replies(
        e,
        ["ZRANGEBYLEX", "l", "[b", "[e"],
        ["ZRANGEBYLEX", "l", "-", "+"],
        ["ZRANGEBYLEX", "l", "(b", "["],
        ["ZREVRANGEBYLEX", "l", "(b", "["],
        ["ZREVRANGEBYLEX", "l", "[e", "[b"],
        ["ZREVRANGEBYLEX", "l", "+", "-"],
        ["ZRANGEBYLEX", "l", "[c", "+"],
        ["ZRANGEBYLEX", "l", "-", "[c"],
        ["ZLEXCOUNT", "l", "[b", "[e"],
        ["ZLEXCOUNT", "l", "-", "+"],
        ["ZLEXCOUNT", "l", "[c", "[c"],
        ["ZRANGEBYLEX", "l", "[a", "[z", "LIMIT", "1", "2"],
        ["ZRANGE", "l", "[e", "[b", "BYLEX", "REV", "LIMIT", "1", "1"],
        ["ZRANGEBYLEX", "l", "[d", "[f"],
        ["ZREMRANGEBYLEX", "l", "[b", "[e"],
        ["ZREMRANGEBYLEX", "l", "[d", "[f"],
        ["ZRANGE", "l", "0", "-1"],
      ),
    ).toEqual([[], all, [], [], [], [...all].reverse(), all, [], 0, 7, 0, ["b", "d"], [], ["f", "b", "d", "c"], 0, 4, ["g", "a", "e"]]);
  });
});
