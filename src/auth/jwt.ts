import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { z } from "zod";
import type { IdentityProviderConfig } from "../db/identity-providers";
import { UserIdSchema } from "../domain/user-id";
import { TtlCache } from "../lib/ttl-cache";
import type { RootAuthConfig } from "./config";
import { remoteKeySet } from "./jwks";
import { PROJECT_KEY_PATTERN } from "../domain/project-key";
import type { Principal } from "./principal";
import { toBase64 } from "../lib/bytes";

/**
 * Bearer tokens come in three kinds, told apart before any signature is checked, and each is verified with
 * the one key its kind allows (never a key the token chooses):
 * - a `kid` naming one of a project's signing keys: HS256 with that key only; the project is the key's;
 * - an `iss` (and `aud`) matching a project's own identity provider: RS256/ES256 with that provider's JWKS;
 *   the project is the configuration's, and the token acts as a user token;
 * - anything else: the deployment's root credential (HS256 with JWT_SECRET, RS256/ES256 with JWKS_URL), whose
 *   `projectId` and `role` claims choose the project and role.
 */
export type JwtConfig = RootAuthConfig;

/** The project credentials a token may name; the middleware serves them from D1 through per-isolate caches. */
export type ProjectKeyLookup = {
  signingKey(kid: string): Promise<{ projectKey: string; key: CryptoKey } | null>;
  identityProvider(issuer: string, audiences: readonly string[]): Promise<IdentityProviderConfig | null>;
};

/** Longer tokens are refused before any parsing: real ones are a few hundred bytes to a few KiB. */
export const MAX_TOKEN_LENGTH = 8 * 1024;

/** Fixed by configuration, never by the token: HS256 always verifies against a secret, never a JWKS key. */
const ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"];
const CLOCK_TOLERANCE_SECONDS = 60;
/** Key ids of project signing keys start with this; other `kid`s belong to identity providers. */
export const SIGNING_KEY_ID_PREFIX = "sk_";

/** The roles a token's `role` claim may name. */
const RoleSchema = z.enum(["user", "admin"]);
const RootClaimsSchema = z.object({ sub: UserIdSchema, projectId: z.string().regex(PROJECT_KEY_PATTERN), role: RoleSchema });
const ProjectKeyClaimsSchema = z.object({ sub: UserIdSchema, projectId: z.string().optional(), role: RoleSchema });

/** The HMAC key, imported once per isolate rather than on every verification. */
const secretKeys = new TtlCache<string, Promise<CryptoKey>>(4, 24 * 3_600_000);
export function hmacKey(secret: string): Promise<CryptoKey> {
  let key = secretKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    secretKeys.set(secret, key);
  }
  return key;
}

/**
 * Tokens this isolate verified, for at most a minute and never past their expiry: a backend sends the same
 * token with every call, and verifying it once per minute is enough. Keyed by the token (a hash of a long one)
 * and the root configuration it was verified under (bounded in bytes as well as count). A token of a project credential (a signing key, an
 * identity provider) is re-checked against that credential's (cached) lookup on every hit, so revoking or
 * changing it ends the token as soon as that cache does.
 */
const verified = new TtlCache<string, { principal: Principal; credential?: ProjectCredential }>(10_000, 60_000);
const VERIFIED_TTL_MS = 60_000;

/** Which project credential verified a token: re-checked whenever the cached verification is used. */
type ProjectCredential = { kind: "signingKey"; kid: string } | { kind: "identityProvider"; issuer: string; audiences: string[] };
type Verified = { principal: Principal; expiresAtMs: number; credential?: ProjectCredential };

/** Each root configuration this isolate parsed, numbered: cached verifications never outlive the configuration. */
const configIds = new WeakMap<JwtConfig, number>();
let nextConfigId = 0;
/** Tokens up to this long are their own cache key; longer ones are hashed, so 10,000 entries stay within ~20 MB. */
const UNHASHED_TOKEN_LENGTH = 2_048;

/** The token's cache key under this configuration: a hash only for long tokens (a digest per request cost ~3 % of a log). */
async function cacheKeyOf(token: string, config: JwtConfig): Promise<string> {
  let id = configIds.get(config);
  if (id === undefined) configIds.set(config, (id = nextConfigId++));
  // `=` and `#` keep the two kinds of key apart: no short token can name a long token's entry.
  if (token.length <= UNHASHED_TOKEN_LENGTH) return `${id}\n=${token}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return `${id}\n#${toBase64(new Uint8Array(digest))}`;
}

/** Whether the credential that verified a cached token still verifies it, for the same project. */
async function stillValid(credential: ProjectCredential, projectKey: string, project: ProjectKeyLookup | undefined): Promise<boolean> {
  if (!project) return false;
  if (credential.kind === "signingKey") return (await project.signingKey(credential.kid))?.projectKey === projectKey;
  return (await project.identityProvider(credential.issuer, credential.audiences))?.projectKey === projectKey;
}

/** Verifies a bearer token; returns the principal or null for anything invalid (signature, alg, exp, claims). */
export async function verifyJwt(token: string, config: JwtConfig, project?: ProjectKeyLookup): Promise<Principal | null> {
  if (!config.secret || token.length > MAX_TOKEN_LENGTH) return null;
  const cacheKey = await cacheKeyOf(token, config);
  const known = verified.get(cacheKey);
  if (known) {
    if (known.credential === undefined || (await stillValid(known.credential, known.principal.projectKey, project))) return known.principal;
    verified.delete(cacheKey);
    return null;
  }
  const result = await verifyUncached(token, config, project);
  if (result)
    verified.set(cacheKey, { principal: result.principal, credential: result.credential }, Math.min(VERIFIED_TTL_MS, result.expiresAtMs - Date.now()));
  return result?.principal ?? null;
}

async function verifyUncached(token: string, config: JwtConfig, project: ProjectKeyLookup | undefined): Promise<Verified | null> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    unverified = decodeJwt(token);
  } catch {
    return null;
  }
  if (project && header.alg === "HS256" && typeof header.kid === "string" && header.kid.startsWith(SIGNING_KEY_ID_PREFIX)) {
    return verifyWithSigningKey(token, header.kid, config, project);
  }
  // The deployment's own issuer is never a project's: its tokens go to the root check.
  if (project && typeof unverified.iss === "string" && header.alg !== "HS256" && unverified.iss !== config.issuer) {
    const audiences =
      typeof unverified.aud === "string" ? [unverified.aud] : Array.isArray(unverified.aud) ? unverified.aud.filter((a) => typeof a === "string") : [];
    const provider = await project.identityProvider(unverified.iss, audiences);
    if (provider) return verifyWithIdentityProvider(token, provider, audiences, config);
  }
  return verifyWithRoot(token, config);
}

/** jwtVerify with the checks every kind shares; null for any failure. */
async function verify(
  token: string,
  key: JWTVerifyGetKey,
  options: { algorithms: string[]; issuer?: string; audience?: string; maxTtlSeconds?: number },
): Promise<JWTPayload | null> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: options.algorithms,
      requiredClaims: ["exp"],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      issuer: options.issuer || undefined,
      audience: options.audience || undefined,
    });
    // jose checks exp and nbf; a token issued in the future (beyond the leeway) is rejected too.
    if (payload.iat !== undefined && payload.iat > Date.now() / 1000 + CLOCK_TOLERANCE_SECONDS) return null;
    if (options.maxTtlSeconds !== undefined) {
      if (payload.iat === undefined || payload.exp === undefined || payload.exp - payload.iat > options.maxTtlSeconds) return null;
    }
    return payload;
  } catch {
    return null;
  }
}

const expiresAtMs = (payload: JWTPayload) => (payload.exp ?? 0) * 1000;

async function verifyWithSigningKey(token: string, kid: string, config: JwtConfig, project: ProjectKeyLookup): Promise<Verified | null> {
  const found = await project.signingKey(kid);
  if (!found) return null;
  const payload = await verify(token, async () => found.key, { algorithms: ["HS256"], maxTtlSeconds: config.maxTtlSeconds });
  if (!payload) return null;
  const claims = ProjectKeyClaimsSchema.safeParse(payload);
  // The key decides the project: a token naming another one is refused, not moved.
  if (!claims.success || (claims.data.projectId !== undefined && claims.data.projectId !== found.projectKey)) return null;
  const { sub, role } = claims.data;
  const principal: Principal =
    role === "admin" ? { kind: "admin", projectKey: found.projectKey, userId: sub, root: false } : { kind: "user", projectKey: found.projectKey, userId: sub };
  return { principal, expiresAtMs: expiresAtMs(payload), credential: { kind: "signingKey", kid } };
}

async function verifyWithIdentityProvider(token: string, provider: IdentityProviderConfig, audiences: string[], config: JwtConfig): Promise<Verified | null> {
  const payload = await verify(token, remoteKeySet(provider.jwksUrl), {
    algorithms: ASYMMETRIC_ALGORITHMS,
    issuer: provider.issuer,
    audience: provider.audience,
    maxTtlSeconds: config.maxTtlSeconds,
  });
  if (!payload) return null;
  const userId = UserIdSchema.safeParse(payload[provider.userIdClaim]);
  if (!userId.success) return null;
  return {
    principal: { kind: "user", projectKey: provider.projectKey, userId: userId.data },
    expiresAtMs: expiresAtMs(payload),
    credential: { kind: "identityProvider", issuer: provider.issuer, audiences },
  };
}

async function verifyWithRoot(token: string, config: JwtConfig): Promise<Verified | null> {
  const jwks = config.jwksUrl ? remoteKeySet(config.jwksUrl) : undefined;
  const payload = await verify(
    token,
    async (header, input) => {
      if (header.alg === "HS256") return hmacKey(config.secret);
      if (!jwks) throw new Error("no JWKS configured");
      return jwks(header, input);
    },
    {
      algorithms: jwks ? ["HS256", ...ASYMMETRIC_ALGORITHMS] : ["HS256"],
      issuer: config.issuer,
      audience: config.audience,
      maxTtlSeconds: config.maxTtlSeconds,
    },
  );
  if (!payload) return null;
  const claims = RootClaimsSchema.safeParse(payload);
  if (!claims.success) return null;
  const { sub, projectId, role } = claims.data;
  const principal: Principal =
    role === "admin" ? { kind: "admin", projectKey: projectId, userId: sub, root: true } : { kind: "user", projectKey: projectId, userId: sub };
  return { principal, expiresAtMs: expiresAtMs(payload) };
}
