import { storedUid } from "./event-log";

/**
 * Per-project quotas (project_quotas, set by the operator) and what they are measured against: the events of a
 * UTC day from the stats aggregates the queue consumer keeps (stats_daily, project-wide '*' rows) and the
 * estimated bytes of the project's event log (project_usage, kept by the consumer with `countStoredBytes`).
 */

/**
 * Bytes counted for one event-log row besides its metadata and message: its other columns and its index entries
 * (about 200 bytes measured with short metadata, BENCHMARKS.md "D1 storage"; rounded up). 512 before migration
 * 0013 slimmed the row, which recounted every project's stored bytes by this estimate.
 */
export const EVENT_ROW_OVERHEAD_BYTES = 256;

/**
 * The estimated bytes of one event-log row (migration 0013 recounts project_usage with the same expression): the
 * fixed overhead plus its metadata JSON (stored as null when `{}`) and its customer message, in bytes.
 */
const STORED_BYTES_OF_ROW = `${EVENT_ROW_OVERHEAD_BYTES} + length(CAST(COALESCE(e.metadata, '{}') AS BLOB)) + COALESCE(length(CAST(e.customer_message AS BLOB)), 0)`;

/**
 * For the queue consumer's ingest batch, after `insertEvents`: adds the rows that ingest inserted (their details
 * are tagged `batchToken`, so a redelivery adds nothing) to their projects' stored bytes and events.
 */
export function countStoredBytes(d1: D1Database, batchToken: string): D1PreparedStatement {
  return d1
    .prepare(
      `INSERT INTO project_usage (project_key, stored_bytes, events)
       SELECT d.project_key, SUM(${STORED_BYTES_OF_ROW}), COUNT(*)
         FROM event_log_details d JOIN event_log e ON e.event_uid = ${storedUid("d.event_uid")}
        WHERE d.ingest_batch = ?1
       GROUP BY d.project_key
       ON CONFLICT (project_key) DO UPDATE SET stored_bytes = stored_bytes + excluded.stored_bytes, events = events + excluded.events`,
    )
    .bind(batchToken);
}

/**
 * For the raw log's window (src/services/log-window.ts), in the batch that deletes the rows: takes the rows
 * about to be deleted (a JSON list of event-log ids) off their projects' stored bytes and events, by the same
 * estimate that added them.
 */
export function uncountStoredBytes(d1: D1Database, idsJson: string): D1PreparedStatement {
  return d1
    .prepare(
      `UPDATE project_usage SET stored_bytes = stored_bytes - d.bytes, events = events - d.n FROM (
         SELECT p.key AS project_key, SUM(${STORED_BYTES_OF_ROW}) AS bytes, COUNT(*) AS n
           FROM event_log e JOIN projects p ON p.id = e.program_id
          WHERE e.id IN (SELECT value FROM json_each(?1))
         GROUP BY p.key
       ) AS d
       WHERE project_usage.project_key = d.project_key`,
    )
    .bind(idsJson);
}

/** A project's own quotas; null where the deployment's default applies. */
export type QuotaOverrides = { eventsPerDay: number | null; storedBytes: number | null; updatedAt: string | null };

/** What the quotas are measured against, and the project's own quotas, as one D1 statement reads them. */
export type QuotaReading = {
  overrides: QuotaOverrides;
  /** Events per UTC day (YYYY-MM-DD) for the days asked for; a day without events is 0. */
  eventsByDay: Map<string, number>;
  storedBytes: number;
  storedEvents: number;
};

/**
 * Reads a project's quotas and usage in one statement: a handful of primary-key lookups, whatever the
 * project's size (the days' counts are one stats_daily row each).
 */
export async function readQuotaUsage(d1: D1Database, projectKey: string, days: readonly string[]): Promise<QuotaReading> {
  const row = await d1
    .prepare(
      `SELECT q.events_per_day AS eventsPerDay, q.stored_bytes AS storedBytesQuota, q.updated_at AS updatedAt,
              u.stored_bytes AS storedBytes, u.events AS storedEvents,
              (SELECT json_group_object(bucket, count) FROM stats_daily
                WHERE project_key = ?1 AND event_id = '*' AND bucket IN (SELECT value FROM json_each(?2))) AS days
       FROM (SELECT ?1 AS project_key) AS p
       LEFT JOIN project_quotas q ON q.project_key = p.project_key
       LEFT JOIN project_usage u ON u.project_key = p.project_key`,
    )
    .bind(projectKey, JSON.stringify(days))
    .first<{
      eventsPerDay: number | null;
      storedBytesQuota: number | null;
      updatedAt: string | null;
      storedBytes: number | null;
      storedEvents: number | null;
      days: string | null;
    }>();
  const counted = JSON.parse(row?.days ?? "{}") as Record<string, number>;
  return {
    overrides: { eventsPerDay: row?.eventsPerDay ?? null, storedBytes: row?.storedBytesQuota ?? null, updatedAt: row?.updatedAt ?? null },
    eventsByDay: new Map(days.map((day) => [day, counted[day] ?? 0])),
    storedBytes: row?.storedBytes ?? 0,
    storedEvents: row?.storedEvents ?? 0,
  };
}

/** Sets a project's own quotas (null: the default); answers them as stored. */
export async function writeQuotaOverrides(
  d1: D1Database,
  projectKey: string,
  quotas: { eventsPerDay: number | null; storedBytes: number | null },
): Promise<QuotaOverrides> {
  const updatedAt = new Date().toISOString();
  await d1
    .prepare(
      `INSERT INTO project_quotas (project_key, events_per_day, stored_bytes, updated_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (project_key) DO UPDATE SET events_per_day = excluded.events_per_day, stored_bytes = excluded.stored_bytes,
         updated_at = excluded.updated_at`,
    )
    .bind(projectKey, quotas.eventsPerDay, quotas.storedBytes, updatedAt)
    .run();
  return { ...quotas, updatedAt };
}
