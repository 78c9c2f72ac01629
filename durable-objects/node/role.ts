/**
 * What a node asks of its role, whichever it holds: the node never asks which one it is. A
 * `PrimaryRole` serves the replicas (PSYNC, snapshots, pushes, WAIT, heartbeats) and hears the
 * sentinels; a `ReplicaRole` syncs from its master and serves the reads it can. Each answers
 * every question here, the other role's with what a node in its role has (a master has no link
 * to a master; a replica has no replicas). One object per time the node holds a role: a topology
 * change that changes it swaps the object whole (`Node.adoptTopology`).
 */
import type { SlotGuard } from "../engine/slot-guard";
import type { Batch, BatchResult } from "../engine/engine";
import type { RedisError } from "../engine/errors";
import type { Role as RedisRole } from "../engine/keyspace";
import type { SnapshotChunk, SnapshotCursor } from "../engine/replication/protocol";
import type { Ack, ExecReply, PsyncAnswer, PsyncRequest, Push, ReadPolicy, ReplicaStatus } from "../protocol/node-api";
import type { Topology } from "../protocol/topology";
import type { Timer } from "./node";

export interface Role {
  /** INFO's name for it. */
  readonly kind: RedisRole;
  /** Starts its timers and loops. */
  start(): Promise<void>;
  /** The node holds another role now: releases what waits on this one. */
  stop(): void;
  /**
   * Whether this object goes on in topology `t`, where this node is `role` (a master that stays
   * the master pushes `t` to its replicas; a replica that follows the same master is unchanged);
   * false: the node makes a new role object.
   */
  carryInto(t: Topology, role: RedisRole): boolean;

  // ---- Clients -----------------------------------------------------------------------------
  /** Before a batch runs: a master makes sure of its replicas and sentinels (the write rules). */
  beforeBatch(batch: Batch): Promise<void>;
  /** After `batch` ran (`wrote`: it moved the log): a master replicates it, wakes blocked clients, answers its WAITs and blocks. */
  afterBatch(result: BatchResult, wrote: boolean, batch: Batch): Promise<void>;
  /** A read with the client's policy (see `Node.read`); null: this node cannot serve it now. */
  read(batch: Batch, policy: ReadPolicy): Promise<ExecReply | null>;

  // ---- Replication messages ----------------------------------------------------------------
  psync(request: PsyncRequest): PsyncAnswer;
  /** @throws when this node is not the master */
  snapshot(replica: string, cursor: SnapshotCursor): SnapshotChunk;
  push(push: Push): Promise<Ack>;
  catchUp(): Promise<Ack>;

  // ---- What the engine and the status read -------------------------------------------------
  /** Replicas that acknowledged within `maxLagMs` (min-replicas-to-write). */
  goodReplicas(maxLagMs: number): number;
  /** Why a replica refuses data commands now (LOADING, MASTERDOWN), or null. */
  replicaRefusal(): RedisError | null;
  /** Why a master refuses writes now (NOREPLICAS, NOQUORUM), or null. */
  writeRefusal(): RedisError | null;
  /** A replica of this master is loading a full sync (RENAME and COPY are then logged whole). */
  fullSyncInProgress(): boolean;
  /** INFO replication's `slaveN:` lines. */
  slaveLines(): string[];
  /** INFO replication's fields of a replica. */
  infoFields(): [string, string | number][];
  /** LOADING: a replica without a whole, consistent keyspace. */
  loading(): boolean;
  /** `master_link_status:up`. */
  linkUp(): boolean;
  /** How old a replica's data may be (ms), or null for a master. */
  staleness(): number | null;
  /** The replicas a master knows, for the admin topology. */
  replicas(): ReplicaStatus[];

  // ---- Sentinels, timers and faults --------------------------------------------------------
  /** A sentinel pinged this node. */
  heardFrom(sentinel: string): void;
  /** Sends the replicas what they miss now, rather than at the next heartbeat. */
  pushToReplicas(): void;
  /** The slot guard changed: clients blocked on keys it refuses are answered its refusal (the worker asks the slot's shard). */
  slotsGuarded(guard: SlotGuard): void;
  /** The role's share of the node's alarm: `due` are the timers that fired. */
  alarm(due: ReadonlySet<Timer>, now: number): Promise<void>;
  /** A fault cut the link to the master: the next message resyncs. */
  cut(): void;
  /** A fault was undone: push to the replicas, or sync with the master. */
  resume(): void;
}
