/**
 * ACL users at the edge. A request may authenticate as a user ACL SETUSER made, with the bearer
 * token `<user>:<password>` (what `@upstash/redis` sends as its token, unchanged; the proxy's
 * `AUTH user pass` becomes it). The worker keeps a copy of the users, asked of the primary (else a
 * replica) and kept 5 s, authenticates against it, and refuses here, before any node is asked, a
 * single command, a transaction (its WATCH too) or a subscription the user may not run (a
 * transaction whose command is refused is discarded, EXECABORT, as Redis refuses it when
 * queued). The refusal goes to the primary's ACL LOG. The node checks every call again with its
 * own users (engine/dispatch.ts), a pipeline's commands each there: a stale copy lets no command
 * through that the node refuses. Subscriptions reach no dispatcher: the edge's check is theirs.
 */
import type { AclAuth, Refusal } from "../durable-objects/engine/acl/acl";
import { systemClock } from "../durable-objects/engine/clock";
import { type AclUser, type Denial, authenticates, deny, denySubscription } from "../durable-objects/engine/acl/users";
import { Engine } from "../durable-objects/engine/engine";
import { type Env, nodeStub } from "./env";
import { type Background, currentTopology } from "./routing";
import { isSubscribe } from "./subscribe";

/** How long the worker's copy of the users is used before it is asked again. */
const FRESH_MS = 5_000;
/** An unknown user or password asks again, at most this often (a user made a moment ago); also a refusal by a copy older than this. */
const RETRY_MS = 100;
/** A refused token reaches the primary's ACL LOG at most this often from an isolate. */
const AUTH_LOG_MS = 1_000;

let copy: { at: number; users: ReadonlyMap<string, AclUser> } | null = null;
/** The request for the users under way: concurrent requests share it. */
let asking: Promise<ReadonlyMap<string, AclUser> | null> | null = null;

/** The users, asked of the primary, else of each replica in turn (null when no node answers). */
function fetchUsers(env: Env, now: number): Promise<ReadonlyMap<string, AclUser> | null> {
  asking ??= askNodes(env, now).finally(() => {
    asking = null;
  });
  return asking;
}

async function askNodes(env: Env, now: number): Promise<ReadonlyMap<string, AclUser> | null> {
  const { primary, replicas } = currentTopology(env);
  for (const node of [primary, ...replicas]) {
    try {
      const users = await nodeStub(env, node).aclUsers();
      copy = { at: now, users: new Map(users.map((u) => [u.name, u])) };
      return copy.users;
    } catch {
      // The next node.
    }
  }
  return null;
}

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** The ACL user a `user:password` token opens, with its password hashed for the node to check again; null when none. */
export async function aclLogin(env: Env, token: string, background?: Background, now = systemClock.now()): Promise<{ auth: AclAuth; user: AclUser } | null> {
  const at = token.indexOf(":");
  if (at <= 0) return null;
  const name = token.slice(0, at);
  const pass = hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token.slice(at + 1))));
  const opens = (users: ReadonlyMap<string, AclUser> | null | undefined) => {
    const user = users?.get(name);
    return user !== undefined && authenticates(user, pass) ? { auth: { name, pass }, user } : null;
  };
  if (copy !== null && now - copy.at < FRESH_MS) {
    const found = opens(copy.users);
    if (found !== null || now - copy.at < RETRY_MS) return failed(env, name, found, now, background);
  }
  return failed(env, name, opens(await fetchUsers(env, now)), now, background);
}

/**
 * When a user's token was refused, the primary's ACL LOG hears of it (as Redis logs a failed AUTH):
 * at most once a second from this isolate, whatever the names, so that tokens made up to flood the
 * primary cost it no more than that.
 */
function failed<T>(env: Env, name: string, found: T | null, now: number, background: Background | undefined): T | null {
  if (found === null && now - lastAuthLogged >= AUTH_LOG_MS) {
    lastAuthLogged = now;
    logDenial(env, name, { reason: "auth", object: "AUTH" }, "toplevel", background);
  }
  return found;
}
let lastAuthLogged = Number.NEGATIVE_INFINITY;

/**
 * `edgeDenial` with the worker's copy asked again first when it is over a second old: a rule
 * granted a moment ago is not refused for the copy's age. Null also when the user is gone (the
 * node answers WRONGPASS).
 */
export async function freshEdgeDenial(env: Env, user: AclUser, commands: readonly (readonly string[])[], now = systemClock.now()): Promise<Denial | null> {
  const denial = edgeDenial(copy?.users.get(user.name) ?? user, commands);
  if (denial === null || (copy !== null && now - copy.at < RETRY_MS)) return denial;
  const fresh = await fetchUsers(env, now);
  if (fresh === null) return denial;
  const again = fresh.get(user.name);
  return again ? edgeDenial(again, commands) : denial;
}

/**
 * The first refusal among `commands` for `user` at the edge (single commands and transactions;
 * a pipeline's are the node's to answer one by one), or null. A command unknown here, or of the
 * wrong arity, is the node's to answer.
 */
export function edgeDenial(user: AclUser, commands: readonly (readonly string[])[]): Denial | null {
  for (const argv of commands) {
    const command = Engine.lookup(argv[0] ?? "");
    const denial = command !== undefined ? deny(user, command, argv) : isSubscribe(argv[0]) ? denySubscription(user, argv) : null;
    if (denial) return denial;
  }
  return null;
}

/** Tells the primary's ACL LOG of a refusal made here (in the background: the client has its answer). */
export function logDenial(env: Env, username: string, denial: Refusal, context: "toplevel" | "multi", background: Background | undefined): void {
  const work = nodeStub(env, currentTopology(env).primary)
    .aclDenied(username, denial, context)
    .catch(() => {});
  if (background) background(work);
}
