import { and, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { ensureProject } from "./projects";
import { projects, users } from "./schema";

export type RegisteredUser = {
  projectKey: string;
  programId: number;
  userId: string;
  accountId: number;
  usergroups: string[];
  attributes: Record<string, unknown>;
  /** Grows with every change; the user's object keeps the newest registration it was given. */
  registrationVersion: number;
  createdAt: string;
  updatedAt: string;
};

const registeredColumns = {
  projectKey: users.projectKey,
  userId: users.userId,
  accountId: users.accountId,
  usergroups: users.usergroups,
  attributes: users.attributes,
  registrationVersion: users.registrationVersion,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
};

/** Registers or updates a user; fields left out of the update keep their values. `accountId` is assigned once. */
export async function upsertUser(
  db: Db,
  projectKey: string,
  userId: string,
  changes: { usergroups?: string[]; attributes?: Record<string, unknown> },
): Promise<{ created: boolean; user: RegisteredUser }> {
  const programId = await ensureProject(db, projectKey);
  const now = new Date().toISOString();
  const existing = await db.query.users.findFirst({
    columns: { accountId: true },
    where: and(eq(users.projectKey, projectKey), eq(users.userId, userId)),
  });
  const [row] = await db
    .insert(users)
    .values({ projectKey, userId, usergroups: changes.usergroups ?? [], attributes: changes.attributes ?? {}, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: [users.projectKey, users.userId],
      set: {
        usergroups: changes.usergroups === undefined ? sql`${users.usergroups}` : sql`excluded.usergroups`,
        attributes: changes.attributes === undefined ? sql`${users.attributes}` : sql`excluded.attributes`,
        registrationVersion: sql`${users.registrationVersion} + 1`,
        updatedAt: now,
      },
    })
    .returning(registeredColumns);
  if (!row) throw new Error("user upsert returned no row");
  return { created: !existing, user: { ...row, programId } };
}

/** Which of `userIds` (up to a batch's 1,000) are registered in the project: one query, one bound JSON array. */
export async function registeredUserIds(db: Db, projectKey: string, userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db
    .select({ userId: users.userId })
    .from(users)
    .where(and(eq(users.projectKey, projectKey), sql`${users.userId} IN (SELECT value FROM json_each(${JSON.stringify(userIds)}))`));
  return new Set(rows.map((row) => row.userId));
}

export async function findUser(db: Db, projectKey: string, userId: string): Promise<RegisteredUser | null> {
  const [row] = await db
    .select({ user: registeredColumns, programId: projects.id })
    .from(users)
    .innerJoin(projects, eq(projects.key, users.projectKey))
    .where(and(eq(users.projectKey, projectKey), eq(users.userId, userId)))
    .limit(1);
  return row ? { ...row.user, programId: row.programId } : null;
}

/** Records that the user's object holds registration `version` (never moving the confirmation backwards). */
export async function confirmObjectRegistration(db: Db, projectKey: string, userId: string, version: number): Promise<void> {
  await db
    .update(users)
    .set({ objectVersion: sql`max(${users.objectVersion}, ${version})` })
    .where(and(eq(users.projectKey, projectKey), eq(users.userId, userId)));
}

/** Registrations their objects have not confirmed (the partial index users_unconfirmed), oldest account first. */
export async function unconfirmedRegistrations(db: Db, limit: number): Promise<RegisteredUser[]> {
  const rows = await db
    .select({ user: registeredColumns, programId: projects.id })
    .from(users)
    .innerJoin(projects, eq(projects.key, users.projectKey))
    .where(sql`${users.objectVersion} < ${users.registrationVersion}`)
    .orderBy(users.accountId)
    .limit(limit);
  return rows.map((row) => ({ ...row.user, programId: row.programId }));
}

/**
 * The user id of an account in a project: the user whose object keeps the account's ledger. Null for an account
 * of another project or of none. One primary-key lookup.
 */
export async function findUserIdByAccount(db: Db, projectKey: string, accountId: number): Promise<string | null> {
  const [row] = await db
    .select({ userId: users.userId })
    .from(users)
    .where(and(eq(users.accountId, accountId), eq(users.projectKey, projectKey)))
    .limit(1);
  return row?.userId ?? null;
}
