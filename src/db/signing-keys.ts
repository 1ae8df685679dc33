import { and, desc, eq, isNull } from "drizzle-orm";
import type { Db } from "./client";
import { ensureProject } from "./projects";
import { signingKeys } from "./schema";

export type SigningKeyInfo = { kid: string; name: string; createdAt: string };
export type SigningKeyRow = { kid: string; projectKey: string; secretCiphertext: string };

/** At most this many active signing keys per project: enough for rotation with overlap, and a bounded list. */
export const MAX_SIGNING_KEYS_PER_PROJECT = 10;

const infoColumns = { kid: signingKeys.id, name: signingKeys.name, createdAt: signingKeys.createdAt };

/**
 * Inserts the key unless the project already has MAX_SIGNING_KEYS_PER_PROJECT active ones, in one statement
 * so that concurrent creates cannot pass the bound together; null when the project is full.
 */
export async function insertSigningKey(
  db: Db,
  row: { kid: string; projectKey: string; name: string; secretCiphertext: string },
): Promise<SigningKeyInfo | null> {
  await ensureProject(db, row.projectKey);
  const result = await db.$client
    .prepare(
      `INSERT INTO signing_keys (id, project_key, name, secret_ciphertext)
       SELECT ?1, ?2, ?3, ?4
       WHERE (SELECT count(*) FROM signing_keys WHERE project_key = ?2 AND revoked_at IS NULL) < ?5
       RETURNING id AS kid, name, created_at AS createdAt`,
    )
    .bind(row.kid, row.projectKey, row.name, row.secretCiphertext, MAX_SIGNING_KEYS_PER_PROJECT)
    .first<SigningKeyInfo>();
  return result ?? null;
}

export async function listSigningKeys(db: Db, projectKey: string): Promise<SigningKeyInfo[]> {
  return db
    .select(infoColumns)
    .from(signingKeys)
    .where(and(eq(signingKeys.projectKey, projectKey), isNull(signingKeys.revokedAt)))
    .orderBy(desc(signingKeys.createdAt));
}

/** The active key with this kid, whatever its project; null when unknown or revoked. */
export async function findActiveSigningKey(db: Db, kid: string): Promise<SigningKeyRow | null> {
  const row = await db.query.signingKeys.findFirst({
    columns: { id: true, projectKey: true, secretCiphertext: true },
    where: and(eq(signingKeys.id, kid), isNull(signingKeys.revokedAt)),
  });
  return row ? { kid: row.id, projectKey: row.projectKey, secretCiphertext: row.secretCiphertext } : null;
}

/** Revokes a key of the project; false when the project has no such active key. */
export async function revokeSigningKey(db: Db, projectKey: string, kid: string): Promise<boolean> {
  const [row] = await db
    .update(signingKeys)
    .set({ revokedAt: new Date().toISOString() })
    .where(and(eq(signingKeys.id, kid), eq(signingKeys.projectKey, projectKey), isNull(signingKeys.revokedAt)))
    .returning({ kid: signingKeys.id });
  return row !== undefined;
}
