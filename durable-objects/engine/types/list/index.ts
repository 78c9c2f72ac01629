/** The list type: its commands, effects, and how it is written whole and named by OBJECT ENCODING. */
import type { Command } from "../../command";
import type { TypeModule } from "..";
import { blmove, blmpop, blpop, brpop, brpoplpush } from "./commands/blocking";
import linsert from "./commands/linsert";
import llen from "./commands/llen";
import lmove, { rpoplpush } from "./commands/lmove";
import lmpop from "./commands/lmpop";
import lpop, { rpop } from "./commands/pop";
import lpos from "./commands/lpos";
import lpush, { lpushx, rpush, rpushx } from "./commands/push";
import lrange, { lindex } from "./commands/lrange";
import lrem from "./commands/lrem";
import lset from "./commands/lset";
import ltrim from "./commands/ltrim";
import { listEffects, restoreList } from "./effects";
import { listEncoding } from "./list";

const commands: Command<any>[] = [linsert, llen, lmove, rpoplpush, lmpop, lpop, rpop, lpos, lpush, lpushx, rpush, rpushx, lrange, lindex, lrem, lset, ltrim,
  blpop, brpop, blmove, brpoplpush, blmpop];

export const listType: TypeModule = { name: "list", commands, effects: listEffects, restore: restoreList, encoding: listEncoding };
