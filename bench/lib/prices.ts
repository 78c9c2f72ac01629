/**
 * Every price the bench uses, in one place: US dollars per million units, as published (list
 * prices beyond the plans' included amounts; the Workers Paid plan's $5 a month and its included
 * requests, rows and duration are left out). Written down on 2026-11-30 from:
 *
 * - https://developers.cloudflare.com/durable-objects/platform/pricing/ (SQLite storage backend:
 *   rows written $1.00 per million, rows read $0.001 per million; requests $0.15 per million,
 *   where every RPC call and every alarm is a request)
 * - https://developers.cloudflare.com/workers/platform/pricing/ (requests $0.30 per million)
 * - https://upstash.com/pricing/redis (pay as you go: $0.20 per 100,000 commands, each command of
 *   a pipeline counted)
 *
 * Not counted in the cost figures: Durable Object duration (GB-s while an object is active),
 * Workers CPU time, stored GB-months, and the sentinels' own alarms (they depend on time, not on
 * the commands).
 */
export const PRICES = {
  read: "2026-11-30",
  cloudflare: {
    /** Durable Objects, SQLite storage backend. */
    rows_written: 1.0,
    rows_read: 0.001,
    /** Durable Objects requests: RPC calls, HTTP requests, alarms. */
    do_requests: 0.15,
    /** Workers requests (each HTTP request to the worker). */
    workers_requests: 0.3,
  },
  /** Upstash Redis pay-as-you-go: $0.20 per 100,000 commands. */
  upstash_commands: 2.0,
  sources: [
    "https://developers.cloudflare.com/durable-objects/platform/pricing/",
    "https://developers.cloudflare.com/workers/platform/pricing/",
    "https://upstash.com/pricing/redis",
  ],
} as const;

/** What one command costs in billed units on Cloudflare (all nodes summed). */
export interface UnitsPerCommand {
  readonly rows_written_all_nodes: number;
  readonly rows_read_all_nodes: number;
  readonly do_requests: number;
  readonly workers_requests: number;
}

/** Dollars per million commands at Cloudflare's list prices. */
export function cloudflareUsdPerMillion(u: UnitsPerCommand): number {
  const p = PRICES.cloudflare;
  return u.rows_written_all_nodes * p.rows_written + u.rows_read_all_nodes * p.rows_read + u.do_requests * p.do_requests + u.workers_requests * p.workers_requests;
}
