import { ApiError } from "../http/errors";
import { TtlCache } from "../lib/ttl-cache";

/** HS256 secrets shorter than this are refused: RFC 7518 asks for a key at least as long as the hash (32 bytes). */
export const MIN_SECRET_BYTES = 32;

/** The deployment's root credential and the checks every token gets, read from the Worker's configuration. */
export type RootAuthConfig = {
  secret: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** When set, `exp - iat` may be at most this many seconds, and tokens must carry `iat`. */
  maxTtlSeconds?: number;
};

/** Problems already logged by this isolate: a misconfiguration is logged once, not once per request. */
const logged = new Set<string>();
const parsed = new TtlCache<string, RootAuthConfig | string>(4, 3_600_000);

/**
 * The root auth configuration, checked: a bad setting is a 500 envelope naming it (logged once per isolate)
 * rather than a check that silently turns itself off.
 */
export function rootAuthConfig(env: Pick<Env, "JWT_SECRET" | "JWKS_URL" | "JWT_ISSUER" | "JWT_AUDIENCE" | "JWT_MAX_TTL_SECONDS">): RootAuthConfig {
  const cacheKey = JSON.stringify([env.JWT_SECRET, env.JWKS_URL, env.JWT_ISSUER, env.JWT_AUDIENCE, env.JWT_MAX_TTL_SECONDS]);
  let result = parsed.get(cacheKey);
  if (result === undefined) {
    result = parseRootAuthConfig(env);
    parsed.set(cacheKey, result);
  }
  if (typeof result === "string") {
    if (!logged.has(result)) {
      logged.add(result);
      console.error(`configuration error: ${result}`);
    }
    throw new ApiError(500, `Server misconfigured: ${result}`);
  }
  return result;
}

/** The configuration, or the first problem with it as a sentence naming the setting. */
export function parseRootAuthConfig(
  env: Pick<Env, "JWT_SECRET" | "JWKS_URL" | "JWT_ISSUER" | "JWT_AUDIENCE" | "JWT_MAX_TTL_SECONDS">,
): RootAuthConfig | string {
  const secret = env.JWT_SECRET ?? "";
  if (secret === "") return "JWT_SECRET is not set";
  if (new TextEncoder().encode(secret).length < MIN_SECRET_BYTES) return `JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes`;
  const maxTtl = (env.JWT_MAX_TTL_SECONDS ?? "").trim();
  if (maxTtl !== "" && !/^[1-9]\d{0,8}$/.test(maxTtl)) return `JWT_MAX_TTL_SECONDS must be empty or a whole number of seconds, not ${JSON.stringify(maxTtl)}`;
  const jwksUrl = (env.JWKS_URL ?? "").trim();
  if (jwksUrl !== "" && !isHttpsUrl(jwksUrl)) return "JWKS_URL must be empty or an https:// URL";
  return {
    secret,
    jwksUrl: jwksUrl || undefined,
    issuer: env.JWT_ISSUER || undefined,
    audience: env.JWT_AUDIENCE || undefined,
    maxTtlSeconds: maxTtl === "" ? undefined : Number(maxTtl),
  };
}

export function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === "https:";
  } catch {
    return false;
  }
}
