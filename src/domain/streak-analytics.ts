/** The spec's answer of GET /analytics/streak, from the aggregate rows the consumer keeps. */
export type StreakAnalytics = {
  streakId: string;
  totalParticipants: number;
  activeParticipants: number;
  averageStreakLength: number;
  longestUserStreak: number;
  completionRate: number;
};

const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;

/**
 * `averageStreakLength`: mean `current` over participants alive now, one decimal (0 when none);
 * `completionRate`: share of participants whose longest run reached the goal, two decimals.
 * Null when the streak has no participants yet (the spec's "not yet available").
 */
export function streakAnalytics(
  streakId: string,
  rows: { participants: number; longest: number | null; reachedGoal: number; active: number; activeCurrentSum: number },
): StreakAnalytics | null {
  if (rows.participants === 0) return null;
  return {
    streakId,
    totalParticipants: rows.participants,
    activeParticipants: rows.active,
    averageStreakLength: rows.active === 0 ? 0 : round(rows.activeCurrentSum / rows.active, 1),
    longestUserStreak: rows.longest ?? 0,
    completionRate: round(rows.reachedGoal / rows.participants, 2),
  };
}
