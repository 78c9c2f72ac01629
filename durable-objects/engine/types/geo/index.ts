/**
 * Geo (Redis's geo.c): positions kept as sorted-set members whose scores are Redis's 52-bit
 * geohashes (geohash.ts), so a geo key is a zset to every other command, as in Redis.
 */
import type { Command } from "../../command";
import geoadd from "./commands/geoadd";
import geopos, { geodist, geohash } from "./commands/geopos";
import { georadius, georadiusRo, georadiusbymember, georadiusbymemberRo, geosearch, geosearchstore } from "./commands/geosearch";

export const geoCommands: readonly Command<any>[] = [
  geoadd, geopos, geohash, geodist, geosearch, geosearchstore, georadius, georadiusRo, georadiusbymember, georadiusbymemberRo,
];
