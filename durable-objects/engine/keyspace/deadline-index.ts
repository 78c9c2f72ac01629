/** The keys by deadline: what the expiry's sweep, volatile eviction and INFO's `expires` ask of the storage. */
export interface DeadlineIndex {
  /** Keys whose deadline is at or before `now`, earliest first. */
  due(now: number, limit: number): string[];
  /** Hashes whose `fieldsExpireAt` is at or before `now`, earliest first. */
  dueFieldKeys(now: number, limit: number): string[];
  /** The earliest key deadline or hash `fieldsExpireAt`, or null. */
  nextDeadline(): number | null;
  /**
   * A key with a deadline, picked at a random point `r` in [0, 1) of the span of deadlines, ends
   * included (the first at or after it), or null when no key has one. Volatile eviction samples
   * with it.
   */
  randomWithDeadline(r: number): string | null;
  countWithDeadline(): number;
}
