import { SignJWT } from "jose";
import type { RootAuthConfig } from "../auth/config";
import { hmacKey, SIGNING_KEY_ID_PREFIX, type ProjectKeyLookup } from "../auth/jwt";
import { holdsScope, type Principal } from "../auth/principal";
import { open, seal } from "../auth/secret-box";
import { createApiKey, findApiKey, revokeApiKey, type ApiKeyInfo, type NewApiKey } from "../db/api-keys";
import type { Db } from "../db/client";
import {
  deleteIdentityProvider,
  findIdentityProvider,
  identityProvidersByIssuer,
  putIdentityProvider,
  type IdentityProviderConfig,
} from "../db/identity-providers";
import { findActiveSigningKey, insertSigningKey, listSigningKeys, revokeSigningKey, type SigningKeyInfo } from "../db/signing-keys";
import type { Scope } from "../domain/scopes";
import { ApiError, invalidFields } from "../http/errors";
import { TtlCache } from "../lib/ttl-cache";
import { randomBase64Url } from "../lib/bytes";

/**
 * How long an isolate trusts what it read about a project's credentials. A revoked signing key, or a changed
 * or removed identity provider, stops working everywhere within this time (at once in the isolate that made
 * the change). The README's "Credentials" section states it.
 */
export const CREDENTIAL_CACHE_MS = 30_000;

const boundTo = (kid: string, projectKey: string) => `${projectKey}\n${kid}`;

// ---- Signing keys -----------------------------------------------------------------------------------------

/** Active signing keys by kid (null: unknown or revoked, also remembered, so a wrong kid costs one query). */
const signingKeys = new TtlCache<string, { projectKey: string; key: CryptoKey } | null>(10_000, CREDENTIAL_CACHE_MS);
const SIGNING_KEY_ID_PATTERN = /^sk_[A-Za-z0-9_-]{16,64}$/;

export async function createSigningKey(env: Env, db: Db, projectKey: string, name: string): Promise<SigningKeyInfo & { secret: string }> {
  const kid = SIGNING_KEY_ID_PREFIX + randomBase64Url(16);
  const secret = `lsk_${randomBase64Url(32)}`;
  const secretCiphertext = await seal(env.JWT_SECRET, secret, boundTo(kid, projectKey));
  const row = await insertSigningKey(db, { kid, projectKey, name, secretCiphertext });
  if (!row) throw new ApiError(409, "The project already has the most active signing keys allowed (10); revoke one first");
  return { ...row, secret };
}

export const signingKeysOf = (db: Db, projectKey: string) => listSigningKeys(db, projectKey);

export async function revokeProjectSigningKey(db: Db, projectKey: string, kid: string): Promise<void> {
  if (!(await revokeSigningKey(db, projectKey, kid))) throw new ApiError(404, `Signing key ${kid} does not exist in this project`);
  signingKeys.delete(kid);
}

/** `rootSecret` (JWT_SECRET) is what the signing keys' secrets are sealed with. */
async function activeSigningKey(
  db: Db,
  rootSecret: string,
  kid: string,
  mayQuery: () => Promise<boolean>,
): Promise<{ projectKey: string; key: CryptoKey } | null> {
  if (!SIGNING_KEY_ID_PATTERN.test(kid)) return null;
  const cached = signingKeys.get(kid);
  if (cached !== undefined) return cached;
  if (!(await mayQuery())) return null;
  const row = await findActiveSigningKey(db, kid);
  const secret = row ? await open(rootSecret, row.secretCiphertext, boundTo(row.kid, row.projectKey)) : null;
  if (row && secret === null) console.error(`signing key ${kid} cannot be decrypted: was JWT_SECRET rotated?`);
  const found = row && secret !== null ? { projectKey: row.projectKey, key: await hmacKey(secret) } : null;
  signingKeys.set(kid, found);
  return found;
}

// ---- The project's own identity provider ----------------------------------------------------------------

/** Providers by issuer, as read from D1. */
const providersByIssuer = new TtlCache<string, IdentityProviderConfig[]>(1_000, CREDENTIAL_CACHE_MS);

/**
 * Sets the project's provider. An issuer belongs to one project (409 for any other: tokens of one issuer
 * cannot be told apart by project otherwise, and a tenant could claim another's users), and the deployment's
 * own issuer and key set (JWT_ISSUER, JWKS_URL) belong to no project.
 */
export async function setIdentityProvider(db: Db, root: RootAuthConfig, config: Omit<IdentityProviderConfig, "updatedAt">): Promise<IdentityProviderConfig> {
  if (root.issuer !== undefined && config.issuer === root.issuer) {
    throw invalidFields("body", [{ path: "issuer", message: "is the deployment's own issuer (JWT_ISSUER)" }]);
  }
  if (root.jwksUrl !== undefined && config.jwksUrl === root.jwksUrl) {
    throw invalidFields("body", [{ path: "jwksUrl", message: "is the deployment's own key set (JWKS_URL)" }]);
  }
  const previous = await findIdentityProvider(db, config.projectKey);
  const saved = await putIdentityProvider(db, config);
  if (saved === "taken") {
    throw new ApiError(409, "Another project already accepts tokens of this issuer", [
      { path: "issuer", message: "an issuer's tokens may act in one project only; ask the operator if you share an identity provider" },
    ]);
  }
  if (previous) providersByIssuer.delete(previous.issuer);
  providersByIssuer.delete(saved.issuer);
  return saved;
}

export const identityProviderOf = (db: Db, projectKey: string) => findIdentityProvider(db, projectKey);

export async function removeIdentityProvider(db: Db, projectKey: string): Promise<void> {
  const previous = await findIdentityProvider(db, projectKey);
  if (!previous || !(await deleteIdentityProvider(db, projectKey))) throw new ApiError(404, "This project has no identity provider configured");
  providersByIssuer.delete(previous.issuer);
}

/**
 * The provider a token belongs to: its issuer's, when that provider accepts one of the token's audiences (or
 * any). Should rows of several projects ever match (they cannot be written so), the token is refused.
 */
async function matchingProvider(
  db: Db,
  issuer: string,
  audiences: readonly string[],
  mayQuery: () => Promise<boolean>,
): Promise<IdentityProviderConfig | null> {
  if (issuer.length > 1_000) return null;
  let providers = providersByIssuer.get(issuer);
  if (!providers) {
    if (!(await mayQuery())) return null;
    providers = await identityProvidersByIssuer(db, issuer);
    providersByIssuer.set(issuer, providers);
  }
  const matching = providers.filter((p) => p.audience === "" || audiences.includes(p.audience));
  if (new Set(matching.map((p) => p.projectKey)).size !== 1) return null;
  return matching[0]!;
}

/**
 * What the authentication middleware asks about project credentials. `mayQuery` is asked before a lookup that
 * misses the isolate's caches reaches D1 (the middleware counts it against the client IP's failure limit).
 */
export const projectKeyLookup = (db: Db, root: RootAuthConfig, mayQuery: () => Promise<boolean> = async () => true): ProjectKeyLookup => ({
  signingKey: (kid) => activeSigningKey(db, root.secret, kid, mayQuery),
  identityProvider: (issuer, audiences) => matchingProvider(db, issuer, audiences, mayQuery),
});

// ---- Token exchange ---------------------------------------------------------------------------------------

export const DEFAULT_MINTED_TTL_SECONDS = 3_600;
export const MAX_MINTED_TTL_SECONDS = 24 * 3_600;

/**
 * A user token for one user of the project, signed by the API with the root secret (carrying JWT_ISSUER and
 * JWT_AUDIENCE when configured, and no longer than JWT_MAX_TTL_SECONDS allows), so that a tenant's backend
 * hands its app a token without ever holding a signing secret.
 */
export async function mintUserToken(
  config: RootAuthConfig,
  projectKey: string,
  userId: string,
  ttlSeconds = DEFAULT_MINTED_TTL_SECONDS,
): Promise<{ token: string; expiresAt: string }> {
  const ttl = Math.min(ttlSeconds, MAX_MINTED_TTL_SECONDS, config.maxTtlSeconds ?? Infinity);
  const issuedAt = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ projectId: projectKey, role: "user" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttl);
  if (config.issuer) jwt.setIssuer(config.issuer);
  if (config.audience) jwt.setAudience(config.audience);
  return { token: await jwt.sign(await hmacKey(config.secret)), expiresAt: new Date((issuedAt + ttl) * 1000).toISOString() };
}

// ---- API keys ---------------------------------------------------------------------------------------------

/** A key may hand on only what it holds: every scope it grants (or a key it revokes holds) must be its own. */
function mustHoldAll(principal: Principal, scopes: readonly Scope[], doing: string): void {
  const missing = scopes.filter((scope) => !holdsScope(principal, scope));
  if (missing.length > 0) {
    throw new ApiError(403, `This API key cannot ${doing} a key with scopes it does not hold: ${missing.join(", ")}`, [
      { path: "scopes", message: `not held by the calling key: ${missing.join(", ")}` },
    ]);
  }
}

/**
 * A key creates keys within its own bounds: scopes it holds, an expiry no later than its own (its own when none
 * is given), and origins among its own (its own when none are given).
 */
export async function createProjectApiKey(db: Db, principal: Principal, input: NewApiKey): Promise<ApiKeyInfo & { key: string }> {
  mustHoldAll(principal, input.scopes, "create");
  if (principal.kind !== "apiKey") return createApiKey(db, principal.projectKey, input);
  let { expiresAt, allowedOrigins } = input;
  if (principal.expiresAt !== null) {
    if (expiresAt !== null && expiresAt > principal.expiresAt) {
      throw new ApiError(403, "This API key cannot create a key that outlives it", [
        { path: "expiresAt", message: `must be no later than ${principal.expiresAt}` },
      ]);
    }
    expiresAt ??= principal.expiresAt;
  }
  if (principal.allowedOrigins.length > 0) {
    const foreign = allowedOrigins.filter((origin) => !principal.allowedOrigins.includes(origin));
    if (foreign.length > 0) {
      throw new ApiError(403, "This API key cannot create a key for origins it is not bound to", [
        { path: "allowedOrigins", message: `not allowed: ${foreign.join(", ")}` },
      ]);
    }
    if (allowedOrigins.length === 0) allowedOrigins = [...principal.allowedOrigins];
  }
  return createApiKey(db, principal.projectKey, { ...input, expiresAt, allowedOrigins });
}

/**
 * Signing keys and identity providers never expire and are bound to no origin: an API key that does either may
 * not create them (it would hand on more than it holds).
 */
export function mustBeUnboundCredential(principal: Principal): void {
  if (principal.kind === "apiKey" && (principal.expiresAt !== null || principal.allowedOrigins.length > 0)) {
    throw new ApiError(403, "An API key that expires or is bound to origins cannot create lasting credentials; use an admin token or an unbound admin key");
  }
}

export async function revokeProjectApiKey(db: Db, principal: Principal, id: string): Promise<void> {
  const key = await findApiKey(db, principal.projectKey, id);
  if (!key) throw new ApiError(404, `API key ${id} does not exist in this project`);
  mustHoldAll(principal, key.scopes, "revoke");
  if (!(await revokeApiKey(db, principal.projectKey, id))) throw new ApiError(404, `API key ${id} does not exist in this project`);
}
