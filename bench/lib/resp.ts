/**
 * A minimal RESP2 client over TCP for the benchmarks and the chaos run's side of redis-server:
 * commands are written as arrays of bulk strings, replies parsed as they arrive, answered in order
 * (so several commands may be in flight on one connection: a pipeline).
 */
import { type Socket, connect } from "node:net";

export type RespReply = string | number | null | Error | RespReply[];

export class RespClient {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiting: { resolve: (r: RespReply) => void; reject: (e: Error) => void }[] = [];

  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (data: Buffer) => {
      this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
      for (;;) {
        const parsed = parse(this.buffer, 0);
        if (parsed === null) break;
        this.buffer = this.buffer.subarray(parsed.end);
        this.waiting.shift()?.resolve(parsed.value);
      }
    });
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
}

/** Parses one reply at `at`; null when the buffer does not hold all of it yet. */
function parse(buf: Buffer, at: number): { value: RespReply; end: number } | null {
  const eol = buf.indexOf("\r\n", at);
  if (eol === -1) return null;
  const line = buf.toString("utf8", at + 1, eol);
  const next = eol + 2;
  switch (buf[at]) {
    case 0x2b: // +
      return { value: line, end: next };
    case 0x2d: // -
      return { value: new Error(line), end: next };
    case 0x3a: // :
      return { value: Number(line), end: next };
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.toString("utf8", next, next + n), end: next + n + 2 };
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items: RespReply[] = [];
      let end = next;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, end);
        if (item === null) return null;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`RESP: unexpected reply byte ${buf[at]}`);
  }
}
