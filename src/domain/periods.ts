/** UTC calendar helpers for limit periods and stats windows. Dates are ISO strings or epoch milliseconds. */
import type { LimitPeriod } from "./definition-vocabulary";
import { EARLIEST_STATS_MONTH, MAX_WINDOW_DAYS } from "./limits";

export const dayOf = (iso: string): string => iso.slice(0, 10);
export const monthOf = (iso: string): string => iso.slice(0, 7);
export const hourOf = (iso: string): string => iso.slice(0, 13);

/** ISO-8601 week key (`2026-W48`): weeks start on Monday, week 1 holds the year's first Thursday. */
export function isoWeekOf(iso: string): string {
  const date = new Date(`${dayOf(iso)}T00:00:00Z`);
  const weekday = (date.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = new Date(date.getTime() + (3 - weekday) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(year, 0, 4));
  const firstWeekday = (firstThursday.getUTCDay() + 6) % 7;
  const week1Monday = firstThursday.getTime() - firstWeekday * 86_400_000;
  const week = Math.floor((thursday.getTime() - week1Monday) / (7 * 86_400_000)) + 1;
  return `${year}-W${String(week).padStart(2, "0")}`;
}

/** The key under which a log counts against its definition's limit. */
export function limitPeriodKey(period: LimitPeriod, iso: string): string {
  switch (period) {
    case "lifetime":
      return "lifetime";
    case "day":
      return dayOf(iso);
    case "week":
      return isoWeekOf(iso);
    case "month":
      return monthOf(iso);
  }
}

/** Backfilled events may lie at most 5 minutes ahead (clock skew) and ten years back. */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;
export const MAX_BACKFILL_MS = 3653 * 86_400_000;

/** Why a `YYYY-MM` month cannot be asked for at `today` (1970-01 to the current month), or null when it can. */
export function monthProblem(month: string, today: string): string | null {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) return "must be YYYY-MM";
  const current = monthOf(today);
  if (month < EARLIEST_STATS_MONTH || month > current) return `must be between ${EARLIEST_STATS_MONTH} and ${current}`;
  return null;
}

/** Why an event time is not acceptable at `nowMs`, or null when it is. */
export function eventTimeProblem(occurredAtMs: number, nowMs: number): string | null {
  if (occurredAtMs > nowMs + MAX_FUTURE_SKEW_MS) return "must not be in the future";
  if (occurredAtMs < nowMs - MAX_BACKFILL_MS) return "must not be more than 10 years ago";
  return null;
}

export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Whole days from `start` to `end` (negative when `end` is earlier). */
export const daysBetween = (start: string, end: string): number => Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000);

/**
 * Every day from `start` to `end`, both included. The length is checked before the loop starts: a window
 * longer than MAX_WINDOW_DAYS (or a malformed day) is a bug in the caller, never unbounded work.
 */
export function daysInRange(start: string, end: string): string[] {
  const count = daysBetween(start, end) + 1;
  if (!Number.isFinite(count) || count > MAX_WINDOW_DAYS) throw new RangeError(`refusing a window of ${count} days (${start}..${end})`);
  return Array.from({ length: Math.max(0, count) }, (_, i) => addDays(start, i));
}
