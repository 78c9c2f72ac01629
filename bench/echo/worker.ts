/**
 * The ceiling: a Worker that forwards each request's JSON body to a Durable Object over RPC and
 * answers with what the object returns, doing nothing else. Flaredis's single commands have the
 * same shape (HTTP in, one Durable Object call, JSON out), so this is the most that workerd on
 * the bench machine allows for them.
 */
import { DurableObject } from "cloudflare:workers";

export class Echo extends DurableObject {
  echo(argv: unknown[]): unknown {
    return argv[argv.length - 1] ?? null;
  }
}

interface Env {
  ECHO: DurableObjectNamespace<Echo>;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const argv = (await request.json()) as unknown[];
    const result = await env.ECHO.get(env.ECHO.idFromName("echo")).echo(argv);
    return Response.json({ result });
  },
} satisfies ExportedHandler<Env>;
