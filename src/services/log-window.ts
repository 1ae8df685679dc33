import { LEDGER_ID_SPAN } from "../domain/ledger";
import { newestDoneBatch } from "../db/archive";
import { uncountStoredBytes } from "../db/quotas";
import { ACKNOWLEDGED_RETENTION_MS } from "../durable/storage/acknowledged";
import { invalidFields } from "../http/errors";
import { TtlCache } from "../lib/ttl-cache";

/**
 * D1 keeps a recent window of the raw log (event_log, ledger_adjustments) for the queries across accounts: by
 * default the last 90 days (by the event's time, from UTC midnight), a per-project setting the operator sets
 * (project_settings). A scheduled task deletes, in bounded chunks, the rows older than the window that the R2
 * archive already holds (src/services/archive.ts); a row not archived yet is never deleted. Deleted events come
 * off the project's stored bytes (project_usage). Across accounts, the ledger answers within the window and
 * refuses a time range reaching before it (400 naming the field): older events are in the archive.
 */

export const DEFAULT_LOG_WINDOW_DAYS = 90;
export const MAX_LOG_WINDOW_DAYS = 36_500;
const DAY_MS = 86_400_000;

/**
 * Rows ingested this recently stay, whatever their time (a backfilled event is old on arrival): the consumer is
 * idempotent on the rows D1 still has, so a row must outlive every way its message can arrive again:
 * reconciliation re-sends what users' objects acknowledged (kept ACKNOWLEDGED_RETENTION_MS) and D1 lacks, and
 * the queue keeps retrying a message for up to its retention (14 days, wrangler.toml). A day of margin past both.
 */
const QUEUE_RETENTION_MS = 14 * DAY_MS;
export const WINDOW_DELETE_GUARD_MS = Math.max(ACKNOWLEDGED_RETENTION_MS, QUEUE_RETENTION_MS) + DAY_MS;
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

/** Windows this isolate read, for a minute: the ledger reads the window on every query across accounts. */
const windows = new TtlCache<string, number>(1_000, 60_000);

/** Sets a project's settings (null: the default); this isolate applies them at once, others within a minute. */
export async function writeProjectSettings(d1: D1Database, projectKey: string, settings: { logWindowDays: number | null }): Promise<ProjectSettings> {
  const updatedAt = new Date().toISOString();
  await d1
    .prepare(
      `INSERT INTO project_settings (project_key, log_window_days, updated_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (project_key) DO UPDATE SET log_window_days = excluded.log_window_days, updated_at = excluded.updated_at`,
    )
    .bind(projectKey, settings.logWindowDays, updatedAt)
    .run();
  windows.delete(projectKey);
  return { logWindowDays: settings.logWindowDays, updatedAt };
}

/** The days of raw log D1 keeps for a project. */
export async function logWindowDays(d1: D1Database, projectKey: string): Promise<number> {
  const cached = windows.get(projectKey);
  if (cached !== undefined) return cached;
  const days = (await readProjectSettings(d1, projectKey)).logWindowDays ?? DEFAULT_LOG_WINDOW_DAYS;
  windows.set(projectKey, days);
  return days;
}

/** Where a window of `days` starts at `now`: UTC midnight `days` days before today (ISO, as the log stores times). */
export function windowStart(days: number, now: number): string {
  return new Date(Math.floor(now / DAY_MS) * DAY_MS - days * DAY_MS).toISOString();
}

/** A project's window now: its days and where it starts. */
export async function logWindow(d1: D1Database, projectKey: string, now = Date.now()): Promise<{ days: number; from: string }> {
  const days = await logWindowDays(d1, projectKey);
  return { days, from: windowStart(days, now) };
}

/**
 * For a ledger query across accounts: the lower time bound it reads with (its own, or the window's start when
 * it has none), or a 400 naming `timestampfrom` (or `timestampto`) when it reaches before the window.
 */
export async function crossAccountFrom(d1: D1Database, projectKey: string, from: string | undefined, to: string | undefined, now = Date.now()): Promise<string> {
  const window = await logWindow(d1, projectKey, now);
  const refuse = (path: string) =>
    invalidFields("query", [
      {
        path,
        message: `must be on or after ${window.from}: without accountid the ledger holds the project's last ${window.days} days (its raw-log window); older events are in the archive (GET /v1/admin/archive)`,
      },
    ]);
  if (from !== undefined && Date.parse(from) < Date.parse(window.from)) throw refuse("timestampfrom");
  if (to !== undefined && Date.parse(to) < Date.parse(window.from)) throw refuse("timestampto");
  return from ?? window.from;
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
 * The newest event-log id ingested more than WINDOW_DELETE_GUARD_MS ago: the last id of the newest done archive
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

export type WindowReport = { events: number; adjustments: number; more: boolean };

/**
 * Deletes archived rows older than their project's window, DELETE_CHUNK at a time (at most MAX_CHUNKS_PER_RUN
 * chunks a run): events archived and ingested more than WINDOW_DELETE_GUARD_MS ago (id up to the last id of a
 * done archive batch recorded before then), each chunk together with its bytes off project_usage; then adjustments
 * whose archive batch is done. Never a row the archive does not hold yet. Each project's rows are read from its
 * time index (event_log_program_time, ledger_adjustments_project_time) up to its window's start: a run reads
 * what it deletes, plus the old rows it must keep (not archived yet, or ingested too recently), and a
 * primary-key probe per project.
 */
/**
 * `keepLegacyLedgerRows`: while users' objects have not all copied their entries from before the ledger moved
 * into them (src/services/ledger-fill.ts), rows with such ids (below LEDGER_ID_SPAN) are kept: their ledger
 * is still read from D1.
 */
export async function trimLogWindows(d1: D1Database, options: { now?: number; keepLegacyLedgerRows?: boolean } = {}): Promise<WindowReport> {
  const now = options.now ?? Date.now();
  const minLedgerId = options.keepLegacyLedgerRows ? LEDGER_ID_SPAN : 0;
  const today = new Date(Math.floor(now / DAY_MS) * DAY_MS).toISOString();
  const guard = new Date(now - WINDOW_DELETE_GUARD_MS).toISOString();
  const report: WindowReport = { events: 0, adjustments: 0, more: false };
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
      .bind(today, DEFAULT_LOG_WINDOW_DAYS, deletable, DELETE_CHUNK, minLedgerId)
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
      .bind(today, DEFAULT_LOG_WINDOW_DAYS, archivedAdjustments, guard, DELETE_CHUNK)
      .run();
    chunks += 1;
    report.adjustments += result.meta.changes;
    if (result.meta.changes < DELETE_CHUNK) break;
  }
  return report;
}
