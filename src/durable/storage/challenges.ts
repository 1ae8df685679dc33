/** Each challenge's progress per period, and whether (when) the period was completed. */

export type ChallengeProgressRow = { progress: number; completedAt: number | null };

export function readChallengeProgress(sql: SqlStorage, challengeId: string, calendar: string, period: number): ChallengeProgressRow {
  const row = sql
    .exec<{ progress: number; completed_at: number | null }>(
      "SELECT progress, completed_at FROM challenge_progress WHERE challenge_id = ? AND calendar = ? AND period = ?",
      challengeId,
      calendar,
      period,
    )
    .toArray()[0];
  return row ? { progress: row.progress, completedAt: row.completed_at } : { progress: 0, completedAt: null };
}

export function writeChallengeProgress(sql: SqlStorage, challengeId: string, calendar: string, period: number, row: ChallengeProgressRow): void {
  sql.exec(
    "INSERT OR REPLACE INTO challenge_progress (challenge_id, calendar, period, progress, completed_at) VALUES (?, ?, ?, ?, ?)",
    challengeId,
    calendar,
    period,
    row.progress,
    row.completedAt,
  );
}
