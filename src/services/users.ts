import type { Db } from "../db/client";
import { findUser, upsertUser, type RegisteredUser } from "../db/users";
import { userStateStub } from "../durable/stub";

export type UserChanges = { usergroups?: string[]; attributes?: Record<string, unknown> };
export type UserWithBalance = { user: RegisteredUser; balance: number };

/**
 * Registers or updates a user: D1 first (it assigns accountId), then the user's object, which answers the
 * balance. A lost second write heals on the user's next log (the object re-reads its registration from D1).
 */
export async function registerUser(
  env: Env,
  db: Db,
  projectKey: string,
  userId: string,
  changes: UserChanges,
): Promise<UserWithBalance & { created: boolean }> {
  const { created, user } = await upsertUser(db, projectKey, userId, changes);
  const balance = await userStateStub(env, projectKey, userId).register(user);
  return { created, user, balance };
}

/** A registered user with the balance its object holds; null when the project has no such user. */
export async function readUser(env: Env, db: Db, projectKey: string, userId: string): Promise<UserWithBalance | null> {
  const user = await findUser(db, projectKey, userId);
  if (!user) return null;
  const { balance } = await userStateStub(env, projectKey, userId).snapshot();
  return { user, balance };
}
