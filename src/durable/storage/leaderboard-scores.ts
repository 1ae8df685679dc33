/** The user's score per leaderboard and period, and when it reached that score (ties rank by it). */

/** Adds `delta` to the score of a board period (creating it) and returns the new score; one statement. */
export function addToScore(sql: SqlStorage, leaderboardId: string, calendar: string, period: number, delta: number, reachedAt: number): number {
  return sql
    .exec<{ score: number }>(
      `INSERT INTO leaderboard_scores (leaderboard_id, calendar, period, score, reached_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (leaderboard_id, calendar, period) DO UPDATE SET score = score + excluded.score, reached_at = excluded.reached_at
       RETURNING score`,
      leaderboardId,
      calendar,
      period,
      delta,
      reachedAt,
    )
    .one().score;
}

/** The user's score on a board period and when it reached it; null when the user has none there. */
export function readScore(sql: SqlStorage, leaderboardId: string, calendar: string, period: number): { score: number; reachedAt: number } | null {
  const rows = sql
    .exec<{ score: number; reachedAt: number }>(
      "SELECT score, reached_at AS reachedAt FROM leaderboard_scores WHERE leaderboard_id = ? AND calendar = ? AND period = ?",
      leaderboardId,
      calendar,
      period,
    )
    .toArray();
  return rows[0] ?? null;
}
