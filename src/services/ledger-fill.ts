import { highestAccountId, usersAfterAccount } from "../db/user-pages";
import { userStateStub } from "../durable/stub";

/**
 * The one-off walk that completes the ledgers of the users' objects that existed before the ledger moved into
 * them. Each such object copies its user's older entries from D1's event_log on first use (a ledger read); this
 * walk makes sure every one does, so none depends on D1 still holding them: the raw log's window removes old
 * rows, and `legacyLedgersCopied` says when that no longer loses anything a ledger needs.
 *
 * Every cron run (10 minutes) asks the objects of the next accounts, by account id, to copy (up to
 * OBJECT_PAGES pages of 500 rows each, 8 objects at a time), and moves past the accounts whose copy is through;
 * an account with more rows than that keeps the walk on it until its copy is through (the next runs go on where
 * it stopped). The walk covers the accounts that existed when it started (objects created since have nothing to
 * copy), keeps its place in the ARCHIVE bucket (LEDGER_FILL_KEY), and once past the last of them does nothing
 * but read that place.
 */
export const LEDGER_FILL_KEY = "ledger/fill-walk.json";
/** Accounts per run at most. */
export const FILL_ACCOUNTS_PER_RUN = 200;
/** Pages of D1 rows one object copies per call of the walk. */
const OBJECT_PAGES = 4;
const CONCURRENCY = 8;

/** Where the walk stands: past `afterAccountId`, up to `untilAccountId` (the newest account when it started). */
type FillWalk = { afterAccountId: number; untilAccountId: number; finishedAt: string | null };

async function readWalk(bucket: R2Bucket): Promise<FillWalk | null> {
  const object = await bucket.get(LEDGER_FILL_KEY);
  if (!object) return null;
  try {
    const walk = (await object.json()) as FillWalk;
    return Number.isInteger(walk.afterAccountId) && Number.isInteger(walk.untilAccountId) ? walk : null;
  } catch {
    return null;
  }
}

/** Whether every object that existed before the ledger moved into the objects has copied its entries from D1. */
export async function legacyLedgersCopied(bucket: R2Bucket): Promise<boolean> {
  return (await readWalk(bucket))?.finishedAt != null;
}

export type FillReport = { accounts: number; rows: number; failed: number; finished: boolean };

/** One run of the walk (see above). */
export async function fillNextLedgers(env: Pick<Env, "DB" | "USER_STATE" | "ARCHIVE">, options: { accounts?: number } = {}): Promise<FillReport> {
  let walk = await readWalk(env.ARCHIVE);
  if (walk?.finishedAt) return { accounts: 0, rows: 0, failed: 0, finished: true };
  if (!walk) {
    walk = { afterAccountId: 0, untilAccountId: await highestAccountId(env.DB), finishedAt: null };
  }
  const limit = options.accounts ?? FILL_ACCOUNTS_PER_RUN;
  const users = (await usersAfterAccount(env.DB, walk.afterAccountId, limit)).filter((user) => user.accountId <= walk.untilAccountId);
  const copied: boolean[] = new Array<boolean>(users.length).fill(false);
  const report: FillReport = { accounts: 0, rows: 0, failed: 0, finished: false };
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, users.length) }, async () => {
      while (next < users.length) {
        const i = next++;
        const user = users[i]!;
        try {
          const answer = await userStateStub(env, user.projectKey, user.userId).fillLedger(OBJECT_PAGES);
          copied[i] = answer.copied;
          report.rows += answer.rows;
        } catch (error) {
          report.failed += 1;
          console.error(`ledger fill: the object of ${user.projectKey}/${user.userId} did not answer`, error);
        }
      }
    }),
  );
  // Past the accounts whose copy is through, up to the first that is not (the next run starts there).
  const through = copied.indexOf(false) === -1 ? users.length : copied.indexOf(false);
  report.accounts = through;
  if (through > 0) walk.afterAccountId = users[through - 1]!.accountId;
  if (through === users.length && (users.length < limit || walk.afterAccountId >= walk.untilAccountId)) {
    walk.finishedAt = new Date().toISOString();
    report.finished = true;
  }
  await env.ARCHIVE.put(LEDGER_FILL_KEY, JSON.stringify(walk));
  return report;
}
