/**
 * RESP2, both directions, for the proxy: commands in (arrays of bulk strings, or inline lines as
 * telnet and `redis-cli` in pipe mode send them), replies out.
 *
 * The decoder is the state machine of Redis's `processMultibulkBuffer`/`processInlineBuffer`
 * (networking.c): a command may arrive in any number of pieces and is resumed where it stopped,
 * so a large value is copied once, not once per packet. Input that Redis refuses is refused with
 * Redis's own text (`Protocol error: invalid bulk length`, …) as a ProtocolError, the only thing
 * `next()` throws; the caller replies `-ERR <message>` and closes the connection, as Redis does.
 * Lengths are checked before anything is allocated for them.
 *
 * No relative imports with values: this module also runs in workerd tests.
 */
import { splitArgs } from "../durable-objects/engine/split-args.ts";
import { NULL_ARRAY } from "./reply.ts";
import type { Reply3 } from "./resp3.ts";

/** Bounds of what the proxy reads; a declared length past them is refused before any read. */
export const RESP_LIMITS = {
  /** An inline command, or a `*N`/`$N` line, longer than this (Redis's PROTO_INLINE_MAX_SIZE). */
  lineBytes: 64 * 1024,
  /** Arguments of one command: the HTTP API takes at most 100,000 in one request. */
  args: 100_000,
  /** One argument, and one whole command: the HTTP API's request size (10 MiB). */
  bulkBytes: 10 * 1024 * 1024,
  commandBytes: 10 * 1024 * 1024,
};

/** Malformed input: the message is Redis's (`Protocol error: …`). */
export class ProtocolError extends Error {
  constructor(detail: string) {
    super(`Protocol error: ${detail}`);
    this.name = "ProtocolError";
  }
}

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = new Uint8Array(0);

/** Redis's string2ll: an optional '-', then digits without a leading zero; null if not so. */
function strictInteger(bytes: Uint8Array): number | null {
  if (bytes.length === 0 || bytes.length > 18) return null;
  const text = String.fromCharCode(...bytes);
  return /^-?(0|[1-9][0-9]*)$/.test(text) ? Number(text) : null;
}

/** Streaming decoder: `push` bytes as they arrive, `next` until it answers null. */
export class RespDecoder {
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Bytes (from pos) that must be there before parsing can progress; 0: try now. */
  private need = 0;
  // The command being read: arguments still to come (0: none started), those read, the length
  // of the bulk string whose header was read (-1: none), the bytes declared so far.
  private left = 0;
  private args: Uint8Array[] = [];
  private bulkLength = -1;
  private commandBytes = 0;

  private readonly limits: typeof RESP_LIMITS;

  constructor(limits = RESP_LIMITS) {
    this.limits = limits;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }

  /** Bytes received and not yet consumed by a whole command. */
  get buffered(): number {
    return this.buf.length - this.pos + this.pendingBytes;
  }

  /**
   * The next whole command, or null until more bytes arrive.
   * @throws ProtocolError on input Redis refuses; the decoder is then unusable.
   */
  next(): Uint8Array[] | null {
    if (this.buffered < this.need || this.buffered === 0) return null;
    this.compact();
    this.need = 0;
    for (;;) {
      if (this.left === 0) {
        if (this.pos >= this.buf.length) return null;
        if (this.buf[this.pos] !== 0x2a /* '*' */) {
          const inline = this.inline();
          if (inline === null) return null;
          if (inline.length > 0) return inline;
          continue; // an empty line: nothing to run
        }
        const header = this.line(1, "too big mbulk count string");
        if (header === null) return null;
        const count = strictInteger(header);
        if (count === null || count > this.limits.args) throw new ProtocolError("invalid multibulk length");
        if (count <= 0) continue; // `*0` and `*-1` are skipped, as Redis does
        this.left = count;
        this.args = [];
        this.commandBytes = 0;
      }
      while (this.left > 0) {
        if (this.bulkLength < 0) {
          if (this.pos >= this.buf.length) return this.wait(1);
          const first = this.buf[this.pos]!;
          if (first !== 0x24 /* '$' */) throw new ProtocolError(`expected '$', got '${String.fromCharCode(first)}'`);
          const header = this.line(1, "too big bulk count string");
          if (header === null) return null;
          const length = strictInteger(header);
          if (length === null || length < 0 || length > this.limits.bulkBytes) throw new ProtocolError("invalid bulk length");
          this.commandBytes += length;
          if (this.commandBytes > this.limits.commandBytes)
            throw new ProtocolError(`command larger than ${this.limits.commandBytes} bytes`);
          this.bulkLength = length;
        }
        // The payload and its CRLF; like Redis, the two bytes after it are not inspected.
        if (this.buf.length - this.pos < this.bulkLength + 2) return this.wait(this.bulkLength + 2);
        this.args.push(this.buf.slice(this.pos, this.pos + this.bulkLength));
        this.pos += this.bulkLength + 2;
        this.bulkLength = -1;
        this.left--;
      }
      const command = this.args;
      this.args = [];
      return command;
    }
  }

  private wait(bytes: number): null {
    this.need = bytes;
    return null;
  }

  /** Joins the received pieces behind the unread bytes: one copy per parse that can progress. */
  private compact(): void {
    if (this.pending.length === 0) return;
    const rest = this.buf.length - this.pos;
    if (rest === 0 && this.pending.length === 1) {
      this.buf = this.pending[0]!;
    } else {
      const joined = new Uint8Array(rest + this.pendingBytes);
      joined.set(this.buf.subarray(this.pos), 0);
      let at = rest;
      for (const piece of this.pending) {
        joined.set(piece, at);
        at += piece.length;
      }
      this.buf = joined;
    }
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** A `*N`/`$N` line after its first byte, up to CR (the LF after it is skipped). */
  private line(skip: number, tooBig: string): Uint8Array | null {
    const cr = this.buf.indexOf(CR, this.pos);
    if (cr === -1 || cr + 1 >= this.buf.length) {
      if (this.buf.length - this.pos > this.limits.lineBytes) throw new ProtocolError(tooBig);
      return this.wait(this.buf.length - this.pos + 1);
    }
    if (cr - this.pos > this.limits.lineBytes) throw new ProtocolError(tooBig);
    const text = this.buf.subarray(this.pos + skip, cr);
    this.pos = cr + 2;
    return text;
  }

  /** An inline command: a line ending in LF (a CR before it dropped), split as redis-cli does. */
  private inline(): Uint8Array[] | null {
    const lf = this.buf.indexOf(LF, this.pos);
    if (lf === -1) {
      if (this.buf.length - this.pos > this.limits.lineBytes) throw new ProtocolError("too big inline request");
      return this.wait(this.buf.length - this.pos + 1);
    }
    if (lf - this.pos > this.limits.lineBytes) throw new ProtocolError("too big inline request");
    const end = lf > this.pos && this.buf[lf - 1] === CR ? lf - 1 : lf;
    const line = this.buf.subarray(this.pos, end);
    this.pos = lf + 1;
    const args = splitArgs(line);
    if (args === null) throw new ProtocolError("unbalanced quotes in request");
    return args;
  }
}

const encoder = new TextEncoder();

/** One line of a status or error: CR and LF would end it early, so they become spaces. */
const oneLine = (text: string) => text.replace(/[\r\n]/g, " ");

/**
 * Encodes replies in order into one buffer: as RESP2, or as RESP3 for a connection that asked for
 * it (nil as `_`, and the maps, sets, doubles and verbatim text of resp3.ts; RESP2 writes those as
 * flat arrays, arrays and bulk strings); `protocols`: one for all, or each reply's own.
 */
export function encodeReplies(replies: readonly Reply3[], protocols: 2 | 3 | readonly (2 | 3)[] = 2): Uint8Array {
  let protocol: 2 | 3 = 2;
  const parts: Uint8Array[] = [];
  let text = "";
  const flush = () => {
    if (text) parts.push(encoder.encode(text));
    text = "";
  };
  const bulk = (bytes: Uint8Array, head = "$") => {
    text += `${head}${bytes.length}\r\n`;
    flush();
    parts.push(bytes);
    text = "\r\n";
  };
  const write = (reply: Reply3): void => {
    if (reply === null || reply === NULL_ARRAY) text += protocol === 3 ? "_\r\n" : reply === null ? "$-1\r\n" : "*-1\r\n";
    else if (typeof reply === "string") text += `+${oneLine(reply)}\r\n`;
    else if (typeof reply === "bigint") text += `:${reply}\r\n`;
    else if (reply instanceof Uint8Array) bulk(reply);
    else if (Array.isArray(reply)) {
      text += `*${reply.length}\r\n`;
      for (const r of reply) write(r);
    } else if ("map" in reply) {
      text += protocol === 3 ? `%${reply.map.length}\r\n` : `*${2 * reply.map.length}\r\n`;
      for (const [k, v] of reply.map) {
        write(k);
        write(v);
      }
    } else if ("push" in reply) {
      text += `${protocol === 3 ? ">" : "*"}${reply.push.length}\r\n`;
      for (const r of reply.push) write(r);
    } else if ("set" in reply) {
      text += `${protocol === 3 ? "~" : "*"}${reply.set.length}\r\n`;
      for (const r of reply.set) write(r);
    } else if ("double" in reply) {
      if (protocol === 3) text += `,${reply.double}\r\n`;
      else bulk(encoder.encode(reply.double));
    } else if ("verbatim" in reply) {
      if (protocol !== 3) bulk(reply.verbatim);
      else {
        // `=<length>` of "txt:" and the text.
        const body = new Uint8Array(4 + reply.verbatim.length);
        body.set(encoder.encode("txt:"));
        body.set(reply.verbatim, 4);
        bulk(body, "=");
      }
    } else text += `-${oneLine(reply.error)}\r\n`;
  };
  // A HELLO in a batch changes the protocol of the replies after it: each is written in its own.
  replies.forEach((reply, i) => {
    protocol = typeof protocols === "number" ? protocols : (protocols[i] ?? 2);
    write(reply);
  });
  flush();
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
