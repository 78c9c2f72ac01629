/**
 * What the chaos run records: every operation, as a line of bench/results/chaos-history.jsonl;
 * the counts the summary prints; failed requests by kind; and the violations.
 */
import { type WriteStream, createWriteStream, mkdirSync } from "node:fs";
import { now } from "./context.ts";

export const HISTORY_PATH = "bench/results/chaos-history.jsonl";

/** A value in a violation's text: JSON, cut at 80 characters. */
export const show = (v: unknown) => JSON.stringify(v)?.slice(0, 80);

export class Journal {
  readonly counts = {
    ops: 0,
    acked: 0,
    refused: 0,
    unknown: 0,
    transactions: 0,
    flushes: 0,
    waits: 0,
    waitsInMulti: 0,
    waitConfirmed: 0,
    waitChecks: 0,
    waitNodesSeen: 0,
    reads: 0,
    tokenReads: 0,
    replicaReads: 0,
    ttlOps: 0,
    probes: 0,
    surrogateProbes: 0,
    requests: 0,
    requestsOk: 0,
    /** WAITs answered by every replica (durable points of the model). */
    waitAll: 0,
    /** Writes acknowledged by a primary that went down before the answer was modelled (counted unknown). */
    ackedBeforeLoss: 0,
    /** Token reads that a lost history may have served (checked, but raising no floor). */
    lossyReads: 0,
    /** Keys seen, on the new primary's history, without acknowledged writes that a primary lost going down (allowed). */
    lostToFailover: 0,
    /** Commands on collections (alone or in transactions). */
    collectionWrites: 0,
    /** Reads of an own collection with the token: whole, and in part (HGET, LLEN, SISMEMBER, ZSCORE). */
    collectionReads: 0,
    collectionProbes: 0,
  };
  /** Failed writes while the primary was down and no replica promoted yet, by kind. */
  readonly outageWriteErrors: Record<string, number> = {};
  /** Failed requests by kind: `<status> <error prefix>`, `timeout`, `network <code>`. */
  readonly errorKinds: Record<string, number> = {};
  readonly violations: string[] = [];
  private readonly history: WriteStream;
  /** History times count from here. */
  private readonly begun: number;

  constructor() {
    mkdirSync("bench/results", { recursive: true });
    this.history = createWriteStream(HISTORY_PATH);
    this.begun = now();
  }

  log(entry: Record<string, unknown>): void {
    this.history.write(`${JSON.stringify({ t: Math.round(now() - this.begun), ...entry })}\n`);
  }

  violation(text: string, entry: Record<string, unknown> = {}): void {
    this.violations.push(text);
    this.log({ violation: text, ...entry });
  }

  /** How many violations there are of the kind whose text starts with `prefix`. */
  violationsOf(prefix: string): number {
    return this.violations.filter((v) => v.startsWith(prefix)).length;
  }

  /** Flushes the history file. */
  close(): Promise<void> {
    return new Promise<void>((resolve) => this.history.end(resolve));
  }
}
