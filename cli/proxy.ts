/**
 * `flaredis proxy`: a Redis server (RESP2, and RESP3 after HELLO 3) on 127.0.0.1 that speaks to Flaredis over the HTTP API, so
 * that redis-cli, redis-benchmark and Redis client libraries work unchanged.
 *
 * Each connection is a Session (its own sync token: it reads its own writes). The commands of
 * one read from the socket are answered together (one `/pipeline` request for a pipelining
 * client); the socket is paused meanwhile, so a client that sends faster than the server answers
 * is held back by TCP rather than by the proxy's memory. Malformed input is answered
 * `-ERR Protocol error: …` after the replies of the commands before it, and the connection is
 * closed, as Redis does; nothing a client sends can stop the proxy.
 */
import { createServer, type Server, type Socket } from "node:net";
import { FlaredisHttp } from "./http.ts";
import type { ProxyMetrics } from "./proxy-metrics.ts";
import { encodeReplies, ProtocolError, RespDecoder } from "./resp.ts";
import { errorReply } from "./reply.ts";
import { Session } from "./session.ts";
import { Subscriptions, isPubSubCommand } from "./subscriptions.ts";
import { fromBytes, toBytes } from "../durable-objects/engine/bytes.ts";

export interface ProxyOptions {
  url: string;
  token: string;
  port: number;
  host?: string;
  /** Where connection problems are reported (default: stderr). */
  log?: (line: string) => void;
  /** Counts connections, commands and the requests made (proxy-metrics.ts). */
  metrics?: ProxyMetrics;
}

let nextId = 1;

function serve(socket: Socket, options: ProxyOptions, log: (line: string) => void): void {
  const { metrics } = options;
  const session = new Session(new FlaredisHttp(options.url, options.token, metrics?.fetch), nextId++, { localPing: true, resp3: true });
  if (metrics) {
    metrics.connections++;
    metrics.connectionsTotal++;
    socket.once("close", () => void metrics.connections--);
  }
  const decoder = new RespDecoder();
  let busy = false;
  let closed = false;
  socket.setNoDelay(true);

  const write = (bytes: Uint8Array) => {
    if (!closed) socket.write(bytes);
  };
  const subscriptions = new Subscriptions(session.http, (push) => write(encodeReplies([push], session.state.protocol)));
  socket.once("close", () => subscriptions.close());

  /**
   * The commands of a connection that subscribes or is subscribed, one at a time (a message may
   * come between two replies): the pub/sub commands here, the others through the session (in
   * RESP2, only PING, QUIT and RESET while subscribed, as in Redis). @returns whether QUIT came
   */
  const runSubscribed = async (commands: Uint8Array[][]): Promise<boolean> => {
    for (const raw of commands) {
      const args = raw.map(fromBytes);
      const name = args[0]!.toUpperCase();
      const resp2 = session.state.protocol === 2 && subscriptions.count > 0;
      if (isPubSubCommand(name)) write(encodeReplies(await subscriptions.run(args), session.state.protocol));
      else if (resp2 && name === "PING") write(encodeReplies([[toBytes("pong"), toBytes(args[1] ?? "")]]));
      else if (resp2 && name !== "QUIT" && name !== "RESET")
        write(encodeReplies([errorReply(`ERR Can't execute '${args[0]!.toLowerCase()}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`)]));
      else {
        if (name === "RESET") subscriptions.close();
        const { replies, protocols, quit } = await session.run([raw]);
        write(encodeReplies(replies, protocols));
        if (quit) return true;
      }
    }
    return false;
  };

  /** Answers every whole command received; a protocol error ends the connection. */
  const drain = async () => {
    if (busy) return;
    busy = true;
    socket.pause();
    try {
      for (;;) {
        const commands: Uint8Array[][] = [];
        let failure: ProtocolError | null = null;
        try {
          for (let c = decoder.next(); c !== null; c = decoder.next()) commands.push(c);
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          failure = e;
        }
        if (commands.length === 0 && failure === null) break;
        if (metrics) metrics.commandsTotal += commands.length;
        let quit: boolean;
        if (subscriptions.count > 0 || commands.some((c) => isPubSubCommand(fromBytes(c[0]!).toUpperCase()))) {
          quit = await runSubscribed(commands);
          if (failure && !quit) write(encodeReplies([errorReply(`ERR ${failure.message}`)]));
        } else {
          const answered = commands.length ? await session.run(commands) : { replies: [], protocols: [], quit: false };
          quit = answered.quit;
          if (failure && !quit) answered.replies.push(errorReply(`ERR ${failure.message}`));
          write(encodeReplies(answered.replies, answered.protocols));
        }
        if (quit || failure) {
          closed = true;
          socket.end();
          return;
        }
      }
    } catch (e) {
      // A defect, not the client's input: say so on the connection and in the log, keep serving others.
      log(`flaredis proxy: connection ${session.state.id}: ${e instanceof Error ? e.stack : String(e)}`);
      write(encodeReplies([errorReply(`ERR flaredis proxy: internal error: ${e instanceof Error ? e.message : String(e)}`)]));
      closed = true;
      socket.end();
      return;
    } finally {
      busy = false;
    }
    if (!closed) socket.resume();
  };

  socket.on("data", (chunk: Buffer) => {
    decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    void drain();
  });
  socket.on("error", () => {
    closed = true;
  });
  socket.on("close", () => {
    closed = true;
  });
}

/** Starts the proxy; resolves once it listens (port 0: a free one, see `server.address()`). */
export function startProxy(options: ProxyOptions): Promise<Server> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const server = createServer((socket) => serve(socket, options, log));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
