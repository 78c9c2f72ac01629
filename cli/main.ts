/**
 * The `flaredis` bin: `cli`, `proxy`, `fill`, `import`, `export`, `backups`, `backup` and `restore` (see `usage`). Options come before a one-shot
 * command, as with redis-cli: `flaredis cli --url U --token T SET k v`.
 */
import { runBackup, runBackups, runRestore } from "./backups.ts";
import { runFill } from "./fill.ts";
import { runImport } from "./import.ts";
import { runExport, runFileImport } from "./rdb-file.ts";
import { startProxy } from "./proxy.ts";
import { ProxyMetrics } from "./proxy-metrics.ts";
import { runCli } from "./repl.ts";

const usage = `usage:
  flaredis cli   --url U --token T [--raw | --no-raw] [command args...]
        a redis-cli-like prompt over the HTTP API; with a command, runs it once (exit 1 on an error reply)
  flaredis proxy --url U --token T [--port 6379] [--host 127.0.0.1] [--metrics-port N]
        a Redis server (RESP2 and RESP3) for redis-cli, redis-benchmark and Redis client libraries;
        --metrics-port serves its own metrics (Prometheus text, GET /metrics) on that port
  flaredis fill  --url U --token T --keys N [--size 16] [--prefix key:] [--batch 1000] [--parallel 4] [--binary]
        writes N keys with pipelined SETs, with a progress bar on a terminal; --binary: values of any bytes
  flaredis import --url U --token T [--batch 500] [--resume] [--state FILE] redis[s]://[user:pass@]host[:port][/db]
        copies a running Redis's keys (SCAN, DUMP, PTTL, then RESTORE … REPLACE), resumable from FILE
        (default .flaredis-import.json) with --resume; a progress bar, and both sides' key counts at the end
  flaredis import --url U --token T [--flush] FILE.rdb
        loads an RDB file (checked whole first: a bad file changes nothing); --flush empties the keyspace first
  flaredis export --url U --token T FILE.rdb
        writes the keyspace at one offset (GET /admin/export, the admin token) as an RDB file redis-server loads
  flaredis backups --url U --token T
        lists the backups in the deployment's R2 bucket, newest first
  flaredis backup  --url U --token T
        makes a backup now
  flaredis restore --url U --token T [--flush] NAME
        loads backup NAME (any size: downloaded, checked whole, then loaded as \`import FILE\` does)

  --url and --token default to $FLAREDIS_URL and $FLAREDIS_TOKEN.`;

const FLAGS = new Set(["raw", "no-raw", "help", "binary", "resume", "flush"]);
const VALUES: Record<string, readonly string[]> = {
  cli: ["url", "token"],
  proxy: ["url", "token", "port", "host", "metrics-port"],
  fill: ["url", "token", "keys", "size", "prefix", "batch", "parallel"],
  import: ["url", "token", "batch", "state"],
  export: ["url", "token"],
  backups: ["url", "token"],
  backup: ["url", "token"],
  restore: ["url", "token"],
};

class UsageError extends Error {}

/** `--name value` and `--flag` options up to the first word that is not one; the rest as is. */
function parseOptions(sub: string, argv: readonly string[]): { options: Record<string, string | true>; rest: string[] } {
  const options: Record<string, string | true> = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith("--")) break;
    const [name, inline] = word.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (FLAGS.has(name) && inline === undefined) options[name] = true;
    else if (VALUES[sub]?.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      options[name] = value;
    } else throw new UsageError(`unknown option --${name} for ${sub}`);
  }
  return { options, rest: argv.slice(i) };
}

function integer(options: Record<string, string | true>, name: string, fallback: number, min = 1): number {
  const value = options[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}`);
  return n;
}

function target(options: Record<string, string | true>): { url: string; token: string } {
  const url = String(options.url ?? process.env.FLAREDIS_URL ?? "");
  const token = String(options.token ?? process.env.FLAREDIS_TOKEN ?? "");
  if (!url || !token) throw new UsageError("--url and --token are required (or $FLAREDIS_URL and $FLAREDIS_TOKEN)");
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url ${url} is not a URL`);
  }
  return { url, token };
}

async function main(argv: string[]): Promise<number> {
  const [sub, ...args] = argv;
  if (sub === undefined || sub === "help" || sub === "--help" || !(sub in VALUES)) {
    console.error(usage);
    return sub === undefined || sub === "help" || sub === "--help" ? 0 : 2;
  }
  const { options, rest } = parseOptions(sub, args);
  if (options.help) {
    console.log(usage);
    return 0;
  }
  const needs: Record<string, string> = { import: "source (redis://host:port or a file)", export: "file", restore: "backup name (see `flaredis backups`)" };
  if (sub in needs && rest.length !== 1) throw new UsageError(`${sub} needs one ${needs[sub]}`);
  if (sub !== "cli" && !(sub in needs) && rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  const { url, token } = target(options);
  switch (sub) {
    case "cli":
      return runCli({ url, token, raw: options.raw ? true : options["no-raw"] ? false : undefined, command: rest });
    case "proxy": {
      const port = integer(options, "port", 6379, 0);
      const host = String(options.host ?? "127.0.0.1");
      // The metrics, when asked for, on their own port of the same host (Prometheus's text on GET /metrics).
      const metrics = options["metrics-port"] === undefined ? undefined : new ProxyMetrics();
      const metricsServer = metrics ? await metrics.serve(integer(options, "metrics-port", 0, 0), host) : null;
      const server = await startProxy({ url, token, port, host, ...(metrics ? { metrics } : {}) });
      const address = server.address();
      const bound = address && typeof address === "object" ? address.port : port;
      const metricsAddress = metricsServer?.address();
      const metricsPort = metricsAddress && typeof metricsAddress === "object" ? ` (metrics on ${host}:${metricsAddress.port}/metrics)` : "";
      console.log(`flaredis proxy: listening on ${host}:${bound}, forwarding to ${url}${metricsPort}`);
      // Open client connections would keep the process alive after close(): exit at once.
      const stop = () => server.close(() => process.exit(0)) && setTimeout(() => process.exit(0), 100).unref();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      return new Promise<number>(() => {});
    }
    case "export":
      return runExport({ url, token, file: rest[0]! });
    case "backups":
      return runBackups({ url, token });
    case "backup":
      return runBackup({ url, token });
    case "restore":
      return runRestore({ url, token, name: rest[0]!, flush: options.flush === true });
    case "import":
      if (!/^rediss?:\/\//i.test(rest[0]!)) return runFileImport({ url, token, file: rest[0]!, flush: options.flush === true });
      return runImport({
        url,
        token,
        source: rest[0]!,
        batch: integer(options, "batch", 500),
        resume: options.resume === true,
        state: String(options.state ?? ".flaredis-import.json"),
      });
    default:
      if (options.keys === undefined) throw new UsageError("fill needs --keys N");
      return runFill({
        url,
        token,
        keys: integer(options, "keys", 0),
        size: integer(options, "size", 16, 0),
        prefix: String(options.prefix ?? "key:"),
        batch: integer(options, "batch", 1000),
        parallel: integer(options, "parallel", 4),
        binary: options.binary === true,
      });
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    if (e instanceof UsageError) {
      console.error(`flaredis: ${e.message}\n\n${usage}`);
      process.exitCode = 2;
    } else {
      console.error(`flaredis: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    }
  },
);
