import { periodAt } from "../domain/calendar";
import { calendarKey, periodCalendar, type LeaderboardDefinition } from "../domain/game-definitions";
import type { Standing } from "../domain/logged-event";
import { addToScore } from "./storage/leaderboard-scores";

/**
 * Moves the user's scores: points boards by the points the log awarded (challenge bonuses included), count
 * boards by 1 for a qualifying log of an event they list. Each counts in the period of the log's own event
 * time, local to the board's time zone. Returns the user's absolute scores that changed, for the standings.
 */
export function advanceLeaderboards(
  sql: SqlStorage,
  boards: readonly LeaderboardDefinition[],
  occurredAtMs: number,
  gained: { points: number; qualifies: boolean },
  now: number,
): Standing[] {
  const standings: Standing[] = [];
  for (const board of boards) {
    const delta = board.metric === "points" ? gained.points : gained.qualifies ? 1 : 0;
    if (delta === 0) continue;
    const calendar = periodCalendar(board);
    const key = calendarKey(calendar);
    const period = periodAt(occurredAtMs, calendar.period, calendar.timezone);
    const score = addToScore(sql, board.leaderboardId, key, period, delta, now);
    standings.push({ leaderboardId: board.leaderboardId, calendar: key, period, score, reachedAt: now });
  }
  return standings;
}
