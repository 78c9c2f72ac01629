/**
 * The contract of a command module. Each command lives in `commands/<name>.ts` and states, in one
 * place, its arity, flags, key positions, how its arguments parse into a typed value, and what it
 * does with them. Routing (write -> primary), permissions (read-only token), key limits, READONLY
 * on replicas and MULTI all read these fields; nothing re-derives them from strings.
 */
import type { Bytes } from "./bytes";
import type { Random } from "./clock";
import type { Change } from "./keyspace";
import type { Functions } from "./scripting/functions";
import type { Scripts } from "./scripting/scripts";
import type { Acl } from "./acl/acl";
import type { AclUser } from "./acl/users";

/**
 * A reply, as Redis types it: null (nil), an integer (bigint beyond 2^53), a status string
 * (`string`: "OK", "PONG", TYPE's answer), a bulk string (`Bytes`), or an array of replies.
 */
export type Reply = null | number | bigint | string | Bytes | Reply[] | WaitForReplicas | BlockOn | Publish | PubSubQuery;

/** An integer reply: a number while it is exact (within ±2^53), else the bigint. */
export const integerReply = (n: bigint): number | bigint => (n >= -BigInt(Number.MAX_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n);

/**
 * WAIT's answer: the node, which can wait, turns it into the count of replicas that acknowledged
 * `offset` once there are `numreplicas` of them or the timeout passed. Never leaves the node.
 * The engine sets `offset` once the writes before the WAIT have committed (in a MULTI, the whole
 * MULTI), so it covers every write the client made before it.
 */
export class WaitForReplicas {
  offset = -1;
  constructor(
    readonly numreplicas: number,
    readonly timeoutMs: number,
  ) {}
}

/**
 * A blocking command (BLPOP and its kin, blocking.ts) that found nothing to take, in a request
 * that may wait: the node (node/blocked.ts) runs the command again whenever one of `keys` is
 * written, first come first served, until it takes something or `timeoutMs` (0: none) passes.
 * Never leaves the node. `argv`: the call to run again in its place (XREAD's `$` read as the last
 * ID when it blocked), else the call itself.
 */
export class BlockOn {
  constructor(
    readonly keys: readonly string[],
    readonly timeoutMs: number,
    readonly argv?: readonly string[],
  ) {}
}

/**
 * PUBLISH's and SPUBLISH's answer: the node (node/publisher.ts) delivers the message to the
 * subscribers of every region and turns this into how many got it. Never leaves the node.
 */
export class Publish {
  constructor(
    readonly channel: string,
    readonly message: string,
    readonly shard: boolean,
  ) {}
}

/**
 * PUBSUB's answer: the node gathers every node's subscriptions and `answer` makes the reply from
 * them (see server/publish.ts). Never leaves the node.
 */
export class PubSubQuery {
  constructor(readonly answer: (counts: import("../protocol/pubsub").SubscriptionCounts) => Reply) {}
}

/**
 * - `write`: changes the keyspace; runs on the master only (READONLY on a replica).
 * - `readonly`: only reads; a replica may serve it.
 * - `heavy`: a read that walks the keyspace (KEYS, SCAN...); not for the read-only token.
 * - `admin`: admin token only (CONFIG, DEBUG).
 * - `primary`: must run on the master even though it writes nothing (WAIT; INFO, whose counters are the master's).
 * - `denyoom`: may grow the dataset (Redis's flag): with maxmemory set, keys are evicted before
 *   it runs, or it is refused with OOM (a DEL, EXPIRE or pop never is).
 * - `evicts`: may grow the dataset but is not refused before it runs (a script): keys are evicted
 *   first, and whether the dataset is still over maxmemory is told to it (`Context.overMemory`).
 * - `noscript`: a script may not call it (Redis's flag).
 * - `anykeys`: may read or write keys it does not declare (a script): read-your-writes counts it
 *   as touching any key.
 * - `blocking`: may wait for a key to be written (BLPOP...): see BlockOn.
 * - `maywrite`: writes or not as what it runs decides (a script; Redis's may-replicate): sent to
 *   the primary and counted as a write by read-your-writes, but refused nothing before it runs;
 *   each write it makes is checked as it is made (dispatch.ts `admitFromScript`).
 */
export type Flag = "write" | "readonly" | "heavy" | "admin" | "primary" | "denyoom" | "evicts" | "noscript" | "anykeys" | "maywrite" | "blocking";

/**
 * What one request has spent so far, shared by its commands (engine.ts): bytes added to the
 * replication log, rows read, milliseconds of scripts' counted work and what their replies took.
 */
export interface RequestBudget {
  log: number;
  reads: number;
  scriptMs: number;
  /** Values and bytes of strings the request's scripts' replies converted (scripting/scripts.ts). */
  replyValues: number;
  replyBytes: number;
}

/** What a request's token may do (worker/auth.ts). */
export type Permission = "admin" | "readwrite" | "readonly";

/**
 * Key positions in argv (0 is the command name), Redis's (first, last, step); last -1 = to the end.
 * With `numkeys`, argv[numkeys] also counts keys that follow it (ZUNION numkeys key ..., Redis's
 * "keynum" key spec); a count that is not a positive integer names none (the command's parser
 * answers the error).
 */
export interface KeySpec {
  readonly first: number;
  readonly last: number;
  readonly step: number;
  readonly numkeys?: number;
}

/** What a running command can reach besides the keyspace. */
export interface Server {
  readonly random: Random;
  /** INFO text for the given sections (all when empty). */
  info(sections: readonly string[]): string;
  /** CONFIG GET: name/value pairs. */
  configGet(patterns: readonly string[]): string[];
  /** CONFIG SET: all pairs or none. @throws RedisError for an unknown or bad parameter */
  configSet(pairs: readonly (readonly [string, string])[]): void;
  /** CONFIG RESETSTAT: INFO's stats counters back to 0 (this node's, as Redis's are its server's). */
  resetStats(): void;
  readonly offset: number;
  /** RENAME and COPY of a collection may be logged as themselves (no replica is loading a full sync). */
  compactEffects(): boolean;
  /**
   * What eviction knows of `key`'s use (OBJECT IDLETIME and FREQ): whether an LFU policy is set,
   * the milliseconds since its last access, its LFU counter.
   */
  usage(key: string): { readonly lfu: boolean; readonly idleMs: number; readonly frequency: number };
  /** Lua scripting: the script cache and the VM (scripting/scripts.ts). */
  readonly scripts: Scripts;
  /** Redis functions: FUNCTION's libraries and FCALL (scripting/functions.ts). */
  readonly functions: Functions;
  /** ACL users, the request's user and the ACL LOG (acl/acl.ts). */
  readonly acl: Acl;
  /** The node is one shard of several (protocol/shards.ts): CLUSTER's slot subcommands are served. */
  readonly cluster: boolean;
}

export interface Context {
  readonly db: Change;
  readonly now: number;
  readonly server: Server;
  /** The request's token's (a script's calls are held to it). */
  readonly permission: Permission;
  /** The ACL user the request runs as (AUTH user pass, or a bearer `user:pass`); none for the tokens' users. */
  readonly user?: AclUser;
  /** For a command flagged `evicts`: the dataset is over maxmemory after eviction. */
  readonly overMemory?: boolean;
  /** The call runs inside a MULTI (WATCH refuses to). */
  readonly inMulti?: boolean;
  /** A blocking command may answer BlockOn: a client's own call on the primary, not in a MULTI or a script. */
  readonly mayBlock?: boolean;
  /** The request's spending so far (a script's work and log are bounded per request). */
  readonly request?: RequestBudget;
}

export interface Command<P = unknown> {
  /** Lowercase name, as in Redis's COMMAND output. */
  readonly name: string;
  /** Redis's arity: N means exactly N argv entries (name included), -N at least N. */
  readonly arity: number;
  readonly flags: readonly Flag[];
  readonly keys: KeySpec | null;
  /**
   * A container command's subcommands (OBJECT ENCODING, CONFIG GET): each lowercase name with its
   * Redis arity (argv entries, the container's name included). An unknown one, or a wrong count,
   * is refused before the command runs or queues, as Redis refuses them (`object|encoding`).
   */
  readonly subcommands?: Readonly<Record<string, number>>;
  /**
   * Parses argv (without the name) once; throws RedisError for a syntax error. `name` is the
   * command's name as the client wrote it (argv[0]), which a few of Redis's errors repeat.
   */
  parse(args: readonly string[], name: string): P;
  /**
   * Keys a command names that its key spec cannot declare (SORT's key and STORE destination among
   * its options): checked against the key size limit as declared keys are, and the command is one
   * on data (a replica loading a full sync refuses it).
   */
  readonly otherKeys?: (argv: readonly string[]) => string[];
  /**
   * This call's flags where they depend on its arguments (Redis's getCommandFlags: an EVAL whose
   * script declares `no-writes` is a read); `flags` otherwise.
   */
  readonly flagsFor?: (argv: readonly string[]) => readonly Flag[];
  run(ctx: Context, parsed: P): Reply;
}

/** The flags of one call of `command`. */
export function flagsOf(command: Command, argv: readonly string[]): readonly Flag[] {
  return command.flagsFor?.(argv) ?? command.flags;
}

/** Declares a command module. @see https://redis.io/docs/latest/commands/ */
export function defineCommand<P>(spec: Command<P>): Command<P> {
  return spec;
}

/** Key positions shorthand: `key(1)` is one key at argv[1]. */
export const key = (first: number, last = first, step = 1): KeySpec => ({ first, last, step });

/** Keys counted by argv[at] and following it, after the keys of `before` (`numkeys(2, key(1))`: ZUNIONSTORE). */
export const numkeys = (at: number, before: KeySpec = { first: 1, last: 0, step: 1 }): KeySpec => ({ ...before, numkeys: at });

/** The keys a call names, according to its command's key spec. */
/**
 * The arguments that follow one of `words` (lowercase) among a command's options from argv index 2
 * on: destinations a key spec cannot declare (SORT's STORE, GEORADIUS's STORE and STOREDIST).
 */
export function keysAfter(argv: readonly string[], words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 2; i + 1 < argv.length; i++) if (words.includes(argv[i]!.toLowerCase())) out.push(argv[i + 1]!);
  return out;
}

export function keysOf(cmd: Command, argv: readonly string[]): string[] {
  if (!cmd.keys) return [];
  const { first, step } = cmd.keys;
  const last = cmd.keys.last < 0 ? argv.length + cmd.keys.last : cmd.keys.last;
  const out: string[] = [];
  for (let i = first; i <= last && i < argv.length; i += step) out.push(argv[i]!);
  if (cmd.keys.numkeys !== undefined) {
    const at = cmd.keys.numkeys;
    const n = /^[1-9][0-9]{0,8}$/.test(argv[at] ?? "") ? Number(argv[at]) : 0;
    for (let i = at + 1; i <= at + n && i < argv.length; i++) out.push(argv[i]!);
  }
  return out;
}

/** Every key a call names: its key spec's, then those its options name (`otherKeys`: SORT's STORE...). */
export function allKeysOf(cmd: Command, argv: readonly string[]): string[] {
  return [...keysOf(cmd, argv), ...(cmd.otherKeys?.(argv) ?? [])];
}

export const OK = "OK";
