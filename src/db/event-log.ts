import { getTableColumns } from "drizzle-orm";
import type { AdjustmentMessage, LedgerRow, LedgerSort } from "../domain/ledger";
import { LoggedEventSchema, type LoggedEvent } from "../domain/logged-event";
import { eventLog } from "./schema";

/**
 * The event log: one row per logged event, written by the queue consumer, read by the ledger.
 * The insert is derived from LoggedEventSchema and the drizzle table, so a logged event's fields are listed
 * once: every field of the schema must be a column of `event_log` (`columns[f]` does not compile otherwise).
 */
const columns = getTableColumns(eventLog);
const fields = Object.keys(LoggedEventSchema.shape) as Array<keyof LoggedEvent>;
/** JSON columns keep the value as JSON text (`->`); the others take the SQL value (`->>`). */
const INSERT_EVENTS = `
INSERT INTO event_log (${fields.map((f) => columns[f].name).join(", ")}, ingest_batch)
SELECT ${fields.map((f) => `value ${columns[f].dataType === "json" ? "->" : "->>"} '$.${f}'`).join(", ")}, ?2
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

const SORT_COLUMNS: Record<LedgerSort["field"], string> = { timestamp: "occurred_at", id: "id", createdAt: "recorded_at" };

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

const LEDGER_COLUMNS = `id, account_id AS accountId, program_id AS programId, event_id AS eventId, ledger_type AS ledgerType,
  metadata, occurred_at AS occurredAt, recorded_at AS recordedAt, rule_id AS ruleId, reward_type AS rewardType,
  reward_amount AS rewardAmount, reward_currency AS rewardCurrency, customer_message AS customerMessage,
  adjusted_reward_amount AS adjustedRewardAmount, previous_reward_amount AS previousRewardAmount, updated_at AS updatedAt`;

type StoredLedgerRow = Omit<LedgerRow, "metadata"> & { metadata: string };
const toLedgerRow = (row: StoredLedgerRow): LedgerRow => ({ ...row, metadata: JSON.parse(row.metadata) as Record<string, unknown> });

/**
 * A page of the ledger. The page's ids come from an index-only scan (filter, order, offset), and only those
 * rows are read, so a deep page skips index entries, not rows. `id` breaks ties in the sort's direction.
 */
export async function readLedgerPage(
  d1: D1Database,
  filter: LedgerFilter,
  sort: LedgerSort,
  page: { limit: number; offset: number },
): Promise<LedgerRow[]> {
  const { where, params } = ledgerWhere(filter);
  const order = `${SORT_COLUMNS[sort.field]} ${sort.direction}${sort.field === "id" ? "" : `, id ${sort.direction}`}`;
  const { results } = await d1
    .prepare(
      `SELECT ${LEDGER_COLUMNS} FROM event_log
       WHERE id IN (SELECT id FROM event_log WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?)
       ORDER BY ${order}`,
    )
    .bind(...params, page.limit, page.offset)
    .all<StoredLedgerRow>();
  return results.map(toLedgerRow);
}

/**
 * How many entries match. Without a time range the consumer-kept totals answer (a few rows). With one, the
 * count reads the matching index range, except for the project-wide case without other filters: whole hours
 * come from the hourly aggregates and only the partial hours at both ends are counted from the log.
 */
export async function countLedger(d1: D1Database, filter: LedgerFilter): Promise<number> {
  if (filter.from === undefined && filter.to === undefined) {
    // ledger_counts has the same account and type columns, so the same WHERE applies.
    const { where, params } = ledgerWhere(filter);
    const row = await d1.prepare(`SELECT COALESCE(SUM(events), 0) AS n FROM ledger_counts WHERE ${where}`).bind(...params).first<{ n: number }>();
    return row?.n ?? 0;
  }
  if (filter.accountId === undefined && filter.ledgerType === undefined && filter.from !== undefined && filter.to !== undefined) {
    return countProjectRange(d1, filter.projectKey, filter.from, filter.to);
  }
  const { where, params } = ledgerWhere(filter);
  const row = await d1.prepare(`SELECT COUNT(*) AS n FROM event_log WHERE ${where}`).bind(...params).first<{ n: number }>();
  return row?.n ?? 0;
}

/** Entries of a project with `from <= occurred_at <= to`: whole hours from stats_hourly, the edges from the log. */
async function countProjectRange(d1: D1Database, projectKey: string, from: string, to: string): Promise<number> {
  const HOUR = 3_600_000;
  const firstWholeHour = Math.ceil(Date.parse(from) / HOUR) * HOUR;
  const afterLastWholeHour = Math.floor((Date.parse(to) + 1) / HOUR) * HOUR;
  const iso = (ms: number) => new Date(ms).toISOString();
  if (afterLastWholeHour <= firstWholeHour) {
    const row = await d1
      .prepare("SELECT COUNT(*) AS n FROM event_log WHERE project_key = ?1 AND occurred_at >= ?2 AND occurred_at <= ?3")
      .bind(projectKey, from, to)
      .first<{ n: number }>();
    return row?.n ?? 0;
  }
  const row = await d1
    .prepare(
      `SELECT
         (SELECT COALESCE(SUM(count), 0) FROM stats_hourly WHERE project_key = ?1 AND event_id = '*' AND bucket >= ?2 AND bucket < ?3)
       + (SELECT COUNT(*) FROM event_log WHERE project_key = ?1 AND occurred_at >= ?4 AND occurred_at < ?5)
       + (SELECT COUNT(*) FROM event_log WHERE project_key = ?1 AND occurred_at >= ?6 AND occurred_at <= ?7) AS n`,
    )
    .bind(projectKey, iso(firstWholeHour).slice(0, 13), iso(afterLastWholeHour).slice(0, 13), from, iso(firstWholeHour), iso(afterLastWholeHour), to)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** One entry of the project's ledger by its numeric id; null when another project's or not in the log yet. */
export async function findLedgerEntry(d1: D1Database, projectKey: string, id: number): Promise<(LedgerRow & { eventUid: string; userId: string }) | null> {
  const row = await d1
    .prepare(`SELECT ${LEDGER_COLUMNS}, event_uid AS eventUid, user_id AS userId FROM event_log WHERE id = ? AND project_key = ?`)
    .bind(id, projectKey)
    .first<StoredLedgerRow & { eventUid: string; userId: string }>();
  return row ? { ...toLedgerRow(row), eventUid: row.eventUid, userId: row.userId } : null;
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
