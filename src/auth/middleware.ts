import { createMiddleware } from "hono/factory";
import { findActiveApiKey, isKnownInvalidApiKey } from "../db/api-keys";
import { getDb } from "../db/client";
import type { AppEnv } from "../http/context";
import { ApiError } from "../http/errors";
import { verifyJwt } from "./jwt";
import { hasServerRights, type Principal } from "./principal";
import { clientIp, tooManyRequests, withinLimit } from "./rate-limits";
import { span } from "../lib/bench-trace";

const unauthorized = (message: string) => new ApiError(401, message, undefined, { "WWW-Authenticate": 'Bearer realm="loyalty-events"' });

/**
 * Resolves `Authorization: Bearer <JWT>` or `X-API-Key` into the request's principal; anything else is 401.
 * Failed attempts count per client IP (429 past the limit), and so do API keys this isolate has not seen
 * yet, before their D1 lookup: random keys cannot buy a D1 query each. Requests with an API key count
 * against that key's own limit.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const ip = clientIp(c.req.raw);
  const failed = async (message: string): Promise<never> => {
    if (ip !== undefined && !(await withinLimit(c.env.AUTH_FAILURE_RATE_LIMITER, ip))) throw tooManyRequests("with failed authentication");
    throw unauthorized(message);
  };
  const principal = await span(c.env, "worker: authentication", () =>
    resolvePrincipal(c.req.header("x-api-key"), c.req.header("authorization"), c.env, ip, failed),
  );
  c.set("principal", principal);
  if (principal.kind === "apiKey" && !(await withinLimit(c.env.API_KEY_RATE_LIMITER, principal.apiKeyId))) {
    throw tooManyRequests("for this API key");
  }
  await next();
});

async function resolvePrincipal(
  apiKey: string | undefined,
  authorization: string | undefined,
  env: Env,
  ip: string | undefined,
  failed: (message: string) => Promise<never>,
): Promise<Principal> {
  if (apiKey !== undefined) {
    const key = apiKey.trim();
    const db = getDb(env.DB);
    if (isKnownInvalidApiKey(key)) return failed("Invalid or revoked API key");
    const found = await findActiveApiKey(db, key, async () => ip === undefined || withinLimit(env.AUTH_FAILURE_RATE_LIMITER, ip));
    if (found === "limited") throw tooManyRequests("with unknown API keys");
    // The lookup already counted against the IP's limit.
    if (!found) throw unauthorized("Invalid or revoked API key");
    return { kind: "apiKey", projectKey: found.projectKey, apiKeyId: found.id };
  }
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match?.[1]) return failed("Authorization header must be 'Bearer <token>'");
    const principal = await verifyJwt(match[1], {
      secret: env.JWT_SECRET,
      jwksUrl: env.JWKS_URL,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      maxTtlSeconds: env.JWT_MAX_TTL_SECONDS ? Number(env.JWT_MAX_TTL_SECONDS) : undefined,
    });
    return principal ?? failed("Invalid or expired token");
  }
  return failed("Missing credentials: send 'Authorization: Bearer <JWT>' or 'X-API-Key'");
}

/** Admin routes: an admin token or an API key of the project. */
export const requireServerRights = createMiddleware<AppEnv>(async (c, next) => {
  if (!hasServerRights(c.get("principal"))) throw new ApiError(403, "This route needs an admin token or an API key");
  await next();
});

/** POST /v1/event with a user token: at most the USER_LOG_RATE_LIMITER rate per (project, user). */
export const limitUserLogs = createMiddleware<AppEnv>(async (c, next) => {
  const principal = c.get("principal");
  if (principal.kind === "user" && !(await withinLimit(c.env.USER_LOG_RATE_LIMITER, JSON.stringify([principal.projectKey, principal.userId])))) {
    throw tooManyRequests("for this user");
  }
  await next();
});
