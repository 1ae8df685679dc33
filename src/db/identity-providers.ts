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
 * Sets the project's provider; "taken" when another project already has the same issuer and audience (the
 * project a token belongs to must follow from its `iss` and `aud` alone).
 */
export async function putIdentityProvider(db: Db, config: Omit<IdentityProviderConfig, "updatedAt">): Promise<IdentityProviderConfig | "taken"> {
  await ensureProject(db, config.projectKey);
  const values = { ...config, updatedAt: new Date().toISOString() };
  try {
    const [row] = await db
      .insert(projectIdentityProviders)
      .values(values)
      .onConflictDoUpdate({ target: projectIdentityProviders.projectKey, set: values })
      .returning(columns);
    if (!row) throw new Error("identity provider upsert returned no row");
    return row;
  } catch (error) {
    if (/UNIQUE constraint failed/i.test(String((error as { cause?: unknown }).cause ?? error))) return "taken";
    throw error;
  }
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
