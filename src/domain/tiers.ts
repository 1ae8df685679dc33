import { dateToDay, dayToDate } from "./calendar";
import type { TierLadder } from "./points-lifecycle";

/**
 * Where a member stands on the project's tier ladder (README "Points lifecycle"). The basis is the points
 * earned (logs, challenge bonuses, positive adjustments; never redemptions, reversals or expiries), kept per
 * local day of the project's time zone (the day the object recorded them), summed over the ladder's window:
 * - `lifetime`: every day;
 * - `calendar_year`: the local calendar year of today;
 * - `rolling_12_months`: the days that have not left the window: a day leaves it at the start of the same date
 *   12 months later (29 February leaves on 28 February).
 * The level is the one with the highest minPoints at or below those points. Tier up happens at the earn. With
 * `downgrade: end_of_window` the tier is re-evaluated when the window ends: for `calendar_year` at the local
 * year's end, from the points of the year that ended (a tier reached in a year is kept through the next one);
 * for `rolling_12_months` when the days leaving the window take its points below the tier's minPoints;
 * `lifetime` never ends. With `never` a member never goes down. Pure; the user's object stores days and tier.
 */

export type TierLevel = TierLadder["levels"][number];
/** Points earned on one local day (days since 1970-01-01). */
export type EarnedDay = { day: number; points: number };
/** A span of local days, both ends included; null ends are open. */
export type DayRange = { first: number | null; last: number | null };
/** Points earned in the window of today, and (calendar_year) in the year before. */
export type WindowPoints = { inWindow: number; previousWindow: number };
export type TierCause = "earned" | "window_ended" | "ladder_changed";

/** The levels from the lowest minPoints up (ties keep the ladder's order; the later one ranks higher). */
export const sortedLevels = (ladder: TierLadder): TierLevel[] =>
  ladder.levels
    .map((level, index) => ({ level, index }))
    .sort((a, b) => a.level.minPoints - b.level.minPoints || a.index - b.index)
    .map((x) => x.level);

/** A tier's rank on the ladder (higher is better); -1 for none or a tier the ladder does not have. */
export const rankOf = (ladder: TierLadder, tierId: string | null): number =>
  tierId === null ? -1 : sortedLevels(ladder).findIndex((level) => level.tierId === tierId);

/** The level with the highest minPoints at or below `points`; null below the lowest. */
export function levelFor(ladder: TierLadder, points: number): TierLevel | null {
  let found: TierLevel | null = null;
  for (const level of sortedLevels(ladder)) if (level.minPoints <= points) found = level;
  return found;
}

/** The better of two tiers on the ladder (a tier the ladder does not have counts as none). */
export function higherTier(ladder: TierLadder, a: string | null, b: string | null): string | null {
  const [rankA, rankB] = [rankOf(ladder, a), rankOf(ladder, b)];
  if (rankA < 0 && rankB < 0) return null;
  return rankA >= rankB ? a : b;
}

/** The next level up from `tierId` (from none: the lowest), or null at the top. */
export const nextLevel = (ladder: TierLadder, tierId: string | null): TierLevel | null => sortedLevels(ladder)[rankOf(ladder, tierId) + 1] ?? null;

const yearOf = (day: number): number => Number(dayToDate(day).slice(0, 4));
const firstDayOfYear = (year: number): number => dateToDay(`${String(year).padStart(4, "0")}-01-01`);

/** The same date `months` months later (earlier when negative), clamped to the month's last day. */
export function addMonthsToDay(day: number, months: number): number {
  const date = new Date(day * 86_400_000);
  const target = date.getUTCFullYear() * 12 + date.getUTCMonth() + months;
  const year = Math.floor(target / 12);
  const month = target - year * 12;
  const lastOfMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Math.floor(Date.UTC(year, month, Math.min(date.getUTCDate(), lastOfMonth)) / 86_400_000);
}

/** The local day at whose start an earned day leaves a rolling 12-month window. */
export const leavesRollingWindowOn = (day: number): number => addMonthsToDay(day, 12);

/** The first day still in the rolling window at `today`: the oldest day that has not left it. */
function firstRollingDay(today: number): number {
  let day = addMonthsToDay(today, -12) - 2;
  while (leavesRollingWindowOn(day) <= today) day++;
  return day;
}

/** The days the window holds at local day `today`. */
export function windowRange(window: TierLadder["window"], today: number): DayRange {
  switch (window) {
    case "lifetime":
      return { first: null, last: null };
    case "calendar_year":
      return { first: firstDayOfYear(yearOf(today)), last: firstDayOfYear(yearOf(today) + 1) - 1 };
    case "rolling_12_months":
      return { first: firstRollingDay(today), last: null };
  }
}

/** Whether a tier reached in one window holds through the next: calendar_year with end_of_window. */
const holdsThroughNextWindow = (ladder: TierLadder): boolean => ladder.window === "calendar_year" && ladder.downgrade === "end_of_window";

/** The window before today's, when a tier reached in it still holds today (see holdsThroughNextWindow); else null. */
export function previousWindowRange(ladder: TierLadder, today: number): DayRange | null {
  if (!holdsThroughNextWindow(ladder)) return null;
  const year = yearOf(today) - 1;
  return { first: firstDayOfYear(year), last: firstDayOfYear(year + 1) - 1 };
}

/** The tier the points earned entitle a member to: with calendar_year and end_of_window, the better of this year's and last year's. */
export function entitledTier(ladder: TierLadder, points: WindowPoints): string | null {
  const now = levelFor(ladder, points.inWindow)?.tierId ?? null;
  if (!holdsThroughNextWindow(ladder)) return now;
  return higherTier(ladder, now, levelFor(ladder, points.previousWindow)?.tierId ?? null);
}

/** After an earn: up to what the points entitle to, never down. */
export const tierAfterEarn = (ladder: TierLadder, current: string | null, points: WindowPoints): string | null =>
  higherTier(ladder, current, entitledTier(ladder, points));

/** At the end of a window (end_of_window only): what the points entitle to, up or down. */
export const tierAtWindowEnd = (ladder: TierLadder, points: WindowPoints): string | null => entitledTier(ladder, points);

/**
 * Under a new ladder (or time zone): what the points entitle to; with `never`, not below the tier held when the
 * new ladder still has it.
 */
export const tierUnderNewLadder = (ladder: TierLadder, current: string | null, points: WindowPoints): string | null =>
  ladder.downgrade === "never" ? higherTier(ladder, current, entitledTier(ladder, points)) : entitledTier(ladder, points);

/**
 * The local day at whose start the tier is to be re-evaluated (end_of_window only), or null when nothing can
 * take it down: at the top of an empty ladder's base, with `never`, in a `lifetime` window. `calendar_year`: the
 * next 1 January while the tier is above what 0 points give. `rolling_12_months`: the day the leaving days
 * take the window's points below the tier's minPoints (today when they already are); `daysInWindow` reads
 * today's window's days (only then).
 */
export function windowReviewDay(ladder: TierLadder, tierId: string | null, today: number, daysInWindow: () => readonly EarnedDay[]): number | null {
  if (ladder.downgrade === "never" || ladder.window === "lifetime" || tierId === null) return null;
  const rank = rankOf(ladder, tierId);
  if (rank <= rankOf(ladder, levelFor(ladder, 0)?.tierId ?? null)) return null;
  if (ladder.window === "calendar_year") return firstDayOfYear(yearOf(today) + 1);
  const minPoints = sortedLevels(ladder)[rank]!.minPoints;
  const days = [...daysInWindow()].sort((a, b) => a.day - b.day);
  let points = days.reduce((sum, day) => sum + day.points, 0);
  if (points < minPoints) return today;
  for (const { day, points: earned } of days) {
    points -= earned;
    if (points < minPoints) return Math.max(today, leavesRollingWindowOn(day));
  }
  return null;
}

/** A member's tier as the profile shows it (null tierId: below the lowest level), with the next level's distance. */
export type TierStanding = {
  tierId: string | null;
  title: string | null;
  since: string | null;
  pointsInWindow: number;
  next: { tierId: string; pointsNeeded: number } | null;
};

export function tierStanding(ladder: TierLadder, tierId: string | null, since: number | null, pointsInWindow: number): TierStanding {
  const level = sortedLevels(ladder).find((l) => l.tierId === tierId) ?? null;
  const next = nextLevel(ladder, level?.tierId ?? null);
  return {
    tierId: level?.tierId ?? null,
    title: level?.title ?? null,
    since: level && since !== null ? new Date(since).toISOString() : null,
    pointsInWindow,
    next: next ? { tierId: next.tierId, pointsNeeded: Math.max(0, next.minPoints - pointsInWindow) } : null,
  };
}
