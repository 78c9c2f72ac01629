/**
 * One call from admission to its reply: the checks Redis's processCommand makes before it runs or
 * queues a command (`admit`), the ones its scripts make before `redis.call` runs one
 * (`admitFromScript`, Redis's scriptCall), and the run itself with its key-size checks and
 * counters (`execute`). The engine (engine.ts) drives batches through it.
 */
import { type Command, type Context, type Flag, type Permission, type Reply, type Server, allKeysOf, flagsOf } from "./command";
import { REFUSED, commandTable } from "./command-table";
import { RedisError, errors } from "./errors";
import type { Change, Role } from "./keyspace";
import { EVENTS, commandEvents } from "./notify";
import type { Acl } from "./acl/acl";
import { type AclUser, deny, noPermission } from "./acl/users";
import { type SlotGuard, guardRefusal } from "./slot-guard";

/** One call's outcome, in the shape of the Upstash pipeline response. */
export type Outcome = { result: Reply } | { error: string };

/** A call admitted to run: its command, its arguments (parsed when it runs) and this call's flags. */
export interface Prepared {
  readonly command: Command;
  readonly argv: readonly string[];
  readonly flags: readonly Flag[];
}

/** What admission reads of the engine: its role, its refusals and counters. */
export interface DispatchHost {
  readonly role: Role;
  readonly maxKeyBytes: number;
  readonly server: Server;
  readonly commandCalls: Map<string, number>;
  readonly stats: { commandsProcessed: number };
  /** On a replica: why data commands are refused now (LOADING, MASTERDOWN), or null. */
  replicaRefusal(): RedisError | null;
  /** On a master: why writes are refused now (no quorum of sentinels, fenced), or null. */
  writeRefusal(): RedisError | null;
  /** `min-replicas-to-write` holds. */
  enoughReplicas(): boolean;
  /** Keyspace notifications are on (notify-keyspace-events): commands add their own events. */
  readonly notifying: boolean;
  /** Where ACL refusals are logged (ACL LOG). */
  readonly acl: Acl;
  /** The hash slots moving away from this shard, or moved (slot-guard.ts). */
  readonly slotGuard: SlotGuard | undefined;
}

/** A running script's side of its `redis.call`s (scripting/scripts.ts). */
export interface ScriptCalls {
  /** No write may run (EVAL_RO, FCALL_RO, a `no-writes` script). */
  readonly readOnly: boolean;
  /** Over maxmemory when the script started, and no `allow-oom` flag. */
  readonly oom: boolean;
  /** A write already ran: the state checks no longer stop the next one (Redis's SCRIPT_WRITE_DIRTY). */
  wrote: boolean;
}

export class Dispatcher {
  /** Set by `execute` when the error it returns keeps the command's writes (RedisError.keepsWrites). */
  keptWrites = false;

  constructor(private readonly host: DispatchHost) {}

  /** The command a name denotes, or undefined (case-insensitive). */
  static lookup(name: string): Command | undefined {
    return commandTable.get(name.toLowerCase());
  }

  /** Whether argv is a command flagged `readonly` (false for an unknown one). */
  static readOnly(argv: readonly string[]): boolean {
    const command = Dispatcher.lookup(argv[0] ?? "");
    return command !== undefined && arityOf(command, argv) !== null && flagsOf(command, argv).includes("readonly");
  }

  /** Whether a token of `permission` may run argv's command; null when there is no such command. */
  static permits(argv: readonly string[], permission: Permission): boolean | null {
    const command = Dispatcher.lookup(argv[0] ?? "");
    return command && arityOf(command, argv) !== null ? permits(flagsOf(command, argv), permission) : null;
  }

  /**
   * Admits a call, as Redis's processCommand does before it runs or queues one: a known command,
   * its arity, the permission, the role and the replication refusals, and (`guarded`) the slot
   * guard (slot-guard.ts). The key sizes and the
   * command's own parse are checked when it runs (`execute`), after eviction, as in Redis.
   */
  admit(argv: readonly string[], permission: Permission, user?: AclUser, context: "toplevel" | "multi" = "toplevel", guarded = true): Prepared {
    const name = argv[0] ?? "";
    const command = Dispatcher.lookup(name);
    if (!command) throw REFUSED.has(name.toLowerCase()) ? errors.unsupported(name, REFUSED.get(name.toLowerCase())) : errors.unknownCommand(name, argv.slice(1));
    const arity = arityOf(command, argv);
    if (arity === null) throw errors.unknownSubcommand(name, argv[1]!);
    if (!fitsArity(arity.n, argv)) throw errors.arity(arity.fullname);
    const flags = flagsOf(command, argv);
    if (!permits(flags, permission)) throw errors.noPermission(command.name);
    const { host } = this;
    const denial = user === undefined ? null : deny(user, command, argv);
    if (denial) {
      host.acl.denied(user!.name, denial, context);
      throw noPermission(denial);
    }
    const moving = guarded ? guardRefusal(host.slotGuard, command, argv) : null;
    if (moving) throw moving;
    if (flags.includes("write")) {
      const refusal = this.writeRefusal();
      if (refusal) throw refusal;
    }
    if (host.role === "slave" && (command.keys !== null || command.otherKeys)) {
      const refusal = host.replicaRefusal();
      if (refusal) throw refusal;
    }
    return { command, argv, flags };
  }

  /**
   * Admits a script's `redis.call`, as Redis's scriptCall does, with its texts: the command, its
   * arity, whether scripts may call it, the caller's permission, a read-only script's writes; the
   * state checks of a write (role, refusals, min-replicas, OOM) until the script's first write ran.
   */
  admitFromScript(argv: readonly string[], permission: Permission, script: ScriptCalls, user?: AclUser): Prepared {
    const command = Dispatcher.lookup(argv[0] ?? "");
    const arity = command ? arityOf(command, argv) : null;
    if (!command || arity === null) throw new RedisError("ERR Unknown Redis command called from script");
    if (!fitsArity(arity.n, argv)) throw new RedisError("ERR Wrong number of args calling Redis command from script");
    const flags = flagsOf(command, argv);
    if (flags.includes("noscript")) throw new RedisError("ERR This Redis command is not allowed from script");
    if (!permits(flags, permission)) throw new RedisError("ERR The user executing the script can't run this command or subcommand");
    const denial = user === undefined ? null : deny(user, command, argv);
    if (denial) {
      this.host.acl.denied(user!.name, denial, "lua");
      throw new RedisError(SCRIPT_DENIALS[denial.reason]);
    }
    // Not MOVED or TRYAGAIN: the worker would send the script again, and what it wrote before this
    // call stays. A script's declared keys were admitted with its EVAL; an undeclared one moving away is the script's error.
    const moving = guardRefusal(this.host.slotGuard, command, argv);
    if (moving) throw new RedisError(`ERR Script attempted to access a key of a hash slot that is moving to another shard (${moving.message})`);
    const write = flags.includes("write");
    if (script.readOnly && write) throw new RedisError("ERR Write commands are not allowed from read-only scripts.");
    if (write && !script.wrote) {
      const refusal = this.writeRefusal();
      if (refusal) throw refusal;
      if (script.oom && flags.includes("denyoom")) throw errors.oom();
    }
    if (write) script.wrote = true;
    return { command, argv, flags };
  }

  /** Runs one prepared call in `change`; a runtime error leaves `change` as it was (unless it `keepsWrites`). */
  execute(p: Prepared, change: Change, savepoint: boolean, permission: Permission, extra?: Partial<Context>): Outcome {
    const mark = savepoint ? change.savepoint() : null;
    const { host } = this;
    host.stats.commandsProcessed++;
    host.commandCalls.set(p.command.name, (host.commandCalls.get(p.command.name) ?? 0) + 1);
    try {
      for (const key of allKeysOf(p.command, p.argv)) {
        const size = key.length;
        if (size > host.maxKeyBytes) throw errors.keyTooLarge(host.maxKeyBytes, size);
      }
      const ctx: Context = { db: change, now: change.now, server: host.server, permission, ...extra };
      if (!host.notifying || !EVENTS.has(p.command.name)) return { result: p.command.run(ctx, p.command.parse(p.argv.slice(1), p.argv[0]!)) };
      const [effects, events] = [change.effects.length, change.events.length];
      const result = p.command.run(ctx, p.command.parse(p.argv.slice(1), p.argv[0]!));
      change.events.push(...commandEvents(p.argv, change.effects.slice(effects), change.events.splice(events), (key) => change.peek(key) !== null));
      return { result };
    } catch (e) {
      if (!(e instanceof RedisError)) throw e;
      if (mark && !e.keepsWrites) change.rollback(mark);
      if (e.keepsWrites) this.keptWrites = true;
      return { error: e.message };
    }
  }

  /**
   * Why a write is refused on this node now, or null: READONLY on a replica; on a master,
   * min-replicas-to-write, then its own refusals (quorum, fencing). Also a script's whose flags
   * make it a write (scripting/scripts.ts).
   */
  writeRefusal(): RedisError | null {
    const { host } = this;
    if (host.role === "slave") return errors.readOnly();
    if (!host.enoughReplicas()) return errors.noReplicas();
    return host.writeRefusal();
  }
}

/** Redis 7.0's texts for a script's call that the user's ACL refuses (scriptCall). */
const SCRIPT_DENIALS = {
  command: "ERR The user executing the script can't run this command or subcommand",
  key: "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments",
  channel: "ERR The user executing the script can't publish to the channel mentioned in the command",
} as const;

/** Whether argv's length fits Redis arity `n` (exactly n, or at least -n when negative). */
export const fitsArity = (n: number, argv: readonly unknown[]): boolean => (n > 0 ? argv.length === n : argv.length >= -n);

/** The arity that applies to argv (a container's subcommand's), with its name; null for an unknown subcommand. */
export function arityOf(command: Command, argv: readonly string[]): { n: number; fullname: string } | null {
  if (!command.subcommands || argv.length < 2) return { n: command.arity, fullname: command.name };
  const sub = argv[1]!.toLowerCase();
  if (!Object.hasOwn(command.subcommands, sub)) return null;
  return { n: command.subcommands[sub]!, fullname: `${command.name}|${sub}` };
}

/** Whether a token of `permission` may run a call of these flags. */
function permits(flags: readonly Flag[], permission: Permission): boolean {
  if (flags.includes("admin") && permission !== "admin") return false;
  return permission !== "readonly" || (flags.includes("readonly") && !flags.includes("heavy"));
}
