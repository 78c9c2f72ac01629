/**
 * RESP2 framing of commands (`*N\r\n$len\r\n<bytes>\r\n...`). The replication backlog stores each
 * effect in this form, so a replication offset counts bytes of the stream exactly as Redis's
 * `master_repl_offset` does, and the RESP bridge can reuse the codec.
 */
import type { Bytes } from "../bytes";

/**
 * Frames one command as a RESP array of bulk strings, written into one buffer: strings are
 * measured, then written in place (binary strings byte by byte), with no copy
 * of their own bytes first (the master frames every effect it commits).
 */
export function encodeCommand(args: readonly (string | Bytes)[]): Bytes {
  const lengths = new Array<number>(args.length);
  let size = headerLength(args.length);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const n = arg.length;
    lengths[i] = n;
    size += headerLength(n) + n + 2;
  }
  const out = new Uint8Array(size);
  let at = writeHeader(out, 0, 0x2a, args.length);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const n = lengths[i]!;
    at = writeHeader(out, at, 0x24, n);
    if (typeof arg !== "string") out.set(arg, at);
    else for (let j = 0; j < n; j++) out[at + j] = arg.charCodeAt(j);
    at += n;
    out[at++] = 0x0d;
    out[at++] = 0x0a;
  }
  return out;
}

/** Decimal digits of a length. */
function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Bytes of a header line `<type><n>\r\n`. */
const headerLength = (n: number): number => 3 + digits(n);

/** Writes `<type><n>\r\n` at `at`; answers where it ends. */
function writeHeader(out: Bytes, at: number, type: number, n: number): number {
  out[at++] = type;
  const end = at + digits(n);
  for (let i = end - 1; i >= at; i--) {
    out[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  out[end] = 0x0d;
  out[end + 1] = 0x0a;
  return end + 2;
}

/**
 * Parses one RESP array of bulk strings that fills `frame` exactly; the arguments are views of
 * `frame` (not copies).
 * @throws Error when the frame is not a single well-formed command.
 */
export function decodeCommand(frame: Bytes): Bytes[] {
  if (frame[0] !== 0x2a) throw new Error("RESP: expected an array");
  const count = headerNumber(frame, 1);
  let at = count.next;
  const args: Bytes[] = [];
  for (let i = 0; i < count.n; i++) {
    if (frame[at] !== 0x24) throw new Error("RESP: expected a bulk string");
    const len = headerNumber(frame, at + 1);
    at = len.next;
    if (at + len.n + 2 > frame.length) throw new Error("RESP: bad bulk length");
    args.push(frame.subarray(at, at + len.n));
    at += len.n;
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
