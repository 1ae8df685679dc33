import { z } from "@hono/zod-openapi";
import { LOYALTY_EVENT_TYPES, REWARD_TYPES, type RewardType } from "./definition-vocabulary";
import { UserUpdatesSchema } from "./logged-event";
import { decodeCursor, encodeCursor } from "../lib/cursor";

/**
 * The loyalty-events ledger (../shared/spec/loyalty-events-api.md): every logged event is one loyalty event,
 * and reward adjustments (refunds, corrections) change its reward.
 */

/**
 * Loyalty event ids. An entry logged since the ledger lives in the users' objects has the id
 * `accountId × 2^24 + n`, where n = 1, 2, … numbers the entries of its user's ledger: the user's object assigns
 * it in the log's transaction, and the queue carries it to D1's `event_log.id`, so D1, the archive and the
 * object show the same id. Entries from before (D1's autoincrement, all below 2^24) keep their ids; D1 notes
 * their accounts in `ledger_legacy_ids`. Either way an id is unique in the deployment, never changes, and
 * names its account, so `GET /v1/loyalty-events/{id}` finds the user's object. Ids stay below 2^53 for account
 * ids below 2^29 and up to 2^24 - 1 entries per user (a user's object refuses a log past that: 422).
 */
export const LEDGER_ID_SPAN = 2 ** 24;

/** The id of a user's `n`th ledger entry (n ≥ 1); null past what an id can hold. */
export function ledgerIdOf(accountId: number, n: number): number | null {
  const id = accountId * LEDGER_ID_SPAN + n;
  return n >= 1 && n < LEDGER_ID_SPAN && Number.isSafeInteger(id) ? id : null;
}

/** The account an id names; null for an id from before the ledger moved into the objects (D1 knows it). */
export const accountOfLedgerId = (id: number): number | null => (id >= LEDGER_ID_SPAN ? Math.floor(id / LEDGER_ID_SPAN) : null);

/** The ledger's eventType of a logged event: the definition's loyaltyEventType, else by the event's type. */
export const ledgerTypeOf = (event: { loyaltyEventType: string | null; eventType: string }): LoyaltyEventType =>
  (LOYALTY_EVENT_TYPES as readonly string[]).includes(event.loyaltyEventType ?? "")
    ? (event.loyaltyEventType as LoyaltyEventType)
    : event.eventType === "TRANSACTION"
      ? "TRANSACTION_ASSESSMENT"
      : "CUSTOMER_CARD_DISPLAYED";
export type LoyaltyEventType = (typeof LOYALTY_EVENT_TYPES)[number];

/** One event-log row as the ledger reads it. */
export type LedgerRow = {
  id: number;
  accountId: number;
  programId: number;
  eventId: string;
  ledgerType: string;
  metadata: Record<string, unknown>;
  occurredAt: string;
  recordedAt: string;
  ruleId: number | null;
  rewardType: string;
  rewardAmount: number;
  rewardCurrency: string | null;
  customerMessage: string | null;
  adjustedRewardAmount: number | null;
  previousRewardAmount: number | null;
  updatedAt: string | null;
};

export const LedgerRewardSchema = z
  .object({
    id: z.number().int().describe("The reward's id: each loyalty event has at most one reward, under the event's id"),
    rewardType: z.enum(REWARD_TYPES),
    rewardAmount: z.number().describe("Points, or money for PERCENTAGE and FLAT_AMOUNT; the current amount after adjustments"),
    rewardCurrency: z.string().nullable(),
    previousRewardAmount: z.number().nullable().describe("The amount before the latest adjustment; null if never adjusted"),
    customerMessage: z.string().nullable(),
    ruleId: z.number().int().nullable().describe("The event definition's numeric id; null for challenge bonuses"),
    trancoreId: z.number().int().nullable().describe("metadata.transactionId when it is an integer"),
    loyaltyEventId: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("LoyaltyReward");

export const LoyaltyEventSchema = z
  .object({
    id: z.number().int(),
    loyaltyAccountId: z.number().int(),
    loyaltyProgramId: z.number().int(),
    reward: LedgerRewardSchema.nullable().describe("null when the log awarded nothing"),
    eventType: z.enum(LOYALTY_EVENT_TYPES),
    eventDetails: z.record(z.string(), z.unknown()),
    timestamp: z.string().describe("When the event happened (a backfilled timestamp included)"),
    createdAt: z.string().describe("When it was logged"),
    updatedAt: z.string().describe("The last change (an adjustment), else createdAt"),
  })
  .openapi("LoyaltyEvent");
export type LoyaltyEvent = z.infer<typeof LoyaltyEventSchema>;

/** The spec's shape of a logged event. A log that never awarded anything has `reward: null`. */
export function loyaltyEvent(row: LedgerRow): LoyaltyEvent {
  const updatedAt = row.updatedAt ?? row.recordedAt;
  const transactionId = row.metadata.transactionId;
  const awarded = row.rewardAmount !== 0 || row.adjustedRewardAmount !== null;
  return {
    id: row.id,
    loyaltyAccountId: row.accountId,
    loyaltyProgramId: row.programId,
    reward: awarded
      ? {
          id: row.id,
          rewardType: row.rewardType as RewardType,
          rewardAmount: row.adjustedRewardAmount ?? row.rewardAmount,
          rewardCurrency: row.rewardCurrency,
          previousRewardAmount: row.previousRewardAmount,
          customerMessage: row.customerMessage,
          ruleId: row.ruleId,
          trancoreId: Number.isSafeInteger(transactionId) ? (transactionId as number) : null,
          loyaltyEventId: row.id,
          createdAt: row.recordedAt,
          updatedAt,
        }
      : null,
    eventType: row.ledgerType as LoyaltyEvent["eventType"],
    eventDetails: row.metadata,
    timestamp: row.occurredAt,
    createdAt: row.recordedAt,
    updatedAt,
  };
}

export const LEDGER_SORT_FIELDS = ["timestamp", "id", "createdAt"] as const;
export type LedgerSort = { field: (typeof LEDGER_SORT_FIELDS)[number]; direction: "asc" | "desc" };
const LEDGER_SORT = new RegExp(`^(${LEDGER_SORT_FIELDS.join("|")})(?:,(asc|desc))?$`);

/** `field,asc|desc` (a field alone is ascending, as in Spring's Pageable); null for anything else. */
export function parseLedgerSort(sort: string): LedgerSort | null {
  const match = LEDGER_SORT.exec(sort);
  if (!match) return null;
  return { field: match[1] as LedgerSort["field"], direction: (match[2] ?? "asc") as LedgerSort["direction"] };
}

/** Where a ledger page ends: the last item's sort value and id, for the sort it was read in. */
export type LedgerPosition = { value: string | number; id: number };

const LedgerCursorSchema = z.strictObject({
  s: z.string(),
  v: z.union([z.string().max(64), z.number().int().positive()]),
  i: z.number().int().positive(),
});

const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const sortText = (sort: LedgerSort) => `${sort.field},${sort.direction}`;

/** The cursor continuing after `position` in `sort` order (the `cursor` of Link: rel="next"). */
export const encodeLedgerCursor = (sort: LedgerSort, position: LedgerPosition): string =>
  encodeCursor({ s: sortText(sort), v: position.value, i: position.id });

/** The position a cursor names, or a problem to report (400 naming cursor): not a cursor, or one of another sort. */
export function decodeLedgerCursor(text: string, sort: LedgerSort): LedgerPosition | string {
  const cursor = decodeCursor(text, LedgerCursorSchema);
  if (cursor === null) return "is not a cursor this API issued";
  if (cursor.s !== sortText(sort)) return `belongs to sort=${cursor.s}; send the same sort as the request that returned it`;
  if ((sort.field === "id") !== (typeof cursor.v === "number")) return "is not a cursor this API issued";
  // Times are as the API writes them (toISOString), so the log's text order and the objects' epoch ms agree.
  if (typeof cursor.v === "string" && !(ISO_INSTANT.test(cursor.v) && Number.isFinite(Date.parse(cursor.v)))) return "is not a cursor this API issued";
  return { value: cursor.v, id: cursor.i };
}

/**
 * A reward adjustment as the user's object sends it to the queue: the event's reward changes from
 * `previousAmount` to `newAmount` (points move the balance by `pointsDelta`), numbered by the user's log
 * sequence so the newest adjustment of an event wins, idempotent on `adjustmentUid`.
 */
export const AdjustmentMessageSchema = z.object({
  kind: z.literal("adjustment"),
  adjustmentUid: z.string().min(1),
  projectKey: z.string().min(1),
  userId: z.string().min(1),
  eventUid: z.string().min(1),
  seq: z.number().int().nonnegative(),
  previousAmount: z.number(),
  newAmount: z.number(),
  pointsDelta: z.number().int(),
  reason: z.string(),
  adjustedAt: z.iso.datetime(),
  /** The user's balance after it (absent in messages from before it was carried). */
  balanceAfter: z.number().int().optional(),
  updates: UserUpdatesSchema.optional(),
});
export type AdjustmentMessage = z.infer<typeof AdjustmentMessageSchema>;

/**
 * Why an adjustment to `newAmount` is not allowed, or null: never negative; points are whole; money has at
 * most 2 decimals; above the original amount only when the definition allows increases.
 */
export function adjustmentProblem(rewardType: string, originalAmount: number, newAmount: number, allowIncrease: boolean): string | null {
  if (newAmount < 0) return "must not be negative (0 refunds the whole reward)";
  if (rewardType === "LOYALTY_POINTS" && !Number.isInteger(newAmount)) return "must be a whole number of points";
  if (rewardType !== "LOYALTY_POINTS" && Math.abs(newAmount * 100 - Math.round(newAmount * 100)) > 1e-6) return "must have at most 2 decimals";
  if (newAmount > originalAmount && !allowIncrease) return `must not exceed the original amount (${originalAmount}); the definition does not allow increases`;
  return null;
}
