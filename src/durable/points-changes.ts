import { localDayNumber } from "../domain/calendar";
import { creditedToLots, debitedFromLots, lotExpiresAt, policyTimeZone, takeOldestFirst, type LotTake } from "../domain/point-lots";
import type { PointsPolicy } from "../domain/points-lifecycle";
import type { TierStanding } from "../domain/tiers";
import type { UserProfile } from "../domain/user";
import { pointsChange } from "./points-change-message";
import { addLot, expireLotsAt, liveLots, moveLotPoints, nextExpiry, upcomingExpiries, type LotSource } from "./storage/point-lots";
import { appendHistory } from "./storage/points-history";
import { storePolicy } from "./storage/points-policy";
import type { Outbox } from "./storage/outbox";
import { recordChange } from "./storage/profile";
import { addEarnedPoints } from "./storage/tiers";
import { reviewTier, tierProfile, tierReviewAt, tierUnderNewPolicy } from "./tier-progress";

/**
 * The object's side of the points lifecycle (README "Points lifecycle"): every change of the balance moves the
 * member's lots and writes a history entry in the transaction of the change, so at every moment the history's
 * points add up to the balance and the lots' remainders to the balance when positive (src/domain/point-lots.ts).
 * Changes other than logs and adjustments also go to the outbox as `points_change` messages, numbered by the
 * profile seq like logs.
 */

const iso = (ms: number) => new Date(ms).toISOString();

/** Points added to the balance by an earn or a positive adjustment. */
export type Credit = {
  type: "earn" | "adjust";
  source: LotSource;
  points: number;
  balanceBefore: number;
  at: number;
  policy: PointsPolicy;
  reference: string | null;
  reason: string | null;
  details: Record<string, unknown>;
};

/**
 * Records points added (> 0): a lot of them expiring by the policy (what a debt does not take first), the points
 * earned on the local day (tiers count earns and positive adjustments) and the history entry.
 */
export function creditPoints(sql: SqlStorage, credit: Credit): void {
  const { policy, at } = credit;
  const expiresAt = lotExpiresAt(at, policy.expiry, policy.timezone);
  const intoLots = creditedToLots(credit.balanceBefore, credit.points);
  if (intoLots > 0) addLot(sql, { earnedAt: at, points: credit.points, remaining: intoLots, expiresAt, source: credit.source, reference: credit.reference });
  addEarnedPoints(sql, localDayNumber(at, policyTimeZone(policy.timezone)), credit.points);
  appendHistory(sql, {
    type: credit.type,
    at,
    points: credit.points,
    balanceAfter: credit.balanceBefore + credit.points,
    reference: credit.reference,
    reason: credit.reason,
    details: { ...credit.details, expiresAt: expiresAt === null ? null : iso(expiresAt) },
  });
}

/** Points taken from the balance by a redemption or a negative adjustment. */
export type Debit = {
  type: "redeem" | "adjust";
  points: number;
  balanceBefore: number;
  at: number;
  reference: string | null;
  reason: string | null;
  details: Record<string, unknown>;
};

/** Records points taken (> 0): from the oldest lots first (beyond them, a debt) and the history entry. Returns what each lot gave. */
export function debitPoints(sql: SqlStorage, debit: Debit): LotTake[] {
  const { taken } = takeOldestFirst(liveLots(sql), debitedFromLots(debit.balanceBefore, debit.points));
  moveLotPoints(sql, taken, -1);
  appendHistory(sql, {
    type: debit.type,
    at: debit.at,
    points: -debit.points,
    balanceAfter: debit.balanceBefore - debit.points,
    reference: debit.reference,
    reason: debit.reason,
    details: debit.details,
  });
  return taken;
}

/** The earliest of these instants (null: none), e.g. of a known next lot expiry and one added since. */
export function earliest(...times: Array<number | null>): number | null {
  const known = times.filter((t): t is number => t !== null);
  return known.length === 0 ? null : Math.min(...known);
}

/**
 * When the object next has points work to do on its own (an expiry, a tier review), or null; `lotsExpireAt`,
 * the next lot expiry, when the caller knows it (the tier's review is held in memory: storage/tiers.ts).
 */
export function nextPointsDuty(sql: SqlStorage, lotsExpireAt: number | null = nextExpiry(sql)): number | null {
  return earliest(lotsExpireAt, tierReviewAt(sql));
}

/**
 * Applies what fell due by `now`, in time order: at each expiry instant the remainders of the lots expiring
 * then expire together (one history entry `expire`, one message), and a tier review re-evaluates the tier. Each
 * happens at its own instant, however late this runs. Returns the balance after them.
 */
export function settleDuePoints(sql: SqlStorage, outbox: Outbox, profile: UserProfile, policy: PointsPolicy, now: number): number {
  let balance = profile.balance;
  for (;;) {
    const expiry = nextExpiry(sql);
    const review = tierReviewAt(sql);
    const dueExpiry = expiry !== null && expiry <= now ? expiry : null;
    const dueReview = review !== null && review <= now ? review : null;
    if (dueExpiry === null && dueReview === null) return balance;
    if (dueExpiry !== null && (dueReview === null || dueExpiry <= dueReview)) {
      const expired = expireLotsAt(sql, dueExpiry);
      balance -= expired.points;
      const seq = recordChange(sql, balance);
      appendHistory(sql, {
        type: "expire",
        at: dueExpiry,
        points: -expired.points,
        balanceAfter: balance,
        reference: null,
        reason: null,
        details: { lots: expired.lots },
      });
      outbox.add(
        pointsChange(profile, seq, dueExpiry, "expire", { points: expired.points, balanceAfter: balance, redemptionId: null, reason: null, tier: null }),
        now,
      );
    } else {
      reviewTier(sql, outbox, { ...profile, balance }, policy, dueReview!, now);
    }
  }
}

/**
 * Keeps the newest policy (by version) of the stored one (`stored`, as the object holds it) and `offered`; a new
 * ladder or time zone re-evaluates the tier at once. Returns the policy in force.
 */
export function adoptPolicy(
  sql: SqlStorage,
  outbox: Outbox,
  profile: UserProfile,
  stored: PointsPolicy,
  offered: PointsPolicy | undefined,
  now: number,
): PointsPolicy {
  if (!offered || offered.version <= stored.version) return stored;
  storePolicy(sql, offered);
  if (JSON.stringify(offered.tiers) !== JSON.stringify(stored.tiers) || offered.timezone !== stored.timezone) {
    tierUnderNewPolicy(sql, outbox, profile, offered, now);
  }
  return offered;
}

/** What the profile shows of the lifecycle: the next three expiry dates with their points, and the tier. */
export type PointsStanding = { expiring: Array<{ points: number; expiresAt: string }>; tier: TierStanding | null };

export const EXPIRING_SHOWN = 3;

export function pointsStanding(sql: SqlStorage, policy: PointsPolicy, now: number): PointsStanding {
  return {
    expiring: upcomingExpiries(sql, EXPIRING_SHOWN).map((e) => ({ points: e.points, expiresAt: iso(e.expiresAt) })),
    tier: tierProfile(sql, policy, now),
  };
}
