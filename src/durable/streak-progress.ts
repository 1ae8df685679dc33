import { periodAt, periodStartMs } from "../domain/calendar";
import { streakCalendar, type StreakDefinition } from "../domain/game-definitions";
import type { StreakResult, StreakState } from "../domain/logged-event";
import { summarizeStreak, type StreakSummary } from "../domain/streaks";
import { addStreakPeriod, cachedStreakSummary, saveStreakSummary, streakPeriods } from "./storage/streaks";

/** The user's summary of one streak under its current rules: stored, or recomputed from the periods. */
export function streakSummary(sql: SqlStorage, streak: StreakDefinition): StreakSummary | null {
  const calendar = streakCalendar(streak);
  const cached = cachedStreakSummary(sql, streak.streakId, calendar, streak.freezesPerMonth);
  if (cached) return cached;
  const summary = summarizeStreak(streakPeriods(sql, streak.streakId, calendar), streak);
  if (summary) saveStreakSummary(sql, streak.streakId, calendar, streak.freezesPerMonth, summary);
  return summary;
}

/**
 * Moves the streaks that list a logged event: a qualifying log (its conditions held) adds the period of its
 * own event time, local to each streak's time zone. Returns each streak's result for the response, and the
 * new state of each streak the log extended, for the analytics consumer.
 */
export function advanceStreaks(
  sql: SqlStorage,
  streaks: readonly StreakDefinition[],
  occurredAtMs: number,
  qualifies: boolean,
): { results: StreakResult[]; changed: StreakState[] } {
  const results: StreakResult[] = [];
  const changed: StreakState[] = [];
  for (const streak of streaks) {
    const calendar = streakCalendar(streak);
    const extended = qualifies && addStreakPeriod(sql, streak.streakId, calendar, periodAt(occurredAtMs, streak.period, streak.timezone));
    let summary: StreakSummary | null;
    if (extended) {
      summary = summarizeStreak(streakPeriods(sql, streak.streakId, calendar), streak)!;
      saveStreakSummary(sql, streak.streakId, calendar, streak.freezesPerMonth, summary);
      changed.push({
        streakId: streak.streakId,
        current: summary.current,
        longest: summary.longest,
        aliveUntil: periodStartMs(summary.aliveThrough + 1, streak.period, streak.timezone),
      });
    } else {
      summary = streakSummary(sql, streak);
    }
    results.push({ streakId: streak.streakId, current: summary?.current ?? 0, longest: summary?.longest ?? 0, extended });
  }
  return { results, changed };
}
