import { periodAt, periodStartDate } from "../domain/calendar";
import { challengeDelta, reachesTarget, shownProgress } from "../domain/challenges";
import { calendarKey, periodCalendar, type ChallengeDefinition } from "../domain/game-definitions";
import type { ChallengeResult } from "../domain/logged-event";
import { addChallengeProgress, markChallengeCompleted, readChallengeProgress } from "./storage/challenges";

/** A challenge a log completed: its bonus is due, in the period starting `periodStart`. */
export type Completion = { challenge: ChallengeDefinition; periodStart: string | null };

/** Where a challenge's progress for the period of `ms` is kept. */
function periodOf(challenge: ChallengeDefinition, ms: number) {
  const calendar = periodCalendar(challenge);
  const period = periodAt(ms, calendar.period, calendar.timezone);
  return { key: calendarKey(calendar), period, periodStart: periodStartDate(period, calendar.period) };
}

/**
 * Moves the challenges that list a logged event: a qualifying log adds to the progress of the period of its
 * own event time (local to each challenge's time zone). Reaching the target completes that period once: the
 * completion is recorded with the progress, so a later log, a replay or a parallel log never completes it
 * again. Returns the results for the response and the completions whose bonus is due.
 */
export function advanceChallenges(
  sql: SqlStorage,
  challenges: readonly ChallengeDefinition[],
  occurredAtMs: number,
  metadata: Record<string, unknown>,
  qualifies: boolean,
  now: number,
): { results: ChallengeResult[]; completions: Completion[] } {
  const results: ChallengeResult[] = [];
  const completions: Completion[] = [];
  for (const challenge of challenges) {
    const { key, period, periodStart } = periodOf(challenge, occurredAtMs);
    const delta = qualifies ? challengeDelta(challenge, metadata) : 0;
    const row =
      delta > 0 ? addChallengeProgress(sql, challenge.challengeId, key, period, delta) : readChallengeProgress(sql, challenge.challengeId, key, period);
    let completedNow = false;
    if (delta > 0 && row.completedAt === null && reachesTarget(row.progress, challenge.target)) {
      row.completedAt = now;
      markChallengeCompleted(sql, challenge.challengeId, key, period, now);
      completedNow = true;
      completions.push({ challenge, periodStart });
    }
    results.push({
      challengeId: challenge.challengeId,
      progress: shownProgress(row.progress),
      target: challenge.target,
      completed: row.completedAt !== null,
      completedNow,
    });
  }
  return { results, completions };
}

/** A challenge as the user's profile shows it: progress in the current period. */
export function currentChallenge(sql: SqlStorage, challenge: ChallengeDefinition, now: number) {
  const { key, period, periodStart } = periodOf(challenge, now);
  const row = readChallengeProgress(sql, challenge.challengeId, key, period);
  return {
    challengeId: challenge.challengeId,
    periodStart,
    progress: shownProgress(row.progress),
    target: challenge.target,
    completed: row.completedAt !== null,
  };
}
