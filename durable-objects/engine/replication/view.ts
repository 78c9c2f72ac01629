/** What the engine asks of the node's replication state (links, sync, sentinels, its role). */
import type { RedisError } from "../errors";
import type { Role } from "../keyspace";

/**
 * The one narrow view the engine has of the node's replication state (links, sync, sentinels),
 * given once at construction.
 */
export interface ReplicationView {
  /** Replicas acknowledged within `maxLagMs` (min-replicas-to-write). */
  goodReplicas(maxLagMs: number): number;
  /** On a replica: why data commands are refused now (LOADING, MASTERDOWN), or null. */
  replicaRefusal(): RedisError | null;
  /** On a master: why writes are refused now (no quorum of sentinels heard), or null. */
  writeRefusal(): RedisError | null;
  /** Role-specific INFO replication fields; `loading`: a replica's full sync is not done or not yet consistent. */
  info(): { slaves: string[]; master: [string, string | number][]; failoverState: string; loading?: boolean };
  /**
   * A replica is loading a full sync from this master: multi-key effects (RENAME, COPY of a
   * collection) are then logged as what they wrote, not as themselves (see replication/protocol.ts).
   */
  fullSyncInProgress(): boolean;
  /** This node's role now (the node's topology says it); absent: the options' `role`. */
  role?(): Role;
}

/** A node alone: no replicas, no refusals (engine tests). */
export const NO_REPLICATION: ReplicationView = {
  goodReplicas: () => 0,
  replicaRefusal: () => null,
  writeRefusal: () => null,
  info: () => ({ slaves: [], master: [], failoverState: "no-failover", loading: false }),
  fullSyncInProgress: () => false,
};
