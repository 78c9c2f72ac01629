/**
 * What the worker, the nodes and the sentinels say to a node: its RPC surface and the messages of
 * the replication protocol (described in engine/replication/protocol.ts). Contracts only, no runtime code.
 * (Typed by hand: the RPC stub's generated types cannot follow the recursive `Reply` type.)
 */
import type { SlotGuard, SlotWrites } from "../engine/slot-guard";
import type { WrittenKeys } from "./read-your-writes";
import type { Batch, BatchResult, Stats } from "../engine/engine";
import type { KeyspaceFigures } from "../engine/info";
import type { StorageUsage } from "../sqlite/sqlite-storage";
import type { Config } from "../engine/config";
import type { AclUser } from "../engine/acl/users";
import type { Refusal } from "../engine/acl/acl";
import type { Role } from "../engine/keyspace";
import type { EntryRun, Position, PsyncReply, SnapshotChunk, SnapshotCursor, SyncState } from "../engine/replication/protocol";
import type { Topology } from "./topology";
import type { ExportStart } from "../engine/export/rdb-export";
import type { PubSubMessage, SubscriptionCounts } from "./pubsub";

export interface ExecReply {
  readonly result: BatchResult;
  /** The history `result.offset` belongs to (the replid): with it, the response's sync token. */
  readonly replid: string;
  /** `primary:enam` or `replica:weur`, for the `Flaredis-Served-By` header. */
  readonly servedBy: string;
  /** On a replica: how old its data may be, in ms, for the `Flaredis-Staleness` header. */
  readonly staleness?: number;
  /**
   * Set when the batch was sent to this node as the primary and it is not (any more): nothing ran,
   * `result` is Redis's READONLY error, and this is the newest topology the node knows.
   */
  readonly notPrimary?: Topology;
}

/** What a client requires of a read served by a replica. */
export interface ReadPolicy {
  /** The replication position the client has seen (its sync token), or null for none. */
  readonly position: Position | null;
  /**
   * The client's own writes up to `position` (read-your-writes.ts): a replica behind `position`
   * that holds every one of them on the keys a read names may serve it at once. Absent: it waits.
   */
  readonly written?: WrittenKeys;
  /** How long the replica may wait to reach `position`. */
  readonly waitMs: number;
  /** The oldest data the client accepts, in ms (Flaredis-Max-Staleness), or null for any. */
  readonly maxStalenessMs: number | null;
}

/** PSYNC as a replica sends it; `replid` "?" for a replica that never synced. */
export interface PsyncRequest {
  readonly replica: string;
  readonly replid: string;
  readonly offset: number;
  /** True for the first PSYNC after (re)connecting: the one Redis counts in sync_partial_ok. */
  readonly handshake: boolean;
}

/** The master's CONFIG, sent to a replica whose version is older: settings apply everywhere. */
export interface ConfigUpdate {
  readonly values: Config;
  readonly version: number;
}

/**
 * The master's PSYNC answer, with its session (Redis's run_id): new at every start of the master,
 * and its topology. A node that is not the master answers `notmaster` (the replica learns the
 * newer topology from it).
 */
export type PsyncAnswer = (PsyncReply | { readonly kind: "notmaster" }) & {
  readonly session: string;
  readonly config: ConfigUpdate;
  readonly topology: Topology;
};

/** What the master pushes after a commit; entries may be none (null: a wake-up). */
export interface Push {
  readonly session: string;
  readonly replid: string;
  readonly entries: EntryRun | null;
  readonly masterOffset: number;
  /** The master's settings, when the replica's last ACK showed an older version. */
  readonly config?: ConfigUpdate;
  /** The topology the master serves in. */
  readonly topology: Topology;
  /** Messages published since the last push (protocol/pubsub.ts): delivered, never stored. */
  readonly messages?: readonly PubSubMessage[];
  /**
   * The master's next push comes within this many ms (its next heartbeat): a replica that hears
   * nothing for longer (and a grace) tells the sentinels. Absent: IDLE_PING_MS.
   */
  readonly nextWithinMs?: number;
}

/** A replica's answer to a push: its ACK (REPLCONF ACK). */
export interface Ack {
  readonly offset: number;
  /** The version of the settings the replica has. */
  readonly configVersion: number;
  /**
   * `down`: the replica's link is cut (fault injection); `fenced`: the replica knows a newer
   * topology, in which the sender is not the master. Either way the push was not taken.
   */
  readonly state: SyncState | "master" | "down" | "fenced";
  /** The topology the replica knows (the sender adopts it when newer). */
  readonly topology: Topology;
  /**
   * The keys the replica served reads of since its last ACK, with their counts (at most
   * REPORT_KEYS): the master counts them for its eviction's LRU/LFU. Absent when none.
   */
  readonly accessed?: [string, number][];
  /** For each of the push's messages, how many of the replica's subscribers got it. */
  readonly delivered?: readonly number[];
}

/**
 * Fault injection for tests (admin API, when FLAREDIS_ALLOW_FAULTS is on): cut the replication
 * link, slow it, drop the in-memory state as a crash does, or take the node down whole (it
 * answers nothing and sends nothing, as if its region were gone).
 */
export type Fault =
  | { readonly link: "down" | "up" }
  | { readonly restart: true }
  | { readonly delay: number }
  | { readonly down: boolean };

/** The reason an injected restart gives; the admin API recognises it. */
export const RESTART_REASON = "flaredis: restart injected";

/** One replica as its master sees it. */
export interface ReplicaStatus {
  readonly node: string;
  readonly link: "up" | "down";
  readonly offset: number;
  /** ms since the replica last had everything (0 when current), -1 before its first contact. */
  readonly lag_ms: number;
  /** Log entries sent to it (pushes and PSYNC CONTINUE) since this master started. */
  readonly entries_shipped: number;
}

/** What a node reports of itself and, when it is the master, of its replicas. */
export interface NodeStatus {
  readonly node: string;
  readonly role: Role;
  /** The newest topology this node knows. */
  readonly topology: Topology;
  readonly offset: number;
  readonly replid: string;
  /**
   * A replica: it has a whole keyspace (its full sync finished and is consistent), so it may be
   * promoted; a master: always.
   */
  readonly synced: boolean;
  /** A replica: its link to the master is up (INFO's master_link_status). */
  readonly linkUp: boolean;
  /** A replica: ms since it last had all its master announced (Flaredis-Staleness), or null. */
  readonly staleness: number | null;
  /** `replica-priority` (0: never promoted). */
  readonly priority: number;
  /** The epoch of a coordinated failover that fenced this master (it takes no writes), or null. */
  readonly fencedAt: number | null;
  /** Redis's master_failover_state, for INFO. */
  readonly failoverState: FailoverState;
  /** A master: its replicas; a replica: empty. */
  readonly replicas: readonly ReplicaStatus[];
}

/** What /metrics reads of a node in one call: its status and the counters INFO shows. */
export interface NodeMetrics {
  readonly status: NodeStatus;
  readonly uptimeSeconds: number;
  /** INFO's `loading`: a replica's full sync is under way or not yet consistent. */
  readonly loading: boolean;
  /** INFO's `connected_slaves`: replicas with a link up or loading a full sync. */
  readonly connectedSlaves: number;
  readonly stats: Stats;
  /** Calls per command name since the node started. */
  readonly commands: Readonly<Record<string, number>>;
  readonly keyspace: KeyspaceFigures;
  /** repl_backlog_size and repl_backlog_histlen. */
  readonly backlog: { readonly bytes: number; readonly histlen: number };
  /** SQLite rows read and written since the node started, and the database's size. */
  readonly storage: StorageUsage;
}

/** INFO's master_failover_state, as Redis names them. */
export type FailoverState = "no-failover" | "waiting-for-sync" | "failover-in-progress";

/** A sentinel's ping: who asks, and the newest topology it knows (a node adopts it when newer). */
export interface SentinelHello {
  readonly sentinel: string;
  readonly topology: Topology;
  /** Whether the ping counts towards the master's lease (false while the sentinel voted for, or leads, an automatic failover). */
  readonly lease?: boolean;
}

/** The answer to a fence: the offset and history the fenced master stopped at. */
export interface FenceReply {
  readonly fenced: boolean;
  readonly offset: number;
  readonly replid: string;
  /** The topology the node knows (newer than the fence's epoch when it refused). */
  readonly topology: Topology;
}

/** What nodes, sentinels and the worker call on a node. */
export interface NodeApi {
  /** `asPrimary`: the caller takes this node for the primary (see `ExecReply.notPrimary`). */
  execute(batch: Batch, asPrimary?: boolean): Promise<ExecReply>;
  read(batch: Batch, policy: ReadPolicy): Promise<ExecReply | null>;
  info(sections?: string[]): Promise<string>;
  digest(): Promise<{ node: string; offset: number; digest: string }>;
  /** Begins an RDB export of the master's keyspace at its offset (engine/export/rdb-export.ts). */
  exportBegin(): Promise<ExportStart | { error: string }>;
  /** The next bytes of export `id` (null: it ended), or why it stopped. */
  exportChunk(id: string, maxBytes: number): Promise<{ bytes: Uint8Array | null } | { error: string }>;
  /** Stops export `id` (its reader went away). */
  exportStop(id: string): Promise<void>;
  psync(request: PsyncRequest): Promise<PsyncAnswer>;
  snapshot(replica: string, cursor: SnapshotCursor): Promise<SnapshotChunk>;
  push(push: Push): Promise<Ack>;
  catchUp(): Promise<Ack>;
  /**
   * The node's status. `probe` (the admin topology): a master also pushes to its replicas now, so
   * that a link cut while idle shows at the next ask rather than at the next heartbeat (10 s).
   */
  status(probe?: boolean): Promise<NodeStatus>;
  /** For /metrics: the status and the counters, in one call. */
  metrics(): Promise<NodeMetrics>;
  /**
   * A move of hash slots (durable-objects/cluster/), on the shard's primary: sets its slot guard
   * (replicated with the configuration), or says it is not the primary.
   */
  setSlotGuard(guard: SlotGuard): Promise<{ ok: true } | { error: string }>;
  /** On the primary: the keys of hash slots [from, to] its log wrote after (replid, offset) (engine/slot-guard.ts). */
  slotWrites(replid: string, offset: number, from: number, to: number): Promise<SlotWrites | { error: string }>;
  /** A sentinel's ping (Redis Sentinel's PING + INFO): the node's status. */
  hello(hello: SentinelHello): Promise<NodeStatus>;
  storageUsage(): Promise<unknown>;
  fault(fault: Fault): Promise<void>;
  topology(): Promise<Topology>;
  /**
   * Takes `topology` if its epoch is larger than the one this node knows (a compare-and-set on the
   * epoch); answers the topology the node then knows. A replica refuses to become the master
   * unless it has a whole keyspace and, when `at` is given, holds exactly that position.
   */
  adopt(topology: Topology, at?: Position): Promise<Topology>;
  /**
   * A coordinated failover's first step: this master takes no write from now on (stored, so a
   * restart keeps it) until it adopts a topology of epoch `epoch` or later. Refused by a node that
   * is not the master or already knows such an epoch.
   */
  fence(epoch: number): Promise<FenceReply>;
  /** The subscriptions this node holds (PUBSUB on the primary gathers every node's). */
  subscriptions(): Promise<SubscriptionCounts>;
  /** The ACL users this node has (the worker's copy, to check calls at the edge: worker/acl.ts). */
  aclUsers(): Promise<readonly AclUser[]>;
  /** A refusal the worker made at the edge, for this node's ACL LOG (the primary's). */
  aclDenied(username: string, denial: Refusal, context: "toplevel" | "multi"): Promise<void>;
}
