import { getTableColumns } from "drizzle-orm";
import { chunkBySize } from "../domain/json";
import { LEDGER_ID_SPAN, type AdjustmentMessage, type LedgerPosition, type LedgerRow, type LedgerSort } from "../domain/ledger";
import { LEDGER_TOTAL_CAP } from "../domain/limits";
import { LoggedEventSchema, type LoggedEvent } from "../domain/logged-event";
import { eventLog } from "./schema";

/**
 * The event log: one row per logged event, written by the queue consumer, read by the ledger.
 * The insert is derived from LoggedEventSchema and the drizzle table, so a logged event's fields are listed
 * once: every field of the schema must be a column of `event_log` (`columns[f]` does not compile otherwise).
 */
const columns = getTableColumns(eventLog);
const fields = Object.keys(LoggedEventSchema.shape) as Array<keyof LoggedEvent>;
/**
 * JSON columns keep the value as JSON text (`->`); the others take the SQL value (`->>`). A message from before
 * the users' objects assigned loyalty ids (it has no `ledgerId`) is numbered after every id from before
 * (`ledger_legacy_ids`, which the migration 0012 trigger extends with it), below 2^24, as D1 numbered them.
 */
const valueOf = (f: keyof LoggedEvent): string =>
  f === "ledgerId"
    ? "COALESCE(value ->> '$.ledgerId', (SELECT COALESCE(MAX(id), 0) FROM ledger_legacy_ids) + ROW_NUMBER() OVER ())"
    : `value ${columns[f].dataType === "json" ? "->" : "->>"} '$.${f}'`;
const INSERT_EVENTS = `
INSERT INTO event_log (${fields.map((f) => columns[f].name).join(", ")}, ingest_batch)
SELECT ${fields.map(valueOf).join(", ")}, ?2
FROM json_each(?1) WHERE true
ON CONFLICT (event_uid) DO NOTHING`;

/**
 * Inserts events (one JSON parameter carries them all), tagging the new rows with `batchToken`. Events already
 * in the log (a redelivery) are skipped and keep their old token, so whatever aggregates rows by the token
 * counts exactly the rows this statement added.
 */
export function insertEvents(d1: D1Database, events: readonly LoggedEvent[], batchToken: string): D1PreparedStatement {
  return d1.prepare(INSERT_EVENTS).bind(JSON.stringify(events), batchToken);
}

/** Adds the rows an ingest inserted (tagged `batchToken`) to the ledger's per-account, per-type totals. */
export function countLedgerEntries(d1: D1Database, batchToken: string): D1PreparedStatement {
  return d1
    .prepare(
      `INSERT INTO ledger_counts (project_key, account_id, ledger_type, events)
       SELECT project_key, account_id, ledger_type, COUNT(*) FROM event_log WHERE ingest_batch = ?1
       GROUP BY project_key, account_id, ledger_type
       ON CONFLICT (project_key, account_id, ledger_type) DO UPDATE SET events = events + excluded.events`,
    )
    .bind(batchToken);
}

export type LedgerFilter = {
  projectKey: string;
  accountId?: number;
  ledgerType?: string;
  /** Inclusive bounds on the event time, as ISO strings in the log's format (`...T10:00:00.000Z`). */
  from?: string;
  to?: string;
};

const SORT_COLUMNS: Record<LedgerSort["field"], string> = { timestamp: "occurred_at", id: "ledger_id", createdAt: "recorded_at" };

/** The WHERE clause and its bindings; every filter combination reads an index range (see the indexes in schema.ts). */
function ledgerWhere(filter: LedgerFilter): { where: string; params: unknown[] } {
  const clauses = ["project_key = ?"];
  const params: unknown[] = [filter.projectKey];
  const add = (clause: string, value: unknown) => {
    clauses.push(clause);
    params.push(value);
  };
  if (filter.accountId !== undefined) add("account_id = ?", filter.accountId);
  if (filter.ledgerType !== undefined) add("ledger_type = ?", filter.ledgerType);
  if (filter.from !== undefined) add("occurred_at >= ?", filter.from);
  if (filter.to !== undefined) add("occurred_at <= ?", filter.to);
  return { where: clauses.join(" AND "), params };
}

/**
 * The index that serves a filter in a sort's order (schema.ts), named so the planner cannot pick one that
 * reads other accounts' rows to filter them, or sorts the whole range. A type filter sorted by createdAt or id
 * has no index of its own: it walks the project's index in that order and skips the other types.
 */
function ledgerIndex(filter: LedgerFilter, sort: LedgerSort): string {
  if (filter.accountId !== undefined) {
    return { timestamp: "event_log_project_account_time", createdAt: "event_log_project_account_created", id: "event_log_project_account" }[sort.field];
  }
  if (filter.ledgerType !== undefined && sort.field === "timestamp") return "event_log_project_type_time";
  return { timestamp: "event_log_project_time", createdAt: "event_log_project_created", id: "event_log_project_id" }[sort.field];
}

/** `id` is the loyalty id (`ledger_id`), not the log's own sequence. */
const LEDGER_COLUMNS = `ledger_id AS id, account_id AS accountId, program_id AS programId, event_id AS eventId, ledger_type AS ledgerType,
  metadata, occurred_at AS occurredAt, recorded_at AS recordedAt, rule_id AS ruleId, reward_type AS rewardType,
  reward_amount AS rewardAmount, reward_currency AS rewardCurrency, customer_message AS customerMessage,
  adjusted_reward_amount AS adjustedRewardAmount, previous_reward_amount AS previousRewardAmount, updated_at AS updatedAt`;

type StoredLedgerRow = Omit<LedgerRow, "metadata"> & { metadata: string };
const toLedgerRow = (row: StoredLedgerRow): LedgerRow => ({ ...row, metadata: JSON.parse(row.metadata) as Record<string, unknown> });

/** Where a page starts: `offset` items in (bounded by MAX_LEDGER_OFFSET), or right after a position (a cursor). */
export type LedgerPageStart = { offset: number } | { after: LedgerPosition };

/**
 * A page of the ledger, in `sort` order with the loyalty id breaking ties in the same direction: an index range in that
 * order (see the indexes in schema.ts). After a position (keyset paging) two index ranges are read,
 * the rest of the position's sort value (by id) and what lies beyond it, `limit` entries in all: the page
 * costs what a first page costs, O(limit + log n), however deep it is. By offset, the walk costs the offset too
 * (it is bounded).
 */
export async function readLedgerPage(d1: D1Database, filter: LedgerFilter, sort: LedgerSort, limit: number, start: LedgerPageStart): Promise<LedgerRow[]> {
  const { where, params } = ledgerWhere(filter);
  const column = SORT_COLUMNS[sort.field];
  const dir = sort.direction;
  const order = `${column} ${dir}${sort.field === "id" ? "" : `, ledger_id ${dir}`}`;
  const index = ledgerIndex(filter, sort);
  const log = `event_log INDEXED BY ${index}`;
  let sql: string;
  let bindings: unknown[];
  if ("offset" in start) {
    sql = `SELECT ${LEDGER_COLUMNS} FROM ${log} WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`;
    bindings = [...params, limit, start.offset];
  } else if (sort.field === "id") {
    sql = `SELECT ${LEDGER_COLUMNS} FROM ${log} WHERE ${where} AND ledger_id ${dir === "desc" ? "<" : ">"} ? ORDER BY ${order} LIMIT ?`;
    bindings = [...params, start.after.id, limit];
  } else {
    // Row values over (column, id) would read every entry sharing the position's value: two ranges instead, the
    // rest of that value (by id), then the values beyond it. SQLite runs a UNION ALL's parts in order and stops
    // at the LIMIT, so the second range reads only what the first left room for.
    const beyond = dir === "desc" ? "<" : ">";
    // Past the position, the time bound on the same side is implied: left out, so the range starts at the position.
    const value = start.after.value as string;
    const timed = sort.field === "timestamp";
    const rest = ledgerWhere({
      ...filter,
      ...(timed && dir === "asc" && filter.from !== undefined && value >= filter.from ? { from: undefined } : {}),
      ...(timed && dir === "desc" && filter.to !== undefined && value <= filter.to ? { to: undefined } : {}),
    });
    sql = `SELECT * FROM (SELECT ${LEDGER_COLUMNS} FROM ${log} WHERE ${where} AND ${column} = ? AND ledger_id ${beyond} ? ORDER BY ledger_id ${dir} LIMIT ?)
           UNION ALL
           SELECT * FROM (SELECT ${LEDGER_COLUMNS} FROM ${log} WHERE ${rest.where} AND ${column} ${beyond} ? ORDER BY ${order} LIMIT ?)
           LIMIT ?`;
    bindings = [...params, value, start.after.id, limit, ...rest.params, value, limit, limit];
  }
  const { results } = await d1
    .prepare(sql)
    .bind(...bindings)
    .all<StoredLedgerRow>();
  return results.map(toLedgerRow);
}

/** The position of a row in `sort` order, for the cursor continuing after it. */
export const ledgerPosition = (row: LedgerRow, sort: LedgerSort): LedgerPosition => ({
  value: sort.field === "id" ? row.id : sort.field === "timestamp" ? row.occurredAt : row.recordedAt,
  id: row.id,
});

/** A total and whether it is exact; when not, it is a lower bound (the entries counted before the cap stopped the count). */
export type LedgerTotal = { total: number; exact: boolean };

/**
 * How many entries match, at a bounded cost whatever the filter:
 * - an account (and type) without a time range: the consumer-kept totals per account and type (at most 3 rows);
 * - the whole project (no account, no type): the stats aggregates, whole months, days and hours (a row each),
 *   and the log only for the partial hours at the ends of a time range;
 * - anything else: the log's index range, counted up to LEDGER_TOTAL_CAP entries.
 * Counts from the log stop past the cap: the total is then a lower bound, not exact.
 */
export async function countLedger(d1: D1Database, filter: LedgerFilter): Promise<LedgerTotal> {
  const timeRange = filter.from !== undefined || filter.to !== undefined;
  if (!timeRange && filter.accountId !== undefined) {
    // ledger_counts has the same account and type columns, so the same WHERE applies.
    const { where, params } = ledgerWhere(filter);
    const row = await d1.prepare(`SELECT COALESCE(SUM(events), 0) AS n FROM ledger_counts WHERE ${where}`).bind(...params).first<{ n: number }>();
    return { total: row?.n ?? 0, exact: true };
  }
  if (filter.accountId === undefined && filter.ledgerType === undefined) return countProjectRange(d1, filter.projectKey, filter.from, filter.to);
  const { where, params } = ledgerWhere(filter);
  return cappedCount(d1, `SELECT 1 FROM event_log WHERE ${where}`, params);
}

/** COUNT(*) of a query's rows, reading at most LEDGER_TOTAL_CAP + 1 of them. */
async function cappedCount(d1: D1Database, rows: string, params: unknown[]): Promise<LedgerTotal> {
  const row = await d1
    .prepare(`SELECT COUNT(*) AS n FROM (${rows} LIMIT ?)`)
    .bind(...params, LEDGER_TOTAL_CAP + 1)
    .first<{ n: number }>();
  const n = row?.n ?? 0;
  return n > LEDGER_TOTAL_CAP ? { total: LEDGER_TOTAL_CAP, exact: false } : { total: n, exact: true };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const iso = (ms: number) => new Date(ms).toISOString();
/** Bucket names bounding a range of buckets; an open end is below ("") or above ("~") every bucket. */
const bucketOf = (ms: number, length: number) => (ms === -Infinity ? "" : ms === Infinity ? "~" : iso(ms).slice(0, length));
const floorTo = (ms: number, unit: number) => (Number.isFinite(ms) ? Math.floor(ms / unit) * unit : ms);
const ceilTo = (ms: number, unit: number) => (Number.isFinite(ms) ? Math.ceil(ms / unit) * unit : ms);
const monthStart = (ms: number, next: boolean) => {
  if (!Number.isFinite(ms)) return ms;
  const d = new Date(ms);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return next && start < ms ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) : start;
};

/**
 * Entries of a project with `from <= occurred_at <= to` (either end open): whole months, days and hours from the
 * stats aggregates (the consumer writes them with the log rows, project-wide under event '*'), the partial
 * hours at both ends from the log (counted up to the cap). At most a row per month plus 2 x 30 days and
 * 2 x 23 hours of aggregates, whatever the number of events.
 */
async function countProjectRange(d1: D1Database, projectKey: string, from: string | undefined, to: string | undefined): Promise<LedgerTotal> {
  const low = from === undefined ? -Infinity : Date.parse(from);
  const high = to === undefined ? Infinity : Date.parse(to) + 1; // exclusive
  const hourLow = ceilTo(low, HOUR_MS);
  const hourHigh = floorTo(high, HOUR_MS);
  if (hourLow >= hourHigh) {
    return cappedCount(d1, "SELECT 1 FROM event_log WHERE project_key = ? AND occurred_at >= ? AND occurred_at < ?", [projectKey, iso(low), iso(high)]);
  }
  // [low, hourLow) and [hourHigh, high) from the log; the whole hours between from the aggregates.
  const ranges: Array<{ table: string; length: number; from: number; to: number }> = [];
  const hours = (from: number, to: number) => ranges.push({ table: "stats_hourly", length: 13, from, to });
  const days = (from: number, to: number) => ranges.push({ table: "stats_daily", length: 10, from, to });
  const dayLow = ceilTo(hourLow, DAY_MS);
  const dayHigh = floorTo(hourHigh, DAY_MS);
  if (dayLow >= dayHigh) hours(hourLow, hourHigh);
  else {
    hours(hourLow, dayLow);
    hours(dayHigh, hourHigh);
    const monthLow = monthStart(dayLow, true);
    const monthHigh = monthStart(dayHigh, false);
    if (monthLow >= monthHigh) days(dayLow, dayHigh);
    else {
      days(dayLow, monthLow);
      days(monthHigh, dayHigh);
      ranges.push({ table: "stats_monthly", length: 7, from: monthLow, to: monthHigh });
    }
  }
  const aggregated = ranges
    .filter((r) => r.from < r.to)
    .map((r) => ({
      sql: `SELECT COALESCE(SUM(count), 0) FROM ${r.table} WHERE project_key = ? AND event_id = '*' AND bucket >= ? AND bucket < ?`,
      params: [projectKey, bucketOf(r.from, r.length), bucketOf(r.to, r.length)],
    }));
  const edges = [
    [low, hourLow],
    [hourHigh, high],
  ].filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b) && a! < b!);
  const edgeCounts = edges.map(([a, b]) => ({
    sql: `SELECT COUNT(*) FROM (SELECT 1 FROM event_log WHERE project_key = ? AND occurred_at >= ? AND occurred_at < ? LIMIT ${LEDGER_TOTAL_CAP + 1})`,
    params: [projectKey, iso(a!), iso(b!)],
  }));
  const parts = [...aggregated, ...edgeCounts];
  const row = await d1
    .prepare(`SELECT ${parts.map((p, i) => `(${p.sql}) AS n${i}`).join(", ")}`)
    .bind(...parts.flatMap((p) => p.params))
    .first<Record<string, number>>();
  const values = parts.map((_, i) => row?.[`n${i}`] ?? 0);
  const counted = values.slice(aggregated.length);
  // An edge past the cap counts as the cap: the total is then a lower bound.
  const total =
    values.slice(0, aggregated.length).reduce((sum, n) => sum + n, 0) + counted.reduce((sum, n) => sum + Math.min(n, LEDGER_TOTAL_CAP), 0);
  return { total, exact: counted.every((n) => n <= LEDGER_TOTAL_CAP) };
}

/** One entry of the project's ledger by its loyalty id; null when another project's or not in the log (yet, or any more). */
export async function findLedgerEntry(d1: D1Database, projectKey: string, id: number): Promise<(LedgerRow & { eventUid: string; userId: string }) | null> {
  const row = await d1
    .prepare(`SELECT ${LEDGER_COLUMNS}, event_uid AS eventUid, user_id AS userId FROM event_log WHERE project_key = ? AND ledger_id = ?`)
    .bind(projectKey, id)
    .first<StoredLedgerRow & { eventUid: string; userId: string }>();
  return row ? { ...toLedgerRow(row), eventUid: row.eventUid, userId: row.userId } : null;
}

/** An entry as a user's object copies it from here: the ledger's fields, the event's uid and its newest adjustment's sequence. */
export type CopiedLedgerRow = LedgerRow & { eventUid: string; adjustmentSeq: number };

/**
 * An account's entries from before the users' objects kept the ledger (loyalty ids below LEDGER_ID_SPAN), after
 * `afterId` in id order, at most `limit`: what the account's object copies into its own ledger. One range of
 * the event_log_project_account index.
 */
export async function legacyLedgerRows(d1: D1Database, projectKey: string, accountId: number, afterId: number, limit: number): Promise<CopiedLedgerRow[]> {
  const { results } = await d1
    .prepare(
      `SELECT ${LEDGER_COLUMNS}, event_uid AS eventUid, adjustment_seq AS adjustmentSeq FROM event_log
       WHERE project_key = ? AND account_id = ? AND ledger_id > ? AND ledger_id < ? ORDER BY ledger_id LIMIT ?`,
    )
    .bind(projectKey, accountId, afterId, LEDGER_ID_SPAN, limit)
    .all<StoredLedgerRow & { eventUid: string; adjustmentSeq: number }>();
  return results.map((row) => ({ ...toLedgerRow(row), eventUid: row.eventUid, adjustmentSeq: row.adjustmentSeq }));
}

/** The account of a loyalty id from before the objects kept the ledger (below LEDGER_ID_SPAN); null when none has it. */
export async function legacyLedgerAccount(d1: D1Database, id: number): Promise<number | null> {
  const row = await d1.prepare("SELECT account_id AS accountId FROM ledger_legacy_ids WHERE id = ?").bind(id).first<{ accountId: number }>();
  return row?.accountId ?? null;
}

/**
 * Applies adjustments (idempotent on their uid): records them tagged `batchToken`, then sets each event's
 * current amount from its newest adjustment (by the user's sequence number, so a late or redelivered older
 * one changes nothing). The stats move by the recorded deltas (src/db/stats.ts, `moveAdjustedPoints`).
 */
export function recordAdjustments(d1: D1Database, adjustments: readonly AdjustmentMessage[], batchToken: string): D1PreparedStatement[] {
  if (adjustments.length === 0) return [];
  return [
    d1
      .prepare(
        `INSERT INTO ledger_adjustments (adjustment_uid, project_key, event_uid, seq, previous_amount, new_amount, points_delta, reason, adjusted_at, ingest_batch)
         SELECT value ->> '$.adjustmentUid', value ->> '$.projectKey', value ->> '$.eventUid', value ->> '$.seq',
                value ->> '$.previousAmount', value ->> '$.newAmount', value ->> '$.pointsDelta', value ->> '$.reason',
                value ->> '$.adjustedAt', ?2
         FROM json_each(?1) WHERE true
         ON CONFLICT (adjustment_uid) DO NOTHING`,
      )
      .bind(JSON.stringify(adjustments), batchToken),
    d1
      .prepare(
        `UPDATE event_log SET adjusted_reward_amount = a.new_amount, previous_reward_amount = a.previous_amount,
           updated_at = a.adjusted_at, adjustment_seq = a.seq
         FROM (
           SELECT event_uid, new_amount, previous_amount, adjusted_at, seq,
                  ROW_NUMBER() OVER (PARTITION BY event_uid ORDER BY seq DESC) AS newest
           FROM ledger_adjustments WHERE ingest_batch = ?1
         ) AS a
         WHERE a.newest = 1 AND event_log.event_uid = a.event_uid AND event_log.adjustment_seq < a.seq`,
      )
      .bind(batchToken),
  ];
}

/** D1 caps a bound value at 2 MB: each statement's JSON list of uids stays well below it. */
const MAX_UID_LIST_BYTES = 900_000;

/** The uids of a JSON list that D1 has neither as a logged event nor as an adjustment (one index lookup each). */
const MISSING_UIDS = `
SELECT j.value AS uid FROM json_each(?1) AS j
WHERE NOT EXISTS (SELECT 1 FROM event_log WHERE event_uid = j.value)
  AND NOT EXISTS (SELECT 1 FROM ledger_adjustments WHERE adjustment_uid = j.value)`;

/**
 * Reconciliation: of `uids` (messages users' objects acknowledged: logged events and adjustments), those that
 * never reached D1. One statement per ~900 KB of uids, all in one batch (one round trip); each uid costs one
 * index lookup in event_log (an adjustment's a second in ledger_adjustments), whatever the log's size.
 * Returns the missing uids and the rows D1 read.
 */
export async function missingMessageUids(d1: D1Database, uids: readonly string[]): Promise<{ missing: string[]; rowsRead: number }> {
  if (uids.length === 0) return { missing: [], rowsRead: 0 };
  // Uids are ASCII (UUIDs): a character is a byte; 3 more for the quotes and the comma.
  const chunks = chunkBySize(uids, (uid) => uid.length + 3, MAX_UID_LIST_BYTES);
  const results = await d1.batch<{ uid: string }>(chunks.map((chunk) => d1.prepare(MISSING_UIDS).bind(JSON.stringify(chunk))));
  return {
    missing: results.flatMap((result) => result.results.map((row) => row.uid)),
    rowsRead: results.reduce((sum, result) => sum + (result.meta.rows_read ?? 0), 0),
  };
}
