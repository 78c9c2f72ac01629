/**
 * The checks after each restart: every key the model knows read whole on the primary (with its
 * PTTL) must be its acknowledged state, or, for the keys of a request whose reply never came, a
 * state along that request; a difference is "lost" (an acknowledged effect missing), "twice" (one
 * applied again) or "wrong". Then the model takes what was read. Then every replica must reach
 * the primary's offset and the four nodes' digests must be equal.
 */
import type { HttpClient } from "../lib/http.ts";
import { sleep } from "../lib/load.ts";
import { type Read, type State, type Val, candidates, clone, differs, kindOf, parseRead, readCommand, sameVal, show } from "./model.ts";
import type { Ledger, Logged } from "./writer.ts";

export const NODES = ["enam", "wnam", "weur", "apac"] as const;
const PRIMARY_READ = { "Flaredis-Max-Staleness": "0" };

/** Reads keys in pipelines of 200 commands (a read and PTTL each), retried while the node is starting. */
async function readAll(http: HttpClient, keys: string[]): Promise<Map<string, Read>> {
  const out = new Map<string, Read>();
  for (let i = 0; i < keys.length; i += 100) {
    const part = keys.slice(i, i + 100);
    const cmds = part.flatMap((k) => [readCommand(k), ["PTTL", k]]);
    for (let from = Date.now(); ; await sleep(200)) {
      const send = Date.now();
      const reply = await http.post("/pipeline", cmds, PRIMARY_READ, 30_000).catch((e: unknown) => ({ status: 0, body: String(e) }));
      const t = { send, ack: Date.now() };
      const results = reply.status === 200 ? (JSON.parse(reply.body) as { result?: unknown; error?: string }[]) : null;
      const failed = results === null ? `${reply.status} ${reply.body}` : results.find((r) => r.error !== undefined)?.error;
      if (failed === undefined && results !== null) {
        part.forEach((k, j) => out.set(k, { v: parseRead(k, results[2 * j]!.result ?? null), pttl: Number(results[2 * j + 1]!.result), t }));
        break;
      }
      if (Date.now() - from > 30_000) throw new Error(`reading keys back: ${failed}`);
    }
  }
  return out;
}

/** Sum of a run of consecutive increments equal to `d` (a range applied twice, or lost). */
function rangeSum(incs: number[], d: number): boolean {
  const seen = new Set([0]);
  let sum = 0;
  for (const x of incs) {
    sum += x;
    if (seen.has(sum - d)) return true;
    seen.add(sum);
  }
  return false;
}

/** Increments per field of the acknowledged commands in `log` ("" for a string counter). */
function increments(log: Logged[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const { argv } of log) {
    const [field, by] = argv[0] === "HINCRBY" ? [argv[2]!, argv[3]!] : argv[0] === "ZINCRBY" ? [argv[3]!, argv[2]!] : ["", argv[2]!];
    if (!["INCRBY", "INCRBYFLOAT", "HINCRBY", "ZINCRBY"].includes(argv[0]!)) continue;
    out.set(field, [...(out.get(field) ?? []), Number(by)]);
  }
  return out;
}

/** What a value differing from `want` looks like: an older acknowledged state or fewer effects (lost), more (twice), else wrong. */
function classify(key: string, want: Val, got: Val, history: Val[], log: Logged[]): "lost" | "twice" | "wrong" {
  const older = history.slice(0, -1);
  if (older.some((v) => sameVal(v, got))) return "lost";
  const kind = kindOf(key);
  const size = (v: Val) => (v === null ? 0 : typeof v === "string" ? v.length : typeof v === "number" ? 0 : Array.isArray(v) ? v.length : v.size);
  if (kind === "int" || kind === "flt" || kind === "hash" || kind === "zset") {
    const incs = increments(log);
    const num = (v: Val, f: string) => (v === null ? 0 : typeof v === "number" ? v : v instanceof Map ? (v.get(f) ?? 0) : NaN);
    const fields = new Set([...incs.keys(), ...(want instanceof Map ? want.keys() : []), ...(got instanceof Map ? got.keys() : [])]);
    if (kind === "int" || kind === "flt") fields.add("");
    let twice = 0;
    let lost = 0;
    for (const f of fields) {
      const d = num(got, f) - num(want, f);
      if (d === 0) continue;
      if (rangeSum(incs.get(f) ?? [], d)) twice++;
      else if (rangeSum(incs.get(f) ?? [], -d)) lost++;
      else return "wrong";
    }
    return twice && !lost ? "twice" : lost && !twice ? "lost" : "wrong";
  }
  if (kind === "set") {
    // Members missing (an SADD lost), or popped ones back (an SPOP lost): lost; members never added: wrong.
    const [g, w] = [got instanceof Set ? got : new Set<string>(), want instanceof Set ? want : new Set<string>()];
    const seen = new Set(history.flatMap((v) => (v instanceof Set ? [...v] : [])));
    return [...g].every((m) => w.has(m) || seen.has(m)) ? "lost" : "wrong";
  }
  return size(got) > size(want) ? "twice" : size(got) < size(want) ? "lost" : "wrong";
}

export interface CheckResult {
  keys: number;
  pendingKeys: number;
  lost: number;
  twice: number;
  wrong: number;
  /** Unanswered requests found applied, not applied, or in part (or either: a request that changed nothing). */
  applied: number;
  notApplied: number;
  inPart: number;
}

/** Checks every key against the model (see the file's comment), then makes the model what was read. */
export async function checkKeys(http: HttpClient, ledger: Ledger, killedAt: number): Promise<CheckResult> {
  const now = Date.now();
  const cands = new Map<string, State[]>();
  const pendingOf = new Map<string, number>();
  for (const [k, s] of ledger.db) cands.set(k, [s]);
  ledger.pending.forEach((p, i) => {
    for (const [k, list] of candidates(ledger.db, p, now)) {
      if (pendingOf.has(k)) throw new Error(`harness: ${k} in two pending requests`);
      pendingOf.set(k, i);
      cands.set(k, list);
    }
  });
  const keys = [...cands.keys()];
  const reads = await readAll(http, keys);
  const res: CheckResult = { keys: keys.length, pendingKeys: pendingOf.size, lost: 0, twice: 0, wrong: 0, applied: 0, notApplied: 0, inPart: 0 };
  // Per unanswered request: whether each key read as before it (none) or after it (all).
  const outcome = ledger.pending.map(() => ({ none: true, all: true }));
  // For a MULTI/EXEC without reply: which of none (0) or all (1) each key matched.
  const multi = new Map<number, { none: string[]; all: string[] }>();
  for (const k of keys) {
    const r = reads.get(k)!;
    const list = cands.get(k)!;
    const i = pendingOf.get(k);
    const p = i === undefined ? undefined : ledger.pending[i]!;
    const matched = list.findIndex((c) => differs(c, r) === null);
    const tainted = ledger.tainted.has(k);
    if (matched < 0 && !tainted) {
      const log = ledger.log.get(k) ?? [];
      const history = [ledger.start.get(k) ?? null, ...log.map((l) => l.after)];
      const valueOk = list.find((c) => differs(c, r) !== "value");
      const want = list[list.length - 1]!;
      let kind: "lost" | "twice" | "wrong";
      let what: string;
      if (valueOk) {
        kind = valueOk.ttl !== null && r.pttl === -1 ? "lost" : "wrong";
        const span = valueOk.ttl ? `deadline in [${valueOk.ttl.lo}, ${valueOk.ttl.hi}]` : "no TTL";
        what = `TTL: expected ${span}; read PTTL ${r.pttl} between ${r.t.send} and ${r.t.ack} (deadline ${r.t.send + r.pttl}..${r.t.ack + r.pttl})`;
      } else {
        kind = classify(k, want.v, r.v, history, log);
        what = `read ${show(r.v)}, expected ${list.length > 1 ? `one of ${list.map((c) => show(c.v, 80)).join(" | ")}` : show(want.v)}`;
      }
      res[kind]++;
      const last = log
        .slice(-4)
        .map((l) => `${JSON.stringify(l.argv).slice(0, 120)} acked ${killedAt - l.at} ms before the kill`)
        .join("; ");
      const inflight = p ? `; unanswered ${p.mode} (sent ${killedAt - p.send} ms before the kill, ${p.why.slice(0, 60)}): ${JSON.stringify(p.cmds.filter((c) => c.includes(k))).slice(0, 300)}` : "";
      ledger.violation({ kind, key: k, detail: `${what}; last acknowledged on it: ${last || "none this cycle"}${inflight}` });
    }
    if (i !== undefined) {
      outcome[i]!.none &&= differs(list[0]!, r) === null;
      outcome[i]!.all &&= differs(list[list.length - 1]!, r) === null;
    }
    if (p?.mode === "multi" && !tainted) {
      const m = multi.get(i!) ?? { none: [], all: [] };
      const none = differs(list[0]!, r) === null;
      const all = differs(list[1]!, r) === null;
      if (none && !all) m.none.push(k);
      if (all && !none) m.all.push(k);
      multi.set(i!, m);
    }
    // The model takes what was read: the matching state's deadline bounds, else the read's.
    const ttl = matched >= 0 ? list[matched]!.ttl : r.pttl >= 0 ? { lo: r.t.send + r.pttl, hi: r.t.ack + r.pttl } : null;
    ledger.db.set(k, { v: r.v, ttl: r.v === null ? null : ttl, pop: 0 });
    ledger.start.set(k, clone(ledger.db.get(k)!).v);
  }
  for (const [i, m] of multi)
    if (m.none.length && m.all.length) {
      res.wrong++;
      ledger.violation({ kind: "wrong", key: m.all[0]!, detail: `MULTI/EXEC without reply applied in part: ${m.all.join(",")} applied, ${m.none.join(",")} not: ${JSON.stringify(ledger.pending[i]!.cmds).slice(0, 300)}` });
    }
  for (const o of outcome) res[o.all && !o.none ? "applied" : o.none && !o.all ? "notApplied" : "inPart"]++;
  ledger.log.clear();
  ledger.pending = [];
  ledger.tainted.clear();
  return res;
}

interface Topology {
  from: string;
  primary: { node: string; offset: number };
  replicas: { node: string; link: string; offset: number }[];
}

/** Waits (up to `limitMs`) for every replica up at the primary's offset, then compares the four digests. */
export async function compareDigests(admin: HttpClient, limitMs = 30_000): Promise<{ equal: boolean; primary: string; ms: number; detail: string }> {
  const from = Date.now();
  let detail = "";
  let primary = "?";
  while (Date.now() - from < limitMs) {
    const t = await admin
      .get("/admin/topology", {}, 5000)
      .then((r) => (r.status === 200 ? (JSON.parse(r.body) as Topology) : null))
      .catch(() => null);
    if (t === null) {
      detail = "no topology";
    } else {
      primary = t.primary.node;
      const behind = t.replicas.filter((r) => r.link !== "up" || r.offset !== t.primary.offset);
      detail = `${t.from}: primary ${primary}@${t.primary.offset}, ${t.replicas.map((r) => `${r.node} ${r.link}@${r.offset}`).join(", ")}`;
      if (t.from === "primary" && behind.length === 0) {
        const digests = await Promise.all(
          NODES.map((n) => admin.get(`/admin/nodes/${n}/digest`, {}, 10_000).then((r) => JSON.parse(r.body) as { digest: string; offset: number })),
        );
        detail = NODES.map((n, i) => `${n} ${digests[i]!.digest.slice(0, 10)}@${digests[i]!.offset}`).join(", ");
        if (digests.every((d) => d.digest === digests[0]!.digest)) return { equal: true, primary, ms: Date.now() - from, detail };
      }
    }
    await sleep(200);
  }
  return { equal: false, primary, ms: Date.now() - from, detail };
}
