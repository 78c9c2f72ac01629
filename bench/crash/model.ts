/**
 * The crash harness's model (issue 23): per key, the state its acknowledged replies imply. Each
 * writer owns its keys (`cr:<writer>:<kind>:<i>`, the kind says the type) and sends one request
 * at a time, so the model is exact: `exec` applies a command to it and, given the reply, says how
 * the reply differs from what the model expected. A request whose reply never came is pending: its
 * keys may hold any state along its commands (a pipeline, `candidates`) or its first or last
 * (MULTI/EXEC: all or nothing). SPOP picks members at random: an unanswered one leaves the set
 * as "these members but `pop` of them" (the writer never touches the set again in that request).
 */

export type Kind = "str" | "int" | "flt" | "bulk" | "list" | "hash" | "zset" | "set";
export const KINDS: readonly Kind[] = ["str", "int", "flt", "bulk", "list", "hash", "zset", "set"];
/** A key's value: null when absent (an empty collection is absent, as in Redis). */
export type Val = null | string | number | string[] | Map<string, number> | Set<string>;
/** A deadline set by EXPIRE: somewhere in [lo, hi] (the server's clock between send and reply). */
export interface Ttl {
  readonly lo: number;
  readonly hi: number;
}
export interface State {
  v: Val;
  ttl: Ttl | null;
  /** A set only: `v` less this many members unknown (an SPOP whose reply never came). */
  pop: number;
}
export type Db = Map<string, State>;
export type Mode = "single" | "pipeline" | "multi";
/** When a command went and came back (for a pending one: the time of the check). */
export interface Times {
  readonly send: number;
  readonly ack: number;
}
export interface Pending {
  readonly mode: Mode;
  readonly cmds: string[][];
  readonly send: number;
  readonly writer: number;
  readonly why: string;
}

export const kindOf = (key: string): Kind => key.split(":")[2] as Kind;
export const ABSENT: State = { v: null, ttl: null, pop: 0 };

export function cloneVal(v: Val): Val {
  if (Array.isArray(v)) return [...v];
  if (v instanceof Map) return new Map(v);
  if (v instanceof Set) return new Set(v);
  return v;
}

export const clone = (s: State): State => ({ v: cloneVal(s.v), ttl: s.ttl, pop: s.pop });

/** The keys a command writes. */
export function keysOf(argv: readonly string[]): string[] {
  if (argv[0] === "DEL") return argv.slice(1);
  if (argv[0] === "LMOVE") return [argv[1]!, argv[2]!];
  return [argv[1]!];
}

export function sameVal(a: Val, b: Val): boolean {
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);
  if (a instanceof Map) return b instanceof Map && a.size === b.size && [...a].every(([k, x]) => b.get(k) === x);
  return b instanceof Set && a.size === b.size && [...a].every((x) => b.has(x));
}

export function show(v: Val | undefined, max = 160): string {
  const text =
    v instanceof Map ? JSON.stringify([...v]) : v instanceof Set ? `set${JSON.stringify([...v].sort())}` : JSON.stringify(v === undefined ? "(no value)" : v);
  return text.length > max ? `${text.slice(0, max / 2)}…(${text.length} chars)…${text.slice(-max / 2)}` : text;
}

/**
 * Applies `argv` to `db`; with `reply` (an acknowledged command) answers null when the reply is
 * what the model expected, else what was expected. A pending command (no reply) applies the same
 * way, SPOP aside (its members unknown).
 */
export function exec(db: Db, argv: readonly string[], t: Times, reply?: unknown): string | null {
  const [cmd, key] = [argv[0]!, argv[1]!];
  const s = db.get(key) ?? clone(ABSENT);
  const answered = reply !== undefined;
  const put = (k: string, v: Val, ttl: Ttl | null) => db.set(k, { v, ttl: v === null ? null : ttl, pop: 0 });
  const expect = (want: string | number | null, numeric = typeof want === "number"): string | null => {
    if (!answered) return null;
    const ok = numeric ? reply !== null && Number(reply) === want : reply === want;
    return ok ? null : `expected ${JSON.stringify(want)}`;
  };
  switch (cmd) {
    case "SET":
      put(key, argv[2]!, null);
      return expect("OK");
    case "APPEND": {
      const v = ((s.v as string | null) ?? "") + argv[2]!;
      put(key, v, s.ttl);
      return expect(v.length);
    }
    case "SETRANGE": {
      const cur = (s.v as string | null) ?? "";
      const [off, val] = [Number(argv[2]), argv[3]!];
      const v = cur.slice(0, off) + val + cur.slice(off + val.length);
      put(key, v, s.ttl);
      return expect(v.length);
    }
    case "INCRBY":
    case "INCRBYFLOAT": {
      const v = ((s.v as number | null) ?? 0) + Number(argv[2]);
      put(key, v, s.ttl);
      return expect(v, true);
    }
    case "DEL": {
      let n = 0;
      for (const k of argv.slice(1)) {
        if ((db.get(k) ?? ABSENT).v !== null) n++;
        put(k, null, null);
      }
      return expect(n);
    }
    case "EXPIRE": {
      if (s.v === null) return expect(0);
      const ms = Number(argv[2]) * 1000;
      db.set(key, { ...s, ttl: { lo: t.send + ms, hi: t.ack + ms } });
      return expect(1);
    }
    case "LPUSH":
    case "RPUSH": {
      const list = [...((s.v as string[] | null) ?? [])];
      for (const e of argv.slice(2)) cmd === "LPUSH" ? list.unshift(e) : list.push(e);
      put(key, list, s.ttl);
      return expect(list.length);
    }
    case "LMOVE": {
      const src = [...((s.v as string[] | null) ?? [])];
      const e = argv[3] === "LEFT" ? src.shift() : src.pop();
      if (e === undefined) return expect(null);
      put(key, src.length ? src : null, s.ttl);
      const d = db.get(argv[2]!) ?? ABSENT;
      const dst = [...((d.v as string[] | null) ?? [])];
      argv[4] === "LEFT" ? dst.unshift(e) : dst.push(e);
      put(argv[2]!, dst, d.ttl);
      return expect(e);
    }
    case "HINCRBY":
    case "ZINCRBY": {
      const [field, by] = cmd === "HINCRBY" ? [argv[2]!, Number(argv[3])] : [argv[3]!, Number(argv[2])];
      const m = new Map((s.v as Map<string, number> | null) ?? []);
      const v = (m.get(field) ?? 0) + by;
      m.set(field, v);
      put(key, m, s.ttl);
      return expect(v, true);
    }
    case "SADD": {
      const set = new Set((s.v as Set<string> | null) ?? []);
      const before = set.size;
      for (const m of argv.slice(2)) set.add(m);
      put(key, set, s.ttl);
      return expect(set.size - before);
    }
    case "SPOP": {
      const set = new Set((s.v as Set<string> | null) ?? []);
      const k = Math.min(Number(argv[2]), set.size - s.pop);
      if (!answered) {
        if (k + s.pop >= set.size) put(key, null, null);
        else db.set(key, { v: set, ttl: s.ttl, pop: s.pop + k });
        return null;
      }
      const got = Array.isArray(reply) ? (reply as string[]) : [];
      const bad = !Array.isArray(reply) || got.length !== k || new Set(got).size !== k || got.some((m) => !set.has(m));
      for (const m of got) set.delete(m);
      put(key, set.size ? set : null, s.ttl);
      return bad ? `expected ${k} distinct members of ${show(s.v)}` : null;
    }
  }
  throw new Error(`model: no ${cmd}`);
}

/**
 * The states each key of a pending request may hold: its state before, then after each command
 * that touched it (a pipeline's commands apply in order, each or not; LMOVE's element follows the
 * order across keys); for MULTI/EXEC only before and after all.
 */
export function candidates(db: Db, p: Pending, now: number): Map<string, State[]> {
  const work: Db = new Map();
  const out = new Map<string, State[]>();
  const t = { send: p.send, ack: now };
  for (const argv of p.cmds)
    for (const k of keysOf(argv))
      if (!out.has(k)) {
        work.set(k, clone(db.get(k) ?? ABSENT));
        out.set(k, [clone(work.get(k)!)]);
      }
  for (const argv of p.cmds) {
    exec(work, argv, t);
    for (const k of keysOf(argv)) out.get(k)!.push(clone(work.get(k)!));
  }
  if (p.mode === "multi") for (const [k, list] of out) out.set(k, [list[0]!, list[list.length - 1]!]);
  return out;
}

/** What a key was read as: its value, PTTL, and when the read went and came back. */
export interface Read {
  readonly v: Val;
  readonly pttl: number;
  readonly t: Times;
}

/** Slack (ms) on deadlines: the server's clock against this process's. */
const SLACK = 20;

/** Null when `r` is the state `c`; else "value" or "ttl", what differs. */
export function differs(c: State, r: Read): "value" | "ttl" | null {
  if (c.pop > 0 && c.v instanceof Set) {
    const all = c.v;
    const got = r.v instanceof Set ? r.v : new Set<string>();
    if (got.size !== all.size - c.pop || [...got].some((m) => !all.has(m))) return "value";
  } else if (!sameVal(c.v, r.v)) return "value";
  if (r.v === null) return null;
  if (c.ttl === null) return r.pttl === -1 ? null : "ttl";
  // The deadline read is in [send + pttl, ack + pttl]; it must meet [lo, hi].
  return r.pttl >= 0 && r.t.send + r.pttl <= c.ttl.hi + SLACK && r.t.ack + r.pttl >= c.ttl.lo - SLACK ? null : "ttl";
}

/** The command that reads a key whole, by its kind. */
export function readCommand(key: string): string[] {
  switch (kindOf(key)) {
    case "list":
      return ["LRANGE", key, "0", "-1"];
    case "hash":
      return ["HGETALL", key];
    case "zset":
      return ["ZRANGE", key, "0", "-1", "WITHSCORES"];
    case "set":
      return ["SMEMBERS", key];
    default:
      return ["GET", key];
  }
}

/** A read's result as a value of the key's kind. */
export function parseRead(key: string, result: unknown): Val {
  const kind = kindOf(key);
  if (result === null) return null;
  if (kind === "int" || kind === "flt") return Number(result);
  if (kind === "str" || kind === "bulk") return String(result);
  const items = (result as unknown[]).map(String);
  if (items.length === 0) return null;
  if (kind === "list") return items;
  if (kind === "set") return new Set(items);
  const m = new Map<string, number>();
  for (let i = 0; i + 1 < items.length; i += 2) m.set(items[i]!, Number(items[i + 1]));
  return m;
}
