/**
 * Local calendar periods in IANA time zones (streaks, challenges, leaderboards), with Intl only.
 *
 * A period is numbered: a day by its local date as days since 1970-01-01, a week (ISO, Monday start) by
 * floor((day + 3) / 7) (1970-01-01 was a Thursday, so week 0 runs Monday 1969-12-29 to Sunday 1970-01-04),
 * a month by months since 1970-01, and `all` is the single period 0. Numbers make gaps and runs plain
 * arithmetic; dates are computed only at the edges.
 */

export type CalendarPeriod = "day" | "week" | "month" | "all";

const DAY_MS = 86_400_000;
const QUARTER_HOUR_MS = 15 * 60_000;

/**
 * One formatter per time zone, bounded: definitions store canonical IANA names (see canonicalTimeZone), so a
 * project has few, but documents stored before that may spell one zone many ways, and every spelling would
 * otherwise hold a formatter for the isolate's life. Past the bound the oldest formatter is dropped.
 */
export const MAX_TIME_ZONE_FORMATTERS = 200;
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    while (formatters.size >= MAX_TIME_ZONE_FORMATTERS) formatters.delete(formatters.keys().next().value!);
    formatters.set(timeZone, f);
  }
  return f;
}

/** How many time zone formatters the isolate holds (for tests of the bound). */
export const timeZoneFormatterCount = (): number => formatters.size;

/**
 * The canonical IANA name of a time zone as Intl resolves it (`europe/berlin` → `Europe/Berlin`, `utc` and
 * `Etc/UTC` → `UTC`), or null when it is not an IANA zone name: unknown, an offset (`+05:30`), or a legacy
 * name without a region (`EST5EDT`, `EST`; Intl may resolve those to a region, but the input must name one).
 * A canonical name has a `/` or is `UTC`. Nothing is cached: the input is any string.
 */
export function canonicalTimeZone(timeZone: string): string | null {
  if (timeZone.length === 0 || timeZone.length > 64) return null;
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat("en-US", { timeZone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
  if (canonical === "UTC") return canonical;
  return timeZone.includes("/") && canonical.includes("/") ? canonical : null;
}

export const isValidTimeZone = (timeZone: string): boolean => canonicalTimeZone(timeZone) !== null;

/** The local wall-clock time at `ms` in `timeZone`, as if it were UTC (so Date.UTC arithmetic applies). */
function wallClockMs(ms: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/**
 * Local days by time zone and quarter hour: offsets change only on quarter hours, so the local date is the
 * same throughout each UTC quarter hour. Memoised because every log asks it for its streaks, challenges and
 * boards (formatting a date in a time zone is the costly part); bounded.
 */
const dayMemo = new Map<string, number>();

/** The local calendar date at `ms`, as days since 1970-01-01. */
export function localDayNumber(ms: number, timeZone: string): number {
  const key = `${timeZone}|${Math.floor(ms / QUARTER_HOUR_MS)}`;
  let day = dayMemo.get(key);
  if (day === undefined) {
    day = Math.floor(wallClockMs(ms, timeZone) / DAY_MS);
    if (dayMemo.size >= 10_000) dayMemo.clear();
    dayMemo.set(key, day);
  }
  return day;
}

/**
 * The first instant of local day `day` (midnight, or the moment the day begins when a DST change skips
 * midnight). DST days have 23 or 25 hours; this is where they start.
 */
export function startOfLocalDay(day: number, timeZone: string): number {
  const wall = day * DAY_MS;
  let ms = wall - (wallClockMs(wall, timeZone) - wall);
  ms = wall - (wallClockMs(ms, timeZone) - ms);
  // Offset changes fall on quarter hours. Midnight skipped by a DST change: the day starts at the first
  // quarter hour that belongs to it; an instant still in that day just before: step back to the day's start.
  for (let step = 0; step < 16 && localDayNumber(ms, timeZone) < day; step++) ms += QUARTER_HOUR_MS;
  for (let step = 0; step < 16 && localDayNumber(ms - 1, timeZone) === day; step++) ms -= QUARTER_HOUR_MS;
  return ms;
}

export const dayToDate = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
export const dateToDay = (date: string): number => Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);

/** `YYYY-MM` of a local day. */
export const monthOfDay = (day: number): string => dayToDate(day).slice(0, 7);

function monthNumberOfDay(day: number): number {
  const date = new Date(day * DAY_MS);
  return (date.getUTCFullYear() - 1970) * 12 + date.getUTCMonth();
}

const firstDayOfMonthNumber = (month: number): number => Math.floor(Date.UTC(1970 + Math.floor(month / 12), ((month % 12) + 12) % 12, 1) / DAY_MS);

/** The number of the period that local day `day` falls in. */
export function periodOfDay(day: number, period: CalendarPeriod): number {
  switch (period) {
    case "day":
      return day;
    case "week":
      return Math.floor((day + 3) / 7);
    case "month":
      return monthNumberOfDay(day);
    case "all":
      return 0;
  }
}

/** The period `ms` falls in, in `timeZone`. */
export const periodAt = (ms: number, period: CalendarPeriod, timeZone: string): number => periodOfDay(localDayNumber(ms, timeZone), period);

/** The first local day of a period (`all` starts at day 0 by convention). */
export function firstDayOfPeriod(index: number, period: CalendarPeriod): number {
  switch (period) {
    case "day":
      return index;
    case "week":
      return index * 7 - 3;
    case "month":
      return firstDayOfMonthNumber(index);
    case "all":
      return 0;
  }
}

/** The last local day of a period (`all` has none: null). */
export function lastDayOfPeriod(index: number, period: CalendarPeriod): number | null {
  return period === "all" ? null : firstDayOfPeriod(index + 1, period) - 1;
}

/** When a period begins, as an instant. */
export const periodStartMs = (index: number, period: CalendarPeriod, timeZone: string): number => startOfLocalDay(firstDayOfPeriod(index, period), timeZone);

/** How a period is named in answers: its first local day (`YYYY-MM-DD`); `all` has no start: null. */
export const periodStartDate = (index: number, period: CalendarPeriod): string | null => (period === "all" ? null : dayToDate(firstDayOfPeriod(index, period)));
