import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import { sha256Hex } from "../domain/hashing";
import type { Scope } from "../domain/scopes";
import { TtlCache } from "../lib/ttl-cache";
import type { Db } from "./client";
import { ensureProject } from "./projects";
import { apiKeys } from "./schema";
import { randomBase64Url } from "../lib/bytes";

const KEY_PREFIX = "lek_";

/** Only this hash of a key is stored. */
const hashApiKey = sha256Hex;

/**
 * Per-isolate cache of valid keys so API-key traffic does not read D1 per request. A revocation made through
 * another isolate takes effect there within CACHE_MS. Misses are not cached (random keys must not fill memory),
 * and the cache is bounded.
 */
export type ActiveApiKey = { id: string; projectKey: string; scopes: Scope[]; allowedOrigins: string[]; expiresAt: string | null };
const lookups = new TtlCache<string, ActiveApiKey>(1_000, 30_000);
/** Keys D1 did not know, remembered briefly so that repeating a wrong key costs no D1 query. */
const misses = new TtlCache<string, true>(10_000, 60_000);

/** True for a key that cannot be valid, or that D1 did not know a moment ago. */
export function isKnownInvalidApiKey(key: string): boolean {
  return !key.startsWith(KEY_PREFIX) || key.length > 200 || misses.get(key) === true;
}

/**
 * The active key's id and project, from the isolate cache or D1. Before a D1 lookup, `mayQuery` is asked
 * (the caller counts it against a rate limit); "limited" when it said no.
 */
export async function findActiveApiKey(db: Db, key: string, mayQuery: () => Promise<boolean> = async () => true): Promise<ActiveApiKey | null | "limited"> {
  if (isKnownInvalidApiKey(key)) return null;
  const hash = await hashApiKey(key);
  const cached = lookups.get(hash);
  if (cached) return cached;
  if (!(await mayQuery())) return "limited";
  const found = await db.query.apiKeys.findFirst({
    columns: { id: true, projectKey: true, scopes: true, allowedOrigins: true, expiresAt: true },
    where: and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt)),
  });
  if (!found) {
    misses.set(key, true);
    return null;
  }
  const active = { ...found, scopes: found.scopes as Scope[] };
  lookups.set(hash, active);
  return active;
}

export type ApiKeyInfo = {
  id: string;
  name: string;
  keyPrefix: string;
  scopes: Scope[];
  allowedOrigins: string[];
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
};
export type NewApiKey = { name: string; scopes: Scope[]; allowedOrigins: string[]; expiresAt: string | null };

const infoColumns = {
  id: apiKeys.id,
  name: apiKeys.name,
  keyPrefix: apiKeys.keyPrefix,
  scopes: apiKeys.scopes,
  allowedOrigins: apiKeys.allowedOrigins,
  expiresAt: apiKeys.expiresAt,
  lastUsedAt: apiKeys.lastUsedAt,
  createdAt: apiKeys.createdAt,
};
const asInfo = (row: Omit<ApiKeyInfo, "scopes"> & { scopes: string[] }): ApiKeyInfo => ({ ...row, scopes: row.scopes as Scope[] });

export async function createApiKey(db: Db, projectKey: string, input: NewApiKey): Promise<ApiKeyInfo & { key: string }> {
  await ensureProject(db, projectKey);
  const key = KEY_PREFIX + randomBase64Url(32);
  const id = crypto.randomUUID();
  const [row] = await db
    .insert(apiKeys)
    .values({ id, projectKey, keyHash: await hashApiKey(key), keyPrefix: key.slice(0, 12), ...input })
    .returning(infoColumns);
  if (!row) throw new Error("api key insert returned no row");
  return { ...asInfo(row), key };
}

export async function listApiKeys(db: Db, projectKey: string): Promise<ApiKeyInfo[]> {
  const rows = await db
    .select(infoColumns)
    .from(apiKeys)
    .where(and(eq(apiKeys.projectKey, projectKey), isNull(apiKeys.revokedAt)))
    .orderBy(desc(apiKeys.createdAt));
  return rows.map(asInfo);
}

/** The project's active key with this id, or null. */
export async function findApiKey(db: Db, projectKey: string, id: string): Promise<ApiKeyInfo | null> {
  const [row] = await db
    .select(infoColumns)
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), eq(apiKeys.projectKey, projectKey), isNull(apiKeys.revokedAt)));
  return row ? asInfo(row) : null;
}

/** Revokes a key of the project; returns false when the project has no such active key. */
export async function revokeApiKey(db: Db, projectKey: string, id: string): Promise<boolean> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date().toISOString() })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.projectKey, projectKey), isNull(apiKeys.revokedAt)))
    .returning({ keyHash: apiKeys.keyHash });
  if (!row) return false;
  lookups.delete(row.keyHash);
  return true;
}

/** Minutes this isolate already recorded as a key's last use: one D1 write per key and minute at most. */
const recordedUse = new TtlCache<string, string>(1_000, 120_000);

/** Records that the key was used in `minute` (an ISO timestamp at the minute); never moves it backwards. */
export async function recordApiKeyUse(db: Db, id: string, minute: string): Promise<void> {
  if (recordedUse.get(id) === minute) return;
  recordedUse.set(id, minute);
  await db
    .update(apiKeys)
    .set({ lastUsedAt: minute })
    .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, minute))));
}
