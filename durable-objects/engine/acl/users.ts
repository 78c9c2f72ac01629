/**
 * ACL users (ACL SETUSER and its rules, as redis-server 7.0 reads them) and the check of a call
 * against one: its command (by category, name or subcommand), its keys (~, %R~, %W~ patterns) and
 * its channels (&). Users are kept in the CONFIG the master replicates (`Config.acl`), so every
 * node and a new master after a failover have them; the worker holds a copy to check calls at
 * the edge (worker/acl.ts), and each node checks again with its own (dispatch.ts).
 * Differences from Redis (README): no selectors; a key is judged read or write by its command
 * (a write command's keys all need write access), not by Redis's per-key flags.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { type Command, allKeysOf, flagsOf } from "../command";
import { RedisError } from "../errors";
import { type Glob, compileGlob } from "../glob";
import { CATEGORIES, categoriesOf, categoriesOfName } from "./categories";

export interface KeyPattern {
  readonly pattern: string;
  readonly read: boolean;
  readonly write: boolean;
}

/** One user as stored and replicated. */
export interface AclUser {
  readonly name: string;
  readonly enabled: boolean;
  readonly nopass: boolean;
  /** SHA-256 of each password, lowercase hex. */
  readonly passwords: readonly string[];
  /** The command rules since the last reset, the first `+@all` or `-@all`. */
  readonly commands: readonly string[];
  readonly keys: readonly KeyPattern[];
  readonly channels: readonly string[];
  readonly skipSanitize?: boolean;
}

/** A new user, as Redis makes one: off, no password, no command, no key, no channel (acl-pubsub-default resetchannels). */
export const NEW_USER = (name: string): AclUser => ({ name, enabled: false, nopass: false, passwords: [], commands: ["-@all"], keys: [], channels: [] });

export const sha256hex = (text: string): string => createHash("sha256").update(text).digest("hex");

/** The users `users` names, by name. */
export type Users = ReadonlyMap<string, AclUser>;

/**
 * `user` with `rules` applied in order, as ACL SETUSER applies them.
 * @param known whether a command name exists (and its subcommand, `config|get`)
 * @throws RedisError `ERR Error in ACL SETUSER modifier '<rule>': <why>`
 */
export function applyRules(user: AclUser, rules: readonly string[], known: (name: string) => boolean): AclUser {
  let u = { ...user, passwords: [...user.passwords], commands: [...user.commands], keys: [...user.keys], channels: [...user.channels] };
  for (const rule of rules) {
    const fail = (why: string) => new RedisError(`ERR Error in ACL SETUSER modifier '${rule}': ${why}`);
    const lower = rule.toLowerCase();
    if (lower === "on") u.enabled = true;
    else if (lower === "off") u.enabled = false;
    else if (lower === "nopass") u = { ...u, nopass: true, passwords: [] };
    else if (lower === "resetpass") u = { ...u, nopass: false, passwords: [] };
    else if (lower === "skip-sanitize-payload") u.skipSanitize = true;
    else if (lower === "sanitize-payload") u.skipSanitize = false;
    else if (lower === "allkeys") u.keys = [{ pattern: "*", read: true, write: true }];
    else if (lower === "resetkeys") u.keys = [];
    else if (lower === "allchannels") u.channels = ["*"];
    else if (lower === "resetchannels") u.channels = [];
    else if (lower === "allcommands" || lower === "+@all") u.commands = ["+@all"];
    else if (lower === "nocommands" || lower === "-@all") u.commands = ["-@all"];
    else if (lower === "reset") u = { ...u, enabled: false, nopass: false, passwords: [], commands: ["-@all"], keys: [], channels: [], skipSanitize: false };
    else if (lower === "clearselectors" || rule === "") continue;
    else if (rule.startsWith(">") || rule.startsWith("#")) {
      const hash = rule.startsWith(">") ? sha256hex(rule.slice(1)) : rule.slice(1);
      if (!/^[0-9a-f]{64}$/.test(hash)) throw fail("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters");
      u.nopass = false;
      if (!u.passwords.includes(hash)) u.passwords.push(hash);
    } else if (rule.startsWith("<") || rule.startsWith("!")) {
      const hash = rule.startsWith("<") ? sha256hex(rule.slice(1)) : rule.slice(1);
      if (rule.startsWith("!") && !/^[0-9a-f]{64}$/.test(hash)) throw fail("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters");
      if (!u.passwords.includes(hash)) throw fail("The password you are trying to remove from the user does not exist");
      u.passwords = u.passwords.filter((p) => p !== hash);
    } else if (rule.startsWith("~") || rule.startsWith("%")) {
      const m = /^(?:~|%([RW]{1,2})~)(.*)$/is.exec(rule);
      if (!m) throw fail("Syntax error");
      const access = (m[1] ?? "RW").toUpperCase();
      if (allKeys(u)) throw fail("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns");
      if (/\s/.test(m[2]!)) throw fail("Syntax error");
      const [read, write] = [access.includes("R"), access.includes("W")];
      const same = u.keys.findIndex((k) => k.pattern === m[2]);
      // A pattern given again adds its access to the one there, as Redis merges them.
      if (m[2] === "*" && read && write) u.keys = [{ pattern: "*", read: true, write: true }];
      else if (same >= 0) u.keys[same] = { pattern: m[2]!, read: read || u.keys[same]!.read, write: write || u.keys[same]!.write };
      else u.keys.push({ pattern: m[2]!, read, write });
    } else if (rule.startsWith("&")) {
      if (u.channels.includes("*")) throw fail("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels");
      if (/\s/.test(rule)) throw fail("Syntax error");
      if (rule === "&*") u.channels = ["*"];
      else if (!u.channels.includes(rule.slice(1))) u.channels.push(rule.slice(1));
    } else if (rule.startsWith("+") || rule.startsWith("-")) {
      const name = rule.slice(1).toLowerCase();
      const ok = name.startsWith("@") ? CATEGORIES.includes(name.slice(1)) : known(name);
      if (!ok) throw fail("Unknown command or category name in ACL");
      u.commands.push(`${rule[0]}${name}`);
    } else if (rule.startsWith("(")) throw fail("Selectors are not supported by Flaredis");
    else throw fail("Syntax error");
  }
  return u;
}

/** The user as ACL LIST shows it: `user <name> on|off [nopass] #<hash>… <keys> resetchannels <channels> <commands>`. */
export function describe(u: AclUser): string {
  const parts = ["user", u.name, u.enabled ? "on" : "off"];
  if (u.nopass) parts.push("nopass");
  if (u.skipSanitize) parts.push("skip-sanitize-payload");
  for (const p of u.passwords) parts.push(`#${p}`);
  parts.push(...keyRules(u));
  if (u.channels.includes("*")) parts.push("&*");
  else parts.push("resetchannels", ...u.channels.map((c) => `&${c}`));
  parts.push(u.commands.join(" "));
  return parts.join(" ");
}

const allKeys = (u: AclUser) => u.keys.some((k) => k.pattern === "*" && k.read && k.write);

/** The key patterns as rules (`~*`, `%R~p`...). */
export function keyRules(u: AclUser): string[] {
  return u.keys.map((k) => (k.read && k.write ? `~${k.pattern}` : `%${k.read ? "R" : ""}${k.write ? "W" : ""}~${k.pattern}`));
}

/** ACL GETUSER's reply (RESP2: a flat list of field names and values). */
export function getuser(u: AclUser): unknown[] {
  const flags = [u.enabled ? "on" : "off", ...(u.nopass ? ["nopass"] : []), ...(u.skipSanitize ? ["skip-sanitize-payload"] : [])];
  const channels = u.channels.includes("*") ? "&*" : u.channels.map((c) => `&${c}`).join(" ");
  return ["flags", flags, "passwords", [...u.passwords], "commands", u.commands.join(" "), "keys", keyRules(u).join(" "), "channels", channels, "selectors", []];
}

/** Why a call is refused: its command, one of its keys, or one of its channels (the key or channel named). */
export type Denial = { readonly reason: "command"; readonly object: string } | { readonly reason: "key" | "channel"; readonly object: string };

/** Whether `rules` (as stored) allow the command `name` (its subcommand `sub`) whose categories are `categories`. */
export function commandAllowed(rules: readonly string[], name: string, sub: string | undefined, categories: ReadonlySet<string>): boolean {
  let allowed = false;
  for (const rule of rules) {
    const plus = rule[0] === "+";
    const what = rule.slice(1);
    const hit = what === "@all" || (what.startsWith("@") ? categories.has(what.slice(1)) : what === name || (sub !== undefined && what === `${name}|${sub}`));
    if (hit) allowed = plus;
  }
  return allowed;
}

/**
 * A user's key or channel pattern, compiled once: every call of an ACL user is checked at the edge
 * and on its node, each key against the patterns. The patterns are few (the users' own); past
 * GLOBS_KEPT the cache starts again.
 */
function globOf(pattern: string): Glob {
  let glob = globs.get(pattern);
  if (glob === undefined) {
    if (globs.size >= GLOBS_KEPT) globs.clear();
    globs.set(pattern, (glob = compileGlob(pattern)));
  }
  return glob;
}
const globs = new Map<string, Glob>();
const GLOBS_KEPT = 1024;

/** Channels a call publishes or subscribes to (PUBLISH, SPUBLISH, SUBSCRIBE...), for `&` rules. */
function channelsOf(name: string, argv: readonly string[]): { channels: string[]; patterns: boolean } | null {
  if (name === "publish" || name === "spublish") return { channels: [argv[1]!], patterns: false };
  if (name === "subscribe" || name === "ssubscribe") return { channels: argv.slice(1), patterns: false };
  if (name === "psubscribe") return { channels: argv.slice(1), patterns: true };
  return null;
}

/**
 * Why `u` may not run argv (`command` its command), or null when it may: Redis's order, the
 * command first, then each key, then each channel. A pattern subscription is allowed only by
 * the same pattern (or `&*`), as Redis judges it.
 */
export function deny(u: AclUser, command: Command, argv: readonly string[]): Denial | null {
  const sub = command.subcommands && argv.length > 1 ? argv[1]!.toLowerCase() : undefined;
  if (!commandAllowed(u.commands, command.name, sub, categoriesOf(command, sub))) return { reason: "command", object: sub ? `${command.name}|${sub}` : command.name };
  const need = accessOf(command, argv);
  if (!allKeys(u))
    for (const key of allKeysOf(command, argv)) {
      // One pattern must give all the access needed (Redis's ACLSelectorCheckKey; the same pattern given twice was merged).
      if (!u.keys.some((k) => (!need.read || k.read) && (!need.write || k.write) && globOf(k.pattern).test(key))) return { reason: "key", object: key };
    }
  return channelDenial(u, command.name, argv);
}

/** The first channel of argv (PUBLISH's, SUBSCRIBE's...) that `u`'s `&` rules do not allow. */
function channelDenial(u: AclUser, name: string, argv: readonly string[]): Denial | null {
  const channels = channelsOf(name, argv);
  if (channels && !u.channels.includes("*"))
    for (const channel of channels.channels)
      if (!u.channels.some((c) => (channels.patterns ? c === channel : globOf(c).test(channel)))) return { reason: "channel", object: channel };
  return null;
}

/**
 * Why `u` may not subscribe (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE: the worker's to answer, not a
 * command of the table), or null: the command by its Redis categories and name, then each channel.
 */
export function denySubscription(u: AclUser, argv: readonly string[]): Denial | null {
  const name = argv[0]!.toLowerCase();
  if (!commandAllowed(u.commands, name, undefined, categoriesOfName(name))) return { reason: "command", object: name };
  return channelDenial(u, name, argv);
}

/** The error a denied call answers (redis-server 7.0's texts). */
export function noPermission(d: Denial): RedisError {
  if (d.reason === "command") return new RedisError(`NOPERM this user has no permissions to run the '${d.object}' command`);
  return new RedisError(`NOPERM this user has no permissions to access one of the ${d.reason === "key" ? "keys" : "channels"} used as arguments`);
}

/** ACL DRYRUN's answer for a denial (redis-server 7.0's texts). */
export function dryRunText(d: Denial): string {
  return d.reason === "command" ? `This user has no permissions to run the '${d.object}' command` : `This user has no permissions to access the '${d.object}' ${d.reason}`;
}

/** Whether `password` opens `u` (a nopass user takes any); every stored hash compared in constant time, none skipped. */
export function authenticates(u: AclUser, passwordHash: string): boolean {
  const given = Buffer.from(passwordHash.padEnd(64, "0").slice(0, 64));
  let match = false;
  for (const p of u.passwords) match = timingSafeEqual(Buffer.from(p), given) || match;
  return u.enabled && (u.nopass || (match && passwordHash.length === 64));
}

/** Whether `u` may read every key (Redis's unrestricted key access: SORT's BY and GET need it). */
export const readsAllKeys = (u: AclUser): boolean => u.keys.some((k) => k.pattern === "*" && k.read);

/**
 * Write commands whose keys Redis's key specs do not mark ACCESS (the command does not read what
 * is there): their keys need only write access. Every other write command's keys need read and
 * write (Redis judges each key by its spec; this errs toward refusing).
 */
const WRITE_ONLY = new Set(["del", "unlink", "expire", "pexpire", "expireat", "pexpireat", "persist", "setex", "psetex", "setnx", "mset", "msetnx",
  "lpush", "rpush", "lpushx", "rpushx", "sadd", "hset", "hmset", "hsetnx", "zadd", "xadd", "pfadd", "append", "setrange", "setbit"]);

/** The access a call needs to its keys: read, write or both. */
function accessOf(command: Command, argv: readonly string[]): { read: boolean; write: boolean } {
  if (!flagsOf(command, argv).includes("write")) return { read: true, write: false };
  // SET … GET reads what it replaces.
  const writeOnly = WRITE_ONLY.has(command.name) || (command.name === "set" && !argv.slice(3).some((a) => a.toUpperCase() === "GET"));
  return { read: !writeOnly, write: true };
}
