/**
 * What the engine (engine.ts) takes and answers: a batch of calls with who sent it, its result,
 * the engine's options, and INFO's counters.
 */
import type { AclAuth } from "./acl/acl";
import type { Clock, Random } from "./clock";
import type { Permission } from "./command";
import type { Outcome } from "./dispatch";
import type { Role } from "./keyspace";
import type { ReplicationView } from "./replication/view";
import type { Watch } from "./watch";

export type Mode = "single" | "pipeline" | "multi";

export interface Batch {
  readonly mode: Mode;
  /** argv per call, command name first. */
  readonly commands: readonly (readonly string[])[];
  readonly permission: Permission;
  /** The ACL user it runs as (a bearer `user:pass`, or AUTH at the proxy), its password hashed; none for the tokens' users. */
  readonly user?: AclAuth;
  /**
   * A MULTI's WATCH, sessionless: the keys, and the replication position at which the client
   * watched them (the sync token of its WATCH's response). EXEC runs only if none of them was
   * written after it.
   */
  readonly watch?: Watch;
  /** Blocking commands may wait (their BlockOn answered to the node): a client's batch on the primary. */
  readonly blocking?: boolean;
  /**
   * A move of hash slots between shards copies or drops their keys (durable-objects/cluster/):
   * the slot guard (slot-guard.ts) does not apply. Set by the cluster object only, never from a request.
   */
  readonly slotMove?: true;
}

/**
 * The outcomes, or one error for a MULTI rejected as a whole; `offset` is the log position seen.
 * `forMaster`: a replica's reads of which one would have written on a master (`Change.forMaster`).
 * `aborted`: a MULTI whose watched keys were written since they were watched ran nothing (EXEC's nil).
 */
export type BatchResult =
  | { outcomes: Outcome[]; offset: number; forMaster?: true; aborted?: true }
  | { error: string; offset: number };

export interface EngineOptions {
  readonly clock: Clock;
  readonly random: Random;
  readonly role?: Role;
  /** Largest key in bytes (32 KiB). */
  readonly maxKeyBytes?: number;
  /** Largest string value in bytes (512 MiB, Redis's proto-max-bulk-len). */
  readonly maxValueBytes?: number;
  /** Budget of the in-memory hot cache in bytes. */
  readonly cacheBytes?: number;
  /** Node name for INFO (`enam`, `weur`...). */
  readonly node?: string;
  /** Where a script's redis.log writes (the node's console); nowhere without one. */
  readonly log?: (level: number, message: string) => void;
  /** INFO's blocked_clients: the clients the node holds on keys now (node/blocked.ts). */
  readonly blockedClients?: () => number;
  /** The most counted work one request's scripts may do together, in ms (scripting/scripts.ts; 20,000). */
  readonly scriptWorkPerRequestMs?: number;
  /** What the node knows of replication; none for an engine alone. */
  readonly replication?: ReplicationView;
  /** The node is one shard of several (protocol/shards.ts); false by default. */
  readonly cluster?: boolean;
}

/** INFO stats counters, since the node (re)started, as Redis counts them. */
export interface Stats {
  expiredKeys: number;
  expiredSubkeys: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  commandsProcessed: number;
  syncFull: number;
  syncPartialOk: number;
  syncPartialErr: number;
  evictedKeys: number;
}
