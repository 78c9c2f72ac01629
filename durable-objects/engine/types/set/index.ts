/** The set type: its commands, effects, and how it is written whole and named by OBJECT ENCODING. */
import type { Command } from "../../command";
import type { TypeModule } from "..";
import { sdiff, sdiffstore, sinter, sintercard, sinterstore, sunion, sunionstore } from "./commands/algebra";
import sadd, { scard, sismember, smembers, smismember, srem } from "./commands/sadd";
import spop, { smove, srandmember } from "./commands/spop";
import sscan from "./commands/sscan";
import { restoreSet, setEffects } from "./effects";
import { setEncoding } from "./set";

const commands: Command<any>[] = [sadd, srem, scard, sismember, smismember, smembers, spop, srandmember, smove, sinter, sunion, sdiff, sinterstore, sunionstore, sdiffstore, sintercard, sscan];

export const setType: TypeModule = {
  name: "set",
  commands,
  effects: setEffects,
  restore: restoreSet,
  encoding: (e, db) => setEncoding(e, () => db.elementsPage(e.eid!, null, 513).rows.map((el) => el.field)),
};
