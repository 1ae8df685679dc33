import { createMiddleware } from "hono/factory";
import { findActiveApiKey, isKnownInvalidApiKey, recordApiKeyUse, type ActiveApiKey } from "../db/api-keys";
import type { Db } from "../db/client";
import type { Scope } from "../domain/scopes";
import type { AppEnv } from "../http/context";
import { ApiError } from "../http/errors";
import { projectKeyLookup } from "../services/credentials";
import { rootAuthConfig } from "./config";
import { verifyJwt } from "./jwt";
import { holdsScope, type Principal } from "./principal";
import { clientIp, tooManyRequests, withinLimit } from "./rate-limits";

const unauthorized = (message: string) => new ApiError(401, message, undefined, { "WWW-Authenticate": 'Bearer realm="loyalty-events"' });

/**
 * Resolves `Authorization: Bearer <JWT>` or `X-API-Key` into the request's principal; anything else is 401.
 * Failed attempts count per client IP (429 past the limit), and so do API keys this isolate has not seen
 * yet, before their D1 lookup: random keys cannot buy a D1 query each. Requests with an API key count
 * against that key's own limit, and a key bound to origins answers only requests from them.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const ip = clientIp(c.req.raw);
  const failed = async (message: string): Promise<never> => {
    if (ip !== undefined && !(await withinLimit(c.env.AUTH_FAILURE_RATE_LIMITER, ip))) throw tooManyRequests("with failed authentication");
    throw unauthorized(message);
  };
  const apiKey = c.req.header("x-api-key");
  if (apiKey !== undefined) {
    const key = await resolveApiKey(apiKey, c.env, c.var.db, ip, failed);
    if (!(await withinLimit(c.env.API_KEY_RATE_LIMITER, key.id))) throw tooManyRequests("for this API key");
    checkOrigin(key, c.req.raw);
    const minute = `${new Date().toISOString().slice(0, 16)}:00.000Z`;
    const recording = recordApiKeyUse(c.var.db, key.id, minute).catch((error: unknown) => console.warn("last use not recorded", String(error)));
    waitUntil(c, recording);
    c.set("principal", {
      kind: "apiKey",
      projectKey: key.projectKey,
      apiKeyId: key.id,
      scopes: key.scopes,
      expiresAt: key.expiresAt,
      allowedOrigins: key.allowedOrigins,
    });
  } else {
    // A lookup of a project credential this isolate has not cached counts against the IP's failure limit
    // first, as unknown API keys do: made-up key ids or issuers cannot buy a D1 query each.
    const mayQuery = async () => ip === undefined || withinLimit(c.env.AUTH_FAILURE_RATE_LIMITER, ip);
    const principal = await resolveBearer(c.req.header("authorization"), c.env, c.var.db, failed, mayQuery);
    c.set("principal", principal);
  }
  await next();
});

/** Work that may finish after the answer; awaited where there is no execution context (direct app.fetch in tests). */
function waitUntil(c: { executionCtx: { waitUntil(work: Promise<unknown>): void } }, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    void work;
  }
}

async function resolveApiKey(raw: string, env: Env, db: Db, ip: string | undefined, failed: (message: string) => Promise<never>): Promise<ActiveApiKey> {
  const key = raw.trim();
  if (isKnownInvalidApiKey(key)) return failed("Invalid or revoked API key");
  const found = await findActiveApiKey(db, key, async () => ip === undefined || withinLimit(env.AUTH_FAILURE_RATE_LIMITER, ip));
  if (found === "limited") throw tooManyRequests("with unknown API keys");
  // The lookup already counted against the IP's limit.
  if (!found) throw unauthorized("Invalid or revoked API key");
  if (found.expiresAt !== null && found.expiresAt <= new Date().toISOString()) return failed("This API key has expired");
  return found;
}

/** The request's origin as a browser states it: `Origin`, or the origin of `Referer` when there is none. */
function requestOrigin(request: Request): string | null {
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== "null") return origin;
  const referer = request.headers.get("referer");
  if (!referer) return null;
  try {
    return new URL(referer).origin;
  } catch {
    return null;
  }
}

/** A key bound to origins (a browser widget's) answers only requests that come from one of them. */
function checkOrigin(key: ActiveApiKey, request: Request): void {
  if (key.allowedOrigins.length === 0) return;
  const origin = requestOrigin(request);
  if (origin === null || !key.allowedOrigins.includes(origin)) {
    throw new ApiError(403, `This API key is bound to other origins; ${origin === null ? "the request names none" : `${origin} is not one of them`}`, [
      { path: "Origin", message: "must be one of the key's allowed origins" },
    ]);
  }
}

async function resolveBearer(
  authorization: string | undefined,
  env: Env,
  db: Db,
  failed: (message: string) => Promise<never>,
  mayQuery: () => Promise<boolean>,
): Promise<Principal> {
  if (authorization === undefined) return failed("Missing credentials: send 'Authorization: Bearer <JWT>' or 'X-API-Key'");
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (!match?.[1]) return failed("Authorization header must be 'Bearer <token>'");
  const root = rootAuthConfig(env);
  let limited = false;
  const lookup = projectKeyLookup(db, root, async () => {
    const allowed = await mayQuery();
    limited ||= !allowed;
    return allowed;
  });
  const principal = await verifyJwt(match[1], root, lookup);
  if (limited) throw tooManyRequests("with failed authentication");
  return principal ?? failed("Invalid or expired token");
}

/**
 * A route's rights: API keys need `scope` (or `admin`), admin tokens hold every scope, and user tokens pass
 * only where `usersAllowed` (routes that serve a user their own data; the handler checks whose).
 */
export const requireScope = (scope: Scope, usersAllowed: boolean) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.get("principal");
    if (principal.kind === "user") {
      if (!usersAllowed) throw new ApiError(403, `This route needs an admin token or an API key with the scope "${scope}"`);
    } else if (!holdsScope(principal, scope)) {
      throw new ApiError(403, `This API key lacks the scope "${scope}" this route needs`);
    }
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
