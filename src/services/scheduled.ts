import { getDb } from "../db/client";
import { archiveRawLog } from "./archive";
import { removeReplayedDeadLetters } from "./dead-letters";
import { fillNextLedgers, legacyLedgersCopied } from "./ledger-fill";
import { announceClosedPeriods, closeLeaderboardPeriods } from "./leaderboards";
import { trimLogWindows } from "./log-window";
import { reconcileNextUsers } from "./reconciliation";
import { moveStatsSeeds } from "./stats-seeds";
import { repairRegistrations } from "./users";
import { sweepWebhookDeliveries } from "./webhook-delivery";

/**
 * What the cron trigger (wrangler.toml `[triggers]`, every 10 minutes) runs. Each task is bounded in the work
 * one run does and carries on in the next run; one failing task does not stop the others.
 */
export async function runScheduledWork(env: Env): Promise<void> {
  const db = getDb(env.DB);
  const tasks: Array<[string, () => Promise<unknown>]> = [
    ["registration repair", () => repairRegistrations(env, db)],
    // The next 1,000 users of every project: acknowledged messages against D1, the missing ones sent again.
    ["reconciliation", () => reconcileNextUsers(env)],
    // What D1's per-user stats rows held before migration 0009, into the users' objects (100 users per run).
    ["stats seeds", () => moveStatsSeeds(env)],
    // Users' objects from before the ledger moved into them copy their older entries from D1 (200 accounts per run).
    ["ledger fill", () => fillNextLedgers(env)],
    // The raw log's oldest rows not archived yet, to R2 (batches of up to 5,000 rows; 20 seconds, 600 R2 operations).
    ["archive", () => archiveRawLog(env)],
    // Archived rows older than their project's window, deleted from D1 (up to 20,000; never an unarchived row).
    ["log window", async () => trimLogWindows(env.DB, { keepLegacyLedgerRows: !(await legacyLedgersCopied(env.ARCHIVE)) })],
    // Board periods ended more than 7 days ago: closed, then trimmed to their top 1,000 (10,000 entries per run).
    // ...then leaderboard.period_closed for closed periods not announced yet (100 per run), to subscribed projects.
    ["leaderboard closing", async () => [await closeLeaderboardPeriods(env.DB), await announceClosedPeriods(env)]],
    // Dead letters replayed more than 30 days ago (1,000 per run); those not replayed stay until they are.
    ["dead-letter retention", () => removeReplayedDeadLetters(env.DB)],
    // Webhook deliveries whose retry message was lost, sent again; delivery records past 14 days or 10,000 per endpoint, deleted.
    ["webhook sweep", () => sweepWebhookDeliveries(env)],
  ];
  const results = await Promise.allSettled(tasks.map(([, run]) => run()));
  results.forEach((result, i) => {
    if (result.status === "rejected") console.error(`scheduled task ${tasks[i]![0]} failed`, result.reason);
  });
}
