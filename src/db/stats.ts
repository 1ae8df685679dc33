import type { CountRow, StatsWindow, Totals, UsersPerDay } from "../domain/stats";

/** Stats reads touch only aggregate rows: their cost grows with the days in the window, not with events. */

const COUNT_COLUMNS = `count, points, condition_met AS conditionMet, condition_failed AS conditionFailed, limit_reached AS limitReached`;
const SUMMED_COLUMNS = `SUM(count) AS count, SUM(points) AS points, SUM(condition_met) AS conditionMet,
  SUM(condition_failed) AS conditionFailed, SUM(limit_reached) AS limitReached`;

export async function firstEventDay(d1: D1Database, projectKey: string): Promise<string | null> {
  const row = await d1
    .prepare("SELECT MIN(bucket) AS day FROM stats_daily WHERE project_key = ? AND event_id = '*'")
    .bind(projectKey)
    .first<{ day: string | null }>();
  return row?.day ?? null;
}

export type StatsScope =
  /** Project-wide: series from the '*' rows, totals per event. */
  | { kind: "global" }
  | { kind: "event"; eventId: string };

export type StatsRows = {
  eventTotals: Array<Totals & { eventId: string }>;
  dailyRows: CountRow[];
  hourlyRows: CountRow[];
  usersPerDay: UsersPerDay[];
  uniqueUsers: number;
  usersPerEvent: Array<{ eventId: string; users: number }>;
};

/** Reads everything one stats answer needs in a single D1 round trip. `month` switches totals to the monthly rows. */
export async function readStatsRows(
  d1: D1Database,
  projectKey: string,
  scope: StatsScope,
  window: StatsWindow,
  month: string | null,
): Promise<StatsRows> {
  const seriesId = scope.kind === "global" ? "*" : scope.eventId;
  // Global totals come per event (every row but '*'); event totals from that event's rows.
  const totalsFilter = scope.kind === "global" ? "event_id != '*'" : "event_id = ?4";
  const { startDate, endDate } = window;
  // ?1 project, ?2 start day, ?3 end day, ?4 series ('*' or the event), ?5 month. D1 wants exactly as many
  // bindings as the highest index a statement uses.
  const params = [projectKey, startDate, endDate, seriesId, month ?? ""];
  const stmt = (sql: string) => {
    const used = Math.max(...[...sql.matchAll(/\?(\d)/g)].map((m) => Number(m[1])));
    return d1.prepare(sql).bind(...params.slice(0, used));
  };
  const [totals, daily, hourly, perDay, unique, perEvent] = await d1.batch([
    month !== null
      ? stmt(`SELECT event_id AS eventId, ${COUNT_COLUMNS} FROM stats_monthly WHERE project_key = ?1 AND bucket = ?5 AND ${totalsFilter}`)
      : stmt(
          `SELECT event_id AS eventId, ${SUMMED_COLUMNS} FROM stats_daily
           WHERE project_key = ?1 AND bucket BETWEEN ?2 AND ?3 AND ${totalsFilter} GROUP BY event_id`,
        ),
    stmt(`SELECT event_id AS eventId, bucket, ${COUNT_COLUMNS} FROM stats_daily WHERE project_key = ?1 AND event_id = ?4 AND bucket BETWEEN ?2 AND ?3`),
    stmt(
      `SELECT event_id AS eventId, bucket, ${COUNT_COLUMNS} FROM stats_hourly
       WHERE project_key = ?1 AND event_id = ?4 AND bucket BETWEEN ?2 AND ?3 || 'T23'`,
    ),
    stmt(
      `SELECT day, COUNT(*) AS users FROM stats_daily_users
       WHERE project_key = ?1 AND event_id = ?4 AND day BETWEEN ?2 AND ?3 GROUP BY day`,
    ),
    stmt(
      `SELECT COUNT(DISTINCT user_id) AS users FROM stats_daily_users WHERE project_key = ?1 AND event_id = ?4 AND day BETWEEN ?2 AND ?3`,
    ),
    stmt(
      `SELECT event_id AS eventId, COUNT(DISTINCT user_id) AS users FROM stats_daily_users
       WHERE project_key = ?1 AND event_id != '*' AND day BETWEEN ?2 AND ?3 AND ?4 = '*' GROUP BY event_id`,
    ),
  ]);
  return {
    eventTotals: (totals?.results ?? []) as StatsRows["eventTotals"],
    dailyRows: (daily?.results ?? []) as CountRow[],
    hourlyRows: (hourly?.results ?? []) as CountRow[],
    usersPerDay: (perDay?.results ?? []) as UsersPerDay[],
    uniqueUsers: ((unique?.results[0] as { users?: number } | undefined)?.users ?? 0) as number,
    usersPerEvent: (perEvent?.results ?? []) as StatsRows["usersPerEvent"],
  };
}
