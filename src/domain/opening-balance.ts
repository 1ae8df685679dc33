import { grantedPointsEvent, type LoggedEvent } from "./logged-event";
import type { UserProfile } from "./user";

/**
 * Opening balances (member import, README "Member import"): the points a member brings over from a previous
 * system, credited at most once per member. In the member's ledger it is an entry of its own kind: eventType
 * CARD_ASSIGNMENT (the spec's type for the account being set up), eventId `opening_balance`, its reward the
 * points; in the points history an `earn` with the reason "opening balance" and a lot of source `opening`; in the
 * points stats' `opening`, counted by D1 when the import stores it (never an event of the event stats).
 */

export const OPENING_BALANCE_EVENT_ID = "opening_balance";
export const OPENING_BALANCE_REASON = "opening balance";

/**
 * The uid of an account's opening-balance entry: one per account, so the ledger's unique uid holds at most one
 * and finds it by index. Never a logged event's uid (those are UUIDs).
 */
export const OPENING_BALANCE_UID_PREFIX = "opening-balance:";
export const openingBalanceUid = (accountId: number): string => `${OPENING_BALANCE_UID_PREFIX}${accountId}`;
export const isOpeningBalanceUid = (eventUid: string): boolean => eventUid.startsWith(OPENING_BALANCE_UID_PREFIX);

/** The ledger entry of an opening balance of `points` (> 0) credited at `at` (ISO). */
export function openingBalanceEntry(profile: UserProfile, points: number, at: string): LoggedEvent {
  return grantedPointsEvent({
    eventUid: openingBalanceUid(profile.accountId),
    profile,
    eventId: OPENING_BALANCE_EVENT_ID,
    definitionVersion: 0,
    loyaltyEventType: "CARD_ASSIGNMENT",
    metadata: { openingBalance: points },
    occurredAt: at,
    recordedAt: at,
    points,
  });
}

/** An opening balance to credit: its points and the instant of the import that brought it (epoch ms). */
export type OpeningBalanceGrant = { points: number; at: number };

/** The opening balance D1's registration holds (member import), if any. */
export const openingBalanceOf = (user: { openingBalance: number | null; openingBalanceAt: string | null }): OpeningBalanceGrant | null =>
  user.openingBalance === null || user.openingBalance <= 0 || user.openingBalanceAt === null
    ? null
    : { points: user.openingBalance, at: Date.parse(user.openingBalanceAt) };

/** An opening balance as the member has it: the points, its ledger entry and when it was credited. */
export type OpeningBalance = { points: number; loyaltyEventId: number; creditedAt: string };

/**
 * What the user's object did with an opening balance: credited it now; found the same one credited before
 * (`replayed`, nothing credited); found another amount credited before (`conflict`, nothing changed); or
 * could not (the balance would leave the safe integers, the ledger is full).
 */
export type OpeningBalanceOutcome =
  | ({ kind: "credited" } & OpeningBalance)
  | ({ kind: "replayed" } & OpeningBalance)
  | { kind: "conflict"; existing: OpeningBalance }
  | { kind: "balance_overflow" }
  | { kind: "ledger_full" };

/** The answer of UserState.importMember: the registration version stored, the balance after, the opening balance's outcome. */
export type ImportedMember = { registrationVersion: number; balance: number; opening: OpeningBalanceOutcome | null };
