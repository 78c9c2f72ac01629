/**
 * What clients send on connecting, answered by the proxy itself with Redis 7's replies and error
 * texts: the HTTP API has no connection to name, no database to select and one token for auth.
 *
 * - HELLO [2|3 …]: the connection's protocol (3 where the session speaks RESP3, resp3.ts: the
 *   proxy; elsewhere `HELLO 3` answers NOPROTO, which ioredis and redis-py take as "use RESP2").
 * - CLIENT SETNAME/GETNAME/ID/SETINFO/INFO/LIST, SELECT 0 (other databases: out of range, as a
 *   server with `databases 1`), AUTH password (accepted: the token is the proxy's; `AUTH user
 *   password` is the session's, session.ts), PING.
 * - CONFIG GET of `save`, `appendonly`, `appendfsync`, `databases` (what redis-benchmark and some
 *   clients ask): every acknowledged write is already committed to the node's SQLite storage, as
 *   with `appendonly yes` and `appendfsync always`, and there are no RDB snapshots. Any other
 *   CONFIG goes to the server (admin token only).
 * INFO and everything else go to the server.
 */
import type { Reply } from "./reply.ts";
import { errorReply } from "./reply.ts";
import { toBytes, toText } from "../durable-objects/engine/bytes.ts";

export interface ConnectionState {
  readonly id: number;
  name: string | null;
  /** The protocol HELLO chose (2 until one asks for 3). */
  protocol: 2 | 3;
  /** Whether this connection may speak RESP3 (the proxy's may; the REPL's prints RESP2). */
  readonly resp3: boolean;
}

export const LOCAL_COMMANDS = new Set(["HELLO", "CLIENT", "SELECT", "AUTH", "PING", "CONFIG"]);

const LOCAL_CONFIG: Record<string, string> = { save: "", appendonly: "yes", appendfsync: "always", databases: "1" };

/** The version HELLO reports: the one the server's INFO gives (redis_version). */
export const SERVER_VERSION = "7.2.0";

// Error texts are text (RESP writes them as UTF-8): a client's bytes in them are read as UTF-8 first.
const arity = (name: string) => errorReply(`ERR wrong number of arguments for '${toText(name).toLowerCase()}' command`);
const unknownSubcommand = (command: string, sub: string) =>
  errorReply(`ERR unknown subcommand '${toText(sub)}'. Try ${toText(command)} HELP.`);

function hello(args: string[], state: ConnectionState): Reply {
  if (args.length > 1) {
    const version = args[1]!;
    if (!/^-?\d+$/.test(version)) return errorReply("ERR Protocol version is not an integer or out of range");
    if (version !== "2" && !(version === "3" && state.resp3)) return errorReply("NOPROTO unsupported protocol version");
    for (let i = 2; i < args.length; i++) {
      const option = args[i]!.toUpperCase();
      if (option === "AUTH" && i + 2 < args.length) i += 2;
      else if (option === "SETNAME" && i + 1 < args.length) state.name = args[++i]!;
      else return errorReply(`ERR Syntax error in HELLO option '${toText(args[i]!)}'`);
    }
    state.protocol = version === "3" ? 3 : 2;
  }
  return [
    toBytes("server"), toBytes("redis"),
    toBytes("version"), toBytes(SERVER_VERSION),
    toBytes("proto"), BigInt(state.protocol),
    toBytes("id"), BigInt(state.id),
    toBytes("mode"), toBytes("standalone"),
    toBytes("role"), toBytes("master"),
    toBytes("modules"), [],
  ];
}

function clientLine(state: ConnectionState): string {
  return `id=${state.id} addr=127.0.0.1 name=${state.name ?? ""} db=0 resp=${state.protocol} lib-name= lib-ver=\n`;
}

function client(args: string[], state: ConnectionState): Reply {
  const sub = args[1]?.toUpperCase();
  if (sub === undefined) return arity("client");
  switch (sub) {
    case "SETNAME":
      if (args.length !== 3) return arity("client|setname");
      if (/[^!-~]/.test(args[2]!)) return errorReply("ERR Client names cannot contain spaces, newlines or special characters.");
      state.name = args[2] || null;
      return "OK";
    case "GETNAME":
      return state.name === null ? null : toBytes(state.name);
    case "ID":
      return BigInt(state.id);
    case "SETINFO":
      return args.length === 4 ? "OK" : arity("client|setinfo");
    case "INFO":
    case "LIST":
      return toBytes(clientLine(state));
    default:
      return unknownSubcommand("CLIENT", args[1]!);
  }
}

/** CONFIG GET of the settings above; undefined: ask the server. */
function config(args: string[]): Reply | undefined {
  if (args[1]?.toUpperCase() !== "GET" || args.length < 3) return undefined;
  const names = args.slice(2).map((n) => n.toLowerCase());
  if (!names.every((n) => n in LOCAL_CONFIG)) return undefined;
  return [...new Set(names)].flatMap((n) => [toBytes(n), toBytes(LOCAL_CONFIG[n]!)]);
}

/** The local answer to a command of LOCAL_COMMANDS, or undefined to send it to the server. */
export function answerLocally(args: string[], state: ConnectionState): Reply | undefined {
  switch (args[0]!.toUpperCase()) {
    case "HELLO":
      return hello(args, state);
    case "CLIENT":
      return client(args, state);
    case "SELECT":
      // What clients send on connecting, answered here; anything else as the server reads it.
      return args.length === 2 && args[1] === "0" ? "OK" : undefined;
    case "AUTH":
      return args.length === 2 || args.length === 3 ? "OK" : arity("auth");
    case "PING":
      if (args.length > 2) return arity("ping");
      return args.length === 2 ? toBytes(args[1]!) : "PONG";
    case "CONFIG":
      return config(args);
    default:
      return undefined;
  }
}
