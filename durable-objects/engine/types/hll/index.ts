/**
 * HyperLogLog (Redis's hyperloglog.c): PFADD, PFCOUNT and PFMERGE (PFDEBUG and PFSELFTEST for admins) on string values that hold
 * Redis's own HLL representation (hll.ts), written back as the bytes they changed (store.ts).
 */
import type { Command } from "../../command";
import pfadd from "./commands/pfadd";
import pfcount from "./commands/pfcount";
import pfdebug from "./commands/pfdebug";
import pfmerge from "./commands/pfmerge";
import pfselftest from "./commands/pfselftest";

export const hllCommands: readonly Command<any>[] = [pfadd, pfcount, pfmerge, pfdebug, pfselftest];
