import { MAX_CHALLENGE_PROGRESS } from "../../domain/limits";

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

/**
 * Adds `delta` to a period's progress (creating it) and returns the row as it is now; one statement. Progress
 * never goes above MAX_CHALLENGE_PROGRESS, so it stays finite however many logs add to it.
 */
export function addChallengeProgress(sql: SqlStorage, challengeId: string, calendar: string, period: number, delta: number): ChallengeProgressRow {
  const row = sql
    .exec<{ progress: number; completed_at: number | null }>(
      `INSERT INTO challenge_progress (challenge_id, calendar, period, progress, completed_at) VALUES (?, ?, ?, MIN(?, ?), NULL)
       ON CONFLICT (challenge_id, calendar, period) DO UPDATE SET progress = MIN(progress + excluded.progress, ?)
       RETURNING progress, completed_at`,
      challengeId,
      calendar,
      period,
      delta,
      MAX_CHALLENGE_PROGRESS,
      MAX_CHALLENGE_PROGRESS,
    )
    .one();
  return { progress: row.progress, completedAt: row.completed_at };
}

export function markChallengeCompleted(sql: SqlStorage, challengeId: string, calendar: string, period: number, completedAt: number): void {
  sql.exec("UPDATE challenge_progress SET completed_at = ? WHERE challenge_id = ? AND calendar = ? AND period = ?", completedAt, challengeId, calendar, period);
}
