import { moveBetweenGroups } from "./group-moves";

/**
 * Streak analytics: each participant's newest state (streak_participants) and two aggregate tables the
 * consumer keeps beside it (streak_alive_buckets, streak_longest_counts), so GET /v1/analytics/streak reads a
 * handful of rows whatever the number of participants.
 */

/** One user's streak state as a consumer applies it. */
export type StreakStateRow = {
  projectKey: string;
  streakId: string;
  userId: string;
  seq: number;
  current: number;
  longest: number;
  aliveUntil: number;
};

/**
 * The states of this batch that change something: per (project, streak, user) only the newest in the batch,
 * and only if newer than the stored one. A redelivered or reordered message therefore changes nothing, and
 * every statement below sees the same set (they run in one D1 batch, before the participants are updated).
 */
const CHANGES = `
WITH incoming AS (
  SELECT value ->> '$.projectKey' AS project_key, value ->> '$.streakId' AS streak_id, value ->> '$.userId' AS user_id,
         value ->> '$.seq' AS seq, value ->> '$.current' AS current, value ->> '$.longest' AS longest,
         value ->> '$.aliveUntil' AS alive_until,
         ROW_NUMBER() OVER (
           PARTITION BY value ->> '$.projectKey', value ->> '$.streakId', value ->> '$.userId' ORDER BY value ->> '$.seq' DESC
         ) AS newest
  FROM json_each(?1)
),
changes AS (
  SELECT i.project_key, i.streak_id, i.user_id, i.seq, i.current, i.longest, i.alive_until,
         p.current AS old_current, p.longest AS old_longest, p.alive_until AS old_alive_until
  FROM incoming i
  LEFT JOIN streak_participants p ON p.project_key = i.project_key AND p.streak_id = i.streak_id AND p.user_id = i.user_id
  WHERE i.newest = 1 AND (p.seq IS NULL OR i.seq > p.seq)
)`;

/** Moves each changed participant from its old bucket to its new one (net deltas, one upsert each). */
const MOVE_ALIVE_BUCKETS = moveBetweenGroups({
  changes: CHANGES,
  table: "streak_alive_buckets",
  keys: ["project_key", "streak_id"],
  group: { column: "alive_until", value: "alive_until", oldValue: "old_alive_until" },
  count: "participants",
  sums: [{ column: "current_sum", value: "current", oldValue: "old_current" }],
});

const MOVE_LONGEST_COUNTS = moveBetweenGroups({
  changes: CHANGES,
  table: "streak_longest_counts",
  keys: ["project_key", "streak_id"],
  group: { column: "longest", value: "longest", oldValue: "old_longest" },
  count: "participants",
});

const UPSERT_PARTICIPANTS = `${CHANGES}
INSERT INTO streak_participants (project_key, streak_id, user_id, seq, current, longest, alive_until)
SELECT project_key, streak_id, user_id, seq, current, longest, alive_until FROM changes WHERE true
ON CONFLICT (project_key, streak_id, user_id) DO UPDATE SET
  seq = excluded.seq, current = excluded.current, longest = excluded.longest, alive_until = excluded.alive_until`;

/** The statements applying streak states (3, whatever their number); run them in the ingest's D1 batch. */
export function recordStreakStates(d1: D1Database, states: readonly StreakStateRow[]): D1PreparedStatement[] {
  if (states.length === 0) return [];
  const json = JSON.stringify(states);
  return [MOVE_ALIVE_BUCKETS, MOVE_LONGEST_COUNTS, UPSERT_PARTICIPANTS].map((sql) => d1.prepare(sql).bind(json));
}

export type StreakAnalyticsRow = {
  participants: number;
  longest: number | null;
  reachedGoal: number;
  active: number;
  activeCurrentSum: number;
};

/** The aggregates of one streak at `nowMs`, in one statement over aggregate rows only. */
export async function readStreakAnalytics(
  d1: D1Database,
  projectKey: string,
  streakId: string,
  goal: number,
  nowMs: number,
): Promise<StreakAnalyticsRow> {
  const row = await d1
    .prepare(
      `SELECT
         (SELECT COALESCE(SUM(participants), 0) FROM streak_longest_counts WHERE project_key = ?1 AND streak_id = ?2) AS participants,
         (SELECT MAX(longest) FROM streak_longest_counts WHERE project_key = ?1 AND streak_id = ?2 AND participants > 0) AS longest,
         (SELECT COALESCE(SUM(participants), 0) FROM streak_longest_counts
           WHERE project_key = ?1 AND streak_id = ?2 AND longest >= ?3) AS reachedGoal,
         (SELECT COALESCE(SUM(participants), 0) FROM streak_alive_buckets
           WHERE project_key = ?1 AND streak_id = ?2 AND alive_until > ?4) AS active,
         (SELECT COALESCE(SUM(current_sum), 0) FROM streak_alive_buckets
           WHERE project_key = ?1 AND streak_id = ?2 AND alive_until > ?4) AS activeCurrentSum`,
    )
    .bind(projectKey, streakId, goal, nowMs)
    .first<StreakAnalyticsRow>();
  return row ?? { participants: 0, longest: null, reachedGoal: 0, active: 0, activeCurrentSum: 0 };
}
