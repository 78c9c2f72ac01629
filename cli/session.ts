/**
 * A client session over the HTTP API, as a Redis connection sees it: what the proxy (one per
 * connection) and the REPL run commands through.
 *
 * `run` takes the commands that arrived together and answers one reply each, in order:
 * - commands answered here (HELLO, CLIENT, SELECT, AUTH, PING, QUIT, some CONFIG GET:
 *   see local-commands.ts) take no request;
 * - the other commands before a transaction's EXEC go in one `/pipeline` request (one `POST /`
 *   for a lone command), at most PIPELINE_COMMANDS or PIPELINE_BYTES per request, in order;
 * - MULTI … EXEC: MULTI answers OK, each command QUEUED, and EXEC sends the queue as one
 *   `/multi-exec` (atomic); DISCARD drops it.
 * - WATCH is sent on its own, and its response's sync token is the position the connection's
 *   keys are watched from; EXEC sends them with the queue (`["WATCH", …]` first, the position in
 *   `Flaredis-Watch-Position`), and answers nil when the server ran nothing because one was
 *   written since. EXEC, DISCARD and UNWATCH forget them. Keys watched by several WATCHes are
 *   watched from the first one's position.
 * Calls to `run` must not overlap (a connection's batches are answered in order).
 */
import { fromBytes } from "../durable-objects/engine/bytes.ts";
import { FlaredisHttp, isPrintable } from "./http.ts";
import { answerLocally, type ConnectionState, LOCAL_COMMANDS } from "./local-commands.ts";
import { type ApiOutcome, errorReply, fromOutcome, NULL_ARRAY, type Reply } from "./reply.ts";
import { type Reply3, toResp3 } from "./resp3.ts";

/** Per request: well under the API's 10,000 commands and 10 MiB. */
export const PIPELINE_COMMANDS = 1000;
export const PIPELINE_BYTES = 8 * 1024 * 1024;

/** A request's size for an argument (a binary string) in either of the API's encodings (http.ts): an upper bound. */
const argBytes = (a: string): number => (isPrintable(a) ? 2 * a.length + 3 : 4 * Math.ceil(a.length / 3) + 3);

const QUEUED = "QUEUED";

/** HELLO's `AUTH username password`, or null (`HELLO [protover [AUTH u p] [SETNAME n]]`). */
function helloAuth(args: readonly string[]): [string, string] | null {
  for (let i = 2; i + 2 < args.length; i++) if (args[i]!.toUpperCase() === "AUTH") return [args[i + 1]!, args[i + 2]!];
  return null;
}

export interface SessionOptions {
  /** Answer PING here (the proxy), or ask the server (the REPL). */
  localPing: boolean;
  /** Whether HELLO 3 switches the session to RESP3 (the proxy), or is refused (the REPL prints RESP2). */
  resp3?: boolean;
}

export class Session {
  readonly state: ConnectionState;
  /** The open transaction's commands; null outside MULTI. */
  private queue: string[][] | null = null;
  /** The keys WATCH named, and the position (a sync token) they are watched from; null: none. */
  private watching: { position: string; keys: string[] } | null = null;

  readonly http: FlaredisHttp;
  private readonly options: SessionOptions;

  constructor(http: FlaredisHttp, id: number, options: SessionOptions = { localPing: true }) {
    this.http = http;
    this.options = options;
    this.state = { id, name: null, protocol: 2, resp3: options.resp3 ?? false };
  }

  get inMulti(): boolean {
    return this.queue !== null;
  }

  /** One reply per command, in order (RESP3's types once HELLO 3 asked for them); `quit`: the client asked to close after them. */
  async run(commands: readonly Uint8Array[][]): Promise<{ replies: Reply3[]; protocols: (2 | 3)[]; quit: boolean }> {
    const replies: Reply3[] = new Array(commands.length).fill(null);
    // The protocol each reply is written in: the connection's when it was answered (a HELLO in the batch changes it).
    const protocols: (2 | 3)[] = [];
    let pending: { index: number; args: string[] }[] = [];
    const flush = async () => {
      await this.pipeline(pending, replies);
      pending = [];
    };
    let quit = false;
    for (const [index, raw] of commands.entries()) {
      protocols[index] = this.state.protocol;
      // Byte for byte: each argument a binary string (engine/bytes.ts), as the API takes any bytes.
      const args = raw.map(fromBytes);
      const name = args[0]!.toUpperCase();
      if (name === "QUIT") {
        replies[index] = "OK";
        quit = true;
        replies.length = index + 1;
        break;
      }
      if (this.queue) {
        if (name === "EXEC") {
          await flush();
          replies[index] = await this.exec();
        } else if (name === "DISCARD") {
          this.queue = null;
          this.watching = null;
          replies[index] = "OK";
        } else if (name === "MULTI") replies[index] = errorReply("ERR MULTI calls can not be nested");
        // Answered at once, as Redis does, and the transaction goes on.
        else if (name === "WATCH") replies[index] = errorReply("ERR WATCH inside MULTI is not allowed");
        else {
          this.queue.push(args);
          replies[index] = QUEUED;
        }
        continue;
      }
      if (name === "MULTI") {
        this.queue = [];
        replies[index] = "OK";
      } else if (name === "EXEC" || name === "DISCARD") replies[index] = errorReply(`ERR ${name} without MULTI`);
      else if (name === "WATCH") {
        await flush();
        replies[index] = await this.watch(args);
      } else if (name === "UNWATCH" && args.length === 1) {
        this.watching = null;
        replies[index] = "OK";
      } else if ((name === "AUTH" && args.length === 3) || (name === "HELLO" && helloAuth(args) !== null)) {
        // A user's AUTH (or HELLO's AUTH): the connection's requests are that user's from now on.
        await flush();
        const [user, password] = name === "AUTH" ? [args[1]!, args[2]!] : helloAuth(args)!;
        const refused = await this.http.useUser(user, password);
        const reply = refused !== null ? errorReply(refused) : name === "AUTH" ? "OK" : answerLocally(args, this.state)!;
        replies[index] = this.typed(reply, args);
        protocols[index] = this.state.protocol;
      } else if (LOCAL_COMMANDS.has(name) && (name !== "PING" || this.options.localPing)) {
        // The commands before a HELLO are answered in the protocol they were sent in; its own reply in the one it chose.
        if (name === "HELLO") await flush();
        const local = answerLocally(args, this.state);
        if (local === undefined) pending.push({ index, args });
        else replies[index] = this.typed(local, args);
        protocols[index] = this.state.protocol;
      } else pending.push({ index, args });
    }
    await flush();
    return { replies, protocols, quit };
  }

  /** WATCH, sent alone so that its response's sync token is the position the keys are watched from. */
  private async watch(args: string[]): Promise<Reply3> {
    const outcomes = await this.http.send("single", [args]);
    const reply = Array.isArray(outcomes) ? this.reply(outcomes[0]!, args) : errorReply(outcomes === null ? "ERR flaredis: no answer" : outcomes.error);
    if (reply === "OK") {
      if (this.watching) this.watching.keys.push(...args.slice(1).filter((k) => !this.watching!.keys.includes(k)));
      else this.watching = { position: this.http.syncToken, keys: args.slice(1) };
    }
    return reply;
  }

  private async exec(): Promise<Reply3> {
    const queued = this.queue ?? [];
    const watching = this.watching;
    this.queue = null;
    this.watching = null;
    if (queued.length === 0 && watching === null) return [];
    const outcomes = await this.http.send("multi", queued, watching ?? undefined);
    if (outcomes === null) return NULL_ARRAY;
    if (!Array.isArray(outcomes)) return errorReply(outcomes.error);
    return outcomes.map((o, i) => this.reply(o, queued[i]!));
  }

  private async pipeline(pending: { index: number; args: string[] }[], replies: Reply3[]): Promise<void> {
    for (let start = 0; start < pending.length; ) {
      let end = start;
      let bytes = 0;
      while (end < pending.length && end - start < PIPELINE_COMMANDS) {
        bytes += pending[end]!.args.reduce((n, a) => n + argBytes(a), 2);
        if (end > start && bytes > PIPELINE_BYTES) break;
        end++;
      }
      const chunk = pending.slice(start, end);
      const commands = chunk.map((c) => c.args);
      const outcomes = await this.http.send(chunk.length === 1 ? "single" : "pipeline", commands);
      // Not "multi": always one outcome per command.
      const list = outcomes as ApiOutcome[];
      chunk.forEach((c, i) => (replies[c.index] = this.reply(list[i]!, c.args)));
      start = end;
    }
  }

  private reply(outcome: ApiOutcome, args: string[]): Reply3 {
    try {
      return this.typed(fromOutcome(outcome, args), args);
    } catch (e) {
      return errorReply(`ERR flaredis: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** A reply as this connection's protocol types it (resp3.ts). */
  private typed(reply: Reply, args: readonly string[]): Reply3 {
    return this.state.protocol === 3 ? toResp3(reply, args) : reply;
  }
}
