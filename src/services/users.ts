import type { Db } from "../db/client";
import { findUser, upsertUser, type RegisteredUser } from "../db/users";
import { profileStreak, type ProfileStreak } from "../domain/profile";
import { userStateStub } from "../durable/stub";
import type { UserStanding } from "../durable/user-state";
import { projectCatalogue } from "./definitions";

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

export type PointsProfile = {
  userId: string;
  accountId: number;
  balance: number;
  usergroups: string[];
  attributes: Record<string, unknown>;
  streaks: ProfileStreak[];
  challenges: UserStanding["challenges"];
};

/** A user's points profile: registration (D1), balance and streaks (the user's object); null when unregistered. */
export async function pointsProfile(env: Env, db: Db, projectKey: string, userId: string): Promise<PointsProfile | null> {
  const user = await findUser(db, projectKey, userId);
  if (!user) return null;
  const catalogue = await projectCatalogue(db, projectKey);
  const streaks = [...catalogue.streaks.values()].filter((s) => s.status === "ACTIVE");
  const challenges = [...catalogue.challenges.values()].filter((c) => c.status === "ACTIVE");
  // An object that lost its registration (it heals on the next log) has nothing yet.
  const standing = (await userStateStub(env, projectKey, userId).standing(streaks, challenges)) ?? { balance: 0, streaks: [], challenges: [] };
  const summaries = new Map(standing.streaks.map((s) => [s.streakId, s.summary]));
  const now = Date.now();
  return {
    userId: user.userId,
    accountId: user.accountId,
    balance: standing.balance,
    usergroups: user.usergroups,
    attributes: user.attributes,
    streaks: streaks.map((streak) => profileStreak(streak, summaries.get(streak.streakId) ?? null, now)),
    challenges: standing.challenges,
  };
}
