/** Bearer-token authentication: three tokens, three permissions, constant-time comparison. */
import type { Permission } from "../durable-objects/engine/engine";
import type { Env } from "./env";
import { requestErrors } from "./errors";

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
  const { FLAREDIS_ADMIN_TOKEN: admin, FLAREDIS_TOKEN: readwrite, FLAREDIS_READONLY_TOKEN: readonly } = env;
  if (!admin || !readwrite || !readonly) throw requestErrors.notConfigured();
  const token = tokenOf(request);
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
