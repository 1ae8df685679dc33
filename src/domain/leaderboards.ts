import { z } from "@hono/zod-openapi";
import { dateToDay, dayToDate, firstDayOfPeriod, lastDayOfPeriod, periodAt, periodOfDay, periodStartMs, type CalendarPeriod } from "./calendar";

/**
 * Competition ranks (1, 2, 2, 4) for a page of entries in board order (score descending, then who reached
 * the score first): `firstRank` is the rank of the page's first entry (1 + users with a higher score);
 * each later entry shares the rank of the one before when their scores are equal, else its rank is its
 * position on the board.
 */
export function competitionRanks<T extends { score: number }>(entries: readonly T[], firstRank: number, offset: number): Array<T & { rank: number }> {
  const ranked: Array<T & { rank: number }> = [];
  entries.forEach((entry, i) => {
    const previous = ranked[i - 1];
    const rank = i === 0 ? firstRank : previous!.score === entry.score ? previous!.rank : offset + i + 1;
    ranked.push({ ...entry, rank });
  });
  return ranked;
}

/**
 * A `periodStart` as readers send it: a real calendar date `YYYY-MM-DD` (zod's ISO date, the check the ledger's
 * timestamp filters use: `2026-02-30` is refused, not read as March 2).
 */
export const PeriodStartSchema = z.iso.date({ error: "must be a calendar date YYYY-MM-DD" });

export type BoardWindow = { period: number; periodStart: string | null; periodEnd: string | null };

/**
 * The board period a reader asks for: the current one, or the one starting on `periodStart` (YYYY-MM-DD, the
 * first day of a period: any day for daily boards, a Monday for weekly ones, the 1st for monthly ones; not
 * after the current period). A string is a problem to report (400 naming periodStart).
 */
export function boardWindow(calendar: { period: CalendarPeriod; timezone: string }, periodStart: string | undefined, nowMs: number): BoardWindow | string {
  const current = periodAt(nowMs, calendar.period, calendar.timezone);
  let period = current;
  if (periodStart !== undefined) {
    if (calendar.period === "all") return "not used by boards with period all";
    if (!PeriodStartSchema.safeParse(periodStart).success) return "must be a calendar date YYYY-MM-DD";
    const day = dateToDay(periodStart);
    period = periodOfDay(day, calendar.period);
    if (firstDayOfPeriod(period, calendar.period) !== day) {
      return calendar.period === "week" ? "must be a Monday (weeks start on Monday)" : "must be the first day of a month";
    }
    if (period > current) return "must not be after the current period";
  }
  if (calendar.period === "all") return { period, periodStart: null, periodEnd: null };
  return { period, periodStart: dayToDate(firstDayOfPeriod(period, calendar.period)), periodEnd: dayToDate(lastDayOfPeriod(period, calendar.period)!) };
}

/**
 * Closing board periods (src/services/leaderboards.ts, closeLeaderboardPeriods): a period is closed this long
 * after it ended, so late logs (an outage's backlog, a backfill of the last days, a refund) still count; from
 * then on its standings are final.
 */
export const CLOSED_PERIOD_GRACE_MS = 7 * 86_400_000;
/** A closed period keeps listing its top entries (board order); the others are deleted, the score histogram is kept. */
export const CLOSED_PERIOD_KEPT_ENTRIES = 1_000;

const DAY_MS = 86_400_000;
/** The latest a local midnight can fall after UTC midnight (UTC-12): a bound when the time zone is unusable. */
const LATEST_OFFSET_MS = 12 * 3_600_000;

/**
 * When a board period ends (epoch ms: the first instant of the next period, local to the board's time zone),
 * from the standings' calendar key (`week|Europe/Berlin`); null for `all`, which never ends. A time zone Intl
 * cannot use (a document stored before names were checked) gets the latest its end can be: never early.
 */
export function periodEndsAt(calendar: string, period: number): number | null {
  const bar = calendar.indexOf("|");
  const kind = calendar.slice(0, bar) as CalendarPeriod;
  if (kind !== "day" && kind !== "week" && kind !== "month") return null;
  try {
    return periodStartMs(period + 1, kind, calendar.slice(bar + 1));
  } catch {
    return firstDayOfPeriod(period + 1, kind) * DAY_MS + LATEST_OFFSET_MS;
  }
}
