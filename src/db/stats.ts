import type { CountRow, StatsWindow, Totals, UsersPerDay } from "../domain/stats";

/**
 * The aggregate tables: written by the queue consumer from exactly the event-log rows one ingest added
 * (tagged with its batch token), read by GET /v1/stats/event. Reads touch only aggregate rows: their cost
 * grows with the days in the window, not with events.
 */

/** The aggregate tables and how many characters of the ISO timestamp name their bucket. */
const STATS_GRANULARITIES = [
  { table: "stats_hourly", bucketLength: 13 },
  { table: "stats_daily", bucketLength: 10 },
  { table: "stats_monthly", bucketLength: 7 },
] as const;

/** Adds the rows an ingest inserted (and only those) to one aggregate table, per event and project-wide ('*'). */
const aggregateInto = (table: string, bucketLength: number) => `
INSERT INTO ${table} (project_key, event_id, bucket, count, points, condition_met, condition_failed, limit_reached)
SELECT project_key, event_id, bucket, COUNT(*), SUM(points), SUM(condition_reached), SUM(1 - condition_reached), SUM(limit_reached)
FROM (
  SELECT project_key, event_id, substr(occurred_at, 1, ${bucketLength}) AS bucket, points, condition_reached, limit_reached
    FROM event_log WHERE ingest_batch = ?1
  UNION ALL
  SELECT project_key, '*', substr(occurred_at, 1, ${bucketLength}), points, condition_reached, limit_reached
    FROM event_log WHERE ingest_batch = ?1
)
WHERE true
GROUP BY project_key, event_id, bucket
ON CONFLICT (project_key, event_id, bucket) DO UPDATE SET
  count = count + excluded.count,
  points = points + excluded.points,
  condition_met = condition_met + excluded.condition_met,
  condition_failed = condition_failed + excluded.condition_failed,
  limit_reached = limit_reached + excluded.limit_reached`;

const RECORD_ACTIVE_USERS = `
INSERT OR IGNORE INTO stats_daily_users (project_key, event_id, day, user_id)
SELECT project_key, event_id, substr(occurred_at, 1, 10), user_id FROM event_log WHERE ingest_batch = ?1
UNION
SELECT project_key, '*', substr(occurred_at, 1, 10), user_id FROM event_log WHERE ingest_batch = ?1`;

/**
 * Moves the points of adjusted events by the adjustments an ingest recorded (tagged `batchToken`), in the
 * buckets of each event's original time, per event and project-wide (3 statements).
 */
export function moveAdjustedPoints(d1: D1Database, batchToken: string): D1PreparedStatement[] {
  return STATS_GRANULARITIES.map(({ table, bucketLength }) =>
    d1
      .prepare(
        `UPDATE ${table} SET points = points + d.delta FROM (
           SELECT l.project_key AS project_key, l.event_id AS event_id, substr(l.occurred_at, 1, ${bucketLength}) AS bucket, SUM(a.points_delta) AS delta
             FROM ledger_adjustments a JOIN event_log l ON l.event_uid = a.event_uid
            WHERE a.ingest_batch = ?1 GROUP BY l.project_key, l.event_id, bucket
           UNION ALL
           SELECT l.project_key, '*', substr(l.occurred_at, 1, ${bucketLength}) AS bucket, SUM(a.points_delta)
             FROM ledger_adjustments a JOIN event_log l ON l.event_uid = a.event_uid
            WHERE a.ingest_batch = ?1 GROUP BY l.project_key, bucket
         ) AS d
         WHERE ${table}.project_key = d.project_key AND ${table}.event_id = d.event_id AND ${table}.bucket = d.bucket`,
      )
      .bind(batchToken),
  );
}

/** The statements that add the event-log rows tagged `batchToken` to every aggregate (4 statements). */
export function aggregateIngested(d1: D1Database, batchToken: string): D1PreparedStatement[] {
  return [
    ...STATS_GRANULARITIES.map(({ table, bucketLength }) => d1.prepare(aggregateInto(table, bucketLength)).bind(batchToken)),
    d1.prepare(RECORD_ACTIVE_USERS).bind(batchToken),
  ];
}

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
