/**
 * A minimal RESP2 client for reading from a running Redis (`flaredis import redis://…`): commands
 * of any bytes out, replies in as Buffers, pipelined (replies come back in order, one per
 * command). Only what an import asks: AUTH, SELECT, DBSIZE, SCAN, PTTL, DUMP.
 */
import { type Socket, connect } from "node:net";
import { connect as tlsConnect } from "node:tls";

export type SourceReply = Buffer | number | null | SourceReply[] | SourceError;

/** An error reply from the source (`-ERR …`). */
export class SourceError extends Error {}

interface Waiter {
  resolve(reply: SourceReply): void;
  reject(e: Error): void;
}

export class RedisSource {
  private readonly socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiting: Waiter[] = [];
  private failure: Error | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      for (const w of this.waiting.splice(0)) w.reject(this.failure);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("the source Redis closed the connection")));
  }

  /** Connects to `redis[s]://[user:password@]host[:port][/db]` (rediss: TLS), authenticated and on its database. */
  static async open(url: string): Promise<RedisSource> {
    const u = new URL(url);
    if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new Error(`${url}: a source is redis://… or rediss://… (TLS)`);
    const port = Number(u.port || 6379);
    const host = u.hostname.replace(/^\[|\]$/g, "");
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s: Socket = u.protocol === "rediss:" ? tlsConnect({ port, host, servername: host }, () => resolve(s)) : connect(port, host, () => resolve(s));
      s.once("error", reject);
    });
    const source = new RedisSource(socket);
    const password = decodeURIComponent(u.password);
    const user = decodeURIComponent(u.username);
    if (password) await source.call(user ? ["AUTH", user, password] : ["AUTH", password]);
    const db = u.pathname.replace(/^\//, "");
    if (db) await source.call(["SELECT", db]);
    return source;
  }

  /** One command's reply. @throws SourceError for an error reply */
  async call(argv: readonly (string | Buffer)[]): Promise<SourceReply> {
    const [reply] = await this.pipeline([argv]);
    if (reply instanceof SourceError) throw reply;
    return reply!;
  }

  /** Several commands in one write; their replies in order (errors as SourceError values). */
  pipeline(commands: readonly (readonly (string | Buffer)[])[]): Promise<SourceReply[]> {
    if (this.failure) return Promise.reject(this.failure);
    const parts: Buffer[] = [];
    for (const argv of commands) {
      parts.push(Buffer.from(`*${argv.length}\r\n`));
      for (const a of argv) {
        const b = typeof a === "string" ? Buffer.from(a, "latin1") : a;
        parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
      }
    }
    const replies = commands.map(() => new Promise<SourceReply>((resolve, reject) => this.waiting.push({ resolve, reject })));
    this.socket.write(Buffer.concat(parts));
    return Promise.all(replies);
  }

  close(): void {
    this.socket.destroy();
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const parsed = parse(this.buffer, 0);
      if (parsed === null) return;
      this.buffer = this.buffer.subarray(parsed.end);
      this.waiting.shift()!.resolve(parsed.reply);
    }
  }
}

/** One reply from `at`, or null until more bytes arrive. */
function parse(b: Buffer, at: number): { reply: SourceReply; end: number } | null {
  const eol = b.indexOf("\r\n", at);
  if (eol < 0) return null;
  const line = b.toString("latin1", at + 1, eol);
  const next = eol + 2;
  switch (b[at]) {
    case 0x2b: // +
      return { reply: Buffer.from(line, "latin1"), end: next };
    case 0x2d: // -
      return { reply: new SourceError(line), end: next };
    case 0x3a: // :
      return { reply: Number(line), end: next };
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return { reply: null, end: next };
      if (b.length < next + n + 2) return null;
      return { reply: Buffer.from(b.subarray(next, next + n)), end: next + n + 2 };
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return { reply: null, end: next };
      const items: SourceReply[] = [];
      let end = next;
      for (let i = 0; i < n; i++) {
        const item = parse(b, end);
        if (item === null) return null;
        items.push(item.reply);
        end = item.end;
      }
      return { reply: items, end };
    }
    default:
      throw new Error(`the source sent what is not RESP2 (byte 0x${(b[at] ?? 0).toString(16)})`);
  }
}
