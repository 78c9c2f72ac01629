/**
 * RESP3 for a proxy connection that asked for it (`HELLO 3`, node-redis 6's default): the HTTP API
 * answers in RESP2's shapes (flat arrays, scores as strings), so each command's reply is given the
 * RESP3 types redis-server 7.0 gives it (checked against redis-server in
 * test/interop/proxy.test.ts): maps (HGETALL, CONFIG GET, HELLO, LCS IDX, FUNCTION STATS and
 * LIST), sets (SMEMBERS, SINTER, SUNION, SDIFF, SPOP with a count), doubles (ZSCORE, ZINCRBY,
 * ZADD INCR, ZMSCORE, scores WITHSCORES, ZPOPMIN's and ZMPOP's as [member, score] pairs, GEOPOS's and WITHCOORD's
 * coordinates), field-value pairs (HRANDFIELD WITHVALUES), XREAD's and XREADGROUP's streams and
 * XINFO's fields as maps, INFO as verbatim text, and nil as `_`.
 * A script's map, set or double reply keeps RESP2's shape (the API has flattened it).
 */
import { type ErrorReply, isError, type Reply } from "./reply.ts";

/** A reply as RESP3 writes it: RESP2's kinds, and maps, sets, doubles (their text, as Redis prints it) and verbatim text. */
export type Reply3 =
  | string
  | Uint8Array
  | bigint
  | null
  | ErrorReply
  | Reply3[]
  | { readonly map: readonly (readonly [Reply3, Reply3])[] }
  | { readonly set: readonly Reply3[] }
  | { readonly double: string }
  | { readonly verbatim: Uint8Array }
  /** Out-of-band data (a published message): `>` in RESP3, an array in RESP2. */
  | { readonly push: readonly Reply3[] };

const text = (r: Reply3): string => (r instanceof Uint8Array ? new TextDecoder().decode(r) : typeof r === "string" ? r : "");
const double = (r: Reply3): Reply3 => (r instanceof Uint8Array ? { double: text(r) } : r);

function map(r: Reply3, value: (key: string, v: Reply3) => Reply3 = (_k, v) => v): Reply3 {
  if (!Array.isArray(r)) return r;
  const pairs: [Reply3, Reply3][] = [];
  for (let i = 0; i + 1 < r.length; i += 2) pairs.push([r[i]!, value(text(r[i]!), r[i + 1]!)]);
  return { map: pairs };
}

const set = (r: Reply3): Reply3 => (Array.isArray(r) ? { set: r } : r);
/** [m1, s1, m2, s2 …] as [[m1, s1], …] with each second element made by `second`. */
function pairs(r: Reply3, second: (v: Reply3) => Reply3): Reply3 {
  if (!Array.isArray(r)) return r;
  const out: Reply3[] = [];
  for (let i = 0; i + 1 < r.length; i += 2) out.push([r[i]!, second(r[i + 1]!)]);
  return out;
}
const coordinates = (r: Reply3): Reply3 => (Array.isArray(r) ? r.map(double) : r);
const has = (argv: readonly string[], word: string, from = 2) => argv.slice(from).some((a) => a.toUpperCase() === word);

/** A key spec of COMMAND INFO (server.c addReplyCommandKeySpecs): a map, its flags a set, its searches maps of a type and a spec map. */
const keySpec = (s: Reply3) => map(s, (k, v) => (k === "flags" ? set(v) : k === "begin_search" || k === "find_keys" ? map(v, (k2, v2) => (k2 === "spec" ? map(v2) : v2)) : v));

/** A command of COMMAND INFO in RESP3 (server.c addReplyCommandInfo): flags, categories, tips and key specs as sets; no subcommands an empty set. */
function commandInfo(r: Reply3): Reply3 {
  if (!Array.isArray(r) || r.length !== 10) return r;
  const [name, arity, flags, first, last, step, categories, tips, specs, subcommands] = r as Reply3[];
  const subs = Array.isArray(subcommands) && subcommands.length > 0 ? subcommands.map(commandInfo) : { set: [] };
  return [name!, arity!, set(flags!), first!, last!, step!, set(categories!), set(tips!), Array.isArray(specs) ? { set: specs.map(keySpec) } : specs!, subs];
}

/** A command's arguments in COMMAND DOCS: maps, their flags sets, nested arguments likewise. */
const docArguments = (v: Reply3): Reply3 => (Array.isArray(v) ? v.map((a) => map(a, (k, x) => (k === "flags" ? set(x) : k === "arguments" ? docArguments(x) : x))) : v);

/** A command's docs in RESP3 (server.c addReplyCommandDocs): a map; doc_flags and history sets, arguments maps, subcommands a map of docs. */
function commandDocs(r: Reply3): Reply3 {
  return map(r, (k, v) => (k === "doc_flags" || k === "history" ? set(v) : k === "arguments" ? docArguments(v) : k === "subcommands" ? map(v, (_n, d) => commandDocs(d)) : v));
}

/** A function of FUNCTION LIST: a map whose flags are a set. */
const functionEntry = (f: Reply3) => map(f, (k, v) => (k === "flags" ? set(v) : v));

/** `reply` of the command `argv` as RESP3 types (errors and what RESP3 writes as RESP2 pass as they are). */
export function toResp3(reply: Reply, argv: readonly string[]): Reply3 {
  if (reply === null || isError(reply)) return reply;
  const name = (argv[0] ?? "").toUpperCase();
  const sub = (argv[1] ?? "").toUpperCase();
  switch (name) {
    case "HGETALL":
    case "HELLO":
      return map(reply);
    case "CONFIG":
      return sub === "GET" ? map(reply) : reply;
    case "LCS":
      return has(argv, "IDX", 3) ? map(reply) : reply;
    case "FUNCTION":
      if (sub === "STATS") return map(reply, (k, v) => (k === "engines" ? map(v, (_e, stats) => map(stats)) : v));
      if (sub === "LIST") return Array.isArray(reply) ? reply.map((lib) => map(lib, (k, v) => (k === "functions" && Array.isArray(v) ? v.map(functionEntry) : v))) : reply;
      return reply;
    case "SMEMBERS":
    case "SINTER":
    case "SUNION":
    case "SDIFF":
      return set(reply);
    case "SPOP":
      return argv.length > 2 ? set(reply) : reply;
    case "ZSCORE":
    case "ZINCRBY":
      return double(reply);
    case "ZADD":
      return has(argv, "INCR") ? double(reply) : reply;
    case "ZMSCORE":
      return Array.isArray(reply) ? reply.map(double) : reply;
    case "ZRANGE":
    case "ZRANGEBYSCORE":
    case "ZREVRANGE":
    case "ZREVRANGEBYSCORE":
    case "ZRANDMEMBER":
      return has(argv, "WITHSCORES") ? pairs(reply, double) : reply;
    case "ZUNION":
    case "ZINTER":
    case "ZDIFF":
      // Options follow the numkeys keys (a key may be named "withscores").
      return has(argv, "WITHSCORES", 2 + (Number(argv[1]) || 0)) ? pairs(reply, double) : reply;
    case "COMMAND":
      if (sub === "DOCS") return map(reply, (_name, docs) => commandDocs(docs));
      if (sub === "" || sub === "INFO") return Array.isArray(reply) ? reply.map(commandInfo) : reply;
      return reply;
    case "ZPOPMIN":
    case "ZPOPMAX":
      // With a count: [member, score] pairs; without: the one [member, score].
      if (argv.length > 2) return pairs(reply, double);
      return Array.isArray(reply) && reply.length === 2 ? [reply[0]!, double(reply[1]!)] : reply;
    case "ZMPOP":
      // [key, [[member, score] …]]
      return Array.isArray(reply) && reply.length === 2 && Array.isArray(reply[1])
        ? [reply[0]!, reply[1].map((pair) => (Array.isArray(pair) && pair.length === 2 ? [pair[0]!, double(pair[1]!)] : pair))]
        : reply;
    case "ZRANK":
    case "ZREVRANK":
      return has(argv, "WITHSCORE", 3) && Array.isArray(reply) && reply.length === 2 ? [reply[0]!, double(reply[1]!)] : reply;
    case "HRANDFIELD":
      return has(argv, "WITHVALUES") ? pairs(reply, (v) => v) : reply;
    case "GEOPOS":
      return Array.isArray(reply) ? reply.map(coordinates) : reply;
    case "GEOSEARCH":
    case "GEORADIUS":
    case "GEORADIUS_RO":
    case "GEORADIUSBYMEMBER":
    case "GEORADIUSBYMEMBER_RO":
      // WITHCOORD: each match's last element is its coordinates.
      if (!has(argv, "WITHCOORD") || !Array.isArray(reply)) return reply;
      return reply.map((m) => (Array.isArray(m) && m.length > 0 ? [...m.slice(0, -1), coordinates(m[m.length - 1]!)] : m));
    case "XREAD":
    case "XREADGROUP":
      // [[key, entries] …] as a map of key → entries.
      return Array.isArray(reply) ? { map: reply.map((kv) => (Array.isArray(kv) && kv.length === 2 ? ([kv[0]!, kv[1]!] as const) : ([kv, null] as const))) } : reply;
    case "XINFO":
      if (sub === "GROUPS" || sub === "CONSUMERS") return Array.isArray(reply) ? reply.map((m) => map(m)) : reply;
      // STREAM: a map; FULL's groups are maps, and their consumers too.
      return sub === "STREAM" ? map(reply, (k, v) => (k === "groups" && Array.isArray(v) ? v.map((g) => map(g, (gk, gv) => (gk === "consumers" && Array.isArray(gv) ? gv.map((c) => map(c)) : gv))) : v)) : reply;
    case "INFO":
      return reply instanceof Uint8Array ? { verbatim: reply } : reply;
    case "CLIENT":
      return (sub === "INFO" || sub === "LIST") && reply instanceof Uint8Array ? { verbatim: reply } : reply;
    default:
      return reply;
  }
}
