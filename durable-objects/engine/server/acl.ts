import { toBytes } from "../bytes";
import { type Context, OK, type Reply, defineCommand } from "../command";
import { REFUSED, commandTable } from "../command-table";
import { RedisError, errors } from "../errors";
import { parseInt64 } from "../args";
import { TOKEN_USERS } from "../acl/acl";
import { CATEGORIES, commandsIn } from "../acl/categories";
import { type AclUser, NEW_USER, applyRules, describe, deny, dryRunText, getuser } from "../acl/users";
import type { Permission } from "../command";
import { Dispatcher, fitsArity } from "../dispatch";

/** ACL HELP's lines, as redis-server 7.0 prints them. */
const HELP = [
  "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CAT [<category>]",
  "    List all commands that belong to <category>, or all command categories",
  "    when no category is specified.",
  "DELUSER <username> [<username> ...]",
  "    Delete a list of users.",
  "DRYRUN <username> <command> [<arg> ...]",
  "    Returns whether the user can execute the given command without executing the command.",
  "GETUSER <username>",
  "    Get the user's details.",
  "GENPASS [<bits>]",
  "    Generate a secure 256-bit user password. The optional `bits` argument can",
  "    be used to specify a different size.",
  "LIST",
  "    Show users details in config file format.",
  "LOAD",
  "    Reload users from the ACL file.",
  "LOG [<count> | RESET]",
  "    Show the ACL log entries.",
  "SAVE",
  "    Save the current config to the ACL file.",
  "SETUSER <username> <attribute> [<attribute> ...]",
  "    Create or modify a user with the specified attributes.",
  "USERS",
  "    List all the registered usernames.",
  "WHOAMI",
  "    Return the current connection username.",
  "HELP",
  "    Prints this help.",
];

/** The deployment's tokens as users: what each may do is its permission (README, Tokens), described as rules. */
const TOKEN_PERMISSION: Record<string, Permission> = { [TOKEN_USERS.admin]: "admin", [TOKEN_USERS.readwrite]: "readwrite", [TOKEN_USERS.readonly]: "readonly" };

/** A token user's rules, generated from the command table: what its permission lets it run. */
function tokenUser(name: string): AclUser {
  const permission = TOKEN_PERMISSION[name]!;
  const commands =
    permission === "admin"
      ? ["+@all"]
      : permission === "readwrite"
        ? ["+@all", ...[...commandTable.values()].filter((c) => c.flags.includes("admin")).map((c) => `-${c.name}`)]
        : ["-@all", ...[...commandTable.values()].filter((c) => c.flags.includes("readonly") && !c.flags.includes("heavy") && !c.flags.includes("admin")).map((c) => `+${c.name}`)];
  return { name, enabled: true, nopass: false, passwords: [], commands, keys: [{ pattern: "*", read: true, write: true }], channels: ["*"] };
}

/** Whether ACL rules may name `name` (`cmd` or `cmd|sub`): a command of Redis's table, served or not. */
function known(name: string): boolean {
  const [base, sub] = name.split("|");
  const command = commandTable.get(base!);
  if (command === undefined) return sub === undefined && REFUSED.has(base!);
  return sub === undefined || (command.subcommands !== undefined && Object.hasOwn(command.subcommands, sub));
}

const isTokenUser = (name: string) => Object.hasOwn(TOKEN_PERMISSION, name);
const tokenUserRefusal = (name: string) =>
  new RedisError(`ERR The '${name}' user is one of the deployment's tokens (FLAREDIS_${name === "default" ? "" : `${name.toUpperCase()}_`}TOKEN): change it with wrangler secret put`);

/** Every user: the tokens' first, then those ACL SETUSER made, by name (as Redis lists them). */
function allUsers(ctx: Context): AclUser[] {
  return [...Object.keys(TOKEN_PERMISSION).map(tokenUser), ...ctx.server.acl.users()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function dryRun(ctx: Context, username: string, argv: readonly string[]): Reply {
  const command = commandTable.get(argv[0]!.toLowerCase());
  if (command === undefined) throw new RedisError(`ERR Command '${argv[0]}' not found`);
  if (!fitsArity(command.arity, argv)) throw errors.arity(command.name);
  if (isTokenUser(username)) {
    return Dispatcher.permits(argv, TOKEN_PERMISSION[username]!) === false ? toBytes(`This user has no permissions to run the '${command.name}' command`) : OK;
  }
  const user = ctx.server.acl.user(username);
  if (user === undefined) throw new RedisError(`ERR User '${username}' not found`);
  const denial = deny(user, command, argv);
  return denial ? toBytes(dryRunText(denial)) : OK;
}

function log(ctx: Context, arg: string | undefined): Reply {
  if (arg !== undefined && arg.toLowerCase() === "reset") {
    ctx.server.acl.resetLog();
    return OK;
  }
  let count = 10;
  if (arg !== undefined) {
    const n = parseInt64(arg);
    if (n < 0n) throw new RedisError("ERR value is out of range, must be positive");
    count = Number(n > 1_000_000n ? 1_000_000n : n);
  }
  return ctx.server.acl.entries(count).map((e) => [
    toBytes("count"), e.count, toBytes("reason"), toBytes(e.reason), toBytes("context"), toBytes(e.context), toBytes("object"), toBytes(e.object),
    toBytes("username"), toBytes(e.username), toBytes("age-seconds"), toBytes(String((ctx.now - e.updated) / 1000)),
    toBytes("client-info"), toBytes(`flaredis-http user=${e.username}`),
  ]);
}

/**
 * ACL CAT | DELUSER | DRYRUN | GENPASS | GETUSER | LIST | LOAD | LOG | SAVE | SETUSER | USERS |
 * WHOAMI | HELP, as redis-server 7.0 answers them (acl/users.ts). Users live in the replicated
 * CONFIG: SETUSER and DELUSER run on the primary and reach every node with it. The deployment's
 * three tokens are the users `admin`, `default` (read-write) and `readonly`, listed with rules
 * generated from what their permission allows, and not changed here. WHOAMI, CAT and GENPASS are
 * any user's; the rest the admin's. @see https://redis.io/docs/latest/commands/acl/
 */
export default defineCommand({
  name: "acl",
  arity: -2,
  flags: ["admin", "noscript"],
  flagsFor: (argv) => (["whoami", "cat", "genpass", "help"].includes((argv[1] ?? "").toLowerCase()) ? ["noscript"] : ["admin", "noscript"]),
  keys: null,
  subcommands: { cat: -2, deluser: -3, dryrun: -4, genpass: -2, getuser: 3, list: 2, load: 2, log: -2, save: 2, setuser: -3, users: 2, whoami: 2, help: 2 },
  parse: ([sub, ...rest]) => ({ op: sub!.toLowerCase(), rest }),
  run: (ctx, { op, rest }): Reply => {
    const { acl } = ctx.server;
    switch (op) {
      case "setuser": {
        const name = rest[0]!;
        if (/[\s\0]/.test(name)) throw new RedisError("ERR Usernames can't contain spaces or null characters");
        // The HTTP API's token is `user:password`, read up to the first colon.
        if (name.includes(":")) throw new RedisError("ERR Usernames can't contain ':' in Flaredis (a user's token is user:password)");
        if (isTokenUser(name)) throw tokenUserRefusal(name);
        const users = [...acl.users()];
        const at = users.findIndex((u) => u.name === name);
        const next = applyRules(at >= 0 ? users[at]! : NEW_USER(name), rest.slice(1), known);
        if (at >= 0) users[at] = next;
        else users.push(next);
        acl.set(users);
        return OK;
      }
      case "deluser": {
        for (const name of rest) if (isTokenUser(name)) throw name === "default" ? new RedisError("ERR The 'default' user cannot be removed") : tokenUserRefusal(name);
        const users = acl.users();
        const kept = users.filter((u) => !rest.includes(u.name));
        if (kept.length !== users.length) acl.set(kept);
        return users.length - kept.length;
      }
      case "getuser": {
        const user = isTokenUser(rest[0]!) ? tokenUser(rest[0]!) : acl.user(rest[0]!);
        return user ? (getuser(user).map((v) => (typeof v === "string" ? toBytes(v) : Array.isArray(v) ? v.map((x) => toBytes(String(x))) : v)) as Reply) : null;
      }
      case "list":
        return allUsers(ctx).map((u) => toBytes(describe(u)));
      case "users":
        return allUsers(ctx).map((u) => toBytes(u.name));
      case "whoami":
        return toBytes(ctx.user?.name ?? TOKEN_USERS[ctx.permission]);
      case "cat":
        if (rest.length === 0) return CATEGORIES.map(toBytes);
        if (!CATEGORIES.includes(rest[0]!.toLowerCase())) throw new RedisError(`ERR Unknown category '${rest[0]}'`);
        return commandsIn(rest[0]!.toLowerCase(), commandTable.values()).map(toBytes);
      case "dryrun":
        return dryRun(ctx, rest[0]!, rest.slice(1));
      case "genpass": {
        const bits = rest[0] === undefined ? 256n : parseInt64(rest[0]);
        if (bits <= 0n || bits > 4096n) throw new RedisError("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096");
        const chars = Math.ceil(Number(bits) / 4);
        return toBytes(ctx.server.random.hex(Math.ceil(chars / 2)).slice(0, chars));
      }
      case "log":
        if (rest.length > 1) throw errors.syntax();
        return log(ctx, rest[0]);
      case "load":
      case "save":
        throw new RedisError(
          "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.",
        );
      default:
        return HELP.map(toBytes);
    }
  },
});
