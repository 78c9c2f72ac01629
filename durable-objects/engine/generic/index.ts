/** The generic key commands (Redis's db.c and expire.c): about a key whatever its type. */
import type { Command } from "../command";
import copy from "./copy";
import del from "./del";
import dump from "./dump";
import exists from "./exists";
import expire from "./expire";
import expireat from "./expireat";
import expiretime from "./expiretime";
import keys from "./keys";
import object from "./object";
import persist from "./persist";
import pexpire from "./pexpire";
import pexpireat from "./pexpireat";
import pexpiretime from "./pexpiretime";
import pttl from "./pttl";
import randomkey from "./randomkey";
import rename from "./rename";
import renamenx from "./renamenx";
import restore from "./restore";
import scan from "./scan";
import sort, { sortRo } from "./sort";
import touch from "./touch";
import ttl from "./ttl";
import typeCmd from "./type";
import unlink from "./unlink";

export const genericCommands: readonly Command<any>[] = [copy, del, dump, exists, expire, expireat, expiretime, keys, object, persist, pexpire, pexpireat, pexpiretime,
  pttl, randomkey, rename, renamenx, restore, scan, sort, sortRo, touch, ttl, typeCmd, unlink];
