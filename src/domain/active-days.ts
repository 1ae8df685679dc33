/**
 * A user's active days, as the user's object keeps them to decide distinct users (src/durable/stats-activity.ts):
 * per event id (and '*' for any event) a set of UTC days stored as ranges of consecutive days, so a user
 * active every day holds one range per event id whatever the number of days. Pure decisions; storage does
 * the reads and writes they describe.
 */

import { MAX_BACKFILL_MS } from "./periods";

const DAY_MS = 86_400_000;

/** The event id under which the object keeps the days with any event (as the stats tables do). */
export const ANY_EVENT = "*";

/** A UTC day as whole days since 1970-01-01 (`YYYY-MM-DD` or an ISO timestamp in UTC). */
export const dayNumber = (iso: string): number => Math.round(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / DAY_MS);

/** The `YYYY-MM-DD` of a day number. */
export const dayText = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** The first and last day (numbers) of the UTC month holding `day`. */
export function monthOfDay(day: number): { first: number; last: number } {
  const date = new Date(day * DAY_MS);
  const first = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) / DAY_MS;
  const next = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) / DAY_MS;
  return { first, last: next - 1 };
}

/** Consecutive active days, both ends included. Ranges of one event id never overlap nor touch. */
export type DayRange = { first: number; last: number };

/** What the object reads before adding a day: the range starting on or before it, the one after it, the newest. */
export type Neighbours = { before: DayRange | null; after: DayRange | null; newestLast: number | null };

/** Adding one day to an event id's ranges: what it tells, and the write (delete a range by its first day, upsert one). */
export type DayAddition = {
  /** The day was not active before. */
  firstOfDay: boolean;
  /** No day of the day's month was active before. */
  firstOfMonth: boolean;
  /** The last active day before (null: none). */
  previousLast: number | null;
  /** null when nothing changes (the day was active). */
  write: { remove: number | null; put: DayRange } | null;
};

export function addDay(neighbours: Neighbours, day: number): DayAddition {
  const { before, after, newestLast } = neighbours;
  if (before !== null && before.last >= day) return { firstOfDay: false, firstOfMonth: false, previousLast: newestLast, write: null };
  const month = monthOfDay(day);
  const firstOfMonth = !((before !== null && before.last >= month.first) || (after !== null && after.first <= month.last));
  const joinsBefore = before !== null && before.last === day - 1;
  const joinsAfter = after !== null && after.first === day + 1;
  const put: DayRange = { first: joinsBefore ? before.first : day, last: joinsAfter ? after.last : day };
  return { firstOfDay: true, firstOfMonth, previousLast: newestLast, write: { remove: joinsAfter ? after.first : null, put } };
}

/**
 * Ranges no backfill can reach any more (events reach at most 10 years back; the month before that is kept for
 * the first-of-month decision) may go, except each event id's newest range: it holds the user's last active
 * day, which the histogram of users per last active day still counts. The first day that must stay.
 */
export const keepFromDay = (nowMs: number): number => Math.floor((nowMs - MAX_BACKFILL_MS) / DAY_MS) - 31;
