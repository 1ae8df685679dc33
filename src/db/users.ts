import { and, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { chunkBySize } from "../domain/json";
import { countImportedOpeningBalances } from "./points";
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
  /** The opening balance a member import brought, and when (ISO); null without one. Credited once by the object. */
  openingBalance: number | null;
  openingBalanceAt: string | null;
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
  openingBalance: users.openingBalance,
  openingBalanceAt: users.openingBalanceAt,
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

/**
 * One member of an import as D1 registers it: fields left out keep their values (a new user gets [] and {}); an
 * opening balance is stored by the first import that names one and never changed after.
 */
export type MemberRegistration = { userId: string; usergroups?: string[]; attributes?: Record<string, unknown>; openingBalance?: number };

/** D1 binds at most 2 MB a value: each statement's JSON list of members stays well below it. */
const MAX_MEMBER_LIST_BYTES = 900_000;

type RegisteredRow = {
  accountId: number;
  userId: string;
  usergroups: string;
  attributes: string;
  registrationVersion: number;
  openingBalance: number | null;
  openingBalanceAt: string | null;
  createdAt: string;
  updatedAt: string;
};

/**
 * Registers or updates many users of a project as upsertUser does each (accountIds assigned once, the
 * registration version grown by every change), in one D1 batch (one transaction): one multi-row upsert per
 * shape (which of usergroups and attributes the members give) and ~900 KB of members, three bound values each.
 * `created` without a read before: a row this batch inserted has version 1, an update makes it 2 or more. A row
 * inserted here counts as confirmed (object_version 1): its object does not exist yet and is created from this row
 * on first use, so the scheduled repair has nothing to push (README "Member import"). `now` (ISO) dates the
 * registrations and the opening balances this call is the first to name, which the points stats count at once
 * (`openingCounted`: this call named it first).
 * `members` must name each userId once. Returns the stored users by userId.
 */
export async function upsertUsers(
  db: Db,
  projectKey: string,
  members: readonly MemberRegistration[],
  now: string,
): Promise<Map<string, { created: boolean; openingCounted: boolean; user: RegisteredUser }>> {
  const stored = new Map<string, { created: boolean; openingCounted: boolean; user: RegisteredUser }>();
  if (members.length === 0) return stored;
  const programId = await ensureProject(db, projectKey);
  const shapes = new Map<string, MemberRegistration[]>();
  for (const member of members) {
    const shape = `${member.usergroups !== undefined}|${member.attributes !== undefined}`;
    const group = shapes.get(shape);
    if (group) group.push(member);
    else shapes.set(shape, [member]);
  }
  const d1 = db.$client;
  const statements = [...shapes].flatMap(([shape, group]) => {
    const [groupsGiven, attributesGiven] = shape.split("|").map((given) => given === "true");
    const upsert = d1.prepare(
      `INSERT INTO users (project_key, user_id, usergroups, attributes, object_version, opening_balance, opening_balance_at, created_at, updated_at)
       SELECT ?1, value ->> '$.userId', COALESCE(value -> '$.usergroups', '[]'), COALESCE(value -> '$.attributes', '{}'), 1,
         value ->> '$.openingBalance', CASE WHEN value ->> '$.openingBalance' IS NULL THEN NULL ELSE ?2 END, ?2, ?2
       FROM json_each(?3) WHERE true
       ON CONFLICT (project_key, user_id) DO UPDATE SET
         usergroups = ${groupsGiven ? "excluded.usergroups" : "users.usergroups"},
         attributes = ${attributesGiven ? "excluded.attributes" : "users.attributes"},
         opening_balance_at = CASE WHEN users.opening_balance IS NULL THEN excluded.opening_balance_at ELSE users.opening_balance_at END,
         opening_balance = coalesce(users.opening_balance, excluded.opening_balance),
         registration_version = users.registration_version + 1, updated_at = excluded.updated_at
       RETURNING account_id AS accountId, user_id AS userId, usergroups, attributes, registration_version AS registrationVersion,
         opening_balance AS openingBalance, opening_balance_at AS openingBalanceAt, created_at AS createdAt, updated_at AS updatedAt`,
    );
    return chunkBySize(group, (member) => JSON.stringify(member).length * 3, MAX_MEMBER_LIST_BYTES).map((chunk) =>
      upsert.bind(projectKey, now, JSON.stringify(chunk)),
    );
  });
  const withOpening = members.filter((member) => member.openingBalance !== undefined).map((member) => member.userId);
  const counted = countImportedOpeningBalances(d1, projectKey, withOpening, now, crypto.randomUUID());
  const results = await d1.batch<RegisteredRow>([...statements, ...counted]);
  const countedAccounts = new Set((results[statements.length]?.results as Array<{ accountId: string }> | undefined)?.map((row) => Number(row.accountId)));
  for (const result of results.slice(0, statements.length)) {
    for (const row of result.results) {
      const user: RegisteredUser = {
        ...row,
        projectKey,
        programId,
        usergroups: JSON.parse(row.usergroups) as string[],
        attributes: JSON.parse(row.attributes) as Record<string, unknown>,
      };
      stored.set(row.userId, { created: row.registrationVersion === 1, openingCounted: countedAccounts.has(row.accountId), user });
    }
  }
  return stored;
}

/**
 * Records what many users' objects confirmed (as confirmObjectRegistration does each): one statement per version
 * confirmed (an import's members share a few) and ~900 KB of userIds, each an index lookup, in one D1 batch.
 */
export async function confirmObjectRegistrations(db: Db, projectKey: string, confirmed: ReadonlyArray<{ userId: string; version: number }>): Promise<void> {
  if (confirmed.length === 0) return;
  const byVersion = new Map<number, string[]>();
  for (const { userId, version } of confirmed) {
    const userIds = byVersion.get(version);
    if (userIds) userIds.push(userId);
    else byVersion.set(version, [userId]);
  }
  const d1 = db.$client;
  const confirm = d1.prepare(
    `UPDATE users SET object_version = max(object_version, ?2)
     WHERE project_key = ?1 AND user_id IN (SELECT value FROM json_each(?3))`,
  );
  await d1.batch(
    [...byVersion].flatMap(([version, userIds]) =>
      chunkBySize(userIds, (userId) => userId.length * 3 + 3, MAX_MEMBER_LIST_BYTES).map((chunk) => confirm.bind(projectKey, version, JSON.stringify(chunk))),
    ),
  );
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
