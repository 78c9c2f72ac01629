/**
 * Turns an HTTP request into command argv lists, with Upstash's request forms and limits:
 * `POST /` with `["SET","k","v"]`, `POST /pipeline` and `/multi-exec` with an array of those,
 * and the path form `GET|POST /set/k/v` (a POST body becomes the last argument).
 */
import { fromBytes, fromText } from "../durable-objects/engine/bytes";
import { overBounds } from "../durable-objects/engine/limits";
import { systemClock } from "../durable-objects/engine/clock";
import { RequestError, requestErrors } from "./errors";

// Fatal: invalid UTF-8 is refused rather than turned into U+FFFD, so a key's bytes are decided
// here, once, and every node stores the same ones.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Upstash's request body limit. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/**
 * How long a body may send nothing before the request is refused. The runtime hands the worker a
 * request as soon as its headers arrive and, like any HTTP/1.1 server, waits for the declared
 * length: without a bound, a client that declares more than it sends and keeps the connection
 * open holds the request forever. Between chunks, not on the whole, so a slow upload finishes;
 * except a body declared at most WHOLE_BODY_BYTES, which must arrive within it in all.
 */
export const BODY_IDLE_MS = 30_000;

/**
 * A body declared this small (and not chunked) is read whole by the runtime: reading the stream
 * chunk by chunk cost 13% of workerd's CPU on single SETs. Its bound is then on the whole body:
 * a client must send these 64 KiB within BODY_IDLE_MS (30 s: 2 KiB/s), where a larger body may
 * take as long as it keeps sending.
 */
const WHOLE_BODY_BYTES = 64 * 1024;

/** How to read a body: at most `maxBytes`, each chunk within `idleMs` of the last. */
export interface BodyLimits {
  readonly maxBytes?: number;
  readonly idleMs?: number;
}

/** Reads the body as UTF-8 text (`readBodyBytes`); one that is not valid UTF-8 is a 400. */
export const readBody = async (request: Request, limits: BodyLimits = {}): Promise<string> => utf8(await readBodyBytes(request, limits));

/**
 * Reads the body's bytes, refusing more than `maxBytes` without buffering past them. A body that
 * breaks off (a malformed chunked encoding, a dropped connection) is a 400, one that stalls for
 * `idleMs` a 408.
 */
export async function readBodyBytes(request: Request, { maxBytes = MAX_REQUEST_BYTES, idleMs = BODY_IDLE_MS }: BodyLimits = {}): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) throw requestErrors.tooLarge(maxBytes, declared);
  if (!request.body) return new Uint8Array(0);
  // Chunked framing overrides a Content-Length (the runtime keeps the header): only a body framed
  // by its length is read whole, and its size is checked again once read.
  if (declared <= WHOLE_BODY_BYTES && !request.headers.has("transfer-encoding")) {
    const idle = idleTimer(idleMs);
    try {
      const body = new Uint8Array(await Promise.race([request.arrayBuffer(), idle.expired]));
      if (body.length > maxBytes) throw requestErrors.tooLarge(maxBytes, body.length);
      return body;
    } catch (e) {
      if (e instanceof RequestError) throw e;
      throw requestErrors.malformedBody();
    } finally {
      idle.stop();
    }
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const idle = idleTimer(idleMs);
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), idle.expired]);
      idle.progress();
      if (done) break;
      size += value.length;
      if (size <= maxBytes) chunks.push(value);
    }
  } catch (e) {
    reader.cancel().catch(() => undefined);
    if (e instanceof RequestError) throw e;
    throw requestErrors.malformedBody();
  } finally {
    idle.stop();
  }
  // Without a declared length, the size is known only once read.
  if (size > maxBytes) throw requestErrors.tooLarge(maxBytes, size);
  return concat(chunks, size);
}

function utf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw requestErrors.badRequest("request body is not valid UTF-8");
  }
}

/**
 * A 408 once `ms` pass without `progress`: one timer for the whole body, re-armed for what is left
 * of the wait when it fires after some progress (a timer per chunk cost two a request).
 */
function idleTimer(ms: number): { expired: Promise<never>; progress(): void; stop(): void } {
  let last = systemClock.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let fail: (e: unknown) => void = () => undefined;
  const expired = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // Unobserved when the body is read in time.
  expired.catch(() => undefined);
  const check = () => {
    const quiet = systemClock.now() - last;
    if (quiet >= ms) fail(requestErrors.bodyTimeout(ms));
    else timer = setTimeout(check, ms - quiet);
  };
  timer = setTimeout(check, ms);
  return {
    expired,
    progress: () => {
      last = systemClock.now();
    },
    stop: () => clearTimeout(timer),
  };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 0) return new Uint8Array(0);
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

/** What one pass over a JSON body's text finds, before JSON.parse builds any of it. */
interface Shape {
  /** Values directly inside the outermost array: a pipeline's commands, a command's arguments. */
  outer: number;
  /** Values nested deeper: a pipeline's arguments (in a single command, always an error). */
  inner: number;
  /** A number token whose text `String(Number(text))` would not give back, e.g. `1e21`. */
  inexactNumber: boolean;
}

const enum Char {
  Quote = 0x22,
  Backslash = 0x5c,
  Comma = 0x2c,
  Colon = 0x3a,
  OpenArray = 0x5b,
  CloseArray = 0x5d,
  OpenObject = 0x7b,
  CloseObject = 0x7d,
  Minus = 0x2d,
  Zero = 0x30,
  Nine = 0x39,
}

const isDigit = (c: number) => c >= Char.Zero && c <= Char.Nine;
/** A character that may continue a number token (digits, `.`, `e`, `E`, `+`, `-`). */
const inNumber = (c: number) => isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === Char.Minus;

/**
 * Counts the values of a JSON text by depth in one linear pass, allocating nothing per value:
 * strings (with their escapes) are skipped whole, so brackets and commas inside them do not
 * count. The text need not be valid JSON (JSON.parse judges that afterwards); the counts then
 * only bound what JSON.parse could build.
 */
function shapeOf(text: string): Shape {
  let depth = 0;
  let outer = 0;
  let inner = 0;
  let inexactNumber = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === Char.Comma || c === Char.Colon) continue;
    if (c === Char.CloseArray || c === Char.CloseObject) {
      depth--;
      continue;
    }
    // Anything else starts a value.
    if (depth === 1) outer++;
    else if (depth > 1) inner++;
    if (c === Char.OpenArray || c === Char.OpenObject) {
      depth++;
    } else if (c === Char.Quote) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === Char.Backslash) i++;
        else if (d === Char.Quote) break;
      }
    } else if (c === Char.Minus || isDigit(c)) {
      // Exact: an integer of at most 15 digits, no leading zero, not -0 (2^53 has 16 digits).
      const negative = c === Char.Minus;
      const first = negative ? i + 1 : i;
      let j = first;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      const digits = j - first;
      const exact = digits >= 1 && digits <= 15 && !(text.charCodeAt(first) === Char.Zero && (digits > 1 || negative));
      while (j < n && inNumber(text.charCodeAt(j))) j++;
      if (!exact || j - i !== digits + (negative ? 1 : 0)) inexactNumber = true;
      i = j - 1;
    } else {
      // true, false, null (or garbage): skip the word.
      while (i + 1 < n && text.charCodeAt(i + 1) > 0x20 && !isStructural(text.charCodeAt(i + 1))) i++;
    }
  }
  return { outer, inner, inexactNumber };
}

const isStructural = (c: number) =>
  c === Char.Comma || c === Char.Colon || c === Char.Quote || c === Char.OpenArray || c === Char.CloseArray || c === Char.OpenObject || c === Char.CloseObject;

/** Refuses (413) a request past the bounds of `REQUEST_LIMITS`, before anything of it is built. */
function checkBounds(commands: number, args: number) {
  const refusal = overBounds(commands, args);
  if (refusal) throw new RequestError(refusal.message, 413);
}

/** A JSON.parse reviver that keeps each number as its source text (`12345678901234567890`, `1e21`). */
function numberText(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === "number" && context?.source !== undefined ? context.source : value;
}

/** A JSON number argument's source text, where strings are base64 (a number is no base64: its text is the argument). */
class NumberArg {
  constructor(readonly text: string) {}
}

/** The reviver of `base64` bodies: every number as a NumberArg of its source text. */
function numberArg(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === "number" ? new NumberArg(context?.source ?? String(value)) : value;
}

/** Parses a body whose shape was scanned; the reviver, slower, only when a number needs it (or strings are base64). */
function parseJson(text: string, shape: Shape, encoding: ArgEncoding): unknown {
  try {
    if (encoding === "base64") return JSON.parse(text, numberArg as (key: string, value: unknown) => unknown);
    return shape.inexactNumber ? JSON.parse(text, numberText as (key: string, value: unknown) => unknown) : JSON.parse(text);
  } catch {
    throw requestErrors.badRequest("failed to parse request body: invalid JSON");
  }
}

/** `String.prototype.isWellFormed` (ES2024; our TypeScript lib is ES2023). */
const isWellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();

/** Refuses an argument with a lone UTF-16 surrogate: UTF-8 cannot encode it, so nodes would differ. */
function wellFormed(arg: string): string {
  if (!isWellFormed(arg)) throw requestErrors.badRequest("arguments must be well-formed Unicode: an argument has a lone UTF-16 surrogate");
  return arg;
}

/**
 * How the JSON forms' string arguments carry bytes: `text` (Upstash's form: each string's UTF-8
 * bytes) or `base64` (each string is the base64 of its bytes; `Flaredis-Request-Encoding: base64`).
 */
export type ArgEncoding = "text" | "base64";

/** Base64 as `atob` reads it: padded or not, no whitespace. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** One string argument as a binary string (bytes/engine form). */
function stringArg(arg: string, encoding: ArgEncoding): string {
  if (encoding === "text") return fromText(wellFormed(arg));
  if (BASE64.test(arg)) {
    try {
      return atob(arg);
    } catch {
      // refused below
    }
  }
  throw requestErrors.badRequest("an argument is not valid base64 (the request's Flaredis-Request-Encoding is base64)");
}

/** One command: a non-empty array of strings, numbers or booleans; strings as binary strings. */
function toArgv(value: unknown, encoding: ArgEncoding): string[] {
  if (!Array.isArray(value)) throw requestErrors.badRequest("a command must be a JSON array, e.g. [\"GET\",\"key\"]");
  if (value.length === 0) throw requestErrors.badRequest("empty command");
  return value.map((arg) => {
    if (typeof arg === "string") return stringArg(arg, encoding);
    if (arg instanceof NumberArg) return arg.text;
    if (typeof arg === "number" && Number.isFinite(arg)) return String(arg);
    if (typeof arg === "boolean") return String(arg);
    throw requestErrors.badRequest("command arguments must be strings, numbers or booleans");
  });
}

/** `POST /` body: one command. */
export function parseCommand(text: string, encoding: ArgEncoding = "text"): string[] {
  const shape = shapeOf(text);
  checkBounds(1, shape.outer + shape.inner);
  return toArgv(parseJson(text, shape, encoding), encoding);
}

/** `POST /pipeline` and `/multi-exec` body: a non-empty array of commands. */
export function parseCommands(text: string, encoding: ArgEncoding = "text"): string[][] {
  const shape = shapeOf(text);
  checkBounds(shape.outer, shape.inner);
  const value = parseJson(text, shape, encoding);
  if (!Array.isArray(value)) throw requestErrors.badRequest("a pipeline must be a JSON array of commands");
  if (value.length === 0) throw requestErrors.badRequest("empty pipeline");
  return value.map((command) => toArgv(command, encoding));
}

/** A path segment's bytes: `%XX` is the byte XX (any byte), anything else its UTF-8. */
function segmentBytes(segment: string): string {
  if (!segment.includes("%")) return fromText(segment);
  return segment.replace(/%([0-9A-Fa-f]{2})|%|[^%]+/g, (m, hex: string | undefined) => {
    if (hex !== undefined) return String.fromCharCode(parseInt(hex, 16));
    if (m === "%") throw requestErrors.badRequest(`malformed percent-encoding in path: ${segment}`);
    return fromText(m);
  });
}

/**
 * The path form: each segment is an argument, percent-decoded to bytes; a POST body is the last
 * one, its bytes as they are (Upstash's form for a binary value: `--data-binary @file`).
 */
export function parsePathCommand(pathname: string, body: Uint8Array): string[] {
  const segments = pathname.split("/").slice(1);
  if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
  const argv = segments.map(segmentBytes);
  if (body.length > 0) argv.push(fromBytes(body));
  if (argv.length === 0 || argv[0] === "") throw requestErrors.badRequest("empty command");
  return argv;
}
