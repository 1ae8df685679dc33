import {
  OPENING_BALANCE_REASON,
  openingBalanceEntry,
  openingBalanceUid,
  type OpeningBalanceGrant,
  type OpeningBalanceOutcome,
} from "../domain/opening-balance";
import type { PointsPolicy } from "../domain/points-lifecycle";
import type { UserProfile } from "../domain/user";
import { creditPoints } from "./points-changes";
import { appendToLedger, ledgerEntry, ledgerIdOfEvent } from "./storage/ledger";
import type { Outbox } from "./storage/outbox";
import { recordChange } from "./storage/profile";
import { tierAfterEarning } from "./tier-progress";

/**
 * Credits a member's opening balance (`grant`: points > 0, dated at its import) at most once, in the caller's transaction: the ledger's
 * entry under the account's one opening-balance uid is the record that it was credited, so a repeat with the same
 * amount replays it and another amount is a conflict (nothing written either way). Credited: the ledger entry,
 * a lot expiring under `policy` and an `earn` history entry (creditPoints: tiers count it as earned on the import's day), the
 * balance and the user's sequence, and a tier review (its change, if any, goes to the outbox). The points stats
 * count it from D1's import, not from here. Not on leaderboards and not a logged event (no event stats, no limits, no streaks or challenges).
 */
export function applyOpeningBalance(
  sql: SqlStorage,
  outbox: Outbox,
  profile: UserProfile,
  grant: OpeningBalanceGrant,
  now: number,
  policy: PointsPolicy,
): OpeningBalanceOutcome {
  const { points, at } = grant;
  const existingId = ledgerIdOfEvent(sql, openingBalanceUid(profile.accountId));
  const existing = existingId === null ? null : ledgerEntry(sql, profile, existingId);
  if (existing) {
    const credited = { points: existing.rewardAmount, loyaltyEventId: existing.id, creditedAt: existing.recordedAt };
    return credited.points === points ? { kind: "replayed", ...credited } : { kind: "conflict", existing: credited };
  }
  const balance = profile.balance + points;
  if (!Number.isSafeInteger(balance)) return { kind: "balance_overflow" };
  // Dated at the import (a member's object may be created long after it): the lot expires, and the points stats
  // count it, from then.
  const creditedAt = new Date(at).toISOString();
  const entry = appendToLedger(sql, openingBalanceEntry(profile, points, creditedAt));
  if (entry === null) return { kind: "ledger_full" };
  const loyaltyEventId = entry.ledgerId!;
  creditPoints(sql, {
    type: "earn",
    source: "opening",
    points,
    balanceBefore: profile.balance,
    at,
    policy,
    reference: String(loyaltyEventId),
    reason: OPENING_BALANCE_REASON,
    details: { eventId: entry.eventId },
  });
  // No points change on the queue: D1 counted the opening balance when the import stored it (db/points.ts).
  recordChange(sql, balance);
  tierAfterEarning(sql, outbox, { ...profile, balance }, policy, now);
  return { kind: "credited", points, loyaltyEventId, creditedAt };
}
