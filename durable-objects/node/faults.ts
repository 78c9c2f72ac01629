/**
 * Injected faults (admin API with FLAREDIS_ALLOW_FAULTS, and tests), as a wrapper around the
 * transport and a check at every door of the node:
 * - `down`: the node answers nothing and sends nothing, as if its region were gone;
 * - `link down`: its replication link is cut (no pushes, PSYNC or snapshots in or out);
 * - `delay`: what arrives on the replication link is applied this many ms later.
 */
import type { Clock } from "../engine/clock";
import type { Transport } from "./transport";

export class Faults {
  down = false;
  linkDown = false;
  delayMs = 0;

  constructor(
    private readonly name: string,
    private readonly clock: Clock,
  ) {}

  /** At every call into the node: a node that is down fails it, as an unreachable one would. */
  checkUp(): void {
    if (this.down) throw new Error(`flaredis ${this.name}: node unreachable (down)`);
  }

  /** At every replication message, in or out. */
  checkLink(): void {
    this.checkUp();
    if (this.linkDown) throw new Error(`flaredis ${this.name}: replication link is down`);
  }

  /** Waits out an injected delay on something that just arrived. */
  async delay(): Promise<void> {
    if (this.delayMs > 0) await this.clock.sleep(this.delayMs);
  }

  /** The transport as this node sees it: calls to nodes are replication messages, calls to sentinels are not. */
  wrap(inner: Transport): Transport {
    const guarded = <T extends object>(target: () => T, check: () => void): T =>
      new Proxy({} as T, {
        get: (_t, method: string) =>
          // Not a thenable: a proxy returned from an async function must not be awaited into.
          method === "then"
            ? undefined
            : // Async: a refused call is a rejected promise, never a synchronous throw (callers `.catch`).
              async (...args: unknown[]) => {
                check();
                return await (target() as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(...args);
              },
      });
    return {
      node: (name) => guarded(() => inner.node(name), () => this.checkLink()),
      sentinel: (name) => guarded(() => inner.sentinel(name), () => this.checkUp()),
    };
  }
}
