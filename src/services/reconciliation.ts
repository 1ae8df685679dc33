import { z } from "@hono/zod-openapi";
import { missingMessageUids } from "../db/event-log";
import { projectUsersAfter, usersAfterAccount, type UserRef } from "../db/user-pages";
import { ACKNOWLEDGED_RETENTION_MS, MAX_ACKNOWLEDGED_PER_CALL } from "../durable/storage/acknowledged";
import { userStateName } from "../durable/stub";
import type { UserState } from "../durable/user-state";
import { decodeCursor, encodeCursor } from "../lib/cursor";

/**
 * Reconciliation: what users' objects acknowledged (every message committed to an outbox: logged events,
 * challenge completions, reward adjustments, points changes; kept by each object for ACKNOWLEDGED_RETENTION_MS)
 * against what reached D1 (event_log, ledger_adjustments, points_changes), for a time range of acknowledgement,
 * over a page of registered users; what is missing is sent again through the user's outbox. The consumer is idempotent on the message's
 * uid, so sending again something that arrived meanwhile changes nothing, and running it twice is harmless.
 *
 * Cost per page of N users: one D1 query for the page (N rows), N object calls (an object that never stored
 * anything answers without storage), one D1 batch checking the acknowledged uids (an index lookup each in the
 * log, then the adjustments, then the points changes, for what the one before lacks), and one more object call
 * per user with something missing.
 */

/** Users per page at most (an admin call; the cron's page). */
export const MAX_USERS_PER_CALL = 1_000;
/** Objects asked at once. */
const OBJECT_CONCURRENCY = 32;

export { ACKNOWLEDGED_RETENTION_MS };

export type ReconciliationReport = {
  usersChecked: number;
  /** Messages the users' objects acknowledged in the range (logged events and adjustments). */
  eventsAcknowledged: number;
  /** Of those, not in D1. */
  missing: number;
  /** Missing messages put back into their user's outbox to be sent again. */
  resent: number;
  /** Missing messages still in their user's outbox anyway (the queue has not taken them yet). */
  alreadyQueued: number;
  /** Users whose range held more than MAX_ACKNOWLEDGED_PER_CALL messages: only the oldest were checked. */
  usersTruncated: number;
  /** Users whose object could not be asked (an error): not checked this time. */
  usersFailed: number;
  /** What it cost: object calls, D1 statements and the rows they read. */
  cost: { objectCalls: number; d1Statements: number; d1RowsRead: number };
};

/** The two RPC methods reconciliation uses, typed by hand like src/durable/stub.ts. */
type ReconciliationRpc = Pick<UserState, "acknowledgedBetween" | "resendAcknowledged">;

const objectOf = (env: Env, user: UserRef): ReconciliationRpc =>
  env.USER_STATE.get(env.USER_STATE.idFromName(userStateName(user.projectKey, user.userId))) as unknown as ReconciliationRpc;

/** Runs `task` over `items` with at most `concurrency` in flight; results in order. */
async function inParallel<T, R>(items: readonly T[], concurrency: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]!);
      }
    }),
  );
  return results;
}

/** Reconciles these users for messages acknowledged in [from, to] (epoch ms). */
export async function reconcileUsers(env: Env, users: readonly UserRef[], from: number, to: number): Promise<ReconciliationReport> {
  const report: ReconciliationReport = {
    usersChecked: 0,
    eventsAcknowledged: 0,
    missing: 0,
    resent: 0,
    alreadyQueued: 0,
    usersTruncated: 0,
    usersFailed: 0,
    cost: { objectCalls: 0, d1Statements: 0, d1RowsRead: 0 },
  };
  const pages = await inParallel(users, OBJECT_CONCURRENCY, async (user) => {
    report.cost.objectCalls += 1;
    try {
      return await objectOf(env, user).acknowledgedBetween(from, to, MAX_ACKNOWLEDGED_PER_CALL);
    } catch (error) {
      console.error(`reconciliation: could not ask the object of ${user.projectKey}/${user.userId}`, error);
      return null;
    }
  });
  const ownerOf = new Map<string, number>();
  pages.forEach((page, i) => {
    if (!page) {
      report.usersFailed += 1;
      return;
    }
    report.usersChecked += 1;
    if (!page.complete) report.usersTruncated += 1;
    for (const uid of page.uids) ownerOf.set(uid, i);
  });
  report.eventsAcknowledged = ownerOf.size;
  if (ownerOf.size === 0) return report;

  const { missing, rowsRead } = await missingMessageUids(env.DB, [...ownerOf.keys()]);
  report.cost.d1Statements += 1;
  report.cost.d1RowsRead += rowsRead;
  report.missing = missing.length;
  if (missing.length === 0) return report;

  const missingBy = new Map<number, string[]>();
  for (const uid of missing) {
    const owner = ownerOf.get(uid)!;
    const list = missingBy.get(owner);
    if (list) list.push(uid);
    else missingBy.set(owner, [uid]);
  }
  await inParallel([...missingBy], OBJECT_CONCURRENCY, async ([owner, uids]) => {
    const user = users[owner]!;
    report.cost.objectCalls += 1;
    try {
      const { queued, waiting } = await objectOf(env, user).resendAcknowledged(uids, from, to);
      report.resent += queued;
      report.alreadyQueued += waiting;
    } catch (error) {
      console.error(`reconciliation: could not re-send for ${user.projectKey}/${user.userId}`, error);
    }
  });
  return report;
}

/** The admin call's cursor: the last user id checked, opaque to clients. */
const ReconciliationCursorSchema = z.strictObject({ u: z.string().min(1) });

/** The user id a cursor carries; null when it is not one this service made. */
export const decodeReconciliationCursor = (cursor: string): string | null => decodeCursor(cursor, ReconciliationCursorSchema)?.u ?? null;

/**
 * One page of a project's registered users (in user id order, after the cursor's), reconciled for messages
 * acknowledged in [from, to]. `nextCursor` continues with the next page; null after the last.
 */
export async function reconcileProject(
  env: Env,
  projectKey: string,
  options: { from: number; to: number; afterUserId: string | null; limit: number },
): Promise<ReconciliationReport & { nextCursor: string | null }> {
  const limit = Math.min(options.limit, MAX_USERS_PER_CALL);
  const users = await projectUsersAfter(env.DB, projectKey, options.afterUserId, limit);
  const report = await reconcileUsers(env, users, options.from, options.to);
  report.cost.d1Statements += 1;
  report.cost.d1RowsRead += users.length;
  return { ...report, nextCursor: users.length === limit ? encodeCursor({ u: users.at(-1)!.userId }) : null };
}

/** The scheduled walk: users per run (every 10 minutes, so 144,000 users a day). */
export const SCHEDULED_USERS_PER_RUN = 1_000;
/** The scheduled walk leaves the newest messages alone: the queue may still be delivering them. */
export const SCHEDULED_SETTLE_MS = 15 * 60_000;
/** ...and stays this far inside the retention window, so what it asks for is still kept. */
const RETENTION_MARGIN_MS = 3_600_000;
/** Where the scheduled walk keeps its place between runs (the ARCHIVE bucket). */
export const SCHEDULED_CURSOR_KEY = "reconciliation/cursor.json";

/**
 * The walk's place: the account id it reached in the current pass, and the pass's window [from, to] (epoch ms).
 * `to` null: the next run starts a pass whose window begins at `from` (where the last one ended).
 */
type WalkState = { afterAccountId: number; from: number; to: number | null };

async function readWalkState(bucket: R2Bucket): Promise<WalkState | null> {
  const object = await bucket.get(SCHEDULED_CURSOR_KEY);
  if (!object) return null;
  try {
    const state = (await object.json()) as WalkState;
    return Number.isInteger(state.afterAccountId) && Number.isFinite(state.from) && (state.to === null || Number.isFinite(state.to)) ? state : null;
  } catch {
    return null;
  }
}

/**
 * The cron's task: reconciles the next SCHEDULED_USERS_PER_RUN registered users of every project (by account
 * id), carrying its place between runs in the ARCHIVE bucket. A pass over all users checks the window from
 * where the previous pass's ended up to SCHEDULED_SETTLE_MS before the pass began (the first pass: the whole
 * retention window), so consecutive passes cover every acknowledged message once, as long as a pass takes
 * less than the retention window (at 1,000 users per run, up to about a million users); beyond it, `from`
 * is clamped into the window and `clamped` says so.
 */
export async function reconcileNextUsers(
  env: Env,
  options: { now?: number; users?: number } = {},
): Promise<ReconciliationReport & { from: number; to: number; passDone: boolean; clamped: boolean }> {
  const now = options.now ?? Date.now();
  const perRun = Math.min(options.users ?? SCHEDULED_USERS_PER_RUN, MAX_USERS_PER_CALL);
  const oldest = now - ACKNOWLEDGED_RETENTION_MS + RETENTION_MARGIN_MS;
  let state = await readWalkState(env.ARCHIVE);
  if (!state || state.to === null) {
    const to = now - SCHEDULED_SETTLE_MS;
    state = { afterAccountId: 0, from: state ? state.from : oldest, to };
  }
  const from = Math.max(state.from, oldest);
  const to = Math.max(state.to!, from);
  const users = await usersAfterAccount(env.DB, state.afterAccountId, perRun);
  const report = await reconcileUsers(env, users, from, to);
  report.cost.d1Statements += 1;
  report.cost.d1RowsRead += users.length;
  const passDone = users.length < perRun;
  const next: WalkState = passDone ? { afterAccountId: 0, from: to, to: null } : { afterAccountId: users.at(-1)!.accountId, from: state.from, to };
  await env.ARCHIVE.put(SCHEDULED_CURSOR_KEY, JSON.stringify(next));
  return { ...report, from, to, passDone, clamped: from > state.from };
}
