import { newestDoneBatch } from "./archive";
import { uncountStoredBytes } from "./quotas";

/**
 * The raw log's window in D1 (src/services/log-window.ts says the rules): project settings, and the deletion of
 * archived rows older than their project's window, in bounded chunks.
 */

/** Rows deleted per statement, and statements per scheduled run. */
const DELETE_CHUNK = 1_000;
const MAX_CHUNKS_PER_RUN = 20;

/** A project's settings as stored (null: the default). */
export type ProjectSettings = { logWindowDays: number | null; updatedAt: string | null };

export async function readProjectSettings(d1: D1Database, projectKey: string): Promise<ProjectSettings> {
  const row = await d1
    .prepare("SELECT log_window_days AS logWindowDays, updated_at AS updatedAt FROM project_settings WHERE project_key = ?")
    .bind(projectKey)
    .first<ProjectSettings>();
  return row ?? { logWindowDays: null, updatedAt: null };
}

/** Stores a project's settings (null: the default). */
export async function upsertProjectSettings(d1: D1Database, projectKey: string, logWindowDays: number | null): Promise<ProjectSettings> {
  const updatedAt = new Date().toISOString();
  await d1
    .prepare(
      `INSERT INTO project_settings (project_key, log_window_days, updated_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (project_key) DO UPDATE SET log_window_days = excluded.log_window_days, updated_at = excluded.updated_at`,
    )
    .bind(projectKey, logWindowDays, updatedAt)
    .run();
  return { logWindowDays, updatedAt };
}

/**
 * Every project's window start (UTC midnight of today less its days), as a CTE `windows(project_key, program_id,
 * cutoff, cutoff_ms)`; ?1 is today's midnight (ISO), ?2 the default days.
 */
const WINDOWS = `WITH windows AS (
  SELECT p.key AS project_key, p.id AS program_id,
         strftime('%Y-%m-%dT%H:%M:%fZ', ?1, '-' || COALESCE(s.log_window_days, ?2) || ' days') AS cutoff,
         CAST(round((julianday(?1, '-' || COALESCE(s.log_window_days, ?2) || ' days') - 2440587.5) * 86400000) AS INTEGER) AS cutoff_ms
  FROM projects p LEFT JOIN project_settings s ON s.project_key = p.key
)`;

/**
 * The newest event-log id ingested before the guard (`before`): the last id of the newest done archive
 * batch recorded before then (a batch covers only rows already in the log when it was recorded). 0 when none.
 */
async function lastIdIngestedBefore(d1: D1Database, before: string): Promise<number> {
  const row = await d1
    .prepare(
      `SELECT COALESCE(MAX(last_id), 0) AS id FROM archive_batches INDEXED BY archive_batches_done
       WHERE kind = 'events' AND done_at IS NOT NULL AND created_at < ?`,
    )
    .bind(before)
    .first<{ id: number }>();
  return row?.id ?? 0;
}

export type WindowReport = { events: number; adjustments: number; pointsChanges: number; more: boolean };

/**
 * Deletes archived rows older than their project's window, DELETE_CHUNK at a time (at most MAX_CHUNKS_PER_RUN
 * chunks a run): events archived and ingested more than the guard (`ingestedBefore`) (id up to the last id of a
 * done archive batch recorded before then), each chunk together with its bytes off project_usage; then adjustments
 * whose archive batch is done; then points changes ingested before the guard (they are not archived: what they
 * leave is the daily points stats). Never a row the archive does not hold yet. Each project's rows are read from its
 * time index (event_log_program_time, ledger_adjustments_project_time) up to its window's start: a run reads
 * what it deletes, plus the old rows it must keep (not archived yet, or ingested too recently), and a
 * primary-key probe per project (points changes: points_changes_project_time).
 */
export async function deleteRowsPastWindows(
  d1: D1Database,
  at: { today: string; ingestedBefore: string; defaultDays: number; minLedgerId: number },
): Promise<WindowReport> {
  const { today, defaultDays, minLedgerId } = at;
  const guard = at.ingestedBefore;
  const report: WindowReport = { events: 0, adjustments: 0, pointsChanges: 0, more: false };
  let chunks = 0;

  // Archived and ingested before the guard: the rows up to the last id of a done batch recorded before it.
  const deletable = await lastIdIngestedBefore(d1, guard);
  while (deletable > 0) {
    if (chunks >= MAX_CHUNKS_PER_RUN) return { ...report, more: true };
    const { results } = await d1
      .prepare(
        `${WINDOWS}
         SELECT e.id FROM windows w CROSS JOIN event_log e INDEXED BY event_log_program_time ON e.program_id = w.program_id AND e.occurred_at < w.cutoff_ms
         WHERE e.id <= ?3 AND e.ledger_id >= ?5 LIMIT ?4`,
      )
      .bind(today, defaultDays, deletable, DELETE_CHUNK, minLedgerId)
      .all<{ id: number }>();
    if (results.length === 0) break;
    chunks += 1;
    const ids = JSON.stringify(results.map((row) => row.id));
    const [, deleted] = await d1.batch([
      uncountStoredBytes(d1, ids),
      d1.prepare("DELETE FROM event_log WHERE id IN (SELECT value FROM json_each(?1))").bind(ids),
    ]);
    report.events += deleted!.meta.changes;
    if (results.length < DELETE_CHUNK) break;
  }

  const archivedAdjustments = (await newestDoneBatch(d1, "adjustments"))?.id ?? 0;
  while (archivedAdjustments > 0) {
    if (chunks >= MAX_CHUNKS_PER_RUN) return { ...report, more: true };
    const result = await d1
      .prepare(
        `${WINDOWS}
         DELETE FROM ledger_adjustments WHERE rowid IN (
           SELECT a.rowid FROM windows w CROSS JOIN ledger_adjustments a INDEXED BY ledger_adjustments_project_time ON a.project_key = w.project_key
           WHERE a.archive_batch <= ?3 AND a.adjusted_at < w.cutoff AND a.adjusted_at < ?4 LIMIT ?5)`,
      )
      .bind(today, defaultDays, archivedAdjustments, guard, DELETE_CHUNK)
      .run();
    chunks += 1;
    report.adjustments += result.meta.changes;
    if (result.meta.changes < DELETE_CHUNK) break;
  }

  // Points changes (not archived: their daily aggregates stay) older than the window and ingested before the guard.
  for (;;) {
    if (chunks >= MAX_CHUNKS_PER_RUN) return { ...report, more: true };
    const result = await d1
      .prepare(
        `${WINDOWS}
         DELETE FROM points_changes WHERE rowid IN (
           SELECT c.rowid FROM windows w CROSS JOIN points_changes c INDEXED BY points_changes_project_time ON c.project_key = w.project_key
           WHERE c.at < w.cutoff AND c.ingested_at < ?3 LIMIT ?4)`,
      )
      .bind(today, defaultDays, Date.parse(guard), DELETE_CHUNK)
      .run();
    chunks += 1;
    report.pointsChanges += result.meta.changes;
    if (result.meta.changes < DELETE_CHUNK) break;
  }
  return report;
}
