/**
 * The cluster object: one per deployment (named "cluster"), Redis Cluster's configuration for
 * Flaredis's shard groups. It keeps the slot map (protocol/shards.ts: the configured one, epoch 0,
 * until a move makes the next) and runs the moves of hash slots between shards (mover.ts) from
 * its alarm, a step at a time, each step's state stored. The worker asks it for the map when a
 * node refuses a call for a slot that moved (engine/slot-guard.ts).
 */
import { DurableObject } from "cloudflare:workers";
import type { Outcome } from "../engine/dispatch";
import type { SlotGuard, SlotWrites } from "../engine/slot-guard";
import { HASH_SLOTS } from "../engine/slot";
import type { ExecReply, NodeApi } from "../protocol/node-api";
import type { ClusterApi, ReshardRequest, ReshardStatus } from "../protocol/cluster-api";
import { MAX_SHARDS, type ShardEnv, SlotMap, type SlotMapState, configuredSlotMap } from "../protocol/shards";
import { type Topology, type TopologyEnv, newerTopology, topologyOf } from "../protocol/topology";
import { type TransportEnv, rpcTransport } from "../node/transport";
import { systemClock } from "../engine/clock";
import { type Move, type MoveHost, type ShardOps, newMove, step, unfreeze } from "./mover";

export type ClusterEnv = TopologyEnv & TransportEnv & ShardEnv;

/** How long one alarm runs steps before it hands over to the next (other calls get their turn). */
const ALARM_BUDGET_MS = 2000;
/** After a step failed (a primary down, a failover under way): the next try. */
const RETRY_MS = 1000;
/**
 * Failed rounds of a freeze (the target down, or refusing the copies) after which the source's
 * range is given back to its clients and the move goes on catching up: a freeze that cannot end
 * would refuse those clients for as long.
 */
const FREEZE_FAILURES = 3;

type Done = ReshardStatus["done"][number];

export class FlaredisCluster extends DurableObject<ClusterEnv> implements ClusterApi {
  private map!: SlotMap;
  private move: Move | null = null;
  private guards: Record<number, SlotGuard> = {};
  private done: Done[] = [];
  private lastError: string | null = null;
  /** Steps failed in a row. */
  private failures = 0;
  /** The newest topology known of each shard (its primary is asked). */
  private readonly topologies = new Map<number, Topology>();

  constructor(ctx: DurableObjectState, env: ClusterEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const stored = await ctx.storage.get<SlotMapState>("map");
      const configured = configuredSlotMap(env);
      this.map = stored && stored.epoch > configured.epoch ? new SlotMap(stored) : configured;
      this.move = (await ctx.storage.get<Move>("move")) ?? null;
      this.guards = (await ctx.storage.get<Record<number, SlotGuard>>("guards")) ?? {};
      this.done = (await ctx.storage.get<Done[]>("done")) ?? [];
    });
  }

  async slotMap(): Promise<SlotMapState> {
    return this.map.state;
  }

  async status(): Promise<ReshardStatus> {
    return { map: this.map.state, move: this.move, done: this.done, lastError: this.lastError };
  }

  async reshard(r: ReshardRequest): Promise<ReshardStatus | { error: string }> {
    const integer = (n: unknown, min: number, max: number) => Number.isSafeInteger(n) && (n as number) >= min && (n as number) <= max;
    if (!integer(r.lo, 0, HASH_SLOTS - 1) || !integer(r.hi, r.lo, HASH_SLOTS - 1)) return { error: `slots are a range lo..hi within 0..${HASH_SLOTS - 1}` };
    if (!integer(r.from, 1, MAX_SHARDS) || !integer(r.to, 1, MAX_SHARDS) || r.from === r.to) return { error: `shards are two different numbers from 1 to ${MAX_SHARDS}` };
    if (this.move) return { error: `a move is under way: slots ${this.move.lo}-${this.move.hi} from shard ${this.move.from} to shard ${this.move.to}` };
    if (!this.map.holds(r.from, r.lo, r.hi)) return { error: `shard ${r.from} does not hold every slot of ${r.lo}-${r.hi}` };
    this.move = newMove(r.from, r.to, r.lo, r.hi);
    this.lastError = null;
    await this.ctx.storage.put("move", this.move);
    await this.ctx.storage.setAlarm(systemClock.now());
    return this.status();
  }

  override async alarm(): Promise<void> {
    const started = systemClock.now();
    while (this.move && systemClock.now() - started < ALARM_BUDGET_MS) {
      try {
        const result = await step(this.move, this.ops, this.host);
        if (result === "done") {
          const { from, to, lo, hi, copied, restarts } = this.move;
          this.done = [...this.done, { from, to, lo, hi, copied, restarts, epoch: this.map.epoch }].slice(-20);
          this.move = null;
          await this.ctx.storage.put("done", this.done);
          await this.ctx.storage.delete("move");
        } else await this.ctx.storage.put("move", this.move);
        this.lastError = null;
        this.failures = 0;
      } catch (e) {
        this.lastError = String(e);
        this.failures++;
        console.warn("flaredis cluster: a step of the move failed; trying again:", e);
        // What the failed step did is stored step by step: the next try starts from the stored move.
        this.move = (await this.ctx.storage.get<Move>("move")) ?? null;
        const move = this.move;
        if (move?.phase === "freeze" && this.failures >= FREEZE_FAILURES) {
          try {
            await unfreeze(move, this.ops);
            await this.ctx.storage.put("move", move);
          } catch (e2) {
            console.warn("flaredis cluster: the range stays frozen:", e2);
          }
        }
        await this.ctx.storage.setAlarm(systemClock.now() + RETRY_MS);
        return;
      }
    }
    if (this.move) await this.ctx.storage.setAlarm(systemClock.now());
  }

  /** What a step needs of this object: the map as the step begins. */
  private get host(): MoveHost {
    return {
      map: this.map,
      publish: async (map) => {
        await this.ctx.storage.put("map", map.state);
        this.map = map;
      },
      position: (shard) => this.position(shard),
    };
  }

  // ---- The shards' primaries ---------------------------------------------------------------

  private topologyOf(shard: number): Topology {
    return this.topologies.get(shard) ?? topologyOf(this.env);
  }

  private node(shard: number): NodeApi {
    return rpcTransport(this.env, shard).node(this.topologyOf(shard).primary);
  }

  /** Calls the shard's primary; once more on the one a refusal names (a failover happened). */
  private async onPrimary<T>(shard: number, call: (node: NodeApi) => Promise<T>, refused: (answer: T) => Topology | null): Promise<T> {
    for (let retried = false; ; retried = true) {
      const answer = await call(this.node(shard));
      const newer = refused(answer);
      const learned = newer ? newerTopology(this.topologyOf(shard), newer) : null;
      if (!learned || retried) return answer;
      this.topologies.set(shard, learned);
    }
  }

  private async learned(shard: number): Promise<void> {
    const topology = await this.node(shard).topology();
    const learned = newerTopology(this.topologyOf(shard), topology);
    if (learned) this.topologies.set(shard, learned);
  }

  private async position(shard: number): Promise<{ replid: string; offset: number }> {
    await this.learned(shard);
    const status = await this.node(shard).status();
    if (status.role !== "master") throw new Error(`cluster: shard ${shard}'s node ${status.node} is not its primary`);
    return { replid: status.replid, offset: status.offset };
  }

  private readonly ops: ShardOps = {
    run: async (shard, commands) => {
      const batch = { mode: "pipeline" as const, commands, permission: "admin" as const, slotMove: true as const };
      const reply = await this.onPrimary<ExecReply>(shard, (n) => n.execute(batch, true), (r) => r.notPrimary ?? null);
      if (reply.notPrimary || "error" in reply.result) throw new Error(`cluster: shard ${shard} refused the move's calls: ${"error" in reply.result ? reply.result.error : "not the primary"}`);
      return reply.result.outcomes as Outcome[];
    },
    guard: async (shard) => this.guards[shard] ?? { frozen: [], moved: [] },
    setGuard: async (shard, guard) => {
      await this.learned(shard);
      const answer = await this.node(shard).setSlotGuard(guard);
      if ("error" in answer) throw new Error(`cluster: shard ${shard}'s guard: ${answer.error}`);
      this.guards = { ...this.guards, [shard]: guard };
      await this.ctx.storage.put("guards", this.guards);
    },
    writes: async (shard, replid, offset, from, to) => {
      await this.learned(shard);
      const answer = await this.node(shard).slotWrites(replid, offset, from, to);
      if ("error" in answer) throw new Error(`cluster: shard ${shard}'s writes: ${answer.error}`);
      return answer as SlotWrites;
    },
  };
}
