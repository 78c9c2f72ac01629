// ROLE in Redis's shape from a node's replication state: a master lists only the replicas online
// (not one still loading a full sync, as Redis's roleCommand skips it); a replica without a link
// to its master answers offset -1. Both shapes through real nodes are in test/replication/replication.test.ts.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../durable-objects/engine/clock";
import { Engine } from "../../durable-objects/engine/engine";
import type { ReplicationView } from "../../durable-objects/engine/replication/view";
import { MemoryStorage } from "../../durable-objects/engine/memory-storage";
import type { Role } from "../../durable-objects/engine/keyspace";

const text = (x: unknown): unknown => (x instanceof Uint8Array ? new TextDecoder().decode(x) : Array.isArray(x) ? x.map(text) : x);

function roleOf(role: Role, info: ReturnType<ReplicationView["info"]>): unknown {
  const view: ReplicationView = { goodReplicas: () => 0, replicaRefusal: () => null, writeRefusal: () => null, info: () => info, fullSyncInProgress: () => false };
  const engine = new Engine(new MemoryStorage(), { clock: new ManualClock(1), random: { next: () => 0.5, hex: (n) => "ab".repeat(n) }, role, replication: view });
  const out = engine.run({ mode: "single", commands: [["ROLE"]], permission: "admin" }) as { outcomes: { result?: unknown; error?: string }[] };
  return text(out.outcomes[0]!.result ?? out.outcomes[0]!.error);
}

describe("ROLE", () => {
  it("a master lists its online replicas, not one loading a full sync", () => {
    const slaves = ["ip=wnam,port=0,state=online,offset=0,lag=0", "ip=weur,port=0,state=wait_bgsave,offset=0,lag=0"];
    expect(roleOf("master", { slaves, master: [], failoverState: "no-failover" })).toEqual(["master", 0, [["wnam", "0", "0"]]]);
  });

  it("a replica answers its link's state, and offset -1 without a link", () => {
    const master = (link: string, sync: number): [string, string | number][] => [["master_host", "enam"], ["master_port", 0], ["master_link_status", link], ["master_sync_in_progress", sync]];
    expect(roleOf("slave", { slaves: [], master: master("up", 0), failoverState: "no-failover" })).toEqual(["slave", "enam", 0, "connected", 0]);
    expect(roleOf("slave", { slaves: [], master: master("down", 0), failoverState: "no-failover" })).toEqual(["slave", "enam", 0, "connect", -1]);
    expect(roleOf("slave", { slaves: [], master: master("down", 1), failoverState: "no-failover" })).toEqual(["slave", "enam", 0, "sync", -1]);
  });
});
