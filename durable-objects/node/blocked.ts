/**
 * Clients blocked on keys on the primary (BLPOP and its kin: engine/blocking.ts). A request whose
 * blocking command found nothing waits here. After each batch that writes, the waiters one of
 * whose keys it wrote run their command again, oldest first (Redis serves the client that blocked
 * first), each in a batch of its own: an element goes to one waiter, and what a waiter takes is
 * logged and replicated as its non-blocking twin's effects before its client hears of it. A waiter
 * leaves when it took something, at its timeout (nil), or when the node stops being the primary.
 */
import { MAX_BLOCK_MS } from "../engine/blocking";
import type { BlockOn, Permission } from "../engine/command";
import { flagsOf } from "../engine/command";
import type { Clock } from "../engine/clock";
import { Engine, type Outcome } from "../engine/engine";
import { type SlotGuard, guardRefusal } from "../engine/slot-guard";
import { batchKeys } from "../protocol/read-your-writes";

/** The waiters a node holds at most: past them, a blocking command that finds nothing answers an error. */
export const MAX_BLOCKED = 10_000;

interface Waiter {
  readonly keys: ReadonlySet<string>;
  readonly argv: readonly string[];
  readonly permission: Permission;
  readonly resolve: (outcome: Outcome) => void;
  /** Cancels its timeout's timer. */
  readonly timer: AbortController;
}

/** A waiter that took something: answered once what it wrote is replicated. */
export interface Served {
  /** The key it pushed onto (BLMOVE's and BRPOPLPUSH's destination), which may wake others; null for a pop. */
  readonly pushed: string | null;
  answer(): void;
}

/**
 * A stream reader (XREAD, XREADGROUP): what it finds depends on its own IDs or group, so a key
 * where one found nothing may hold something for the next; an error (its group destroyed, the key
 * of another type now) answers it at once, as Redis unblocks such a client.
 */
const readsStream = (argv: readonly string[]): boolean => /^xread(group)?$/i.test(argv[0] ?? "");

/** The key a blocking command pushes what it takes onto: BLMOVE's and BRPOPLPUSH's destination. */
const pushedTo = (argv: readonly string[]): string | null => (/^(blmove|brpoplpush)$/i.test(argv[0] ?? "") ? argv[2]! : null);

export class BlockedClients {
  /** Oldest first. */
  private waiters: Waiter[] = [];

  constructor(private readonly clock: Clock) {}

  get count(): number {
    return this.waiters.length;
  }

  /** Waits for `argv` (which answered `block`) to take something: its outcome, or nil at its timeout. */
  wait(argv: readonly string[], permission: Permission, block: BlockOn): Promise<Outcome> {
    if (this.waiters.length >= MAX_BLOCKED)
      return Promise.resolve({ error: `ERR this node holds ${MAX_BLOCKED} blocked clients, its most; try again later` });
    return new Promise((resolve) => {
      const waiter: Waiter = { keys: new Set(block.keys), argv, permission, resolve, timer: new AbortController() };
      this.waiters.push(waiter);
      const ms = block.timeoutMs === 0 ? MAX_BLOCK_MS : Math.min(block.timeoutMs, MAX_BLOCK_MS);
      // Cancelled when the waiter leaves earlier (the sleep then never ends).
      void this.clock.sleep(ms, waiter.timer.signal).then(() => {
        if (this.take(waiter)) resolve({ result: null });
      });
    });
  }

  /**
   * Runs again, oldest first, each waiter that `commands` may have woken (one of its keys among
   * their writes' keys; any, after a write of keys unknown, such as a script's or FLUSHALL).
   * @returns the waiters that took something (run and committed, not yet answered)
   */
  serve(engine: Engine, commands: readonly (readonly string[])[]): Served[] {
    if (this.waiters.length === 0) return [];
    const written = batchKeys(commands, (c, argv) => c !== undefined && flagsOf(c, argv).some((f) => f === "write" || f === "maywrite"));
    if (written === undefined) return [];
    const keys = written === null ? null : new Set(written);
    const served: Served[] = [];
    // Keys a waiter found nothing in during this pass: a later waiter on them only is not run.
    const empty = new Set<string>();
    for (const waiter of [...this.waiters]) {
      if (keys !== null && ![...waiter.keys].some((k) => keys.has(k))) continue;
      const stream = readsStream(waiter.argv);
      if (!stream && [...waiter.keys].every((k) => empty.has(k))) continue;
      const result = engine.run({ mode: "single", commands: [waiter.argv], permission: waiter.permission });
      const outcome = "outcomes" in result ? result.outcomes[0] : undefined;
      // Nothing to take yet (or a key of another type, which Redis's pop waiter also waits past).
      if (outcome === undefined || (!("result" in outcome) && !stream) || ("result" in outcome && outcome.result === null)) {
        if (outcome !== undefined && "result" in outcome && !stream) for (const k of waiter.keys) empty.add(k);
        continue;
      }
      this.take(waiter);
      const pushed = pushedTo(waiter.argv);
      served.push({ pushed, answer: () => waiter.resolve(outcome) });
      // What it pushed onto may hold something now.
      if (pushed !== null) empty.delete(pushed);
    }
    return served;
  }

  /**
   * Answers the guard's refusal to each waiter on a key of a slot moving away or moved (as Redis
   * answers a blocked client MOVED when its slot moves): the worker sends its command again where
   * the slot now is.
   */
  refuse(guard: SlotGuard): void {
    for (const waiter of [...this.waiters]) {
      const command = Engine.lookup(waiter.argv[0] ?? "");
      const refusal = command ? guardRefusal(guard, command, waiter.argv) : null;
      if (refusal && this.take(waiter)) waiter.resolve({ error: refusal.message });
    }
  }

  /** Answers every waiter nil: the node is not the primary any more. */
  release(): void {
    for (const waiter of this.waiters.splice(0)) {
      waiter.timer.abort();
      waiter.resolve({ result: null });
    }
  }

  /** Removes `waiter`; false if it was gone already (served, timed out or released). */
  private take(waiter: Waiter): boolean {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return false;
    this.waiters.splice(i, 1);
    waiter.timer.abort();
    return true;
  }
}
