/**
 * A small HTTP/1.1 client for the benchmarks: keep-alive connections (one per concurrent
 * request, as a browser or the Upstash client would hold), JSON in and out, and the request's
 * `cf` location through the `MF-CF-Blob` header that wrangler's local runtime reads.
 */
import { Agent, request } from "node:http";

export interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** `request.cf` for a client at (latitude, longitude); see README "Reads at the edge". */
export function cfFrom(latitude: number, longitude: number, continent: string, country: string): string {
  return JSON.stringify({ latitude: String(latitude), longitude: String(longitude), continent, country, clientAcceptEncoding: "" });
}

export const PARIS = cfFrom(48.8566, 2.3522, "EU", "FR");
export const NEW_YORK = cfFrom(40.7128, -74.006, "NA", "US");

/** A request abandoned after its `timeoutMs` (its effect, if any, is unknown). */
export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
}

export class HttpClient {
  private readonly agent: Agent;
  private readonly url: URL;
  private readonly token: string;
  private readonly extra: Record<string, string>;

  /** `headers` go with every request (see `Started.headers`). */
  constructor(url: string, token: string, headers: Record<string, string> = {}, connections = 64) {
    this.url = new URL(url);
    this.token = token;
    this.extra = headers;
    this.agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  }

  /** POSTs `body` (JSON) to `path`; resolves with the status, headers and text. */
  post(path: string, body: unknown, headers: Record<string, string> = {}, timeoutMs?: number): Promise<HttpReply> {
    return this.send("POST", path, JSON.stringify(body), headers, timeoutMs);
  }

  get(path: string, headers: Record<string, string> = {}, timeoutMs?: number): Promise<HttpReply> {
    return this.send("GET", path, undefined, headers, timeoutMs);
  }

  /** `timeoutMs` (optional): the request is abandoned, and rejects with a `TimeoutError`, past it. */
  private send(method: string, path: string, body: string | undefined, headers: Record<string, string>, timeoutMs?: number): Promise<HttpReply> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers: {
            ...this.extra,
            authorization: `Bearer ${this.token}`,
            ...(body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      if (timeoutMs !== undefined) req.setTimeout(timeoutMs, () => req.destroy(new TimeoutError(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.end(body);
    });
  }

  /** POSTs a command and returns its `result`; a non-200 answer throws with its error. */
  async command(argv: unknown[], headers: Record<string, string> = {}): Promise<{ result: unknown; reply: HttpReply }> {
    const reply = await this.post("/", argv, headers);
    if (reply.status !== 200) throw new Error(`${JSON.stringify(argv)}: ${reply.status} ${reply.body}`);
    return { result: (JSON.parse(reply.body) as { result: unknown }).result, reply };
  }

  close(): void {
    this.agent.destroy();
  }
}
