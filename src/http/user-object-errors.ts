import type { AdjustOutcome, DispatchOutcome, Refusal } from "../domain/log-command";
import type { OpeningBalanceOutcome } from "../domain/opening-balance";
import type { RedeemOutcome, ReverseOutcome } from "../domain/points-lifecycle";
import { MAX_QUEUE_MESSAGE_BYTES } from "../domain/limits";
import { ApiError, eventNotFound, userNotFound } from "./errors";

/**
 * What a user's object refuses, and its being out of reach, as HTTP: the one mapping. Services throw these
 * errors; a batch renders each item's as its envelope.
 */

/** Seconds a client should wait after a 503 from a user's object (it is usually back at once). */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/** A user's object could not be reached: 503 with Retry-After, never a 500 (the request did nothing or is retryable). */
export const userObjectUnavailable = (hint = "retry shortly"): ApiError =>
  new ApiError(503, `User state is temporarily unavailable; ${hint}`, undefined, { "Retry-After": String(UNAVAILABLE_RETRY_AFTER_SECONDS) });

/** Runs a call to a user's object; any failure of the call itself becomes `userObjectUnavailable`. */
export async function callUserObject<T>(call: () => Promise<T>, hint?: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    console.error("user state call failed", error);
    throw userObjectUnavailable(hint);
  }
}

const idempotencyConflict = () => new ApiError(422, "Idempotency-Key was already used with a different request body");
const balanceOverflow = () => new ApiError(422, "The points balance would leave the safe integer range");

/** The HTTP answer to a refusal, whether the Worker or (for a request with an idempotency key) the object made it. */
export function refusalError(refusal: Refusal): ApiError {
  switch (refusal.code) {
    case "unknown_event":
      return eventNotFound(refusal.eventId);
    case "inactive_event":
      return new ApiError(400, `Event ${refusal.eventId} is not active`, [{ path: "eventId", message: "event is not active" }]);
    case "invalid_metadata": {
      const first = refusal.errors[0];
      return new ApiError(400, first ? `Invalid metadata: ${first.path}: ${first.message}` : "Invalid metadata", refusal.errors);
    }
  }
}

/** Every answer to a log but a logged event. */
export type LogFailure = Exclude<DispatchOutcome, { kind: "logged" }>;

/** The error of a log for `userId` that its object did not log. */
export function logFailure(outcome: LogFailure, userId: string): ApiError {
  switch (outcome.kind) {
    case "refused":
      return refusalError(outcome.refusal);
    case "not_registered":
      return userNotFound(userId);
    case "idempotency_conflict":
      return idempotencyConflict();
    case "usergroup_not_held":
      return new ApiError(403, "A user token may only choose its own usergroups or default", [
        { path: "metadata.usergroup", message: `must name only the user's own usergroups or default (not in: ${outcome.groups.join(", ")})` },
      ]);
    case "balance_overflow":
      return balanceOverflow();
    case "event_too_large":
      return new ApiError(413, "The logged event would be too large; send less metadata", [
        { path: "metadata", message: `the logged event must stay under ${MAX_QUEUE_MESSAGE_BYTES} bytes` },
      ]);
    case "ledger_full":
      return new ApiError(422, "This user's ledger holds no more entries (16,777,215)");
    case "unavailable":
      return userObjectUnavailable("retry with an Idempotency-Key");
  }
}

/** Every answer to a reward adjustment but an adjusted reward. */
export type AdjustmentFailure = Exclude<AdjustOutcome, { kind: "adjusted" }>;

export function adjustmentFailure(outcome: AdjustmentFailure): ApiError {
  switch (outcome.kind) {
    case "negative_balance":
      return new ApiError(422, `The adjustment would take the balance to ${outcome.balance}; send allowNegativeBalance: true to allow it`);
    case "idempotency_conflict":
      return idempotencyConflict();
    case "balance_overflow":
      return balanceOverflow();
    case "not_registered":
      return new ApiError(409, "The event's user is no longer registered in this project");
  }
}

/** Every answer to a redemption but a redemption (422 is the short balance, so a reused key is 409 here). */
export type RedemptionFailure = Exclude<RedeemOutcome, { kind: "redeemed" }>;

export function redemptionFailure(outcome: RedemptionFailure, userId: string): ApiError {
  switch (outcome.kind) {
    case "insufficient_points":
      return new ApiError(422, `The balance of ${outcome.balance} points (after the expiries due) is short of the points to redeem`, [
        { path: "points", message: `must be at most the balance, ${outcome.balance}` },
      ]);
    case "not_registered":
      return userNotFound(userId);
    case "idempotency_conflict":
      return new ApiError(409, "Idempotency-Key was already used for a redemption with a different request body");
  }
}

/** Every answer to a reversal but a reversal. */
export type ReversalFailure = Exclude<ReverseOutcome, { kind: "reversed" }>;

export function reversalFailure(outcome: ReversalFailure, userId: string, redemptionId: string): ApiError {
  switch (outcome.kind) {
    case "already_reversed":
      return new ApiError(409, `Redemption ${redemptionId} was already reversed`);
    case "unknown_redemption":
      return new ApiError(404, `Redemption ${redemptionId} does not exist for user ${userId}`);
    case "not_registered":
      return userNotFound(userId);
  }
}

/** Every answer to an imported opening balance but a credit or its replay; `path` names the item's field. */
export type OpeningBalanceFailure = Exclude<OpeningBalanceOutcome, { kind: "credited" | "replayed" }>;

/** The item error of a member whose registration was imported but whose opening balance was not credited. */
export function openingBalanceFailure(outcome: OpeningBalanceFailure, userId: string, path: string): ApiError {
  switch (outcome.kind) {
    case "conflict": {
      const { points, loyaltyEventId } = outcome.existing;
      return new ApiError(409, `User ${userId} is registered, but already has an opening balance of ${points} points; it is credited once`, [
        { path, message: `must be ${points}, the opening balance credited before (loyalty event ${loyaltyEventId}), or left out` },
      ]);
    }
    case "balance_overflow":
      return new ApiError(422, `User ${userId} is registered, but the opening balance would take the balance out of the safe integer range`, [
        { path, message: "too large for this member's balance" },
      ]);
    case "ledger_full":
      return new ApiError(422, `User ${userId} is registered, but the user's ledger holds no more entries (16,777,215)`, [{ path, message: "not credited" }]);
  }
}
