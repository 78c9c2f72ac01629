/**
 * The coordinated failover (POST /admin/failover, and Redis's FAILOVER command alone in a request):
 * the coordinator, the first configured sentinel that answers, is elected for a new epoch, fences
 * the primary (stored: it takes no write from then on), waits for the target to reach the
 * primary's exact offset, promotes it under that epoch, and the old primary and the other replicas
 * follow with a partial sync. No acknowledged write is lost. A failover that cannot happen
 * (another one under way, an election lost, a target that does not catch up) changes nothing.
 */
import { parseInt64 } from "../durable-objects/engine/args";
import type { FailoverAnswer } from "../durable-objects/protocol/sentinel-api";
import { sentinelsOf } from "../durable-objects/protocol/topology";
import type { Topology } from "../durable-objects/protocol/topology";
import { type Env, nodeStub, sentinelStub } from "./env";
import { RedisError, errors } from "../durable-objects/engine/errors";
import { RequestError } from "./errors";
import { routerFor } from "./routing";
import { placeOf } from "../durable-objects/protocol/shards";
import { slotMapOf } from "./slot-map";

/**
 * Switches the primary to the replica `to`. @returns the new topology and the offset it took over at
 * @throws RequestError: 503 without sentinels or when none answers, the failover's own status (409) when it cannot happen
 */
export async function coordinatedFailover(env: Env, to: string, shard = 1): Promise<{ topology: Topology; offset: number }> {
  const { sentinels } = sentinelsOf(env);
  if (sentinels.length === 0) throw new RequestError("ERR no sentinels are configured (FLAREDIS_SENTINELS)", 503);
  let answer: FailoverAnswer | null = null;
  for (const s of sentinels) {
    try {
      answer = await sentinelStub(env, s, shard).failover(to);
      break;
    } catch (e) {
      // A sentinel that is down cannot coordinate: the next one does. Any other failure leaves
      // the failover to the coordinator's alarm, which finishes or undoes it.
      if (!String(e).includes("unreachable")) throw new RequestError(`ERR the failover was interrupted (${String(e)}); see /admin/topology`, 503);
    }
  }
  if (answer === null) throw new RequestError("ERR no sentinel can be reached", 503);
  routerFor(env, shard).learnTopology(answer.topology);
  if (!answer.ok) throw new RequestError(answer.error, answer.status);
  return { topology: answer.topology, offset: answer.offset };
}

/**
 * FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds], as redis-server 7.0 reads it:
 * TO names the replica by its node (the port is read and not used), `enam.2` for shard 2's
 * (protocol/shards.ts); without TO, shard 1's replica with the largest offset among those whose
 * link is up, as Redis picks. It answers OK once the switch
 * is done (Redis answers at once and switches after). TIMEOUT and FORCE are checked as Redis checks
 * them and change nothing: the switch never loses an acknowledged write, and gives up (changing
 * nothing) when the target has not caught up within 5 s. ABORT: the switch is not interruptible.
 * Its errors are Redis's, their HTTP status worker/errors.ts's (400, 409 or 503 from the switch).
 */
export async function failoverCommand(env: Env, argv: readonly string[]): Promise<"OK"> {
  let to: string | null = null;
  let force = false;
  let abort = false;
  let timeout: bigint | null = null;
  for (let i = 1; i < argv.length; i++) {
    const option = argv[i]!.toUpperCase();
    if (option === "TO" && i + 2 < argv.length && to === null) {
      to = argv[i + 1]!;
      parseInt64(argv[i + 2]!); // a port, as Redis reads it
      i += 2;
      if (argv[i + 1]?.toUpperCase() === "FORCE") {
        force = true;
        i++;
      }
    } else if (option === "ABORT" && !abort) abort = true;
    else if (option === "TIMEOUT" && i + 1 < argv.length && timeout === null) {
      timeout = parseInt64(argv[++i]!);
      if (timeout <= 0n) throw new RedisError("ERR FAILOVER timeout must be greater than 0");
    } else throw errors.syntax();
  }
  if (abort) {
    if (to !== null || timeout !== null) throw errors.syntax();
    throw new RedisError("ERR FAILOVER ABORT is not supported by Flaredis (a coordinated failover runs to its end, or the sentinels undo it)");
  }
  if (force && (to === null || timeout === null)) throw new RedisError("ERR FAILOVER with force option requires both a timeout and target HOST and IP.");
  const place = to === null ? { shard: 1, region: null } : placeOf(to);
  if (place.shard > slotMapOf(env).top) throw new RedisError("ERR FAILOVER target HOST and PORT is not a replica.");
  const { primary, replicas } = routerFor(env, place.shard).currentTopology();
  to = place.region;
  if (to === null) {
    const status = await nodeStub(env, primary).status();
    const up = status.replicas.filter((r) => r.link === "up").sort((a, b) => b.offset - a.offset || (a.node < b.node ? -1 : 1));
    if (up.length === 0) throw new RedisError("ERR FAILOVER requires connected replicas.");
    to = up[0]!.node;
  } else if (!replicas.includes(to)) throw new RedisError("ERR FAILOVER target HOST and PORT is not a replica.");
  await coordinatedFailover(env, to, place.shard);
  return "OK";
}
