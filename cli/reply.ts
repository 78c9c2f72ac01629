/**
 * A Redis reply as the tools hold it, and its making from the HTTP API's JSON.
 *
 * The tools ask for `Upstash-Encoding: base64`, so every string of a result is base64 of its bytes
 * (binary values survive) except the status `OK`, which the API leaves as is. Base64 of anything
 * is never the two letters `OK`, so a bare `OK` is always a status. Other status replies (`PONG`,
 * TYPE's `string`) are encoded like bulk strings; `statusOf` names the commands that answer one.
 *
 * No relative imports with values: this module also runs in workerd tests and is typechecked
 * by the root tsconfig.
 */

/** An error reply: Redis's text with its prefix, `ERR …`, `WRONGTYPE …`. */
export type ErrorReply = { error: string };

/** status (string), bulk (bytes), integer (bigint), nil (null), error, array. */
export type Reply = string | Uint8Array | bigint | null | ErrorReply | Reply[];

/** One outcome of the HTTP API: `{"result": …}` or `{"error": "…"}`. */
export type ApiOutcome = { result: unknown } | { error: string };

/** A JSON number kept as its text (64-bit integers must not pass through a double). */
export class JsonNumber {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
}

/** JSON.parse that keeps every number as a JsonNumber holding its exact text. */
export function parseJsonExact(text: string): unknown {
  // The reviver's third argument (the source text) is in Node 22 and workerd.
  const reviver = (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === "number" ? new JsonNumber(context?.source ?? String(value)) : value;
  return JSON.parse(text, reviver as (key: string, value: unknown) => unknown);
}

/** Commands whose string reply is a status (`+PONG`), not a bulk string. */
export function statusOf(args: readonly string[]): boolean {
  const name = args[0]?.toUpperCase();
  return (name === "PING" && args.length === 1) || name === "TYPE";
}

/** A nil array (RESP2's `*-1`): EXEC's reply when a watched key was written. Compared by identity. */
export const NULL_ARRAY: Reply[] = Object.freeze([]) as unknown as Reply[];

export function errorReply(error: string): ErrorReply {
  return { error };
}

export function isError(reply: Reply): reply is ErrorReply {
  return reply !== null && typeof reply === "object" && !Array.isArray(reply) && !(reply instanceof Uint8Array);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * A base64-mode result as a Reply. `status`: the top-level string is a status reply.
 * @throws Error on a value the API never sends (an object, a boolean, bad base64).
 */
export function fromResult(value: unknown, status = false): Reply {
  if (value === null) return null;
  if (value instanceof JsonNumber) return /^-?\d+$/.test(value.source) ? BigInt(value.source) : new TextEncoder().encode(value.source);
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : new TextEncoder().encode(String(value));
  if (typeof value === "string") {
    if (value === "OK") return "OK";
    const bytes = fromBase64(value);
    return status ? new TextDecoder().decode(bytes) : bytes;
  }
  if (Array.isArray(value)) return value.map((v) => fromResult(v));
  throw new Error(`unexpected value in a reply: ${JSON.stringify(value)}`);
}

/** One API outcome as a Reply: the error, or the result (a status for `args`' command). */
export function fromOutcome(outcome: ApiOutcome, args: readonly string[] = []): Reply {
  if ("error" in outcome) return errorReply(String(outcome.error));
  const reply = fromResult(outcome.result, statusOf(args));
  const [name, sub] = [args[0]?.toUpperCase(), args[1]?.toUpperCase() ?? ""];
  if (name === "FUNCTION" && sub === "LIST") return withStatusFlags(reply);
  if (name === "COMMAND" && (sub === "" || sub === "INFO" || sub === "DOCS")) return commandStatuses(reply, sub);
  return reply;
}

/** Bulk strings as status replies (a list of flags). */
const statuses = (x: Reply): Reply => (Array.isArray(x) ? x.map((f) => (f instanceof Uint8Array ? new TextDecoder().decode(f) : f)) : x);

/** A flat [key, value …] list with the values of some keys made by their handler. */
function withFields(flat: Reply, handlers: Record<string, (v: Reply) => Reply>): Reply {
  if (!Array.isArray(flat)) return flat;
  const decoder = new TextDecoder();
  return flat.map((v, i) => {
    const key = i % 2 === 1 && flat[i - 1] instanceof Uint8Array ? decoder.decode(flat[i - 1] as Uint8Array) : "";
    return Object.hasOwn(handlers, key) ? handlers[key]!(v) : v;
  });
}

/**
 * COMMAND's flags (a command's, a key spec's, a doc's, an argument's) and ACL categories are
 * status replies in Redis (server.c addReplyCommandFlags): redis-cli asserts it when it reads
 * COMMAND DOCS for its hints. The API's JSON carries them as strings.
 */
function commandStatuses(reply: Reply, sub: string): Reply {
  if (!Array.isArray(reply)) return reply;
  const info = (e: Reply): Reply =>
    Array.isArray(e) && e.length === 10
      ? e.map((v, i) => (i === 2 || i === 6 ? statuses(v) : i === 8 && Array.isArray(v) ? v.map((spec) => withFields(spec, { flags: statuses })) : i === 9 && Array.isArray(v) ? v.map(info) : v))
      : e;
  const args = (list: Reply): Reply => (Array.isArray(list) ? list.map((a) => withFields(a, { flags: statuses, arguments: args })) : list);
  const docs = (d: Reply): Reply => withFields(d, { doc_flags: statuses, arguments: args, subcommands: (m) => (Array.isArray(m) ? m.map((v, i) => (i % 2 === 1 ? docs(v) : v)) : m) });
  return sub === "DOCS" ? reply.map((v, i) => (i % 2 === 1 ? docs(v) : v)) : reply.map(info);
}

/** FUNCTION LIST's flags are status replies in Redis (`+no-writes`): the API's JSON carries them as strings. */
function withStatusFlags(reply: Reply): Reply {
  return Array.isArray(reply) ? reply.map((lib) => withFields(lib, { functions: (fs) => (Array.isArray(fs) ? fs.map((f) => withFields(f, { flags: statuses })) : fs) })) : reply;
}
