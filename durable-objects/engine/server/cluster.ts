import { parseInteger } from "../args";
import { type Bytes, toBytes } from "../bytes";
import { defineCommand } from "../command";
import type { Change } from "../keyspace";
import { RedisError, errors } from "../errors";
import { HASH_SLOTS, SLOT_SPAN, hashSlot, hashSlotAt } from "../slot";

/**
 * Visits the keys of hash slot `slot` the change sees, in storage order, until `visit` answers
 * false: reads the slot's range of the keyspace only.
 */
function eachKeyInSlot(db: Change, slot: number, visit: (key: string) => boolean): void {
  for (let cursor = slot * SLOT_SPAN; ; ) {
    const page = db.scan(cursor, 1000);
    for (const row of page.rows) if (hashSlotAt(row.slot) === slot && !visit(row.key)) return;
    if (page.next === 0 || hashSlotAt(page.next) > slot) return;
    cursor = page.next;
  }
}

/** A slot argument: an integer in [0, 16384), else `invalid`. */
function slotArg(arg: string, invalid: () => RedisError): number {
  const slot = parseInteger(arg);
  if (slot < 0 || slot >= HASH_SLOTS) throw invalid();
  return slot;
}

/**
 * CLUSTER: on a node of a sharded deployment (protocol/shards.ts) the subcommands about a node's
 * own keys, KEYSLOT, COUNTKEYSINSLOT and GETKEYSINSLOT (a slot's keys are one range of the keyspace,
 * slot.ts); the worker answers the rest (worker/cluster-commands.ts), as it knows the shards.
 * Without shards, Redis's answer to a server that is not a cluster node, to every subcommand.
 * @see https://redis.io/docs/latest/commands/cluster-keyslot/
 */
export default defineCommand<readonly string[]>({
  name: "cluster",
  arity: -2,
  flags: ["readonly"],
  keys: null,
  subcommands: {
    addslots: -3, addslotsrange: -4, bumpepoch: 2, "count-failure-reports": 3, countkeysinslot: 3, delslots: -3, delslotsrange: -4,
    failover: -2, flushslots: 2, forget: 3, getkeysinslot: 4, help: 2, info: 2, keyslot: 3, links: 2, meet: -4, myid: 2, nodes: 2,
    replicas: 3, replicate: 3, reset: -2, saveconfig: 2, "set-config-epoch": 3, setslot: -4, shards: 2, slaves: 3, slots: 2,
  },
  parse: (args) => args,
  run: ({ db, server }, [sub, ...rest]) => {
    if (!server.cluster) throw new RedisError("ERR This instance has cluster support disabled");
    switch (sub!.toLowerCase()) {
      case "keyslot":
        return hashSlot(rest[0]!);
      case "countkeysinslot": {
        let n = 0;
        eachKeyInSlot(db, slotArg(rest[0]!, () => new RedisError("ERR Invalid slot")), () => ++n > 0);
        return n;
      }
      case "getkeysinslot": {
        const invalid = () => new RedisError("ERR Invalid slot or number of keys");
        const slot = slotArg(rest[0]!, invalid);
        const limit = parseInteger(rest[1]!);
        if (limit < 0) throw invalid();
        const keys: Bytes[] = [];
        if (limit > 0) eachKeyInSlot(db, slot, (key) => keys.push(toBytes(key)) < limit);
        return keys;
      }
      case "info":
      case "slots":
      case "shards":
      case "nodes":
      case "myid":
        throw errors.unsupported(`cluster ${sub}`, "the worker answers it in a pipeline or a request of its own, not in a script or a transaction");
      default:
        throw errors.unsupported(`cluster ${sub}`, "the shards' hash slots are the deployment's configuration (FLAREDIS_SHARDS)");
    }
  },
});
