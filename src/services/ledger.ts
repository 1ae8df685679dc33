import type { Principal } from "../auth/principal";
import type { Db } from "../db/client";
import { countLedger, findLedgerEntry, ledgerPosition, readLedgerPage, type LedgerFilter, type LedgerPageStart } from "../db/event-log";
import { findProjectId } from "../db/projects";
import { findUser } from "../db/users";
import { canonicalJson, sha256Hex } from "../domain/hashing";
import { adjustmentProblem, encodeLedgerCursor, loyaltyEvent, type LedgerPosition, type LedgerSort, type LoyaltyEvent } from "../domain/ledger";
import type { AdjustOutcome } from "../domain/log-command";
import type { RewardType } from "../domain/definition-vocabulary";
import { userStateStub } from "../durable/stub";
import { ApiError, callUserObject, invalidFields } from "../http/errors";
import { projectCatalogue } from "./definitions";

export type LedgerQuery = {
  accountId?: number;
  programId?: number;
  eventType?: string;
  /** Inclusive bounds on the event time (ISO 8601). */
  from?: string;
  to?: string;
  page: number;
  size: number;
  sort: LedgerSort;
  /** Continue after this position (a cursor) instead of at `page`. */
  after?: LedgerPosition;
};

/**
 * The account a principal may read: a user token only its own (403 for another), and by default its own;
 * admins and API keys any account of their project. Undefined: all accounts; null: none (an unregistered user).
 */
async function readableAccount(db: Db, principal: Principal, requested: number | undefined): Promise<number | undefined | null> {
  if (principal.kind !== "user") return requested;
  const own = (await findUser(db, principal.projectKey, principal.userId))?.accountId ?? null;
  if (requested !== undefined && requested !== own) throw new ApiError(403, "A user token may only read its own account's loyalty events");
  return own;
}

/** A ledger page: its items, the total of its filter (exact, or a lower bound past the cap) and the cursor after it. */
export type LedgerPage = { items: LoyaltyEvent[]; total: number; exact: boolean; next: string | null };

/**
 * A page of the project's ledger, the total of its filter and, when more items follow, the cursor continuing
 * after it. Another project's programid matches nothing. Every part costs O(size + log n) plus, for numbered
 * pages, their bounded offset (see readLedgerPage and countLedger).
 */
export async function ledgerPage(d1: D1Database, db: Db, principal: Principal, query: LedgerQuery): Promise<LedgerPage> {
  const none: LedgerPage = { items: [], total: 0, exact: true, next: null };
  const accountId = await readableAccount(db, principal, query.accountId);
  if (accountId === null) return none;
  if (query.programId !== undefined && query.programId !== (await findProjectId(db, principal.projectKey))) return none;
  const filter: LedgerFilter = {
    projectKey: principal.projectKey,
    accountId,
    ledgerType: query.eventType,
    from: query.from === undefined ? undefined : new Date(query.from).toISOString(),
    to: query.to === undefined ? undefined : new Date(query.to).toISOString(),
  };
  const start: LedgerPageStart = query.after === undefined ? { offset: query.page * query.size } : { after: query.after };
  // One more than the page: whether a next page exists, without counting.
  const [rows, { total, exact }] = await Promise.all([readLedgerPage(d1, filter, query.sort, query.size + 1, start), countLedger(d1, filter)]);
  const items = rows.slice(0, query.size);
  const last = rows.length > query.size ? items.at(-1) : undefined;
  return { items: items.map(loyaltyEvent), total, exact, next: last ? encodeLedgerCursor(query.sort, ledgerPosition(last, query.sort)) : null };
}

const eventNotInLedger = (id: number) => new ApiError(404, `Loyalty event ${id} does not exist in this project`);

/** One loyalty event; a user token gets 404 for other accounts' events, so ids reveal nothing. */
export async function ledgerItem(d1: D1Database, principal: Principal, id: number): Promise<LoyaltyEvent> {
  const row = await findLedgerEntry(d1, principal.projectKey, id);
  if (!row || (principal.kind === "user" && row.userId !== principal.userId)) throw eventNotInLedger(id);
  return loyaltyEvent(row);
}

export type AdjustmentRequest = { rewardAmount: number; reason: string; allowNegativeBalance?: boolean };

function adjustmentFailure(outcome: Exclude<AdjustOutcome, { kind: "adjusted" }>): ApiError {
  switch (outcome.kind) {
    case "negative_balance":
      return new ApiError(422, `The adjustment would take the balance to ${outcome.balance}; send allowNegativeBalance: true to allow it`);
    case "idempotency_conflict":
      return new ApiError(422, "Idempotency-Key was already used with a different request body");
    case "balance_overflow":
      return new ApiError(422, "The points balance would leave the safe integer range");
    case "not_registered":
      return new ApiError(409, "The event's user is no longer registered in this project");
  }
}

/**
 * Sets the reward of a loyalty event to `rewardAmount` (0 refunds it). The user's object applies the
 * difference to the balance once and queues the change; the answer is the loyalty event as the ledger will
 * show it within seconds. `replayed` when an Idempotency-Key replayed an earlier adjustment.
 */
export async function adjustReward(
  env: Env,
  db: Db,
  principal: Principal,
  id: number,
  request: AdjustmentRequest,
  idempotencyKey: string | null,
): Promise<{ item: LoyaltyEvent; replayed: boolean }> {
  const row = await findLedgerEntry(env.DB, principal.projectKey, id);
  if (!row) throw eventNotInLedger(id);
  const definition = (await projectCatalogue(db, principal.projectKey)).events.get(row.eventId);
  const problem = adjustmentProblem(row.rewardType, row.rewardAmount, request.rewardAmount, definition?.allowRewardIncrease ?? false);
  if (problem !== null) throw invalidFields("body", [{ path: "rewardAmount", message: problem }]);
  const requestHash =
    idempotencyKey === null ? null : await sha256Hex(canonicalJson({ id, ...request, allowNegativeBalance: request.allowNegativeBalance ?? false }));
  const pointsBoards = (await projectCatalogue(db, principal.projectKey)).activePointsBoards;
  const outcome: AdjustOutcome = await callUserObject(
    () =>
      userStateStub(env, principal.projectKey, row.userId).adjust({
        idempotencyKey,
        requestHash,
        eventUid: row.eventUid,
        occurredAt: row.occurredAt,
        rewardType: row.rewardType as RewardType,
        originalAmount: row.rewardAmount,
        newAmount: request.rewardAmount,
        reason: request.reason,
        allowNegativeBalance: request.allowNegativeBalance ?? false,
        pointsBoards,
      }),
    "retry with an Idempotency-Key",
  );
  if (outcome.kind !== "adjusted") throw adjustmentFailure(outcome);
  const { previousAmount, newAmount, adjustedAt } = outcome.result;
  const item = loyaltyEvent({ ...row, adjustedRewardAmount: newAmount, previousRewardAmount: previousAmount, updatedAt: adjustedAt });
  return { item, replayed: outcome.replayed };
}
