/**
 * A minimal RESP2 client over TCP for the benchmarks and the chaos run's side of redis-server:
 * commands are written as arrays of bulk strings, replies parsed as they arrive, answered in order
 * (so several commands may be in flight on one connection: a pipeline).
 *
 * A reply's bytes cost linear time however many chunks they come in: the chunks go into one
 * buffer that grows by doubling, a scan follows the pending reply's structure from where it
 * stopped (without building values), and the reply is parsed once, when the scan finds its end.
 */
import { type Socket, connect } from "node:net";

export type RespReply = string | number | null | Error | RespReply[];

export class RespClient {
  /** Received bytes: [start, length) are the replies not yet parsed. */
  private buffer: Buffer = Buffer.alloc(1 << 16);
  private start = 0;
  private length = 0;
  /** The completeness scan of the reply at `start`: where it stopped, and the elements each open array still lacks. */
  private scanAt = 0;
  private readonly open: number[] = [];
  private readonly waiting: { resolve: (r: RespReply) => void; reject: (e: Error) => void }[] = [];

  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (data: Buffer) => this.received(data));
    const fail = (e: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed")));
  }

  static open(port: number, host = "127.0.0.1"): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => resolve(new RespClient(socket)));
      socket.once("error", reject);
    });
  }

  /** Sends one command; resolves with its reply (an error reply resolves as an Error). */
  send(...args: (string | number)[]): Promise<RespReply> {
    return this.pipeline([args])[0]!;
  }

  /** Sends commands in one write; one promise per reply. */
  pipeline(commands: readonly (readonly (string | number)[])[]): Promise<RespReply>[] {
    let frame = "";
    for (const args of commands) {
      frame += `*${args.length}\r\n`;
      for (const a of args) frame += `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`;
    }
    const replies = commands.map(() => new Promise<RespReply>((resolve, reject) => this.waiting.push({ resolve, reject })));
    this.socket.write(frame);
    return replies;
  }

  /** Like `send`, but an error reply throws. */
  async call(...args: (string | number)[]): Promise<RespReply> {
    const reply = await this.send(...args);
    if (reply instanceof Error) throw reply;
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }

  private received(data: Buffer): void {
    this.append(data);
    while (this.complete()) {
      const value = parse(this.buffer, { at: this.start });
      this.start = this.scanAt;
      this.waiting.shift()?.resolve(value);
    }
    if (this.start === this.length) this.start = this.length = this.scanAt = 0;
  }

  /**
   * Copies `data` after the unparsed bytes. When it does not fit, the unparsed bytes move to the
   * buffer's start, into a buffer twice as large when they would fill more than half of it (so
   * each move is paid for by at least as many bytes appended since the last one).
   */
  private append(data: Buffer): void {
    if (this.length + data.length > this.buffer.length) {
      const kept = this.length - this.start;
      const needed = kept + data.length;
      let size = this.buffer.length;
      while (needed > size / 2) size *= 2;
      if (size === this.buffer.length) this.buffer.copyWithin(0, this.start, this.length);
      else {
        const grown = Buffer.allocUnsafe(size);
        this.buffer.copy(grown, 0, this.start, this.length);
        this.buffer = grown;
      }
      this.scanAt -= this.start;
      this.start = 0;
      this.length = kept;
    }
    data.copy(this.buffer, this.length);
    this.length += data.length;
  }

  /** Scans on from where it stopped; true once the whole reply at `start` is here (it ends at `scanAt`). */
  private complete(): boolean {
    const { buffer: buf, length: end, open } = this;
    for (;;) {
      const at = this.scanAt;
      const eol = lineEnd(buf, at, end);
      if (eol === -1) return false;
      const type = buf[at];
      const n = type === 0x24 || type === 0x2a ? integer(buf, at + 1, eol) : 0;
      if (type === 0x24 && n >= 0) {
        if (eol + 2 + n + 2 > end) return false;
        this.scanAt = eol + 2 + n + 2;
      } else this.scanAt = eol + 2;
      if (type === 0x2a && n > 0) {
        open.push(n);
        continue;
      }
      // An element is complete: it completes the arrays it ends.
      for (;;) {
        const top = open.length - 1;
        if (top < 0) return true;
        open[top]! -= 1;
        if (open[top]! > 0) break;
        open.pop();
      }
    }
  }
}

/**
 * Where the line at `at` ends (its \r), or -1 when its end is not in buf[..end). A reply's lines
 * (types, lengths, simple strings and errors) are short: a loop over their bytes costs less than
 * a native search per line.
 */
function lineEnd(buf: Buffer, at: number, end: number): number {
  for (let i = at; i + 1 < end; i++) if (buf[i] === 0x0d && buf[i + 1] === 0x0a) return i;
  return -1;
}

/** The decimal integer in buf[from..to) (a length or a count: digits, perhaps a leading -). */
function integer(buf: Buffer, from: number, to: number): number {
  let i = from;
  const negative = buf[i] === 0x2d;
  if (negative) i++;
  let n = 0;
  for (; i < to; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) throw new Error(`RESP: bad length ${buf.toString("latin1", from, to)}`);
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

/** Parses the whole reply at `pos.at` (the scan found its end), leaving `pos.at` after it. */
function parse(buf: Buffer, pos: { at: number }): RespReply {
  const at = pos.at;
  const eol = lineEnd(buf, at, buf.length);
  pos.at = eol + 2;
  switch (buf[at]) {
    case 0x2b: // +
      return buf.toString("utf8", at + 1, eol);
    case 0x2d: // -
      return new Error(buf.toString("utf8", at + 1, eol));
    case 0x3a: // :
      return Number(buf.toString("latin1", at + 1, eol));
    case 0x24: {
      // $
      const n = integer(buf, at + 1, eol);
      if (n < 0) return null;
      const value = buf.toString("utf8", pos.at, pos.at + n);
      pos.at += n + 2;
      return value;
    }
    case 0x2a: {
      // *
      const n = integer(buf, at + 1, eol);
      if (n < 0) return null;
      const items: RespReply[] = new Array(n);
      for (let i = 0; i < n; i++) items[i] = parse(buf, pos);
      return items;
    }
    default:
      throw new Error(`RESP: unexpected reply byte ${buf[at]}`);
  }
}
