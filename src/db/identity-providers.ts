import { eq } from "drizzle-orm";
import type { Db } from "./client";
import { ensureProject } from "./projects";
import { projectIdentityProviders } from "./schema";

export type IdentityProviderConfig = {
  projectKey: string;
  jwksUrl: string;
  issuer: string;
  /** "" when any audience is accepted. */
  audience: string;
  userIdClaim: string;
  updatedAt: string;
};

const columns = {
  projectKey: projectIdentityProviders.projectKey,
  jwksUrl: projectIdentityProviders.jwksUrl,
  issuer: projectIdentityProviders.issuer,
  audience: projectIdentityProviders.audience,
  userIdClaim: projectIdentityProviders.userIdClaim,
  updatedAt: projectIdentityProviders.updatedAt,
};

/**
 * Sets the project's provider; "taken" when another project already accepts this issuer. Checked and written
 * in one statement, so two projects racing for one issuer cannot both get it.
 */
export async function putIdentityProvider(db: Db, config: Omit<IdentityProviderConfig, "updatedAt">): Promise<IdentityProviderConfig | "taken"> {
  await ensureProject(db, config.projectKey);
  const row = await db.$client
    .prepare(
      `INSERT INTO project_identity_providers (project_key, jwks_url, issuer, audience, user_id_claim, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6
       WHERE NOT EXISTS (SELECT 1 FROM project_identity_providers WHERE issuer = ?3 AND project_key <> ?1)
       ON CONFLICT (project_key) DO UPDATE SET jwks_url = excluded.jwks_url, issuer = excluded.issuer,
         audience = excluded.audience, user_id_claim = excluded.user_id_claim, updated_at = excluded.updated_at
       RETURNING project_key AS projectKey, jwks_url AS jwksUrl, issuer, audience, user_id_claim AS userIdClaim, updated_at AS updatedAt`,
    )
    .bind(config.projectKey, config.jwksUrl, config.issuer, config.audience, config.userIdClaim, new Date().toISOString())
    .first<IdentityProviderConfig>();
  return row ?? "taken";
}

export async function findIdentityProvider(db: Db, projectKey: string): Promise<IdentityProviderConfig | null> {
  const [row] = await db.select(columns).from(projectIdentityProviders).where(eq(projectIdentityProviders.projectKey, projectKey));
  return row ?? null;
}

/** Every project's provider with this issuer (one per audience). */
export async function identityProvidersByIssuer(db: Db, issuer: string): Promise<IdentityProviderConfig[]> {
  return db.select(columns).from(projectIdentityProviders).where(eq(projectIdentityProviders.issuer, issuer)).limit(50);
}

export async function deleteIdentityProvider(db: Db, projectKey: string): Promise<boolean> {
  const [row] = await db
    .delete(projectIdentityProviders)
    .where(eq(projectIdentityProviders.projectKey, projectKey))
    .returning({ projectKey: projectIdentityProviders.projectKey });
  return row !== undefined;
}
