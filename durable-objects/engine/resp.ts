/**
 * RESP2 framing of commands (`*N\r\n$len\r\n<bytes>\r\n...`). The replication backlog stores each
 * effect in this form, so a replication offset counts bytes of the stream exactly as Redis's
 * `master_repl_offset` does, and the RESP bridge can reuse the codec.
 */
import { type Bytes, concatBytes, toBytes } from "./bytes";

const CRLF = toBytes("\r\n");

/** Frames one command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly (string | Bytes)[]): Bytes {
  const parts: Bytes[] = [toBytes(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === "string" ? toBytes(arg) : arg;
    parts.push(toBytes(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return concatBytes(parts);
}

/**
 * Parses one RESP array of bulk strings that fills `frame` exactly.
 * @throws Error when the frame is not a single well-formed command.
 */
export function decodeCommand(frame: Bytes): Bytes[] {
  let at = 0;
  const readLine = (): string => {
    const end = frame.indexOf(0x0d, at);
    if (end === -1 || frame[end + 1] !== 0x0a) throw new Error("RESP: unterminated line");
    const line = String.fromCharCode(...frame.subarray(at, end));
    at = end + 2;
    return line;
  };
  const header = readLine();
  if (header[0] !== "*") throw new Error("RESP: expected an array");
  const count = Number(header.slice(1));
  if (!Number.isSafeInteger(count) || count < 0) throw new Error("RESP: bad array length");
  const args: Bytes[] = [];
  for (let i = 0; i < count; i++) {
    const len = readLine();
    if (len[0] !== "$") throw new Error("RESP: expected a bulk string");
    const n = Number(len.slice(1));
    if (!Number.isSafeInteger(n) || n < 0 || at + n + 2 > frame.length) throw new Error("RESP: bad bulk length");
    args.push(frame.slice(at, at + n));
    at += n;
    if (frame[at] !== 0x0d || frame[at + 1] !== 0x0a) throw new Error("RESP: bulk string not terminated");
    at += 2;
  }
  if (at !== frame.length) throw new Error("RESP: trailing bytes");
  return args;
}

/** Reads the decimal number of a RESP header line that starts at `at` (after its type byte); answers it and where the next line starts. */
function headerNumber(bytes: Bytes, at: number): { n: number; next: number } {
  let n = 0;
  let i = at;
  for (; i < bytes.length && bytes[i] !== 0x0d; i++) {
    const d = bytes[i]! - 0x30;
    if (d < 0 || d > 9) throw new Error("RESP: bad length");
    n = n * 10 + d;
  }
  if (i === at || bytes[i + 1] !== 0x0a) throw new Error("RESP: unterminated line");
  return { n, next: i + 2 };
}

/**
 * Splits a run of whole command frames (as the backlog stores them) into its frames, each a copy
 * (a view would carry the whole run wherever the frame is sent). @throws Error when the run does
 * not end on a frame's end
 */
export function splitFrames(run: Bytes): Bytes[] {
  const frames: Bytes[] = [];
  for (let at = 0; at < run.length; ) {
    if (run[at] !== 0x2a) throw new Error("RESP: expected an array");
    const start = at;
    const count = headerNumber(run, at + 1);
    at = count.next;
    for (let i = 0; i < count.n; i++) {
      if (run[at] !== 0x24) throw new Error("RESP: expected a bulk string");
      const len = headerNumber(run, at + 1);
      at = len.next + len.n + 2;
      if (at > run.length) throw new Error("RESP: bad bulk length");
    }
    frames.push(run.slice(start, at));
  }
  return frames;
}
