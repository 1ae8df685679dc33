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
