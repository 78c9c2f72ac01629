/** The hash type: its commands, effects, and how it is written whole and named by OBJECT ENCODING. */
import type { Command } from "../../command";
import type { TypeModule } from "..";
import hdel from "./commands/hdel";
import { hexpire, hexpireat, hexpiretime, hpersist, hpexpire, hpexpireat, hpexpiretime, hpttl, httl } from "./commands/hexpire";
import { hgetdel, hgetex, hsetex } from "./commands/hgetex";
import hget, { hexists, hlen, hmget, hstrlen } from "./commands/hget";
import hgetall, { hkeys, hvals } from "./commands/hgetall";
import hincrby, { hincrbyfloat } from "./commands/hincrby";
import hrandfield from "./commands/hrandfield";
import hscan from "./commands/hscan";
import hset, { hmset } from "./commands/hset";
import hsetnx from "./commands/hsetnx";
import { hashEffects, restoreHash } from "./effects";
import { hashEncoding } from "./hash";

const commands: Command<any>[] = [hdel, hget, hexists, hlen, hmget, hstrlen, hgetall, hkeys, hvals, hincrby, hincrbyfloat, hrandfield, hscan, hset, hmset, hsetnx,
  hexpire, hpexpire, hexpireat, hpexpireat, httl, hpttl, hexpiretime, hpexpiretime, hpersist, hgetdel, hgetex, hsetex];

export const hashType: TypeModule = { name: "hash", commands, effects: hashEffects, restore: restoreHash, encoding: hashEncoding };
