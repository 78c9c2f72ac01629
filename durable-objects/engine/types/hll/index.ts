/**
 * HyperLogLog (Redis's hyperloglog.c): PFADD, PFCOUNT and PFMERGE on string values that hold
 * Redis's own HLL representation (hll.ts), written back as the bytes they changed (store.ts).
 */
import type { Command } from "../../command";
import pfadd from "./commands/pfadd";
import pfcount from "./commands/pfcount";
import pfmerge from "./commands/pfmerge";

export const hllCommands: readonly Command<any>[] = [pfadd, pfcount, pfmerge];
