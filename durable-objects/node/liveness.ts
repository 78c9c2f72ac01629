/**
 * Who notices that a master is gone, and what it costs while nothing happens.
 *
 * Every Durable Object request is billed, alarms included, so an idle deployment must not poll:
 * three sentinels pinging the master every second (Redis Sentinel's way) would be 6 requests a
 * second, and a replica ping every 10 s 0.4 more. Instead:
 *
 * - The master contacts each replica at least every IDLE_PING_MS (a push, empty when idle: Redis's
 *   repl-ping-replica-period), every HEARTBEAT_MS while writes go on, and tells it in each push
 *   when the next one comes (`Push.nextWithinMs`).
 * - A replica moves its own alarm to that time plus SILENCE_GRACE_MS at each contact. When it
 *   fires, the master said nothing it promised: the replica asks every sentinel to look
 *   (`SentinelApi.watch(master)`), and again every IDLE_PING_MS + SILENCE_GRACE_MS while the
 *   silence lasts.
 * - A sentinel sleeps (no alarm) while it has nothing to suspect. Asked to look by a replica, it
 *   pings the master and ticks every second (sentinel.ts) for a watch window (until the replica's
 *   next report would come), or as long as the master does not answer: SDOWN after
 *   down-after-milliseconds without an answer (counted from the replica's last push), ODOWN when a
 *   quorum agrees, then the election and the failover as before. A master that answers while a
 *   replica does not hear it (its link cut) is thus watched, and its loss noticed in time. Once the
 *   master answers, the reports stop and no failover is under way, it sleeps again.
 * - The master's writes need max(quorum, N - quorum + 1) of its N sentinels heard within
 *   down-after-milliseconds (the bound on what a partitioned master can accept; sentinel-lease.ts). Without polling sentinels, the master renews
 *   that lease itself (`SentinelApi.lease`) while writes come, in the background from half its
 *   life; the first write after an idle spell waits for one round trip to the sentinels.
 *
 * Idle, that is the master's alarm and one push per replica every IDLE_PING_MS: with three
 * replicas 4 requests per 9 s (0.44 a second), and a master that dies while idle is noticed within
 * IDLE_PING_MS + SILENCE_GRACE_MS (10 s); while writes go on, within down-after-milliseconds of
 * its last contact with the sentinels, as before.
 */

/** Heartbeat period while writes go on (Redis replicas ACK once a second). */
export const HEARTBEAT_MS = 1000;
/**
 * Heartbeat period without writes (Redis's repl-ping-replica-period is 10 s): quiet, but provably
 * alive. A replica that hears nothing for repl-timeout (60 s) marks its link down.
 */
export const IDLE_PING_MS = 9_000;
/** How late a promised push may be before the replica tells the sentinels. */
export const SILENCE_GRACE_MS = 1000;
/** A replica's silence alarm is moved only when it would come this much too early (see `Timers.move`). */
export const SILENCE_SLACK_MS = 1000;
