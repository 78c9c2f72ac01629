/** The command table, built from one module per command; and the commands refused with a reason (refused.ts). */
import type { Command } from "../command";
export { REFUSED } from "./refused";
import { TYPES } from "../types";
import { bitmapCommands } from "../types/bitmap";
import { hllCommands } from "../types/hll";
import { geoCommands } from "../types/geo";
import append from "./append";
import config from "./config";
import copy from "./copy";
import { move, select, swapdb } from "./databases";
import dbsize from "./dbsize";
import decr from "./decr";
import decrby from "./decrby";
import del from "./del";
import echo from "./echo";
import { evalCommand, evalRo, evalsha, evalshaRo } from "./eval";
import { fcall, fcallRo } from "./fcall";
import exists from "./exists";
import expire from "./expire";
import expireat from "./expireat";
import expiretime from "./expiretime";
import flushall from "./flushall";
import flushdb from "./flushdb";
import get from "./get";
import getdel from "./getdel";
import getex from "./getex";
import getrange, { substr } from "./getrange";
import getset from "./getset";
import incr from "./incr";
import incrby from "./incrby";
import incrbyfloat from "./incrbyfloat";
import info from "./info";
import keys from "./keys";
import lcs from "./lcs";
import memory from "./memory";
import mget from "./mget";
import mset from "./mset";
import msetnx from "./msetnx";
import object from "./object";
import persist from "./persist";
import pexpire from "./pexpire";
import pexpireat from "./pexpireat";
import pexpiretime from "./pexpiretime";
import ping from "./ping";
import psetex from "./psetex";
import pttl from "./pttl";
import randomkey from "./randomkey";
import rename from "./rename";
import renamenx from "./renamenx";
import role from "./role";
import scan from "./scan";
import script from "./script";
import functionCommand from "./function";
import set from "./set";
import setex from "./setex";
import setnx from "./setnx";
import setrange from "./setrange";
import sort, { sortRo } from "./sort";
import strlen from "./strlen";
import time from "./time";
import touch from "./touch";
import ttl from "./ttl";
import typeCmd from "./type";
import unlink from "./unlink";
import wait from "./wait";
import publish, { pubsub, spublish } from "./publish";
import { unwatch, watch } from "./watch";

const commands: Command<any>[] = [
  append,
  config,
  copy,
  dbsize,
  move,
  select,
  swapdb,
  decr,
  decrby,
  del,
  echo,
  evalCommand,
  evalRo,
  evalsha,
  evalshaRo,
  fcall,
  fcallRo,
  functionCommand,
  exists,
  expire,
  expireat,
  expiretime,
  flushall,
  flushdb,
  get,
  getdel,
  getex,
  getrange,
  substr,
  getset,
  incr,
  incrby,
  incrbyfloat,
  info,
  keys,
  lcs,
  memory,
  mget,
  mset,
  msetnx,
  object,
  persist,
  pexpire,
  pexpireat,
  pexpiretime,
  ping,
  psetex,
  pttl,
  randomkey,
  rename,
  renamenx,
  role,
  scan,
  script,
  set,
  setex,
  setnx,
  setrange,
  sort,
  sortRo,
  strlen,
  time,
  touch,
  ttl,
  typeCmd,
  unlink,
  wait,
  watch,
  unwatch,
  publish,
  spublish,
  pubsub,
  ...bitmapCommands,
  ...hllCommands,
  ...geoCommands,
  ...TYPES.flatMap((t) => t.commands),
];

/** Every command by lowercase name. */
export const commandTable: ReadonlyMap<string, Command> = new Map(commands.map((c) => [c.name, c as Command]));
