/** The sorted set type: its commands, effects, and how it is written whole and named by OBJECT ENCODING. */
import type { Command } from "../../command";
import type { TypeModule } from "..";
import { bzmpop, bzpopmax, bzpopmin } from "./commands/bzpop";
import zadd, { zincrby } from "./commands/zadd";
import zcard, { zcount, zlexcount } from "./commands/zcard";
import zpopmin, { zmpop, zpopmax } from "./commands/zpop";
import zrandmember from "./commands/zrandmember";
import zrange, { zrangebylex, zrangebyscore, zrangestore, zrevrange, zrevrangebylex, zrevrangebyscore } from "./commands/zrange";
import zrank, { zrevrank } from "./commands/zrank";
import zrem from "./commands/zrem";
import zremrangebyrank, { zremrangebylex, zremrangebyscore } from "./commands/zremrange";
import zscan from "./commands/zscan";
import zscore, { zmscore } from "./commands/zscore";
import zunion, { zdiff, zdiffstore, zinter, zintercard, zinterstore, zunionstore } from "./commands/zsetops";
import { restoreZset, zsetEffects } from "./effects";
import { zsetEncoding } from "./zset";

const commands: Command<any>[] = [
  zadd, zincrby, zrem, zcard, zcount, zlexcount, zscore, zmscore, zrank, zrevrank,
  zrange, zrangestore, zrevrange, zrangebyscore, zrevrangebyscore, zrangebylex, zrevrangebylex,
  zpopmin, zpopmax, zmpop, zrandmember, zremrangebyrank, zremrangebyscore, zremrangebylex,
  zunion, zunionstore, zinter, zinterstore, zintercard, zdiff, zdiffstore, zscan,
  bzpopmin, bzpopmax, bzmpop,
];

export const zsetType: TypeModule = { name: "zset", commands, effects: zsetEffects, restore: restoreZset, encoding: zsetEncoding };
