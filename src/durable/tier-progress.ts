import { localDayNumber, startOfLocalDay } from "../domain/calendar";
import { policyTimeZone } from "../domain/point-lots";
import type { PointsPolicy, TierLadder } from "../domain/points-lifecycle";
import {
  previousWindowRange,
  tierAfterEarn,
  tierAtWindowEnd,
  tierStanding,
  tierUnderNewLadder,
  windowRange,
  windowReviewDay,
  type TierCause,
  type TierStanding,
  type WindowPoints,
} from "../domain/tiers";
import type { UserProfile } from "../domain/user";
import { pointsChange } from "./points-change-message";
import { appendHistory } from "./storage/points-history";
import type { Outbox } from "./storage/outbox";
import { recordChange } from "./storage/profile";
import { earnedDaysIn, earnedIn, readTierState, writeTierState } from "./storage/tiers";

/** The member's tier on the project's ladder (src/domain/tiers.ts decides; this reads and writes the object's state). */

/** Points earned in the window of local day `today`, and in the window before where a tier holds through the next. */
function windowPoints(sql: SqlStorage, ladder: TierLadder, today: number): WindowPoints {
  const previous = previousWindowRange(ladder, today);
  return { inWindow: earnedIn(sql, windowRange(ladder.window, today)), previousWindow: previous ? earnedIn(sql, previous) : 0 };
}

/** The member's tier as the ladder stands (null without a ladder): rewards treat it as one of the user's groups. */
export const currentTier = (sql: SqlStorage, policy: PointsPolicy): string | null => (policy.tiers ? readTierState(sql).tierId : null);

/**
 * Sets the tier decided at `at` and when it is next reviewed; a change is recorded like a balance change: a
 * history entry (0 points), the next profile seq and a `points_change` "tier" message.
 */
function setTier(
  sql: SqlStorage,
  outbox: Outbox,
  profile: UserProfile,
  policy: PointsPolicy,
  tierId: string | null,
  cause: TierCause,
  at: number,
  now: number,
): void {
  const state = readTierState(sql);
  const zone = policyTimeZone(policy.timezone);
  const ladder = policy.tiers;
  const reviewDay = ladder
    ? windowReviewDay(ladder, tierId, localDayNumber(at, zone), () => earnedDaysIn(sql, windowRange(ladder.window, localDayNumber(at, zone))))
    : null;
  const reviewAt = reviewDay === null ? null : startOfLocalDay(reviewDay, zone);
  const changed = tierId !== state.tierId;
  const since = tierId === null ? null : changed ? at : state.since;
  if (!changed && reviewAt === state.reviewAt) return;
  writeTierState(sql, { tierId, since, reviewAt });
  if (!changed) return;
  const tier = { from: state.tierId, to: tierId, cause };
  const seq = recordChange(sql, profile.balance);
  appendHistory(sql, { type: "tier", at, points: 0, balanceAfter: profile.balance, reference: null, reason: cause, details: tier });
  outbox.add(pointsChange(profile, seq, at, "tier", { points: 0, balanceAfter: profile.balance, redemptionId: null, reason: cause, tier }), now);
}

/** After points were earned at `now`: up to what the window's points entitle to (never down here). */
export function tierAfterEarning(sql: SqlStorage, outbox: Outbox, profile: UserProfile, policy: PointsPolicy, now: number): void {
  const ladder = policy.tiers;
  if (!ladder) return;
  const today = localDayNumber(now, policyTimeZone(policy.timezone));
  setTier(sql, outbox, profile, policy, tierAfterEarn(ladder, readTierState(sql).tierId, windowPoints(sql, ladder, today)), "earned", now, now);
}

/** The review the alarm set (end_of_window): at `at`, the tier becomes what the window's points entitle to. */
export function reviewTier(sql: SqlStorage, outbox: Outbox, profile: UserProfile, policy: PointsPolicy, at: number, now: number): void {
  const ladder = policy.tiers;
  if (!ladder) {
    writeTierState(sql, { ...readTierState(sql), reviewAt: null });
    return;
  }
  const today = localDayNumber(at, policyTimeZone(policy.timezone));
  setTier(sql, outbox, profile, policy, tierAtWindowEnd(ladder, windowPoints(sql, ladder, today)), "window_ended", at, now);
}

/** Under a new ladder or time zone (or none): the tier the points entitle to (with `never`, not below the one held). */
export function tierUnderNewPolicy(sql: SqlStorage, outbox: Outbox, profile: UserProfile, policy: PointsPolicy, now: number): void {
  const ladder = policy.tiers;
  const today = localDayNumber(now, policyTimeZone(policy.timezone));
  const tierId = ladder ? tierUnderNewLadder(ladder, readTierState(sql).tierId, windowPoints(sql, ladder, today)) : null;
  setTier(sql, outbox, profile, policy, tierId, "ladder_changed", now, now);
}

/** When the tier is next reviewed (epoch ms), or null. */
export const tierReviewAt = (sql: SqlStorage): number | null => readTierState(sql).reviewAt;

/** The tier as the profile shows it at `now` (null without a ladder). */
export function tierProfile(sql: SqlStorage, policy: PointsPolicy, now: number): TierStanding | null {
  const ladder = policy.tiers;
  if (!ladder) return null;
  const state = readTierState(sql);
  const today = localDayNumber(now, policyTimeZone(policy.timezone));
  return tierStanding(ladder, state.tierId, state.since, earnedIn(sql, windowRange(ladder.window, today)));
}
