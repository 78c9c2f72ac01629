/**
 * Shard groups (Redis Cluster's model over Durable Objects): with FLAREDIS_SHARDS = N, the 16,384
 * hash slots (engine/slot.ts `hashSlot`) are split over N groups, each a primary with its replicas,
 * its replication log, its sentinels and its failovers, in the topology's regions. Shard 1 is the
 * deployment as it is without sharding: its objects keep their names (the region), so a
 * deployment that turns sharding on keeps its data in shard 1. Shard k > 1's objects are named
 * `<region>.<k>`; an object reads its shard from its own name (`placeOf`), and calls only the
 * objects of its own shard (`objectName`).
 */
import { HASH_SLOTS } from "../engine/slot";

/** The most shard groups a deployment may have. */
export const MAX_SHARDS = 64;

export interface ShardEnv {
  /** How many shard groups the hash slots are split over (1 by default: no sharding). */
  FLAREDIS_SHARDS?: string;
}

/**
 * The configured number of shard groups.
 * @throws Error naming the bad value.
 */
export function shardsOf(env: ShardEnv): number {
  const value = env.FLAREDIS_SHARDS?.trim();
  if (value === undefined || value === "") return 1;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SHARDS) throw new Error(`flaredis: FLAREDIS_SHARDS must be an integer from 1 to ${MAX_SHARDS}, not '${value}'`);
  return n;
}

/** The Durable Object name of `region`'s node (or sentinel) in shard `shard`. */
export const objectName = (shard: number, region: string): string => (shard === 1 ? region : `${region}.${shard}`);

/** Where an object is, from its Durable Object name: its shard and its region. */
export function placeOf(name: string): { readonly shard: number; readonly region: string } {
  const m = /^(.*)\.([1-9]\d*)$/.exec(name);
  return m ? { shard: Number(m[2]), region: m[1]! } : { shard: 1, region: name };
}

/** A range of hash slots, both ends included, held by one shard. */
export interface SlotRange {
  readonly from: number;
  readonly to: number;
  readonly shard: number;
}

/** A slot map as it is stored and sent: its epoch (0: the configured one; each move adds one) and its ranges. */
export interface SlotMapState {
  readonly epoch: number;
  readonly ranges: readonly SlotRange[];
  /**
   * The newest moves' ranges (at most ARRIVALS), each with its target's log position once it held
   * all of them: a read of those slots by a client that has a sync token waits for that position
   * (read-your-writes of what the client wrote on the source before the move).
   */
  readonly arrivals?: readonly Arrival[];
}

/** Slots [from, to] moved to `shard`, whose primary's log held every copy at `replid`:`offset`. */
export interface Arrival extends SlotRange {
  readonly replid: string;
  readonly offset: number;
}

/** How many moves' arrivals a map keeps. */
const ARRIVALS = 32;

/**
 * The slots' owners: the ranges in slot order, covering every slot. The configured map is made
 * from the shard count, as `redis-cli --cluster create` splits them: shard k (1-based) holds
 * [floor((k-1) * 16384 / N), floor(k * 16384 / N) - 1], at epoch 0; a move of slots
 * (durable-objects/cluster/) makes the next epoch's.
 */
export class SlotMap {
  private readonly owners: Uint8Array;
  readonly ranges: readonly SlotRange[];
  readonly epoch: number;
  readonly arrivals: readonly Arrival[];

  constructor(state: SlotMapState) {
    this.epoch = state.epoch;
    this.ranges = state.ranges;
    this.arrivals = state.arrivals ?? [];
    this.owners = new Uint8Array(HASH_SLOTS);
    for (const r of state.ranges) this.owners.fill(r.shard, r.from, r.to + 1);
  }

  static even(shards: number): SlotMap {
    return new SlotMap({
      epoch: 0,
      ranges: Array.from({ length: shards }, (_, i) => ({
        from: Math.floor((i * HASH_SLOTS) / shards),
        to: Math.floor(((i + 1) * HASH_SLOTS) / shards) - 1,
        shard: i + 1,
      })),
    });
  }

  /** The map at the next epoch, with slots [from, to] held by `shard`, whose log held them all at `at`. */
  moved(from: number, to: number, shard: number, at?: { readonly replid: string; readonly offset: number }): SlotMap {
    const owners = this.owners.slice();
    owners.fill(shard, from, to + 1);
    const ranges: SlotRange[] = [];
    for (let slot = 0; slot < HASH_SLOTS; slot++) {
      const last = ranges[ranges.length - 1];
      if (last && last.shard === owners[slot]) ranges[ranges.length - 1] = { ...last, to: slot };
      else ranges.push({ from: slot, to: slot, shard: owners[slot]! });
    }
    const arrivals = at ? [...this.arrivals, { from, to, shard, replid: at.replid, offset: at.offset }].slice(-ARRIVALS) : this.arrivals;
    return new SlotMap({ epoch: this.epoch + 1, ranges, arrivals });
  }

  /** The target's position a read of `slot` in `shard` waits for (the newest arrival of it there), or null. */
  arrivalOf(shard: number, slot: number): Arrival | null {
    for (let i = this.arrivals.length - 1; i >= 0; i--) {
      const a = this.arrivals[i]!;
      if (a.from <= slot && slot <= a.to) return a.shard === shard ? a : null;
    }
    return null;
  }

  /** Whether shard `shard` holds every slot of [from, to]. */
  holds(shard: number, from: number, to: number): boolean {
    for (let slot = from; slot <= to; slot++) if (this.owners[slot] !== shard) return false;
    return true;
  }

  get state(): SlotMapState {
    return { epoch: this.epoch, ranges: this.ranges, arrivals: this.arrivals };
  }

  /** The shard that holds hash slot `slot`. */
  shardOf(slot: number): number {
    return this.owners[slot]!;
  }

  /** The largest shard number (a sync token has a part for each up to it). */
  get top(): number {
    return Math.max(...this.ranges.map((r) => r.shard));
  }

  /** The shards, 1 to N. */
  get shards(): number[] {
    return [...new Set(this.ranges.map((r) => r.shard))].sort((a, b) => a - b);
  }

  /** The range that holds `slot`. */
  rangeOf(slot: number): SlotRange {
    return this.ranges.find((r) => r.from <= slot && slot <= r.to)!;
  }
}

let cached: { shards: number; map: SlotMap } | null = null;

/** The configured slot map (the vars do not change within an isolate). */
export function configuredSlotMap(env: ShardEnv): SlotMap {
  const shards = shardsOf(env);
  if (cached?.shards !== shards) cached = { shards, map: SlotMap.even(shards) };
  return cached.map;
}
