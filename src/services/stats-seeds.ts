import { deleteSeeds, listSeeds } from "../db/stats-seeds";
import { userStateStub } from "../durable/stub";

/** Seeds the cron moves per run: one user-object call each (20 at a time), plus 2 D1 statements. */
export const SEEDS_PER_RUN = 100;
const PARALLEL_CALLS = 20;

/**
 * Moves what D1's per-user stats rows held (migration 0009's `stats_user_seeds`) into the users' objects, for
 * users who do not log again (an object that logs imports its own seed first): each object imports its seed
 * unless it has done so, then the rows are deleted. The table only shrinks; once empty, a run costs one D1
 * read. At 100 per 10-minute run, 14,400 users a day.
 */
export async function moveStatsSeeds(env: Pick<Env, "DB" | "USER_STATE">, limit = SEEDS_PER_RUN): Promise<{ moved: number; failed: number }> {
  const seeds = await listSeeds(env.DB, limit);
  const moved: typeof seeds = [];
  let failed = 0;
  for (let i = 0; i < seeds.length; i += PARALLEL_CALLS) {
    const group = seeds.slice(i, i + PARALLEL_CALLS);
    const results = await Promise.allSettled(group.map(({ projectKey, userId, seed }) => userStateStub(env, projectKey, userId).importStatsSeed(seed)));
    results.forEach((result, j) => {
      if (result.status === "fulfilled") moved.push(group[j]!);
      else {
        failed += 1;
        console.error("stats seed not moved; next run tries again", result.reason);
      }
    });
  }
  await deleteSeeds(env.DB, moved);
  return { moved: moved.length, failed };
}
