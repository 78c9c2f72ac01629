/**
 * The proxy's own metrics, in Prometheus's text format on `GET /metrics` of `--metrics-port`:
 * connections (open and accepted), commands received, and the HTTP requests it made to the
 * Worker (by route and status, the ones that could not reach it, and their durations), so that a
 * sidecar's health is seen beside the Worker's own `/metrics`.
 */
import { createServer, type Server } from "node:http";

/** Request durations' buckets, in seconds (the Worker is a few ms away at best, a second at worst). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const ROUTES: Record<string, string> = { "/": "single", "/pipeline": "pipeline", "/multi-exec": "multi" };

export class ProxyMetrics {
  connections = 0;
  connectionsTotal = 0;
  commandsTotal = 0;
  /** route → status → count */
  private readonly requests = new Map<string, Map<number, number>>();
  private readonly unreachable = new Map<string, number>();
  private readonly durations = new Map<string, { counts: number[]; sum: number; count: number }>();

  /** `fetch`, counted: what FlaredisHttp is given. */
  readonly fetch: typeof fetch = async (input, init) => {
    const route = ROUTES[new URL(String(input instanceof Request ? input.url : input)).pathname] ?? "other";
    const start = performance.now();
    try {
      const response = await fetch(input, init);
      const statuses = this.requests.get(route) ?? new Map<number, number>();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      this.requests.set(route, statuses);
      this.observe(route, (performance.now() - start) / 1000);
      return response;
    } catch (e) {
      this.unreachable.set(route, (this.unreachable.get(route) ?? 0) + 1);
      throw e;
    }
  };

  private observe(route: string, seconds: number): void {
    const d = this.durations.get(route) ?? { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
    BUCKETS.forEach((le, i) => {
      if (seconds <= le) d.counts[i]!++;
    });
    d.sum += seconds;
    d.count++;
    this.durations.set(route, d);
  }

  /** The metrics in Prometheus's text exposition format. */
  render(): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, lines: string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    };
    metric("flaredis_proxy_connections", "gauge", "Client connections open.", [`flaredis_proxy_connections ${this.connections}`]);
    metric("flaredis_proxy_connections_total", "counter", "Client connections accepted.", [`flaredis_proxy_connections_total ${this.connectionsTotal}`]);
    metric("flaredis_proxy_commands_total", "counter", "Commands received from clients.", [`flaredis_proxy_commands_total ${this.commandsTotal}`]);
    metric(
      "flaredis_proxy_http_requests_total",
      "counter",
      "HTTP requests to the Worker, by route and status.",
      [...this.requests].flatMap(([route, statuses]) => [...statuses].map(([status, n]) => `flaredis_proxy_http_requests_total{route="${route}",status="${status}"} ${n}`)),
    );
    metric(
      "flaredis_proxy_http_unreachable_total",
      "counter",
      "HTTP requests to the Worker that got no response (a network error).",
      [...this.unreachable].map(([route, n]) => `flaredis_proxy_http_unreachable_total{route="${route}"} ${n}`),
    );
    metric(
      "flaredis_proxy_http_request_duration_seconds",
      "histogram",
      "Time from sending an HTTP request to the Worker to its response's headers.",
      [...this.durations].flatMap(([route, d]) => [
        ...BUCKETS.map((le, i) => `flaredis_proxy_http_request_duration_seconds_bucket{route="${route}",le="${le}"} ${d.counts[i]}`),
        `flaredis_proxy_http_request_duration_seconds_bucket{route="${route}",le="+Inf"} ${d.count}`,
        `flaredis_proxy_http_request_duration_seconds_sum{route="${route}"} ${d.sum}`,
        `flaredis_proxy_http_request_duration_seconds_count{route="${route}"} ${d.count}`,
      ]),
    );
    return `${out.join("\n")}\n`;
  }

  /** Serves `GET /metrics` (anything else: 404); resolves once it listens (port 0: a free one). */
  serve(port: number, host: string): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.method === "GET" && req.url === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
        res.end(this.render());
      } else {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found\n");
      }
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve(server);
      });
    });
  }
}
