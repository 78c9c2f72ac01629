/** What the worker calls on the cluster object (durable-objects/cluster/flaredis-cluster.ts). */
import type { Move } from "../cluster/mover";
import type { SlotMapState } from "./shards";

/** A move asked for: hash slots [lo, hi] from shard `from` to shard `to`. */
export interface ReshardRequest {
  readonly from: number;
  readonly to: number;
  readonly lo: number;
  readonly hi: number;
}

export interface ReshardStatus {
  readonly map: SlotMapState;
  /** The move under way, or null. */
  readonly move: Move | null;
  /** The moves that ended, newest last (at most 20). */
  readonly done: readonly (ReshardRequest & { readonly copied: number; readonly restarts: number; readonly epoch: number })[];
  /** The last step's error, when it failed (it is tried again). */
  readonly lastError: string | null;
}

export interface ClusterApi {
  /** The slot map now. */
  slotMap(): Promise<SlotMapState>;
  /** Begins a move; an error when one runs already or the request is not one the map allows. */
  reshard(request: ReshardRequest): Promise<ReshardStatus | { error: string }>;
  status(): Promise<ReshardStatus>;
}
