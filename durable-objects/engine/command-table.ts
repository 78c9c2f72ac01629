/**
 * The command table, built from the modules' registries: the generic key commands, the server's,
 * each type's (strings' among them), and the commands on strings' bits and registers (bitmaps,
 * HyperLogLog, geo); and the commands refused with a reason (server/refused.ts).
 */
import type { Command } from "./command";
import { genericCommands } from "./generic";
import { serverCommands } from "./server";
import { TYPES } from "./types";
import { bitmapCommands } from "./types/bitmap";
import { geoCommands } from "./types/geo";
import { hllCommands } from "./types/hll";

export { REFUSED } from "./server";

const commands: readonly Command<any>[] = [...genericCommands, ...serverCommands, ...TYPES.flatMap((t) => t.commands), ...bitmapCommands, ...hllCommands, ...geoCommands];

/** Every command by lowercase name. */
export const commandTable: ReadonlyMap<string, Command> = new Map(commands.map((c) => [c.name, c as Command]));
