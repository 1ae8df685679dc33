import type { StatsSeed } from "../durable/storage/stats-activity";

/**
 * `stats_user_seeds`: what D1's per-user stats rows held for each user when migration 0009 dropped them (active
 * days per event id as ranges, streak states with their sequence numbers), waiting to move into the users'
 * objects. It only shrinks: an object imports its row on first use and deletes it, and the cron moves the rest
 * (src/services/stats-seeds.ts). Nothing writes new rows.
 */

type SeedRow = { project_key: string; user_id: string; active: string; streaks: string };

export type UserSeed = { projectKey: string; userId: string; seed: StatsSeed };

const toSeed = (row: SeedRow): UserSeed => ({
  projectKey: row.project_key,
  userId: row.user_id,
  seed: { active: JSON.parse(row.active) as StatsSeed["active"], streaks: JSON.parse(row.streaks) as StatsSeed["streaks"] },
});

/** One user's seed, or null (a user with no stats history, or one whose object imported it). */
export async function readSeed(d1: D1Database, projectKey: string, userId: string): Promise<StatsSeed | null> {
  const row = await d1
    .prepare("SELECT project_key, user_id, active, streaks FROM stats_user_seeds WHERE project_key = ? AND user_id = ?")
    .bind(projectKey, userId)
    .first<SeedRow>();
  return row ? toSeed(row).seed : null;
}

/** Up to `limit` seeds in key order (one index range). */
export async function listSeeds(d1: D1Database, limit: number): Promise<UserSeed[]> {
  const { results } = await d1
    .prepare("SELECT project_key, user_id, active, streaks FROM stats_user_seeds ORDER BY project_key, user_id LIMIT ?")
    .bind(limit)
    .all<SeedRow>();
  return results.map(toSeed);
}

/** Deletes the seeds of these users (one statement). */
export async function deleteSeeds(d1: D1Database, users: ReadonlyArray<{ projectKey: string; userId: string }>): Promise<void> {
  if (users.length === 0) return;
  await d1
    .prepare(
      `DELETE FROM stats_user_seeds WHERE (project_key, user_id) IN (
         SELECT value ->> '$[0]', value ->> '$[1]' FROM json_each(?))`,
    )
    .bind(JSON.stringify(users.map((u) => [u.projectKey, u.userId])))
    .run();
}
