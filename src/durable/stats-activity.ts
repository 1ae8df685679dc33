import { addDay, ANY_EVENT, dayNumber, dayText, keepFromDay } from "../domain/active-days";
import type { Activity, StreakState } from "../domain/logged-event";
import { neighbours, pruneRanges, saveStreakReport, storeAnswer, storedAnswer, streakReport, writeRange, type StatsAnswer } from "./storage/stats-activity";

/**
 * Distinct users and streak participants decided by the user's object, so D1 keeps no row per user for them.
 * The object applies its user's events one at a time; each logged event records its UTC day in the user's
 * active days and carries what that changed (`activity`), and each new streak state carries the state the
 * analytics were told before (`previous`). The consumer adds these to aggregate rows only for the events it
 * newly inserts, so every event's change is applied exactly once, and the changes commute: a user's moves
 * telescope (null → A, A → B, B → C sums to "in C") in any order the batches arrive.
 */

/** Records the day of one logged event (in the caller's transaction) and says what it changed. */
export function recordActivity(sql: SqlStorage, eventId: string, occurredAt: string): Activity {
  const day = dayNumber(occurredAt);
  // One read for both: the writes of one event id never touch the other's ranges.
  const [aroundAny, aroundOwn] = neighbours(sql, [ANY_EVENT, eventId], day);
  const any = addDay(aroundAny, day);
  if (any.write) writeRange(sql, ANY_EVENT, any.write);
  const own = addDay(aroundOwn, day);
  if (own.write) writeRange(sql, eventId, own.write);
  return {
    firstOfDay: any.firstOfDay,
    firstOfMonth: any.firstOfMonth,
    firstOfEventDay: own.firstOfDay,
    firstOfEventMonth: own.firstOfMonth,
    previousLastDay: any.previousLast === null ? null : dayText(any.previousLast),
    previousEventLastDay: own.previousLast === null ? null : dayText(own.previousLast),
  };
}

/** A log's new streak states with the state each replaces in the analytics; remembers them (the caller's transaction). */
export function reportStreaks(sql: SqlStorage, seq: number, states: readonly StreakState[]): StreakState[] {
  return states.map((state) => {
    const before = streakReport(sql, state.streakId);
    saveStreakReport(sql, state.streakId, seq, state);
    return { ...state, previous: before && { current: before.current, longest: before.longest, aliveUntil: before.aliveUntil } };
  });
}

/** Drops active-day ranges no backfill can reach (keeping each event id's newest). */
export const pruneActiveDays = (sql: SqlStorage, nowMs: number): void => pruneRanges(sql, keepFromDay(nowMs));

/** A logged event whose message lacks the flags: what the consumer asks the user's object about it. */
export type StatsQuestion = {
  eventUid: string;
  eventId: string;
  occurredAt: string;
  /** The message carries no `activity`. */
  activity: boolean;
  /** The message's sequence number and its streak states without `previous`. */
  seq: number;
  streaks: StreakState[];
};

/**
 * Answers for a message without flags (sent before the object decided them, or while it could not read its
 * seed): its day is recorded now, like a log's, and its streak states count when newer than what the
 * analytics were told (by sequence number; an older one moves nothing). The answer is kept by event uid, so
 * asking again (a redelivery, a retried D1 batch) answers the same. The caller's transaction.
 */
export function answerStatsQuestion(sql: SqlStorage, question: StatsQuestion): StatsAnswer {
  const stored = storedAnswer(sql, question.eventUid);
  if (stored) return stored;
  const streaks: StreakState[] = [];
  for (const state of question.streaks) {
    const before = streakReport(sql, state.streakId);
    if (before !== null && before.seq >= question.seq) continue;
    saveStreakReport(sql, state.streakId, question.seq, state);
    streaks.push({ ...state, previous: before && { current: before.current, longest: before.longest, aliveUntil: before.aliveUntil } });
  }
  const answer: StatsAnswer = {
    eventUid: question.eventUid,
    activity: question.activity ? recordActivity(sql, question.eventId, question.occurredAt) : null,
    streaks,
  };
  storeAnswer(sql, answer);
  return answer;
}
