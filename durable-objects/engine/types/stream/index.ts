/** The stream type: its commands, effects, and how it is written whole and named by OBJECT ENCODING. */
import type { Command } from "../../command";
import type { TypeModule } from "..";
import xack, { xpending } from "./commands/xack";
import xadd, { xtrim } from "./commands/xadd";
import xclaim, { xautoclaim } from "./commands/xclaim";
import xdelex, { xackdel } from "./commands/xdelex";
import xgroup, { xsetid } from "./commands/xgroup";
import xinfo from "./commands/xinfo";
import xrange, { xdel, xlen, xrevrange } from "./commands/xrange";
import xread, { xreadgroup } from "./commands/xread";
import { restoreStream, streamEffects } from "./effects";

const commands: Command<any>[] = [xadd, xtrim, xrange, xrevrange, xlen, xdel, xread, xreadgroup, xgroup, xsetid, xack, xpending, xclaim, xautoclaim, xinfo, xdelex, xackdel];

export const streamType: TypeModule = { name: "stream", commands, effects: streamEffects, restore: restoreStream, encoding: () => "stream" };
