/**
 * A master's lease from the sentinels: it takes writes only while enough of them (`wanted`) have
 * heard from it within down-after-milliseconds (they may be electing another master behind a partition), which
 * bounds what a partitioned master can accept and then lose. Heard means a sentinel's ping
 * (`hello`) or an answer to the master's own renewal (`SentinelApi.lease`), counted from when it
 * was asked. The sentinels sleep while nothing is wrong (node/liveness.ts), so the master renews
 * the lease itself while writes come.
 */
import { type RedisError, errors } from "../engine/errors";
import { newerTopology, parseTopology } from "../protocol/topology";
import type { Node } from "./node";

/** How long a write waits for the sentinels' answers when the lease has run out. */
const CONFIRM_MS = 1000;

export class SentinelLease {
  /** When each sentinel last heard from this master (engine time). */
  private readonly heard = new Map<string, number>();
  /** The renewal under way, until it has every answer or CONFIRM_MS passed. */
  private renewal: Promise<void> | null = null;

  constructor(
    private readonly node: Node,
    /**
     * From when the sentinels count as heard: the promotion, for a master the sentinels just made
     * (its leader had a majority then); never, for one started from storage (a restart, a region
     * back): that one must hear a quorum first, or a restart would reopen the loss window.
     */
    private readonly since: number,
    /** Whether this master is still the node's role (answers that come later are not its). */
    private readonly current: () => boolean,
  ) {}

  /** The sentinels watch the configured nodes only. */
  private get needed(): boolean {
    return this.node.sentinels.sentinels.length > 0 && this.node.watched;
  }

  /** A sentinel heard from this master at `at`. */
  heardFrom(sentinel: string, at = this.node.clock.now()): void {
    if (at > (this.heard.get(sentinel) ?? Number.NEGATIVE_INFINITY)) this.heard.set(sentinel, at);
  }

  /**
   * Asks every sentinel to count this master as heard from now; a newer topology in an answer is
   * adopted (the master is not one any more). Resolves once every sentinel answered or failed, or
   * after CONFIRM_MS, whichever comes first.
   */
  renew(): Promise<void> {
    if (this.renewal) return this.renewal;
    if (!this.needed) return Promise.resolve();
    const asked = this.node.clock.now();
    const answers = Promise.allSettled(
      this.node.sentinels.sentinels.map(async (s) => {
        const answer = await this.node.peers.sentinel(s).lease(this.node.name, this.node.known);
        const t = parseTopology(answer.topology);
        if (!this.current()) return;
        if (t && newerTopology(this.node.known, t)) await this.node.adoptTopology(t);
        else if (answer.granted) this.heardFrom(s, asked);
      }),
    );
    this.node.background(answers);
    const timeout = new AbortController();
    const renewal = Promise.race([answers, this.node.clock.sleep(CONFIRM_MS, timeout.signal)]).then(() => undefined);
    this.renewal = renewal.finally(() => {
      timeout.abort();
      this.renewal = null;
    });
    return this.renewal;
  }

  /** Before a write: renews from half the lease's life on, and waits for that when it has run out. */
  async beforeWrite(): Promise<void> {
    if (!this.needed || this.left() >= this.node.sentinels.downAfterMs / 2) return;
    const renewal = this.renew();
    if (this.refusal()) await renewal;
  }

  /**
   * Sentinels the master must have heard from: the quorum, and enough that fewer than a quorum
   * remain (a failover needs a quorum to see the master down; votes need no such view): with N
   * sentinels, max(quorum, N - quorum + 1).
   */
  private get wanted(): number {
    const { sentinels, quorum } = this.node.sentinels;
    return Math.max(quorum, sentinels.length - quorum + 1);
  }

  /** How long the lease has left (ms): until fewer than `wanted` sentinels count as heard. */
  private left(): number {
    const { sentinels, downAfterMs } = this.node.sentinels;
    const heard = sentinels.map((s) => this.heard.get(s) ?? this.since).sort((a, b) => b - a);
    return (heard[this.wanted - 1] ?? Number.NEGATIVE_INFINITY) + downAfterMs - this.node.clock.now();
  }

  /** Why this master takes no write now (NOQUORUM), or null. */
  refusal(): RedisError | null {
    if (!this.needed) return null;
    const { sentinels, downAfterMs } = this.node.sentinels;
    const now = this.node.clock.now();
    let heard = 0;
    for (const s of sentinels) if (now - (this.heard.get(s) ?? this.since) <= downAfterMs) heard++;
    return heard >= this.wanted ? null : errors.noQuorum(heard, this.wanted);
  }
}
