import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/context";
import { ApiError } from "../http/errors";

/** Every [[ratelimits]] binding in wrangler.toml counts per 10 seconds; a client over a limit waits that long. */
export const RATE_LIMIT_PERIOD_SECONDS = 10;

export const tooManyRequests = (what: string): ApiError =>
  new ApiError(429, `Too many requests ${what}; retry after ${RATE_LIMIT_PERIOD_SECONDS} seconds`, undefined, {
    "Retry-After": String(RATE_LIMIT_PERIOD_SECONDS),
  });

/**
 * Counts one request against `limiter` for `key`; false when the key is over its limit. A deployment
 * without the binding (it is optional outside wrangler.toml, e.g. in the benchmark harness) is unlimited.
 */
export async function withinLimit(limiter: RateLimit | undefined, key: string): Promise<boolean> {
  if (limiter === undefined) return true;
  return (await limiter.limit({ key })).success;
}

/**
 * The client's IP as Cloudflare's edge reports it. Requests that did not come through the edge (tests, a
 * local harness) have none and are not limited by IP.
 */
export const clientIp = (request: Request): string | undefined => request.headers.get("cf-connecting-ip") ?? undefined;

/**
 * Reads (GET and HEAD under /v1, after authentication) count per project against PROJECT_READ_RATE_LIMITER,
 * whoever calls: user tokens, admin tokens (root ones included) and API keys alike, so no tenant's reads can
 * take the shared D1 from the others. Writes have their own limits (per user, per API key).
 */
export const limitProjectReads = createMiddleware<AppEnv>(async (c, next) => {
  const method = c.req.method;
  if ((method === "GET" || method === "HEAD") && !(await withinLimit(c.env.PROJECT_READ_RATE_LIMITER, c.get("principal").projectKey))) {
    throw tooManyRequests("reading this project");
  }
  await next();
});
