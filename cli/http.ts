/**
 * The HTTP API as the tools use it: arguments of any bytes, base64 replies (binary-safe), and
 * the `upstash-sync-token` of each answer sent with the next request, so a session reads its own
 * writes even when a replica serves the read. One FlaredisHttp is one session: use one per
 * connection.
 *
 * Arguments are binary strings (one code unit per byte, engine/bytes.ts). A request whose
 * arguments are all printable ASCII goes as JSON text, as any client sends it; any other is sent
 * base64 (`Flaredis-Request-Encoding: base64`), so every byte arrives as it was.
 */
import { type ApiOutcome, parseJsonExact } from "./reply.ts";

export type Mode = "single" | "pipeline" | "multi";

const PATHS: Record<Mode, string> = { single: "/", pipeline: "/pipeline", multi: "/multi-exec" };

const PRINTABLE = /^[\x20-\x7e]*$/;

/** Whether a binary string goes in a JSON body as it is: printable ASCII only. */
export const isPrintable = (s: string): boolean => PRINTABLE.test(s);

export class FlaredisHttp {
  /** The replication position the last answer reflected (opaque). */
  syncToken = "";

  readonly url: string;
  /** The token requests carry: the one given, or an ACL user's `user:password` after `useUser`. */
  private token: string;
  private readonly given: string;
  private readonly fetchFn: typeof fetch;

  constructor(url: string, token: string, fetchFn: typeof fetch = fetch) {
    this.url = url.replace(/\/+$/, "");
    this.token = token;
    this.given = token;
    this.fetchFn = fetchFn;
  }

  /**
   * Redis's AUTH user password: from now on requests carry the ACL user's token `user:password`
   * (worker/acl.ts), once a request with it is not refused as a wrong password; `default` is the
   * token given. @returns the WRONGPASS error, or null when it took
   */
  async useUser(user: string, password: string): Promise<string | null> {
    const token = user === "default" ? this.given : `${user}:${password}`;
    if (token !== this.given) {
      // The worker checks AUTH's credentials (worker/auth.ts checkAuth), asked with the token given.
      const response = await this.fetchFn(this.url, {
        method: "POST",
        headers: { authorization: `Bearer ${this.given}` },
        body: JSON.stringify(["AUTH", user, password]),
      }).catch(() => null);
      if (response === null) return `ERR flaredis: cannot reach ${this.url}`;
      if (!response.ok) return refusal(await response.text());
      await response.body?.cancel();
    }
    this.token = token;
    return null;
  }

  /**
   * Sends commands and answers one outcome per command, in order. A request refused as a whole
   * (a transaction's EXECABORT, 401, 413, an unreachable server) answers that error for each
   * command in `single` and `pipeline` mode; in `multi` mode it is the transaction's one error,
   * and null is a transaction that ran nothing (a watched key written since). Never throws.
   */
  async send(mode: Mode, commands: string[][], watch?: { readonly keys: readonly string[]; readonly position: string }): Promise<ApiOutcome[] | { error: string } | null> {
    // A watched transaction: `["WATCH", key …]` first, and the position the keys are watched from.
    const all = watch ? [["WATCH", ...watch.keys], ...commands] : commands;
    const plain = all.every((argv) => argv.every(isPrintable));
    const sent = plain ? all : all.map((argv) => argv.map((a) => btoa(a)));
    const body = JSON.stringify(mode === "single" ? sent[0] : sent);
    const headers: Record<string, string> = watch ? { "Flaredis-Watch-Position": watch.position } : {};
    if (!plain) headers["Flaredis-Request-Encoding"] = "base64";
    let response: Response;
    let text: string;
    try {
      response = await this.fetchFn(this.url + PATHS[mode], {
        method: "POST",
        headers: {
          authorization: `Bearer ${this.token}`,
          "content-type": "application/json",
          "upstash-encoding": "base64",
          "upstash-sync-token": this.syncToken,
          ...headers,
        },
        body,
      });
      text = await response.text();
    } catch (e) {
      const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : "";
      return this.whole(mode, commands, `ERR flaredis: cannot reach ${this.url}: ${String(e instanceof Error ? e.message : e)}${cause}`);
    }
    const token = response.headers.get("upstash-sync-token");
    if (token) this.syncToken = token;
    let json: unknown;
    try {
      json = parseJsonExact(text);
    } catch {
      return this.whole(mode, commands, `ERR flaredis: HTTP ${response.status} from ${this.url}: ${text.slice(0, 200)}`);
    }
    // A transaction whose watched keys were written since: EXEC's nil.
    if (mode === "multi" && json === null && response.ok) return null;
    if (json !== null && typeof json === "object" && !Array.isArray(json) && "error" in json)
      return this.whole(mode, commands, String(json.error));
    if (mode === "single" && json !== null && typeof json === "object" && "result" in json) return [json as ApiOutcome];
    if (mode !== "single" && Array.isArray(json) && json.length === commands.length) return json as ApiOutcome[];
    return this.whole(mode, commands, `ERR flaredis: unexpected answer (HTTP ${response.status}): ${text.slice(0, 200)}`);
  }

  /**
   * Opens a subscription (`subscribe`, `psubscribe` or `ssubscribe` of one name) as the API serves
   * it: its events, each Redis's push fields as binary strings, once the server confirmed it.
   * @throws Error when the server refuses it or cannot be reached
   */
  async events(kind: string, name: string, signal: AbortSignal): Promise<AsyncGenerator<string[]>> {
    const path = Array.from(name, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join("");
    const response = await this.fetchFn(`${this.url}/${kind}/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.token}`, accept: "text/event-stream", "flaredis-events": "base64" },
      body: "[]",
      signal,
    });
    if (!response.ok || !response.body) {
      const text = await response.text();
      throw new Error(refusal(text, text.slice(0, 200)));
    }
    const stream = sseEvents(response.body);
    await stream.next(); // the server's confirmation: subscribed from here on
    return stream;
  }

  /**
   * `method` `path` of the admin API (the token must be the admin one): the response, or
   * @throws Error with the request, its status and the error it answered
   */
  async admin(path: string, method = "GET"): Promise<Response> {
    const response = await this.fetchFn(`${this.url}${path}`, { method, headers: { authorization: `Bearer ${this.token}` } });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${refusal(await response.text())}`);
    return response;
  }

  private whole(mode: Mode, commands: string[][], error: string): ApiOutcome[] | { error: string } {
    return mode === "multi" ? { error } : commands.map(() => ({ error }));
  }
}

/** The error a refused response's body says: its JSON `error`, else `fallback` (the body as it is). */
function refusal(text: string, fallback = text): string {
  try {
    return String((JSON.parse(text) as { error?: unknown }).error ?? fallback);
  } catch {
    return fallback; // not JSON
  }
}

/** The events of an SSE body in `Flaredis-Events: base64`: each a JSON array of base64 fields. */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<string[]> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    const events = buffer.split("\n\n");
    buffer = events.pop()!;
    for (const e of events) if (e.startsWith("data: ")) yield (JSON.parse(e.slice(6)) as string[]).map((f) => atob(f));
  }
}
