import { storedUid } from "./event-log";
import { moveBetweenGroups } from "./group-moves";
import type { Activity } from "../domain/logged-event";
import type { CountRow, StatsWindow, Totals, UsersPerDay } from "../domain/stats";

/**
 * The aggregate tables: written by the queue consumer from exactly the event-log rows one ingest added (their
 * details in event_log_details, tagged with its batch token), read by GET /v1/stats/event. Reads touch only
 * aggregate rows: their cost grows with the days in the window, not with events.
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
    FROM event_log_details WHERE ingest_batch = ?1
  UNION ALL
  SELECT project_key, '*', substr(occurred_at, 1, ${bucketLength}), points, condition_reached, limit_reached
    FROM event_log_details WHERE ingest_batch = ?1
)
WHERE true
GROUP BY project_key, event_id, bucket
ON CONFLICT (project_key, event_id, bucket) DO UPDATE SET
  count = count + excluded.count,
  points = points + excluded.points,
  condition_met = condition_met + excluded.condition_met,
  condition_failed = condition_failed + excluded.condition_failed,
  limit_reached = limit_reached + excluded.limit_reached`;

/**
 * The stats flags of the events an ingest carries (one JSON parameter, ?2), as the users' objects decided
 * them (src/durable/stats-activity.ts), kept only for the events this ingest inserted (tagged ?1): an event
 * already in the log was counted when it arrived, so a redelivery adds nothing.
 */
const INSERTED_FLAGS = `
flags AS (
  SELECT value ->> '$.projectKey' AS project_key, value ->> '$.eventId' AS event_id, value ->> '$.day' AS day,
         value ->> '$.firstOfDay' AS first_of_day, value ->> '$.firstOfMonth' AS first_of_month,
         value ->> '$.firstOfEventDay' AS first_of_event_day, value ->> '$.firstOfEventMonth' AS first_of_event_month,
         value ->> '$.previousLastDay' AS previous_last_day, value ->> '$.previousEventLastDay' AS previous_event_last_day
  FROM json_each(?2)
  WHERE EXISTS (SELECT 1 FROM event_log_details WHERE event_uid = value ->> '$.eventUid' AND ingest_batch = ?1)
)`;

/** Raises the buckets' distinct users by the events that were their user's first of the day (or month), per event and overall. */
const countNewUsers = (table: "stats_daily" | "stats_monthly", length: number, overall: string, perEvent: string) => `
WITH ${INSERTED_FLAGS}
UPDATE ${table} SET users = ${table}.users + n.added FROM (
  SELECT project_key, event_id, substr(day, 1, ${length}) AS bucket, SUM(${perEvent}) AS added FROM flags GROUP BY 1, 2, 3
  UNION ALL
  SELECT project_key, '*', substr(day, 1, ${length}), SUM(${overall}) FROM flags GROUP BY 1, 3
) AS n
WHERE n.added > 0 AND ${table}.project_key = n.project_key AND ${table}.event_id = n.event_id AND ${table}.bucket = n.bucket`;

/**
 * Users whose last active day moved forward with these events: from the previous last day (null: a new user)
 * to the event's day, per event and overall. A user's moves add up (null → A, A → B: "last active on B") in
 * whatever order they arrive, so the histogram needs no row per user.
 */
const MOVED_LAST_DAYS = `
WITH ${INSERTED_FLAGS},
changes AS (
  SELECT project_key, event_id, day, previous_event_last_day AS old_day FROM flags
   WHERE previous_event_last_day IS NULL OR day > previous_event_last_day
  UNION ALL
  SELECT project_key, '*', day, previous_last_day FROM flags WHERE previous_last_day IS NULL OR day > previous_last_day
)`;

const MOVE_USERS_BY_LAST_DAY = moveBetweenGroups({
  changes: MOVED_LAST_DAYS,
  table: "stats_users_by_last_day",
  keys: ["project_key", "event_id"],
  group: { column: "day", value: "day", oldValue: "old_day" },
  count: "users",
});

/** The unique-user bookkeeping of an ingest, after the bucket aggregates (3 statements). */
const RECORD_ACTIVE_USERS = [
  countNewUsers("stats_daily", 10, "first_of_day", "first_of_event_day"),
  countNewUsers("stats_monthly", 7, "first_of_month", "first_of_event_month"),
  MOVE_USERS_BY_LAST_DAY,
];

/** One logged event's stats flags, with what names its buckets. */
export type ActivityRow = Activity & { eventUid: string; projectKey: string; eventId: string; day: string };

/** SQL: the bucket (the first `length` characters of the ISO time) of epoch milliseconds, as the log stores times. */
const bucketOfMs = (ms: string, length: 13 | 10 | 7) => `strftime('${{ 13: "%Y-%m-%dT%H", 10: "%Y-%m-%d", 7: "%Y-%m" }[length]}', ${ms} / 1000, 'unixepoch')`;

/**
 * Moves the points of adjusted events by the adjustments an ingest recorded (tagged `batchToken`), in the
 * buckets of each event's original time, per event and project-wide (3 statements).
 */
export function moveAdjustedPoints(d1: D1Database, batchToken: string): D1PreparedStatement[] {
  return STATS_GRANULARITIES.map(({ table, bucketLength }) =>
    d1
      .prepare(
        `UPDATE ${table} SET points = points + d.delta FROM (
           SELECT a.project_key AS project_key, l.event_id AS event_id, ${bucketOfMs("l.occurred_at", bucketLength)} AS bucket, SUM(a.points_delta) AS delta
             FROM ledger_adjustments a JOIN event_log l ON l.event_uid = ${storedUid("a.event_uid")}
            WHERE a.ingest_batch = ?1 GROUP BY a.project_key, l.event_id, bucket
           UNION ALL
           SELECT a.project_key, '*', ${bucketOfMs("l.occurred_at", bucketLength)} AS bucket, SUM(a.points_delta)
             FROM ledger_adjustments a JOIN event_log l ON l.event_uid = ${storedUid("a.event_uid")}
            WHERE a.ingest_batch = ?1 GROUP BY a.project_key, bucket
         ) AS d
         WHERE ${table}.project_key = d.project_key AND ${table}.event_id = d.event_id AND ${table}.bucket = d.bucket`,
      )
      .bind(batchToken),
  );
}

/**
 * The statements that add the event-log rows tagged `batchToken` to every aggregate, and the stats flags of the
 * inserted ones (`activity`) to the unique-user counts (6 statements).
 */
export function aggregateIngested(d1: D1Database, batchToken: string, activity: readonly ActivityRow[]): D1PreparedStatement[] {
  const flags = JSON.stringify(activity);
  return [
    ...STATS_GRANULARITIES.map(({ table, bucketLength }) => d1.prepare(aggregateInto(table, bucketLength)).bind(batchToken)),
    ...RECORD_ACTIVE_USERS.map((sql) => d1.prepare(sql).bind(batchToken, flags)),
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
  { kind: "global" } | { kind: "event"; eventId: string };

export type StatsRows = {
  eventTotals: Array<Totals & { eventId: string }>;
  dailyRows: CountRow[];
  hourlyRows: CountRow[];
  usersPerDay: UsersPerDay[];
  uniqueUsers: number;
  usersPerEvent: Array<{ eventId: string; users: number }>;
};

const rowsOf = <T>(result: D1Result | undefined): T[] => (result?.results ?? []) as T[];

/**
 * Reads everything one stats answer needs in a single D1 round trip, from aggregate rows only: the cost grows
 * with the days of the window, not with events or users. Unique users: a month's from its monthly row; a
 * window ending today's from the users last active on or after its first day. `month` switches to monthly rows.
 */
export async function readStatsRows(d1: D1Database, projectKey: string, scope: StatsScope, window: StatsWindow, month: string | null): Promise<StatsRows> {
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
  const [totals, daily, hourly, unique, perEvent] = await d1.batch([
    month !== null
      ? stmt(`SELECT event_id AS eventId, ${COUNT_COLUMNS} FROM stats_monthly WHERE project_key = ?1 AND bucket = ?5 AND ${totalsFilter}`)
      : stmt(
          `SELECT event_id AS eventId, ${SUMMED_COLUMNS} FROM stats_daily
           WHERE project_key = ?1 AND bucket BETWEEN ?2 AND ?3 AND ${totalsFilter} GROUP BY event_id`,
        ),
    stmt(
      `SELECT event_id AS eventId, bucket, ${COUNT_COLUMNS}, users FROM stats_daily
       WHERE project_key = ?1 AND event_id = ?4 AND bucket BETWEEN ?2 AND ?3`,
    ),
    stmt(
      `SELECT event_id AS eventId, bucket, ${COUNT_COLUMNS} FROM stats_hourly
       WHERE project_key = ?1 AND event_id = ?4 AND bucket BETWEEN ?2 AND ?3 || 'T23'`,
    ),
    month !== null
      ? stmt(`SELECT users FROM stats_monthly WHERE project_key = ?1 AND event_id = ?4 AND bucket = ?5`)
      : stmt(`SELECT COALESCE(SUM(users), 0) AS users FROM stats_users_by_last_day WHERE project_key = ?1 AND event_id = ?4 AND day >= ?2`),
    month !== null
      ? stmt(`SELECT event_id AS eventId, users FROM stats_monthly WHERE project_key = ?1 AND bucket = ?5 AND event_id != '*' AND ?4 = '*'`)
      : stmt(
          `SELECT event_id AS eventId, SUM(users) AS users FROM stats_users_by_last_day
           WHERE project_key = ?1 AND event_id != '*' AND day >= ?2 AND ?4 = '*' GROUP BY event_id`,
        ),
  ]);
  const dailyRows = rowsOf<CountRow & { users: number }>(daily);
  return {
    eventTotals: rowsOf<Totals & { eventId: string }>(totals),
    dailyRows,
    hourlyRows: rowsOf<CountRow>(hourly),
    usersPerDay: dailyRows.map((row) => ({ day: row.bucket, users: row.users })),
    uniqueUsers: rowsOf<{ users: number }>(unique)[0]?.users ?? 0,
    usersPerEvent: rowsOf<{ eventId: string; users: number }>(perEvent),
  };
}
