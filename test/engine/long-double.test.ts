// Redis's long double (INCRBYFLOAT, HINCRBYFLOAT) against glibc on x86-64: the cases in
// data/long-double-cases.json were made by data/long-double-cases.c with Redis's own
// string2ld and ld2string(LD_STR_HUMAN) — strtold and printf("%.17Lf") on an 80-bit long double.
import { describe, expect, it } from "vitest";
import { addLongDouble, formatLongDouble, parseLongDouble } from "../../durable-objects/engine/long-double";
import cases from "../data/long-double-cases.json";
import { newEngine, run } from "../support/fixtures";

const text = (s: string) => {
  const v = parseLongDouble(s);
  return v === null ? null : formatLongDouble(v);
};

describe("Redis's long double", () => {
  it("reads what strtold reads and prints what %.17Lf prints", () => {
    for (const [input, printed] of cases.parse as [string, string | null][]) expect(text(input), JSON.stringify(input)).toBe(printed);
  });

  it("adds with 64 bits of precision, rounding as the hardware does", () => {
    for (const [a, b, sum, again] of cases.add as [string, string, string, string?][]) {
      const x = parseLongDouble(a)!;
      const y = parseLongDouble(b)!;
      const r = addLongDouble(x, y);
      const printed = r === null || r.kind === "inf" ? "overflow" : formatLongDouble(r);
      expect(printed, `${a} + ${b}`).toBe(sum);
      if (again !== undefined) expect(formatLongDouble(addLongDouble(parseLongDouble(printed)!, y)!), `${printed} + ${b}`).toBe(again);
    }
  });

  it("is INCRBYFLOAT's and HINCRBYFLOAT's arithmetic, in Redis's order of checks", () => {
    const e = newEngine();
    const bytes = (o: unknown) => new TextDecoder().decode((o as { result: Uint8Array }).result);
    run(e, "SET", "y", "9223372036854775806");
    expect(bytes(run(e, "INCRBYFLOAT", "y", "1e3"))).toBe("9223372036854776806");
    run(e, "SET", "s", "9223372036854775807");
    expect(bytes(run(e, "INCRBYFLOAT", "s", "-2.5"))).toBe("9223372036854775804.5");
    expect(bytes(run(e, "INCRBYFLOAT", "s", "0x10"))).toBe("9223372036854775820");
    expect(run(e, "INCRBYFLOAT", "s", "inf")).toEqual({ error: "ERR increment would produce NaN or Infinity" });
    // The key's type before the increment: WRONGTYPE, not a float error.
    run(e, "HSET", "h", "f", "1.5");
    expect(run(e, "INCRBYFLOAT", "h", "x")).toEqual({ error: "WRONGTYPE Operation against a key holding the wrong kind of value" });
    // HINCRBYFLOAT reads its increment first: its errors before WRONGTYPE.
    expect(run(e, "HINCRBYFLOAT", "y", "", "inf")).toEqual({ error: "ERR value is NaN or Infinity" });
    expect(run(e, "HINCRBYFLOAT", "y", "f", "x")).toEqual({ error: "ERR value is not a valid float" });
    expect(run(e, "HINCRBYFLOAT", "y", "f", "1")).toEqual({ error: "WRONGTYPE Operation against a key holding the wrong kind of value" });
    expect(bytes(run(e, "HINCRBYFLOAT", "h", "f", "0.1"))).toBe("1.6");
    expect(bytes(run(e, "HINCRBYFLOAT", "h", "g", "0x1p-3"))).toBe("0.125");
  });
});
