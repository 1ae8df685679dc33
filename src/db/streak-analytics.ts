import { moveBetweenGroups } from "./group-moves";

/**
 * Streak analytics: two aggregate tables the consumer keeps (streak_alive_buckets, streak_longest_counts), so
 * GET /v1/analytics/streak reads a handful of rows whatever the number of participants. No row per
 * participant: each new state a user's object reports names the state it replaces (`previous`, null for a new
 * participant), and the consumer moves the user between groups by additions alone.
 */

/** One new streak state of a logged event, with the state it replaces, as a consumer applies it. */
export type StreakStateRow = {
  eventUid: string;
  projectKey: string;
  streakId: string;
  current: number;
  longest: number;
  aliveUntil: number;
  previous: { current: number; longest: number; aliveUntil: number } | null;
};

/**
 * The moves of this batch: the states carried by the events the ingest inserted (tagged ?1), each applied
 * once. A user's moves add up in any order (null → A, A → B, B → C: "in C"), so a redelivered or reordered
 * message never moves a user twice or backwards.
 */
const CHANGES = `
WITH changes AS (
  SELECT value ->> '$.projectKey' AS project_key, value ->> '$.streakId' AS streak_id,
         value ->> '$.current' AS current, value ->> '$.longest' AS longest, value ->> '$.aliveUntil' AS alive_until,
         value ->> '$.previous.current' AS old_current, value ->> '$.previous.longest' AS old_longest,
         value ->> '$.previous.aliveUntil' AS old_alive_until
  FROM json_each(?2)
  WHERE EXISTS (SELECT 1 FROM event_log_details WHERE event_uid = value ->> '$.eventUid' AND ingest_batch = ?1)
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

/** The statements applying the streak moves of the events tagged `batchToken` (2, whatever their number); run them in the ingest's D1 batch after the insert. */
export function recordStreakMoves(d1: D1Database, batchToken: string, states: readonly StreakStateRow[]): D1PreparedStatement[] {
  if (states.length === 0) return [];
  const json = JSON.stringify(states);
  return [MOVE_ALIVE_BUCKETS, MOVE_LONGEST_COUNTS].map((sql) => d1.prepare(sql).bind(batchToken, json));
}

export type StreakAnalyticsRow = {
  participants: number;
  longest: number | null;
  reachedGoal: number;
  active: number;
  activeCurrentSum: number;
};

/** The aggregates of one streak at `nowMs`, in one statement over aggregate rows only. */
export async function readStreakAnalytics(d1: D1Database, projectKey: string, streakId: string, goal: number, nowMs: number): Promise<StreakAnalyticsRow> {
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
