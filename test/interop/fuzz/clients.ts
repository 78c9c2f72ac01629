/**
 * The two sides of the differential: redis-server over RESP2 (a binary-safe client of our own:
 * replies keep their bytes) and Flaredis over the Upstash REST API with `Upstash-Encoding:
 * base64`, both answering in the one `Reply` form of reply.ts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { type Socket, connect } from "node:net";
import { freePort } from "../../../bench/lib/systems.ts";
import { type Arg, type Command, type Reply, argBytes, fromFlaredisJson, isBinary } from "./reply.ts";

export const ADMIN_TOKEN = "dev-admin-token";

/** A RESP2 connection: commands written as arrays of bulk strings, replies parsed in order. */
export class RespConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (data: Buffer) => this.received(data));
    const fail = (e: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("redis-server closed the connection")));
  }

  static open(port: number): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1" }, () => resolve(new RespConnection(socket)));
      socket.once("error", reject);
    });
  }

  /** Sends the commands in one write; their replies in order. */
  pipeline(commands: readonly Command[]): Promise<Reply[]> {
    const parts: Buffer[] = [];
    for (const args of commands) {
      parts.push(Buffer.from(`*${args.length}\r\n`));
      for (const a of args) {
        const bytes = argBytes(a);
        parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
      }
    }
    const replies = commands.map(() => new Promise<Reply>((resolve, reject) => this.waiting.push({ resolve, reject })));
    this.socket.write(Buffer.concat(parts));
    return Promise.all(replies);
  }

  async send(...args: Arg[]): Promise<Reply> {
    return (await this.pipeline([args]))[0]!;
  }

  close(): void {
    this.socket.destroy();
  }

  private received(data: Buffer): void {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
    for (;;) {
      const parsed = parseResp(this.buffer, 0);
      if (parsed === undefined) return;
      this.buffer = this.buffer.subarray(parsed.end);
      this.waiting.shift()?.resolve(parsed.reply);
    }
  }
}

/** The reply at `at`, or undefined when it has not all arrived. */
function parseResp(buf: Buffer, at: number): { reply: Reply; end: number } | undefined {
  const eol = buf.indexOf("\r\n", at);
  if (eol === -1) return undefined;
  const line = buf.toString("latin1", at + 1, eol);
  const next = eol + 2;
  switch (buf[at]) {
    case 0x2b: // + status: compared as the bytes of a string
      return { reply: buf.subarray(at + 1, eol), end: next };
    case 0x2d: // -
      return { reply: { error: buf.toString("utf8", at + 1, eol) }, end: next };
    case 0x3a: // :
      return { reply: BigInt(line), end: next };
    case 0x24: {
      const n = Number(line);
      if (n < 0) return { reply: null, end: next };
      if (buf.length < next + n + 2) return undefined;
      return { reply: Buffer.from(buf.subarray(next, next + n)), end: next + n + 2 };
    }
    case 0x2a: {
      const n = Number(line);
      if (n < 0) return { reply: null, end: next };
      const items: Reply[] = [];
      let end = next;
      for (let i = 0; i < n; i++) {
        const item = parseResp(buf, end);
        if (item === undefined) return undefined;
        items.push(item.reply);
        end = item.end;
      }
      return { reply: items, end };
    }
    default:
      throw new Error(`RESP: unexpected reply type byte ${buf[at]}`);
  }
}

export interface RedisServer {
  readonly port: number;
  readonly version: string;
  readonly client: RespConnection;
  stop(): Promise<void>;
}

/**
 * Starts Debian's redis-server (or the binary FLAREDIS_REDIS_SERVER names, e.g. a 7.4 or 8 built
 * from source, against which the newer commands are generated too) on a free loopback port,
 * without persistence, and with one database: Flaredis has one (`COPY … DB 1` is out of range
 * there, as in Redis with `databases 1`). `extra` arguments go last (`--dir D --dbfilename F`: it loads that RDB file).
 */
export async function startRedisServer(binary = process.env.FLAREDIS_REDIS_SERVER ?? "redis-server", extra: readonly string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--databases", "1", "--daemonize", "no", "--loglevel", "warning", ...extra];
  const child: ChildProcess = spawn(binary, args, { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let client: RespConnection | undefined;
  for (let i = 0; client === undefined; i++) {
    try {
      client = await RespConnection.open(port);
    } catch (e) {
      if (i > 100 || child.exitCode !== null) throw new Error(`redis-server did not start on port ${port}: ${String(e)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const info = await client.send("INFO", "server");
  const version = Buffer.isBuffer(info) ? (/redis_version:(\S+)/.exec(info.toString())?.[1] ?? "0") : "0";
  return {
    port,
    version,
    client,
    stop: async () => {
      client.close();
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** What Flaredis answered: the reply, and the HTTP status it came with. */
export interface FlaredisAnswer {
  readonly reply: Reply;
  readonly status: number;
}

/**
 * Flaredis over HTTP. Each request carries the sync token of the last answer, as @upstash/redis
 * does, so a read served by a replica has seen every write before it.
 */
export class FlaredisClient {
  private syncToken = "";
  readonly url: string;
  private readonly token: string;

  constructor(url: string, token = ADMIN_TOKEN) {
    this.url = url.replace(/\/$/, "");
    this.token = token;
  }

  /**
   * One command: `POST /` with its JSON array; with a non-UTF-8 last argument (not empty), the path
   * form with that argument as the body (the path form drops an empty last segment: such a command
   * goes as JSON).
   */
  async single(command: Command): Promise<FlaredisAnswer> {
    const last = command[command.length - 1];
    const segments = command.slice(0, -1);
    if (last !== undefined && isBinary(last) && argBytes(last).length > 0 && segments.every((a) => !isBinary(a) && a !== "")) {
      const path = segments.map((a) => encodeURIComponent(String(a))).join("/");
      return this.request(`/${path}`, argBytes(last), (json) => fromFlaredisJson(json, "single"));
    }
    const { body, base64 } = jsonBody([command], true);
    return this.request("/", body, (json) => fromFlaredisJson(json, "single"), base64);
  }

  /** `POST /multi-exec`: EXEC's array, or the transaction's one error. */
  multi(commands: readonly Command[]): Promise<FlaredisAnswer> {
    const { body, base64 } = jsonBody(commands);
    return this.request("/multi-exec", body, (json) => fromFlaredisJson(json, "batch"), base64);
  }

  /** `POST /pipeline`: one reply per command. */
  pipeline(commands: readonly Command[]): Promise<FlaredisAnswer> {
    const { body, base64 } = jsonBody(commands);
    return this.request("/pipeline", body, (json) => fromFlaredisJson(json, "batch"), base64);
  }

  private async request(path: string, body: string | Buffer, convert: (json: unknown) => Reply, base64 = false): Promise<FlaredisAnswer> {
    const response = await fetch(this.url + path, {
      method: "POST",
      headers: {
        authorization: `Bearer ${this.token}`,
        "upstash-encoding": "base64",
        "upstash-sync-token": this.syncToken,
        ...(base64 ? { "flaredis-request-encoding": "base64" } : {}),
      },
      body: typeof body === "string" ? body : new Uint8Array(body),
    });
    this.syncToken = response.headers.get("upstash-sync-token") ?? this.syncToken;
    const text = await response.text();
    let json: unknown;
    try {
      // Integers as bigints, from their source text (a JSON number past 2^53 is exact there).
      const reviver = (_k: string, v: unknown, context?: { source?: string }) =>
        typeof v === "number" && context?.source !== undefined && /^-?\d+$/.test(context.source) ? BigInt(context.source) : v;
      json = JSON.parse(text, reviver as (k: string, v: unknown) => unknown);
    } catch {
      return { reply: { error: `(flaredis answered HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)})` }, status: response.status };
    }
    return { reply: convert(json), status: response.status };
  }
}

/** An argument as JSON carries it: text (a binary one never gets here but by a bug of ours). */
/**
 * The JSON body of commands: text as it is, or, when any argument is bytes that are not UTF-8,
 * every argument as base64 (`Flaredis-Request-Encoding: base64`).
 */
function jsonBody(commands: readonly Command[], one = false): { body: string; base64: boolean } {
  const base64 = commands.some((c) => c.some(isBinary));
  const sent = base64 ? commands.map((c) => c.map((a) => argBytes(a).toString("base64"))) : commands;
  return { body: JSON.stringify(one ? sent[0] : sent), base64 };
}
