/**
 * The crash harness's mixed writer: each writer owns its keys and sends one request at a time
 * (a command alone, a pipeline, a MULTI/EXEC, or a large pipeline of SETs that Flaredis keeps
 * in memory: keys_deferred) of effects that a second application would show: APPEND, SETRANGE,
 * INCRBY, INCRBYFLOAT (halves: sums exact in binary), LPUSH/RPUSH, LMOVE between its two lists,
 * HINCRBY, ZINCRBY, SADD then SPOP, EXPIRE far ahead, SET and DEL. The ledger holds the model:
 * every acknowledged reply checked against it and applied; a request without a reply pending.
 */
import type { Random } from "../chaos/context.ts";
import type { HttpClient } from "../lib/http.ts";
import { type Db, type Mode, type Pending, type Val, ABSENT, clone, exec, keysOf } from "./model.ts";

/** How many keys of each kind a writer owns (lists come in pairs: `list:<i>` and `list:<i+1>`). */
const OWNED = { str: 16, int: 8, flt: 8, bulk: 1000, list: 6, hash: 4, zset: 4, set: 4 } as const;

export interface Violation {
  readonly kind: "lost" | "twice" | "wrong";
  readonly key: string;
  readonly detail: string;
}

/** An acknowledged command on a key since the last check, and the key's value after it. */
export interface Logged {
  readonly argv: readonly string[];
  readonly at: number;
  readonly after: Val;
}

export class Ledger {
  /** The state every acknowledged reply implies. */
  readonly db: Db = new Map();
  /** Per key: its value at the last check, then each acknowledged command on it. */
  readonly start = new Map<string, Val>();
  readonly log = new Map<string, Logged[]>();
  pending: Pending[] = [];
  /** Keys whose reply was not the model's (a violation already): read back as they are at the next check. */
  readonly tainted = new Set<string>();
  readonly violations: Violation[] = [];
  readonly counts = { requests: 0, acked: 0, commands: 0, unanswered: 0, refused: 0 };
  readonly errors = new Map<string, number>();

  touch(key: string): void {
    if (!this.db.has(key)) {
      this.db.set(key, clone(ABSENT));
      this.start.set(key, null);
    }
  }

  violation(v: Violation): void {
    this.violations.push(v);
  }

  /** Applies an acknowledged command; a reply that is not the model's is a violation. */
  ack(argv: readonly string[], send: number, ack: number, result: unknown): boolean {
    const wrong = exec(this.db, argv, { send, ack }, result);
    for (const k of keysOf(argv)) {
      const list = this.log.get(k) ?? [];
      list.push({ argv, at: ack, after: this.db.get(k)!.v });
      this.log.set(k, list);
    }
    if (wrong === null) return true;
    this.violation({ kind: "wrong", key: argv[1]!, detail: `reply to ${JSON.stringify(argv)} was ${JSON.stringify(result)}, ${wrong}` });
    for (const k of keysOf(argv)) this.tainted.add(k);
    return false;
  }

  error(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }
}

/** Errors that refuse a command (no effect) while a node starts or sentinels are not heard yet. */
const TRANSIENT = /^(NOQUORUM|TRYAGAIN|LOADING|MASTERDOWN)/;

export class Writer {
  /** Keys this writer leaves alone until the next check (a request on them has no known outcome). */
  readonly frozen = new Set<string>();
  private seq = 0;
  rnd: Random;
  /** Only string commands (no collection or EXPIRE, which make the primary store its deferred keys). */
  stringsOnly = false;
  readonly id: number;
  private readonly ledger: Ledger;

  constructor(id: number, rnd: Random, ledger: Ledger) {
    this.id = id;
    this.rnd = rnd;
    this.ledger = ledger;
  }

  private int(lo: number, hi: number): number {
    return Math.floor(this.rnd.between(lo, hi + 1));
  }

  /** A nonzero integer in [-lim, lim]. */
  private nonzero(lim: number): number {
    const n = this.int(-lim, lim - 1);
    return n >= 0 ? n + 1 : n;
  }

  private key(kind: keyof typeof OWNED, i = this.int(0, OWNED[kind] - 1)): string {
    return `cr:${this.id}:${kind}:${i}`;
  }

  private token(): string {
    return `${this.id}.${++this.seq}`;
  }

  /** One small command on keys not frozen (null if the chosen ones are); `busy`: sets an SPOP left unknown in this request. */
  private op(work: Db, busy: Set<string>): string[] | null {
    // Strings only: APPEND, SETRANGE, INCRBY, INCRBYFLOAT, DEL, SET (keys the primary may keep deferred).
    const r = !this.stringsOnly ? this.rnd.next() * 100 : this.rnd.next() < 0.85 ? this.rnd.next() * 41 : this.rnd.between(88, 100);
    let argv: string[];
    if (r < 15) argv = ["APPEND", this.key("str"), `|${this.token()}`];
    else if (r < 21) {
      const k = this.key("str");
      const len = ((work.get(k) ?? this.ledger.db.get(k) ?? ABSENT).v as string | null)?.length ?? 0;
      argv = ["SETRANGE", k, String(this.int(0, len)), `#${this.token()}#`];
    } else if (r < 33) argv = ["INCRBY", this.key("int"), String(this.nonzero(1000))];
    else if (r < 41) argv = ["INCRBYFLOAT", this.key("flt"), String(this.nonzero(20) / 2)];
    else if (r < 49) argv = [this.rnd.next() < 0.5 ? "LPUSH" : "RPUSH", this.key("list"), ...Array.from({ length: this.int(1, 3) }, () => `e${this.token()}`)];
    else if (r < 55) {
      const pair = 2 * this.int(0, OWNED.list / 2 - 1);
      const [a, b] = this.rnd.next() < 0.5 ? [pair, pair + 1] : [pair + 1, pair];
      const side = () => (this.rnd.next() < 0.5 ? "LEFT" : "RIGHT");
      argv = ["LMOVE", this.key("list", a), this.key("list", b), side(), side()];
    } else if (r < 63) argv = ["HINCRBY", this.key("hash"), `f${this.int(0, 5)}`, String(this.nonzero(100))];
    else if (r < 71) argv = ["ZINCRBY", this.key("zset"), String(this.nonzero(20) / 2), `m${this.int(0, 7)}`];
    else if (r < 78) argv = ["SADD", this.key("set"), ...Array.from({ length: this.int(1, 4) }, () => `s${this.token()}`)];
    else if (r < 82) argv = ["SPOP", this.key("set"), String(this.int(1, 3))];
    else if (r < 88) {
      const kind = this.rnd.pick(["str", "int", "flt", "bulk", "list", "hash", "zset", "set"] as const);
      argv = ["EXPIRE", this.key(kind), String(this.int(100_000, 1_000_000))];
    } else if (r < 93) argv = ["DEL", ...Array.from({ length: this.int(1, 3) }, () => this.key(this.rnd.pick(["str", "int", "flt", "bulk"] as const)))];
    else argv = ["SET", this.key(this.rnd.pick(["str", "bulk"] as const)), `v${this.token()}`];
    const keys = keysOf(argv);
    if (keys.some((k) => this.frozen.has(k) || busy.has(k))) return null;
    if (argv[0] === "SPOP") busy.add(argv[1]!);
    return argv;
  }

  /** A large pipeline of SETs (some APPENDs and INCRBYs among them) on its 1000 bulk keys. */
  bulk(): string[][] {
    const cmds: string[][] = [];
    const n = this.int(200, 600);
    while (cmds.length < n) {
      const r = this.rnd.next();
      const k = r < 0.95 ? this.key("bulk") : this.key("int");
      if (this.frozen.has(k)) continue;
      if (r < 0.85) cmds.push(["SET", k, `b${this.token()}${"x".repeat(this.int(10, 100))}`]);
      else if (r < 0.95) cmds.push(["APPEND", k, `|${this.token()}`]);
      else cmds.push(["INCRBY", k, String(this.int(1, 100))]);
    }
    return cmds;
  }

  /** The next request: its mode and commands. */
  next(): { mode: Mode; cmds: string[][] } {
    const r = this.rnd.next();
    if (r < 0.15) return { mode: "pipeline", cmds: this.bulk() };
    const mode: Mode = r < 0.5 ? "single" : r < 0.8 ? "pipeline" : "multi";
    const n = mode === "single" ? 1 : mode === "pipeline" ? this.int(2, 40) : this.int(2, 12);
    const work: Db = new Map();
    const busy = new Set<string>();
    const cmds: string[][] = [];
    for (let tries = 0; cmds.length < n && tries < 4 * n; tries++) {
      const argv = this.op(work, busy);
      if (argv === null) continue;
      for (const k of keysOf(argv)) if (!work.has(k)) work.set(k, clone(this.ledger.db.get(k) ?? ABSENT));
      exec(work, argv, { send: 0, ack: 0 });
      cmds.push(argv);
    }
    return { mode, cmds };
  }

  /** Writes until `stopped()`; a request without a reply ends the loop when stopping (the kill). */
  async run(http: HttpClient, stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      const { mode, cmds } = this.next();
      if (cmds.length === 0) continue;
      await this.send(http, mode, cmds);
    }
  }

  async send(http: HttpClient, mode: Mode, cmds: string[][]): Promise<void> {
    const { ledger } = this;
    for (const argv of cmds) for (const k of keysOf(argv)) ledger.touch(k);
    const path = mode === "single" ? "/" : mode === "pipeline" ? "/pipeline" : "/multi-exec";
    const send = Date.now();
    ledger.counts.requests++;
    const unknown = (why: string) => {
      ledger.counts.unanswered++;
      ledger.pending.push({ mode, cmds, send, writer: this.id, why });
      for (const argv of cmds) for (const k of keysOf(argv)) this.frozen.add(k);
    };
    let status: number;
    let body: string;
    try {
      ({ status, body } = await http.post(path, mode === "single" ? cmds[0] : cmds, {}, 20_000));
    } catch (e) {
      ledger.error(String((e as Error).message ?? e).slice(0, 40));
      return unknown(String(e));
    }
    const ack = Date.now();
    if (status !== 200) {
      ledger.error(`${status} ${body.slice(0, 40)}`);
      if (status === 400) ledger.violation({ kind: "wrong", key: keysOf(cmds[0]!)[0]!, detail: `${path} ${JSON.stringify(cmds).slice(0, 200)}: ${status} ${body}` });
      return unknown(`${status} ${body}`);
    }
    ledger.counts.acked++;
    const parsed = JSON.parse(body) as unknown;
    const results = (mode === "single" ? [parsed] : parsed) as { result?: unknown; error?: string }[];
    cmds.forEach((argv, i) => {
      const r = results[i] ?? { error: "no result" };
      ledger.counts.commands++;
      if (r.error !== undefined) {
        // A refused command has no effect; ours are all valid, so only a transient refusal is expected.
        ledger.counts.refused++;
        ledger.error(r.error.split(" ")[0]!);
        if (!TRANSIENT.test(r.error)) ledger.violation({ kind: "wrong", key: argv[1]!, detail: `${JSON.stringify(argv)} answered ${r.error}` });
        return;
      }
      if (!ledger.ack(argv, send, ack, r.result ?? null)) for (const k of keysOf(argv)) this.frozen.add(k);
    });
  }
}
