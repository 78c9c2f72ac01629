/**
 * The one form both sides' replies are normalized to (RESP from redis-server, Upstash JSON from
 * Flaredis): null, an integer (bigint: int64 replies stay exact), a string's bytes (status
 * replies such as OK and PONG too: the JSON API cannot tell them from bulk strings), an error's
 * full text, or an array. And the programs' shapes: a step is one command, a MULTI block or a
 * pipeline, written as JSON exactly as a replayable case prints it.
 */

/** An argument: UTF-8 text, or (behind --binary only) bytes that are not UTF-8. */
export type Arg = string | { readonly base64: string };
export type Command = Arg[];
/** One command (`["SET","k","v"]`), a transaction (`{"multi":[…]}`) or a pipeline (`{"pipeline":[…]}`). */
export type Step = Command | { readonly multi: Command[] } | { readonly pipeline: Command[] };

export interface ReplyError {
  readonly error: string;
}
export type Reply = null | bigint | Buffer | ReplyError | Reply[];

export const isBinary = (a: Arg): a is { readonly base64: string } => typeof a !== "string";
export const argBytes = (a: Arg): Buffer => (isBinary(a) ? Buffer.from(a.base64, "base64") : Buffer.from(a, "utf8"));
export const argText = (a: Arg): string => (isBinary(a) ? `<${a.base64}>` : a);

export const isError = (r: Reply): r is ReplyError => r !== null && typeof r === "object" && !Buffer.isBuffer(r) && !Array.isArray(r);

export function commandsOf(step: Step): Command[] {
  return Array.isArray(step) ? [step] : "multi" in step ? step.multi : step.pipeline;
}

/**
 * The scripts a `scripted` program runs commands in (generator.ts), each passing the command as
 * ARGV: its reply as redis.call gives it (an error raised, so it names the script), as
 * redis.pcall gives it, or as cjson encodes it.
 */
export const SCRIPTS = [
  "return redis.call(unpack(ARGV))",
  "return redis.pcall(unpack(ARGV))",
  "return cjson.encode({redis.pcall(unpack(ARGV))})",
] as const;

/** The command a script of SCRIPTS runs, and which script (its index); null for any other command. */
export function unscripted(command: Command): { inner: Command; via: number } | null {
  if (argText(command[0] ?? "").toUpperCase() !== "EVAL" || command[2] !== "0") return null;
  const via = SCRIPTS.indexOf(argText(command[1] ?? "") as (typeof SCRIPTS)[number]);
  return via === -1 || command.length < 4 ? null : { inner: command.slice(3), via };
}

export function commandName(command: Command): string {
  return argText(command[0] ?? "").toUpperCase();
}

/**
 * Converts Flaredis's JSON (base64 strings; integers already bigints) to a Reply. A batch's
 * entries are `{result}` or `{error}`; a single command's body is one of those.
 */
export function fromFlaredisJson(json: unknown, form: "single" | "batch"): Reply {
  const outcome = (o: unknown): Reply => {
    if (o !== null && typeof o === "object" && !Array.isArray(o)) {
      if ("error" in o) return { error: String((o as { error: unknown }).error) };
      if ("result" in o) return value((o as { result: unknown }).result);
    }
    return { error: `(flaredis answered something that is not an outcome: ${JSON.stringify(o, bigintText)})` };
  };
  if (form === "single" || !Array.isArray(json)) return outcome(json);
  return json.map(outcome);
}

/** A result value: base64 strings (but the status OK, which Upstash leaves as is), numbers, null, arrays. */
function value(v: unknown): Reply {
  if (v === null) return null;
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return { error: `(flaredis answered a number that is not an integer: ${v})` };
  if (typeof v === "string") return v === "OK" ? Buffer.from("OK") : Buffer.from(v, "base64");
  if (Array.isArray(v)) return v.map(value);
  return { error: `(flaredis answered an unexpected value: ${JSON.stringify(v, bigintText)})` };
}

const bigintText = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

export function equal(a: Reply, b: Reply): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === "bigint" || typeof b === "bigint") return a === b;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]!));
  return a.error === b.error;
}

/** The kind of a reply, for a divergence's class. */
export function kindOf(r: Reply): string {
  if (r === null) return "null";
  if (typeof r === "bigint") return "integer";
  if (Buffer.isBuffer(r)) return "string";
  if (Array.isArray(r)) return "array";
  return "error";
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A string's bytes as text when they are UTF-8; undefined otherwise. */
export function textOf(b: Buffer): string | undefined {
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}

/**
 * A reply as JSON for a report: integers as exact JSON numbers, strings as text (or
 * `{"base64":…}` when not UTF-8), errors as `{"error":…}`.
 */
export function render(r: Reply): string {
  if (r === null) return "null";
  if (typeof r === "bigint") return r.toString();
  if (Buffer.isBuffer(r)) {
    const t = textOf(r);
    return t === undefined ? JSON.stringify({ base64: r.toString("base64") }) : JSON.stringify(t);
  }
  if (Array.isArray(r)) return `[${r.map(render).join(",")}]`;
  return JSON.stringify({ error: r.error });
}

/** A step as its replayable JSON. */
export function renderStep(step: Step): string {
  return JSON.stringify(step);
}

/** A total order (of the rendered forms), for sorting replies whose order is unspecified. */
export function replyOrder(a: Reply, b: Reply): number {
  const x = render(a);
  const y = render(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
