/** The user's score per leaderboard and period, and when it reached that score (ties rank by it). */

export type ScoreRow = { score: number; reachedAt: number };

export function readScore(sql: SqlStorage, leaderboardId: string, calendar: string, period: number): ScoreRow {
  const row = sql
    .exec<{ score: number; reached_at: number }>(
      "SELECT score, reached_at FROM leaderboard_scores WHERE leaderboard_id = ? AND calendar = ? AND period = ?",
      leaderboardId,
      calendar,
      period,
    )
    .toArray()[0];
  return row ? { score: row.score, reachedAt: row.reached_at } : { score: 0, reachedAt: 0 };
}

export function writeScore(sql: SqlStorage, leaderboardId: string, calendar: string, period: number, row: ScoreRow): void {
  sql.exec(
    "INSERT OR REPLACE INTO leaderboard_scores (leaderboard_id, calendar, period, score, reached_at) VALUES (?, ?, ?, ?, ?)",
    leaderboardId,
    calendar,
    period,
    row.score,
    row.reachedAt,
  );
}
