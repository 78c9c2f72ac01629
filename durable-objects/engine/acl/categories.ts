/**
 * ACL categories of commands (`+@read`, `-@dangerous`...): Redis 7.0's own, as `ACL CAT <category>`
 * lists them (captured by test/data/capture-redis-acl.mjs into redis-categories.json), by command
 * and subcommand (`config|get`). A command Redis 7.0 does not have (7.4's HEXPIRE, 8.x's
 * HGETEX...) gets its categories from its flags and its type, as Redis would file it.
 */
import type { Command } from "../command";
import { TYPES } from "../types";
import captured from "./redis-categories.json";

/** Every category, in Redis's order (ACL CAT). */
export const CATEGORIES: readonly string[] = Object.keys(captured.categories);

const BY_COMMAND = new Map<string, Set<string>>();
for (const [category, names] of Object.entries(captured.categories as Record<string, string[]>))
  for (const name of names) {
    const set = BY_COMMAND.get(name) ?? new Set<string>();
    set.add(category);
    BY_COMMAND.set(name, set);
  }

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

/** The names ACL CAT lists for `category`: Redis's, and those of Flaredis's commands Redis 7.0 lacks. */
export function commandsIn(category: string, table: Iterable<Command>): string[] {
  const out = new Set((captured.categories as Record<string, string[]>)[category] ?? []);
  for (const command of table) if (!BY_COMMAND.has(command.name) && !command.subcommands && derived(command).has(category)) out.add(command.name);
  return [...out];
}
