import { getDb } from "../db/client";
import { reconcileNextUsers } from "./reconciliation";
import { repairRegistrations } from "./users";

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
  ];
  const results = await Promise.allSettled(tasks.map(([, run]) => run()));
  results.forEach((result, i) => {
    if (result.status === "rejected") console.error(`scheduled task ${tasks[i]![0]} failed`, result.reason);
  });
}
