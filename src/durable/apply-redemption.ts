import { giveBack, lotExpiresAt } from "../domain/point-lots";
import type { PointsPolicy, Redemption, RedeemCommand, RedeemOutcome, ReverseCommand, ReverseOutcome } from "../domain/points-lifecycle";
import type { UserProfile } from "../domain/user";
import { pointsChange } from "./points-change-message";
import { debitPoints } from "./points-changes";
import { addLot, lotExpiries, moveLotPoints } from "./storage/point-lots";
import { appendHistory } from "./storage/points-history";
import type { Outbox } from "./storage/outbox";
import { recordChange } from "./storage/profile";
import { markReversed, redemptionById, redemptionByKey, saveRedemption, type StoredRedemption } from "./storage/redemptions";

const answer = ({ requestHash: _hash, taken: _taken, ...redemption }: StoredRedemption): Redemption => redemption;

/**
 * Spends points, in one transaction (the caller runs it in one, after the expiries due): exactly once per
 * idempotency key (the same key and body answer the first redemption again, with `reversedAt` as it is now; the
 * same key with another body is a conflict), refused when the balance is short, taken from the oldest lots
 * first. The member's history gets a `redeem` entry and the outbox a `points_change` "redeem".
 */
export function applyRedemption(sql: SqlStorage, outbox: Outbox, command: RedeemCommand, now: number, profile: UserProfile | null): RedeemOutcome {
  const prior = redemptionByKey(sql, command.idempotencyKey);
  if (prior)
    return prior.requestHash === command.requestHash ? { kind: "redeemed", replayed: true, redemption: answer(prior) } : { kind: "idempotency_conflict" };
  if (!profile) return { kind: "not_registered" };
  if (!Number.isSafeInteger(command.points) || command.points <= 0) throw new RangeError(`points must be a positive integer, got ${command.points}`);
  if (profile.balance < command.points) return { kind: "insufficient_points", balance: profile.balance };

  const redemptionId = crypto.randomUUID();
  const balance = profile.balance - command.points;
  const taken = debitPoints(sql, {
    type: "redeem",
    points: command.points,
    balanceBefore: profile.balance,
    at: now,
    reference: redemptionId,
    reason: command.reason,
    details: { reference: command.reference },
  });
  const stored = { id: redemptionId, ...command, createdAt: now, balanceAfter: balance, taken };
  saveRedemption(sql, stored);
  const seq = recordChange(sql, balance);
  outbox.add(
    pointsChange(profile, seq, now, "redeem", { points: command.points, balanceAfter: balance, redemptionId, reason: command.reason, tier: null }),
    now,
  );
  const redemption: Redemption = {
    redemptionId,
    points: command.points,
    balance,
    createdAt: new Date(now).toISOString(),
    reason: command.reason,
    reference: command.reference,
    reversedAt: null,
  };
  return { kind: "redeemed", replayed: false, redemption };
}

/**
 * Gives a redemption's points back, once (a second reversal is `already_reversed`): each lot it took from gets
 * its points back while it has not expired; the points of lots that expired meanwhile come back as one new lot
 * expiring like an earn made now (src/domain/point-lots.ts giveBack). A debt is paid first. History `reverse`,
 * outbox `points_change` "reverse". Reversals are not earnings: tiers do not count them.
 */
export function applyReversal(
  sql: SqlStorage,
  outbox: Outbox,
  command: ReverseCommand,
  now: number,
  profile: UserProfile | null,
  policy: PointsPolicy,
): ReverseOutcome {
  if (!profile) return { kind: "not_registered" };
  const redemption = redemptionById(sql, command.redemptionId);
  if (!redemption) return { kind: "unknown_redemption" };
  const balance = profile.balance + redemption.points;
  if (!Number.isSafeInteger(balance)) throw new RangeError("the balance would overflow");
  if (redemption.reversedAt !== null || !markReversed(sql, redemption.redemptionId, now, command.reason)) return { kind: "already_reversed" };

  const expiries = lotExpiries(
    sql,
    redemption.taken.map((take) => take.lotId),
  );
  const isExpired = (lotId: number) => {
    const expiresAt = expiries.get(lotId);
    return expiresAt === undefined || (expiresAt !== null && expiresAt <= now);
  };
  const back = giveBack(redemption.taken, isExpired, -profile.balance);
  moveLotPoints(sql, back.restored, 1);
  const newLotExpiresAt = back.newLot > 0 ? lotExpiresAt(now, policy.expiry, policy.timezone) : null;
  if (back.newLot > 0) {
    addLot(sql, {
      earnedAt: now,
      points: back.newLot,
      remaining: back.newLot,
      expiresAt: newLotExpiresAt,
      source: "reverse",
      reference: redemption.redemptionId,
    });
  }
  appendHistory(sql, {
    type: "reverse",
    at: now,
    points: redemption.points,
    balanceAfter: balance,
    reference: redemption.redemptionId,
    reason: command.reason,
    details: {
      restored: back.restored.reduce((sum, take) => sum + take.points, 0),
      newLot: back.newLot,
      newLotExpiresAt: newLotExpiresAt === null ? null : new Date(newLotExpiresAt).toISOString(),
    },
  });
  const seq = recordChange(sql, balance);
  outbox.add(
    pointsChange(profile, seq, now, "reverse", {
      points: redemption.points,
      balanceAfter: balance,
      redemptionId: redemption.redemptionId,
      reason: command.reason,
      tier: null,
    }),
    now,
  );
  return { kind: "reversed", redemption: { ...answer(redemption), reversedAt: new Date(now).toISOString() }, balance };
}
