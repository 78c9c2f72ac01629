/**
 * The server's commands: connection and server state (PING, INFO, CONFIG, ROLE...), the keyspace
 * as a whole (DBSIZE, FLUSHALL), scripting and functions, pub/sub, WAIT and WATCH; and the
 * commands refused with a reason (refused.ts).
 */
import type { Command } from "../command";
import acl from "./acl";
import cluster from "./cluster";
import command from "./command";
import config from "./config";
import { move, select, swapdb } from "./databases";
import dbsize from "./dbsize";
import echo from "./echo";
import { evalCommand, evalRo, evalsha, evalshaRo } from "./eval";
import { fcall, fcallRo } from "./fcall";
import flushall from "./flushall";
import flushdb from "./flushdb";
import functionCommand from "./function";
import info from "./info";
import memory from "./memory";
import ping from "./ping";
import publish, { pubsub, spublish } from "./publish";
import role from "./role";
import script from "./script";
import time from "./time";
import wait from "./wait";
import { unwatch, watch } from "./watch";

export { REFUSED } from "./refused";

export const serverCommands: readonly Command<any>[] = [acl, cluster, command, config, move, select, swapdb, dbsize, echo, evalCommand, evalRo, evalsha, evalshaRo, fcall, fcallRo,
  flushall, flushdb, functionCommand, info, memory, ping, publish, spublish, pubsub, role, script, time, wait, watch, unwatch];
