/**
 * Turns an HTTP request into command argv lists, with Upstash's request forms and limits:
 * `POST /` with `["SET","k","v"]`, `POST /pipeline` and `/multi-exec` with an array of those,
 * and the path form `GET|POST /set/k/v` (a POST body becomes the last argument).
 */
import { requestErrors } from "./errors";

const decoder = new TextDecoder();

/** Upstash's request body limit. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** Reads the body, refusing more than `limit` bytes without buffering past it. */
export async function readBody(request: Request, limit = MAX_REQUEST_BYTES): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > limit) throw requestErrors.tooLarge(limit, declared);
  if (!request.body) return "";
  // A declared length within the limit: read it whole (the common case, and the fast one).
  if (Number.isSafeInteger(declared)) return request.text();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit) throw requestErrors.tooLarge(limit, size);
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return decoder.decode(bytes);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw requestErrors.badRequest("failed to parse request body: invalid JSON");
  }
}

/** One command: a non-empty array of strings, numbers or booleans. */
function toArgv(value: unknown): string[] {
  if (!Array.isArray(value)) throw requestErrors.badRequest("a command must be a JSON array, e.g. [\"GET\",\"key\"]");
  if (value.length === 0) throw requestErrors.badRequest("empty command");
  return value.map((arg) => {
    if (typeof arg === "string") return arg;
    if (typeof arg === "number" && Number.isFinite(arg)) return String(arg);
    if (typeof arg === "boolean") return String(arg);
    throw requestErrors.badRequest("command arguments must be strings, numbers or booleans");
  });
}

/** `POST /` body: one command. */
export function parseCommand(text: string): string[] {
  return toArgv(parseJson(text));
}

/** `POST /pipeline` and `/multi-exec` body: a non-empty array of commands. */
export function parseCommands(text: string): string[][] {
  const value = parseJson(text);
  if (!Array.isArray(value)) throw requestErrors.badRequest("a pipeline must be a JSON array of commands");
  if (value.length === 0) throw requestErrors.badRequest("empty pipeline");
  return value.map(toArgv);
}

/** The path form: each segment is an argument, percent-decoded; a POST body is the last one. */
export function parsePathCommand(pathname: string, body: string): string[] {
  const segments = pathname.split("/").slice(1);
  if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
  const argv = segments.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw requestErrors.badRequest(`malformed percent-encoding in path: ${s}`);
    }
  });
  if (body !== "") argv.push(body);
  if (argv.length === 0 || argv[0] === "") throw requestErrors.badRequest("empty command");
  return argv;
}
