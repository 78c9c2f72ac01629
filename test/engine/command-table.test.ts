// Every top-level command of redis-server 7.0's and 7.4's COMMAND LIST (captured in
// test/data/redis-commands.json) is either served or refused with its reason, which the README's
// Limits list: none answers "unknown command".
import { describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import { REFUSED } from "../../durable-objects/engine/command-table";
import { Engine } from "../../durable-objects/engine/engine";
import commands from "../data/redis-commands.json";
import { newEngine, run } from "../support/fixtures";

const names = [...new Set([...commands["7.0.15"], ...commands["7.4.1"]])];
const limits = readme.slice(readme.indexOf("## Limits"));

describe("Redis's command table", () => {
  it("every command redis-server lists is served or refused with a reason, never unknown", () => {
    const neither = names.filter((n) => Engine.lookup(n) === undefined && !REFUSED.has(n));
    expect(neither).toEqual([]);
    expect([...REFUSED.keys()].filter((n) => Engine.lookup(n) !== undefined)).toEqual([]);
  });

  it("a refused command answers its reason; the README's Limits name it", () => {
    const engine = newEngine();
    expect(run(engine, "MONITOR")).toEqual({ error: "ERR MONITOR is not supported by Flaredis (not served)" });
    expect(run(engine, "subscribe", "ch")).toEqual({
      error:
        "ERR SUBSCRIBE is not supported by Flaredis (a subscription is a Server-Sent Events response: POST /subscribe/<channel> or /psubscribe/<pattern> with Accept: text/event-stream (the HTTP API keeps no connection))",
    });
    expect(run(engine, "NOPE")).toEqual({ error: "ERR unknown command 'NOPE', with args beginning with: " });
    const missing = [...REFUSED.keys()].filter((n) => !new RegExp(`[\`\\s]${n.toUpperCase().replace("-", "\\-")}[\`\\s]`).test(limits));
    expect(missing).toEqual([]);
  });
});
