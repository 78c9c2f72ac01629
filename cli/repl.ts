/**
 * `flaredis cli`: redis-cli over the HTTP API. Lines are split as redis-cli splits them
 * (quotes, `\xHH`), run through a Session (so MULTI/EXEC, SELECT 0 and the sync token work as on
 * a connection) and printed as redis-cli prints: quoted and numbered on a terminal, `--raw`
 * bytes as they are (the default when stdout is not a terminal, as redis-cli does; `--no-raw`
 * forces the quoted form). History is kept in ~/.flaredis_history.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { formatRaw, formatReply } from "./format.ts";
import { FlaredisHttp } from "./http.ts";
import { isError, type Reply } from "./reply.ts";
import { splitArgs } from "../durable-objects/engine/split-args.ts";
import type { Reply3 } from "./resp3.ts";
import { Session } from "./session.ts";

export interface ReplOptions {
  url: string;
  token: string;
  /** true: --raw, false: --no-raw, undefined: raw unless stdout is a terminal. */
  raw?: boolean;
  /** A one-shot command (redis-cli's argv form); none: the interactive prompt. */
  command: string[];
}

const HISTORY = join(homedir(), ".flaredis_history");
const HISTORY_LINES = 1000;

/** Commands whose text redis-cli prints raw even on a terminal (redis-cli.c, cliSendCommand). */
function printedRaw(args: readonly string[]): boolean {
  const [name = "", sub = ""] = args.map((a) => a.toLowerCase());
  return (
    name === "info" ||
    name === "lolwut" ||
    (name === "client" && (sub === "list" || sub === "info")) ||
    (name === "memory" && (sub === "doctor" || sub === "malloc-stats")) ||
    (name === "cluster" && ["info", "nodes", "replicas", "slaves"].includes(sub)) ||
    (name === "latency" && (sub === "doctor" || sub === "graph"))
  );
}

/**
 * As redis-cli: the commands of printedRaw write their text as is, with no newline added, in any
 * mode; otherwise --raw (or stdout not a terminal) writes the bytes and a newline, and a
 * terminal gets the quoted, numbered form.
 */
function print(reply: Reply, raw: boolean, args: readonly string[]): void {
  if (printedRaw(args)) process.stdout.write(formatRaw(reply));
  else if (raw) {
    process.stdout.write(formatRaw(reply));
    process.stdout.write("\n");
  } else process.stdout.write(formatReply(reply));
}

/** Runs the REPL or the one-shot command; resolves to the process's exit code. */
export async function runCli(options: ReplOptions): Promise<number> {
  const raw = options.raw ?? !process.stdout.isTTY;
  const session = new Session(new FlaredisHttp(options.url, options.token), 1, { localPing: false });
  const encoder = new TextEncoder();
  if (options.command.length > 0) {
    const { replies } = await session.run([options.command.map((a) => encoder.encode(a))]);
    const reply = resp2(replies[0] ?? null);
    print(reply, raw, options.command);
    return isError(reply) ? 1 : 0;
  }
  return interactive(session, raw, options.url);
}

/** A REPL session's reply: RESP2's kinds only (its session refuses HELLO 3). */
const resp2 = (reply: Reply3): Reply => reply as Reply;

function loadHistory(): string[] {
  try {
    return readFileSync(HISTORY, "utf8").split("\n").filter(Boolean).slice(-HISTORY_LINES).reverse();
  } catch {
    return [];
  }
}

async function interactive(session: Session, raw: boolean, url: string): Promise<number> {
  const host = new URL(url).host;
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: Boolean(process.stdin.isTTY),
    history: loadHistory(),
    historySize: HISTORY_LINES,
  });
  rl.on("SIGINT", () => rl.close()); // Ctrl-C leaves, as in redis-cli
  // Commands piped in (not a terminal) are run without prompts, as redis-cli does.
  const prompt = () => {
    if (!process.stdin.isTTY) return;
    rl.setPrompt(session.inMulti ? `${host}(TX)> ` : `${host}> `);
    rl.prompt();
  };
  prompt();
  for await (const line of rl) {
    const words = splitArgs(new TextEncoder().encode(line));
    if (words === null) {
      process.stdout.write("Invalid argument(s)\n");
    } else if (words.length > 0) {
      if (process.stdin.isTTY) {
        try {
          appendFileSync(HISTORY, `${line}\n`);
        } catch {
          // No history file (a read-only home): the session goes on without it.
        }
      }
      const name = new TextDecoder().decode(words[0]).toLowerCase();
      if (name === "quit" || name === "exit") break;
      const { replies, quit } = await session.run([words]);
      const text = words.map((w) => new TextDecoder().decode(w));
      for (const reply of replies) print(resp2(reply), raw, text);
      if (quit) break;
    }
    prompt();
  }
  rl.close();
  return 0;
}
