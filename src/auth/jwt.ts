import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";
import { z } from "zod";
import { TtlCache } from "../lib/ttl-cache";
import { PROJECT_KEY_PATTERN, type Principal } from "./principal";

/** Fixed by configuration, never by the token: HS256 always verifies against JWT_SECRET, never against a JWKS key. */
const ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"];
const CLOCK_TOLERANCE_SECONDS = 60;

const ClaimsSchema = z.object({
  sub: z.string().min(1).max(255),
  projectId: z.string().regex(PROJECT_KEY_PATTERN),
  role: z.enum(["user", "admin"]),
});

/** Keyed by configuration, not by request input; jose's key set refreshes its keys itself. */
const jwksByUrl = new TtlCache<string, JWTVerifyGetKey>(4, 24 * 3_600_000);
function remoteJwks(url: string): JWTVerifyGetKey {
  let jwks = jwksByUrl.get(url);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(url));
    jwksByUrl.set(url, jwks);
  }
  return jwks;
}

/** The HMAC key, imported once per isolate rather than on every verification. */
const secretKeys = new TtlCache<string, Promise<CryptoKey>>(4, 24 * 3_600_000);
function secretKey(secret: string): Promise<CryptoKey> {
  let key = secretKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    secretKeys.set(secret, key);
  }
  return key;
}

/**
 * Tokens this isolate verified, for at most a minute and never past their expiry: a backend sends the same
 * token with every call, and verifying it once per minute is enough (JWTs cannot be revoked before `exp`).
 * Keyed by the token and the configuration it was checked against; only successes are kept.
 */
const verified = new TtlCache<string, Principal>(10_000, 60_000);
const VERIFIED_TTL_MS = 60_000;

export type JwtConfig = {
  secret: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** When set, `exp - iat` may be at most this many seconds, and tokens must carry `iat`. */
  maxTtlSeconds?: number;
};

/** Verifies a bearer token; returns the principal or null for anything invalid (signature, alg, exp, claims). */
export async function verifyJwt(token: string, config: JwtConfig): Promise<Principal | null> {
  if (!config.secret) return null;
  const cacheKey = `${token}\n${config.secret}\n${config.jwksUrl ?? ""}\n${config.issuer ?? ""}\n${config.audience ?? ""}\n${config.maxTtlSeconds ?? ""}`;
  const known = verified.get(cacheKey);
  if (known) return known;
  const result = await verifyUncached(token, config);
  if (result) verified.set(cacheKey, result.principal, Math.min(VERIFIED_TTL_MS, result.expiresAtMs - Date.now()));
  return result?.principal ?? null;
}

async function verifyUncached(token: string, config: JwtConfig): Promise<{ principal: Principal; expiresAtMs: number } | null> {
  const jwks = config.jwksUrl ? remoteJwks(config.jwksUrl) : undefined;
  const algorithms = jwks ? ["HS256", ...ASYMMETRIC_ALGORITHMS] : ["HS256"];
  try {
    const { payload } = await jwtVerify(
      token,
      async (header, input) => {
        if (header.alg === "HS256") return secretKey(config.secret);
        if (!jwks) throw new Error("no JWKS configured");
        return jwks(header, input);
      },
      {
        algorithms,
        requiredClaims: ["exp"],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        issuer: config.issuer || undefined,
        audience: config.audience || undefined,
      },
    );
    // jose checks exp and nbf; a token issued in the future (beyond the leeway) is rejected too.
    if (payload.iat !== undefined && payload.iat > Date.now() / 1000 + CLOCK_TOLERANCE_SECONDS) return null;
    if (config.maxTtlSeconds !== undefined && Number.isFinite(config.maxTtlSeconds)) {
      if (payload.iat === undefined || payload.exp === undefined || payload.exp - payload.iat > config.maxTtlSeconds) return null;
    }
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success) return null;
    const { sub, projectId, role } = claims.data;
    // Cached no longer than the token is valid, leeway excluded.
    return { principal: { kind: role, projectKey: projectId, userId: sub }, expiresAtMs: (payload.exp ?? 0) * 1000 };
  } catch {
    return null;
  }
}
