/**
 * The sorted sets' blocking commands (engine/blocking.ts): BZPOPMIN, BZPOPMAX, BZMPOP. Each
 * takes what its non-blocking twin would, and is logged as ZREM.
 */
import { blockingMpop, blockingPop } from "../../../blocking";
import { scoreReply } from "../score";
import { Zset, bulk } from "../zset";
import { pop, zmpop } from "./zpop";

const popCommand = (name: string, max: boolean) =>
  blockingPop(name, (db, k) => {
    const zset = Zset.find(db, k);
    if (zset === null) return null;
    const [row] = pop(zset, 1, max);
    return [bulk(k), bulk(row!.field), scoreReply(row!.score ?? 0)];
  });

/** BZPOPMIN key [key ...] timeout → [key, member, score] @see https://redis.io/docs/latest/commands/bzpopmin/ */
export const bzpopmin = popCommand("bzpopmin", false);
/** BZPOPMAX key [key ...] timeout → [key, member, score] @see https://redis.io/docs/latest/commands/bzpopmax/ */
export const bzpopmax = popCommand("bzpopmax", true);

/** BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] @see https://redis.io/docs/latest/commands/bzmpop/ */
export const bzmpop = blockingMpop("bzmpop", zmpop);
