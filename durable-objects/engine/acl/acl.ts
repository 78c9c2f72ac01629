/**
 * A node's ACL: the users ACL SETUSER made (kept in the replicated CONFIG, see users.ts), the user
 * a request runs as, and the node's ACL LOG of refusals (in memory, as Redis keeps it per server).
 */
import type { Clock } from "../clock";
import type { Config } from "../config";
import { RedisError } from "../errors";
import { type AclUser, type Denial, authenticates } from "./users";

/** What the ACL LOG records: a refused call (Denial), or a failed authentication (`auth`, its object the command: AUTH). */
export type Refusal = Denial | { readonly reason: "auth"; readonly object: string };

/** Who a request says it is: a user's name and its password's SHA-256 (worker/auth.ts). */
export interface AclAuth {
  readonly name: string;
  readonly pass: string;
}

export interface AclLogEntry {
  count: number;
  readonly reason: string;
  readonly context: string;
  readonly object: string;
  readonly username: string;
  /** The last occurrence (Redis's ctime, which a grouped refusal moves on). */
  updated: number;
  readonly entryId: number;
}

/** Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA: a refusal like one logged less than 60 s ago counts there. */
const GROUPING_MS = 60_000;

/** The users the deployment's tokens are (worker/auth.ts), by their permission: not ACL SETUSER's to change. */
export const TOKEN_USERS = { admin: "admin", readwrite: "default", readonly: "readonly" } as const;

export const wrongPass = () => new RedisError("WRONGPASS invalid username-password pair or user is disabled.");

export class Acl {
  private log: AclLogEntry[] = [];
  private nextEntry = 0;

  constructor(
    private readonly config: () => Config,
    private readonly save: (users: readonly AclUser[]) => void,
    private readonly clock: Clock,
  ) {}

  /** The users ACL SETUSER made, in the order made. */
  users(): readonly AclUser[] {
    return this.config().acl ?? [];
  }

  user(name: string): AclUser | undefined {
    return this.users().find((u) => u.name === name);
  }

  /** Replaces the users (persisted and replicated with the CONFIG). */
  set(users: readonly AclUser[]): void {
    this.save(users);
  }

  /**
   * The user a request runs as (undefined: one of the tokens' users, whose permission says what it may do).
   * @throws WRONGPASS when the user is gone, disabled, or the password no longer opens it
   */
  resolve(auth: AclAuth | undefined): AclUser | undefined {
    if (auth === undefined) return undefined;
    const user = this.user(auth.name);
    if (user === undefined || !authenticates(user, auth.pass)) throw wrongPass();
    return user;
  }

  /** Logs a refusal, or counts it with a like one of the last 60 s (ACL LOG). */
  denied(username: string, denial: Refusal, context: "toplevel" | "lua" | "multi"): void {
    const now = this.clock.now();
    const max = Number(this.config().other["acllog-max-len"] ?? 128);
    // As Redis: the newest 10 are looked at; a like one is counted and moved to the head.
    const at = this.log.slice(0, 10).findIndex((e) => e.reason === denial.reason && e.context === context && e.object === denial.object && e.username === username && now - e.updated < GROUPING_MS);
    if (at >= 0) {
      const [like] = this.log.splice(at, 1);
      like!.count++;
      like!.updated = now;
      this.log.unshift(like!);
      return;
    }
    this.log.unshift({ count: 1, reason: denial.reason, context, object: denial.object, username, updated: now, entryId: this.nextEntry++ });
    this.log.length = Math.min(this.log.length, max);
  }

  /** ACL LOG [count]: the newest first (10 by default). */
  entries(count = 10): readonly AclLogEntry[] {
    return this.log.slice(0, count);
  }

  /** ACL LOG RESET. */
  resetLog(): void {
    this.log = [];
  }
}
