import { MAX_WINDOW_DAYS } from "./limits";
import { addDays, daysBetween, daysInRange } from "./periods";

export const STATS_PERIODS = ["1d", "7d", "30d", "90d", "current_month", "ytd", "all"] as const;
export type StatsPeriod = (typeof STATS_PERIODS)[number];

export type StatsWindow = { startDate: string; endDate: string };

const TRAILING_DAYS: Partial<Record<StatsPeriod, number>> = { "1d": 1, "7d": 7, "30d": 30, "90d": 90 };

/**
 * The UTC days a stats request covers, both ends included, ending today: `7d` is today and the 6 days
 * before; `all` starts at the project's first event day (today when it has none).
 */
export function statsWindow(period: StatsPeriod, today: string, firstEventDay: string | null): StatsWindow {
  const trailing = TRAILING_DAYS[period];
  if (trailing !== undefined) return { startDate: addDays(today, 1 - trailing), endDate: today };
  if (period === "current_month") return { startDate: `${today.slice(0, 7)}-01`, endDate: today };
  if (period === "ytd") return { startDate: `${today.slice(0, 4)}-01-01`, endDate: today };
  const first = firstEventDay !== null && firstEventDay < today ? firstEventDay : today;
  // Events reach at most 10 years back; the clamp keeps `all` inside the bound whatever the data says.
  const earliest = addDays(today, 1 - MAX_WINDOW_DAYS);
  return { startDate: daysBetween(earliest, first) < 0 ? earliest : first, endDate: today };
}

/** The whole calendar month `YYYY-MM`. */
export function monthWindow(month: string): StatsWindow {
  const [year, monthNumber] = month.split("-").map(Number) as [number, number];
  const lastDay = new Date(Date.UTC(year, monthNumber, 0)).getUTCDate();
  return { startDate: `${month}-01`, endDate: `${month}-${String(lastDay).padStart(2, "0")}` };
}

/**
 * The window a stats request asks for: a whole month when `month` is given (timeframe=month), else the
 * period ending `today`. `period` is what the answer reports.
 */
export function requestedWindow(
  request: { period: StatsPeriod; month: string | null },
  today: string,
  firstEventDay: string | null,
): StatsWindow & { period: StatsPeriod | "month" } {
  if (request.month !== null) return { period: "month", ...monthWindow(request.month) };
  return { period: request.period, ...statsWindow(request.period, today, firstEventDay) };
}

/** Aggregate rows as the stats tables hold them. `bucket` is a day (YYYY-MM-DD) or an hour (YYYY-MM-DDTHH). */
export type CountRow = {
  eventId: string;
  bucket: string;
  count: number;
  points: number;
  conditionMet: number;
  conditionFailed: number;
  limitReached: number;
};
export type UsersPerDay = { day: string; users: number };
export type Totals = { count: number; points: number; conditionMet: number; conditionFailed: number; limitReached: number };

export const sumTotals = (rows: readonly Totals[]): Totals =>
  rows.reduce(
    (t, r) => ({
      count: t.count + r.count,
      points: t.points + r.points,
      conditionMet: t.conditionMet + r.conditionMet,
      conditionFailed: t.conditionFailed + r.conditionFailed,
      limitReached: t.limitReached + r.limitReached,
    }),
    { count: 0, points: 0, conditionMet: 0, conditionFailed: 0, limitReached: 0 },
  );

type DailyEntry = { count: number; users: number; points: number; hourlyDistribution: number[] };

/** Every day of the window, zeros included, with 24 hourly counts (hour 0 to 23 UTC). */
export function dailySeries(window: StatsWindow, dailyRows: CountRow[], hourlyRows: CountRow[], usersPerDay: UsersPerDay[]) {
  const series = new Map<string, DailyEntry>();
  for (const day of daysInRange(window.startDate, window.endDate)) {
    series.set(day, { count: 0, users: 0, points: 0, hourlyDistribution: new Array<number>(24).fill(0) });
  }
  for (const row of dailyRows) {
    const entry = series.get(row.bucket);
    if (entry) {
      entry.count += row.count;
      entry.points += row.points;
    }
  }
  for (const row of hourlyRows) {
    const entry = series.get(row.bucket.slice(0, 10));
    const hour = Number(row.bucket.slice(11, 13));
    if (entry && hour >= 0 && hour < 24) entry.hourlyDistribution[hour]! += row.count;
  }
  for (const { day, users } of usersPerDay) {
    const entry = series.get(day);
    if (entry) entry.users = users;
  }
  return series;
}

export type GlobalStatsInput = {
  window: StatsWindow;
  /** Per-event totals over the window (from daily rows, or the monthly rows for timeframe=month). */
  eventTotals: Array<Totals & { eventId: string }>;
  uniqueUsers: number;
  usersPerEvent: Array<{ eventId: string; users: number }>;
  dailyRows: CountRow[];
  hourlyRows: CountRow[];
  usersPerDay: UsersPerDay[];
};

export function globalStats(input: GlobalStatsInput) {
  const totals = sumTotals(input.eventTotals);
  const users = new Map(input.usersPerEvent.map((u) => [u.eventId, u.users]));
  const eventBreakdown: Record<string, { count: number; users: number; points: number }> = {};
  for (const row of input.eventTotals) {
    eventBreakdown[row.eventId] = { count: row.count, users: users.get(row.eventId) ?? 0, points: row.points };
  }
  const topEvents = input.eventTotals
    .filter((row) => row.count > 0)
    .sort((a, b) => b.count - a.count || (a.eventId < b.eventId ? -1 : 1))
    .slice(0, 10)
    .map((row) => row.eventId);
  const dailyData: Record<string, { events: number; users: number; points: number; hourlyDistribution: number[] }> = {};
  for (const [day, entry] of dailySeries(input.window, input.dailyRows, input.hourlyRows, input.usersPerDay)) {
    dailyData[day] = { events: entry.count, users: entry.users, points: entry.points, hourlyDistribution: entry.hourlyDistribution };
  }
  return {
    totalEvents: totals.count,
    uniqueUsers: input.uniqueUsers,
    totalPoints: totals.points,
    eventBreakdown,
    topEvents,
    dailyData,
    _metadata: { uniqueUsersCalculationMethod: "daily_exact" as const, uniqueUsersNote: null },
  };
}

export type EventStatsInput = {
  window: StatsWindow;
  totals: Totals;
  uniqueUsers: number;
  dailyRows: CountRow[];
  hourlyRows: CountRow[];
  usersPerDay: UsersPerDay[];
};

export function eventStats(input: EventStatsInput) {
  const dailyData: Record<string, DailyEntry> = {};
  for (const [day, entry] of dailySeries(input.window, input.dailyRows, input.hourlyRows, input.usersPerDay)) {
    dailyData[day] = entry;
  }
  return {
    totalCount: input.totals.count,
    uniqueUsers: input.uniqueUsers,
    pointsAwarded: input.totals.points,
    conditionMet: input.totals.conditionMet,
    conditionFailed: input.totals.conditionFailed,
    limitReached: input.totals.limitReached,
    dailyData,
  };
}

/** One UTC day of the points stats. */
export type PointsDay = { earned: number; redeemed: number; reversed: number; expired: number; opening: number };

/**
 * GET /v1/stats/points: every day of the window (zeros included) and the totals. `earned` is the stats' points
 * (logs and challenge bonuses, adjustments applied in the adjusted event's day); redeemed, reversed and expired
 * come from the points changes users' objects reported, opening (balances brought over by member imports) from
 * the imports themselves, each in the UTC day of the change.
 */
export function pointsStats(window: StatsWindow, rows: ReadonlyArray<PointsDay & { day: string }>) {
  const dailyData: Record<string, PointsDay> = {};
  for (const day of daysInRange(window.startDate, window.endDate)) dailyData[day] = { earned: 0, redeemed: 0, reversed: 0, expired: 0, opening: 0 };
  const totals: PointsDay = { earned: 0, redeemed: 0, reversed: 0, expired: 0, opening: 0 };
  for (const { day, ...points } of rows) {
    const entry = dailyData[day];
    if (!entry) continue;
    for (const key of ["earned", "redeemed", "reversed", "expired", "opening"] as const) {
      entry[key] += points[key];
      totals[key] += points[key];
    }
  }
  return { totals, dailyData };
}
