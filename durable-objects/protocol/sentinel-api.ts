/**
 * What the worker, the nodes and the other sentinels say to a sentinel (Redis Sentinel's
 * commands, as RPC). Contracts only, no runtime code.
 */
import type { Topology } from "./topology";

/** SENTINEL is-master-down-by-addr: the asker's question, with a vote request when `candidate` is set. */
export interface DownQuestion {
  /** The sentinel asking. */
  readonly from: string;
  /** The master it asks about. */
  readonly primary: string;
  /** The asker's current epoch (with a vote request: the epoch it wants to lead). */
  readonly epoch: number;
  /** The sentinel asking to be voted leader for `epoch`, or null for the down question only. */
  readonly candidate: string | null;
  /** The newest topology the asker knows (the asked one takes it when newer). */
  readonly topology?: Topology;
  /** When the master last answered the asker: a sleeping sentinel counts SDOWN from there. */
  readonly silentSince?: number;
  /** A vote asked for an automatic failover (the master taken for down), not a coordinated one. */
  readonly auto?: boolean;
}

export interface DownAnswer {
  /** This sentinel sees `primary` subjectively down. */
  readonly down: boolean;
  /** Whom this sentinel voted for in `leaderEpoch` (null: no vote). */
  readonly leader: string | null;
  readonly leaderEpoch: number;
  /** The newest topology this sentinel knows. */
  readonly topology: Topology;
}

/** A failover's answer: what it made, or why nothing changed. */
export type FailoverAnswer =
  | { readonly ok: true; readonly topology: Topology; readonly offset: number }
  | { readonly ok: false; readonly status: 400 | 409 | 503; readonly error: string; readonly topology: Topology };

/** One node as a sentinel sees it. */
export interface WatchedNode {
  readonly node: string;
  readonly role: "master" | "slave" | "unknown";
  /** Subjectively down: no answer for down-after-milliseconds. */
  readonly sdown: boolean;
  /** ms since its last answer, or -1 when it never answered this sentinel. */
  readonly lastOkMs: number;
  readonly offset: number;
  readonly linkUp: boolean;
}

/** A sentinel's view: what `/admin/topology` shows when the primary cannot be asked. */
export interface SentinelStatus {
  readonly sentinel: string;
  readonly epoch: number;
  readonly topology: Topology;
  /** The master is objectively down (a quorum agreed) as this sentinel last counted. */
  readonly odown: boolean;
  /** The failover this sentinel leads, if any. */
  readonly failover: { readonly epoch: number; readonly to: string | null; readonly state: string } | null;
  readonly nodes: readonly WatchedNode[];
  /** Recent role changes, newest last. */
  readonly events: readonly { readonly at: number; readonly event: string }[];
  /** The Durable Object requests (RPC calls and alarms) this sentinel served since it started, by method, before this call. */
  readonly requests_by_method?: Readonly<Record<string, number>>;
}

export interface SentinelApi {
  /**
   * Looks at `node` (the master when not named) now, and keeps watching (the alarm ticks) for a
   * while, and while it does not answer: what a replica asks when its master broke its promise of a push
   * (`silentSince`: its last push; `topology`: what the replica knows).
   */
  watch(node?: string, silentSince?: number, topology?: Topology): Promise<void>;
  /**
   * The master `node` renews its lease: the sentinel counts it as an answer and returns the
   * topology it knows (newer: the master is not one any more), and whether the lease counts (not
   * while it has voted for, or leads, an automatic failover). See node/liveness.ts.
   */
  lease(node: string, topology: Topology): Promise<{ readonly topology: Topology; readonly granted: boolean }>;
  isMasterDown(question: DownQuestion): Promise<DownAnswer>;
  /** A newer topology another sentinel made (Sentinel's hello messages carry it). */
  announce(topology: Topology): Promise<void>;
  /** POST /admin/failover: a coordinated switch to `to` (Redis's SENTINEL FAILOVER / FAILOVER). */
  failover(to: string): Promise<FailoverAnswer>;
  status(): Promise<SentinelStatus>;
  fault(fault: { readonly down: boolean } | { readonly restart: true }): Promise<void>;
}
