/**
 * ACL categories of commands (`+@read`, `-@dangerous`...): Redis 7.0's own, as its COMMAND INFO
 * gives them (captured with its docs by test/data/capture-redis-commands.mjs into
 * server/redis-commands.json), by command and subcommand (`config|get`). A command Redis 7.0 does
 * not have (7.4's HEXPIRE, 8.x's HGETEX...) gets its categories from its flags and its type, as
 * Redis would file it.
 */
import type { Command } from "../command";
import { TYPES } from "../types";
import redis from "../server/redis-commands.json";

/** Every category, in Redis's order (ACL CAT). */
export const CATEGORIES: readonly string[] = [
  "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo", "stream",
  "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
];

type Info = [string, number, string[], number, number, number, string[], unknown, unknown, Info[]];
const BY_COMMAND = new Map<string, Set<string>>();
for (const info of Object.values(redis.info as unknown as Record<string, Info>))
  for (const entry of [info, ...info[9]]) BY_COMMAND.set(entry[0], new Set(entry[6].map((c) => c.slice(1))));

/** The type category of a type module's command (Redis's names: sortedset for zset). */
const TYPE_CATEGORY: Record<string, string> = { string: "string", hash: "hash", set: "set", list: "list", zset: "sortedset", stream: "stream" };

/** Categories of a command Redis 7.0 does not list, from what Flaredis knows of it. */
function derived(command: Command): Set<string> {
  const out = new Set<string>();
  const flags = command.flags;
  out.add(flags.includes("write") ? "write" : "read");
  if (flags.includes("admin")) out.add("admin").add("dangerous");
  if (flags.includes("blocking")) out.add("blocking");
  const type = TYPES.find((t) => t.commands.some((c) => c.name === command.name));
  if (type) out.add(TYPE_CATEGORY[type.name] ?? type.name);
  else if (command.keys !== null) out.add("keyspace");
  out.add(flags.includes("heavy") ? "slow" : "fast");
  return out;
}

/**
 * The categories of a call of `command` (`sub`: its subcommand, lowercase, for a container such
 * as CONFIG): Redis's for the subcommand where Redis lists it, else for the command.
 */
export function categoriesOf(command: Command, sub: string | undefined): ReadonlySet<string> {
  if (sub !== undefined) {
    const own = BY_COMMAND.get(`${command.name}|${sub}`);
    if (own) return own;
  }
  return BY_COMMAND.get(command.name) ?? derived(command);
}

/** Redis's categories of a command Flaredis's table does not hold (SUBSCRIBE, answered by the worker): none when Redis has no such command. */
export function categoriesOfName(name: string): ReadonlySet<string> {
  return BY_COMMAND.get(name) ?? new Set();
}

/** The names ACL CAT lists for `category`: Redis's (subcommands as `config|get`), and those of Flaredis's commands Redis 7.0 lacks. */
export function commandsIn(category: string, table: Iterable<Command>): string[] {
  const out = new Set<string>();
  for (const [name, categories] of BY_COMMAND) if (categories.has(category)) out.add(name);
  for (const command of table) if (!BY_COMMAND.has(command.name) && !command.subcommands && derived(command).has(category)) out.add(command.name);
  return [...out];
}
