/**
 * The ceiling: a Worker that forwards each request's JSON body to a Durable Object over RPC and
 * answers with what the object returns, doing nothing else. Flaredis's single commands have the
 * same shape (HTTP in, one Durable Object call, JSON out), so this is the most that workerd on
 * the bench machine allows for them. `POST /durable` is the same call, and the object also
 * commits the body as one SQLite row in a transaction: the most a durable write allows.
 */
import { DurableObject } from "cloudflare:workers";

export class Echo extends DurableObject {
  private rows = 0;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (n INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  }

  echo(argv: unknown[]): unknown {
    return argv[argv.length - 1] ?? null;
  }

  /** `echo`, after committing `argv` as a row (the table is emptied now and then). */
  record(argv: unknown[]): unknown {
    const n = ++this.rows;
    const body = new TextEncoder().encode(JSON.stringify(argv));
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("INSERT OR REPLACE INTO log (n, body) VALUES (?, ?)", n % 10_000, body.buffer);
    });
    return this.echo(argv);
  }
}

interface Env {
  ECHO: DurableObjectNamespace<Echo>;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const argv = (await request.json()) as unknown[];
    const stub = env.ECHO.get(env.ECHO.idFromName("echo"));
    const result = new URL(request.url).pathname === "/durable" ? await stub.record(argv) : await stub.echo(argv);
    return Response.json({ result });
  },
} satisfies ExportedHandler<Env>;
