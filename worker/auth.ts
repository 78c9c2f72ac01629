/** Bearer-token authentication: three tokens, three permissions, constant-time comparison. */
import type { Permission } from "../durable-objects/engine/engine";
import { type AclAuth, wrongPass } from "../durable-objects/engine/acl/acl";
import { errors } from "../durable-objects/engine/errors";
import type { AclUser } from "../durable-objects/engine/acl/users";
import { aclLogin } from "./acl";
import type { Background } from "./routing";
import type { Env } from "./env";
import { RequestError, requestErrors } from "./errors";

const encoder = new TextEncoder();

const sha256 = (text: string) => crypto.subtle.digest("SHA-256", encoder.encode(text));

/** The configured tokens' digests, computed once per isolate (per set of secrets). */
let known: { tokens: string; digests: Promise<ArrayBuffer[]> } | null = null;

function digestsOf(tokens: readonly string[]): Promise<ArrayBuffer[]> {
  const key = tokens.join("\n");
  if (known?.tokens !== key) known = { tokens: key, digests: Promise.all(tokens.map(sha256)) };
  return known.digests;
}

/** The token of a request: `Authorization: Bearer <token>` or `?_token=<token>`. */
export function tokenOf(request: Request): string | null {
  const header = request.headers.get("authorization");
  const match = header?.match(/^Bearer\s+(.+)$/i);
  if (match) return match[1]!.trim();
  return new URL(request.url).searchParams.get("_token");
}

/**
 * The permission a request's token grants.
 * @throws 503 when the token secrets are not configured; 401 WRONGPASS for a missing or wrong token.
 */
export async function authenticate(request: Request, env: Env): Promise<Permission> {
  return permissionOf(tokenOf(request), env);
}

/** The permission `token` grants (see `authenticate`). */
async function permissionOf(token: string | null, env: Env): Promise<Permission> {
  const { FLAREDIS_ADMIN_TOKEN: admin, FLAREDIS_TOKEN: readwrite, FLAREDIS_READONLY_TOKEN: readonly } = env;
  if (!admin || !readwrite || !readonly) throw requestErrors.notConfigured();
  if (token === null) throw requestErrors.wrongPass();
  // Digests are compared, so neither the content nor the length of a token leaks through timing,
  // and with every token, always, so the time taken does not say which one matched.
  const [given, expected] = await Promise.all([sha256(token), digestsOf([admin, readwrite, readonly])]);
  const [isAdmin, isReadwrite, isReadonly] = expected.map((d) => crypto.subtle.timingSafeEqual(given, d));
  if (isAdmin) return "admin";
  if (isReadwrite) return "readwrite";
  if (isReadonly) return "readonly";
  throw requestErrors.wrongPass();
}

/** Who a request is: a token's permission, or an ACL user (worker/acl.ts) with the read-write token's reach at the worker (no admin API). */
export interface Caller {
  readonly permission: Permission;
  readonly acl?: { readonly auth: AclAuth; readonly user: AclUser };
}

/**
 * The request's caller: one of the deployment's tokens, else an ACL user's `user:password`.
 * @throws as `authenticate` when neither opens
 */
export async function callerOf(request: Request, env: Env, background?: Background): Promise<Caller> {
  try {
    return { permission: await authenticate(request, env) };
  } catch (e) {
    const token = tokenOf(request);
    if (!(e instanceof RequestError) || e.status !== 401 || token === null) throw e;
    const acl = await aclLogin(env, token, background);
    if (acl === null) throw e;
    return { permission: "readwrite", acl };
  }
}

/**
 * AUTH [username] password, alone in a request (the proxy's AUTH): whether those credentials open
 * something, a token (`AUTH token`, or `AUTH default token`) or an ACL user, as Redis's AUTH
 * answers. No node is asked but for the users; nothing about the request's own token changes.
 */
export async function checkAuth(argv: readonly string[], env: Env, background?: Background): Promise<"OK"> {
  if (argv.length !== 2 && argv.length !== 3) throw errors.arity("auth");
  const [user, password] = argv.length === 3 ? [argv[1]!, argv[2]!] : ["default", argv[1]!];
  if (user === "default") {
    await permissionOf(password, env).catch(() => {
      throw wrongPass();
    });
    return "OK";
  }
  if ((await aclLogin(env, `${user}:${password}`, background)) === null) throw wrongPass();
  return "OK";
}
