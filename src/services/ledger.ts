import { actsOnlyForItself, type Principal } from "../auth/principal";
import type { Db } from "../db/client";
import { countLedger, findLedgerEntry, ledgerPosition, legacyLedgerAccount, readLedgerPage, type LedgerFilter, type LedgerPageStart } from "../db/event-log";
import { findProjectId } from "../db/projects";
import { findUserIdByAccount } from "../db/users";
import { canonicalJson, sha256Hex } from "../domain/hashing";
import {
  accountOfLedgerId,
  adjustmentProblem,
  encodeLedgerCursor,
  loyaltyEvent,
  type LedgerPosition,
  type LedgerRow,
  type LedgerSort,
  type LoyaltyEvent,
  type LoyaltyEventType,
} from "../domain/ledger";
import type { AdjustOutcome } from "../domain/log-command";
import { isOpeningBalanceUid } from "../domain/opening-balance";
import type { RewardType } from "../domain/definition-vocabulary";
import { userStateStub } from "../durable/stub";
import { ApiError, invalidFields } from "../http/errors";
import { adjustmentFailure, callUserObject } from "../http/user-object-errors";
import { TtlCache } from "../lib/ttl-cache";
import { projectCatalogue } from "./definitions";
import { crossAccountFrom } from "./log-window";
import type { UserObjects } from "./stats-flags";
import { withRegisteredObject } from "./users";

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
 * Account → user, per isolate: an account id is assigned once and never moves to another user, so a mapping
 * holds for as long as it is cached (an unknown account is asked again). One primary-key lookup on a miss.
 */
const accountUsers = new TtlCache<string, string>(10_000, 10 * 60_000);

async function userOfAccount(db: Db, projectKey: string, accountId: number): Promise<string | null> {
  return (await accountUsers.getOrLoad(`${accountId}\n${projectKey}`, async () => (await findUserIdByAccount(db, projectKey, accountId)) ?? undefined)) ?? null;
}

/**
 * The user whose object keeps a loyalty event: an id names its account (src/domain/ledger.ts), one from before
 * the objects kept the ledger is looked up in D1 (ledger_legacy_ids); null when no user of the project has it.
 */
async function userOfLedgerId(db: Db, projectKey: string, id: number): Promise<string | null> {
  const accountId = accountOfLedgerId(id) ?? (await legacyLedgerAccount(db.$client, id));
  return accountId === null ? null : userOfAccount(db, projectKey, accountId);
}

/** A ledger page: its items, the total of its filter (exact, or a lower bound past the cap) and the cursor after it. */
export type LedgerPage = { items: LoyaltyEvent[]; total: number; exact: boolean; next: string | null };

/** A page from rows read one past the page: the items and the cursor continuing after them. */
function pageOf(rows: readonly LedgerRow[], query: LedgerQuery, total: number, exact: boolean): LedgerPage {
  const items = rows.slice(0, query.size);
  const last = rows.length > query.size ? items.at(-1) : undefined;
  return { items: items.map(loyaltyEvent), total, exact, next: last ? encodeLedgerCursor(query.sort, ledgerPosition(last, query.sort)) : null };
}

/**
 * A page of the project's ledger, the total of its filter and, when more items follow, the cursor continuing
 * after it. One account's (a user token's own, by default and only; an admin's or API key's `accountid`) is read
 * from the user's object, whatever D1 holds: the account's user from D1 `users` (cached), a user token's own
 * object directly. Across accounts, and for an account while its object still copies its older entries (or one
 * no user of the project has), from D1. Another project's programid matches nothing. Every part costs
 * O(size + log n) plus, for numbered pages, their bounded offset (see readLedgerPage and countLedger, and
 * src/durable/storage/ledger.ts).
 */
export async function ledgerPage(objects: UserObjects, db: Db, principal: Principal, query: LedgerQuery): Promise<LedgerPage> {
  const none: LedgerPage = { items: [], total: 0, exact: true, next: null };
  let accountId = query.accountId;
  const userId = principal.kind === "user" ? principal.userId : accountId === undefined ? null : await userOfAccount(db, principal.projectKey, accountId);
  if (userId !== null) {
    const after = query.after;
    const read = () =>
      userStateStub(objects, principal.projectKey, userId).ledgerPage({
        accountId,
        type: query.eventType as LoyaltyEventType | undefined,
        from: query.from === undefined ? undefined : Date.parse(query.from),
        to: query.to === undefined ? undefined : Date.parse(query.to),
        sort: query.sort,
        limit: query.size + 1,
        start:
          after === undefined
            ? { offset: query.page * query.size }
            : { after: { value: typeof after.value === "number" ? after.value : Date.parse(after.value), id: after.id } },
      });
    // A member imported and not used since has its object created here, so its opening balance is listed.
    const answer = await withRegisteredObject(objects, db, { projectKey: principal.projectKey, userId }, read, (a) => a.kind === "not_registered");
    if (answer.kind === "other_account") throw actsOnlyForItself();
    if (answer.kind === "not_registered") {
      // An unregistered user token has no account: its own ledger is empty, another account's is not its to read.
      if (principal.kind === "user") {
        if (accountId !== undefined) throw actsOnlyForItself();
        return none;
      }
    } else accountId = answer.accountId;
    if (query.programId !== undefined && query.programId !== (await findProjectId(db, principal.projectKey))) return none;
    if (answer.kind === "page") return pageOf(answer.rows, query, answer.total, answer.exact);
  } else if (query.programId !== undefined && query.programId !== (await findProjectId(db, principal.projectKey))) return none;
  // Across accounts, D1 holds the project's recent window of the log: 400 before it, and the window by default
  // (src/services/log-window.ts). A type filter sorted by createdAt or id has no index to bound (readLedgerPage):
  // its page keeps the plan it had and may list, until the scheduled job removes them, rows just past the window.
  const from = accountId === undefined ? await crossAccountFrom(db, principal.projectKey, query.from, query.to) : query.from;
  const unbounded = query.from === undefined && query.eventType !== undefined && query.sort.field !== "timestamp";
  // The log keys a project by its numeric id (cached per isolate); a project that never had an admin write has no log.
  const programId = await findProjectId(db, principal.projectKey);
  if (programId === null) return none;
  const filter: LedgerFilter = {
    programId,
    projectKey: principal.projectKey,
    accountId,
    ledgerType: query.eventType,
    from: from === undefined ? undefined : new Date(from).toISOString(),
    to: query.to === undefined ? undefined : new Date(query.to).toISOString(),
  };
  const start: LedgerPageStart = query.after === undefined ? { offset: query.page * query.size } : { after: query.after };
  // One more than the page: whether a next page exists, without counting.
  const [rows, { total, exact }] = await Promise.all([
    readLedgerPage(db.$client, unbounded ? { ...filter, from: undefined } : filter, query.sort, query.size + 1, start),
    countLedger(db.$client, filter),
  ]);
  return pageOf(rows, query, total, exact);
}

const eventNotInLedger = (id: number) => new ApiError(404, `Loyalty event ${id} does not exist in this project`);

/**
 * One entry of the project's ledger with its event's uid and user, from the user's object (D1 while the object
 * still copies its older entries); 404 for an id of another project or none, and for a user token another
 * user's (ids reveal nothing).
 */
async function findEntry(objects: UserObjects, db: Db, principal: Principal, id: number): Promise<LedgerRow & { eventUid: string; userId: string }> {
  const userId = principal.kind === "user" ? principal.userId : await userOfLedgerId(db, principal.projectKey, id);
  if (userId === null) throw eventNotInLedger(id);
  const answer = await withRegisteredObject(
    objects,
    db,
    { projectKey: principal.projectKey, userId },
    () => userStateStub(objects, principal.projectKey, userId).ledgerEntry(id),
    (a) => a.kind === "not_registered",
  );
  if (answer.kind === "entry") return answer.row;
  if (answer.kind === "none" || answer.kind === "not_registered") throw eventNotInLedger(id);
  const row = await findLedgerEntry(db.$client, principal.projectKey, id);
  if (!row || row.userId !== userId) throw eventNotInLedger(id);
  return row;
}

/** One loyalty event, answered by its user's object. */
export async function ledgerItem(objects: UserObjects, db: Db, principal: Principal, id: number): Promise<LoyaltyEvent> {
  return loyaltyEvent(await findEntry(objects, db, principal, id));
}

export type AdjustmentRequest = { rewardAmount: number; reason: string; allowNegativeBalance?: boolean };

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
  const row = await findEntry(env, db, principal, id);
  // Its points are the member's balance brought over, credited once (member import): not a reward to adjust.
  if (isOpeningBalanceUid(row.eventUid)) throw new ApiError(422, `Loyalty event ${id} is an opening balance, which is not adjusted`);
  const definition = (await projectCatalogue(db, principal.projectKey)).events.get(row.eventId);
  const problem = adjustmentProblem(row.rewardType, row.rewardAmount, request.rewardAmount, definition?.allowRewardIncrease ?? false);
  if (problem !== null) throw invalidFields("body", [{ path: "rewardAmount", message: problem }]);
  const requestHash =
    idempotencyKey === null ? null : await sha256Hex(canonicalJson({ id, ...request, allowNegativeBalance: request.allowNegativeBalance ?? false }));
  const { activePointsBoards: pointsBoards, points } = await projectCatalogue(db, principal.projectKey);
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
        // A positive adjustment earns a lot with the expiry in force now; the ladder counts it.
        policy: points.policy,
      }),
    "retry with an Idempotency-Key",
  );
  if (outcome.kind !== "adjusted") throw adjustmentFailure(outcome);
  const { previousAmount, newAmount, adjustedAt } = outcome.result;
  const item = loyaltyEvent({ ...row, adjustedRewardAmount: newAmount, previousRewardAmount: previousAmount, updatedAt: adjustedAt });
  return { item, replayed: outcome.replayed };
}
