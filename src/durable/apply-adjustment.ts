import type { AdjustCommand, AdjustOutcome, AdjustmentResult } from "../domain/log-command";
import type { AdjustmentMessage } from "../domain/ledger";
import type { PointsPolicy } from "../domain/points-lifecycle";
import { advanceLeaderboards } from "./leaderboard-progress";
import { findIdempotencyRecord, rememberResponse } from "./storage/idempotency";
import type { Outbox } from "./storage/outbox";
import type { UserProfile } from "../domain/user";
import { creditPoints, debitPoints } from "./points-changes";
import { recordChange } from "./storage/profile";
import { adjustLedgerEntry, ledgerIdOfEvent } from "./storage/ledger";
import { tierAfterEarning } from "./tier-progress";
import { adjustedAmount, saveAdjustedAmount } from "./storage/reward-adjustments";

/**
 * Sets an event's reward to a new amount, in one transaction with the user's logs (the caller runs it in
 * one): the balance moves by the difference to the current amount (points only), exactly once per request
 * (a retry with the same Idempotency-Key replays; a second adjustment sees the first). The change goes to the
 * queue like a log, so the ledger, the stats and the points leaderboards follow. Points lifecycle: a positive
 * difference is a lot of its own (and counts as earned for tiers), a negative one takes from the oldest lots.
 */
export function applyAdjustment(
  sql: SqlStorage,
  outbox: Outbox,
  command: AdjustCommand,
  now: number,
  profile: UserProfile | null,
  policy: PointsPolicy,
): AdjustOutcome {
  if (command.idempotencyKey !== null) {
    const prior = findIdempotencyRecord(sql, "adjustment", command.idempotencyKey, now);
    if (prior) {
      if (prior.requestHash !== command.requestHash) return { kind: "idempotency_conflict" };
      return { kind: "adjusted", replayed: true, result: JSON.parse(prior.response) as AdjustmentResult };
    }
  }
  if (!profile) return { kind: "not_registered" };
  const previousAmount = adjustedAmount(sql, command.eventUid) ?? command.originalAmount;
  const pointsDelta = command.rewardType === "LOYALTY_POINTS" ? command.newAmount - previousAmount : 0;
  const balance = profile.balance + pointsDelta;
  if (!Number.isSafeInteger(balance)) return { kind: "balance_overflow" };
  if (balance < 0 && !command.allowNegativeBalance) return { kind: "negative_balance", balance, pointsDelta };

  saveAdjustedAmount(sql, command.eventUid, command.newAmount, now);
  const ledgerId = ledgerIdOfEvent(sql, command.eventUid);
  const change = {
    at: now,
    balanceBefore: profile.balance,
    reference: ledgerId === null ? null : String(ledgerId),
    reason: command.reason,
    details: { eventUid: command.eventUid, previousAmount, newAmount: command.newAmount },
  };
  if (pointsDelta > 0) creditPoints(sql, { ...change, type: "adjust", source: "adjust", points: pointsDelta, policy });
  if (pointsDelta < 0) debitPoints(sql, { ...change, type: "adjust", points: -pointsDelta });
  const adjustedAt = new Date(now).toISOString();
  const standings = advanceLeaderboards(sql, command.pointsBoards, Date.parse(command.occurredAt), { points: pointsDelta, qualifies: false }, now);
  const seq = recordChange(sql, balance);
  const message: AdjustmentMessage = {
    kind: "adjustment",
    adjustmentUid: crypto.randomUUID(),
    projectKey: profile.projectKey,
    userId: profile.userId,
    eventUid: command.eventUid,
    seq,
    previousAmount,
    newAmount: command.newAmount,
    pointsDelta,
    reason: command.reason,
    adjustedAt,
    balanceAfter: balance,
    updates: { seq, streaks: [], standings },
  };
  outbox.add(message, now);
  adjustLedgerEntry(sql, message);
  if (pointsDelta > 0) tierAfterEarning(sql, outbox, { ...profile, balance }, policy, now);
  const result: AdjustmentResult = { eventUid: command.eventUid, previousAmount, newAmount: command.newAmount, pointsDelta, balance, adjustedAt };
  if (command.idempotencyKey !== null) rememberResponse(sql, "adjustment", command.idempotencyKey, command.requestHash ?? "", JSON.stringify(result), now);
  return { kind: "adjusted", replayed: false, result };
}
