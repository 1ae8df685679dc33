import type { Db } from "../db/client";
import { confirmObjectRegistration, findUser, unconfirmedRegistrations, upsertUser, type RegisteredUser } from "../db/users";
import { profileStreak, type ProfileStreak } from "../domain/profile";
import { userStateStub } from "../durable/stub";
import { callUserObject } from "../http/user-object-errors";
import type { UserStanding } from "../durable/user-state";
import { projectCatalogue } from "./definitions";

export type UserChanges = { usergroups?: string[]; attributes?: Record<string, unknown> };
export type UserWithBalance = { user: RegisteredUser; balance: number };

/**
 * Registers or updates a user: D1 first (it assigns accountId and the next registration version), then the
 * user's object, which keeps the newest version it is given (so concurrent or retried registrations converge
 * on the last one D1 wrote), then D1 notes the version the object confirmed. When the object cannot be
 * reached the answer is 503 (retry the PUT); the scheduled repair (`repairRegistrations`) pushes every
 * registration whose object has not confirmed it, so the two agree even if nobody retries.
 */
export async function registerUser(
  env: Env,
  db: Db,
  projectKey: string,
  userId: string,
  changes: UserChanges,
): Promise<UserWithBalance & { created: boolean }> {
  const { created, user } = await upsertUser(db, projectKey, userId, changes);
  const { balance } = await pushRegistration(env, db, user);
  return { created, user, balance };
}

/** Hands a registration to the user's object and records what it confirmed. */
async function pushRegistration(env: Env, db: Db, user: RegisteredUser): Promise<{ balance: number }> {
  const stored = await callUserObject(() => userStateStub(env, user.projectKey, user.userId).register(user), "retry the registration");
  // Bookkeeping only: if this write fails the repair pushes the registration again, which changes nothing.
  await confirmObjectRegistration(db, user.projectKey, user.userId, stored.registrationVersion).catch((error: unknown) =>
    console.warn("registration confirmation not recorded", String(error)),
  );
  return stored;
}

/** Registrations pushed per scheduled run: each is one object call and one D1 write. */
export const REGISTRATION_REPAIRS_PER_RUN = 200;

/**
 * The scheduled repair: registrations whose objects have not confirmed them (a PUT whose object call failed,
 * or the confirmation write did), pushed again. Returns how many were pushed; failures wait for the next run.
 */
export async function repairRegistrations(env: Env, db: Db, limit = REGISTRATION_REPAIRS_PER_RUN): Promise<{ pushed: number; failed: number }> {
  const pending = await unconfirmedRegistrations(db, limit);
  const results = await Promise.allSettled(pending.map((user) => pushRegistration(env, db, user)));
  return { pushed: results.filter((r) => r.status === "fulfilled").length, failed: results.filter((r) => r.status === "rejected").length };
}

/** A registered user with the balance its object holds; null when the project has no such user. */
export async function readUser(env: Env, db: Db, projectKey: string, userId: string): Promise<UserWithBalance | null> {
  const user = await findUser(db, projectKey, userId);
  if (!user) return null;
  const { balance } = await callUserObject(() => userStateStub(env, projectKey, userId).snapshot());
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
  expiring: UserStanding["expiring"];
  tier: UserStanding["tier"];
};

/** A user's points profile: registration (D1), balance and streaks (the user's object); null when unregistered. */
export async function pointsProfile(env: Env, db: Db, projectKey: string, userId: string): Promise<PointsProfile | null> {
  const user = await findUser(db, projectKey, userId);
  if (!user) return null;
  const catalogue = await projectCatalogue(db, projectKey);
  const streaks = [...catalogue.streaks.values()].filter((s) => s.status === "ACTIVE");
  const challenges = [...catalogue.challenges.values()].filter((c) => c.status === "ACTIVE");
  // An object that lost its registration (it heals on the next log) has nothing yet.
  const standing = (await callUserObject(() => userStateStub(env, projectKey, userId).standing(streaks, challenges, catalogue.points.policy))) ?? {
    balance: 0,
    streaks: [],
    challenges: [],
    expiring: [],
    tier: null,
  };
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
    expiring: standing.expiring,
    tier: standing.tier,
  };
}
