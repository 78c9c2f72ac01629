/**
 * The table of replicated effects: each effect's example encodes and decodes to itself, and a
 * replica applies it as a frame of the stream; WATCH's view of the keys each one writes.
 */
import { describe, expect, it } from "vitest";
import { toBytes } from "../../durable-objects/engine/bytes";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import { EFFECTS, decodeEffect, keysWrittenBy } from "../../durable-objects/engine/replication/effects";
import { encodeCommand } from "../../durable-objects/engine/replication/resp";
import { applyEntries } from "../../durable-objects/engine/replication/sync";
import { MULTI_FRAME, EXEC_FRAME } from "../../durable-objects/engine/replication/framing";

const replica = () => new Engine(new MemoryStorage(), { clock: new ManualClock(1_000_000), random: { next: () => 0.5, hex: (n) => "cd".repeat(n) }, role: "slave" });
const frameOf = (effect: (typeof EFFECTS)[number]) => encodeCommand(effect.kind === "key" ? effect.of("k", effect.example) : effect.of(effect.example));

describe("replicated effects", () => {
  it("are named once each, in upper case", () => {
    const names = EFFECTS.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toBe(name.toUpperCase());
    for (const expected of ["SET", "DEL", "FLUSHALL", "FUNCTION", "HSET", "ZADD", "LPUT", "XPUT", "STORE"]) expect(names).toContain(expected);
  });

  it.each(EFFECTS.map((e) => [e.name, e] as const))("%s decodes what it encodes", (_name, effect) => {
    expect(effect.decode(encodedArgs(effect))).toEqual(effect.example);
    const decoded = decodeEffect(frameOf(effect));
    expect(decoded.kind).toBe(effect.kind);
    if (decoded.kind === "key") expect(decoded.key).toBe("k");
    if (decoded.kind === "key" || decoded.kind === "global") expect(decoded.args).toEqual(effect.example);
  });

  it.each(EFFECTS.map((e) => [e.name, e] as const))("%s is applied by a replica as a frame of the stream, alone and in a MULTI group", (_name, effect) => {
    const node = replica();
    const frame = frameOf(effect);
    expect(applyEntries(node, [{ offset: 0, frame }])).toBe(true);
    const at = node.log.offset;
    expect(at).toBe(frame.length);
    const group = [MULTI_FRAME, frame, EXEC_FRAME];
    let offset = at;
    const entries = group.map((f) => ({ offset: (offset += f.length) - f.length, frame: f }));
    expect(applyEntries(node, entries)).toBe(true);
    expect(node.log.offset).toBe(offset);
  });

  it("a frame this code does not know is refused (the replica resyncs)", () => {
    expect(() => decodeEffect(encodeCommand(["NOSUCH", "k"]))).toThrow(/unknown effect NOSUCH/);
    expect(() => applyEntries(replica(), [{ offset: 0, frame: encodeCommand(["NOSUCH", "k"]) }])).toThrow(/unknown effect NOSUCH/);
    expect(() => decodeEffect(encodeCommand(["FUNCTION", "RENAME", "x"]))).toThrow(/unknown effect FUNCTION RENAME/);
  });

  it("name the keys they write for WATCH: their own, a RENAME's or COPY's destination, every key for FLUSHALL, none for FUNCTION, its key for one unknown", () => {
    const keys = (...argv: string[]) => keysWrittenBy(encodeCommand(argv));
    expect(keys("SET", "a", "1")).toEqual(["a"]);
    expect(keys("RENAME", "a", "b")).toEqual(["a", "b"]);
    expect(keys("COPY", "a", "b")).toEqual(["a", "b"]);
    expect(keys("HSET", "h", "f", "v")).toEqual(["h"]);
    expect(keys("FLUSHALL")).toBeNull();
    expect(keys("FUNCTION", "FLUSH")).toEqual([]);
    expect(keysWrittenBy(MULTI_FRAME)).toEqual([]);
    expect(keys("NOSUCH", "a", "x")).toEqual(["a"]);
  });
});

/** The effect's example encoded: the arguments a replica's frame carries after the name (and key), as bytes. */
function encodedArgs(effect: (typeof EFFECTS)[number]) {
  return effect.encode(effect.example).map((a) => (typeof a === "string" ? toBytes(a) : a));
}
