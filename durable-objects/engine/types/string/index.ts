/** The string type: its commands, effects, and how it is written whole and named by OBJECT ENCODING. */
import type { Command } from "../../command";
import type { TypeModule } from "..";
import append from "./commands/append";
import decr from "./commands/decr";
import decrby from "./commands/decrby";
import get from "./commands/get";
import getdel from "./commands/getdel";
import getex from "./commands/getex";
import getrange, { substr } from "./commands/getrange";
import getset from "./commands/getset";
import incr from "./commands/incr";
import incrby from "./commands/incrby";
import incrbyfloat from "./commands/incrbyfloat";
import lcs from "./commands/lcs";
import mget from "./commands/mget";
import mset from "./commands/mset";
import msetnx from "./commands/msetnx";
import psetex from "./commands/psetex";
import set from "./commands/set";
import setex from "./commands/setex";
import setnx from "./commands/setnx";
import setrange from "./commands/setrange";
import strlen from "./commands/strlen";
import { stringEffects } from "./effects";
import { restoreString, stringEncoding } from "./string";

const commands: Command<any>[] = [append, decr, decrby, get, getdel, getex, getrange, substr, getset, incr, incrby, incrbyfloat, lcs, mget, mset, msetnx,
  psetex, set, setex, setnx, setrange, strlen];

export const stringType: TypeModule = { name: "string", commands, effects: stringEffects, restore: restoreString, encoding: stringEncoding };
