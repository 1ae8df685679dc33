import type { Db } from "../db/client";
import { readStreakAnalytics } from "../db/streak-analytics";
import { streakAnalytics, type StreakAnalytics } from "../domain/streak-analytics";
import { projectCatalogue } from "./definitions";

/** The analytics of a streak; null when the project has no such streak or nobody took part yet. */
export async function analyticsOfStreak(db: Db, projectKey: string, streakId: string): Promise<StreakAnalytics | null> {
  const streak = (await projectCatalogue(db, projectKey)).streaks.get(streakId);
  if (!streak) return null;
  return streakAnalytics(streakId, await readStreakAnalytics(db.$client, projectKey, streakId, streak.goal, Date.now()));
}
