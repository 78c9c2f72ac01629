// COMMAND on the engine: its answers made from Flaredis's command table with what redis-server 7.0
// says of each command it serves (server/redis-commands.json): COUNT, LIST (FILTERBY), INFO of
// commands and subcommands, DOCS, GETKEYS, GETKEYSANDFLAGS and their errors. The same answers are
// compared with redis-server's through the proxy in test/interop/command.test.ts.
import { describe, expect, it } from "vitest";
import { commandTable } from "../../durable-objects/engine/command-table";
import { newEngine, run } from "../support/fixtures";

const text = (r: unknown): unknown => (r instanceof Uint8Array ? new TextDecoder().decode(r) : Array.isArray(r) ? r.map(text) : r);
const engine = newEngine();
const command = (...argv: string[]) => {
  const o = run(engine, "COMMAND", ...argv);
  return "error" in o ? { error: o.error } : text(o.result);
};

describe("COMMAND", () => {
  it("counts and lists the commands served, and filters them", () => {
    expect(command("COUNT")).toBe(commandTable.size);
    const names = command("LIST") as string[];
    expect(names).toContain("get");
    expect(names).toContain("hexpire");
    expect(names).not.toContain("monitor");
    expect(command("LIST", "FILTERBY", "ACLCAT", "hyperloglog")).toEqual(expect.arrayContaining(["pfadd", "pfcount", "pfmerge"]));
    expect(command("LIST", "FILTERBY", "PATTERN", "xa*")).toEqual(expect.arrayContaining(["xadd", "xack", "xautoclaim"]));
    expect(command("LIST", "FILTERBY", "MODULE", "x")).toEqual([]);
  });

  it("INFO is Redis's for a command Redis 7.0 has, only the subcommands served, and made from the table for a newer one", () => {
    expect(command("INFO", "get", "nope")).toEqual([
      ["get", 2, ["readonly", "fast"], 1, 1, 1, ["@read", "@string", "@fast"], [], [["flags", ["RO", "access"], "begin_search", ["type", "index", "spec", ["index", 1]], "find_keys", ["type", "range", "spec", ["lastkey", 0, "keystep", 1, "limit", 0]]]], []],
      null,
    ]);
    const config = (command("INFO", "config") as unknown[][])[0]!;
    expect((config[9] as string[][]).map((s) => s[0]).sort()).toEqual(["config|get", "config|help", "config|resetstat", "config|rewrite", "config|set"]);
    expect((command("INFO", "config|get") as unknown[][])[0]!.slice(0, 3)).toEqual(["config|get", -3, ["admin", "noscript", "loading", "stale"]]);
    const hexpire = (command("INFO", "hexpire") as unknown[][])[0]!;
    expect(hexpire.slice(0, 7)).toEqual(["hexpire", -6, ["write", "denyoom"], 1, 1, 1, ["@write", "@hash", "@fast"]]);
    expect((command() as unknown[]).length).toBe(commandTable.size);
  });

  it("DOCS, GETKEYS and GETKEYSANDFLAGS", () => {
    expect(command("DOCS", "get", "nope")).toEqual(["get", ["summary", "Get the value of a key", "since", "1.0.0", "group", "string", "complexity", "O(1)", "arguments", [["name", "key", "type", "key", "key_spec_index", 0]]]]);
    expect(command("GETKEYS", "MSET", "a", "1", "b", "2")).toEqual(["a", "b"]);
    expect(command("GETKEYS", "SORT", "l", "STORE", "d")).toEqual(["l", "d"]);
    expect(command("GETKEYSANDFLAGS", "COPY", "a", "b")).toEqual([["a", ["RO", "access"]], ["b", ["OW", "update"]]]);
    expect(command("GETKEYSANDFLAGS", "SET", "a", "b")).toEqual([["a", ["OW", "update"]]]);
    expect(command("GETKEYSANDFLAGS", "SET", "a", "b", "GET")).toEqual([["a", ["RW", "access", "update"]]]);
    expect(command("GETKEYS", "nope", "x")).toEqual({ error: "ERR Invalid command specified" });
    expect(command("GETKEYS", "get")).toEqual({ error: "ERR wrong number of arguments for 'command|getkeys' command" });
    expect(command("GETKEYS", "get", "a", "b")).toEqual({ error: "ERR Invalid number of arguments specified for command" });
    expect(command("GETKEYS", "ping", "x")).toEqual({ error: "ERR The command has no key arguments" });
    expect(command("GETKEYS", "ping")).toEqual({ error: "ERR wrong number of arguments for 'command|getkeys' command" });
  });
});
