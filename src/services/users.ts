import type { Db } from "../db/client";
import {
  confirmObjectRegistration,
  confirmObjectRegistrations,
  findUser,
  unconfirmedRegistrations,
  upsertUser,
  upsertUsers,
  type MemberRegistration,
  type RegisteredUser,
} from "../db/users";
import { ledgerIdOf } from "../domain/ledger";
import { openingBalanceOf, type OpeningBalanceOutcome } from "../domain/opening-balance";
import { NO_POINTS_POLICY } from "../domain/points-lifecycle";
import type { Registration } from "../domain/user";
import { ApiError } from "../http/errors";
import { profileStreak, type ProfileStreak } from "../domain/profile";
import { userStateStub } from "../durable/stub";
import { callUserObject } from "../http/user-object-errors";
import type { UserStanding } from "../durable/user-state";
import { projectCatalogue } from "./definitions";
import type { UserObjects } from "./stats-flags";

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

/**
 * Hands a registration to the user's object and records what it confirmed. A registration with an opening
 * balance (member import) carries it and the project's points policy: the object credits it once, so a member
 * imported and not used since is created here whole (the object's own heal, registerFromDatabase, does the same).
 */
async function pushRegistration(env: UserObjects, db: Db, user: RegisteredUser): Promise<{ balance: number }> {
  const opening = openingBalanceOf(user);
  const policy = opening === null ? null : (await projectCatalogue(db, user.projectKey)).points.policy;
  const stored = await callUserObject(() => {
    const stub = userStateStub(env, user.projectKey, user.userId);
    return policy === null ? stub.register(user) : stub.importMember(user, opening, policy);
  }, "retry the registration");
  // Bookkeeping only: if this write fails the repair pushes the registration again, which changes nothing.
  await confirmObjectRegistration(db, user.projectKey, user.userId, stored.registrationVersion).catch((error: unknown) =>
    console.warn("registration confirmation not recorded", String(error)),
  );
  return stored;
}

/**
 * Calls a user's object, and when its answer says it holds no registration although D1 has the user (a member
 * imported and not used since, README "Member import"; or a registration write that was lost), creates it from
 * D1's registration and calls once more. Reads of imported members thus show their opening balance at once.
 */
export async function withRegisteredObject<T>(
  env: UserObjects,
  db: Db,
  user: RegisteredUser | { projectKey: string; userId: string },
  call: () => Promise<T>,
  unregistered: (answer: T) => boolean,
): Promise<T> {
  const answer = await callUserObject(call);
  if (!unregistered(answer)) return answer;
  const registered = "accountId" in user ? user : await findUser(db, user.projectKey, user.userId);
  if (registered === null) return answer;
  await pushRegistration(env, db, registered);
  return callUserObject(call);
}

/** One member of an import: a registration as PUT /v1/admin/users/{userId} takes it, and its opening balance. */
export type MemberImport = MemberRegistration;

/** What became of one imported member: registered (with its opening balance's outcome), or why not. */
export type ImportedMemberResult = (UserWithBalance & { created: boolean; opening: OpeningBalanceOutcome | null }) | { failed: ApiError };

/**
 * Imports members as registerUser registers one, at the pace of D1: one batch registers them all (accountIds and
 * registration versions as the single PUT assigns them; the first opening balance named is kept). A member new to
 * the project gets no object call: its object is created from D1's row on first use, crediting the opening balance
 * then, dated at the import (so the answer knows its ledger id: the account's first entry). A member that exists
 * has an object: it is called (registration and opening balance, credited at most once; another amount than the
 * one credited is a conflict), all at once, and D1 notes the versions confirmed (one batch). An object out of
 * reach fails its member alone (503: retry; the scheduled repair pushes the registration meanwhile). Results in
 * the order of `members`, which must name each userId once. No quota applies: an import is not a logged event.
 */
export async function importMembers(env: Env, db: Db, projectKey: string, members: readonly MemberImport[]): Promise<ImportedMemberResult[]> {
  if (members.length === 0) return [];
  const now = new Date().toISOString();
  // An opening balance of 0 brings nothing over.
  const stored = await upsertUsers(
    db,
    projectKey,
    members.map(({ openingBalance, ...registration }) => (openingBalance ? { ...registration, openingBalance } : registration)),
    now,
  );
  const existing = members.filter((member) => !stored.get(member.userId)!.created);
  const policy = existing.some(({ userId }) => stored.get(userId)!.user.openingBalance !== null)
    ? (await projectCatalogue(db, projectKey)).points.policy
    : NO_POINTS_POLICY;
  /** What the answer says of a member's opening balance, credited (now or before) as `loyaltyEventId`. */
  const outcome = (member: MemberImport, loyaltyEventId: number): OpeningBalanceOutcome | null => {
    const { user, openingCounted } = stored.get(member.userId)!;
    if (!member.openingBalance || user.openingBalance === null) return null;
    const credited = { points: user.openingBalance, loyaltyEventId, creditedAt: user.openingBalanceAt! };
    if (member.openingBalance !== user.openingBalance) return { kind: "conflict", existing: credited };
    // Credited by this import when it was the first to name it (the object may credit it only later: on first use).
    return { kind: openingCounted ? "credited" : "replayed", ...credited };
  };
  const answers = new Map<string, { result: ImportedMemberResult; confirmed?: number }>();
  for (const member of members) {
    const { created, user } = stored.get(member.userId)!;
    // A new member's object credits the opening balance as its ledger's first entry when it is created.
    if (created)
      answers.set(member.userId, { result: { created, user, balance: user.openingBalance ?? 0, opening: outcome(member, ledgerIdOf(user.accountId, 1)!) } });
  }
  await Promise.all(
    existing.map(async (member) => {
      const { created, user } = stored.get(member.userId)!;
      const { programId, userId, accountId, usergroups, registrationVersion } = user;
      const registration: Registration = { projectKey, programId, userId, accountId, usergroups, registrationVersion };
      try {
        // The object credits D1's opening balance (the first one named), whatever amount this import names.
        const imported = await callUserObject(
          () => userStateStub(env, projectKey, userId).importMember(registration, openingBalanceOf(user), policy),
          "retry the import (registrations are kept; an opening balance is credited once)",
        );
        const credited = imported.opening;
        let opening: OpeningBalanceOutcome | null;
        if (credited === null || credited.kind === "credited" || credited.kind === "replayed") opening = outcome(member, credited?.loyaltyEventId ?? 0);
        else {
          // A refusal (overflow, a full ledger) is this item's only when it names an opening balance.
          console.warn(`opening balance of ${userId} not credited: ${credited.kind}`);
          opening = member.openingBalance ? credited : null;
        }
        answers.set(userId, { result: { created, user, balance: imported.balance, opening }, confirmed: imported.registrationVersion });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        answers.set(userId, { result: { failed: error } });
      }
    }),
  );
  const confirmed = existing.flatMap(({ userId }) => {
    const version = answers.get(userId)!.confirmed;
    return version === undefined ? [] : [{ userId, version }];
  });
  // Bookkeeping only: if this write fails the scheduled repair pushes the registrations again, which changes nothing.
  await confirmObjectRegistrations(db, projectKey, confirmed).catch((error: unknown) => console.warn("registration confirmations not recorded", String(error)));
  return members.map((member) => answers.get(member.userId)!.result);
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
  const { balance } = await withRegisteredObject(
    env,
    db,
    user,
    () => userStateStub(env, projectKey, userId).snapshot(),
    (snapshot) => !snapshot.registered,
  );
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
  const standing = (await withRegisteredObject(
    env,
    db,
    user,
    () => userStateStub(env, projectKey, userId).standing(streaks, challenges, catalogue.points.policy),
    (answer) => answer === null,
  )) ?? { balance: 0, streaks: [], challenges: [], expiring: [], tier: null };
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
