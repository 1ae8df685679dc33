import type { Db } from "../db/client";
import { LEDGER_ID_SPAN } from "../domain/ledger";
import { deleteRowsPastWindows, readProjectSettings, upsertProjectSettings, type ProjectSettings, type WindowReport } from "../db/log-window";
import { ACKNOWLEDGED_RETENTION_MS } from "../durable/storage/acknowledged";
import { invalidFields } from "../http/errors";
import { TtlCache } from "../lib/ttl-cache";

/**
 * D1 keeps a recent window of the raw log (event_log, ledger_adjustments) for the queries across accounts: by
 * default the last 90 days (by the event's time, from UTC midnight), a per-project setting the operator sets
 * (project_settings). A scheduled task deletes, in bounded chunks, the rows older than the window that the R2
 * archive already holds (src/services/archive.ts); a row not archived yet is never deleted. The points changes
 * the consumer keeps for idempotency (points_changes) leave with the same window. Deleted events come
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

/** Windows this isolate read, for a minute: the ledger reads the window on every query across accounts. */
const windows = new TtlCache<string, number>(1_000, 60_000);

/** Sets a project's settings (null: the default); this isolate applies them at once, others within a minute. */
export async function writeProjectSettings(db: Db, projectKey: string, settings: { logWindowDays: number | null }): Promise<ProjectSettings> {
  const stored = await upsertProjectSettings(db.$client, projectKey, settings.logWindowDays);
  windows.delete(projectKey);
  return stored;
}

/** The days of raw log D1 keeps for a project. */
export async function logWindowDays(db: Db, projectKey: string): Promise<number> {
  const cached = windows.get(projectKey);
  if (cached !== undefined) return cached;
  const days = (await readProjectSettings(db.$client, projectKey)).logWindowDays ?? DEFAULT_LOG_WINDOW_DAYS;
  windows.set(projectKey, days);
  return days;
}

/** Where a window of `days` starts at `now`: UTC midnight `days` days before today (ISO, as the log stores times). */
export function windowStart(days: number, now: number): string {
  return new Date(Math.floor(now / DAY_MS) * DAY_MS - days * DAY_MS).toISOString();
}

/** A project's window now: its days and where it starts. */
export async function logWindow(db: Db, projectKey: string, now = Date.now()): Promise<{ days: number; from: string }> {
  const days = await logWindowDays(db, projectKey);
  return { days, from: windowStart(days, now) };
}

/**
 * For a ledger query across accounts: the lower time bound it reads with (its own, or the window's start when
 * it has none), or a 400 naming `timestampfrom` (or `timestampto`) when it reaches before the window.
 */
export async function crossAccountFrom(db: Db, projectKey: string, from: string | undefined, to: string | undefined, now = Date.now()): Promise<string> {
  const window = await logWindow(db, projectKey, now);
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

export type { ProjectSettings, WindowReport } from "../db/log-window";

/** A project's settings as stored (a null window: the default). */
export const projectSettingsOf = (db: Db, projectKey: string): Promise<ProjectSettings> => readProjectSettings(db.$client, projectKey);

/**
 * Deletes archived rows older than their project's window (src/db/log-window.ts), and points changes older than
 * it: never a row the archive does not hold yet, nor one ingested less than WINDOW_DELETE_GUARD_MS ago. `keepLegacyLedgerRows`: while users'
 * objects have not all copied their entries from before the ledger moved into them (src/services/ledger-fill.ts),
 * rows with such ids (below LEDGER_ID_SPAN) are kept: their ledger is still read from D1.
 */
export function trimLogWindows(d1: D1Database, options: { now?: number; keepLegacyLedgerRows?: boolean } = {}): Promise<WindowReport> {
  const now = options.now ?? Date.now();
  return deleteRowsPastWindows(d1, {
    today: new Date(Math.floor(now / DAY_MS) * DAY_MS).toISOString(),
    ingestedBefore: new Date(now - WINDOW_DELETE_GUARD_MS).toISOString(),
    defaultDays: DEFAULT_LOG_WINDOW_DAYS,
    minLedgerId: options.keepLegacyLedgerRows ? LEDGER_ID_SPAN : 0,
  });
}
