import { toBytes } from "../bytes";
import { type Command, type Reply, allKeysOf, defineCommand } from "../command";
import { commandTable } from "../command-table";
import { RedisError, errors } from "../errors";
import { compileGlob } from "../glob";
import { categoriesOf } from "../acl/categories";
import { arityOf, fitsArity } from "../dispatch";
import { TYPES } from "../types";
import redis from "./redis-commands.json";

/**
 * What redis-server 7.0 says of its commands (COMMAND INFO and COMMAND DOCS, captured by
 * test/data/capture-redis-commands.mjs), by name; `info[name]` is its RESP2 reply as JSON.
 */
type Json = string | number | Json[];
const INFO = redis.info as unknown as Record<string, Json[]>;
const DOCS = redis.docs as unknown as Record<string, Json[]>;

/** COMMAND HELP's lines, as redis-server 7.0 prints them. */
const HELP = [
  "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "(no subcommand)",
  "    Return details about all Redis commands.",
  "COUNT",
  "    Return the total number of commands in this Redis server.",
  "LIST",
  "    Return a list of all commands in this Redis server.",
  "INFO [<command-name> ...]",
  "    Return details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "DOCS [<command-name> ...]",
  "    Return documentation details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "GETKEYS <full-command>",
  "    Return the keys from a full Redis command.",
  "GETKEYSANDFLAGS <full-command>",
  "    Return the keys and the access flags from a full Redis command.",
  "HELP",
  "    Prints this help.",
];

/** JSON as a reply: strings as bulk strings. */
const reply = (j: Json): Reply => (typeof j === "string" ? toBytes(j) : typeof j === "number" ? j : j.map(reply));

/** Flaredis's flags in Redis's words, for a command Redis 7.0 does not have. */
const FLAG_WORDS: Record<string, string> = { write: "write", readonly: "readonly", denyoom: "denyoom", admin: "admin", noscript: "noscript", blocking: "blocking" };

/** A key spec from Flaredis's own (first, last, step; numkeys), for a command Redis 7.0 does not have. */
function keySpecOf(command: Command): Json[] {
  const k = command.keys;
  if (k === null) return [];
  const flags = command.flags.includes("write") ? ["RW", "update"] : ["RO", "access"];
  const find =
    k.numkeys !== undefined
      ? ["type", "keynum", "spec", ["keynumidx", k.numkeys - k.first, "firstkey", 1, "keystep", 1]]
      : ["type", "range", "spec", ["lastkey", k.last < 0 ? k.last : k.last - k.first, "keystep", k.step, "limit", 0]];
  return [["flags", flags, "begin_search", ["type", "index", "spec", ["index", k.first]], "find_keys", find]];
}

/** COMMAND INFO's entry for `command` (with only the subcommands Flaredis serves): Redis's where it has one, else made from the table. */
function infoOf(command: Command): Json[] {
  const own = INFO[command.name];
  const served = (sub: Json) => command.subcommands !== undefined && Object.hasOwn(command.subcommands, String((sub as Json[])[0]).split("|")[1]!);
  if (own) return [...own.slice(0, 9), (own[9] as Json[]).filter(served)];
  const k = command.keys;
  return [
    command.name,
    command.arity,
    command.flags.flatMap((f) => (FLAG_WORDS[f] ? [FLAG_WORDS[f]] : [])),
    k?.first ?? 0,
    k ? (k.numkeys !== undefined ? -1 : k.last) : 0,
    k?.step ?? 0,
    [...categoriesOf(command, undefined)].map((c) => `@${c}`),
    [],
    keySpecOf(command),
    [],
  ];
}

/** COMMAND DOCS's entry: Redis's (its subcommands those served), else what the table knows. */
function docsOf(command: Command): Json[] {
  const own = DOCS[command.name];
  if (own) {
    const out = [...own];
    const at = out.indexOf("subcommands");
    if (at >= 0 && command.subcommands) {
      const subs = out[at + 1] as Json[];
      const kept: Json[] = [];
      for (let i = 0; i < subs.length; i += 2) if (Object.hasOwn(command.subcommands, String(subs[i]).split("|")[1]!)) kept.push(subs[i]!, subs[i + 1]!);
      out[at + 1] = kept;
    }
    return out;
  }
  const type = TYPES.find((t) => t.commands.includes(command));
  return ["summary", `${command.name.toUpperCase()}, served by Flaredis (not in redis-server 7.0's table)`, "since", "", "group", type ? (type.name === "zset" ? "sorted-set" : type.name) : "server"];
}

/** The command `name` (`cmd` or `cmd|sub`) names, or undefined. */
function lookup(name: string): { command: Command; sub?: string } | undefined {
  const [base, sub] = name.toLowerCase().split("|");
  const command = commandTable.get(base!);
  if (command === undefined) return undefined;
  if (sub === undefined) return { command };
  return command.subcommands && Object.hasOwn(command.subcommands, sub) ? { command, sub } : undefined;
}

/** The keys argv names, checked as Redis's COMMAND GETKEYS checks them. */
function keysFor(argv: readonly string[]): { command: Command; keys: string[] } {
  const command = commandTable.get(argv[0]!.toLowerCase());
  if (command === undefined) throw new RedisError("ERR Invalid command specified");
  const arity = arityOf(command, argv);
  if (arity === null || !fitsArity(arity.n, argv)) throw new RedisError("ERR Invalid number of arguments specified for command");
  const keys = allKeysOf(command, argv);
  if (keys.length === 0) throw new RedisError("ERR The command has no key arguments");
  return { command, keys };
}

/** The two commands whose key flags depend on their arguments (Redis 7.0's VARIABLE_FLAGS: setGetKeys, bitfieldGetKeys). */
function variableFlags(command: Command, argv: readonly string[]): Json[] | null {
  const has = (...words: string[]) => argv.slice(2).some((a) => words.includes(a.toUpperCase()));
  if (command.name === "set") return has("GET") ? ["RW", "access", "update"] : ["OW", "update"];
  if (command.name === "bitfield") return has("SET", "INCRBY") ? ["RW", "access", "update"] : ["RO", "access"];
  return null;
}

/** Each key's access flags: its key spec's (Redis's, when its specs map one to one or one to all), else the command's write or read. */
function keyFlags(command: Command, argv: readonly string[], keys: readonly string[]): Json[] {
  const variable = variableFlags(command, argv);
  if (variable) return keys.map((key) => [key, variable]);
  const specs = (INFO[command.name]?.[8] ?? keySpecOf(command)) as Json[][];
  const flagsOfSpec = (spec: Json[] | undefined) => (spec ? (spec[spec.indexOf("flags") + 1] as Json[]) : command.flags.includes("write") ? ["RW", "update"] : ["RO", "access"]);
  return keys.map((key, i) => [key, flagsOfSpec(specs.length === keys.length ? specs[i] : specs.length === 1 ? specs[0] : undefined)]);
}

/**
 * COMMAND [COUNT | DOCS | GETKEYS | GETKEYSANDFLAGS | HELP | INFO | LIST], as redis-server 7.0
 * answers it, for the commands Flaredis serves (not those it refuses): each one's arity and keys
 * from its table, and what Redis says of it (flags, ACL categories, tips, key specs, docs) where
 * Redis 7.0 has it; a newer command's from the table. @see https://redis.io/docs/latest/commands/command/
 */
export default defineCommand({
  name: "command",
  arity: -1,
  flags: ["readonly", "noscript"],
  keys: null,
  subcommands: { count: 2, docs: -2, getkeys: -4, getkeysandflags: -4, help: 2, info: -2, list: -2 },
  parse: (args) => ({ op: (args[0] ?? "").toLowerCase(), rest: args.slice(1) }),
  run: (_ctx, { op, rest }): Reply => {
    const all = [...commandTable.values()];
    switch (op) {
      case "":
        return all.map((c) => reply(infoOf(c)));
      case "count":
        return all.length;
      case "info": {
        if (rest.length === 0) return all.map((c) => reply(infoOf(c)));
        return rest.map((name) => {
          const found = lookup(name);
          if (!found) return null;
          if (found.sub === undefined) return reply(infoOf(found.command));
          const sub = (infoOf(found.command)[9] as Json[][]).find((s) => s[0] === `${found.command.name}|${found.sub}`);
          return sub ? reply(sub) : null;
        });
      }
      case "docs": {
        const names = rest.length === 0 ? all.map((c) => c.name) : rest;
        return names.flatMap((name) => {
          const found = lookup(name);
          return found && found.sub === undefined ? [toBytes(found.command.name), reply(docsOf(found.command))] : [];
        });
      }
      case "list": {
        if (rest.length === 0) return all.map((c) => toBytes(c.name));
        if (rest.length !== 3 || rest[0]!.toLowerCase() !== "filterby") throw errors.syntax();
        const [by, value] = [rest[1]!.toLowerCase(), rest[2]!];
        if (by === "module") return [];
        if (by === "aclcat") return all.filter((c) => categoriesOf(c, undefined).has(value.toLowerCase())).map((c) => toBytes(c.name));
        if (by === "pattern") return all.filter((c) => compileGlob(value).test(c.name)).map((c) => toBytes(c.name));
        throw errors.syntax();
      }
      case "getkeys":
        return keysFor(rest).keys.map(toBytes);
      case "getkeysandflags": {
        const { command, keys } = keysFor(rest);
        return reply(keyFlags(command, rest, keys));
      }
      default:
        return HELP.map(toBytes);
    }
  },
});
