/**
 * Named timers on one alarm (a Durable Object has one): each timer has a deadline in engine time,
 * and the alarm is set to the earliest, capped at MAX_ALARM_MS ahead (deadlines go up to Redis's,
 * year 292 million; the runtime's alarms only to 2189). An alarm that comes early finds nothing
 * due and re-arms.
 */
import type { Clock } from "../engine/clock";

/** The furthest ahead the alarm is set. */
export const MAX_ALARM_MS = 24 * 60 * 60 * 1000;

/** Where the one alarm lives: a Durable Object's storage alarm, or a test's variable. */
export interface AlarmHost {
  /** Sets the alarm at `at`, in engine time. */
  setAlarm(at: number): Promise<void>;
}

export class Timers<Name extends string> {
  private readonly deadlines = new Map<Name, number>();
  /** When the alarm is set, in engine time; null when unset. */
  private armedAt: number | null;

  constructor(
    private readonly host: AlarmHost,
    private readonly clock: Clock,
    /** The alarm already set (after a restart), in engine time. */
    armedAt: number | null,
  ) {
    this.armedAt = armedAt;
  }

  /** Sets timer `name` to `at` unless it is due earlier already, and re-arms the alarm. */
  async schedule(name: Name, at: number | null): Promise<void> {
    const current = this.deadlines.get(name);
    if (at === null || (current !== undefined && current <= at)) return;
    this.deadlines.set(name, at);
    await this.rearm();
  }

  /** Sets timer `name` to `at` (or drops it for null), later or earlier. */
  set(name: Name, at: number | null): void {
    if (at === null) this.deadlines.delete(name);
    else this.deadlines.set(name, at);
  }

  /**
   * Sets timer `name` to `at`, later or earlier, and moves the alarm to the earliest timer. An
   * alarm set earlier than that stays unless it would come `slackMs` or more early: it then fires,
   * finds nothing due and re-arms, so a timer moved on every message does not set the alarm
   * (a storage write) on every message.
   */
  async move(name: Name, at: number, slackMs: number): Promise<void> {
    this.deadlines.set(name, at);
    await this.rearm(slackMs);
  }

  /** When timer `name` is due, or undefined when it is not set. */
  at(name: Name): number | undefined {
    return this.deadlines.get(name);
  }

  has(name: Name): boolean {
    return this.deadlines.has(name);
  }

  names(): Name[] {
    return [...this.deadlines.keys()];
  }

  /** The alarm fired: the timers due now, removed; call `rearm` after running them. */
  takeDue(): Set<Name> {
    this.armedAt = null;
    const now = this.clock.now();
    const due = new Set<Name>();
    for (const [name, at] of this.deadlines) if (at <= now) due.add(name);
    for (const name of due) this.deadlines.delete(name);
    return due;
  }

  /**
   * Sets the alarm to the earliest timer (see the file comment). An alarm set earlier stays (it
   * comes early and re-arms), unless it would come `laterBy` ms or more early (`move`).
   */
  async rearm(laterBy = Number.POSITIVE_INFINITY): Promise<void> {
    let next: number | null = null;
    for (const at of this.deadlines.values()) if (next === null || at < next) next = at;
    if (next === null) return;
    next = Math.min(next, this.clock.now() + MAX_ALARM_MS);
    if (this.armedAt !== null && this.armedAt <= next && next - this.armedAt < laterBy) return;
    this.armedAt = next;
    await this.host.setAlarm(next);
  }
}
