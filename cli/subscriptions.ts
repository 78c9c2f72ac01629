/**
 * A proxy connection's subscriptions (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBEs),
 * as Redis keeps them per connection: each name is one subscription the API serves as Server-Sent
 * Events (worker/subscribe.ts), its messages written to the connection as they come (RESP3 pushes,
 * or arrays in RESP2). In RESP2, a connection with subscriptions takes only the pub/sub commands,
 * PING, QUIT and RESET, as Redis's does.
 */
import { toBytes } from "../durable-objects/engine/bytes.ts";
import type { FlaredisHttp } from "./http.ts";
import { errorReply } from "./reply.ts";
import type { Reply3 } from "./resp3.ts";

/** Each subscribing command's kind (the API's path), and the kind each UNSUBSCRIBE ends. */
const KINDS: Record<string, string> = { SUBSCRIBE: "subscribe", PSUBSCRIBE: "psubscribe", SSUBSCRIBE: "ssubscribe" };
const UNKINDS: Record<string, string> = { UNSUBSCRIBE: "subscribe", PUNSUBSCRIBE: "psubscribe", SUNSUBSCRIBE: "ssubscribe" };

/** Whether `name` (upper case) is a command this module answers. */
export const isPubSubCommand = (name: string): boolean => name in KINDS || name in UNKINDS;

const b = (s: string) => toBytes(s);

export class Subscriptions {
  /** Open subscriptions by kind, then name: each stops with its controller. */
  private readonly open = new Map<string, Map<string, AbortController>>();

  private readonly http: FlaredisHttp;
  /** Writes a message to the connection. */
  private readonly deliver: (push: Reply3) => void;

  // No parameter properties: the CLI runs under Node's type stripping.
  constructor(http: FlaredisHttp, deliver: (push: Reply3) => void) {
    this.http = http;
    this.deliver = deliver;
  }

  /** Channels, patterns and shard channels subscribed (Redis's count in its confirmations). */
  get count(): number {
    let n = 0;
    for (const names of this.open.values()) n += names.size;
    return n;
  }

  /**
   * Answers one pub/sub command: a confirmation per name (Redis's), each once the server holds
   * the subscription, or an error. `args` are binary strings, the name first.
   */
  async run(args: readonly string[]): Promise<Reply3[]> {
    const name = args[0]!.toUpperCase();
    const kind = KINDS[name];
    if (kind) {
      if (args.length < 2) return [errorReply(`ERR wrong number of arguments for '${name.toLowerCase()}' command`)];
      const out: Reply3[] = [];
      for (const channel of args.slice(1)) {
        const error = await this.add(kind, channel);
        out.push(error === null ? { push: [b(kind), b(channel), BigInt(this.count)] } : errorReply(error));
      }
      return out;
    }
    const names = this.open.get(UNKINDS[name]!);
    const asked = args.length > 1 ? args.slice(1) : [...(names?.keys() ?? [])];
    if (asked.length === 0) return [{ push: [b(name.toLowerCase()), null, BigInt(this.count)] }];
    return asked.map((channel) => {
      names?.get(channel)?.abort();
      names?.delete(channel);
      return { push: [b(name.toLowerCase()), b(channel), BigInt(this.count)] };
    });
  }

  /** Opens one subscription and starts forwarding its messages; an error text when refused. */
  private async add(kind: string, channel: string): Promise<string | null> {
    const names = this.open.get(kind) ?? new Map<string, AbortController>();
    this.open.set(kind, names);
    if (names.has(channel)) return null;
    const controller = new AbortController();
    let events: AsyncGenerator<string[]>;
    try {
      events = await this.http.events(kind, channel, controller.signal);
    } catch (e) {
      return e instanceof Error && e.message.startsWith("ERR") ? e.message : `ERR flaredis: ${e instanceof Error ? e.message : String(e)}`;
    }
    names.set(channel, controller);
    void this.forward(kind, channel, events, controller.signal);
    return null;
  }

  /**
   * Writes a subscription's messages to the connection until it is unsubscribed; a stream that
   * ends otherwise (a node restarted, a failover, the network) is opened again, with a backoff of
   * up to 5 s, so the client stays subscribed (what was published meanwhile is missed, as with Redis).
   */
  private async forward(kind: string, channel: string, first: AsyncGenerator<string[]>, signal: AbortSignal): Promise<void> {
    let events: AsyncGenerator<string[]> | null = first;
    for (let attempt = 0; !signal.aborted; ) {
      if (events !== null) {
        try {
          for await (const fields of events) this.deliver({ push: fields.map(b) });
        } catch {
          // Aborted, or the stream broke.
        }
        events = null;
        continue;
      }
      await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt++)));
      if (signal.aborted) return;
      try {
        events = await this.http.events(kind, channel, signal);
        attempt = 0;
      } catch {
        // Not yet: try again.
      }
    }
  }

  /** Ends every subscription (the connection closed). */
  close(): void {
    for (const names of this.open.values()) for (const c of names.values()) c.abort();
    this.open.clear();
  }
}
