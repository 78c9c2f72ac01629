/**
 * Bitmaps: commands on the bits of string values (Redis's bitops.c). They read strings from, and
 * write them through, the keyspace (SETRANGE effects of the bytes they change; BITOP's result as a
 * SET), so replication, expiry and eviction treat them as strings.
 */
import type { Command } from "../../command";
import bitcount from "./commands/bitcount";
import bitfield, { bitfieldRo } from "./commands/bitfield";
import bitop from "./commands/bitop";
import bitpos from "./commands/bitpos";
import getbit from "./commands/getbit";
import setbit from "./commands/setbit";

export const bitmapCommands: readonly Command<any>[] = [setbit, getbit, bitcount, bitpos, bitop, bitfield, bitfieldRo];
