/** The hash type's commands (see hash.ts). */
import type { Command } from "../../command";
import hdel from "./commands/hdel";
import hget, { hexists, hlen, hmget, hstrlen } from "./commands/hget";
import hgetall, { hkeys, hvals } from "./commands/hgetall";
import hincrby, { hincrbyfloat } from "./commands/hincrby";
import hrandfield from "./commands/hrandfield";
import hscan from "./commands/hscan";
import hset, { hmset } from "./commands/hset";
import hsetnx from "./commands/hsetnx";

export const hashCommands: Command<any>[] = [hdel, hget, hexists, hlen, hmget, hstrlen, hgetall, hkeys, hvals, hincrby, hincrbyfloat, hrandfield, hscan, hset, hmset, hsetnx];
