import { z } from "@hono/zod-openapi";
import { assertActsFor, type Principal } from "../auth/principal";
import type { Db } from "../db/client";
import {
  deleteTierLadder,
  firstPointsDay,
  loadPointsSettings,
  readPointsDays,
  upsertPointsSettings,
  upsertTierLadder,
  type StoredPointsSettings,
} from "../db/points";
import { ensureProject } from "../db/projects";
import { canonicalJson, sha256Hex } from "../domain/hashing";
import { dayOf } from "../domain/periods";
import type { PointsHistoryEntry, RedeemOutcome, Redemption, ReverseOutcome, TierLadder } from "../domain/points-lifecycle";
import type { PointsSettingsInput } from "../domain/points-settings";
import { pointsStats, requestedWindow, type StatsPeriod } from "../domain/stats";
import { userStateStub } from "../durable/stub";
import { ApiError, invalidFields, userNotFound } from "../http/errors";
import { callUserObject, redemptionFailure, reversalFailure } from "../http/user-object-errors";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { noteCatalogueWrite, projectCatalogue } from "./definitions";
import { checkMetadataSize } from "./event-logging";
import { withRegisteredObject } from "./users";

/**
 * The Worker's side of the points lifecycle (README "Points lifecycle"): the project's settings and tier ladder
 * (D1, part of the catalogue: each command carries them as its PointsPolicy), redemptions and their reversals
 * and the member's points history (decided and kept by the user's object), and the points stats (aggregates).
 */

// ---- Settings and the tier ladder -------------------------------------------------------------------------

/** The settings as the admin routes answer them. */
export const settingsBody = (stored: StoredPointsSettings) => ({ ...stored.settings, version: stored.version, updatedAt: stored.updatedAt });

/** The ladder as the admin routes answer it; null when the project has none. */
export const ladderBody = (stored: StoredPointsSettings) =>
  stored.tiers === null ? null : { ...stored.tiers, version: stored.version, updatedAt: stored.updatedAt };

/** The stored settings and ladder with their version, read from D1 (what an admin wrote, wherever). */
export const pointsSettingsOf = (db: Db, projectKey: string): Promise<StoredPointsSettings> => loadPointsSettings(db.$client, projectKey);

/**
 * Sets the fields sent (creating the project on its first admin write). They apply to what happens from now on:
 * an expiry setting to lots earned afterwards, the time zone to dates computed afterwards. This isolate's
 * catalogue has them at once, the others' within 5 s.
 */
export async function setPointsSettings(db: Db, projectKey: string, input: PointsSettingsInput): Promise<StoredPointsSettings> {
  await ensureProject(db, projectKey);
  const stored = await upsertPointsSettings(db.$client, projectKey, input);
  noteCatalogueWrite(projectKey);
  return stored;
}

/** Sets the tier ladder (validated and sorted by TierLadderInputSchema). */
export async function setTierLadder(db: Db, projectKey: string, ladder: TierLadder): Promise<{ created: boolean; stored: StoredPointsSettings }> {
  await ensureProject(db, projectKey);
  const before = await loadPointsSettings(db.$client, projectKey);
  const stored = await upsertTierLadder(db.$client, projectKey, ladder);
  noteCatalogueWrite(projectKey);
  return { created: before.tiers === null, stored };
}

/** Removes the tier ladder: members have no tier from then on. False when the project had none. */
export async function removeTierLadder(db: Db, projectKey: string): Promise<boolean> {
  const { changed } = await deleteTierLadder(db.$client, projectKey);
  if (changed) noteCatalogueWrite(projectKey);
  return changed;
}

// ---- Redemptions -------------------------------------------------------------------------------------------

export type RedemptionRequest = { points: number; reason: string; reference?: string; metadata?: Record<string, unknown> };

/**
 * A user token may act for its own user only, and redeem only where the project allows it (userTokensMayRedeem);
 * admin tokens and API keys (their scope was checked by the route) act for any user.
 */
function assertMayRedeem(principal: Principal, userId: string, userTokensMayRedeem: boolean): void {
  assertActsFor(principal, userId);
  if (principal.kind === "user" && !userTokensMayRedeem) {
    throw new ApiError(403, "This project does not let user tokens redeem points (an admin sets userTokensMayRedeem with PUT /v1/admin/project/settings)");
  }
}

/**
 * Redeems `points` of the user's balance, decided by the user's object (exact under concurrency: what the
 * balance, after the expiries due, does not cover is refused whole). The Idempotency-Key makes a retry answer
 * the first redemption again (`replayed`); the same key with another body is 409.
 */
export async function redeemPoints(
  env: Env,
  db: Db,
  principal: Principal,
  userId: string,
  request: RedemptionRequest,
  idempotencyKey: string,
): Promise<{ redemption: Redemption; replayed: boolean }> {
  const { settings, policy } = (await projectCatalogue(db, principal.projectKey)).points;
  assertMayRedeem(principal, userId, settings.userTokensMayRedeem);
  const metadata = request.metadata ?? {};
  checkMetadataSize(metadata);
  const reference = request.reference ?? null;
  const requestHash = await sha256Hex(canonicalJson({ userId, points: request.points, reason: request.reason, reference, metadata }));
  const outcome: RedeemOutcome = await callUserObject(
    () =>
      userStateStub(env, principal.projectKey, userId).redeem(principal.projectKey, userId, {
        policy,
        points: request.points,
        reason: request.reason,
        reference,
        metadata,
        idempotencyKey,
        requestHash,
      }),
    "retry with the same Idempotency-Key",
  );
  if (outcome.kind !== "redeemed") throw redemptionFailure(outcome, userId);
  return { redemption: outcome.redemption, replayed: outcome.replayed };
}

/**
 * Gives a redemption's points back, once (the object refuses a second reversal): to the lots they came from, or,
 * for lots that expired meanwhile, as one lot earned now (README "Points lifecycle").
 */
export async function reverseRedemption(
  env: Env,
  db: Db,
  principal: Principal,
  userId: string,
  redemptionId: string,
  reason: string,
): Promise<{ redemption: Redemption & { reversedAt: string }; balance: number }> {
  const { policy } = (await projectCatalogue(db, principal.projectKey)).points;
  const outcome: ReverseOutcome = await callUserObject(() =>
    userStateStub(env, principal.projectKey, userId).reverseRedemption(principal.projectKey, userId, { policy, redemptionId, reason }),
  );
  if (outcome.kind !== "reversed") throw reversalFailure(outcome, userId, redemptionId);
  const { reversedAt } = outcome.redemption;
  if (reversedAt === null) throw new Error(`the user's object reversed redemption ${redemptionId} without a time`);
  return { redemption: { ...outcome.redemption, reversedAt }, balance: outcome.balance };
}

// ---- The member's history ------------------------------------------------------------------------------------

export type PointsHistoryPage = { entries: PointsHistoryEntry[]; nextCursor: string | null };

/** The history's cursor: the seq the next page continues before, opaque to clients. */
const HistoryCursorSchema = z.object({ s: z.number().int().positive() });

/** A page of the member's points history, newest first, from the user's object; 404 for an unregistered user. */
export async function pointsHistoryPage(
  env: Env,
  db: Db,
  principal: Principal,
  userId: string,
  query: { cursor: string | null; limit: number },
): Promise<PointsHistoryPage> {
  assertActsFor(principal, userId);
  const before = query.cursor === null ? undefined : decodeCursor(query.cursor, HistoryCursorSchema)?.s;
  if (before === undefined && query.cursor !== null)
    throw invalidFields("query", [{ path: "cursor", message: "not a cursor of this history (take nextCursor from a page)" }]);
  const page = await withRegisteredObject(
    env,
    db,
    { projectKey: principal.projectKey, userId },
    () => userStateStub(env, principal.projectKey, userId).pointsHistory({ cursor: before, limit: query.limit }),
    (answer) => answer === null,
  );
  if (page === null) throw userNotFound(userId);
  return { entries: page.entries, nextCursor: page.nextCursor === null ? null : encodeCursor({ s: page.nextCursor }) };
}

// ---- Stats ---------------------------------------------------------------------------------------------------

/** GET /v1/stats/points: earned, redeemed, reversed and expired points per UTC day of the window, and totals. */
export async function pointsStatistics(db: Db, projectKey: string, query: { period: StatsPeriod; month: string | null }) {
  const firstDay = query.month === null && query.period === "all" ? await firstPointsDay(db.$client, projectKey) : null;
  const { period, ...window } = requestedWindow(query, dayOf(new Date().toISOString()), firstDay);
  const rows = await readPointsDays(db.$client, projectKey, window.startDate, window.endDate);
  return { period, ...window, ...pointsStats(window, rows) };
}
