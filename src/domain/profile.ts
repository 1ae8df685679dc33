import { periodAt, periodStartDate } from "./calendar";
import type { StreakDefinition } from "./game-definitions";
import { isAlive, type StreakSummary } from "./streaks";

/** A streak in the user's points profile. `lastPeriod` is the first local day of the latest qualifying period. */
export type ProfileStreak = { streakId: string; current: number; longest: number; alive: boolean; lastPeriod: string | null };

/** How a user's streak looks at `nowMs`: alive when its last period is the current or the previous one (or freezes cover the gap). */
export function profileStreak(streak: StreakDefinition, summary: StreakSummary | null, nowMs: number): ProfileStreak {
  if (!summary) return { streakId: streak.streakId, current: 0, longest: 0, alive: false, lastPeriod: null };
  return {
    streakId: streak.streakId,
    current: summary.current,
    longest: summary.longest,
    alive: isAlive(summary, periodAt(nowMs, streak.period, streak.timezone)),
    lastPeriod: periodStartDate(summary.lastPeriod, streak.period),
  };
}
